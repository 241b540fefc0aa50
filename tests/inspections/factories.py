"""Builders for P2 plan tests: plans and items written through the services (so every test data row passed the
same validation), plus a second department's cadre for "other department" cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gongzhi.core.models import User
from gongzhi.inspections import plans
from gongzhi.inspections.models import InspectionItem, InspectionPlan
from gongzhi.inspections.plans import ItemInput
from tests.factories import cadre

YEAR = dt.date.today().year


def day(month: int, d: int = 1) -> dt.date:
    return dt.date(YEAR, month, d)


def item_input(**kw: Any) -> ItemInput:
    base: dict[str, Any] = {
        "kind": "检查",
        "topic": "安全生产大检查",
        "window_start": day(3),
        "window_end": day(4, 30),
        "all_townships": True,
        "mode": "onsite",
        "township_hours": 4,
        "materials": [{"name": "隐患整改情况说明", "basis": ""}],
        "data_fields": [],
    }
    base.update(kw)
    return ItemInput(**base)


def dept2_staff(tree: Any) -> User:
    return cadre(department=tree.dept2, title="科员", username="dept2_staff")


def make_plan(
    actor: User,
    department: Any,
    *,
    year: int = YEAR,
    items: list[dict[str, Any]] | None = None,
    filed: bool = False,
) -> InspectionPlan:
    plan = plans.plan_create(actor=actor, department_id=department.pk, year=year)
    for kw in items if items is not None else [{}]:
        plans.item_create(actor=actor, plan_id=plan.pk, data=item_input(**kw))
    if filed:
        plans.plan_file(actor=actor, plan_id=plan.pk)
    plan.refresh_from_db()
    return plan


def first_item(plan: InspectionPlan) -> InspectionItem:
    item = plan.items.order_by("seq").first()
    assert item is not None
    return item
