"""Permission-matrix rows for 吹哨报到 (collected by tests/core/test_permission_matrix.py).

Objects: {summons_id} = an open summons 东河镇's leader issued to 县住建局, {target_id} = that department's target.
Write rows post valid forms, so allowed roles really act (303 See Other after a form, 200 / 201 from the API); where the summons' state refuses the action
(issuing or discarding an issued summons, rating before closing) the allowed role gets the form's 400. Readers without
the right get 403, everyone else 404, and the snapshot proves a denied request changed nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.utils import timezone

from gongzhi.duties.models import (
    RatingIndicator,
    Summons,
    SummonsReport,
    SummonsRule,
    SummonsStatus,
    SummonsTarget,
)
from tests.matrix import api_row, web

# Who sees 东河镇's issued summons to 县住建局: its township, the summoned department, the county organs, the admin.
VIEWERS = {
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
LIST_USERS = VIEWERS | {"other_township_staff"}
RAISERS = {"township_leader", "township_staff", "other_township_staff"}
T1_TOWNSHIP = {"township_leader", "township_staff"}
LEADER = {"township_leader"}
DEPT = {"department_staff"}
CONFIGURERS = {"county_office", "admin"}


def _obj(allowed: set[str], *, ok: int = 200, api: bool = False) -> dict[str, int]:
    """An object: allowed -> ok, those who see it without the right -> 403, everyone else -> 404."""
    overrides = {r: 403 for r in VIEWERS - allowed}
    overrides.update({r: 404 for r in NOT_SEEN if r not in allowed})
    return (api_row if api else web)(allowed, ok=ok, denied=404, **overrides)


ROWS: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/summons/", web(LIST_USERS)),
    ("GET", "/summons/new/", web(RAISERS)),
    # Posts 东河镇: its own cadres create (the leader issues, the staff drafts); another township's cadre is refused.
    ("POST", "/summons/new/", web(T1_TOWNSHIP, ok=303)),
    ("GET", "/summons/new/departments/", web(RAISERS)),
    ("GET", "/summons/settings/", web(CONFIGURERS)),
    ("POST", "/summons/settings/", web(CONFIGURERS, ok=303)),
    ("GET", "/summons/{summons_id}/", _obj(VIEWERS)),
    ("POST", "/summons/{summons_id}/issue/", _obj(LEADER, ok=400)),
    ("POST", "/summons/{summons_id}/discard/", _obj(LEADER, ok=400)),
    ("POST", "/summons/{summons_id}/close/", _obj(T1_TOWNSHIP, ok=303)),
    ("POST", "/summons/{summons_id}/targets/{target_id}/ack/", _obj(DEPT, ok=303)),
    ("POST", "/summons/{summons_id}/targets/{target_id}/report/", _obj(DEPT, ok=303)),
    ("POST", "/summons/{summons_id}/targets/{target_id}/rate/", _obj(T1_TOWNSHIP, ok=400)),
    # JSON API
    ("GET", "/api/v1/summons", api_row(LIST_USERS)),
    ("POST", "/api/v1/summons", api_row(T1_TOWNSHIP, ok=201)),
    ("GET", "/api/v1/summons/settings", api_row(CONFIGURERS)),
    ("PUT", "/api/v1/summons/settings", api_row(CONFIGURERS)),
    ("GET", "/api/v1/summons/{summons_id}", _obj(VIEWERS, api=True)),
    ("POST", "/api/v1/summons/{summons_id}/issue", _obj(LEADER, ok=400, api=True)),
    ("POST", "/api/v1/summons/{summons_id}/discard", _obj(LEADER, ok=400, api=True)),
    ("POST", "/api/v1/summons/{summons_id}/close", _obj(T1_TOWNSHIP, api=True)),
    ("POST", "/api/v1/summons/{summons_id}/targets/{target_id}/ack", _obj(DEPT, api=True)),
    ("POST", "/api/v1/summons/{summons_id}/targets/{target_id}/reports", _obj(DEPT, ok=201, api=True)),
    ("POST", "/api/v1/summons/{summons_id}/targets/{target_id}/rating", _obj(T1_TOWNSHIP, ok=400, api=True)),
]


def params(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    leader = users["township_leader"]
    now = timezone.now()
    s = Summons.objects.create(
        township=tree.t1,
        ground="joint_enforcement",
        title="违建联合执法",
        description="东河村违建需住建部门联合执法",
        status=SummonsStatus.OPEN,
        ack_minutes=30,
        created_by=leader,
        issued_by=leader,
        issued_at=now,
    )
    target = SummonsTarget.objects.create(
        summons=s, department=tree.dept, ack_due=now + timedelta(minutes=30)
    )
    return {
        "summons_id": s.pk,
        "target_id": target.pk,
        "_sm_t1": tree.t1.pk,
        "_sm_dept": tree.dept.pk,
        "_sm_county": tree.county.code,
    }


def _settings_form(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "county": p["_sm_county"],
        "ack_resident_demand": "30",
        "ack_joint_enforcement": "45",
        "ack_emergency": "10",
        "ind_key": ["", ""],
        "ind_name": ["响应速度", "办理成效"],
        "ind_weight": ["0.5", "0.5"],
    }


def request_kwargs(method: str, path: str, p: dict[str, Any]) -> dict[str, Any] | None:
    if method not in ("POST", "PUT") or "summons" not in path:
        return None
    forms: dict[str, dict[str, Any]] = {
        "/summons/new/": {
            "township": p["_sm_t1"],
            "ground": "resident_demand",
            "title": "河道垃圾清理",
            "description": "群众反映河道垃圾，需水利部门协同",
            "departments": [p["_sm_dept"]],
        },
        "/summons/settings/": _settings_form(p),
        "/summons/{summons_id}/close/": {"closing_note": "已拆除"},
        "/summons/{summons_id}/targets/{target_id}/report/": {"kind": "on_site", "text": "已到场"},
        "/summons/{summons_id}/targets/{target_id}/rate/": {
            "score_response_speed": "5",
            "score_cooperation": "4",
            "score_follow_through": "4",
        },
    }
    if not path.startswith("/api/v1/"):
        return {"data": forms.get(path, {})}
    bodies: dict[str, Any] = {
        "/api/v1/summons": {
            "township_id": p["_sm_t1"],
            "ground": "emergency",
            "title": "山体滑坡",
            "description": "需应急部门到场",
            "department_ids": [p["_sm_dept"]],
        },
        "/api/v1/summons/settings": {
            "ack_minutes": {"emergency": 10},
            "indicators": [{"name": "响应速度", "weight": "0.6"}, {"name": "办理成效", "weight": "0.4"}],
        },
        "/api/v1/summons/{summons_id}/close": {"closing_note": "已处置"},
        "/api/v1/summons/{summons_id}/targets/{target_id}/reports": {"kind": "written", "text": "已书面答复"},
        "/api/v1/summons/{summons_id}/targets/{target_id}/rating": {
            "scores": {"response_speed": 5, "cooperation": 4, "follow_through": 4}
        },
    }
    return {"data": json.dumps(bodies.get(path, {})), "content_type": "application/json"}


def snapshot() -> Any:
    return (
        list(
            Summons.objects.order_by("pk").values_list(
                "pk", "status", "issued_at", "closed_at", "closing_note", "ack_minutes"
            )
        ),
        list(
            SummonsTarget.objects.order_by("pk").values_list(
                "pk", "acknowledged_at", "escalated_at", "score", "rated_at"
            )
        ),
        list(SummonsReport.objects.order_by("pk").values_list("pk", "kind", "text")),
        list(SummonsRule.objects.order_by("pk").values_list("county_id", "ground", "ack_minutes")),
        list(RatingIndicator.objects.order_by("pk").values_list("key", "name", "weight", "active")),
    )
