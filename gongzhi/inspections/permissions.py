"""Who may do what in P2, on top of ``core.roles.grants_for``. Every check is server-side; views, API and CLI call
these through the services and selectors.

- A department files and reads its own plan and items, reads the review flags and findings of its own items, records
  findings for the visits it leads, and subscribes to catalog data sets.
- The county office (减负办) runs the review, decides items, merges visits, revokes codes and keeps the catalog.
- A township reads the approved items and joint visits that target it, its own burden ledger, and submits its data
  to the catalog once.
- The county organs (organization department, discipline inspection, staffing office) read the county's plans and
  ledger; the platform admin may do everything.
- Anyone, signed in or not, may check a code (一事一码) on the verification page: it shows only what a township needs
  to know at the gate (approved or not, by which office, for what, when).
"""

from __future__ import annotations

from typing import Any

from gongzhi.core.models import AdminUnit, Role
from gongzhi.core.permissions import covers
from gongzhi.core.roles import grants_for

TOWNSHIP_ROLES: set[str] = {Role.TOWNSHIP_LEADER, Role.TOWNSHIP_STAFF}
COUNTY_READERS: set[str] = {
    Role.COUNTY_OFFICE,
    Role.STAFFING_OFFICE,
    Role.ORG_DEPARTMENT,
    Role.DISCIPLINE,
    Role.PLATFORM_ADMIN,
}
COUNTY_MANAGERS: set[str] = {Role.COUNTY_OFFICE, Role.PLATFORM_ADMIN}


def is_admin(user: Any) -> bool:
    return any(g.role == Role.PLATFORM_ADMIN for g in grants_for(user))


def member_departments(user: Any, county: AdminUnit | None = None) -> set[int]:
    """Ids of the functional departments the user works in (within ``county`` when given)."""
    return {
        g.department_id
        for g in grants_for(user)
        if g.role == Role.DEPARTMENT_STAFF
        and g.department_id is not None
        and (
            county is None
            or county.code.startswith(g.unit_prefix)
            or g.unit_prefix.startswith(county.code[:6])
        )
    }


def can_file_for(user: Any, department: Any) -> bool:
    """Filing and editing a department's plan: its own staff (and the admin)."""
    if is_admin(user):
        return True
    return department.pk in member_departments(user)


def can_manage_county(user: Any, county: AdminUnit) -> bool:
    """Review runs, item decisions, merging, code revocation, catalog entries and rules: the county office."""
    return covers(user, county.code, COUNTY_MANAGERS)


def can_read_county(user: Any, county: AdminUnit) -> bool:
    """Every plan, flag, visit and the county ledger: the county office and the county organs."""
    return covers(user, county.code, COUNTY_READERS)


def is_township_member(user: Any, township: AdminUnit) -> bool:
    return covers(user, township.code, TOWNSHIP_ROLES)


def township_ids(user: Any) -> set[int]:
    """Township units this user works in (township leader or staff)."""
    return {g.unit_id for g in grants_for(user) if g.role in TOWNSHIP_ROLES and g.unit_id is not None}
