"""Server-rendered pages (Django templates + htmx). Thin: parse input, check permission, call services/selectors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.engines.idcard import mask_phone

from . import selectors
from .audit import audit_verify
from .auth import AuthError, otp_request, otp_verify, token_create, token_revoke
from .errors import ServiceError, authenticated_user
from .home import home_sections, render_home
from .i18n import gettext
from .models import ApiToken, AuditEvent, User
from .permissions import RESIDENT_READERS, can_view_audit, is_staff_member
from .roles import grants_for
from .services import password_change
from .shell import csrf_token, render_in_shell

PAGE_SIZE = 50


def _safe_next(request: HttpRequest) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}, require_https=request.is_secure()):
        return nxt
    return reverse("core:home")


def _htmx(request: HttpRequest) -> bool:
    """True for an htmx partial request (django-htmx sets ``request.htmx``)."""
    return bool(getattr(request, "htmx", False))


def _staff_required(request: HttpRequest) -> None:
    if not is_staff_member(request.user):
        raise PermissionDenied


def _page(request: HttpRequest, qs: Any) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request))
    error = ""
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        password = request.POST.get("password", "")
        if not username or not password:
            error = "请输入用户名和密码"
        else:
            user = authenticate(request, username=username, password=password)
            if user is not None:
                login(request, user, backend="gongzhi.core.auth.LockoutModelBackend")
                return redirect(_safe_next(request))
            until = getattr(request, "gongzhi_locked_until", None)
            if until is not None:
                local = timezone.localtime(until).strftime("%H:%M")
                error = f"密码错误次数过多，账号已锁定至 {local}，请稍后再试或联系管理员"
            else:
                error = "用户名或密码不正确"
    return render(
        request,
        "core/login.html",
        {"error": error, "username": username, "next": request.GET.get("next", ""), "tab": "staff"},
        status=400 if error else 200,
    )


@require_POST
def otp_request_view(request: HttpRequest) -> HttpResponse:
    phone = request.POST.get("phone", "").strip()
    ctx: dict[str, Any] = {"phone": phone, "next": request.POST.get("next", ""), "tab": "resident"}
    try:
        otp_request(phone=phone)
        ctx["code_sent"] = True
        ctx["info"] = "如果该号码已登记，验证码已通过短信发送，5 分钟内有效"
        status = 200
    except AuthError as e:
        ctx["error"] = e.message
        ctx["code_sent"] = e.code == "too_soon"
        status = 400 if e.code == "invalid_phone" else 429
    template = "core/_otp_form.html" if _htmx(request) else "core/login.html"
    return render(request, template, ctx, status=status)


@require_POST
def otp_verify_view(request: HttpRequest) -> HttpResponse:
    phone = request.POST.get("phone", "").strip()
    code = request.POST.get("code", "").strip()
    try:
        user = otp_verify(phone=phone, code=code)
    except AuthError as e:
        ctx = {
            "phone": phone,
            "code_sent": True,
            "error": e.message,
            "next": request.POST.get("next", ""),
            "tab": "resident",
        }
        template = "core/_otp_form.html" if _htmx(request) else "core/login.html"
        return render(request, template, ctx, status=400)
    login(request, user, backend="gongzhi.core.auth.LockoutModelBackend")
    target = _safe_next(request)
    if _htmx(request):
        resp = HttpResponse(status=204)
        resp["HX-Redirect"] = target
        return resp
    return redirect(target)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("core:login")


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    # The most requested page: its body is built by home.render_home and put into the shared shell of base.html
    # (shell.py), instead of rendering home.html and base.html through the template engine on every request.
    content = render_home(request.user, home_sections(request.user), csrf_token(request))
    return render_in_shell(request, title=gettext("首页"), content=content)


@login_required
@require_GET
def unit_browser(request: HttpRequest) -> HttpResponse:
    _staff_required(request)
    q = request.GET.get("q", "").strip()
    if q:
        page = _page(request, selectors.unit_list(user=request.user, q=q).select_related("parent"))
        return render(request, "core/units.html", {"page": page, "q": q, "roots": None})
    # Top of the visible tree: the units whose parent the user cannot see.
    visible = selectors.unit_list(user=request.user)
    prefixes = sorted({g.unit_prefix for g in grants_for(request.user)})
    if "" in prefixes:
        roots = visible.filter(parent__isnull=True)
    else:
        roots = visible.filter(code__in=[p.ljust(12, "0") for p in prefixes])
    return render(request, "core/units.html", {"roots": _with_counts(roots), "q": q, "page": None})


def _with_counts(qs: Any) -> list[Any]:
    from django.db.models import Count

    return list(qs.annotate(n_children=Count("children")))


@login_required
@require_GET
def unit_children(request: HttpRequest, code: str) -> HttpResponse:
    _staff_required(request)
    unit = selectors.unit_get(user=request.user, code=code)
    if unit is None:
        raise Http404
    children = _with_counts(selectors.unit_list(user=request.user, parent_code=code))
    return render(request, "core/_unit_children.html", {"unit": unit, "children": children})


@login_required
@require_GET
def department_list_view(request: HttpRequest) -> HttpResponse:
    _staff_required(request)
    return render(
        request,
        "core/departments.html",
        {"page": _page(request, selectors.department_list(user=request.user))},
    )


@login_required
@require_GET
def cadre_list_view(request: HttpRequest) -> HttpResponse:
    _staff_required(request)
    q = request.GET.get("q", "").strip()
    page = _page(request, selectors.cadre_list(user=request.user, q=q))
    positions = selectors.positions_for(list(page.object_list))
    rows = [(c, positions[c.pk]) for c in page.object_list]
    template = "core/_cadre_rows.html" if _htmx(request) else "core/cadres.html"
    return render(request, template, {"page": page, "rows": rows, "q": q})


@login_required
@require_GET
def resident_list_view(request: HttpRequest) -> HttpResponse:
    if not any(g.role in RESIDENT_READERS for g in grants_for(request.user)):
        raise PermissionDenied
    q = request.GET.get("q", "").strip()
    village = request.GET.get("village", "").strip() or None
    page = _page(request, selectors.resident_list(user=request.user, village_code=village, q=q))
    rows = [(r, mask_phone(r.phone) if r.phone else "") for r in page.object_list]
    template = "core/_resident_rows.html" if _htmx(request) else "core/residents.html"
    return render(request, template, {"page": page, "rows": rows, "q": q, "village": village or ""})


@login_required
@require_GET
def organization_list_view(request: HttpRequest) -> HttpResponse:
    _staff_required(request)
    q = request.GET.get("q", "").strip()
    page = _page(request, selectors.organization_list(user=request.user, q=q))
    return render(request, "core/organizations.html", {"page": page, "q": q})


@login_required
@require_http_methods(["GET", "POST"])
def token_list_view(request: HttpRequest) -> HttpResponse:
    new_token = None
    error = ""
    if request.method == "POST":
        try:
            _, new_token = token_create(user=authenticated_user(request), name=request.POST.get("name", ""))
        except AuthError as e:
            error = e.message
    tokens = ApiToken.objects.filter(user=authenticated_user(request)).order_by("-created_at", "-id")[:100]
    return render(
        request,
        "core/tokens.html",
        {"tokens": tokens, "new_token": new_token, "error": error},
        status=400 if error else 200,
    )


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token_revoke(user=authenticated_user(request), token_id=token_id)
    except AuthError as e:
        raise Http404 from e
    messages.success(request, "令牌已撤销")
    return redirect("core:tokens")


@login_required
@require_http_methods(["GET", "POST"])
def password_view(request: HttpRequest) -> HttpResponse:
    user: User = authenticated_user(request)
    if not user.has_usable_password():
        messages.info(request, "您使用手机验证码登录，无需设置密码")
        return redirect("core:home")
    error = ""
    if request.method == "POST":
        new1, new2 = request.POST.get("new_password1", ""), request.POST.get("new_password2", "")
        if new1 != new2:
            error = "两次输入的新密码不一致"
        else:
            try:
                password_change(
                    user=user, old_password=request.POST.get("old_password", ""), new_password=new1
                )
            except ServiceError as e:
                error = e.message
            else:
                from django.contrib.auth import update_session_auth_hash

                update_session_auth_hash(request, user)
                messages.success(request, "密码已修改")
                return redirect("core:home")
    return render(request, "core/password.html", {"error": error}, status=400 if error else 200)


@login_required
@require_GET
def audit_view(request: HttpRequest) -> HttpResponse:
    if not can_view_audit(request.user):
        raise PermissionDenied
    page = _page(request, AuditEvent.objects.order_by("-seq"))
    problem = audit_verify() if request.GET.get("verify") else None
    return render(
        request,
        "core/audit.html",
        {"page": page, "verified": bool(request.GET.get("verify")), "problem": problem},
    )


def bench_bare(request: HttpRequest) -> HttpResponse:
    """The baseline for bench/http.py: a bare Django view through the same middleware stack and server."""
    return HttpResponse("ok", content_type="text/plain")
