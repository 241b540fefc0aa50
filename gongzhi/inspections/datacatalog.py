"""一表通 / 一数一源: the county's data catalog. Services and selectors.

The county office defines *entries* (a data set with a period and typed fields); a township submits an entry's values
once per period (submitting the same period again corrects it; the audit log keeps the digest of what it replaced);
departments subscribe to entries and read what the townships of their county submitted. The review engine asks
``held_fields(county)`` which values each township already gave, so an inspection's data request is met by a
reference (``{"entry": id, "field": key}``) instead of a new form; ``resolve(ref, township)`` shows the value behind
such a reference.

Who reads what:
- entries: staff of the county (township cadres, department staff, the county office and organs);
- values: the county office and organs all townships; a department the entries it subscribes to (or keeps); a
  township only its own submissions.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import reduce
from operator import or_
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from gongzhi.core.audit import audit_record
from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.core.models import AdminUnit, Department, DepartmentKind, Level, Role
from gongzhi.core.roles import grants_for
from gongzhi.engines.auditchain import digest

from .models import CatalogEntry, CatalogSubscription, DataSubmission, Period
from .permissions import COUNTY_READERS, TOWNSHIP_ROLES, can_manage_county

# Field value types. Units alone do not decide: "户" is a count, "元" may carry cents.
FIELD_TYPES = {"integer": "整数", "decimal": "数值", "text": "文本"}
TYPE_BY_LABEL = {v: k for k, v in FIELD_TYPES.items()} | {"数字": "decimal", "小数": "decimal"}
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 100
MAX_NAME, MAX_DESCRIPTION, MAX_LABEL, MAX_UNIT, MAX_TEXT = 100, 300, 40, 12, 500
# Beyond any real count or amount of a county (and within a float's exact integers for the .xlsx export).
MAX_ABS = Decimal("1e15")
MAX_DECIMALS = 4
CATALOG_ROLES: set[str] = TOWNSHIP_ROLES | {Role.DEPARTMENT_STAFF} | COUNTY_READERS


# ---- fields and periods ------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()


def normalize_fields(raw: Any) -> list[dict[str, Any]]:
    """Validate an entry's field list: [{key, label, unit, type, required}]. Keys are what references store, so they
    are plain identifiers; labels are what review matches against a department's data request."""
    if not isinstance(raw, list) or not raw:
        raise ServiceError("invalid", "请至少定义一个字段", {"field": "fields"})
    if len(raw) > MAX_FIELDS:
        raise ServiceError("invalid", f"一个数据集最多 {MAX_FIELDS} 个字段，请拆分", {"field": "fields"})
    out: list[dict[str, Any]] = []
    keys: set[str] = set()
    labels: set[str] = set()
    for n, f in enumerate(raw, start=1):
        if not isinstance(f, Mapping):
            raise ServiceError("invalid", f"第 {n} 个字段格式不正确", {"field": "fields", "row": n})
        label = _text(f.get("label"))
        unit = _text(f.get("unit"))
        key = _text(f.get("key")) or f"f{n}"
        ftype = _text(f.get("type")) or ("integer" if unit else "text")
        ftype = TYPE_BY_LABEL.get(ftype, ftype)
        if not label:
            raise ServiceError("invalid", f"第 {n} 个字段缺少名称", {"field": "fields", "row": n})
        if len(label) > MAX_LABEL or len(unit) > MAX_UNIT:
            raise ServiceError(
                "invalid",
                f"第 {n} 个字段「{label[:MAX_LABEL]}」：名称不超过 {MAX_LABEL} 字，单位不超过 {MAX_UNIT} 字",
                {"field": "fields", "row": n},
            )
        if not KEY_RE.match(key):
            raise ServiceError(
                "invalid",
                f"第 {n} 个字段「{label}」的标识「{key}」无效：须以小写字母开头，只含小写字母、数字和下划线",
                {"field": "fields", "row": n},
            )
        if ftype not in FIELD_TYPES:
            raise ServiceError(
                "invalid",
                f"第 {n} 个字段「{label}」的类型「{ftype}」无效，应为整数、数值或文本",
                {"field": "fields", "row": n},
            )
        if key in keys or label in labels:
            raise ServiceError(
                "invalid", f"第 {n} 个字段「{label}」与前面的字段重名", {"field": "fields", "row": n}
            )
        keys.add(key)
        labels.add(label)
        out.append(
            {
                "key": key,
                "label": label,
                "unit": unit,
                "type": ftype,
                "required": bool(f.get("required", True)),
            }
        )
    return out


def parse_field_lines(text: str) -> list[dict[str, Any]]:
    """The form's field box: one field per line, ``名称 | 单位 | 类型 | 标识`` (all but the name optional), e.g.
    ``常住人口 | 人 | 整数``. Blank lines are skipped."""
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        parts = [p.strip() for p in re.split(r"[|｜]", line)]
        if not any(parts):
            continue
        parts += [""] * (4 - len(parts))
        label, unit, ftype, key = parts[:4]
        out.append({"label": label, "unit": unit, "type": ftype, "key": key})
    return out


def field_lines(fields: Iterable[Mapping[str, Any]]) -> str:
    return "\n".join(
        f"{f['label']} | {f.get('unit', '')} | {FIELD_TYPES.get(f.get('type', 'text'), '文本')} | {f['key']}"
        for f in fields
    )


def due_period(period: str, today: dt.date | None = None) -> str:
    """The period whose data a township owes now. A quarterly or monthly data set is due for the period just
    ended (in November, 2026Q3 and 2026-10: a quarter's figures exist only once it is over); a yearly one holds
    standing figures (population, farmland, schools) given once for the year in progress; a one-off set once."""
    d = today or timezone.localdate()
    if period == Period.QUARTER:
        q = (d.month - 1) // 3
        return f"{d.year}Q{q}" if q else f"{d.year - 1}Q4"
    if period == Period.MONTH:
        return f"{d.year}-{d.month - 1:02d}" if d.month > 1 else f"{d.year - 1}-12"
    return current_period(period, d)


def current_period(period: str, today: dt.date | None = None) -> str:
    """The period in progress: the latest a township may give (early, or to update a due period's figures)."""
    d = today or timezone.localdate()
    if period == Period.ONCE:
        return "once"
    if period == Period.QUARTER:
        return f"{d.year}Q{(d.month - 1) // 3 + 1}"
    if period == Period.MONTH:
        return f"{d.year}-{d.month:02d}"
    return str(d.year)


_PERIOD_RE = {
    Period.YEAR: re.compile(r"^(\d{4})$"),
    Period.QUARTER: re.compile(r"^(\d{4})Q([1-4])$"),
    Period.MONTH: re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
}
_PERIOD_HINT = {Period.YEAR: "2026", Period.QUARTER: "2026Q1", Period.MONTH: "2026-03"}


def check_period(period: str, value: Any, today: dt.date | None = None) -> str:
    """The canonical period string for an entry of kind ``period``; a future period is refused (data about a period
    cannot be given before it starts)."""
    text = _text(value).upper().replace("－", "-")
    if period == Period.ONCE:
        if text not in ("", "ONCE"):
            raise ServiceError("invalid", "该数据集只报送一次，不分期别", {"field": "period"})
        return "once"
    pat = _PERIOD_RE[Period(period)]
    m = pat.match(text)
    if not m or not 2000 <= int(m.group(1)) <= 2100:
        raise ServiceError(
            "invalid",
            f"期别「{_text(value)[:20]}」格式不正确，应为 {_PERIOD_HINT[Period(period)]} 这样的格式",
            {"field": "period"},
        )
    if text > current_period(period, today):
        raise ServiceError("invalid", f"期别 {text} 尚未开始，不能提前报送", {"field": "period"})
    return text


def clean_value(field: Mapping[str, Any], raw: Any) -> Any:
    """One field's value, typed: int for integers, a canonical decimal string for decimals (exact in JSON), text.
    ``None`` for a blank optional field. Full-width digits and thousands separators are accepted."""
    label = field["label"]
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if field.get("required", True):
            raise ServiceError("invalid", f"请填写「{label}」", {"field": field["key"]})
        return None
    if field.get("type") == "text":
        text = _text(raw)
        if len(text) > MAX_TEXT:
            raise ServiceError("invalid", f"「{label}」不能超过 {MAX_TEXT} 字", {"field": field["key"]})
        return text
    if isinstance(raw, bool):
        raise ServiceError("invalid", f"「{label}」须为数字", {"field": field["key"]})
    text = _text(raw).replace(",", "").replace(" ", "")
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        number = None
    unit = f"（{field['unit']}）" if field.get("unit") else ""
    if number is None or not number.is_finite():
        kind = "整数" if field.get("type") == "integer" else "数字"
        raise ServiceError(
            "invalid", f"「{label}」须为{kind}{unit}，不能是「{_text(raw)[:20]}」", {"field": field["key"]}
        )
    if abs(number) >= MAX_ABS:
        raise ServiceError("invalid", f"「{label}」数值过大，请核对", {"field": field["key"]})
    if field.get("type") == "integer":
        if number != number.to_integral_value():
            raise ServiceError("invalid", f"「{label}」须为整数{unit}", {"field": field["key"]})
        return int(number)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
        raise ServiceError("invalid", f"「{label}」最多保留 {MAX_DECIMALS} 位小数", {"field": field["key"]})
    return format(number.normalize(), "f") if number != 0 else "0"


def clean_values(entry: CatalogEntry, raw: Mapping[str, Any]) -> dict[str, Any]:
    """All fields at once: every error is collected so the form can mark each field; unknown keys are refused."""
    fields = entry.fields or []
    known = {f["key"] for f in fields}
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        raise ServiceError(
            "invalid",
            f"「{entry.name}」没有这些字段：{'、'.join(unknown[:5])}",
            {"field": "values", "unknown": unknown[:20]},
        )
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        try:
            v = clean_value(f, raw.get(f["key"]))
        except ServiceError as e:
            errors[f["key"]] = e.message
            continue
        if v is not None:
            out[f["key"]] = v
    if errors:
        first = next(iter(errors.values()))
        more = f"（另有 {len(errors) - 1} 处）" if len(errors) > 1 else ""
        raise ServiceError("invalid", f"{first}{more}", {"field": "values", "errors": errors})
    return out


# ---- scope -------------------------------------------------------------------------------------------------------


def _county_prefixes(user: Any) -> set[str]:
    """County prefixes ('' = all) where the user reads the catalog."""
    return {g.unit_prefix[:6] for g in grants_for(user) if g.role in CATALOG_ROLES}


def catalog_counties(user: Any) -> list[AdminUnit]:
    prefixes = _county_prefixes(user)
    if not prefixes:
        return []
    qs = AdminUnit.objects.filter(level=Level.COUNTY).order_by("code")
    if "" in prefixes:
        return list(qs)
    return list(qs.filter(reduce(or_, (Q(code__startswith=p) for p in prefixes))))


def managed_counties(user: Any) -> list[AdminUnit]:
    return [c for c in catalog_counties(user) if can_manage_county(user, c)]


def _entry_scope(user: Any) -> Q | None:
    prefixes = _county_prefixes(user)
    if not prefixes:
        return None
    if "" in prefixes:
        return Q()
    return reduce(or_, (Q(county__code__startswith=p) for p in sorted(prefixes)))


def my_townships(user: Any, county: AdminUnit | None = None) -> list[AdminUnit]:
    """Townships the user submits for (township leader or staff), within ``county`` when given."""
    ids = {g.unit_id for g in grants_for(user) if g.role in TOWNSHIP_ROLES and g.unit_id is not None}
    if not ids:
        return []
    qs = AdminUnit.objects.filter(pk__in=ids, level=Level.TOWNSHIP).order_by("code")
    if county is not None:
        qs = qs.filter(code__startswith=county.code[:6])
    return list(qs)


def my_departments(user: Any, county: AdminUnit) -> list[tuple[int, str]]:
    """(id, name) of the functional departments of ``county`` the user works in."""
    return sorted(
        {
            (g.department_id, g.department_name)
            for g in grants_for(user)
            if g.role == Role.DEPARTMENT_STAFF and g.department_id and county.code.startswith(g.unit_prefix)
        }
    )


def department_ids(user: Any) -> set[int]:
    return {g.department_id for g in grants_for(user) if g.role == Role.DEPARTMENT_STAFF and g.department_id}


def reads_all_values(user: Any, county: AdminUnit) -> bool:
    return any(g.role in COUNTY_READERS and county.code.startswith(g.unit_prefix) for g in grants_for(user))


# ---- selectors ---------------------------------------------------------------------------------------------------


def entry_list(*, user: Any, county: AdminUnit | None = None, q: str = "", active: bool | None = True) -> Any:
    """Entries the user may read, with the number of townships that submitted and whether one of the user's
    departments subscribes (``n_townships``, ``subscribed``)."""
    scope = _entry_scope(user)
    if scope is None:
        raise PermissionDeniedError("您没有查看一表通数据集的权限")
    qs = CatalogEntry.objects.filter(scope)
    if county is not None:
        qs = qs.filter(county=county)
    if active is not None:
        qs = qs.filter(active=active)
    if q:
        qs = qs.filter(name__contains=q.strip()[:50])
    depts = department_ids(user)
    return (
        qs.select_related("county", "owner_department")
        .annotate(
            n_townships=Count("submissions__township", distinct=True),
            subscribed=Exists(
                CatalogSubscription.objects.filter(entry=OuterRef("pk"), department_id__in=depts)
            ),
        )
        .order_by("county__code", "name")
    )


def entry_get(*, user: Any, pk: int) -> CatalogEntry:
    scope = _entry_scope(user)
    entry = (
        CatalogEntry.objects.filter(scope, pk=pk).select_related("county", "owner_department").first()
        if scope is not None
        else None
    )
    if entry is None:
        raise NotFoundError("数据集不存在或无权查看")
    return entry


def subscribed_departments(user: Any, entry: CatalogEntry) -> set[int]:
    """The user's departments that read this entry's values: subscribers and the keeping department."""
    mine = {d for d, _n in my_departments(user, entry.county)}
    if not mine:
        return set()
    subs = set(
        CatalogSubscription.objects.filter(entry=entry, department_id__in=mine).values_list(
            "department_id", flat=True
        )
    )
    if entry.owner_department_id in mine:
        subs.add(entry.owner_department_id)
    return subs


def can_read_values(user: Any, entry: CatalogEntry) -> bool:
    """All townships' values of an entry: county readers, and departments that subscribe to it (or keep it)."""
    return reads_all_values(user, entry.county) or bool(subscribed_departments(user, entry))


def entry_periods(entry: CatalogEntry) -> list[str]:
    return list(
        DataSubmission.objects.filter(entry=entry)
        .order_by("-period")
        .values_list("period", flat=True)
        .distinct()
    )


@dataclass
class ValueRow:
    township_id: int
    township_code: str
    township_name: str
    period: str | None
    values: dict[str, Any]
    submitted_at: dt.datetime | None


def township_values(
    *, user: Any, entry: CatalogEntry, period: str = "", missing: bool = True
) -> list[ValueRow]:
    """Values per township of the entry's county: the given period, or each township's newest one. With
    ``missing`` the townships that have not submitted are listed too (empty), so gaps are visible."""
    if not can_read_values(user, entry):
        if my_departments(user, entry.county):
            raise PermissionDeniedError("订阅该数据集后才能查看各乡镇报送的数据")
        raise PermissionDeniedError("您没有查看各乡镇报送数据的权限")
    qs = DataSubmission.objects.filter(entry=entry)
    if period:
        qs = qs.filter(period=period)
    newest: dict[int, tuple[str, dict[str, Any], dt.datetime]] = {}
    for tid, p, values, at in qs.order_by("township_id", "-period").values_list(
        "township_id", "period", "values", "submitted_at"
    ):
        newest.setdefault(tid, (p, values, at))
    townships = AdminUnit.objects.filter(level=Level.TOWNSHIP, code__startswith=entry.county.code[:6])
    if not missing:
        townships = townships.filter(pk__in=list(newest))
    rows: list[ValueRow] = []
    for tid, code, name in townships.order_by("code").values_list("pk", "code", "name"):
        found = newest.get(tid)
        rows.append(
            ValueRow(
                tid,
                code,
                name,
                found[0] if found else None,
                found[1] if found else {},
                found[2] if found else None,
            )
        )
    return rows


def last_submission(entry: CatalogEntry, township: AdminUnit) -> DataSubmission | None:
    return DataSubmission.objects.filter(entry=entry, township=township).order_by("-period").first()


# The county's active entries that a department subscribes to and whose due period (``due_period``) a township has
# not given yet: what its home page reminds it of. Hand-written: it runs on every township home page, and building
# the ORM version (two correlated subqueries, one OR branch per period kind) cost several milliseconds of Python per
# request (bench/http.py). The township home (visit_home.py) runs it as one branch of a UNION ALL, hence the split
# into FROM/WHERE and parameters.
OWED_FROM_WHERE = """
FROM inspections_catalogentry e
JOIN core_adminunit c ON c.id = e.county_id
WHERE c.code LIKE %s AND e.active
  AND EXISTS (SELECT 1 FROM inspections_catalogsubscription s WHERE s.entry_id = e.id)
  AND NOT EXISTS (
    SELECT 1 FROM inspections_datasubmission d
    WHERE d.entry_id = e.id AND d.township_id = %s
      AND d.period = CASE e.period WHEN 'once' THEN %s WHEN 'year' THEN %s WHEN 'quarter' THEN %s ELSE %s END
  )
ORDER BY e.name, e.id
"""


def owed_params(township_id: int, county_prefix: str, today: dt.date | None = None) -> list[Any]:
    """The parameters of ``OWED_FROM_WHERE``, in order."""
    due = [due_period(p, today) for p in (Period.ONCE, Period.YEAR, Period.QUARTER, Period.MONTH)]
    return [county_prefix[:6] + "%", township_id, *due]


def own_submissions(*, user: Any, entry: CatalogEntry, township: AdminUnit) -> QuerySet[DataSubmission]:
    if not (
        _is_member(user, township)
        or reads_all_values(user, entry.county)
        or subscribed_departments(user, entry)
    ):
        raise NotFoundError()
    return DataSubmission.objects.filter(entry=entry, township=township).order_by("-period")


def _is_member(user: Any, township: AdminUnit) -> bool:
    return any(
        g.role in TOWNSHIP_ROLES and township.code.startswith(g.unit_prefix) for g in grants_for(user)
    ) or any(g.role == Role.PLATFORM_ADMIN for g in grants_for(user))


# ---- what the review engine and the item pages use ---------------------------------------------------------------


def held_fields(county: AdminUnit) -> dict[str, dict[str, dict[str, Any]]]:
    """``{township_code: {label: {"entry": id, "entry_name": ..., "field": key, "period": ...}}}``: for every
    township of ``county``, each field label it has already given a value for in an active entry (its newest
    period). When two entries carry the same label, the more recent submission wins. Two queries."""
    entries = {
        pk: (name, {f["key"]: f["label"] for f in fields or []})
        for pk, name, fields in CatalogEntry.objects.filter(county=county, active=True).values_list(
            "pk", "name", "fields"
        )
    }
    if not entries:
        return {}
    newest: dict[tuple[int, str], tuple[str, dict[str, Any], dt.datetime]] = {}
    for eid, code, period, values, at in (
        DataSubmission.objects.filter(entry_id__in=list(entries))
        .order_by("entry_id", "township__code", "-period")
        .values_list("entry_id", "township__code", "period", "values", "submitted_at")
    ):
        newest.setdefault((eid, code), (period, values, at))
    out: dict[str, dict[str, dict[str, Any]]] = {}
    chosen_at: dict[tuple[str, str], dt.datetime] = {}
    for (eid, code), (period, values, at) in newest.items():
        name, labels = entries[eid]
        held = out.setdefault(code, {})
        for key, value in (values or {}).items():
            label = labels.get(key)
            if label is None or value in (None, ""):
                continue
            prev = chosen_at.get((code, label))
            if prev is not None and prev >= at:
                continue
            chosen_at[(code, label)] = at
            held[label] = {"entry": eid, "entry_name": name, "field": key, "period": period}
    return {code: held for code, held in out.items() if held}


def resolve(ref: Mapping[str, Any] | None, township: AdminUnit | int) -> dict[str, Any] | None:
    """The value behind a catalog reference ``{"entry": id, "field": key}`` for one township: its newest
    submission's value with the period and the label/unit, or None when the entry, field or value is missing.
    Callers check that the viewer may see the township's data (the item's department, the township, the county)."""
    if not ref or not isinstance(ref, Mapping):
        return None
    try:
        entry_id = int(ref.get("entry"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    key = str(ref.get("field", ""))
    entry = CatalogEntry.objects.filter(pk=entry_id).values_list("name", "fields").first()
    if entry is None:
        return None
    name, fields = entry
    field = next((f for f in fields or [] if f.get("key") == key), None)
    if field is None:
        return None
    tid = township if isinstance(township, int) else township.pk
    sub = (
        DataSubmission.objects.filter(entry_id=entry_id, township_id=tid)
        .order_by("-period")
        .values_list("period", "values", "submitted_at")
        .first()
    )
    if sub is None or (sub[1] or {}).get(key) in (None, ""):
        return None
    return {
        "entry": entry_id,
        "entry_name": name,
        "field": key,
        "label": field["label"],
        "unit": field.get("unit", ""),
        "value": sub[1][key],
        "period": sub[0],
        "submitted_at": sub[2],
    }


def resolve_many(
    refs: Iterable[Mapping[str, Any]], township: AdminUnit | int
) -> dict[tuple[int, str], dict[str, Any]]:
    """``resolve`` for many references of one township in two queries: ``{(entry, field): resolved}``, only for
    the references that have a value."""
    keys: set[tuple[int, str]] = set()
    for ref in refs:
        try:
            keys.add((int(ref.get("entry")), str(ref.get("field", ""))))  # type: ignore[arg-type]
        except (TypeError, ValueError, AttributeError):
            continue
    if not keys:
        return {}
    entries = {
        pk: (name, {f.get("key"): f for f in fields or []})
        for pk, name, fields in CatalogEntry.objects.filter(pk__in={e for e, _k in keys}).values_list(
            "pk", "name", "fields"
        )
    }
    tid = township if isinstance(township, int) else township.pk
    newest: dict[int, tuple[str, dict[str, Any], dt.datetime]] = {}
    for eid, period, values, at in (
        DataSubmission.objects.filter(entry_id__in=list(entries), township_id=tid)
        .order_by("entry_id", "-period")
        .values_list("entry_id", "period", "values", "submitted_at")
    ):
        newest.setdefault(eid, (period, values or {}, at))
    out: dict[tuple[int, str], dict[str, Any]] = {}
    for eid, key in keys:
        if eid not in entries or eid not in newest:
            continue
        name, fields = entries[eid]
        field = fields.get(key)
        period, values, at = newest[eid]
        if field is None or values.get(key) in (None, ""):
            continue
        out[(eid, key)] = {
            "entry": eid,
            "entry_name": name,
            "field": key,
            "label": field["label"],
            "unit": field.get("unit", ""),
            "value": values[key],
            "period": period,
            "submitted_at": at,
        }
    return out


# ---- writes ------------------------------------------------------------------------------------------------------


def _county(county: AdminUnit | int | str) -> AdminUnit:
    if isinstance(county, AdminUnit):
        return county
    qs = AdminUnit.objects.filter(level=Level.COUNTY)
    found = qs.filter(code=county).first() if isinstance(county, str) else qs.filter(pk=county).first()
    if found is None:
        raise ServiceError("invalid", "县（区）不存在", {"field": "county"})
    return found


def entry_create(
    *,
    actor: Any,
    county: AdminUnit | int | str,
    name: str,
    period: str,
    fields: Any,
    description: str = "",
    owner_department_id: int | None = None,
) -> CatalogEntry:
    """The county office adds a data set to the catalog."""
    c = _county(county)
    if not can_manage_county(actor, c):
        raise PermissionDeniedError("一表通数据集由县减负办统一设立")
    name, description = _text(name), _text(description)
    if not name:
        raise ServiceError("invalid", "请填写数据集名称", {"field": "name"})
    if len(name) > MAX_NAME or len(description) > MAX_DESCRIPTION:
        raise ServiceError(
            "invalid", f"名称不超过 {MAX_NAME} 字，说明不超过 {MAX_DESCRIPTION} 字", {"field": "name"}
        )
    if period not in Period.values:
        raise ServiceError("invalid", "报送周期应为一次性、年、季度或月", {"field": "period"})
    clean = normalize_fields(fields)
    owner = None
    if owner_department_id:
        owner = Department.objects.filter(
            pk=owner_department_id, county=c, kind=DepartmentKind.FUNCTIONAL, active=True
        ).first()
        if owner is None:
            raise ServiceError("invalid", "主管部门不存在或不在本县", {"field": "owner_department"})
    try:
        with transaction.atomic():
            entry = CatalogEntry.objects.create(
                county=c,
                name=name,
                description=description,
                period=period,
                fields=clean,
                owner_department=owner,
            )
            audit_record(
                actor=actor,
                action="catalog.entry_create",
                object_type="catalog_entry",
                object_id=entry.pk,
                data={
                    "county": c.name,
                    "name": name,
                    "period": period,
                    "fields": [f["label"] for f in clean],
                },
            )
    except IntegrityError as e:
        raise ServiceError("duplicate", f"本县已有名为「{name}」的数据集", {"field": "name"}) from e
    return entry


def entry_set_active(*, actor: Any, entry_id: int, active: bool) -> CatalogEntry:
    """Retire (or restore) an entry; its submissions stay readable, review stops treating its values as held."""
    with transaction.atomic():
        entry = CatalogEntry.objects.select_for_update().select_related("county").filter(pk=entry_id).first()
        if entry is None:
            raise NotFoundError("数据集不存在或无权查看")
        if not can_manage_county(actor, entry.county):
            entry_get(user=actor, pk=entry_id)  # 404 for those who cannot even read it
            raise PermissionDeniedError("一表通数据集由县减负办统一管理")
        if entry.active != active:
            entry.active = active
            entry.save(update_fields=["active"])
            audit_record(
                actor=actor,
                action="catalog.entry_active",
                object_type="catalog_entry",
                object_id=entry.pk,
                data={"active": active},
            )
    return entry


def submission_save(
    *, actor: Any, entry_id: int, township_id: int, period: Any, values: Mapping[str, Any]
) -> DataSubmission:
    """A township gives an entry's values for one period. Submitting the same period again corrects it in place;
    the audit event keeps the digest of the values it replaced, so a correction is never silent."""
    if not isinstance(values, Mapping):
        raise ServiceError("invalid", "数据格式不正确", {"field": "values"})
    with transaction.atomic():
        entry = CatalogEntry.objects.select_related("county").filter(pk=entry_id).first()
        scope = _entry_scope(actor)
        if entry is None or scope is None or not CatalogEntry.objects.filter(scope, pk=entry_id).exists():
            raise NotFoundError("数据集不存在或无权查看")
        township = AdminUnit.objects.filter(pk=township_id, level=Level.TOWNSHIP).first()
        if township is None or not township.code.startswith(entry.county.code[:6]):
            raise ServiceError("invalid", "乡镇（街道）不存在或不在本县", {"field": "township"})
        if not _is_member(actor, township):
            raise PermissionDeniedError("只有本乡镇（街道）的干部可以报送本乡镇的数据")
        if not entry.active:
            raise ServiceError("invalid_state", f"「{entry.name}」已停用，不再接收报送")
        p = check_period(entry.period, period)
        clean = clean_values(entry, values)
        if not clean:
            raise ServiceError("invalid", "请至少填写一项数据", {"field": "values"})
        sub = (
            DataSubmission.objects.select_for_update()
            .filter(entry=entry, township=township, period=p)
            .first()
        )
        previous = digest(sub.values) if sub is not None else None
        if sub is None:
            sub = DataSubmission.objects.create(
                entry=entry, township=township, period=p, values=clean, submitted_by=actor
            )
        else:
            changed = sorted(k for k in set(sub.values) | set(clean) if sub.values.get(k) != clean.get(k))
            sub.values = clean
            sub.submitted_by = actor
            sub.save(update_fields=["values", "submitted_by", "submitted_at"])
        data: dict[str, Any] = {
            "entry": entry.pk,
            "entry_name": entry.name,
            "township": township.name,
            "period": p,
            "fields": len(clean),
            "digest": digest(clean),
        }
        if previous is not None:
            data |= {"corrected": True, "previous_digest": previous, "changed": changed}
        audit_record(
            actor=actor,
            action="catalog.submission_correct" if previous is not None else "catalog.submission",
            object_type="data_submission",
            object_id=sub.pk,
            data=data,
        )
    return sub


def subscription_set(*, actor: Any, entry_id: int, subscribe: bool, department_id: int | None = None) -> bool:
    """A department subscribes to (or leaves) an entry; returns whether it now subscribes. Idempotent."""
    with transaction.atomic():
        entry = entry_get(user=actor, pk=entry_id)
        mine = dict(my_departments(actor, entry.county))
        if not mine:
            raise PermissionDeniedError("只有本县的县直部门可以订阅一表通数据")
        if department_id is None:
            if len(mine) > 1:
                raise ServiceError(
                    "invalid", "您在多个部门任职，请选择以哪个部门订阅", {"field": "department"}
                )
            department_id = next(iter(mine))
        if department_id not in mine:
            raise PermissionDeniedError("您不能以该部门名义订阅")
        existing = CatalogSubscription.objects.filter(entry=entry, department_id=department_id)
        if subscribe and not existing.exists():
            CatalogSubscription.objects.create(entry=entry, department_id=department_id)
        elif not subscribe and existing.exists():
            existing.delete()
        else:
            return subscribe
        audit_record(
            actor=actor,
            action="catalog.subscribe" if subscribe else "catalog.unsubscribe",
            object_type="catalog_entry",
            object_id=entry.pk,
            data={"department": mine[department_id]},
        )
    return subscribe


# ---- export ------------------------------------------------------------------------------------------------------


def values_xlsx(entry: CatalogEntry, rows: list[ValueRow]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from gongzhi.core.exports import text_cells

    wb = Workbook()
    ws = wb.active
    ws.title = "报送数据"
    bold = Font(bold=True)
    ws.append(text_cells(ws, [f"{entry.county.name} 一表通：{entry.name}"]))
    ws["A1"].font = bold
    fields = entry.fields or []
    header = [
        "乡镇（街道）",
        "区划代码",
        "期别",
        *[f"{f['label']}（{f['unit']}）" if f.get("unit") else f["label"] for f in fields],
        "报送时间",
    ]
    ws.append(text_cells(ws, header))
    for c in ws[2]:
        c.font = bold
    tz = timezone.get_current_timezone()
    for r in rows:
        cells: list[Any] = [r.township_name, r.township_code, r.period or "未报送"]
        for f in fields:
            v = r.values.get(f["key"])
            if v is not None and f.get("type") == "decimal":
                v = float(Decimal(str(v)))
            cells.append(v)
        cells.append(r.submitted_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if r.submitted_at else "")
        ws.append(text_cells(ws, cells))
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 16
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
