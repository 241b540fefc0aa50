"""P1 part of the demo county: the county template and every township's duty list (340 items from
``catalog.TEMPLATE_ITEMS``), a 动态调整 history on the demo township, one task per gate outcome, an off-list task
approved with a resource grant and one waiting for the county office, a township objection, and summonses in each
state. Everything goes through the same services a user would call, so the audit log and the rules hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from gongzhi.core.models import AdminUnit, Department, Level, Position, User

from . import catalog, gate, lists, summons
from .listio import ItemData, publish_lists
from .models import DutyList

LIST_START = dt.date(2025, 1, 1)


def _user_in(department: Department, *, leader: bool | None = None) -> User:
    q = Position.objects.filter(department=department, active=True, cadre__active=True)
    if leader is not None:
        q = q.filter(is_leader=leader)
    pos = q.select_related("cadre__user").order_by("id").first()
    if pos is None:
        raise RuntimeError(f"演示数据缺少 {department.name} 的干部")
    return pos.cadre.user


def _items(depts: dict[str, int]) -> list[ItemData]:
    out = []
    for it in catalog.TEMPLATE_ITEMS:
        out.append(
            ItemData(
                category=it.category,
                number=it.number,
                name=it.name,
                content=it.content,
                basis=it.basis,
                lead_department_id=depts.get(it.lead_department),
                assisting_ids=tuple(sorted({depts[a] for a in it.assisting if a in depts})),
                township_part=it.township_part,
                department_part=it.department_part,
                reclaimed_by_id=depts.get(it.reclaimed_by),
                current_practice=it.current_practice,
                power_department_id=depts.get(it.power_department),
            )
        )
    return out


def build(
    *,
    county: AdminUnit,
    system: User,
    leader: User,
    staff: User,
    say: Callable[[str], None] = lambda _m: None,
) -> dict[str, int]:
    """``leader``/``staff`` are the demo township's printed logins; their township gets the worked examples."""
    departments = {d.name: d for d in Department.objects.filter(county=county)}
    ids = {name: d.pk for name, d in departments.items()}
    townships = list(AdminUnit.objects.filter(level=Level.TOWNSHIP, parent=county).order_by("code"))
    items = _items(ids)
    publish_lists(
        actor=system,
        lists=[(county, items), *[(t, items) for t in townships]],
        effective_from=LIST_START,
        note="2025 年版履行职责事项清单",
    )
    say(f"履职事项清单：{len(townships)} 个乡镇各 {len(items)} 项，另有县级模板")

    home = next(t for t in townships if leader.cadre.positions.filter(unit=t).exists())
    base = DutyList.objects.get(owner=home, version=1)

    # 动态调整: one approved change (so the demo township has a v2 and a diff), one waiting for the staffing office.
    staffing = next(d for d in departments.values() if d.kind == "staffing")
    bianban = _user_in(staffing, leader=False)
    first_item = base.items.get(name=catalog.TEMPLATE_ITEMS[0].name)
    done = lists.adjustment_apply(
        actor=leader,
        township_id=home.pk,
        action="change",
        item_lineage=first_item.lineage,
        proposed={
            "category": first_item.category,
            "name": first_item.name,
            "content": first_item.content + "（含网格员日常巡查）",
            "basis": first_item.basis,
            "township_part": first_item.township_part,
        },
        reason="结合网格化管理细化乡镇职责",
    )
    lists.adjustment_decide(
        actor=bianban, adjustment_id=done.pk, approve=True, effective_from=dt.date(2025, 7, 1), note="同意"
    )
    current = gate.current_list(home)
    assert current is not None
    pending_item = current.items.filter(category="basic").order_by("-position").first()
    assert pending_item is not None
    lists.adjustment_apply(
        actor=staff,
        township_id=home.pk,
        action="remove",
        item_lineage=pending_item.lineage,
        reason="该事项所需审批权在县直部门，乡镇无法独立承担，申请调出基本履职事项",
    )

    # One task per gate outcome from the sample set, each sent by a real cadre of the sending department.
    deadline = timezone.localdate() + dt.timedelta(days=30)
    sent: dict[str, list[Any]] = {}
    for sample in catalog.SAMPLE_TASKS:
        if sample.cites or len(sent.get(sample.expected, [])) >= 2:
            continue
        dept = departments.get(sample.department)
        if dept is None:
            continue
        (task,) = gate.task_send(
            actor=_user_in(dept),
            department_id=dept.pk,
            township_ids=[home.pk],
            title=sample.title,
            content=sample.content,
            deadline=deadline,
            expected_hours=8,
        )
        sent.setdefault(task.outcome, []).append(task)
    held = sent.get("held", [])
    office = next(d for d in departments.values() if d.kind == "county_office")
    county_user = _user_in(office, leader=False)
    if held:
        gate.task_decide(
            actor=county_user,
            task_id=held[0].pk,
            approve=True,
            funds="20",
            staff=1,
            powers="",
            note="县级统筹，经费随任务下达",
        )
    admitted = sent.get("admitted", [])
    if len(admitted) > 1:
        gate.task_contest(
            actor=leader, task_id=admitted[1].pk, reason="该任务实为部门日常监管工作，请县级复核"
        )
    say(f"交办任务：{sum(len(v) for v in sent.values())} 个（准入、配合、退回、待县级审核各有示例）")

    # Summonses: one closed and rated, one waiting for the department to report in.
    zhujian = departments["县住房和城乡建设局"]
    zhujian_user = User.objects.filter(username="zhujian").first() or _user_in(zhujian)
    now = timezone.now()
    first = summons.summons_create(
        actor=leader,
        township=home,
        ground="joint_enforcement",
        title="镇区主干道违法加建联合执法",
        description="群众多次反映镇区主干道两侧违法加建，乡镇无执法权，需住建、城管部门到场联合处置。",
        department_ids=[zhujian.pk, departments["县城市管理局"].pk],
        location="镇区主干道",
        now=now - dt.timedelta(days=3),
    )
    for t in first.targets.all():
        user = zhujian_user if t.department_id == zhujian.pk else _user_in(t.department)
        summons.summons_acknowledge(
            actor=user,
            summons_id=first.pk,
            target_id=t.pk,
            now=now - dt.timedelta(days=3) + dt.timedelta(minutes=18),
        )
        summons.summons_report(
            actor=user,
            summons_id=first.pk,
            target_id=t.pk,
            kind="on_site",
            text="已到场核查，下达限期整改通知书",
            now=now - dt.timedelta(days=2),
        )
    summons.summons_close(
        actor=leader, summons_id=first.pk, closing_note="违法加建已拆除", now=now - dt.timedelta(days=1)
    )
    for t in first.targets.all():
        summons.summons_rate(
            actor=leader,
            summons_id=first.pk,
            target_id=t.pk,
            scores={"response_speed": 5, "cooperation": 4, "follow_through": 5},
            comment="响应及时",
            now=now - dt.timedelta(hours=20),
        )
    summons.summons_create(
        actor=leader,
        township=home,
        ground="resident_demand",
        title="老旧小区外墙脱落隐患处置",
        description="居民反映小区外墙瓷砖脱落，存在安全隐患，需住建部门鉴定并督促维修。",
        department_ids=[zhujian.pk],
        location="镇区老旧小区",
        now=now - dt.timedelta(minutes=10),
    )
    say("吹哨报到：2 起（1 起已办结并评价，1 起待部门报到）")
    return {"duty_lists": len(townships) + 1, "tasks": sum(len(v) for v in sent.values()), "summonses": 2}
