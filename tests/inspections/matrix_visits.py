"""Permission-matrix rows for 一表通, joint visits, merging and the burden ledger (collected by
tests/core/test_permission_matrix.py).

Objects: {entry_id} = a catalog entry of 共治县 with 东河镇's 2025 submission, subscribed by 县住建局 (the
department_staff user's department). Write rows post valid input, so allowed roles really act; those who see the
object without the right get 403, everyone else 404, and the snapshot proves a denied write changed nothing.
"""

from __future__ import annotations

import json
from typing import Any

from gongzhi.inspections.models import CatalogEntry, CatalogSubscription, DataSubmission
from tests.matrix import ROLES, api_row, web

from .factories_visits import entry, submit

COUNTY_READERS = {"admin", "county_office", "org_department", "discipline", "staffing_office"}
MANAGERS = {"admin", "county_office"}
T1 = {"township_leader", "township_staff"}
DEPT = {"department_staff"}
# Who reads 共治县's catalog entries: its townships, departments and county organs.
CAT_VIEWERS = COUNTY_READERS | T1 | DEPT
CAT_LISTERS = CAT_VIEWERS | {"other_township_staff"}  # another county's cadre lists its own (empty) catalog
NOT_SEEN = set(ROLES) - CAT_VIEWERS - {"anonymous"}
VALUE_READERS = COUNTY_READERS | DEPT


def _obj(
    allowed: set[str], *, viewers: set[str] = CAT_VIEWERS, ok: int = 200, api: bool = False
) -> dict[str, int]:
    """An object: allowed -> ok, those who see it without the right -> 403, everyone else -> 404."""
    overrides = {r: 403 for r in viewers - allowed}
    overrides.update({r: 404 for r in NOT_SEEN if r not in allowed})
    return (api_row if api else web)(allowed, ok=ok, denied=404, **overrides)


ROWS: list[tuple[str, str, dict[str, int]]] = [
    # 一表通 pages
    ("GET", "/catalog/", web(CAT_LISTERS)),
    ("GET", "/catalog/new/", web(MANAGERS)),
    ("POST", "/catalog/new/", web(MANAGERS, ok=303)),
    ("GET", "/catalog/{entry_id}/", _obj(CAT_VIEWERS)),
    ("POST", "/catalog/{entry_id}/submit/", _obj(T1, ok=303)),
    ("POST", "/catalog/{entry_id}/subscribe/", _obj(DEPT, ok=303)),
    ("POST", "/catalog/{entry_id}/active/", _obj(MANAGERS, ok=303)),
    ("GET", "/catalog/{entry_id}/values.xlsx", _obj(VALUE_READERS)),
    # 一表通 API
    ("GET", "/api/v1/catalog", api_row(CAT_LISTERS)),
    ("POST", "/api/v1/catalog", api_row(MANAGERS, ok=201)),
    ("GET", "/api/v1/catalog/held", api_row(COUNTY_READERS)),
    ("GET", "/api/v1/catalog/{entry_id}", _obj(CAT_VIEWERS, api=True)),
    ("PATCH", "/api/v1/catalog/{entry_id}", _obj(MANAGERS, api=True)),
    ("GET", "/api/v1/catalog/{entry_id}/values", _obj(VALUE_READERS, api=True)),
    ("GET", "/api/v1/catalog/{entry_id}/submissions", _obj(VALUE_READERS | T1, api=True)),
    ("PUT", "/api/v1/catalog/{entry_id}/submissions/{period}", _obj(T1 | {"admin"}, api=True)),
    ("PUT", "/api/v1/catalog/{entry_id}/subscription", _obj(DEPT, api=True)),
    ("DELETE", "/api/v1/catalog/{entry_id}/subscription", _obj(DEPT, api=True)),
]


def params(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    e = entry(tree.county, name="矩阵数据集")
    submit(e, tree.t1, {"resident_pop": 10, "farmland": "1"}, "2025")
    CatalogSubscription.objects.create(entry=e, department=tree.dept)
    return {
        "entry_id": e.pk,
        "period": "2025",
        "_cv_t1": tree.t1.pk,
        "_cv_county": tree.county.code,
    }


_GOOD = {"resident_pop": "12", "farmland": "3.5"}


def request_kwargs(method: str, path: str, p: dict[str, Any]) -> dict[str, Any] | None:
    if not (path.startswith(("/catalog/", "/api/v1/catalog"))):
        return None
    if method == "GET":
        queries = {
            "/api/v1/catalog/held": {"county": p["_cv_county"]},
            "/api/v1/catalog/{entry_id}/submissions": {"township_id": p["_cv_t1"]},
        }
        return {"data": queries[path]} if path in queries else None
    forms: dict[str, dict[str, Any]] = {
        "/catalog/new/": {
            "county": p["_cv_county"],
            "name": "新数据集",
            "period": "year",
            "fields": "常住人口 | 人",
        },
        "/catalog/{entry_id}/submit/": {
            "township": p["_cv_t1"],
            "period": "2025",
            "v_resident_pop": "11",
            "v_farmland": "2",
        },
        "/catalog/{entry_id}/subscribe/": {"subscribe": "1"},
        "/catalog/{entry_id}/active/": {"active": "0"},
    }
    if not path.startswith("/api/v1/"):
        return {"data": forms.get(path, {})}
    bodies: dict[str, Any] = {
        "/api/v1/catalog": {
            "county": p["_cv_county"],
            "name": "接口数据集",
            "period": "quarter",
            "fields": [{"label": "隐患数", "unit": "处"}],
        },
        "/api/v1/catalog/{entry_id}": {"active": False},
        "/api/v1/catalog/{entry_id}/submissions/{period}": {"township_id": p["_cv_t1"], "values": _GOOD},
        "/api/v1/catalog/{entry_id}/subscription": {},
    }
    if method == "DELETE":
        return None
    return {"data": json.dumps(bodies.get(path, {})), "content_type": "application/json"}


def snapshot() -> Any:
    return (
        list(CatalogEntry.objects.order_by("pk").values_list("pk", "name", "active", "fields")),
        list(
            DataSubmission.objects.order_by("pk").values_list(
                "pk", "entry_id", "township_id", "period", "values"
            )
        ),
        list(CatalogSubscription.objects.order_by("pk").values_list("entry_id", "department_id")),
    )
