"""Roster import/export pages: thin — parse the request, check permission, call ``imports`` / ``exports``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from .errors import PermissionDeniedError, ServiceError
from .exports import export_workbook, exportable_kinds, template_workbook
from .imports import IMPORT_KINDS, KINDS, ImportFailed, import_file, importable_kinds

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Uploads above this are refused before reading (a 30,000-row resident sheet is about 1.5 MB).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

LABELS = {
    "roster": _("花名册（含多个工作表，一次导入）"),
    "units": _("行政区划"),
    "departments": _("部门"),
    "cadres": _("干部"),
    "residents": _("居民"),
}
SHORT = {"roster": _("全部"), **{k: LABELS[k] for k in KINDS}}


def _choices(kinds: list[str]) -> list[tuple[str, Any]]:
    return [(k, LABELS[k]) for k in IMPORT_KINDS if k in kinds]


@login_required
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    kinds = importable_kinds(request.user)
    if not kinds:
        raise PermissionDenied
    exportable = exportable_kinds(request.user)
    ctx: dict[str, Any] = {
        "kinds": _choices(kinds),
        "templates": [(k, SHORT[k]) for k in ("roster", *KINDS) if k in kinds],
        "exports": [(k, SHORT[k]) for k in ("roster", *KINDS) if k == "roster" or k in exportable],
        "max_rows": getattr(settings, "IMPORT_MAX_ROWS", 200_000),
        "selected": request.POST.get("kind")
        or ("residents" if kinds == ["residents", "roster"] else "roster"),
    }
    status = 200
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        upload = request.FILES.get("file")
        if kind not in kinds:
            ctx["error"] = _("请选择导入内容")
        elif upload is None:
            ctx["error"] = _("请选择要上传的文件")
        elif upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
            ctx["error"] = _("文件超过 50 MB，请拆分后分批导入")
        else:
            try:
                ctx["result"] = import_file(
                    actor=request.user, kind=kind, filename=upload.name or "", data=upload.read()
                )
            except ImportFailed as e:
                ctx["errors"], ctx["truncated"] = e.errors, e.truncated
            except PermissionDeniedError as e:
                raise PermissionDenied from e
            except ServiceError as e:
                ctx["error"] = e.message
        if "error" in ctx or "errors" in ctx:
            status = 400
        ctx["result_labels"] = (
            [(LABELS[k], c) for k, c in ctx["result"].counts.items()] if "result" in ctx else []
        )
    if request.htmx:  # type: ignore[attr-defined]
        # htmx does not swap 4xx responses, so the partial always comes back as 200.
        return render(request, "core/_import_outcome.html", ctx)
    return render(request, "core/import.html", ctx, status=status)


def _xlsx(data: bytes, name: str) -> HttpResponse:
    resp = HttpResponse(data, content_type=XLSX)
    resp["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name) or ""
    resp["Cache-Control"] = "no-store"  # may hold personal data
    return resp


@login_required
@require_GET
def export_view(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in IMPORT_KINDS:
        raise Http404
    allowed = exportable_kinds(request.user)
    if not allowed or (kind != "roster" and kind not in allowed):
        raise PermissionDenied
    data = export_workbook(actor=request.user, kinds=None if kind == "roster" else [kind])
    stamp = timezone.localdate().strftime("%Y%m%d")
    return _xlsx(data, f"共治-导出-{SHORT[kind]}-{stamp}.xlsx")


@login_required
@require_GET
def template_view(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in IMPORT_KINDS:
        raise Http404
    # An empty template holds no data, so any importer may fetch any of them (e.g. to hand on to a township).
    if not importable_kinds(request.user):
        raise PermissionDenied
    return _xlsx(template_workbook(kind), f"共治-导入模板-{SHORT[kind]}.xlsx")
