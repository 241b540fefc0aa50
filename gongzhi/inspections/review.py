"""The review run: a county's year of filed items through the pure review engine, stored as a ``ReviewRun`` with its
``ReviewFlag`` rows. Runs when a plan is filed, an out-of-plan item is added or a returned item resubmitted (inside
that write's transaction) and on demand by the county office. The newest run of a county and year is the one in
force; older runs stay for the record.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy

from gongzhi.core.audit import audit_record
from gongzhi.core.errors import NotFoundError, PermissionDeniedError
from gongzhi.core.models import AdminUnit
from gongzhi.engines import inspection_review as _engine

from . import datacatalog, explain
from .models import InspectionItem, InspectionSettings, InspectionTarget, PlanStatus, ReviewFlag, ReviewRun
from .permissions import can_manage_county, can_read_county
from .plans import LIVE_STATUSES, county_townships

log = logging.getLogger(__name__)

RULES = (
    "duplicate",
    "near_duplicate",
    "split",
    "over_quota",
    "comprehensive_quota",
    "trace_demand",
    "data_held",
)
RULE_LABELS = {
    "duplicate": gettext_lazy("重复"),
    "near_duplicate": gettext_lazy("疑似重复"),
    "split": gettext_lazy("拆包分包"),
    "over_quota": gettext_lazy("超过实地频次上限"),
    "comprehensive_quota": gettext_lazy("综合性督查检查超限"),
    "trace_demand": gettext_lazy("索要留痕材料"),
    "data_held": gettext_lazy("数据已在一表通"),
}


def rule_label(rule: str) -> str:
    return str(RULE_LABELS.get(rule, rule))


def describe(
    flag: Any,
    names: dict[Any, str] | None = None,
    townships: dict[Any, str] | None = None,
    departments: dict[Any, str] | None = None,
) -> str:
    """The flag as one sentence (``inspections.explain.flag_text``, the one place that words the engine's codes).
    ``names``/``townships``/``departments`` name the ids the sentence mentions (see ``describe_many``)."""
    try:
        return str(explain.flag_text(flag, names, townships, departments))
    except Exception:  # a renderer bug must not take the page down: fall back to the label
        log.exception("explain.flag_text failed for %s", getattr(flag, "code", ""))
    return rule_label(getattr(flag, "rule", "") or getattr(flag, "code", ""))


def describe_many(flags: Sequence[ReviewFlag]) -> dict[int, str]:
    """Sentences for many flags, with the other items, townships and departments named: three queries at most."""
    from gongzhi.core.models import Department

    item_ids = {f.item_id for f in flags} | {o for f in flags for o in f.others}
    for f in flags:
        for pair in (f.params or {}).get("pairs", []) or []:
            if isinstance(pair, dict) and isinstance(pair.get("other"), int):
                item_ids.add(pair["other"])
    # The sentence already carries each item's department and topic; the item is named by its place in its plan.
    names = (
        {
            pk: str(gettext_lazy("第 %(seq)s 项") % {"seq": seq})
            for pk, seq in InspectionItem.objects.filter(pk__in=item_ids).values_list("pk", "seq")
        }
        if item_ids
        else {}
    )
    codes: set[str] = set()
    for f in flags:
        codes.update(f.townships)
        for pair in (f.params or {}).get("pairs", []) or []:
            if isinstance(pair, dict):
                codes.update(str(t) for t in pair.get("townships", []) or [])
    towns = dict(AdminUnit.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    dept_keys = {str(p.get("department")) for f in flags for p in [f.params or {}] if p.get("department")}
    depts = (
        {
            str(pk): name
            for pk, name in Department.objects.filter(
                pk__in=[int(k) for k in dept_keys if k.isdigit()]
            ).values_list("pk", "name")
        }
        if dept_keys
        else {}
    )
    return {f.pk: describe(f, names, towns, depts) for f in flags}


def describe_note(note: dict[str, Any]) -> str:
    """A trace material that cites a legal basis (not refused; the office checks the basis)."""
    from types import SimpleNamespace

    flag = SimpleNamespace(
        rule="trace_demand",
        code=note.get("code", "trace_demand_with_basis"),
        params=note.get("params", {}),
        item=note.get("item"),
        others=(),
        score=None,
        townships=(),
    )
    return describe(flag)


def engine() -> Any:
    """The review engine module (a seam for tests that make it fail)."""
    return _engine


def _lock_settings(county: AdminUnit) -> InspectionSettings:
    """Serializes runs of one county: a run started after another committed sees that one's items."""
    try:
        with transaction.atomic():
            InspectionSettings.objects.get_or_create(county=county)
    except IntegrityError:
        pass
    return InspectionSettings.objects.select_for_update().get(county=county)


def collect(county: AdminUnit, year: int) -> tuple[list[InspectionItem], dict[int, list[int]]]:
    """Items the review judges: pending or approved items of the county's filed plans (a revoked code no longer
    counts), and the named target township ids of each."""
    items = list(
        InspectionItem.objects.filter(
            plan__county=county,
            plan__year=year,
            plan__status=PlanStatus.FILED,
            status__in=LIVE_STATUSES,
            code_revoked_at__isnull=True,
        )
        .select_related("plan", "plan__department")
        .order_by("id")
    )
    targets: dict[int, list[int]] = {i.pk: [] for i in items}
    named = [i.pk for i in items if not i.all_townships]
    for start in range(0, len(named), 5000):
        chunk = named[start : start + 5000]
        for item_id, township_id in InspectionTarget.objects.filter(item_id__in=chunk).values_list(
            "item_id", "township_id"
        ):
            targets[item_id].append(township_id)
    return items, targets


def review_run(
    *, actor: Any, county: AdminUnit, year: int, trigger: str = "manual", check: bool = True
) -> ReviewRun | None:
    """Run the review for ``county`` and ``year`` and store it. ``check``: the caller is not a service that already
    checked who may do this (the county office's on-demand run). Returns None when the engine failed (logged; the
    write that triggered the run still stands)."""
    if check and not can_manage_county(actor, county):
        if can_read_county(actor, county):
            raise PermissionDeniedError("审查由县委县政府办（减负办）发起")
        raise NotFoundError()
    eng = engine()
    with transaction.atomic():
        settings_row = _lock_settings(county)
        started = time.perf_counter()
        items, targets = collect(county, year)
        townships = county_townships(county)
        held = datacatalog.held_fields(county)
        try:
            result = _run_engine(eng, items, targets, townships, held, settings_row.rules or {})
        except Exception:  # the engine is pure Python: its failure leaves the database untouched
            log.exception("inspection review failed for county %s year %s", county.code, year)
            return None
        run = ReviewRun.objects.create(
            county=county,
            year=year,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            duration_ms=0,
        )
        flags = [_flag_row(run, f) for f in _flags_of(result)]
        ReviewFlag.objects.bulk_create(flags, batch_size=1000)
        by_rule = Counter(f.rule for f in flags)
        notes = _notes_of(result)
        stats = {
            "items": len(items),
            "flags": len(flags),
            "flagged_items": len({f.item_id for f in flags}),
            "by_rule": dict(sorted(by_rule.items())),
            "trigger": trigger,
            "engine": dict(getattr(result, "stats", {}) or {}),
            "notes": notes,
        }
        run.stats = stats
        run.duration_ms = int((time.perf_counter() - started) * 1000)
        run.save(update_fields=["stats", "duration_ms"])
        audit_record(
            actor=actor,
            action="inspection_review.run",
            object_type="review_run",
            object_id=run.pk,
            data={
                "county": county.code,
                "year": year,
                **{k: stats[k] for k in ("items", "flags", "flagged_items", "by_rule", "trigger")},
                "notes": len(notes),
            },
        )
    return run


# ---- engine adapter ----------------------------------------------------------------------------------------------


def ref_key(ref: dict[str, Any]) -> str:
    """A catalog reference as the engine carries it (it must be hashable): ``"<entry id>:<field key>"``."""
    return f"{ref.get('entry')}:{ref.get('field')}"


def parse_ref(text: Any) -> dict[str, Any] | None:
    """``"7:resident_pop"`` -> ``{"entry": 7, "field": "resident_pop"}``; None for anything else."""
    entry, sep, key = str(text or "").partition(":")
    if not sep or not key or not entry.isdigit():
        return None
    return {"entry": int(entry), "field": key}


def engine_rules(eng: Any, rules: dict[str, Any]) -> Any:
    """The county's overrides on top of the engine defaults; unknown or malformed keys are ignored."""
    from dataclasses import fields as dc_fields

    known = {f.name for f in dc_fields(eng.ReviewRules)}
    kw: dict[str, Any] = {}
    for k, v in (rules or {}).items():
        if k not in known:
            continue
        kw[k] = _tuplify(v)
    try:
        out = eng.ReviewRules(**kw)
        out.check()
        return out
    except (TypeError, ValueError):
        log.warning("ignoring invalid inspection review rules: %r", rules)
        return eng.ReviewRules()


def _tuplify(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_tuplify(x) for x in v)
    return v


def engine_items(
    eng: Any, items: list[InspectionItem], targets: dict[int, list[int]], townships: dict[int, AdminUnit]
) -> list[Any]:
    out = []
    for i in items:
        codes = (
            None if i.all_townships else frozenset(townships[t].code for t in targets[i.pk] if t in townships)
        )
        out.append(
            eng.PlanItem(
                id=i.pk,
                department=str(i.plan.department_id),
                department_name=i.plan.department.name,
                kind=i.kind,
                comprehensive=i.comprehensive,
                topic=i.topic,
                basis=i.basis,
                targets=codes,
                start=i.window_start,
                end=i.window_end,
                onsite=i.onsite,
                hours=float(i.township_hours),
                materials=tuple(
                    eng.Material(str(m.get("name", "")), str(m.get("basis", "") or ""))
                    for m in i.materials or ()
                    if not m.get("removed")
                ),
                data_fields=tuple(str(d.get("label", "")) for d in i.data_fields or () if not d.get("ref")),
                out_of_plan=i.out_of_plan,
            )
        )
    return out


def _run_engine(
    eng: Any,
    items: list[InspectionItem],
    targets: dict[int, list[int]],
    townships: dict[int, AdminUnit],
    held: Any,
    rules: Any,
) -> Any:
    held_refs = {
        code: {label: ref_key(ref) for label, ref in fields.items()} for code, fields in (held or {}).items()
    }
    return eng.review(
        engine_items(eng, items, targets, townships),
        townships=[u.code for u in townships.values()],
        held=held_refs,
        rules=engine_rules(eng, rules),
    )


def _flags_of(result: Any) -> list[Any]:
    return list(result.flags)


def _notes_of(result: Any) -> list[dict[str, Any]]:
    """Trace materials that cite a legal basis: not refused, listed for the office to check the basis."""
    return [
        {"item": int(n.item), "code": n.code, "params": n.params} for n in getattr(result, "notes", [])[:5000]
    ]


def _flag_row(run: ReviewRun, f: Any) -> ReviewFlag:
    towns = [str(t) for t in f.townships]
    params = dict(f.params or {})
    return ReviewFlag(
        run=run,
        item_id=int(f.item),
        rule=str(f.rule),
        code=str(f.code or f.rule),
        params=params,
        score=f.score,
        others=[int(o) for o in f.others],
        townships=towns,
        township_count=int(params.get("township_count", len(towns)) or 0),
    )
