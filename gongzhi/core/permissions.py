"""Who may do what, scoped by the administrative tree. Enforced server-side in selectors, services, views and API.

Object checks are ``rules`` predicates (``user.has_perm("core.view_unit", unit)``); list scoping is the matching
``Q`` in selectors.py. Both are built on ``roles.grants_for`` so they cannot disagree.
"""

from __future__ import annotations

from typing import Any

import rules

from .models import Role
from .roles import STAFF_ROLES, grants_for

# Who may see residents' personal data: the township and village that serve them, and the platform admin.
RESIDENT_READERS: set[str] = {
    Role.TOWNSHIP_LEADER,
    Role.TOWNSHIP_STAFF,
    Role.VILLAGE_COMMITTEE,
    Role.PLATFORM_ADMIN,
}
# Who may import or edit residents.
RESIDENT_WRITERS = RESIDENT_READERS
# Who maintains the tree, departments and cadres of a county.
ROSTER_WRITERS: set[str] = {Role.COUNTY_OFFICE, Role.PLATFORM_ADMIN}
AUDIT_READERS: set[str] = {Role.PLATFORM_ADMIN, Role.DISCIPLINE}


def covers(user: Any, code: str, roles: set[str]) -> bool:
    """True when the user holds one of ``roles`` for a unit whose subtree contains division code ``code``."""
    return any(g.role in roles and code.startswith(g.unit_prefix) for g in grants_for(user))


@rules.predicate
def is_staff_member(user: Any) -> bool:
    return any(g.role in STAFF_ROLES for g in grants_for(user))


@rules.predicate
def can_view_unit(user: Any, unit: Any) -> bool:
    return unit is not None and covers(user, unit.code, STAFF_ROLES)


@rules.predicate
def can_view_residents_of(user: Any, unit: Any) -> bool:
    return unit is not None and covers(user, unit.code, RESIDENT_READERS)


@rules.predicate
def can_manage_residents_of(user: Any, unit: Any) -> bool:
    return unit is not None and covers(user, unit.code, RESIDENT_WRITERS)


@rules.predicate
def can_manage_roster_of(user: Any, unit: Any) -> bool:
    return unit is not None and covers(user, unit.code, ROSTER_WRITERS)


@rules.predicate
def can_view_audit(user: Any) -> bool:
    return any(g.role in AUDIT_READERS for g in grants_for(user))


@rules.predicate
def can_import_any(user: Any) -> bool:
    return any(g.role in ROSTER_WRITERS | RESIDENT_WRITERS for g in grants_for(user))


rules.add_perm("core.staff_area", is_staff_member)
rules.add_perm("core.view_unit", can_view_unit)
rules.add_perm("core.view_residents", can_view_residents_of)
rules.add_perm("core.manage_residents", can_manage_residents_of)
rules.add_perm("core.manage_roster", can_manage_roster_of)
rules.add_perm("core.view_audit", can_view_audit)
rules.add_perm("core.import", can_import_any)
