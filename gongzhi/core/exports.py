"""Roster export to .xlsx, in exactly the sheets and headers the importer reads, so an export re-imports cleanly.

Scoped to what the actor may see (the same prefixes as ``selectors``). National ID numbers are never exported
(only their keyed hash is stored); phone numbers are shown in full only to those who may manage the person.
Written with openpyxl's write-only mode: rows stream into the file instead of building a worksheet in memory.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from gongzhi.engines.idcard import mask_phone

from . import selectors
from .audit import audit_record
from .imports import COLUMNS, DEPT_KIND_EXPORT, KINDS, LEVEL_EXPORT, SHEET_NAMES, importable_kinds
from .models import Position
from .permissions import RESIDENT_READERS, RESIDENT_WRITERS, ROSTER_WRITERS, covers
from .roles import grants_for

# Columns Excel must keep as text (codes lose nothing, IDs keep all 18 digits, leading zeros survive).
_TEXT_COLUMNS = {
    "code",
    "parent",
    "county",
    "unit",
    "department_county",
    "village",
    "household",
    "phone",
    "id_number",
    "username",
}
_WIDTH = {"name": 18, "code": 16, "county": 16, "village": 20, "id_number": 22, "department": 22, "title": 16}
_HEADER_FONT = Font(bold=True)
_ERROR_CODES = frozenset(ERROR_CODES)
_ILLEGAL = ILLEGAL_CHARACTERS_RE
_HEADER_FILL = PatternFill("solid", fgColor="F0F2F5")


def exportable_kinds(actor: Any) -> list[str]:
    """Kinds the actor may export: whoever may import anything may export the tree, departments and cadres in
    their scope (township staff need village codes to fill a resident sheet); residents need a reader role."""
    if not importable_kinds(actor):
        return []
    kinds = ["units", "departments", "cadres"]
    if any(g.role in RESIDENT_READERS for g in grants_for(actor)):
        kinds.append("residents")
    return kinds


def export_workbook(*, actor: Any, kinds: Iterable[str] | None = None) -> bytes:
    wanted = list(kinds) if kinds else list(KINDS)
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown export kind(s): {unknown}")
    allowed = set(exportable_kinds(actor))
    wb = Workbook(write_only=True)
    counts: dict[str, int] = {}
    for kind in KINDS:
        if kind in wanted and kind in allowed:
            ws = _sheet(wb, kind)
            n = 0
            for row in _ROWS[kind](actor):
                ws.append(text_cells(ws, row))
                n += 1
            counts[kind] = n
    if not wb.worksheets:
        ws = wb.create_sheet("说明")
        ws.append(["没有可导出的数据（超出您的查看范围）"])
    data = _save(wb)
    # A bulk copy of personal data leaving the platform is worth a line in the log (who, what, how many rows).
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="roster.export",
            object_type="roster_file",
            object_id=hashlib.sha256(data).hexdigest()[:32],
            data={"rows": counts},
        )
    return data


def _sheet(wb: Workbook, kind: str) -> Any:
    ws = wb.create_sheet(SHEET_NAMES[kind])
    for i, col in enumerate(COLUMNS[kind], start=1):
        dim = ws.column_dimensions[get_column_letter(i)]
        dim.width = _WIDTH.get(col.key, 14)
        if col.key in _TEXT_COLUMNS:
            dim.number_format = "@"
    ws.freeze_panes = "A2"
    header = []
    for col in COLUMNS[kind]:
        cell = WriteOnlyCell(ws, value=col.header)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        header.append(cell)
    ws.append(header)
    return ws


def text_cells(ws: Any, row: Sequence[Any]) -> list[Any]:
    """``row`` for ``ws.append`` (a normal or a write-only sheet) with text kept as text: every export of user text
    goes through here.

    openpyxl writes a string starting with "=" as a live formula (``=HYPERLINK(…)`` shows a link to anywhere,
    ``=WEBSERVICE(…)`` fetches) and "#N/A" and the like as error values. Such strings become string cells instead,
    which Excel and WPS show as typed and never evaluate, so an export re-imports to exactly the same text (no
    apostrophe to strip). Control characters that XML cannot hold, which openpyxl refuses with an exception, are
    dropped. Nothing here writes CSV; a CSV export would also need OWASP's leading-character neutralisation."""
    out = list(row)
    for i, v in enumerate(out):
        if v.__class__ is not str or not v:
            continue
        if _ILLEGAL.search(v):
            v = out[i] = _ILLEGAL.sub("", v)
        if v[:1] == "=" or v in _ERROR_CODES:
            cell = WriteOnlyCell(ws, value=v)
            cell.data_type = "s"
            out[i] = cell
    return out


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _yes(v: bool) -> str:
    return "是" if v else "否"


# Row producers. Empty cells are None rather than "": openpyxl then writes no cell at all (measurably faster).


def _unit_rows(actor: Any) -> Iterable[list[Any]]:
    qs = selectors.unit_list(user=actor).values_list("code", "name", "level", "kind", "parent__code")
    for code, name, level, kind, parent in qs.iterator(chunk_size=5000):
        yield [code, name, LEVEL_EXPORT[level], kind, parent]


def _department_rows(actor: Any) -> Iterable[list[Any]]:
    qs = selectors.department_list(user=actor).values_list("name", "kind", "county__code", "short_name")
    for name, kind, county, short in qs.iterator(chunk_size=5000):
        yield [name, DEPT_KIND_EXPORT.get(kind, kind), county, short or None]


def _position_scope(actor: Any) -> Q:
    """Per position, so a cadre who also holds a post elsewhere is exported only with the posts in scope."""
    scope = selectors.position_scope(user=actor)
    return Q(pk__in=[]) if scope is None else scope


def _cadre_rows(actor: Any) -> Iterable[list[Any]]:
    qs = (
        Position.objects.filter(_position_scope(actor), active=True, cadre__active=True)
        .order_by("cadre_id", "id")
        .values_list(
            "cadre__name",
            "cadre__user__username",
            "cadre__phone",
            "unit__code",
            "department__name",
            "department__county__code",
            "title",
            "is_leader",
        )
    )
    full: dict[str, bool] = {}
    for name, username, phone, unit, dept, county, title, leader in qs.iterator(chunk_size=5000):
        place = unit or county
        if place not in full:
            full[place] = covers(actor, place, ROSTER_WRITERS)
        shown = phone if full[place] or not phone else mask_phone(phone)
        yield [name, username, shown or None, unit, dept, county, title, _yes(leader)]


def _resident_rows(actor: Any) -> Iterable[list[Any]]:
    qs = (
        selectors.resident_list(user=actor)
        .order_by("village__code", "household_no", "id")
        .values_list("name", "village__code", "household_no", "phone", "verified")
    )
    full: dict[str, bool] = {}
    for name, village, household, phone, verified in qs.iterator(chunk_size=5000):
        if village not in full:
            full[village] = covers(actor, village, RESIDENT_WRITERS)
        shown = phone if full[village] or not phone else mask_phone(phone)
        # The ID column stays empty: only a keyed hash is stored, and re-import matches on village, household, name.
        yield [name, village, household or None, shown or None, None, _yes(verified)]


_ROWS = {
    "units": _unit_rows,
    "departments": _department_rows,
    "cadres": _cadre_rows,
    "residents": _resident_rows,
}


def template_workbook(kind: str) -> bytes:
    """An empty workbook to fill in: header rows (with a note on each header) and a sheet 说明 with examples.

    The example rows live on 说明, never on the data sheet, so an unfilled template imports nothing by mistake.
    """
    kinds = list(KINDS) if kind == "roster" else [kind]
    if any(k not in KINDS for k in kinds):
        raise ValueError(f"unknown template kind: {kind}")
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for k in kinds:
        ws = wb.create_sheet(SHEET_NAMES[k])
        for i, col in enumerate(COLUMNS[k], start=1):
            letter = get_column_letter(i)
            cell = ws.cell(row=1, column=i, value=col.header)
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
            note = (
                ("必填。" if col.required else "选填。")
                + col.help
                + (f" 例：{col.example}" if col.example else "")
            )
            cell.comment = Comment(note, "共治")
            ws.column_dimensions[letter].width = _WIDTH.get(col.key, 14)
            if col.key in _TEXT_COLUMNS:
                # Text format from row 2 on, so Excel keeps 12-digit codes and 18-digit IDs exactly as typed.
                for r in range(2, 1002):
                    ws.cell(row=r, column=i).number_format = "@"
        ws.freeze_panes = "A2"
    info = wb.create_sheet("说明")
    info.column_dimensions["A"].width = 14
    info.column_dimensions["B"].width = 24
    info.column_dimensions["C"].width = 8
    info.column_dimensions["D"].width = 60
    info.column_dimensions["E"].width = 20
    info.append(
        [
            "填写说明：第一行为表头（列的顺序不限），从第二行起每行一条记录。导入时全部校验通过才会写入，"
            "任何一行有错都不会写入任何数据，并列出每处错误的工作表、行和列。"
        ]
    )
    for k in kinds:
        info.append([])
        info.append([f"工作表「{SHEET_NAMES[k]}」"])
        info.append(["工作表", "列", "必填", "说明", "示例"])
        for col in COLUMNS[k]:
            info.append([SHEET_NAMES[k], col.header, "是" if col.required else "否", col.help, col.example])
        info.append([f"「{SHEET_NAMES[k]}」示例（复制到该工作表的第二行起）："])
        info.append([col.header for col in COLUMNS[k]])
        info.append([col.example for col in COLUMNS[k]])
    for row in info.iter_rows():
        for cell in row:
            cell.number_format = "@"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
