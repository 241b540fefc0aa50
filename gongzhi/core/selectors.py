"""Reads, with the permission scope applied. Views and the API list through these, never through raw managers."""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from .models import AdminUnit, Cadre, Department, Organization, Position, Resident, Role
from .permissions import RESIDENT_READERS
from .roles import COUNTY_WIDE, STAFF_ROLES, grants_for


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
    qs = AdminUnit.objects.filter(_prefix_q("code", _prefixes(user, STAFF_ROLES)))
    if parent_code:
        qs = qs.filter(parent__code=parent_code)
    if level:
        qs = qs.filter(level=level)
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(code__startswith=q))
    return qs.order_by("code")


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
