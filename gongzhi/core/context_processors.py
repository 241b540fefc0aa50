"""Navigation per role, computed from the user's grants (cached on the user for the request)."""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

# Plain gettext: the language is known at request time, and lazy proxies cost more to render.
from django.utils.translation import gettext as _

from .models import Role
from .permissions import AUDIT_READERS, RESIDENT_READERS, ROSTER_WRITERS
from .roles import STAFF_ROLES, grants_for
from .urlcache import reverse

# Roles that send, receive or oversee tasks and summonses (P1).
TASK_ROLES: set[str] = {
    Role.COUNTY_OFFICE,
    Role.DEPARTMENT_STAFF,
    Role.TOWNSHIP_LEADER,
    Role.TOWNSHIP_STAFF,
    Role.ORG_DEPARTMENT,
    Role.DISCIPLINE,
    Role.STAFFING_OFFICE,
    Role.PLATFORM_ADMIN,
}


@cache
def _head_assets() -> str:
    # Static URLs are fixed for the life of the process (hashed names under the manifest storage).
    from django.templatetags.static import static

    return format_html(
        '<link rel="stylesheet" href="{}">\n  <script src="{}" defer></script>\n  <script src="{}" defer></script>',
        static("gongzhi/app.css"),
        static("django_htmx/htmx-2.min.js"),
        static("gongzhi/app.js"),
    )


@lru_cache(maxsize=4096)
def _nav_html(lang: str, path: str, items: tuple[tuple[str, str], ...]) -> str:
    """The navigation list. It depends only on the role set, the language and the page, so it is built once per
    combination and process instead of by the template on every request."""
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            '<li><a href="{}"{}>{}</a></li>',
            ((url, mark_safe(' aria-current="page"') if url == path else "", label) for label, url in items),
        ),
    )


def navigation(request: HttpRequest) -> dict[str, Any]:
    # The fixed links of base.html, reversed once per process rather than by {% url %} on every page.
    links = {
        "home": reverse("core:home"),
        "set_language": reverse("set_language"),
        "tokens": reverse("core:tokens"),
        "password": reverse("core:password"),
        "logout": reverse("core:logout"),
    }
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": [], "links": links, "head_assets": _head_assets()}
    roles = frozenset(g.role for g in grants_for(user))
    nav, items = _nav(roles, bool(user.is_superuser), get_language())
    return {
        "links": links,
        "nav": nav,
        "nav_html": _nav_html(get_language(), request.path, items),
        "head_assets": _head_assets(),
        "user_grants": grants_for(user),
        "is_resident_only": roles <= {Role.RESIDENT, Role.ORG_REP},
    }


@lru_cache(maxsize=1024)
def _nav(
    roles: frozenset[str], is_superuser: bool, lang: str | None
) -> tuple[tuple[tuple[Any, str, str], ...], tuple[tuple[str, str], ...]]:
    """The navigation entries (label, url, key) for a role set, translated once per language and process."""
    nav: list[tuple[Any, str, str]] = [(_("首页"), reverse("core:home"), "home")]
    if roles & STAFF_ROLES:
        nav.append((_("行政区划"), reverse("core:units"), "units"))
        nav.append((_("部门"), reverse("core:departments"), "departments"))
        nav.append((_("干部"), reverse("core:cadres"), "cadres"))
        nav.append((_("企业与社会组织"), reverse("core:organizations"), "organizations"))
    if roles & STAFF_ROLES:
        nav.append((_("履职清单"), reverse("duties:lists"), "duties"))
    if roles & TASK_ROLES:
        nav.append((_("任务准入"), reverse("tasks:list"), "tasks"))
        nav.append((_("吹哨报到"), reverse("summons:list"), "summons"))
        # P2: annual plans (the township checks codes instead), the data catalog (一表通), joint visits, the ledger.
        if roles & (TASK_ROLES - {Role.TOWNSHIP_LEADER, Role.TOWNSHIP_STAFF}):
            nav.append((_("督查检查考核"), reverse("plans:list"), "plans"))
        else:
            nav.append((_("核验事项码"), reverse("verify:form"), "verify"))
        nav.append((_("一表通"), reverse("catalog:list"), "catalog"))
        nav.append((_("联合督查"), reverse("visits:calendar"), "visits"))
        nav.append((_("减负账本"), reverse("burden:ledger"), "burden"))
    if roles & RESIDENT_READERS:
        nav.append((_("居民"), reverse("core:residents"), "residents"))
    if roles & (ROSTER_WRITERS | RESIDENT_READERS):
        nav.append((_("导入导出"), reverse("roster:import"), "import"))
    if roles & AUDIT_READERS:
        nav.append((_("审计日志"), reverse("core:audit"), "audit"))
    if is_superuser:
        nav.append((_("系统管理"), reverse("admin:index"), "admin"))
    # Tuples: the result is shared by every request with this role set.
    return tuple(nav), tuple((str(label), url) for label, url, _key in nav)
