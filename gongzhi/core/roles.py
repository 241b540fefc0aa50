"""What a user may do, derived from data typed once: positions, resident record, organization representation.

``grants_for(user)`` is computed once per request (cached on the user object) and used by every permission check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gongzhi.engines.divisions import prefix

from .models import DepartmentKind, Level, Role

# Roles whose scope is a whole county (they read across townships and departments of the county).
COUNTY_WIDE: set[str] = {Role.COUNTY_OFFICE, Role.ORG_DEPARTMENT, Role.DISCIPLINE}
STAFF_ROLES: set[str] = {
    Role.COUNTY_OFFICE,
    Role.DEPARTMENT_STAFF,
    Role.TOWNSHIP_LEADER,
    Role.TOWNSHIP_STAFF,
    Role.VILLAGE_COMMITTEE,
    Role.ORG_DEPARTMENT,
    Role.DISCIPLINE,
    Role.PLATFORM_ADMIN,
}

_DEPT_ROLE: dict[str, str] = {
    DepartmentKind.FUNCTIONAL: Role.DEPARTMENT_STAFF,
    DepartmentKind.COUNTY_OFFICE: Role.COUNTY_OFFICE,
    DepartmentKind.ORGANIZATION: Role.ORG_DEPARTMENT,
    DepartmentKind.DISCIPLINE: Role.DISCIPLINE,
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
        return f"{Role(self.role).label} · {where}" if where else str(Role(self.role).label)


def _compute(user: Any) -> tuple[Grant, ...]:
    from .models import Position, Representative, Resident

    grants: list[Grant] = []
    if user.is_superuser:
        grants.append(Grant(Role.PLATFORM_ADMIN, ""))
    positions = (
        Position.objects.filter(cadre__user_id=user.pk, cadre__active=True, active=True)
        .select_related("unit", "department__county")
        .only(
            "is_leader",
            "unit__code",
            "unit__level",
            "unit__name",
            "department__name",
            "department__kind",
            "department__county__code",
            "department__county__name",
        )
    )
    for p in positions:
        dept = p.department
        if dept is not None:
            role = _DEPT_ROLE[DepartmentKind(dept.kind)]
            grants.append(
                Grant(
                    role,
                    prefix(dept.county.code, Level.COUNTY),
                    unit_id=dept.county_id,
                    unit_name=dept.county.name,
                    department_id=dept.pk,
                    department_name=dept.name,
                    is_leader=p.is_leader,
                )
            )
        elif p.unit is not None:
            unit = p.unit
            if unit.level == Level.TOWNSHIP:
                role = Role.TOWNSHIP_LEADER if p.is_leader else Role.TOWNSHIP_STAFF
            elif unit.level == Level.VILLAGE:
                role = Role.VILLAGE_COMMITTEE
            else:
                # A post in a county unit itself (e.g. 县长) reads county-wide like the county office.
                role = Role.COUNTY_OFFICE
            grants.append(
                Grant(
                    role,
                    prefix(unit.code, unit.level),
                    unit_id=unit.pk,
                    unit_name=unit.name,
                    is_leader=p.is_leader,
                )
            )
    resident = (
        Resident.objects.filter(user_id=user.pk)
        .select_related("village")
        .only("village__code", "village__name")
        .first()
    )
    if resident is not None:
        grants.append(
            Grant(
                Role.RESIDENT,
                resident.village.code,
                unit_id=resident.village_id,
                unit_name=resident.village.name,
            )
        )
    rep = Representative.objects.filter(user_id=user.pk).select_related("organization__unit").first()
    if rep is not None:
        org = rep.organization
        grants.append(
            Grant(
                Role.ORG_REP, prefix(org.unit.code, org.unit.level), unit_id=org.unit_id, unit_name=org.name
            )
        )
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
