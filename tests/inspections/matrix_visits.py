"""Permission-matrix rows for 一表通, joint visits, merging and the burden ledger (collected by
tests/core/test_permission_matrix.py).

Objects: {finding_id} = a finding on 县住建局's item at a done visit to 东河镇 that 县住建局 led; {visit_id} = a
planned joint visit to 东河镇 led by 县住建局 (department_staff) in 共治县's active merge
{merge_id} for YEAR, with an item of 县住建局 and one of 县应急管理局. {entry_id} = a catalog entry of 共治县 with 东河镇's 2025 submission, subscribed by 县住建局 (the
department_staff user's department). Write rows post valid input, so allowed roles really act; those who see the
object without the right get 403, everyone else 404, and the snapshot proves a denied write changed nothing.
"""

from __future__ import annotations

import json
from typing import Any

from gongzhi.inspections.models import (
    CatalogEntry,
    CatalogSubscription,
    DataSubmission,
    Finding,
    JointVisit,
    JointVisitItem,
    MergeRun,
)
from tests.matrix import ROLES, api_row, web

from .factories_visits import YEAR, entry, item, run, submit, visit

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


# Who sees the visit: its township, the lead department, the county office and organs.
VISIT_VIEWERS = COUNTY_READERS | T1 | DEPT
VISIT_LISTERS = VISIT_VIEWERS | {"other_township_staff"}
VISIT_NOT_SEEN = set(ROLES) - VISIT_VIEWERS - {"anonymous"}
RECORDERS = DEPT | {"admin"}
LEDGER_READERS = COUNTY_READERS | T1 | DEPT


def _visit(allowed: set[str], *, ok: int = 200, api: bool = False) -> dict[str, int]:
    overrides = {r: 403 for r in VISIT_VIEWERS - allowed}
    overrides.update({r: 404 for r in VISIT_NOT_SEEN if r not in allowed})
    return (api_row if api else web)(allowed, ok=ok, denied=404, **overrides)


ROWS: list[tuple[str, str, dict[str, int]]] = [
    # joint visits and merging
    ("GET", "/visits/", web(VISIT_LISTERS)),
    ("GET", "/visits/merge/", web(COUNTY_READERS)),
    ("POST", "/visits/merge/", web(MANAGERS, ok=303)),
    ("GET", "/visits/{visit_id}/", _visit(VISIT_VIEWERS)),
    ("GET", "/visits/{visit_id}/findings/", _visit(RECORDERS)),
    ("POST", "/visits/{visit_id}/findings/", _visit(RECORDERS, ok=303)),
    ("GET", "/api/v1/visits", api_row(VISIT_LISTERS)),
    ("GET", "/api/v1/visits/merges", api_row(COUNTY_READERS)),
    ("POST", "/api/v1/visits/merges", api_row(MANAGERS, ok=201)),
    ("GET", "/api/v1/visits/merges/{merge_id}", api_row(COUNTY_READERS, denied=404)),
    ("GET", "/api/v1/visits/merges/{merge_id}/visits", api_row(COUNTY_READERS, denied=404)),
    ("GET", "/api/v1/visits/{visit_id}", _visit(VISIT_VIEWERS, api=True)),
    ("PUT", "/api/v1/visits/{visit_id}/findings", _visit(RECORDERS, api=True)),
    ("POST", "/visits/findings/{finding_id}/close/", _visit(RECORDERS, ok=303)),
    ("POST", "/api/v1/visits/findings/{finding_id}/close", _visit(RECORDERS, api=True)),
    # burden ledger: the county's readers, its townships and departments (each its own rows); another county's
    # cadre reads its own county's ledger page but not this county through the API.
    ("GET", "/burden/", web(LEDGER_READERS | {"other_township_staff"})),
    ("GET", "/burden/export.xlsx", web(LEDGER_READERS | {"other_township_staff"})),
    ("GET", "/api/v1/burden", api_row(LEDGER_READERS, other_township_staff=404)),
    ("GET", "/api/v1/burden/townships", api_row(LEDGER_READERS, other_township_staff=404)),
    ("GET", "/api/v1/burden/departments", api_row(LEDGER_READERS, other_township_staff=404)),
    ("GET", "/api/v1/burden/export", api_row(LEDGER_READERS, other_township_staff=404)),
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
    r = run(tree.county)
    a = item(tree.dept, topic="农村危房改造检查", targets=[tree.t1])
    b = item(tree.dept2, topic="安全生产检查", targets=[tree.t1])
    v = visit(r, tree.t1, tree.dept, [a, b])
    done = visit(r, tree.t1, tree.dept, [a], status="done")
    f = Finding.objects.create(visit=done, item=a, text="台账不全")
    return {
        "finding_id": f.pk,
        "visit_id": v.pk,
        "merge_id": r.pk,
        "_cv_item": a.pk,
        "entry_id": e.pk,
        "period": "2025",
        "_cv_t1": tree.t1.pk,
        "_cv_county": tree.county.code,
    }


_GOOD = {"resident_pop": "12", "farmland": "3.5"}


def _visit_kwargs(method: str, path: str, p: dict[str, Any]) -> dict[str, Any] | None:
    if method == "GET":
        if path == "/api/v1/visits/merges":
            return {"data": {"county": p["_cv_county"], "year": YEAR}}
        return None
    if path == "/visits/merge/":
        return {"data": {"county": p["_cv_county"], "year": YEAR, "exact": "0"}}
    if path == "/visits/{visit_id}/findings/":
        return {"data": {f"text_{p['_cv_item']}": "台账缺失", "done": "1"}}
    if path == "/visits/findings/{finding_id}/close/":
        return {"data": {}}
    bodies: dict[str, Any] = {
        "/api/v1/visits/merges": {"county": p["_cv_county"], "year": YEAR, "exact_reference": False},
        "/api/v1/visits/{visit_id}/findings": {
            "findings": [{"item_id": p["_cv_item"], "text": "台账缺失", "due": f"{YEAR}-12-31"}],
            "done": True,
        },
    }
    return {"data": json.dumps(bodies.get(path, {})), "content_type": "application/json"}


def request_kwargs(method: str, path: str, p: dict[str, Any]) -> dict[str, Any] | None:
    if path.startswith("/api/v1/burden"):
        return {"data": {"county": p["_cv_county"], "year": YEAR}}
    if path.startswith("/burden/"):
        return {"data": {"year": YEAR}}
    if path.startswith(("/visits/", "/api/v1/visits")):
        return _visit_kwargs(method, path, p)
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
        list(MergeRun.objects.order_by("pk").values_list("pk", "active", "visits_after")),
        list(JointVisit.objects.order_by("pk").values_list("pk", "run_id", "status", "day")),
        JointVisitItem.objects.count(),
        list(Finding.objects.order_by("pk").values_list("pk", "item_id", "text", "status")),
    )
