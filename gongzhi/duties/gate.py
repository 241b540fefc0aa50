"""The task gate (任务准入): services and selectors for tasks, county decisions with resource grants (费随事转) and
township objections.

The decision itself is the pure engine ``gongzhi.engines.taskgate.admit_task``; this module feeds it the township's
current published list and stores the decision with its explanation, so the page, the API and the audit log all
show the same reasons.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from decimal import Decimal, InvalidOperation
from functools import reduce
from operator import or_
from threading import Lock
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from gongzhi.core.audit import audit_record
from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.core.models import AdminUnit, Department, DepartmentKind, Level, Role
from gongzhi.core.roles import grants_for
from gongzhi.engines import taskgate

from .models import (
    IN_INBOX,
    ContestStatus,
    DutyItem,
    DutyList,
    Outcome,
    ResourceGrant,
    Task,
    TaskContest,
    TaskStatus,
)
from .permissions import (
    COUNTY_READERS,
    TOWNSHIP_ROLES,
    can_decide_gate,
    is_township_member,
    member_departments,
    sender_departments,
)

MAX_HOURS = Decimal("10000")
MAX_TOWNSHIPS = 1000  # one send; a county has a few dozen, a prefecture a few hundred
MAX_TITLE, MAX_CONTENT, MAX_BASIS = 200, 5000, 2000
MAX_FUNDS = Decimal("1000000")  # 万元, i.e. 100 亿元
MAX_STAFF = 100000
STATUS_OF_OUTCOME = {
    Outcome.ADMITTED: TaskStatus.ADMITTED,
    Outcome.ASSISTANCE: TaskStatus.ASSISTANCE,
    Outcome.REFUSED: TaskStatus.REFUSED,
    Outcome.HELD: TaskStatus.HELD,
}


# ---- the township's current list and its gate index ----------------------------------------------------------


def current_list(township: AdminUnit, *, on: dt.date | None = None) -> DutyList | None:
    """The version in force on ``on`` (today): a version published ahead of its effective date does not judge
    tasks before that date; the one it will supersede still does."""
    day = on or timezone.localdate()
    return (
        DutyList.objects.filter(owner=township, effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("-version")
        .first()
    )


class _IndexCache:
    """Published lists never change, so an index built for a list stays valid; a bounded LRU per process.

    Keyed by id *and* creation time: after a restore or a rolled-back transaction an id can come back for another
    list. About 1.6 MB per 340-item index, so the default 64 entries stay near 100 MB (``GATE_INDEX_CACHE_SIZE``).
    """

    def __init__(self, size: int | None = None):
        self._size = size
        self.data: OrderedDict[tuple[int, Any], taskgate.GateIndex] = OrderedDict()
        self.lock = Lock()

    @property
    def size(self) -> int:
        from django.conf import settings

        return self._size or int(getattr(settings, "GATE_INDEX_CACHE_SIZE", 64))

    def get(self, duty_list: DutyList) -> taskgate.GateIndex:
        key = (duty_list.pk, duty_list.created_at)
        with self.lock:
            found = self.data.get(key)
            if found is not None:
                self.data.move_to_end(key)
                return found
        index = taskgate.GateIndex(gate_items(duty_list))
        with self.lock:
            self.data[key] = index
            while len(self.data) > self.size:
                self.data.popitem(last=False)
        return index


INDEXES = _IndexCache()


def gate_items(duty_list: DutyList) -> list[taskgate.GateItem]:
    rows = DutyItem.objects.filter(duty_list=duty_list).values_list(
        "id", "category", "name", "content", "number", "lead_department__name", "reclaimed_by__name"
    )
    return [
        taskgate.GateItem(
            id=pk,
            category=cat,
            name=name,
            content=content,
            number=number,
            lead_department=lead or "",
            reclaimed_by=reclaimed or "",
        )
        for pk, cat, name, content, number, lead, reclaimed in rows
    ]


def _empty_decision(task: taskgate.GateTask) -> taskgate.Decision:
    return taskgate.admit_task(task, taskgate.GateIndex([]))


def preview(
    *,
    township: AdminUnit,
    title: str,
    content: str,
    basis: str = "",
    department: str = "",
    cited_item_id: int | None = None,
) -> tuple[taskgate.Decision, DutyList | None]:
    """What the gate would decide, without saving: the send form shows it while the department types."""
    duty_list = current_list(township)
    gt = taskgate.GateTask(
        title=title, content=content, basis=basis, department=department, cited_item_id=cited_item_id
    )
    if duty_list is None:
        return _empty_decision(gt), None
    return taskgate.admit_task(gt, INDEXES.get(duty_list)), duty_list


# ---- parsing helpers shared by the form and the API ------------------------------------------------------------


def parse_hours(value: Any) -> Decimal:
    try:
        hours = Decimal(str(value).strip() or "0")
    except (InvalidOperation, ValueError) as e:
        raise ServiceError("invalid", "预计乡镇工时必须是数字（小时）", {"field": "expected_hours"}) from e
    if not hours.is_finite() or hours < 0 or hours > MAX_HOURS:
        raise ServiceError("invalid", "预计乡镇工时应在 0 到 10000 小时之间", {"field": "expected_hours"})
    return hours.quantize(Decimal("0.1"))


def parse_date(value: Any, field: str, label: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as e:
        raise ServiceError("invalid", f"{label}格式不正确，应为 YYYY-MM-DD", {"field": field}) from e


# ---- writes ------------------------------------------------------------------------------------------------------


def _sender_department(actor: Any, department_id: int | None) -> Department:
    mine = dict(sender_departments(actor))
    if not mine:
        raise PermissionDeniedError("只有县直部门可以向乡镇交办任务")
    if department_id is None:
        if len(mine) > 1:
            raise ServiceError("invalid", "您在多个部门任职，请选择以哪个部门交办", {"field": "department"})
        department_id = next(iter(mine))
    if department_id not in mine:
        raise PermissionDeniedError("您不能以该部门名义交办任务")
    dept = Department.objects.select_related("county").get(pk=department_id)
    if not dept.active or dept.kind != DepartmentKind.FUNCTIONAL:
        raise PermissionDeniedError("该部门已停用，不能交办任务")
    return dept


def task_send(
    *,
    actor: Any,
    township_ids: list[int],
    title: str,
    content: str,
    deadline: Any,
    expected_hours: Any,
    basis: str = "",
    resources_offered: str = "",
    cited_item_id: int | None = None,
    department_id: int | None = None,
    today: dt.date | None = None,
) -> list[Task]:
    """Send one task to one or more townships. Each copy passes the gate against its own township's list.

    All-or-nothing: a bad township or field refuses the whole send.
    """
    dept = _sender_department(actor, department_id)
    title, content, basis = title.strip(), content.strip(), basis.strip()
    resources_offered = resources_offered.strip()
    if not title:
        raise ServiceError("invalid", "请填写任务名称", {"field": "title"})
    if len(title) > MAX_TITLE:
        raise ServiceError("invalid", "任务名称不能超过 200 字", {"field": "title"})
    if not content:
        raise ServiceError("invalid", "请填写任务内容：乡镇要做什么、做到什么程度", {"field": "content"})
    if len(content) > MAX_CONTENT:
        raise ServiceError(
            "invalid",
            f"任务内容不能超过 {MAX_CONTENT} 字，详细材料请作为依据文件另行下发",
            {"field": "content"},
        )
    if len(basis) > MAX_BASIS or len(resources_offered) > MAX_BASIS:
        raise ServiceError("invalid", f"依据和随附资源各不能超过 {MAX_BASIS} 字", {"field": "basis"})
    day = parse_date(deadline, "deadline", "完成时限")
    if day < (today or timezone.localdate()):
        raise ServiceError("invalid", "完成时限不能早于今天", {"field": "deadline"})
    hours = parse_hours(expected_hours)
    if len(township_ids) > MAX_TOWNSHIPS:
        raise ServiceError("invalid", f"一次最多向 {MAX_TOWNSHIPS} 个乡镇交办", {"field": "townships"})
    ids = sorted({int(t) for t in township_ids})
    if not ids:
        raise ServiceError("invalid", "请至少选择一个乡镇（街道）", {"field": "townships"})
    townships = {u.pk: u for u in AdminUnit.objects.filter(pk__in=ids)}
    county_prefix = dept.county.code[:6]
    for pk in ids:
        unit = townships.get(pk)
        if unit is None or unit.level != Level.TOWNSHIP:
            raise ServiceError("invalid", f"乡镇（编号 {pk}）不存在", {"field": "townships"})
        if not unit.code.startswith(county_prefix):
            raise ServiceError(
                "invalid",
                f"「{unit.name}」不在{dept.county.name}，{dept.name}不能向其交办任务",
                {"field": "townships"},
            )
    if cited_item_id is not None and len(ids) > 1:
        cited = DutyItem.objects.filter(pk=cited_item_id).first()
        cited_lineage = cited.lineage if cited else None
    else:
        cited_lineage = None
    tasks: list[Task] = []
    with transaction.atomic():
        for pk in ids:
            unit = townships[pk]
            duty_list = current_list(unit)
            item_id = cited_item_id
            if item_id is not None:
                # One cited item, many townships: cite the same item (same lineage) in each township's own list.
                q = DutyItem.objects.filter(duty_list=duty_list)
                q = q.filter(lineage=cited_lineage) if cited_lineage else q.filter(pk=item_id)
                found = q.values_list("pk", flat=True).first() if duty_list else None
                if found is None:
                    raise ServiceError(
                        "invalid",
                        f"引用的事项不在「{unit.name}」现行的履职事项清单中",
                        {"field": "cited_item"},
                    )
                item_id = found
            gt = taskgate.GateTask(
                title=title, content=content, basis=basis, department=dept.name, cited_item_id=item_id
            )
            decision = taskgate.admit_task(gt, INDEXES.get(duty_list)) if duty_list else _empty_decision(gt)
            explanation = decision.as_dict()
            if duty_list is None:
                explanation["explanation"] = (
                    f"「{unit.name}」尚无现行的履职事项清单，任务无法对照清单判定，提交县级职责准入审核。"
                )
            matched_id = decision.matched[0].item_id if decision.matched else None
            task = Task.objects.create(
                department=dept,
                township=unit,
                title=title,
                content=content,
                basis=basis,
                deadline=day,
                expected_hours=hours,
                resources_offered=resources_offered,
                cited_item_id=item_id,
                duty_list=duty_list,
                outcome=decision.outcome,
                rule=decision.rule,
                explanation=explanation,
                matched_item_id=matched_id,
                status=STATUS_OF_OUTCOME[Outcome(decision.outcome)],
                created_by=actor,
            )
            audit_record(
                actor=actor,
                action="task.send",
                object_type="task",
                object_id=task.pk,
                data={
                    "department": dept.name,
                    "township": unit.name,
                    "title": title,
                    "outcome": decision.outcome,
                    "rule": decision.rule,
                    "matched_item": matched_id,
                    "cited_item": item_id,
                },
            )
            tasks.append(task)
    return tasks


def _locked_task(task_id: int) -> Task:
    task = (
        Task.objects.select_for_update().select_related("township", "department").filter(pk=task_id).first()
    )
    if task is None:
        raise NotFoundError()
    return task


def task_decide(
    *,
    actor: Any,
    task_id: int,
    approve: bool,
    note: str = "",
    funds: Any = 0,
    staff: Any = 0,
    powers: str = "",
    grant_note: str = "",
) -> Task:
    """职责准入: the county office approves a held task only together with a ResourceGrant, or refuses it."""
    note, powers = note.strip(), powers.strip()
    if len(note) > 500:
        raise ServiceError("invalid", "审核意见不能超过 500 字", {"field": "note"})
    with transaction.atomic():
        task = _locked_task(task_id)
        if not can_decide_gate(actor, task.township):
            if can_view_task(actor, task):
                raise PermissionDeniedError("职责准入由县委县政府办（减负办）审核")
            raise NotFoundError()
        if task.status != TaskStatus.HELD:
            raise ServiceError(
                "invalid_state", f"该任务当前状态为「{task.get_status_display()}」，无需准入审核"
            )
        if approve:
            try:
                money = Decimal(str(funds or 0))
                people = int(staff or 0)
            except (InvalidOperation, ValueError) as e:
                raise ServiceError("invalid", "经费须为数字（万元），人员须为整数") from e
            if not money.is_finite() or money < 0 or people < 0:
                raise ServiceError("invalid", "经费和人员不能为负数")
            if money > MAX_FUNDS or people > MAX_STAFF or len(powers) > MAX_BASIS:
                raise ServiceError("invalid", "经费、人员或权限说明超出合理范围，请核对")
            # Round before judging: 0.001 万元 is no grant at all.
            money = money.quantize(Decimal("0.01"))
            if money == 0 and people == 0 and not powers:
                raise ServiceError(
                    "grant_required",
                    "批准准入必须同时明确随任务下沉的经费、人员或权限（费随事转、权随事走）",
                    {"field": "grant"},
                )
            ResourceGrant.objects.create(
                task=task,
                funds=money,
                staff=people,
                powers=powers,
                note=grant_note.strip()[:500],
                granted_by=actor,
            )
            task.status = TaskStatus.APPROVED
        else:
            if not note:
                raise ServiceError(
                    "invalid", "不予准入时请写明理由，交办部门和乡镇都能看到", {"field": "note"}
                )
            task.status = TaskStatus.DENIED
        task.decided_by = actor
        task.decided_at = timezone.now()
        task.decision_note = note[:500]
        task.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        data: dict[str, Any] = {"approve": approve, "note": note}
        if approve:
            data.update({"funds": str(money), "staff": people, "powers": powers})
        audit_record(actor=actor, action="task.decide", object_type="task", object_id=task.pk, data=data)
    return task


def task_contest(*, actor: Any, task_id: int, reason: str) -> TaskContest:
    """A township objects that the gate should have stopped a task it was given."""
    reason = reason.strip()
    with transaction.atomic():
        task = _locked_task(task_id)
        if not is_township_member(actor, task.township):
            if can_view_task(actor, task):
                raise PermissionDeniedError("只有任务所在乡镇可以提出异议")
            raise NotFoundError()
        if task.status not in IN_INBOX:
            raise ServiceError("invalid_state", "只能对已交由本乡镇承担的任务提出异议")
        if TaskContest.objects.filter(task=task).exists():
            raise ServiceError("duplicate", "该任务已提出过异议")
        if not reason:
            raise ServiceError(
                "invalid", "请写明异议理由，例如该事项属于上级部门收回事项", {"field": "reason"}
            )
        if len(reason) > MAX_BASIS:
            raise ServiceError("invalid", f"异议理由不能超过 {MAX_BASIS} 字", {"field": "reason"})
        contest = TaskContest.objects.create(task=task, reason=reason, raised_by=actor)
        audit_record(
            actor=actor, action="task.contest", object_type="task", object_id=task.pk, data={"reason": reason}
        )
    return contest


def contest_decide(*, actor: Any, task_id: int, uphold: bool, note: str = "") -> TaskContest:
    note = note.strip()
    if len(note) > 500:
        raise ServiceError("invalid", "处理意见不能超过 500 字", {"field": "note"})
    with transaction.atomic():
        task = _locked_task(task_id)
        contest = TaskContest.objects.select_for_update().filter(task=task).first()
        if not can_decide_gate(actor, task.township):
            if can_view_task(actor, task):
                raise PermissionDeniedError("异议由县委县政府办（减负办）处理")
            raise NotFoundError()
        if contest is None:
            raise NotFoundError("该任务没有异议")
        if contest.status != ContestStatus.OPEN:
            raise ServiceError("invalid_state", "该异议已处理")
        if not uphold and not note:
            raise ServiceError("invalid", "驳回异议时请写明理由", {"field": "note"})
        contest.status = ContestStatus.UPHELD if uphold else ContestStatus.DISMISSED
        contest.decided_by = actor
        contest.decided_at = timezone.now()
        contest.decision_note = note[:500]
        contest.save()
        if uphold:
            task.status = TaskStatus.WITHDRAWN
            task.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="task.contest_decide",
            object_type="task",
            object_id=task.pk,
            data={"uphold": uphold, "note": note},
        )
    return contest


# ---- reads -------------------------------------------------------------------------------------------------------


def task_scope(user: Any) -> Q | None:
    """The tasks a user may see: their department's, their township's, their county's (county organs), all (admin)."""
    conds: list[Q] = []
    for g in grants_for(user):
        if g.role == Role.PLATFORM_ADMIN:
            return Q()
        if g.role in COUNTY_READERS:
            conds.append(Q(township__code__startswith=g.unit_prefix))
        elif g.role == Role.DEPARTMENT_STAFF and g.department_id:
            conds.append(Q(department_id=g.department_id))
        elif g.role in TOWNSHIP_ROLES:
            conds.append(Q(township__code__startswith=g.unit_prefix))
    return reduce(or_, conds) if conds else None


def can_view_task(user: Any, task: Task) -> bool:
    scope = task_scope(user)
    return scope is not None and Task.objects.filter(scope, pk=task.pk).exists()


BOXES = ("inbox", "sent", "held", "contested", "all")


def task_list(
    *, user: Any, box: str = "all", status: str = "", township_id: int | None = None, q: str = ""
) -> QuerySet[Task]:
    scope = task_scope(user)
    if scope is None:
        raise PermissionDeniedError("您没有可查看的交办任务")
    qs = Task.objects.filter(scope)
    if box == "inbox":
        qs = qs.filter(status__in=IN_INBOX)
    elif box == "sent":
        qs = qs.filter(department_id__in=member_departments(user))
    elif box == "held":
        qs = qs.filter(status=TaskStatus.HELD)
    elif box == "contested":
        qs = qs.filter(contest__status=ContestStatus.OPEN)
    if status:
        if status not in TaskStatus.values:
            raise ServiceError("invalid", f"状态「{status}」无效", {"field": "status"})
        qs = qs.filter(status=status)
    if township_id:
        qs = qs.filter(township_id=township_id)
    if q:
        qs = qs.filter(title__contains=q)
    return qs.select_related("department", "township", "contest").order_by("-id")


def task_get(*, user: Any, pk: int) -> Task:
    scope = task_scope(user)
    task = (
        Task.objects.filter(scope, pk=pk)
        .select_related(
            "department",
            "township",
            "matched_item",
            "cited_item",
            "duty_list",
            "created_by",
            "decided_by",
        )
        .first()
        if scope is not None
        else None
    )
    if task is None:
        raise NotFoundError()
    return task


def task_extras(task: Task) -> tuple[ResourceGrant | None, TaskContest | None]:
    grant = ResourceGrant.objects.filter(task=task).first()
    contest = TaskContest.objects.filter(task=task).first()
    return grant, contest


def task_actions(user: Any, task: Task, contest: TaskContest | None) -> dict[str, bool]:
    """What the viewer may do on this task, for the page (the services check again)."""
    decide = can_decide_gate(user, task.township)
    return {
        "decide": decide and task.status == TaskStatus.HELD,
        "contest": is_township_member(user, task.township) and task.status in IN_INBOX and contest is None,
        "decide_contest": decide and contest is not None and contest.status == ContestStatus.OPEN,
    }


def sendable_townships(user: Any) -> QuerySet[AdminUnit]:
    prefixes = sorted({g.unit_prefix for g in grants_for(user) if g.role == Role.DEPARTMENT_STAFF})
    if not prefixes:
        return AdminUnit.objects.none()
    cond = reduce(or_, (Q(code__startswith=p) for p in prefixes))
    return AdminUnit.objects.filter(cond, level=Level.TOWNSHIP).order_by("code")


def boxes_for(user: Any) -> list[tuple[str, str]]:
    """The task boxes that make sense for this user's roles, the most useful first. Labels are marked for the
    catalog and translated by the template."""
    roles = {g.role for g in grants_for(user)}
    out: list[tuple[str, str]] = []
    if roles & TOWNSHIP_ROLES:
        out.append(("inbox", gettext_noop("本乡镇承担")))
    if Role.DEPARTMENT_STAFF in roles:
        out.append(("sent", gettext_noop("本部门交办")))
    if roles & {Role.COUNTY_OFFICE, Role.PLATFORM_ADMIN}:
        out += [("held", gettext_noop("待准入审核")), ("contested", gettext_noop("乡镇异议"))]
    out.append(("all", gettext_noop("全部")))
    return out


def default_box(user: Any) -> str:
    return boxes_for(user)[0][0]
