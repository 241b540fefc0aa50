"""What each role's home page lists: the things that need this person's attention.

Each pillar adds its own providers to ``PROVIDERS``; until a pillar lands, its section shows an honest empty state.
Providers must stay cheap: the home page is the most requested page. A provider may return several sections, so a
pillar can fetch all of one role's sections in ONE query (see duties/home.py: hand-written SQL, because compiling
ORM querysets cost more CPU than the rest of the page), and should translate with plain ``gettext`` (providers run
inside the request's language; lazy strings cost more to render).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from .models import Role
from .roles import Grant, grants_for
from .urlcache import reverse


@dataclass
class Item:
    text: str
    url: str = ""
    hint: str = ""
    # An optional one-click action (a POST form with a button) right on the home page, so routine answers such as
    # 报到 cost one click instead of open-then-click.
    action: str = ""
    action_label: Any = ""


@dataclass
class Section:
    title: Any  # str or lazy translation
    items: list[Item] = field(default_factory=list)
    empty: Any = field(default_factory=lambda: _("暂无需要您处理的事项"))
    links: list[tuple[Any, str]] = field(default_factory=list)


Provider = Callable[[Any, Grant], Section | list[Section] | None]
PROVIDERS: dict[str, list[Provider]] = {}


def provider(*roles: str) -> Callable[[Provider], Provider]:
    def deco(fn: Provider) -> Provider:
        for r in roles:
            PROVIDERS.setdefault(r, []).append(fn)
        return fn

    return deco


_INTRO = {
    Role.COUNTY_OFFICE: (_("全县统筹"), _("督查检查计划与基层负担指数将在这里汇总。")),
    Role.DEPARTMENT_STAFF: (
        _("本部门事项"),
        _("本部门的年度督查计划将在这里列出。"),
    ),
    Role.TOWNSHIP_LEADER: (_("本乡镇待办"), _("检查安排和居民诉求将在这里列出。")),
    Role.TOWNSHIP_STAFF: (_("我的待办"), _("居民诉求将在这里列出。")),
    Role.VILLAGE_COMMITTEE: (
        _("村（社区）事务"),
        _("居民诉求、村务决策（四议两公开）和公开事项将在这里列出。"),
    ),
    Role.RESIDENT: (_("我的诉求"), _("您提交的诉求、参与的评议和本村公开事项将在这里列出。")),
    Role.ORG_REP: (_("本单位事项"), _("本单位提交的诉求与建议将在这里列出。")),
    Role.ORG_DEPARTMENT: (_("干部评价"), _("民主评议结果、实绩档案和激励事项将在这里列出。")),
    Role.DISCIPLINE: (_("容错纠错"), _("容错申请、事前报备和问责案件将在这里列出。")),
    Role.STAFFING_OFFICE: (_("履职事项清单"), _("乡镇履职事项清单的发布与动态调整申请在这里列出。")),
    Role.PLATFORM_ADMIN: (_("平台管理"), _("基础数据、账号与审计日志。")),
}


def _links(grant: Grant) -> list[tuple[Any, str]]:
    r = grant.role
    links: list[tuple[Any, str]] = []
    if r in (
        Role.COUNTY_OFFICE,
        Role.PLATFORM_ADMIN,
        Role.ORG_DEPARTMENT,
        Role.DISCIPLINE,
        Role.STAFFING_OFFICE,
    ):
        links += [
            (_("行政区划"), reverse("core:units")),
            (_("部门"), reverse("core:departments")),
            (_("干部"), reverse("core:cadres")),
        ]
    if r in (Role.TOWNSHIP_LEADER, Role.TOWNSHIP_STAFF, Role.VILLAGE_COMMITTEE):
        links += [
            (_("辖区"), reverse("core:units")),
            (_("居民"), reverse("core:residents")),
            (_("干部"), reverse("core:cadres")),
        ]
    if r == Role.DEPARTMENT_STAFF:
        links += [(_("本部门干部"), reverse("core:cadres")), (_("乡镇"), reverse("core:units"))]
    if r in (
        Role.COUNTY_OFFICE,
        Role.PLATFORM_ADMIN,
        Role.TOWNSHIP_LEADER,
        Role.TOWNSHIP_STAFF,
        Role.VILLAGE_COMMITTEE,
    ):
        links.append((_("导入导出"), reverse("roster:import")))
    if r in (Role.PLATFORM_ADMIN, Role.DISCIPLINE):
        links.append((_("审计日志"), reverse("core:audit")))
    return links


def home_sections(user: Any) -> list[tuple[Grant, list[Section]]]:
    out: list[tuple[Grant, list[Section]]] = []
    for grant in grants_for(user):
        title, empty = _INTRO[Role(grant.role)]
        sections = [Section(title=title, empty=empty, links=_links(grant))]
        for fn in PROVIDERS.get(grant.role, []):
            s = fn(user, grant)
            if isinstance(s, list):
                sections.extend(s)
            elif s is not None:
                sections.append(s)
        out.append((grant, sections))
    return out
