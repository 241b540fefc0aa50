"""What each role's home page lists: the things that need this person's attention.

Each pillar adds its own providers to ``PROVIDERS``; until a pillar lands, its section shows an honest empty state.
Providers must stay cheap (one or two indexed queries): the home page is the most requested page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from .models import Role
from .roles import Grant, grants_for


@dataclass
class Item:
    text: str
    url: str = ""
    hint: str = ""


@dataclass
class Section:
    title: str
    items: list[Item] = field(default_factory=list)
    empty: str = "暂无需要您处理的事项"
    links: list[tuple[str, str]] = field(default_factory=list)


Provider = Callable[[Any, Grant], Section | None]
PROVIDERS: dict[str, list[Provider]] = {}


def provider(*roles: str) -> Callable[[Provider], Provider]:
    def deco(fn: Provider) -> Provider:
        for r in roles:
            PROVIDERS.setdefault(r, []).append(fn)
        return fn

    return deco


_INTRO = {
    Role.COUNTY_OFFICE: ("全县统筹", "任务准入申请、督查检查计划与基层负担指数将在这里汇总。"),
    Role.DEPARTMENT_STAFF: ("本部门事项", "本部门交办任务的准入结果、吹哨报到和年度督查计划将在这里列出。"),
    Role.TOWNSHIP_LEADER: ("本乡镇待办", "上级交办任务、吹哨报到、检查安排和居民诉求将在这里列出。"),
    Role.TOWNSHIP_STAFF: ("我的待办", "分派给您的任务和居民诉求将在这里列出。"),
    Role.VILLAGE_COMMITTEE: ("村（社区）事务", "居民诉求、村务决策（四议两公开）和公开事项将在这里列出。"),
    Role.RESIDENT: ("我的诉求", "您提交的诉求、参与的评议和本村公开事项将在这里列出。"),
    Role.ORG_REP: ("本单位事项", "本单位提交的诉求与建议将在这里列出。"),
    Role.ORG_DEPARTMENT: ("干部评价", "民主评议结果、实绩档案和激励事项将在这里列出。"),
    Role.DISCIPLINE: ("容错纠错", "容错申请、事前报备和问责案件将在这里列出。"),
    Role.PLATFORM_ADMIN: ("平台管理", "基础数据、账号与审计日志。"),
}


def _links(grant: Grant) -> list[tuple[str, str]]:
    r = grant.role
    links: list[tuple[str, str]] = []
    if r in (Role.COUNTY_OFFICE, Role.PLATFORM_ADMIN, Role.ORG_DEPARTMENT, Role.DISCIPLINE):
        links += [
            ("行政区划", reverse("core:units")),
            ("部门", reverse("core:departments")),
            ("干部", reverse("core:cadres")),
        ]
    if r in (Role.TOWNSHIP_LEADER, Role.TOWNSHIP_STAFF, Role.VILLAGE_COMMITTEE):
        links += [
            ("辖区", reverse("core:units")),
            ("居民", reverse("core:residents")),
            ("干部", reverse("core:cadres")),
        ]
    if r == Role.DEPARTMENT_STAFF:
        links += [("本部门干部", reverse("core:cadres")), ("乡镇", reverse("core:units"))]
    if r in (
        Role.COUNTY_OFFICE,
        Role.PLATFORM_ADMIN,
        Role.TOWNSHIP_LEADER,
        Role.TOWNSHIP_STAFF,
        Role.VILLAGE_COMMITTEE,
    ):
        links.append(("导入导出", reverse("roster:import")))
    if r in (Role.PLATFORM_ADMIN, Role.DISCIPLINE):
        links.append(("审计日志", reverse("core:audit")))
    return links


def home_sections(user: Any) -> list[tuple[Grant, list[Section]]]:
    out: list[tuple[Grant, list[Section]]] = []
    for grant in grants_for(user):
        title, empty = _INTRO[Role(grant.role)]
        sections = [Section(title=title, empty=empty, links=_links(grant))]
        for fn in PROVIDERS.get(grant.role, []):
            s = fn(user, grant)
            if s is not None:
                sections.append(s)
        out.append((grant, sections))
    return out
