"""Duty list import/export pages: thin — parse the request, check permission, call ``listio``.

When the column mapping is unsure the uploaded file is kept server-side under a random token (a file under
``DATA_DIR/duty-imports``, its name never taken from the client), remembered in the uploader's session, and the confirm
page asks for the mapping; the file is deleted after the import or after ``KEEP_SECONDS``.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from gongzhi.core.errors import PermissionDeniedError, ServiceError
from gongzhi.core.models import AdminUnit, Level, Role
from gongzhi.core.roles import grants_for, is_staff_user

from . import listio
from .models import DutyList

FILE_COLUMN = "file"  # the township select's value for "the file has a 乡镇（街道） column"
SESSION_KEY = "duties_io_pending"
KEEP_SECONDS = 2 * 3600
MAX_PENDING = 3
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}\Z")


# --- who may import where ----------------------------------------------------------------------------------------


def manageable_scopes(user: Any) -> list[AdminUnit]:
    """Counties whose lists this user may import; the admin also gets cities and provinces (multi-county loads)."""
    grants = grants_for(user)
    if any(g.role == Role.PLATFORM_ADMIN for g in grants):
        return list(
            AdminUnit.objects.filter(level__in=(Level.PROVINCE, Level.CITY, Level.COUNTY)).order_by("code")
        )
    ids = {g.unit_id for g in grants if g.role == Role.STAFFING_OFFICE and g.unit_id is not None}
    return list(AdminUnit.objects.filter(id__in=ids, level=Level.COUNTY).order_by("code"))


def _township_groups(scopes: list[AdminUnit]) -> list[tuple[AdminUnit, list[AdminUnit]]]:
    counties = [u for u in scopes if u.level == Level.COUNTY]
    if not counties:
        return []
    by_prefix: dict[str, list[AdminUnit]] = {c.code[:6]: [] for c in counties}
    qs = AdminUnit.objects.filter(level=Level.TOWNSHIP).only("id", "code", "name").order_by("code")
    if len(counties) <= 50:
        from django.db.models import Q

        cond = Q()
        for c in counties:
            cond |= Q(code__startswith=c.code[:6])
        qs = qs.filter(cond)
    for t in qs:
        if t.code[:6] in by_prefix:
            by_prefix[t.code[:6]].append(t)
    return [(c, by_prefix[c.code[:6]]) for c in counties]


# --- keeping an upload for the confirm step ---------------------------------------------------------------------


def _store_dir() -> Path:
    # Under the app's private data directory, not a shared /tmp where another account could pre-create it.
    configured = getattr(settings, "DUTY_IMPORT_TMP_DIR", "")
    path = Path(configured) if configured else Path(settings.DATA_DIR) / "duty-imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _purge_old(directory: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for f in directory.glob("*.bin"):
        try:
            if f.stat().st_mtime < cutoff:
                f.unlink()
        except OSError:
            pass


def _keep(request: HttpRequest, data: bytes, meta: dict[str, Any]) -> str:
    directory = _store_dir()
    _purge_old(directory)
    token = secrets.token_urlsafe(32)
    path = directory / f"{token}.bin"
    path.write_bytes(data)
    path.chmod(0o600)
    pending: dict[str, Any] = dict(request.session.get(SESSION_KEY) or {})
    pending[token] = {**meta, "user": request.user.pk, "at": time.time()}
    # Only the newest few uploads of a session are kept.
    for old in sorted(pending, key=lambda k: pending[k]["at"])[:-MAX_PENDING]:
        _forget(request, old, pending)
    request.session[SESSION_KEY] = pending
    return token


def _pending(request: HttpRequest, token: str) -> tuple[dict[str, Any], bytes]:
    if not _TOKEN.match(token):
        raise Http404
    meta = (request.session.get(SESSION_KEY) or {}).get(token)
    if not meta or meta.get("user") != request.user.pk or time.time() - meta["at"] > KEEP_SECONDS:
        raise Http404
    try:
        return meta, (_store_dir() / f"{token}.bin").read_bytes()
    except OSError as e:
        raise Http404 from e


def _forget(request: HttpRequest, token: str, pending: dict[str, Any] | None = None) -> None:
    own = pending is None
    pending = pending if pending is not None else dict(request.session.get(SESSION_KEY) or {})
    pending.pop(token, None)
    if _TOKEN.match(token):
        (_store_dir() / f"{token}.bin").unlink(missing_ok=True)
    if own:
        request.session[SESSION_KEY] = pending


# --- pages -------------------------------------------------------------------------------------------------------


def _form_context(request: HttpRequest, scopes: list[AdminUnit]) -> dict[str, Any]:
    return {
        "scopes": scopes,
        "groups": _township_groups(scopes),
        "file_column": FILE_COLUMN,
        "max_mb": listio.max_file_bytes() // (1024 * 1024),
        "today": timezone.localdate().isoformat(),
        "selected": {
            "county": request.POST.get("county", str(scopes[0].pk) if len(scopes) == 1 else ""),
            "township": request.POST.get("township", ""),
            "effective_from": request.POST.get("effective_from", timezone.localdate().isoformat()),
        },
    }


def _parse_form(request: HttpRequest, scopes: list[AdminUnit]) -> tuple[AdminUnit, AdminUnit | None, date]:
    by_id = {str(u.pk): u for u in scopes}
    county = by_id.get(request.POST.get("county", ""))
    if county is None:
        raise ServiceError("invalid", "请选择县（区）")
    choice = request.POST.get("township", "")
    township: AdminUnit | None = None
    if choice == FILE_COLUMN:
        township = None
    elif choice.isdigit():
        township = AdminUnit.objects.filter(pk=int(choice), level__in=(Level.TOWNSHIP, Level.COUNTY)).first()
        if township is None or not township.code.startswith(county.prefix):
            raise ServiceError("invalid", f"所选乡镇（街道）不在{county.name}范围内")
    else:
        raise ServiceError("invalid", "请选择乡镇（街道），或选择“文件内含乡镇列”")
    try:
        day = date.fromisoformat(request.POST.get("effective_from", ""))
    except ValueError as e:
        raise ServiceError("invalid", "请填写生效日期（YYYY-MM-DD）") from e
    return county, township, day


def _result(request: HttpRequest, result: listio.ImportResult) -> HttpResponse:
    return render(request, "duties/io/result.html", {"result": result})


@login_required
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    scopes = manageable_scopes(request.user)
    if not scopes:
        raise PermissionDenied
    ctx = _form_context(request, scopes)
    if request.method == "GET":
        return render(request, "duties/io/import.html", ctx)
    upload = request.FILES.get("file")
    try:
        county, township, day = _parse_form(request, scopes)
        if upload is None:
            raise ServiceError("invalid", "请选择要上传的文件")
        if upload.size is not None and upload.size > listio.max_file_bytes():
            raise ServiceError("too_large", f"文件超过 {ctx['max_mb']} MB，请拆分后分批导入")
        data = upload.read()
        name = upload.name or ""
        result = listio.import_duty_lists(
            actor=request.user,
            file_name=name,
            data=data,
            county=county,
            township=township,
            effective_from=day,
        )
    except listio.MappingUnsure as e:
        meta = {
            "file_name": name,
            "county": county.pk,
            "township": township.pk if township else None,
            "effective_from": day.isoformat(),
        }
        token = _keep(request, data, meta)
        return _confirm_page(request, token, meta, e.sheets, [], 200)
    except listio.ImportFailed as e:
        ctx.update(errors=e.errors, truncated=e.truncated)
        return render(request, "duties/io/import.html", ctx, status=400)
    except PermissionDeniedError as e:
        raise PermissionDenied from e
    except ServiceError as e:
        ctx["error"] = e.message
        return render(request, "duties/io/import.html", ctx, status=400)
    return _result(request, result)


def _confirm_page(
    request: HttpRequest,
    token: str,
    meta: dict[str, Any],
    sheets: list[listio.SheetGuess],
    errors: list[Any],
    status: int,
    truncated: bool = False,
) -> HttpResponse:
    fields = [("", "不导入")] + [(f.key, f.label) for f in listio.FIELDS]
    categories = [("", "按工作表名称、类别列或分节标题识别")] + [
        (c, listio.CATEGORY_LABELS[c]) for c in listio.CATEGORY_ORDER
    ]
    units = AdminUnit.objects.in_bulk([pk for pk in (meta["county"], meta["township"]) if pk])
    township = units.get(meta["township"]) if meta["township"] else None
    ctx = {
        "token": token,
        "meta": meta,
        "county": units.get(meta["county"]),
        "township": township,
        "sheets": list(enumerate(sheets)),
        "fields": fields,
        "categories": categories,
        "errors": errors,
        "truncated": truncated,
    }
    return render(request, "duties/io/confirm.html", ctx, status=status)


def _mapping_from_post(request: HttpRequest, sheets: list[listio.SheetGuess]) -> dict[str, Any]:
    valid = {f.key for f in listio.FIELDS}
    mapping: dict[str, Any] = {}
    for i, g in enumerate(sheets):
        columns: dict[str, str] = {}
        for c in g.columns:
            value = request.POST.get(f"s{i}-c{c.index}", c.key)
            columns[str(c.index)] = value if value in valid else ""
        category = request.POST.get(f"s{i}-category", "")
        mapping[g.name] = {
            "skip": request.POST.get(f"s{i}-skip") == "1",
            "category": category if category in listio.CATEGORY_LABELS else "",
            "header_row": request.POST.get(f"s{i}-header_row", "") or g.header_row,
            "columns": columns,
        }
    return mapping


@login_required
@require_http_methods(["GET", "POST"])
def confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    if not manageable_scopes(request.user):
        raise PermissionDenied
    meta, data = _pending(request, token)
    try:
        sheets = listio.guess_workbook(listio.read_workbook(meta["file_name"], data))
    except listio.ImportFailed as e:
        _forget(request, token)
        return render(request, "duties/io/import.html", {"errors": e.errors}, status=400)
    if request.method == "GET":
        return _confirm_page(request, token, meta, sheets, [], 200)
    units = AdminUnit.objects.in_bulk([pk for pk in (meta["county"], meta["township"]) if pk])
    county = units.get(meta["county"])
    if county is None:
        raise Http404
    mapping = _mapping_from_post(request, sheets)
    try:
        result = listio.import_duty_lists(
            actor=request.user,
            file_name=meta["file_name"],
            data=data,
            county=county,
            township=units.get(meta["township"]) if meta["township"] else None,
            effective_from=date.fromisoformat(meta["effective_from"]),
            mapping=mapping,
        )
    except listio.ImportFailed as e:
        # Show the page again with the user's choices and what is still wrong.
        sheets = listio.guess_workbook(listio.read_workbook(meta["file_name"], data))
        for g in sheets:
            m = mapping.get(g.name, {})
            g.skip = bool(m.get("skip")) or g.skip
            g.category = m.get("category") or g.category
            for c in g.columns:
                c.key = m.get("columns", {}).get(str(c.index), c.key)
        return _confirm_page(request, token, meta, sheets, e.errors, 400, e.truncated)
    except PermissionDeniedError as e:
        raise PermissionDenied from e
    except ServiceError as e:
        return _confirm_page(request, token, meta, sheets, [listio.RowError("", None, "", e.message)], 400)
    _forget(request, token)
    return _result(request, result)


def _xlsx(data: bytes, name: str) -> HttpResponse:
    resp = HttpResponse(data, content_type=listio.XLSX_MIME)
    resp["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name) or ""
    resp["Cache-Control"] = "no-store"
    return resp


@login_required
@require_GET
def export_view(request: HttpRequest, duty_list_id: int) -> HttpResponse:
    if not is_staff_user(request.user):
        raise PermissionDenied
    dl = DutyList.objects.select_related("owner").filter(pk=duty_list_id).first()
    if dl is None or not listio.can_export_list(request.user, dl):
        raise Http404
    return _xlsx(listio.export_duty_list(dl), f"{dl.owner.name}履职事项清单-第{dl.version}版.xlsx")


@login_required
@require_GET
def template_view(request: HttpRequest) -> HttpResponse:
    if not is_staff_user(request.user):
        raise PermissionDenied
    return _xlsx(listio.template_workbook(), "履职事项清单-导入模板.xlsx")
