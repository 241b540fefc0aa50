"""Builders for the catalog, merge, visit and ledger tests, written straight through the ORM (plans, review and
approval have their own tests), so these tests do not depend on the filing path."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from gongzhi.core.models import AdminUnit, Department
from gongzhi.inspections.models import (
    CatalogEntry,
    DataSubmission,
    InspectionItem,
    InspectionPlan,
    InspectionTarget,
    ItemStatus,
    JointVisit,
    JointVisitItem,
    Kind,
    MergeRun,
    Mode,
    PlanStatus,
)

YEAR = 2026
FIELDS = [
    {"key": "resident_pop", "label": "常住人口", "unit": "人", "type": "integer", "required": True},
    {"key": "farmland", "label": "耕地面积", "unit": "亩", "type": "decimal", "required": True},
    {"key": "contact", "label": "联系人", "unit": "", "type": "text", "required": False},
]
_codes = itertools.count(1)


def entry(county: AdminUnit, *, name: str = "乡镇基本情况", period: str = "year", **kw: Any) -> CatalogEntry:
    return CatalogEntry.objects.create(
        county=county, name=name, period=period, fields=kw.pop("fields", FIELDS), **kw
    )


def submit(
    e: CatalogEntry, township: AdminUnit, values: dict[str, Any], period: str = "2025"
) -> DataSubmission:
    return DataSubmission.objects.create(entry=e, township=township, period=period, values=values)


def plan(department: Department, *, year: int = YEAR, status: str = PlanStatus.FILED) -> InspectionPlan:
    p, _ = InspectionPlan.objects.get_or_create(
        department=department, year=year, defaults={"county": department.county, "status": status}
    )
    return p


def item(
    department: Department,
    *,
    topic: str = "安全生产检查",
    targets: list[AdminUnit] | None = None,
    all_townships: bool = False,
    start: dt.date | None = None,
    end: dt.date | None = None,
    hours: float | str = 4,
    mode: str = Mode.ONSITE,
    kind: str = Kind.INSPECTION,
    status: str = ItemStatus.APPROVED,
    materials: list[dict[str, Any]] | None = None,
    data_fields: list[dict[str, Any]] | None = None,
    comprehensive: bool = False,
    year: int = YEAR,
    plan_status: str = PlanStatus.FILED,
) -> InspectionItem:
    p = plan(department, year=year, status=plan_status)
    seq = (p.items.order_by("-seq").values_list("seq", flat=True).first() or 0) + 1
    it = InspectionItem.objects.create(
        plan=p,
        seq=seq,
        kind=kind,
        comprehensive=comprehensive,
        topic=topic,
        all_townships=all_townships,
        window_start=start or dt.date(year, 4, 1),
        window_end=end or dt.date(year, 6, 30),
        mode=mode,
        township_hours=Decimal(str(hours)),
        materials=materials or [],
        data_fields=data_fields or [],
        status=status,
        code=f"T{year}{next(_codes):06d}" if status == ItemStatus.APPROVED else None,
    )
    for t in targets or []:
        InspectionTarget.objects.create(item=it, township=t)
    return it


def run(county: AdminUnit, *, year: int = YEAR, active: bool = True, **kw: Any) -> MergeRun:
    return MergeRun.objects.create(county=county, year=year, active=active, **kw)


def visit(
    r: MergeRun,
    township: AdminUnit,
    lead: Department,
    items: list[InspectionItem],
    *,
    day: dt.date | None = None,
    status: str = "planned",
) -> JointVisit:
    day = day or dt.date(r.year, 5, 10)
    v = JointVisit.objects.create(
        run=r,
        township=township,
        lead_department=lead,
        window_start=day,
        window_end=day,
        day=day,
        hours=sum((i.township_hours for i in items), Decimal(0)),
        reasons=[{"code": "merged_same_window", "params": {}}] if len(items) > 1 else [],
        status=status,
    )
    JointVisitItem.objects.bulk_create([JointVisitItem(visit=v, item=i) for i in items])
    return v
