"""Home-page sections for annual plans (loaded by InspectionsConfig.ready): the county office's items awaiting a
decision with the newest review's flag counts, a department's returned items to fix, and for townships the link to
check a code. At most two small indexed queries each; the township's costs none (its 一表通 reminder shares the
joint-visit query in visit_home.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.home import Item, Section, provider
from gongzhi.core.models import Role
from gongzhi.core.roles import Grant
from gongzhi.core.urlcache import reverse, reverse_ids

from .models import InspectionItem, InspectionPlan, ItemStatus, PlanStatus, ReviewRun
from .review import rule_label

LIMIT = 5


@provider(Role.COUNTY_OFFICE)
def county_decisions(user: Any, grant: Grant) -> Section:
    this = timezone.localdate().year
    prefix = grant.unit_prefix[:6]
    pending = dict(
        InspectionItem.objects.filter(
            plan__county__code__startswith=prefix,
            plan__year__in=(this, this + 1),
            plan__status=PlanStatus.FILED,
            status=ItemStatus.PENDING,
        )
        .values_list("plan__year")
        .annotate(n=Count("id"))
        .values_list("plan__year", "n")
    )
    items = [
        Item(
            text=_("%(year)s 年度 %(n)s 个事项待审核") % {"year": year, "n": n},
            url=reverse("plans:decisions") + f"?year={year}",
            hint=_("无审查提示的事项可一键批准"),
        )
        for year, n in sorted(pending.items())
    ]
    run = (
        ReviewRun.objects.filter(county__code__startswith=prefix, year=this)
        .order_by("-id")
        .values_list("stats", "created_at")
        .first()
    )
    if run is not None:
        stats, at = run
        by_rule = {k: v for k, v in (stats or {}).get("by_rule", {}).items() if v}
        if by_rule:
            items.append(
                Item(
                    text=_("最近一次审查：%(summary)s")
                    % {"summary": "、".join(f"{rule_label(k)} {v}" for k, v in by_rule.items())},
                    url=reverse("plans:review") + f"?year={this}",
                    hint=timezone.localtime(at).strftime("%Y-%m-%d %H:%M"),
                )
            )
    return Section(
        title=_("督查检查考核计划审核"),
        items=items,
        empty=_("没有待审核的督查检查考核事项。"),
        links=[
            (_("年度计划"), reverse("plans:list")),
            (_("审查结果"), reverse("plans:review")),
            (_("逐项审核"), reverse("plans:decisions")),
        ],
    )


@provider(Role.DEPARTMENT_STAFF)
def department_returned(user: Any, grant: Grant) -> Section:
    rows = list(
        InspectionItem.objects.filter(
            plan__department_id=grant.department_id or 0, status=ItemStatus.RETURNED
        )
        .order_by("-decided_at", "-id")
        .values_list("pk", "topic", "decision_note")[:LIMIT]
    )
    links = [(_("本部门年度计划"), reverse("plans:list")), (_("从表格导入"), reverse("plans:import"))]
    # Once this year's plan is filed, an extra inspection is an out-of-plan item (一事一报): one click from home.
    filed = (
        InspectionPlan.objects.filter(
            department_id=grant.department_id or 0, year=timezone.localdate().year, status=PlanStatus.FILED
        )
        .values_list("pk", flat=True)
        .first()
    )
    if filed is not None:
        links.insert(0, (_("报送计划外事项"), reverse_ids("plans:item-create", filed)))
    return Section(
        title=_("督查检查考核计划：退回修改的事项"),
        items=[
            Item(text=topic, url=reverse_ids("plans:item", pk), hint=_("退回理由：%(note)s") % {"note": note})
            for pk, topic, note in rows
        ],
        empty=_("没有被退回的事项。"),
        links=links,
    )


@provider(Role.TOWNSHIP_LEADER, Role.TOWNSHIP_STAFF)
def township_verify(user: Any, grant: Grant) -> Section:
    return Section(
        title=_("事项码核验"),
        empty=_("有人来督查检查考核时，请先核验事项码：查无此码或已撤销的，可以拒绝接待。"),
        links=[(_("核验事项码"), reverse("verify:form"))],
    )
