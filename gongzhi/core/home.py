"""What each role's home page lists: the things that need this person's attention.

Each pillar adds its own providers to ``PROVIDERS``; until a pillar lands, its section shows an honest empty state.
Providers must stay cheap: the home page is the most requested page. A provider may return several sections, so a
pillar can fetch all of one role's sections in ONE query (see duties/home.py: hand-written SQL, because compiling
ORM querysets cost more CPU than the rest of the page), and should translate with plain ``gettext`` (providers run
inside the request's language; lazy strings cost more to render).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .i18n import gettext
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
    Role.COUNTY_OFFICE: (_("全县统筹"), _("行政区划、部门、干部与数据导入导出。")),
    Role.DEPARTMENT_STAFF: (
        _("本部门事项"),
        _("本部门干部与乡镇名录。"),
    ),
    Role.TOWNSHIP_LEADER: (_("本乡镇待办"), _("居民诉求将在这里列出。")),
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


def _links(r: str) -> list[tuple[Any, str]]:
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


@lru_cache(maxsize=256)
def _intro(role: str, lang: str | None) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """The role's first card (title, empty state, links): the same for everyone with that role, so translated
    once per language and process; plain strings render faster than lazy ones."""
    title, empty = _INTRO[Role(role)]
    return str(title), str(empty), tuple((str(label), url) for label, url in _links(role))


def home_sections(user: Any) -> list[tuple[Grant, list[Section]]]:
    out: list[tuple[Grant, list[Section]]] = []
    lang = get_language()
    for grant in grants_for(user):
        title, empty, links = _intro(grant.role, lang)
        sections = [Section(title=title, empty=empty, links=list(links))]
        for fn in PROVIDERS.get(grant.role, []):
            s = fn(user, grant)
            if isinstance(s, list):
                sections.extend(s)
            elif s is not None:
                sections.append(s)
        out.append((grant, sections))
    return out


# ---- rendering ------------------------------------------------------------------------------------------------------
# The body of the home page is built here rather than by a Django template: the template engine's per-node cost
# (variable resolution, loops, {% translate %}) was a quarter of the page's CPU (bench/http.py), and the markup is
# a fixed card grid. Every value goes through _e (the escaping of Django's autoescape: html.escape, except for
# values already marked safe); the page around it is base.html (core/shell.py).


def _e(v: Any) -> str:
    return str(v) if isinstance(v, SafeData) else html.escape(str(v))


def _item_html(it: Item, csrf_token: str) -> str:
    text = f'<a href="{_e(it.url)}">{_e(it.text)}</a>' if it.url else _e(it.text)
    hint = f' <span class="muted">{_e(it.hint)}</span>' if it.hint else ""
    action = (
        f' <form method="post" action="{_e(it.action)}" class="inline-action">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(csrf_token)}">'
        f'<button type="submit" class="primary small">{_e(it.action_label)}</button></form>'
        if it.action
        else ""
    )
    return f"<li>{text}{hint}{action}</li>"


def _card_html(s: Section, csrf_token: str) -> str:
    if s.items:
        body = '<ul class="items">' + "".join(_item_html(it, csrf_token) for it in s.items) + "</ul>"
    else:
        none = gettext("暂无待办。")  # outside the f-string, where makemessages finds it
        body = f'<p class="empty">{_e(none)}{_e(s.empty)}</p>'
    links = (
        '<p class="links">'
        + "".join(f'<a class="chip" href="{_e(url)}">{_e(label)}</a>' for label, url in s.links)
        + "</p>"
        if s.links
        else ""
    )
    return f'\n    <article class="card">\n      <h3>{_e(s.title)}</h3>\n      {body}\n      {links}\n    </article>'


def render_home(user: Any, sections: list[tuple[Grant, list[Section]]], csrf_token: str) -> SafeString:
    """The body of the home page (the ``content`` block of base.html)."""
    # As {% blocktranslate %} does: the translation as is, the value escaped.
    out = ["<h1>", gettext("%(name)s，您好") % {"name": _e(user)}, "</h1>\n"]
    if not sections:
        none = gettext("您的账号尚未分配任何职务。请联系县减负办或平台管理员。")
        out.append(f'<section class="card empty"><p>{_e(none)}</p></section>\n')
    for n, (grant, secs) in enumerate(sections, 1):
        out.append(
            f'<section class="role-block" aria-labelledby="role-{n}">\n  <h2 id="role-{n}">{_e(grant.label)}</h2>\n'
            f'  <div class="grid">{"".join(_card_html(s, csrf_token) for s in secs)}\n  </div>\n</section>\n'
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above went through _e
