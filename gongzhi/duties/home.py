"""Home-page sections for P1: what the gate and the duty lists need from each role. One or two indexed queries each."""

from __future__ import annotations

from typing import Any

from django.urls import reverse as django_reverse
from django.utils.translation import gettext_lazy as _

from gongzhi.core.home import Item, Section, provider
from gongzhi.core.models import Role
from gongzhi.core.roles import Grant
from gongzhi.core.urlcache import reverse

from .models import (
    IN_INBOX,
    AdjustmentStatus,
    ContestStatus,
    DutyAdjustment,
    Task,
    TaskStatus,
)

LIMIT = 5


def object_url(name: str, pk: int) -> str:
    # Per-object URLs go through Django's own reverse: the memoized one would keep one entry per object forever.
    return django_reverse(name, args=[pk])


def _task_items(qs: Any, who: str = "township") -> list[Item]:
    """The task, and in the hint the other party (the department for a township, the township for the rest)."""
    return [
        Item(
            text=f"{t.title}",
            url=object_url("tasks:detail", t.pk),
            hint=f"{getattr(t, who).name} · {t.get_status_display()} · {t.deadline:%Y-%m-%d}",
        )
        for t in qs.select_related("department", "township")[:LIMIT]
    ]


@provider(Role.TOWNSHIP_LEADER, Role.TOWNSHIP_STAFF)
def township_tasks(user: Any, grant: Grant) -> Section:
    qs = Task.objects.filter(township_id=grant.unit_id, status__in=IN_INBOX).order_by("deadline", "id")
    return Section(
        title=_("上级交办任务（已准入）"),
        items=_task_items(qs, who="department"),
        empty=_("没有已准入的交办任务。"),
        links=[
            (_("全部任务"), reverse("tasks:list") + "?box=inbox"),
            # A redirect, so the home page spends no query on finding the version in force.
            (_("本乡镇履职清单"), object_url("duties:township-current", grant.unit_id or 0)),
        ],
    )


@provider(Role.DEPARTMENT_STAFF)
def department_tasks(user: Any, grant: Grant) -> Section:
    qs = Task.objects.filter(
        department_id=grant.department_id or 0,
        status__in=(TaskStatus.HELD, TaskStatus.REFUSED, TaskStatus.DENIED),
    ).order_by("-id")
    return Section(
        title=_("本部门交办任务：待审核或被退回"),
        items=_task_items(qs),
        empty=_("没有待审核或被退回的任务。"),
        links=[
            (_("交办新任务"), reverse("tasks:send")),
            (_("本部门交办"), reverse("tasks:list") + "?box=sent"),
        ],
    )


@provider(Role.COUNTY_OFFICE)
def county_gate(user: Any, grant: Grant) -> Section:
    prefix = grant.unit_prefix
    held = Task.objects.filter(township__code__startswith=prefix, status=TaskStatus.HELD).order_by("id")
    contested = Task.objects.filter(
        township__code__startswith=prefix, contest__status=ContestStatus.OPEN
    ).order_by("id")
    items = _task_items(held) + [
        Item(text=f"{t.title}", url=object_url("tasks:detail", t.pk), hint=str(_("乡镇异议")))
        for t in contested[:LIMIT]
    ]
    return Section(
        title=_("任务准入：待审核与乡镇异议"),
        items=items,
        empty=_("没有待审核的清单外任务或乡镇异议。"),
        links=[
            (_("待准入审核"), reverse("tasks:list") + "?box=held"),
            (_("乡镇异议"), reverse("tasks:list") + "?box=contested"),
        ],
    )


@provider(Role.STAFFING_OFFICE)
def staffing_adjustments(user: Any, grant: Grant) -> Section:
    qs = DutyAdjustment.objects.filter(
        township__code__startswith=grant.unit_prefix, status=AdjustmentStatus.PENDING
    ).select_related("township")[:LIMIT]
    return Section(
        title=_("待审批的动态调整申请"),
        items=[
            Item(
                text=f"{a.township.name}：{a.get_action_display()} {a.item_label}",
                url=object_url("duties:adjustment", a.pk),
            )
            for a in qs
        ],
        empty=_("没有待审批的调整申请。"),
        links=[(_("履职事项清单"), reverse("duties:lists")), (_("导入清单"), reverse("duties_io:import"))],
    )
