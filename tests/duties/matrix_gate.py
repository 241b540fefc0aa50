"""Permission-matrix rows for duty lists, 动态调整, reports and the task gate (collected by
tests/core/test_permission_matrix.py).

Objects: {list_id} = 东河镇's current list (v2), {other_id} = its superseded v1, {adj_id} = a pending adjustment of
东河镇, {task_id} = a held task from 县住建局 to 东河镇 that 东河镇 has objected to (so every decision form applies).
Write rows post an empty or invalid form: allowed roles get 400 (the form's error), the rest 403 or 404 — and the
snapshot proves a denied request changed nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.duties.models import DutyAdjustment, DutyList, ResourceGrant, Task, TaskContest
from tests.matrix import STAFF, api_row, web

from .factories import make_list, tree_departments

# Who may read 东河镇's lists and tasks: its own township, the county's departments and organs, the admin.
T1_READERS = {
    "admin",
    "county_office",
    "department_staff",
    "township_leader",
    "township_staff",
    "org_department",
    "discipline",
    "staffing_office",
}
NOT_SEEN = {"village_committee", "other_township_staff", "resident", "org_rep"}
T1_TOWNSHIP = {"township_leader", "township_staff"}
ADJUSTERS = T1_TOWNSHIP | {"department_staff", "admin"}
GATEKEEPERS = {"county_office", "admin"}
LIST_MANAGERS = {"staffing_office", "admin"}
REPORT_READERS = T1_READERS | {"other_township_staff"}


def _obj(allowed: set[str], *, ok: int = 200, api: bool = False, **extra: int) -> dict[str, int]:
    """An object page: allowed -> ok, readers without the right -> 403, everyone else -> 404."""
    overrides = {r: 403 for r in T1_READERS - allowed}
    overrides.update({r: 404 for r in NOT_SEEN if r not in allowed})
    overrides.update(extra)
    return (api_row if api else web)(allowed, ok=ok, denied=404, **overrides)


ROWS: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/duties/", web(STAFF)),
    ("GET", "/duties/lists/{list_id}/", _obj(T1_READERS)),
    ("GET", "/duties/townships/{unit_id}/current/", _obj(T1_READERS, ok=302)),
    ("GET", "/duties/lists/{list_id}/diff/{other_id}/", _obj(T1_READERS)),
    ("GET", "/duties/lists/{list_id}/adjust/", _obj(ADJUSTERS)),
    ("GET", "/duties/lists/{template_id}/derive/", _obj(LIST_MANAGERS, village_committee=403)),
    ("POST", "/duties/lists/{template_id}/derive/", _obj(LIST_MANAGERS, ok=400, village_committee=403)),
    ("GET", "/duties/adjustments/", web(STAFF)),
    ("GET", "/duties/adjustments/{adj_id}/", _obj(T1_READERS)),
    ("POST", "/duties/adjustments/{adj_id}/decide/", _obj(LIST_MANAGERS, ok=400)),
    ("GET", "/duties/reports/", web(REPORT_READERS)),
    ("GET", "/duties/reports.xlsx", web(REPORT_READERS)),
    ("GET", "/tasks/", web(T1_READERS | {"other_township_staff"})),
    ("GET", "/tasks/new/", web({"department_staff"})),
    ("POST", "/tasks/new/", web({"department_staff"}, ok=400)),
    ("POST", "/tasks/preview/", web({"department_staff"})),
    ("GET", "/tasks/cited-items/", web({"department_staff"})),
    ("GET", "/tasks/{task_id}/", _obj(T1_READERS)),
    ("POST", "/tasks/{task_id}/decide/", _obj(GATEKEEPERS, ok=400)),
    ("POST", "/tasks/{task_id}/contest/", _obj(T1_TOWNSHIP, ok=400)),
    ("POST", "/tasks/{task_id}/contest/decide/", _obj(GATEKEEPERS, ok=400)),
    # JSON API
    ("GET", "/api/v1/duties/lists", api_row(STAFF)),
    ("GET", "/api/v1/duties/lists/{list_id}", _obj(T1_READERS, api=True)),
    ("GET", "/api/v1/duties/lists/{list_id}/items", _obj(T1_READERS, api=True)),
    ("GET", "/api/v1/duties/lists/{list_id}/diff/{other_id}", _obj(T1_READERS, api=True)),
    ("GET", "/api/v1/duties/lists/{list_id}/export", _obj(T1_READERS, api=True)),
    (
        "POST",
        "/api/v1/duties/lists/{template_id}/derive",
        _obj(LIST_MANAGERS, ok=400, api=True, village_committee=403),
    ),
    ("POST", "/api/v1/duties/imports", api_row(LIST_MANAGERS, ok=400)),
    ("GET", "/api/v1/duties/reports", api_row(REPORT_READERS)),
    ("GET", "/api/v1/duties/adjustments", api_row(STAFF)),
    ("POST", "/api/v1/duties/adjustments", api_row(ADJUSTERS, ok=400)),
    ("POST", "/api/v1/duties/adjustments/{adjustment_id}/decision", _obj(LIST_MANAGERS, ok=400, api=True)),
    ("GET", "/api/v1/tasks", api_row(T1_READERS | {"other_township_staff"})),
    ("POST", "/api/v1/tasks", api_row({"department_staff"}, ok=400)),
    ("POST", "/api/v1/tasks/preview", api_row({"department_staff"})),
    ("GET", "/api/v1/tasks/{task_id}", _obj(T1_READERS, api=True)),
    ("POST", "/api/v1/tasks/{task_id}/decision", _obj(GATEKEEPERS, ok=400, api=True)),
    ("POST", "/api/v1/tasks/{task_id}/contest", _obj(T1_TOWNSHIP, ok=400, api=True)),
    ("POST", "/api/v1/tasks/{task_id}/contest/decision", _obj(GATEKEEPERS, ok=400, api=True)),
]


def params(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    d = tree_departments(tree)
    old = make_list(tree.t1, tree.county, d, version=1)
    old.status = "superseded"
    old.save()
    current = make_list(tree.t1, tree.county, d, version=2, effective_from=dt.date(2026, 1, 1))
    template = make_list(tree.county, tree.county, d)
    item = current.items.first()
    adj = DutyAdjustment.objects.create(
        township=tree.t1,
        base_list=current,
        action="remove",
        item_lineage=item.lineage,
        item_label=item.name,
        reason="测试",
        applicant=users["township_leader"],
    )
    task = Task.objects.create(
        department=tree.dept,
        township=tree.t1,
        title="招商引资",
        content="完成招商指标",
        deadline=dt.date.today() + dt.timedelta(days=10),
        expected_hours=1,
        duty_list=current,
        outcome="held",
        rule="no_match",
        explanation={"explanation": "清单外事项"},
        status="held",
        created_by=users["department_staff"],
    )
    TaskContest.objects.create(task=task, reason="不属于乡镇职责", raised_by=users["township_leader"])
    return {
        "list_id": current.pk,
        "other_id": old.pk,
        "adj_id": adj.pk,
        "adjustment_id": adj.pk,
        "task_id": task.pk,
        "template_id": template.pk,
        "unit_id": tree.t1.pk,
        "_county": tree.county.code,
        "_t1": tree.t1.pk,
        "_lineage": item.lineage,
    }


def request_kwargs(method: str, path: str, p: dict[str, Any]) -> dict[str, Any] | None:
    if method != "POST":
        return None
    if path == "/tasks/preview/":
        return {"data": {"townships": [p["_t1"]], "title": "低保", "content": "低保入户调查"}}
    if path == "/api/v1/duties/imports":
        upload = SimpleUploadedFile("清单.xlsx", b"not a workbook")
        return {"data": {"file": upload, "county": p["_county"], "effective_from": "2026-06-01"}}
    if not path.startswith("/api/v1/"):
        return {"data": {}}
    bodies: dict[str, Any] = {
        "/api/v1/duties/adjustments": {
            "township_id": p["_t1"],
            "action": "remove",
            "reason": "",
            "item_lineage": p["_lineage"],
        },
        "/api/v1/duties/adjustments/{adjustment_id}/decision": {"approve": False},
        "/api/v1/tasks": {"township_ids": [p["_t1"]], "title": "", "content": "x", "deadline": "2099-01-01"},
        "/api/v1/tasks/preview": {"township_id": p["_t1"], "title": "低保入户调查"},
        "/api/v1/tasks/{task_id}/decision": {"approve": False},
        "/api/v1/tasks/{task_id}/contest": {"reason": ""},
        "/api/v1/tasks/{task_id}/contest/decision": {"uphold": False},
        "/api/v1/duties/lists/{template_id}/derive": {"township_ids": [], "effective_from": "2026-06-01"},
    }
    if path in bodies:
        return {"data": json.dumps(bodies[path]), "content_type": "application/json"}
    return None


def snapshot() -> Any:
    return (
        list(Task.objects.order_by("pk").values_list("pk", "status", "decided_at")),
        list(TaskContest.objects.order_by("pk").values_list("pk", "status")),
        ResourceGrant.objects.count(),
        list(DutyAdjustment.objects.order_by("pk").values_list("pk", "status")),
        list(DutyList.objects.order_by("pk").values_list("pk", "status", "version")),
    )
