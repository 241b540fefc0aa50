"""Permission-matrix rows for annual plans, items, the review, decisions and the code check (collected by
tests/core/test_permission_matrix.py).

Objects (共治县, year YEAR): {plan_id} = 县住建局's filed plan (department_staff's own department) with
{pending_id} (waiting for a decision), {approved_id} (approved, code {item_code}, aimed at 东河镇 only) and {item_id}
(returned for changes); {other_plan_id} = 县应急管理局's draft (another department); {run_id} = the newest review.
Write rows post an empty or invalid form (allowed roles get the form's 400) or, where the write is idempotent enough,
a valid one; those who see the object without the right get 403, everyone else 404, and the snapshot proves a
denied write changed nothing.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.inspections import plans
from gongzhi.inspections.models import InspectionItem, InspectionPlan, InspectionTarget, ReviewFlag, ReviewRun
from tests.factories import cadre
from tests.matrix import ROLES, api_row, web

from .factories import YEAR, item_input

COUNTY_READERS = {"admin", "county_office", "org_department", "discipline", "staffing_office"}
MANAGERS = {"admin", "county_office"}
FILERS = {"department_staff", "admin"}  # 县住建局's staff; the admin acts for any department
PLAN_READERS = COUNTY_READERS | {"department_staff"}
T1 = {"township_leader", "township_staff"}
ITEM_READERS = PLAN_READERS | T1  # the approved item aimed at 东河镇
EVERYONE_ANON = {r: 200 for r in ROLES}


def _obj(
    allowed: set[str], *, viewers: set[str] = PLAN_READERS, ok: int = 200, api: bool = False, **extra: int
) -> dict[str, int]:
    """An object: allowed -> ok, those who see it without the right -> 403, everyone else -> 404."""
    overrides = {r: 403 for r in viewers - allowed}
    overrides.update({r: 404 for r in set(ROLES) - viewers - {"anonymous"} if r not in allowed})
    overrides.update(extra)
    return (api_row if api else web)(allowed, ok=ok, denied=404, **overrides)


P = "/inspections"
A = "/api/v1/inspections"

ROWS: list[tuple[str, str, dict[str, int]]] = [
    ("GET", f"{P}/", web(PLAN_READERS)),
    ("GET", f"{P}/new/", web({"department_staff"})),
    ("POST", f"{P}/new/", web({"department_staff"}, ok=400)),
    ("GET", f"{P}/import/", web(FILERS)),
    ("POST", f"{P}/import/", web(FILERS, ok=400)),
    ("GET", f"{P}/export.xlsx", web(PLAN_READERS)),
    ("GET", f"{P}/template.xlsx", web(PLAN_READERS)),
    ("GET", f"{P}/review/", web(COUNTY_READERS)),
    ("POST", f"{P}/review/run/", web(MANAGERS, ok=400)),  # no year: the form's 400
    ("GET", f"{P}/decisions/", web(MANAGERS)),
    ("POST", f"{P}/decisions/approve-clean/", web(MANAGERS, ok=400)),
    ("GET", f"{P}/{{plan_id}}/", _obj(PLAN_READERS)),
    # Another department's plan: its own staff would read it, 县住建局's staff do not.
    ("GET", f"{P}/{{other_plan_id}}/", _obj(COUNTY_READERS, viewers=COUNTY_READERS)),
    ("POST", f"{P}/{{plan_id}}/file/", _obj(FILERS, ok=400)),  # filed already
    ("GET", f"{P}/{{plan_id}}/items/new/", _obj(FILERS)),
    ("POST", f"{P}/{{plan_id}}/items/new/", _obj(FILERS, ok=400)),
    # {item_id}: the returned item (its department and the county read it; townships do not).
    ("GET", f"{P}/items/{{item_id}}/", _obj(PLAN_READERS)),
    ("GET", f"{P}/items/{{item_id}}/edit/", _obj(FILERS)),
    ("POST", f"{P}/items/{{item_id}}/edit/", _obj(FILERS, ok=400)),
    ("POST", f"{P}/items/{{item_id}}/delete/", _obj(FILERS, ok=303)),  # withdrawn: a real write
    ("POST", f"{P}/items/{{item_id}}/decide/", _obj(MANAGERS, ok=400)),  # not pending
    ("POST", f"{P}/items/{{item_id}}/revoke/", _obj(MANAGERS, ok=400)),  # no code
    ("GET", f"{P}/items/{{item_id}}/slip/", _obj(set(), viewers=set())),  # no code: no slip for anyone
    ("POST", f"{P}/items/{{pending_id}}/decide/", _obj(MANAGERS, ok=400)),  # no decision chosen
    # {approved_id}: approved, with a code, aimed at 东河镇: its township reads it too.
    ("GET", f"{P}/items/{{approved_id}}/", _obj(ITEM_READERS, viewers=ITEM_READERS)),
    ("GET", f"{P}/items/{{approved_id}}/slip/", _obj(PLAN_READERS, viewers=PLAN_READERS)),
    (
        "POST",
        f"{P}/items/{{approved_id}}/revoke/",
        _obj(MANAGERS, ok=400, viewers=ITEM_READERS, **dict.fromkeys(T1, 404)),
    ),
    ("GET", f"{P}/items/{{approved_id}}/edit/", _obj(set(), viewers=ITEM_READERS, **dict.fromkeys(T1, 403))),
    # The public code check: no login, the same answer for everyone.
    ("GET", "/v/", EVERYONE_ANON),
    ("GET", "/v/{item_code}/", EVERYONE_ANON),
    # JSON API
    ("GET", f"{A}/plans", api_row(PLAN_READERS)),
    ("POST", f"{A}/plans", api_row({"department_staff"}, ok=400)),
    ("GET", f"{A}/plans/{{plan_id}}", _obj(PLAN_READERS, api=True)),
    ("GET", f"{A}/plans/{{other_plan_id}}", _obj(COUNTY_READERS, viewers=COUNTY_READERS, api=True)),
    ("POST", f"{A}/plans/{{plan_id}}/file", _obj(FILERS, ok=400, api=True)),
    ("GET", f"{A}/plans/{{plan_id}}/items", _obj(PLAN_READERS, api=True)),
    ("POST", f"{A}/plans/{{plan_id}}/items", _obj(FILERS, ok=400, api=True)),
    ("GET", f"{A}/plans/{{plan_id}}/export", _obj(PLAN_READERS, api=True)),
    ("POST", f"{A}/imports", api_row(FILERS, ok=400)),
    ("GET", f"{A}/items", api_row(PLAN_READERS | T1 | {"other_township_staff"})),
    ("GET", f"{A}/items/{{item_id}}", _obj(PLAN_READERS, api=True)),
    ("GET", f"{A}/items/{{approved_id}}", _obj(ITEM_READERS, viewers=ITEM_READERS, api=True)),
    ("PUT", f"{A}/items/{{item_id}}", _obj(FILERS, ok=400, api=True)),
    ("DELETE", f"{A}/items/{{item_id}}", _obj(FILERS, api=True)),
    ("POST", f"{A}/items/{{item_id}}/decision", _obj(MANAGERS, ok=400, api=True)),
    ("POST", f"{A}/items/{{pending_id}}/decision", _obj(MANAGERS, ok=400, api=True)),
    ("POST", f"{A}/items/{{item_id}}/revoke", _obj(MANAGERS, ok=400, api=True)),
    ("POST", f"{A}/reviews", api_row(MANAGERS, ok=201)),
    ("GET", f"{A}/reviews", api_row(COUNTY_READERS)),
    ("GET", f"{A}/reviews/{{run_id}}/flags", _obj(COUNTY_READERS, viewers=COUNTY_READERS, api=True)),
    ("POST", f"{A}/decisions/approve-clean", api_row(MANAGERS)),
    ("GET", f"{A}/codes/{{item_code}}", EVERYONE_ANON),
]


def params(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    staff, office = users["department_staff"], users["county_office"]
    plan = plans.plan_create(actor=staff, department_id=tree.dept.pk, year=YEAR)
    pending = plans.item_create(actor=staff, plan_id=plan.pk, data=item_input(topic="建筑工地扬尘治理检查"))
    approved = plans.item_create(
        actor=staff,
        plan_id=plan.pk,
        data=item_input(topic="燃气安全检查", all_townships=False, township_ids=[tree.t1.pk]),
    )
    returned = plans.item_create(actor=staff, plan_id=plan.pk, data=item_input(topic="物业小区消防检查"))
    plans.plan_file(actor=staff, plan_id=plan.pk)
    plans.item_decide(actor=office, item_id=approved.pk, action="approve")
    plans.item_decide(actor=office, item_id=returned.pk, action="return", note="请补充依据")
    approved.refresh_from_db()
    other_staff = cadre(department=tree.dept2, username="matrix_dept2")
    other = plans.plan_create(actor=other_staff, department_id=tree.dept2.pk, year=YEAR)
    plans.item_create(actor=other_staff, plan_id=other.pk, data=item_input(topic="危险化学品检查"))
    run = ReviewRun.objects.filter(county=tree.county, year=YEAR).order_by("-id").first()
    assert run is not None
    return {
        "plan_id": plan.pk,
        "other_plan_id": other.pk,
        "pending_id": pending.pk,
        "item_id": returned.pk,
        "approved_id": approved.pk,
        "run_id": run.pk,
        "item_code": approved.code,
    }


def request_kwargs(method: str, path: str, p: dict[str, Any]) -> dict[str, Any] | None:
    if method not in ("POST", "PUT"):
        return None
    if path == f"{A}/imports":
        return {"data": {"file": SimpleUploadedFile("计划.xlsx", b"not a workbook"), "year": YEAR}}
    if not path.startswith("/api/"):
        if path.startswith(P):
            return {"data": {}}
        return None
    bodies: dict[str, Any] = {
        f"{A}/plans": {"year": YEAR},
        f"{A}/plans/{{plan_id}}/file": {},
        f"{A}/plans/{{plan_id}}/items": {
            "kind": "inspection",
            "topic": "",
            "window_start": f"{YEAR}-03-01",
            "window_end": f"{YEAR}-03-31",
            "all_townships": True,
        },
        f"{A}/items/{{item_id}}": {
            "kind": "inspection",
            "topic": "",
            "window_start": f"{YEAR}-03-01",
            "window_end": f"{YEAR}-03-31",
            "all_townships": True,
        },
        f"{A}/items/{{pending_id}}/decision": {"action": "maybe"},
        f"{A}/items/{{item_id}}/decision": {"action": "approve"},
        f"{A}/items/{{item_id}}/revoke": {"reason": ""},
        f"{A}/reviews": {"year": YEAR},
        f"{A}/decisions/approve-clean": {"year": YEAR},
    }
    if path in bodies:
        return {"data": json.dumps(bodies[path]), "content_type": "application/json"}
    return None


def snapshot() -> Any:
    return (
        list(
            InspectionItem.objects.order_by("pk").values_list(
                "pk", "status", "topic", "code", "code_revoked_at", "decided_at", "materials", "data_fields"
            )
        ),
        list(InspectionPlan.objects.order_by("pk").values_list("pk", "status", "filed_at")),
        InspectionTarget.objects.count(),
        ReviewRun.objects.count(),
        ReviewFlag.objects.count(),
    )
