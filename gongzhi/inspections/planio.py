"""Annual inspection plans as spreadsheets: import from .xlsx / .csv (one row per item) and export to .xlsx.

Import is all or nothing, like the roster and duty list imports: read the file (CPU only, outside any transaction;
``core.imports.check_xlsx`` refuses a zip bomb or a sparse sheet before calamine opens it) → find each sheet's
header row and map its columns (synonyms as departments write them) → check every row, collecting every problem with
sheet, row and column → only when there is none, write each department's draft plan in one transaction (a draft
that exists is replaced by the file; a filed plan is refused: items after filing go one by one, 一事一报).

Export writes the same columns (and three the import ignores: 计划外, 状态, 事项码), user text as string cells
(``core.exports.text_cells``), so an exported plan re-imports to the same items. The format is documented in
docs/import-formats.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gongzhi.core.audit import audit_record
from gongzhi.core.errors import PermissionDeniedError, ServiceError
from gongzhi.core.imports import ImportFailed, RowError, check_xlsx, csv_rows
from gongzhi.core.models import AdminUnit, Department, DepartmentKind, Level

from .models import InspectionItem, InspectionPlan, InspectionTarget, ItemStatus, Kind, Mode, PlanStatus
from .permissions import can_file_for, is_admin
from .plans import (
    ALL_TOWNSHIPS_WORDS,
    MAX_ITEMS,
    CleanItem,
    ItemInput,
    check_year,
    county_townships,
    filing_departments,
    format_materials,
    parse_date,
    target_names,
    validate_item,
)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_TITLE = "年度督查检查考核计划"
ERROR_CAP = 300
HEADER_SCAN_ROWS = 10
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ROWS = 10_000
MAX_COLUMNS = 40


def max_bytes() -> int:
    return int(getattr(settings, "PLAN_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_rows() -> int:
    return int(getattr(settings, "PLAN_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # what the export and the template write
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column(
        "department", "部门", ("部门名称", "报送部门", "实施部门", "牵头部门", "责任部门", "单位", "单位名称")
    ),
    Column("year", "年度", ("计划年度", "年份")),
    Column("seq", "序号", ("编号", "事项序号", "事项编号")),
    Column("kind", "类型", ("类别", "事项类型", "事项类别", "督查检查考核类型", "种类", "督检考类型")),
    Column("comprehensive", "综合性", ("是否综合性", "是否为综合性", "是否综合", "综合性督查", "综合性检查")),
    Column(
        "topic",
        "事项名称",
        (
            "名称",
            "事项",
            "项目名称",
            "督查检查考核事项",
            "检查事项",
            "督查事项",
            "考核事项",
            "检查内容",
            "督查内容",
        ),
    ),
    Column("basis", "依据", ("政策依据", "法律依据", "设立依据", "文件依据", "依据文件", "法规依据")),
    Column(
        "targets",
        "对象乡镇",
        (
            "对象",
            "检查对象",
            "督查对象",
            "考核对象",
            "涉及乡镇",
            "乡镇",
            "对象范围",
            "被检查乡镇",
            "乡镇（街道）",
        ),
    ),
    Column("window_start", "开始日期", ("开始时间", "起始日期", "起始时间", "计划开始时间", "计划开始日期")),
    Column("window_end", "结束日期", ("结束时间", "截止日期", "截止时间", "计划结束时间", "计划结束日期")),
    Column("window", "起止日期", ("起止时间", "时间安排", "实施时间", "计划时间", "时间窗口")),
    Column("mode", "方式", ("检查方式", "督查方式", "考核方式", "实施方式", "开展方式", "是否实地")),
    Column(
        "hours",
        "预计占用乡镇工时（小时/乡镇）",
        (
            "预计占用乡镇工时",
            "乡镇工时",
            "预计工时",
            "占用工时",
            "预计时长",
            "预计时长（小时）",
            "工时（小时）",
        ),
    ),
    Column(
        "materials", "索要材料", ("需乡镇提供的材料", "所需材料", "材料", "材料清单", "索取材料", "报送材料")
    ),
    Column("data_fields", "数据需求", ("需乡镇提供的数据", "数据项", "所需数据", "数据需求项", "报表数据")),
)
EXPORT_ONLY = ("计划外", "状态", "事项码")
REQUIRED = ("kind", "topic", "targets")
HEADERS = {c.key: c.header for c in COLUMNS}
# Service field -> column key, to put a validation problem in its column.
FIELD_COLUMN = {
    "kind": "kind",
    "topic": "topic",
    "basis": "basis",
    "window_start": "window_start",
    "window_end": "window_end",
    "mode": "mode",
    "township_hours": "hours",
    "townships": "targets",
    "materials": "materials",
    "data_fields": "data_fields",
}


def _norm(value: Any) -> str:
    text = unicodedata.normalize("NFKC", str(value if value is not None else ""))
    text = re.sub(r"[\s*※:：]", "", text).lower()
    return re.sub(r"\((必填|选填|可选|必选)\)", "", text)


_ALIASES: dict[str, str] = {_norm(a): c.key for c in COLUMNS for a in (c.header, *c.aliases)}
_IGNORED = {_norm(h) for h in EXPORT_ONLY}


def classify(header: Any) -> str:
    h = _norm(header)
    if not h:
        return ""
    key = _ALIASES.get(h)
    if key is None:
        bare = re.sub(r"\([^)]*\)", "", h)
        key = _ALIASES.get(bare, "")
    return key


# ---- results -----------------------------------------------------------------------------------------------------


@dataclass
class PlanCount:
    plan_id: int
    department: str
    year: int
    items: int
    replaced: int  # items of the draft that the file replaced


@dataclass
class ImportResult:
    file_name: str
    sha256: str
    plans: list[PlanCount]

    def summary(self) -> str:
        parts = [f"{p.department} {p.year} 年度计划 {p.items} 项" for p in self.plans]
        return "；".join(parts) if parts else "文件中没有事项"

    @property
    def items(self) -> int:
        return sum(p.items for p in self.plans)


class _TooMany(Exception):
    pass


class _Errors:
    def __init__(self) -> None:
        self.items: list[RowError] = []

    def add(self, sheet: str, row: int | None, column: str, message: str) -> None:
        self.items.append(RowError(sheet, row, column, message))
        if len(self.items) >= ERROR_CAP:
            raise _TooMany


def _fail(message: str, sheet: str = "", row: int | None = None, column: str = "") -> ImportFailed:
    return ImportFailed([RowError(sheet, row, column, message)])


# ---- reading -----------------------------------------------------------------------------------------------------


@dataclass
class RawSheet:
    name: str
    rows: list[list[Any]]


def _too_many(n: int, sheet: str = "") -> ImportFailed:
    return _fail(f"数据行数（{n:,} 行）超过单次导入上限 {max_rows():,} 行，请拆分后分批导入", sheet=sheet)


def read_book(file_name: str, data: bytes) -> list[RawSheet]:
    limit = max_bytes()
    if len(data) > limit:
        raise _fail(f"文件大小 {len(data) / 1048576:.1f} MB 超过上限 {limit / 1048576:.0f} MB")
    ext = file_name.lower().rsplit(".", 1)[-1] if "." in file_name else ""
    if not data:
        raise _fail("文件为空")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _fail(
            "文件是旧版 .xls 格式或设置了打开密码：请在 Excel/WPS 中取消密码并“另存为” .xlsx 后再导入"
        )
    if ext not in ("xlsx", "csv"):
        if ext in ("xls", "et", "wps", "ods", "xlsb", "xlsm", "numbers"):
            raise _fail(f"不支持 .{ext} 格式：请“另存为” .xlsx 或 .csv 后再导入")
        raise _fail("只支持 Excel 工作簿（.xlsx）和 .csv 文件")
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if ext == "xlsx":
        raise _fail("文件不是有效的 Excel 工作簿（.xlsx）：可能已损坏，或并非 Excel 文件")
    return [_read_csv(data)]


def _read_xlsx(data: bytes) -> list[RawSheet]:
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    cap = max_rows() + HEADER_SCAN_ROWS
    check_xlsx(data, max_bytes=max_bytes(), max_rows=cap, too_many=_too_many, max_columns=MAX_COLUMNS)
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [m.name for m in wb.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    except Exception as e:  # calamine raises several error classes for corrupt or encrypted files
        raise _fail("无法读取该 Excel 文件（可能已损坏或设置了密码）") from e
    out: list[RawSheet] = []
    total = 0
    for name in names:
        try:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as e:
            raise _fail("无法读取该工作表（文件可能已损坏）", sheet=name) from e
        total += len(rows)
        if total > cap * max(1, len(names)):
            raise _too_many(total, name)
        out.append(RawSheet(name, rows))
    return out


def _read_csv(data: bytes) -> RawSheet:
    rows = csv_rows(data, not_text="文件不是文本格式的 CSV（也不是 Excel 工作簿）")
    if len(rows) > max_rows() + HEADER_SCAN_ROWS:
        raise _too_many(len(rows))
    return RawSheet("", rows)


def _blank(row: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


@dataclass
class Sheet:
    name: str
    columns: dict[str, int]  # key -> 0-based index
    headers: dict[str, str]  # key -> header as written
    rows: list[tuple[int, list[Any]]]  # (1-based row number, cells)

    def col(self, key: str) -> str:
        return self.headers.get(key) or HEADERS.get(key, key)


def _header_complete(mapping: dict[str, int]) -> bool:
    has_window = "window" in mapping or ("window_start" in mapping and "window_end" in mapping)
    return all(k in mapping for k in REQUIRED) and has_window


def find_sheets(sheets: list[RawSheet], errors: _Errors) -> list[Sheet]:
    found: list[Sheet] = []
    best: tuple[int, RawSheet, int, dict[str, int]] | None = None
    for raw in sheets:
        seen = 0
        for i, row in enumerate(raw.rows):
            if _blank(row):
                continue
            seen += 1
            if seen > HEADER_SCAN_ROWS:
                break
            mapping: dict[str, int] = {}
            dupes: list[tuple[int, str]] = []
            for j, cell in enumerate(row):
                key = classify(cell)
                if not key:
                    continue
                if key in mapping:
                    dupes.append((j, str(cell).strip()))
                else:
                    mapping[key] = j
            if _header_complete(mapping):
                headers = {k: str(row[j]).strip() for k, j in mapping.items()}
                name = raw.name or "CSV"
                for _j, text in dupes:
                    errors.add(name, i + 1, text, f"与「{headers[classify(text)]}」列重复，请只保留一列")
                body = [(n + 1, r) for n, r in enumerate(raw.rows[i + 1 :], start=i + 1) if not _blank(r)]
                found.append(Sheet(name, mapping, headers, body))
                break
            if best is None or len(mapping) > best[0]:
                best = (len(mapping), raw, i, mapping)
    if not found:
        if best is None or best[0] == 0:
            raise _fail(
                "找不到计划表头：第一行应为列名，至少包括「类型」「事项名称」「对象乡镇」「开始日期」「结束日期」"
                "（或「起止日期」）"
            )
        _, raw, i, mapping = best
        name = raw.name or "CSV"
        for key in REQUIRED:
            if key not in mapping:
                errors.add(name, i + 1, HEADERS[key], f"缺少必填列「{HEADERS[key]}」")
        if "window" not in mapping:
            for key in ("window_start", "window_end"):
                if key not in mapping:
                    errors.add(
                        name, i + 1, HEADERS[key], f"缺少必填列「{HEADERS[key]}」（或用一列「起止日期」填写）"
                    )
    return found


# ---- cell values -------------------------------------------------------------------------------------------------


class CellProblem(ValueError):
    pass


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()[:10]
    return str(v).strip()


_EXCEL_EPOCH = dt.date(1899, 12, 30)


def cell_date(v: Any, label: str) -> dt.date | None:
    """An Excel date cell, a date serial number in a number cell, or text (2026-03-01, 2026年3月1日, 2026.3.1)."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, bool):
        raise CellProblem(f"{label}不应是逻辑值")
    if isinstance(v, int | float):
        if isinstance(v, float) and (not math.isfinite(v) or not v.is_integer()):
            raise CellProblem(f"{label}「{v}」不是日期")
        if 20000 <= v <= 80000:  # 1954 .. 2119 as Excel serials
            return _EXCEL_EPOCH + dt.timedelta(days=int(v))
        raise CellProblem(f"{label}「{_text(v)}」不是日期，应为 2026-03-01 或 2026年3月1日")
    if isinstance(v, dt.timedelta):
        raise CellProblem(f"{label}是时长而不是日期")
    d = parse_date(v)
    if d is None:
        raise CellProblem(f"{label}「{_text(v)}」不是有效日期，应为 2026-03-01 或 2026年3月1日")
    return d


_RANGE_SPLIT = re.compile(r"\s*(?:至|到|~|～|〜|—|–|－)\s*|\s+-\s+")


def cell_window(v: Any) -> tuple[dt.date | None, dt.date | None]:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None, None
    if isinstance(v, dt.date):
        return cell_date(v, "起止日期"), cell_date(v, "起止日期")
    text = unicodedata.normalize("NFKC", str(v)).strip()
    parts = [p for p in _RANGE_SPLIT.split(text) if p.strip()]
    if len(parts) != 2:
        # "2026-03-01-2026-04-30": ISO dates joined by a hyphen.
        m = re.fullmatch(r"(\d{4}-\d{1,2}-\d{1,2})-(\d{4}-\d{1,2}-\d{1,2})", text)
        if m is None:
            raise CellProblem(f"起止日期「{text}」无法识别，应写成 2026-03-01至2026-04-30")
        parts = [m.group(1), m.group(2)]
    start, end = parse_date(parts[0]), parse_date(parts[1])
    if start is None or end is None:
        raise CellProblem(f"起止日期「{text}」无法识别，应写成 2026-03-01至2026-04-30")
    return start, end


_YES = {"是", "y", "yes", "true", "1", "√", "✓", "✔", "综合", "综合性"}
_NO = {"否", "n", "no", "false", "0", "×", "✗", "x", "不是", "非综合", "单项", "专项"}


def cell_bool(v: Any, label: str) -> bool:
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        if v in (0, 1):
            return bool(v)
        raise CellProblem(f"{label}请填写“是”或“否”")
    text = _norm(v)
    if not text:
        return False
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellProblem(f"{label}「{_text(v)}」无效，请填写“是”或“否”")


def cell_hours(v: Any) -> Any:
    if isinstance(v, bool):
        raise CellProblem("预计占用乡镇工时应为数字（小时），不是逻辑值")
    if isinstance(v, dt.date | dt.datetime):
        raise CellProblem("预计占用乡镇工时被识别成了日期，请填写数字（小时）")
    if isinstance(v, str):
        text = unicodedata.normalize("NFKC", v).strip()
        text = re.sub(r"\s*(小时|h|H|个小时)$", "", text)
        return text
    return v


# ---- townships and departments -----------------------------------------------------------------------------------


_ALL_WORDS = {_norm(w) for w in ALL_TOWNSHIPS_WORDS}
_TOWN_SPLIT = re.compile(r"[、，,；;/／\s]+")
_TOWN_SUFFIXES = ("街道办事处", "街道", "镇", "乡")


class Townships:
    """Township names of one county for the 对象乡镇 column: full names, names without 镇/乡/街道, 12-digit codes."""

    def __init__(self, county: AdminUnit) -> None:
        self.county = county
        self.by_id = county_townships(county)
        self.keys: dict[str, int | None] = {}
        for pk, u in self.by_id.items():
            for k in self._variants(u.name):
                if k in self.keys and self.keys[k] != pk:
                    self.keys[k] = None  # two townships share a short name: only the full name works
                else:
                    self.keys.setdefault(k, pk)
            self.keys[u.code] = pk
        for pk, u in self.by_id.items():
            self.keys[_norm(u.name)] = pk

    @staticmethod
    def _variants(name: str) -> list[str]:
        n = _norm(name)
        out = [n]
        for s in _TOWN_SUFFIXES:
            if n.endswith(s) and len(n) > len(s) + 1:
                out.append(n[: -len(s)])
                break
        return out

    def parse(self, value: Any) -> tuple[bool, list[int], list[str], list[str]]:
        """(all townships, ids, unknown names, ambiguous names)."""
        text = _text(value)
        if _norm(text) in _ALL_WORDS:
            return True, [], [], []
        ids: list[int] = []
        unknown: list[str] = []
        ambiguous: list[str] = []
        for token in _TOWN_SPLIT.split(unicodedata.normalize("NFKC", text)):
            token = token.strip()
            if not token:
                continue
            k = _norm(token)
            if k in self.keys:
                pk = self.keys[k]
                if pk is None:
                    ambiguous.append(token)
                else:
                    ids.append(pk)
                continue
            short = next(
                (k[: -len(s)] for s in _TOWN_SUFFIXES if k.endswith(s) and len(k) > len(s) + 1), None
            )
            if short is not None and self.keys.get(short):
                ids.append(self.keys[short])  # type: ignore[arg-type]
            else:
                unknown.append(token)
        return False, ids, unknown, ambiguous


def _dept_key(text: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text))


class Departments:
    """Department names as written in the file, matched against the departments of the counties in reach."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self.admin = is_admin(actor)
        mine = filing_departments(actor)
        counties = {d.county_id for d in mine}
        qs = Department.objects.filter(active=True).select_related("county")
        if not self.admin:
            qs = qs.filter(county_id__in=counties)
        self.keys: dict[str, list[Department]] = defaultdict(list)
        for d in qs:
            for name in {d.name, d.short_name}:
                k = _dept_key(name or "")
                if not k:
                    continue
                self.keys[k].append(d)
                county = d.county.name
                if k.startswith(county) and len(k) > len(county):
                    self.keys[k[len(county) :]].append(d)
                if k[:1] in "县区市" and len(k) > 2:
                    self.keys[k[1:]].append(d)

    def find(self, text: str) -> tuple[Department | None, str]:
        k = _dept_key(text)
        found = {d.pk: d for d in self.keys.get(k, [])}
        if not found and k[:1] not in "县区市":
            found = {d.pk: d for d in self.keys.get("县" + k, [])}
        if not found:
            return None, f"部门「{text}」不存在：请填写本县县直部门的全称"
        if len(found) > 1:
            return None, f"部门「{text}」对应多个部门，请填写全称"
        d = next(iter(found.values()))
        if d.kind != DepartmentKind.FUNCTIONAL:
            return None, f"「{d.name}」不是县直部门，不报送督查检查考核计划"
        if not can_file_for(self.actor, d):
            return None, f"您不能为「{d.name}」报送计划（只能导入本部门的计划）"
        return d, ""


# ---- import ------------------------------------------------------------------------------------------------------


@dataclass
class _Row:
    sheet: Sheet
    number: int
    department: Department
    year: int
    clean: CleanItem


@dataclass
class _Group:
    department: Department
    year: int
    rows: list[_Row] = field(default_factory=list)


def _cell(sheet: Sheet, cells: list[Any], key: str) -> Any:
    j = sheet.columns.get(key)
    if j is None or j >= len(cells):
        return None
    v = cells[j]
    return v.strip() if isinstance(v, str) else v


def _parse_rows(
    sheets: list[Sheet],
    errors: _Errors,
    *,
    actor: Any,
    default_department: Department | None,
    default_year: int | None,
) -> list[_Row]:
    depts = Departments(actor)
    towns: dict[int, Townships] = {}
    out: list[_Row] = []
    for sheet in sheets:
        if "department" not in sheet.columns and default_department is None:
            errors.add(
                sheet.name,
                None,
                HEADERS["department"],
                "文件没有「部门」列：请在页面上选择部门，或加入「部门」列",
            )
            continue
        if "year" not in sheet.columns and default_year is None:
            errors.add(
                sheet.name, None, HEADERS["year"], "文件没有「年度」列：请在页面上填写年度，或加入「年度」列"
            )
            continue
        for number, cells in sheet.rows:
            reported: set[str] = set()

            def err(
                key: str,
                message: str,
                number: int = number,
                sheet: Sheet = sheet,
                reported: set[str] = reported,
            ) -> None:
                reported.add(key)
                errors.add(sheet.name, number, sheet.col(key), message)

            dept = default_department
            raw_dept = _text(_cell(sheet, cells, "department"))
            if raw_dept:
                dept, problem = depts.find(raw_dept)
                if dept is None:
                    err("department", problem)
                    continue
            elif dept is None:
                err("department", "请填写部门")
                continue
            year = default_year
            raw_year = _cell(sheet, cells, "year")
            if _text(raw_year):
                try:
                    year = check_year(re.sub(r"年度?$", "", _text(raw_year)))
                except ServiceError as e:
                    err("year", e.message)
                    continue
            assert year is not None
            t = towns.get(dept.county_id)
            if t is None:
                t = towns[dept.county_id] = Townships(dept.county)
            bad = False
            try:
                comprehensive = cell_bool(_cell(sheet, cells, "comprehensive"), "综合性")
            except CellProblem as e:
                err("comprehensive", str(e))
                comprehensive, bad = False, True
            start = end = None
            start_cell, end_cell = _cell(sheet, cells, "window_start"), _cell(sheet, cells, "window_end")
            if "window" in sheet.columns and not (_text(start_cell) or _text(end_cell)):
                try:
                    start, end = cell_window(_cell(sheet, cells, "window"))
                except CellProblem as e:
                    err("window", str(e))
                    bad = True
            else:
                for key, raw, label in (
                    ("window_start", start_cell, "开始日期"),
                    ("window_end", end_cell, "结束日期"),
                ):
                    try:
                        got = cell_date(raw, label)
                    except CellProblem as e:
                        err(key, str(e))
                        bad = True
                        continue
                    if key == "window_start":
                        start = got
                    else:
                        end = got
            try:
                hours = cell_hours(_cell(sheet, cells, "hours"))
            except CellProblem as e:
                err("hours", str(e))
                hours, bad = 0, True
            everywhere, ids, unknown, ambiguous = t.parse(_cell(sheet, cells, "targets"))
            for name in unknown:
                err("targets", _unknown_township(name, dept.county))
                bad = True
            for name in ambiguous:
                err("targets", f"「{name}」对应多个乡镇，请填写全称")
                bad = True
            data = ItemInput(
                kind=_text(_cell(sheet, cells, "kind")),
                topic=_text(_cell(sheet, cells, "topic")),
                window_start=start,
                window_end=end,
                comprehensive=comprehensive,
                basis=_text(_cell(sheet, cells, "basis")),
                all_townships=everywhere,
                township_ids=ids,
                mode=_text(_cell(sheet, cells, "mode")) or Mode.ONSITE,
                township_hours=hours,
                materials=_text(_cell(sheet, cells, "materials")),
                data_fields=_text(_cell(sheet, cells, "data_fields")),
            )
            clean, problems = validate_item(data, county=dept.county, year=year, townships=t.by_id)
            cell_problems = set(reported)
            for fld, message in problems.items:
                key = FIELD_COLUMN.get(fld, fld)
                if key in ("window_start", "window_end") and key not in sheet.columns:
                    key = "window"
                if key in cell_problems:
                    continue  # the cell's own problem is already listed
                err(key, _row_message(fld, message, start, end))
            if clean is not None and not bad:
                out.append(_Row(sheet, number, dept, year, clean))
    return out


def _row_message(fld: str, message: str, start: Any, end: Any) -> str:
    if fld == "window_start" and start is None and "请填写" in message:
        return "开始日期为空：没有时间窗口的事项无法统筹安排"
    if fld == "window_end" and end is None and "请填写" in message:
        return "结束日期为空：没有时间窗口的事项无法统筹安排"
    return message


def _unknown_township(name: str, county: AdminUnit) -> str:
    k = _norm(name)
    elsewhere = (
        AdminUnit.objects.filter(level=Level.TOWNSHIP, name=name)
        .exclude(code__startswith=county.code[:6])
        .first()
        if k
        else None
    )
    if elsewhere is not None:
        return f"「{name}」不是{county.name}的乡镇，不能列为本县计划的对象"
    return f"乡镇「{name}」不在{county.name}的乡镇名单中，请核对名称（或填写“全部乡镇”）"


def import_plans(
    *,
    actor: Any,
    file_name: str,
    data: bytes,
    year: Any = None,
    department_id: int | None = None,
) -> ImportResult:
    """Import one or more departments' plans from a file. Each (department, year) becomes a draft plan holding
    exactly the file's rows; a draft that exists is replaced, a filed plan is refused. All or nothing."""
    mine = filing_departments(actor)
    if not mine and not is_admin(actor):
        raise PermissionDeniedError("只有县直部门可以导入督查检查考核计划")
    default_department: Department | None = None
    if department_id is not None:
        default_department = Department.objects.select_related("county").filter(pk=department_id).first()
        if default_department is None or not can_file_for(actor, default_department):
            raise PermissionDeniedError("您不能为该部门报送计划")
        if default_department.kind != DepartmentKind.FUNCTIONAL or not default_department.active:
            raise _fail(f"「{default_department.name}」不是在用的县直部门")
    elif len(mine) == 1:
        default_department = mine[0]
    default_year = None
    if year not in (None, ""):
        default_year = check_year(year)
    sha = hashlib.sha256(data).hexdigest()
    sheets = read_book(file_name, data)  # CPU only, before any transaction
    errors = _Errors()
    try:
        found = find_sheets(sheets, errors)
        if errors.items:
            raise ImportFailed(errors.items)
        if sum(len(s.rows) for s in found) == 0:
            raise _fail("文件中没有事项（表头下方为空）")
        with transaction.atomic():
            rows = _parse_rows(
                found, errors, actor=actor, default_department=default_department, default_year=default_year
            )
            groups: dict[tuple[int, int], _Group] = {}
            for r in rows:
                groups.setdefault((r.department.pk, r.year), _Group(r.department, r.year)).rows.append(r)
            existing = {
                (p.department_id, p.year): p
                for p in InspectionPlan.objects.select_for_update(of=("self",))
                .select_related("department")
                .filter(
                    department_id__in={k[0] for k in groups},
                    year__in={k[1] for k in groups},
                )
            }
            for key, g in groups.items():
                plan = existing.get(key)
                first = g.rows[0]
                if plan is not None and plan.status == PlanStatus.FILED:
                    when = timezone.localtime(plan.filed_at).strftime("%Y-%m-%d") if plan.filed_at else ""
                    errors.add(
                        first.sheet.name,
                        first.number,
                        first.sheet.col("department") if "department" in first.sheet.columns else "",
                        f"{g.department.name} {g.year} 年度计划已于 {when} 报送，不能再导入；"
                        "报送后新增的事项请逐项报批（一事一报）",
                    )
                if len(g.rows) > MAX_ITEMS:
                    errors.add(
                        first.sheet.name, None, "", f"{g.department.name}的计划超过 {MAX_ITEMS} 个事项"
                    )
            if errors.items:
                raise ImportFailed(errors.items)
            result = ImportResult(file_name=file_name, sha256=sha, plans=[])
            for key, g in groups.items():
                result.plans.append(_write_group(actor, g, existing.get(key), file_name, sha))
    except _TooMany:
        raise ImportFailed(errors.items, truncated=True) from None
    return result


def _write_group(actor: Any, g: _Group, plan: InspectionPlan | None, file_name: str, sha: str) -> PlanCount:
    replaced = 0
    if plan is None:
        plan = InspectionPlan.objects.create(department=g.department, county=g.department.county, year=g.year)
    else:
        replaced = plan.items.count()
        plan.items.all().delete()
    items = [
        InspectionItem(
            plan=plan, seq=n, status=ItemStatus.PENDING, out_of_plan=False, **r.clean.model_fields()
        )
        for n, r in enumerate(g.rows, start=1)
    ]
    InspectionItem.objects.bulk_create(items, batch_size=500)
    if any(i.pk is None for i in items):  # backends without RETURNING ids
        by_seq = dict(InspectionItem.objects.filter(plan=plan).values_list("seq", "id"))
        for i in items:
            i.pk = by_seq[i.seq]
    targets = [
        InspectionTarget(item_id=i.pk, township_id=t)
        for i, r in zip(items, g.rows, strict=True)
        if not r.clean.all_townships
        for t in r.clean.township_ids
    ]
    InspectionTarget.objects.bulk_create(targets, batch_size=1000)
    audit_record(
        actor=actor,
        action="inspection_plan.import",
        object_type="inspection_plan",
        object_id=plan.pk,
        data={
            "department": g.department.name,
            "year": g.year,
            "file": file_name,
            "sha256": sha,
            "items": len(items),
            "replaced": replaced,
        },
    )
    return PlanCount(plan.pk, g.department.name, g.year, len(items), replaced)


# ---- export ------------------------------------------------------------------------------------------------------

EXPORT_KEYS = (
    "department",
    "year",
    "seq",
    "kind",
    "comprehensive",
    "topic",
    "basis",
    "targets",
    "window_start",
    "window_end",
    "mode",
    "hours",
    "materials",
    "data_fields",
)
_WIDTH = {"department": 20, "topic": 36, "basis": 28, "targets": 24, "materials": 40, "data_fields": 24}
KIND_LABEL: dict[str, str] = {Kind.SUPERVISION: "督查", Kind.INSPECTION: "检查", Kind.ASSESSMENT: "考核"}
MODE_LABEL: dict[str, str] = {Mode.ONSITE: "实地", Mode.REMOTE: "非现场"}


def _item_rows(
    plans: Iterable[InspectionPlan], *, with_codes: Callable[[InspectionPlan], bool]
) -> Iterable[list[Any]]:
    for plan in plans:
        items = list(InspectionItem.objects.filter(plan=plan).order_by("seq"))
        names = target_names(items)
        show_code = with_codes(plan)
        for i in items:
            yield [
                plan.department.name,
                plan.year,
                i.seq,
                KIND_LABEL.get(i.kind, i.kind),
                "是" if i.comprehensive else "否",
                i.topic,
                i.basis or None,
                "全部乡镇" if i.all_townships else "、".join(u.name for u in names[i.pk]),
                i.window_start,
                i.window_end,
                MODE_LABEL.get(i.mode, i.mode),
                float(i.township_hours),
                format_materials(i.materials) or None,
                "、".join(str(d.get("label", "")) for d in i.data_fields) or None,
                "是" if i.out_of_plan else "否",
                i.get_status_display(),
                (i.code if show_code else None) or None,
            ]


def export_plans(plans: Sequence[InspectionPlan], *, with_codes: Callable[[InspectionPlan], bool]) -> bytes:
    """The plans' items in the import's columns (plus 计划外, 状态, 事项码), one row per item."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    from gongzhi.core.exports import text_cells

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_TITLE)
    headers = [HEADERS[k] for k in EXPORT_KEYS] + list(EXPORT_ONLY)
    for n, key in enumerate([*EXPORT_KEYS, "", "", "code"], start=1):
        ws.column_dimensions[get_column_letter(n)].width = _WIDTH.get(key, 12)
    ws.freeze_panes = "A2"
    cells = []
    for h in headers:
        c = WriteOnlyCell(ws, value=h)
        c.font, c.fill = Font(bold=True), PatternFill("solid", fgColor="F0F2F5")
        cells.append(c)
    ws.append(cells)
    for row in _item_rows(plans, with_codes=with_codes):
        out = text_cells(ws, row)
        for idx in (8, 9):  # dates as date cells that Excel shows as dates
            c = WriteOnlyCell(ws, value=row[idx])
            c.number_format = "yyyy-mm-dd"
            out[idx] = c
        ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_workbook() -> bytes:
    """An empty plan with the columns and a sheet of instructions (the importer skips sheets without a header)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_TITLE
    ws.append([HEADERS[k] for k in EXPORT_KEYS])
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("填写说明")
    for line in (
        ("列", "填写方法"),
        ("部门", "县直部门全称；只导入本部门计划时可留空（在页面上选择）"),
        ("年度", "四位年份；可留空（在页面上填写）"),
        ("类型", "督查、检查或考核"),
        ("综合性", "是或否；每个部门每年对同一乡镇最多一次综合性督查检查"),
        ("对象乡镇", "“全部乡镇”，或乡镇名称，用顿号、逗号或分号分隔"),
        (
            "开始日期 / 结束日期",
            "2026-03-01、2026年3月1日、2026.3.1 或 Excel 日期；也可用一列「起止日期」：2026-03-01至2026-04-30",
        ),
        ("方式", "实地，或非现场（线上、书面）"),
        ("预计占用乡镇工时", "每个乡镇预计占用的工作时间（小时）"),
        ("索要材料", "用顿号分隔；有法定依据的写在括号里：现场照片（依据：《安全生产法》第二十二条）"),
        ("数据需求", "需要乡镇提供的数据项，用顿号分隔；已报送“一表通”的数据不会再次向乡镇索要"),
    ):
        notes.append(list(line))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
