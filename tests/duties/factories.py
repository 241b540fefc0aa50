"""Small builders for P1 tests: a published duty list written straight through the ORM (the importer has its own
tests), so gate, adjustment and report tests do not depend on the Excel path."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from gongzhi.core.models import AdminUnit, Department
from gongzhi.duties.models import Category, DutyItem, DutyItemAssist, DutyList, ListStatus

# (category, name, content, lead/reclaimed department attribute on the tree or None)
ITEMS: tuple[tuple[str, str, str, str | None], ...] = (
    (
        Category.BASIC,
        "农村低保对象申请受理与初审",
        "受理辖区居民最低生活保障申请，开展入户调查、民主评议和初审公示",
        None,
    ),
    (Category.BASIC, "森林防火宣传与巡查", "组织开展森林防火宣传教育，落实护林员巡山，及时报告火情", None),
    (
        Category.BASIC,
        "人民调解与矛盾纠纷排查化解",
        "组织人民调解委员会排查化解邻里、婚姻家庭等矛盾纠纷",
        None,
    ),
    (Category.BASIC, "城乡居民养老保险参保登记", "受理城乡居民基本养老保险参保登记和待遇领取资格认证", None),
    (Category.COOPERATIVE, "农村危房改造", "配合开展农村危房鉴定、改造对象公示和竣工验收", "dept"),
    (Category.COOPERATIVE, "安全生产检查", "配合应急管理部门对辖区生产经营单位开展安全生产检查", "dept2"),
    (Category.RECLAIMED, "建筑施工安全监管执法", "对建筑工地施工安全违法行为实施行政处罚", "dept"),
    (Category.RECLAIMED, "危险化学品经营许可", "危险化学品经营许可证的审批和监督检查", "dept2"),
)


def make_list(
    owner: AdminUnit,
    county: AdminUnit,
    departments: dict[str, Department],
    *,
    version: int = 1,
    effective_from: dt.date | None = None,
    items: tuple[tuple[str, str, str, str | None], ...] = ITEMS,
    power_department: Department | None = None,
) -> DutyList:
    dl = DutyList.objects.create(
        owner=owner,
        county=county,
        version=version,
        status=ListStatus.PUBLISHED,
        effective_from=effective_from or dt.date(2025, 1, 1),
    )
    counters: dict[str, int] = {}
    for pos, (cat, name, content, dept_key) in enumerate(items, start=1):
        counters[cat] = counters.get(cat, 0) + 1
        dept = departments.get(dept_key) if dept_key else None
        item = DutyItem.objects.create(
            duty_list=dl,
            lineage=uuid.uuid4().hex,
            position=pos,
            number=f"{ {'basic': 'J', 'cooperative': 'P', 'reclaimed': 'S'}[cat] }{counters[cat]}".replace(
                " ", ""
            ),
            category=cat,
            name=name,
            content=content,
            lead_department=dept if cat == Category.COOPERATIVE else None,
            reclaimed_by=dept if cat == Category.RECLAIMED else None,
            power_department=power_department if cat == Category.BASIC and pos == 2 else None,
        )
        if cat == Category.COOPERATIVE and dept is not None:
            other = departments["dept2" if dept_key == "dept" else "dept"]
            DutyItemAssist.objects.create(item=item, department=other)
    return dl


def tree_departments(tree: Any) -> dict[str, Department]:
    return {"dept": tree.dept, "dept2": tree.dept2}
