"""Shared vocabulary of the permission matrix: roles, role sets and expected-status helpers.

Pillars put their rows in ``tests/<app>/matrix_*.py`` modules (``ROWS``, ``params(tree, users)``, optionally
``request_kwargs(method, path, params)`` and ``snapshot()``); tests/core/test_permission_matrix.py collects them.
"""

from __future__ import annotations

ROLES = [
    "anonymous",
    "admin",
    "county_office",
    "department_staff",
    "township_leader",
    "township_staff",
    "village_committee",
    "org_department",
    "discipline",
    "staffing_office",
    "resident",
    "org_rep",
    "other_township_staff",
]
STAFF = {
    "admin",
    "county_office",
    "department_staff",
    "township_leader",
    "township_staff",
    "village_committee",
    "org_department",
    "discipline",
    "staffing_office",
    "other_township_staff",
}
RESIDENT_READERS = {"admin", "township_leader", "township_staff", "village_committee"}
IMPORTERS = {
    "admin",
    "county_office",
    "township_leader",
    "township_staff",
    "village_committee",
    "other_township_staff",
}


def web(
    allowed: set[str], ok: int = 200, denied: int = 403, anonymous: int = 302, **overrides: int
) -> dict[str, int]:
    """Expected statuses for a login-required page."""
    out = {r: (ok if r in allowed else denied) for r in ROLES}
    out["anonymous"] = anonymous
    out.update(overrides)
    return out


def api_row(allowed: set[str], ok: int = 200, denied: int = 403, **overrides: int) -> dict[str, int]:
    """Expected statuses for an API endpoint: as a page, but anonymous callers get 401 instead of a redirect."""
    return web(allowed, ok=ok, denied=denied, anonymous=401, **overrides)


EVERYONE = set(ROLES) - {"anonymous"}
ALL = {r: 200 for r in ROLES}
