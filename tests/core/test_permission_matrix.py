"""The permission matrix: (method, URL, role) -> expected status, for every URL and API endpoint.

Core rows are here; each pillar adds its rows in ``tests/<app>/matrix_*.py`` (collected below). A URL pattern or API
operation missing from the matrix fails ``test_matrix_covers_every_url``, so nothing can ship without a decision on
who may use it. A denied request must change nothing: extensions may give a ``snapshot()`` compared before/after.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

import tests
from gongzhi.api import api
from gongzhi.core.auth import token_create
from gongzhi.core.models import ApiToken, User
from tests.matrix import ALL, EVERYONE, IMPORTERS, RESIDENT_READERS, ROLES, STAFF, api_row, web

# (method, path template, expected by role). Path params: {code} = 东河镇 (township T1 in county A),
# {token_id} = a token owned by "admin", {kind} = residents.
MATRIX: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/", web(EVERYONE)),
    ("GET", "/healthz", ALL),
    ("GET", "/login/", {r: (200 if r == "anonymous" else 302) for r in ROLES}),
    ("POST", "/login/", {r: 400 for r in ROLES}),  # empty form
    ("POST", "/login/code/", {r: 400 for r in ROLES}),  # empty phone
    ("POST", "/login/code/verify/", {r: 400 for r in ROLES}),  # no code was sent
    ("POST", "/logout/", {r: 302 for r in ROLES}),
    ("GET", "/units/", web(STAFF)),
    (
        "GET",
        "/units/{code}/children/",
        web(
            STAFF - {"village_committee", "other_township_staff"},
            village_committee=404,
            other_township_staff=404,
        ),
    ),
    ("GET", "/departments/", web(STAFF)),
    ("GET", "/cadres/", web(STAFF)),
    ("GET", "/residents/", web(RESIDENT_READERS | {"other_township_staff"})),
    ("GET", "/organizations/", web(STAFF)),
    ("GET", "/account/tokens/", web(EVERYONE)),
    ("POST", "/account/tokens/", web(EVERYONE, ok=400)),  # empty name -> form error, for everyone
    ("POST", "/account/tokens/{token_id}/revoke/", web({"admin"}, ok=302, denied=404)),
    ("GET", "/account/password/", web(EVERYONE - {"resident"}, resident=302)),
    ("POST", "/account/password/", web(EVERYONE - {"resident"}, ok=400, resident=302)),
    ("GET", "/audit/", web({"admin", "discipline"})),
    ("GET", "/roster/", web(IMPORTERS)),
    # {kind} = residents: the county office may not see residents' data, so it may not export it either.
    ("GET", "/roster/export/{kind}.xlsx", web(IMPORTERS, county_office=403)),
    ("GET", "/roster/template/{kind}.xlsx", web(IMPORTERS)),
    ("GET", "/api/docs", {r: 302 for r in ROLES}),
    ("POST", "/i18n/setlang/", {r: 302 for r in ROLES}),
    ("GET", "/admin/", {r: (200 if r == "admin" else 302) for r in ROLES}),
    # JSON API
    ("GET", "/api/v1/docs", ALL),
    ("GET", "/api/v1/openapi.json", ALL),
    ("GET", "/api/v1/me", api_row(EVERYONE)),
    ("GET", "/api/v1/units", api_row(STAFF)),
    (
        "GET",
        "/api/v1/units/{code}",
        api_row(
            STAFF - {"village_committee", "other_township_staff"},
            village_committee=404,
            other_township_staff=404,
        ),
    ),
    ("GET", "/api/v1/departments", api_row(STAFF)),
    ("GET", "/api/v1/cadres", api_row(STAFF)),
    ("GET", "/api/v1/residents", api_row(RESIDENT_READERS | {"other_township_staff"})),
    ("GET", "/api/v1/organizations", api_row(STAFF)),
    ("GET", "/api/v1/tokens", api_row(EVERYONE)),
    ("POST", "/api/v1/tokens", api_row(EVERYONE, ok=201)),
    ("DELETE", "/api/v1/tokens/{token_id}", api_row({"admin"}, denied=404)),
    ("GET", "/api/v1/audit", api_row({"admin", "discipline"})),
    ("GET", "/api/v1/audit/verify", api_row({"admin", "discipline"})),
]


def _extensions() -> list[ModuleType]:
    mods = []
    for info in pkgutil.walk_packages(tests.__path__, "tests."):
        if info.name.rsplit(".", 1)[-1].startswith("matrix_"):
            mods.append(importlib.import_module(info.name))
    return mods


EXTENSIONS = _extensions()
for _ext in EXTENSIONS:
    MATRIX += _ext.ROWS

# URL prefixes owned by Django itself (admin pages enforce is_staff/superuser; static files are public).
EXEMPT_PREFIXES = ("/admin/", "/static/", "/media/")
EXEMPT_EXACT = {"/bench/bare"}  # only mounted when GONGZHI_BENCH_VIEWS=1


def _walk(patterns: Any, prefix: str = "") -> list[str]:
    out: list[str] = []
    for p in patterns:
        route = str(p.pattern)
        if isinstance(p, URLResolver):
            out += _walk(p.url_patterns, prefix + route)
        elif isinstance(p, URLPattern):
            out.append(prefix + route)
    return out


def _normalize(route: str) -> str:
    route = route.replace("^", "").replace("$", "").replace("\\Z", "")
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    return "/" + route


def test_matrix_covers_every_url() -> None:
    web_routes = {_normalize(r) for r in _walk(get_resolver().url_patterns)}
    api_ops = set()
    for path, ops in api.get_openapi_schema()["paths"].items():
        for method in ops:
            api_ops.add((method.upper(), path))
    in_matrix = {path for _, path, _ in MATRIX}
    in_matrix_ops = {(m, p) for m, p, _ in MATRIX}
    missing = sorted(
        r
        for r in web_routes
        if r not in in_matrix
        and not r.startswith(EXEMPT_PREFIXES)
        and r not in EXEMPT_EXACT
        and not r.startswith("/api/v1/")
    )
    missing_api = sorted(op for op in api_ops if op not in in_matrix_ops)
    assert not missing, f"URL patterns missing from the permission matrix: {missing}"
    assert not missing_api, f"API operations missing from the permission matrix: {missing_api}"
    for _, _, expected in MATRIX:
        assert set(expected) == set(ROLES)


CASES = [(m, p, role, exp[role]) for m, p, exp in MATRIX for role in ROLES]


@pytest.mark.parametrize(
    ("method", "path", "role", "expected"), CASES, ids=[f"{m} {p} {r}" for m, p, r, _ in CASES]
)
def test_permission_matrix(
    method: str, path: str, role: str, expected: int, users: dict[str, User], tree: Any
) -> None:
    admin_token, _ = token_create(user=users["admin"], name="matrix")
    params: dict[str, Any] = {"code": tree.t1.code, "token_id": admin_token.pk, "kind": "residents"}
    for ext in EXTENSIONS:
        extra = ext.params(tree, users)
        # A pillar reusing a name would silently point other pillars' rows at its own objects.
        clash = params.keys() & extra.keys()
        assert not clash, f"{ext.__name__} redefines matrix parameters {sorted(clash)}"
        params.update(extra)
    url = path.format(**params)
    client = Client()
    if users[role] is not None:
        client.force_login(users[role])
    kwargs: dict[str, Any] = {}
    if method == "POST" and path == "/api/v1/tokens":
        kwargs = {"data": {"name": "t"}, "content_type": "application/json"}
    if path == "/i18n/setlang/":
        kwargs = {"data": {"language": "en", "next": "/"}}
    for ext in EXTENSIONS:
        extra = getattr(ext, "request_kwargs", None)
        if extra is not None and (found := extra(method, path, params)) is not None:
            kwargs = found
    denied = expected in (302, 401, 403, 404, 405) and method != "GET"
    snapshots = [ext.snapshot() for ext in EXTENSIONS if hasattr(ext, "snapshot")] if denied else []
    response = getattr(client, method.lower())(url, **kwargs)
    assert response.status_code == expected, (
        f"{method} {url} as {role}: got {response.status_code}, expected {expected}"
    )
    if path.startswith("/api/v1/") and response.status_code >= 400:
        body = response.json()
        assert set(body) == {"code", "message", "detail"}
    if "{token_id}" in path and role != "admin":
        assert ApiToken.objects.get(pk=admin_token.pk).revoked_at is None, "a denied revoke changed the token"
    if denied:
        after = [ext.snapshot() for ext in EXTENSIONS if hasattr(ext, "snapshot")]
        assert after == snapshots, f"a denied {method} {url} as {role} changed data"
