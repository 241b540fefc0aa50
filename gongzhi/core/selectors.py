"""Reads, with the permission scope applied. Views and the API list through these, never through raw managers."""

from __future__ import annotations

from functools import lru_cache, reduce
from operator import or_
from typing import Any

from django.db.models import Count, Q, QuerySet, Window

from .models import AdminUnit, Cadre, Department, Organization, Position, Resident, Role
from .permissions import RESIDENT_READERS
from .roles import COUNTY_WIDE, STAFF_ROLES, grants_for
from .sqlcache import Compiled


def _prefix_q(field: str, prefixes: list[str]) -> Q:
    if "" in prefixes:
        return Q()
    if not prefixes:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in prefixes))


def _prefixes(user: Any, roles: set[str]) -> list[str]:
    return sorted({g.unit_prefix for g in grants_for(user) if g.role in roles})


def unit_list(
    *, user: Any, parent_code: str | None = None, level: str | None = None, q: str = ""
) -> QuerySet[AdminUnit]:
    return _units(_prefixes(user, STAFF_ROLES), parent_code, level, q)


def _units(prefixes: list[str], parent_code: str | None, level: str | None, q: str) -> QuerySet[AdminUnit]:
    qs = AdminUnit.objects.filter(_prefix_q("code", prefixes))
    if parent_code:
        qs = qs.filter(parent__code=parent_code)
    if level:
        qs = qs.filter(level=level)
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(code__startswith=q))
    return qs.order_by("code")


UNIT_FIELDS = ("code", "name", "level", "kind", "parent__code")


@lru_cache(maxsize=256)
def _unit_page_query(
    n_prefixes: int, everywhere: bool, parent: bool, level: bool, q: bool, offset: int, limit: int
) -> Compiled:
    """One page of ``unit_list`` and the total in one query, compiled once per shape (bench/http.py)."""

    def build(p: Any) -> QuerySet[Any]:
        prefixes = [""] if everywhere else [p.str(f"prefix{i}") for i in range(n_prefixes)]
        qs = _units(
            prefixes,
            p.str("parent") if parent else None,
            p.str("level") if level else None,
            p.str("q") if q else "",
        )
        total = Window(Count("pk"))
        return qs.annotate(total=total).values_list(*UNIT_FIELDS, "total")[offset : offset + limit]

    return Compiled(build)


def unit_page(
    *, user: Any, parent_code: str | None, level: str | None, q: str, offset: int, limit: int
) -> tuple[list[tuple[Any, ...]], int]:
    """Rows of ``UNIT_FIELDS`` for one page of ``unit_list``, and how many units the whole list has."""
    prefixes = _prefixes(user, STAFF_ROLES)
    if not prefixes:
        return [], 0
    everywhere = "" in prefixes
    values: dict[str, Any] = {} if everywhere else {f"prefix{i}": p for i, p in enumerate(prefixes)}
    if parent_code:
        values["parent"] = parent_code
    if level:
        values["level"] = level
    if q:
        values["q"] = q
    shape = (len(prefixes), everywhere, bool(parent_code), bool(level), bool(q))
    rows = _unit_page_query(*shape, offset, limit)(**values)
    if rows or offset == 0:
        return [r[:-1] for r in rows], rows[0][-1] if rows else 0
    # Past the last page: the window gives no total, so ask for it on the first row.
    first = _unit_page_query(*shape, 0, 1)(**values)
    return [], first[0][-1] if first else 0


def unit_get(*, user: Any, code: str) -> AdminUnit | None:
    return unit_list(user=user).filter(code=code).select_related("parent").first()


def department_list(*, user: Any) -> QuerySet[Department]:
    # Departments are public bodies: staff anywhere in a county see that county's departments.
    county_prefixes = sorted({g.unit_prefix[:6] for g in grants_for(user) if g.role in STAFF_ROLES})
    return (
        Department.objects.filter(_prefix_q("county__code", county_prefixes))
        .select_related("county")
        .order_by("county__code", "id")
    )


def position_scope(*, user: Any) -> Q | None:
    """The posts a user may see (None: none at all). Cadres are visible through their posts, so both the cadre
    list and the roster export scope through this one rule."""
    conds: list[Q] = []
    for g in grants_for(user):
        if g.role == Role.PLATFORM_ADMIN:
            return Q()
        if g.role in COUNTY_WIDE:
            conds.append(
                Q(unit__code__startswith=g.unit_prefix)
                | Q(department__county__code__startswith=g.unit_prefix)
            )
        elif g.role == Role.DEPARTMENT_STAFF:
            conds.append(Q(department_id=g.department_id))
        elif g.role in STAFF_ROLES:
            conds.append(Q(unit__code__startswith=g.unit_prefix))
    return reduce(or_, conds) if conds else None


def cadre_list(*, user: Any, q: str = "") -> QuerySet[Cadre]:
    scope = position_scope(user=user)
    if scope is None:
        return Cadre.objects.none()
    # A cadre is listed when one of their active posts is in scope.
    qs = Cadre.objects.filter(id__in=Position.objects.filter(scope, active=True).values("cadre_id"))
    if q:
        qs = qs.filter(name__contains=q)
    return qs.order_by("id")


def positions_for(cadres: list[Cadre]) -> dict[int, list[Position]]:
    """Bulk-load active positions for a page of cadres (one query, no N+1)."""
    out: dict[int, list[Position]] = {c.pk: [] for c in cadres}
    for p in Position.objects.filter(cadre_id__in=out.keys(), active=True).select_related(
        "unit", "department"
    ):
        out[p.cadre_id].append(p)
    return out


def resident_list(*, user: Any, village_code: str | None = None, q: str = "") -> QuerySet[Resident]:
    qs = Resident.objects.filter(_prefix_q("village__code", _prefixes(user, RESIDENT_READERS)))
    if village_code:
        qs = qs.filter(village__code=village_code)
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(household_no=q) | Q(phone=q))
    return qs.select_related("village").order_by("id")


def organization_list(*, user: Any, q: str = "") -> QuerySet[Organization]:
    qs = Organization.objects.filter(_prefix_q("unit__code", _prefixes(user, STAFF_ROLES)))
    if q:
        qs = qs.filter(name__contains=q)
    return qs.select_related("unit").order_by("id")
