"""Permission-matrix rows for duty list import/export (collected by tests/core/test_permission_matrix.py).

Objects: {duty_list_id} = a superseded list of 东河镇 (so it does not change which list is current for the other
rows); {token} = a well-formed confirm token that is in nobody's session. Write rows post an empty form: the staffing
office and the admin get 400 (the form's error), everyone else 403 — and the snapshot proves nothing changed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gongzhi.duties.models import DutyItem, DutyList
from tests.matrix import STAFF, web

LIST_MANAGERS = {"staffing_office", "admin"}
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

ROWS: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/duties/io/import/", web(LIST_MANAGERS)),
    ("POST", "/duties/io/import/", web(LIST_MANAGERS, ok=400)),
    # A token from someone else's session (or none) is not found, even for the staffing office.
    ("GET", "/duties/io/import/confirm/{token}/", web(LIST_MANAGERS, ok=404)),
    ("POST", "/duties/io/import/confirm/{token}/", web(LIST_MANAGERS, ok=404)),
    (
        "GET",
        "/duties/io/export/{duty_list_id}.xlsx",
        web(T1_READERS, denied=403, village_committee=404, other_township_staff=404),
    ),
    ("GET", "/duties/io/template.xlsx", web(STAFF)),
]


def params(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    dl = DutyList.objects.create(
        owner=tree.t1,
        county=tree.county,
        version=90,
        status="superseded",
        effective_from=dt.date(2024, 1, 1),
        effective_to=dt.date(2024, 12, 31),
    )
    DutyItem.objects.create(
        duty_list=dl, lineage="m" * 32, position=1, number="基本-1", category="basic", name="村务公开"
    )
    return {"duty_list_id": dl.pk, "token": "A" * 43}


def request_kwargs(method: str, path: str, p: dict[str, Any]) -> dict[str, Any] | None:
    if method == "POST" and path.startswith("/duties/io/"):
        return {"data": {}}
    return None


def snapshot() -> Any:
    return (
        list(DutyList.objects.order_by("pk").values_list("pk", "status", "version")),
        DutyItem.objects.count(),
    )
