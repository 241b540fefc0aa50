"""Navigation per role, computed from the user's grants (cached on the user for the request)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import Role
from .permissions import AUDIT_READERS, RESIDENT_READERS, ROSTER_WRITERS
from .roles import STAFF_ROLES, grants_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    roles = {g.role for g in grants_for(user)}
    nav: list[tuple[Any, str, str]] = [(_("首页"), reverse("core:home"), "home")]
    if roles & STAFF_ROLES:
        nav.append((_("行政区划"), reverse("core:units"), "units"))
        nav.append((_("部门"), reverse("core:departments"), "departments"))
        nav.append((_("干部"), reverse("core:cadres"), "cadres"))
        nav.append((_("企业与社会组织"), reverse("core:organizations"), "organizations"))
    if roles & RESIDENT_READERS:
        nav.append((_("居民"), reverse("core:residents"), "residents"))
    if roles & (ROSTER_WRITERS | RESIDENT_READERS):
        nav.append((_("导入导出"), reverse("roster:import"), "import"))
    if roles & AUDIT_READERS:
        nav.append((_("审计日志"), reverse("core:audit"), "audit"))
    if user.is_superuser:
        nav.append((_("系统管理"), reverse("admin:index"), "admin"))
    return {
        "nav": nav,
        "user_grants": grants_for(user),
        "is_resident_only": roles <= {Role.RESIDENT, Role.ORG_REP},
    }
