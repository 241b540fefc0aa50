"""What a user may do, derived from data typed once: positions, resident record, organization representation.

``grants_for(user)`` is computed once per request (cached on the user object) and used by every permission check.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from django.utils.translation import get_language

from gongzhi.engines.divisions import prefix

from .models import DepartmentKind, Level, Role

# Roles whose scope is a whole county (they read across townships and departments of the county).
COUNTY_WIDE: set[str] = {Role.COUNTY_OFFICE, Role.ORG_DEPARTMENT, Role.DISCIPLINE, Role.STAFFING_OFFICE}
STAFF_ROLES: set[str] = {
    Role.COUNTY_OFFICE,
    Role.DEPARTMENT_STAFF,
    Role.TOWNSHIP_LEADER,
    Role.TOWNSHIP_STAFF,
    Role.VILLAGE_COMMITTEE,
    Role.ORG_DEPARTMENT,
    Role.DISCIPLINE,
    Role.STAFFING_OFFICE,
    Role.PLATFORM_ADMIN,
}

_DEPT_ROLE: dict[str, str] = {
    DepartmentKind.FUNCTIONAL: Role.DEPARTMENT_STAFF,
    DepartmentKind.COUNTY_OFFICE: Role.COUNTY_OFFICE,
    DepartmentKind.ORGANIZATION: Role.ORG_DEPARTMENT,
    DepartmentKind.DISCIPLINE: Role.DISCIPLINE,
    DepartmentKind.STAFFING: Role.STAFFING_OFFICE,
}


@dataclass(frozen=True)
class Grant:
    """One role held in one place. ``unit_prefix`` is the division-code prefix the grant covers ('' = everywhere)."""

    role: str
    unit_prefix: str
    unit_id: int | None = None
    unit_name: str = ""
    department_id: int | None = None
    department_name: str = ""
    is_leader: bool = False

    @property
    def label(self) -> str:
        where = self.department_name or self.unit_name
        name = _role_name(self.role, get_language())
        return f"{name} · {where}" if where else name


@lru_cache(maxsize=256)
def _role_name(role: str, lang: str | None) -> str:
    # Shown on every page (user menu, home): translated once per language instead of through a lazy string.
    return str(Role(role).label)


_GRANT_COLUMNS = (
    13  # k, id, is_leader, unit (id, code, level, name), department (id, name, kind), county (id, code, name)
)


@cache
def _grants_union(pad: str, who: str = "%s") -> str:
    """The three sources of grants, one branch each, for the user whose id ``who`` gives (one bound value per
    branch); ``pad`` is appended to every select list."""
    from .models import AdminUnit, Cadre, Department, Organization, Position, Representative, Resident

    t = {
        m.__name__: m._meta.db_table
        for m in (AdminUnit, Cadre, Department, Organization, Position, Representative, Resident)
    }
    # Table names come from model metadata; values are bound parameters.
    return f"""
SELECT 0 AS k, p.id, p.is_leader, u.id, u.code, u.level, u.name, d.id, d.name, d.kind, dc.id, dc.code, dc.name{pad}
  FROM {t["Position"]} p JOIN {t["Cadre"]} c ON c.id = p.cadre_id
  LEFT JOIN {t["AdminUnit"]} u ON u.id = p.unit_id
  LEFT JOIN {t["Department"]} d ON d.id = p.department_id
  LEFT JOIN {t["AdminUnit"]} dc ON dc.id = d.county_id
 WHERE c.user_id = {who} AND c.active AND p.active AND (d.id IS NULL OR d.active)
UNION ALL
SELECT 1, r.id, FALSE, v.id, v.code, v.level, v.name, NULL, NULL, NULL, NULL, NULL, NULL{pad}
  FROM {t["Resident"]} r JOIN {t["AdminUnit"]} v ON v.id = r.village_id WHERE r.user_id = {who} AND r.verified
UNION ALL
SELECT 2, rp.id, FALSE, ou.id, ou.code, ou.level, o.name, NULL, NULL, NULL, NULL, NULL, NULL{pad}
  FROM {t["Representative"]} rp JOIN {t["Organization"]} o ON o.id = rp.organization_id
  JOIN {t["AdminUnit"]} ou ON ou.id = o.unit_id WHERE rp.user_id = {who}"""  # noqa: S608


@cache
def _grants_sql() -> str:
    """One round trip for all of a user's grants. Hand-written because the ORM's query compilation (three
    select_related queries) cost more CPU than everything else on the home page together."""
    return _grants_union("") + "\nORDER BY 1, 2"


@cache
def _user_and_grants_sql(by_token: bool) -> str:
    """The user's row (k = -1) and their grants in ONE round trip: every page of a logged-in user, and every API
    call, needs both. The user is found by id, or by the hash of a live API token (for an active user)."""
    from .models import ApiToken, User
    from .rawload import select_columns

    n_user = len(User._meta.concrete_fields)
    head = ", ".join(["-1", "u.id"] + ["NULL"] * (_GRANT_COLUMNS - 2))
    if by_token:
        tokens, live = ApiToken._meta.db_table, "t.key_hash = %s AND t.revoked_at IS NULL"
        find = f"JOIN {tokens} t ON t.user_id = u.id WHERE {live} AND u.is_active"
        who = f"(SELECT t.user_id FROM {tokens} t WHERE {live})"  # noqa: S608
    else:
        find, who = "WHERE u.id = %s", "%s"
    return (
        f"SELECT {head}, {select_columns(User, 'u')} FROM {User._meta.db_table} u {find}\nUNION ALL"  # noqa: S608
        + _grants_union(", NULL" * n_user, who)
        + "\nORDER BY 1, 2"
    )


def user_with_grants(pk: Any = None, *, token_hash: str | None = None) -> Any:
    """The user with primary key ``pk`` — or the owner of the live API token with this hash, if active — or None,
    with their grants already computed for this request."""
    from django.db import connection

    from .models import User
    from .rawload import from_row

    by_token = token_hash is not None
    with connection.cursor() as cur:
        cur.execute(_user_and_grants_sql(by_token), [token_hash if by_token else pk] * 4)
        rows = cur.fetchall()
    if not rows or rows[0][0] != -1:
        return None
    user: Any = from_row(User, rows[0][_GRANT_COLUMNS:], "u")
    user._gongzhi_grants = _grants(user, [r[:_GRANT_COLUMNS] for r in rows[1:]])
    return user


def _compute(user: Any) -> tuple[Grant, ...]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(_grants_sql(), [user.pk] * 3)
        rows = cur.fetchall()
    return _grants(user, rows)


def _grants(user: Any, rows: Any) -> tuple[Grant, ...]:
    grants: list[Grant] = []
    if user.is_superuser:
        grants.append(Grant(Role.PLATFORM_ADMIN, ""))
    seen_resident = seen_rep = False
    for k, _id, is_leader, uid, ucode, ulevel, uname, did, dname, dkind, cid, ccode, cname in rows:
        if k == 0 and did is not None:
            grants.append(
                Grant(
                    _DEPT_ROLE[DepartmentKind(dkind)],
                    prefix(ccode, Level.COUNTY),
                    unit_id=cid,
                    unit_name=cname,
                    department_id=did,
                    department_name=dname,
                    is_leader=bool(is_leader),
                )
            )
        elif k == 0 and uid is not None:
            if ulevel == Level.TOWNSHIP:
                role = Role.TOWNSHIP_LEADER if is_leader else Role.TOWNSHIP_STAFF
            elif ulevel == Level.VILLAGE:
                role = Role.VILLAGE_COMMITTEE
            else:
                role = Role.COUNTY_OFFICE
            grants.append(
                Grant(role, prefix(ucode, ulevel), unit_id=uid, unit_name=uname, is_leader=bool(is_leader))
            )
        elif k == 1 and not seen_resident:
            seen_resident = True
            grants.append(Grant(Role.RESIDENT, ucode, unit_id=uid, unit_name=uname))
        elif k == 2 and not seen_rep:
            seen_rep = True
            grants.append(Grant(Role.ORG_REP, prefix(ucode, ulevel), unit_id=uid, unit_name=uname))
    return tuple(grants)


def grants_for(user: Any) -> tuple[Grant, ...]:
    if user is None or not user.is_authenticated:
        return ()
    cached = getattr(user, "_gongzhi_grants", None)
    if cached is None:
        cached = _compute(user)
        user._gongzhi_grants = cached
    return cached


def roles_of(user: Any) -> set[str]:
    return {g.role for g in grants_for(user)}


def has_role(user: Any, *roles: str) -> bool:
    return any(g.role in roles for g in grants_for(user))


def is_staff_user(user: Any) -> bool:
    return any(g.role in STAFF_ROLES for g in grants_for(user))


def unit_prefixes(user: Any, roles: set[str] | None = None) -> list[str]:
    """Division-code prefixes of the units this user may see (staff roles only unless ``roles`` is given)."""
    wanted = roles if roles is not None else STAFF_ROLES
    return sorted({g.unit_prefix for g in grants_for(user) if g.role in wanted})


def department_ids(user: Any) -> set[int]:
    return {g.department_id for g in grants_for(user) if g.department_id is not None}
