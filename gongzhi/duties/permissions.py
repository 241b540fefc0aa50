"""Who may do what in P1, on top of ``core.roles.grants_for``. Every check is server-side; views and API call these
through the services and selectors, never their own ad-hoc tests.

Scopes by division-code prefix, like core: a township grant covers its own township; a department's and the
county-wide organs' grants cover their whole county.
"""

from __future__ import annotations

from typing import Any

from gongzhi.core.models import AdminUnit, Role
from gongzhi.core.permissions import covers
from gongzhi.core.roles import STAFF_ROLES, grants_for

TOWNSHIP_ROLES: set[str] = {Role.TOWNSHIP_LEADER, Role.TOWNSHIP_STAFF}
COUNTY_READERS: set[str] = {
    Role.COUNTY_OFFICE,
    Role.STAFFING_OFFICE,
    Role.ORG_DEPARTMENT,
    Role.DISCIPLINE,
    Role.PLATFORM_ADMIN,
}


def is_admin(user: Any) -> bool:
    return any(g.role == Role.PLATFORM_ADMIN for g in grants_for(user))


def can_view_unit_duties(user: Any, unit: AdminUnit) -> bool:
    """Duty lists, tasks and summonses of a township (or the county template): its own township's staff, the
    departments and county organs of its county, the admin. Village committees read neither (their own tree
    prefix does not cover the township); every staff member of the county reads the county template."""
    if covers(user, unit.code, STAFF_ROLES):
        return True
    # Township and village staff also read their county's template list.
    if unit.level == "county":
        return any(
            g.role in STAFF_ROLES and g.unit_prefix.startswith(unit.code[:6]) for g in grants_for(user)
        )
    return False


def can_manage_lists(user: Any, county: AdminUnit) -> bool:
    """Publishing lists and deciding 动态调整: the county staffing office (县委编办) and the platform admin."""
    return covers(user, county.code, {Role.STAFFING_OFFICE, Role.PLATFORM_ADMIN})


def can_apply_adjustment(user: Any, township: AdminUnit) -> bool:
    return covers(user, township.code, TOWNSHIP_ROLES | {Role.DEPARTMENT_STAFF, Role.PLATFORM_ADMIN})


def sender_departments(user: Any, township: AdminUnit | None = None) -> list[tuple[int, str]]:
    """(id, name) of the functional departments this user may send tasks for (to ``township`` when given)."""
    out: dict[int, str] = {}
    for g in grants_for(user):
        in_scope = township is None or township.code.startswith(g.unit_prefix)
        if g.role == Role.DEPARTMENT_STAFF and g.department_id is not None and in_scope:
            out[g.department_id] = g.department_name
    return sorted(out.items())


def member_departments(user: Any) -> set[int]:
    return {g.department_id for g in grants_for(user) if g.role == Role.DEPARTMENT_STAFF and g.department_id}


def can_decide_gate(user: Any, township: AdminUnit) -> bool:
    """职责准入 decisions on held tasks and on township objections: the county office (and the admin)."""
    return covers(user, township.code, {Role.COUNTY_OFFICE, Role.PLATFORM_ADMIN})


def is_township_member(user: Any, township: AdminUnit, *, leader: bool = False) -> bool:
    roles: set[str] = {Role.TOWNSHIP_LEADER} if leader else TOWNSHIP_ROLES
    return covers(user, township.code, roles)


def can_read_county(user: Any, county: AdminUnit) -> bool:
    return covers(user, county.code, COUNTY_READERS)


# 吹哨报到: who takes part in summonses at all (the list page and API answer 403 to everyone else).
SUMMONS_ROLES: set[str] = TOWNSHIP_ROLES | {Role.DEPARTMENT_STAFF} | COUNTY_READERS


def can_use_summons(user: Any) -> bool:
    return any(g.role in SUMMONS_ROLES for g in grants_for(user))


def can_view_summons(user: Any, township: AdminUnit, *, department_ids: set[int], draft: bool) -> bool:
    """A summons: its township's staff and the admin always; once issued, also the county-wide readers and the
    staff of a summoned department. A draft stays inside the township until its leader issues it."""
    if covers(user, township.code, TOWNSHIP_ROLES | {Role.PLATFORM_ADMIN}):
        return True
    if draft:
        return False
    if covers(user, township.code, COUNTY_READERS):
        return True
    return any(
        g.role == Role.DEPARTMENT_STAFF
        and g.department_id in department_ids
        and township.code.startswith(g.unit_prefix)
        for g in grants_for(user)
    )


def can_configure_summons(user: Any, county: AdminUnit) -> bool:
    """Acknowledgement limits per ground and rating indicators: the county office (and the admin)."""
    return covers(user, county.code, {Role.COUNTY_OFFICE, Role.PLATFORM_ADMIN})
