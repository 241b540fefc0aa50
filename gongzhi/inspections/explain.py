"""Review flags and merge reasons as sentences.

The engines (``engines.inspection_review``, ``engines.visit_merge``) return a machine-readable ``code`` with JSON-safe
``params``; this module is the one place that turns them into words, so the review page, the API, the audit log and
the township's visit page give the same reason. Messages are Chinese msgids through ``gettext`` with ``%(name)s``
parameters, so an English catalog translates them without touching the engines. Lists inside params (townships,
materials, terms) are joined here, with the Chinese enumeration comma; ids can be named through the optional
mappings (item id -> label, township code -> name, department key -> name).

Every code in ``inspection_review.FLAG_CODES``, ``visit_merge.VISIT_CODES`` and ``visit_merge.UNMERGED_CODES`` has
a sentence; an unknown code renders as itself rather than failing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gongzhi.engines.inspection_review import FLAG_CODES
from gongzhi.engines.visit_merge import UNMERGED_CODES, VISIT_CODES

Names = Mapping[Any, str]
_SHOWN = 3  # list items named in a sentence before 「等 N 项」
_TOWNS_SHOWN = 5


class _Ctx:
    """What a renderer needs besides the params: display names for ids."""

    def __init__(self, items: Names | None, townships: Names | None, departments: Names | None) -> None:
        self.items = items or {}
        self.townships = townships or {}
        self.departments = departments or {}

    def item(self, pk: Any) -> str:
        name = self.items.get(pk) or self.items.get(str(pk))
        return name if name else _("事项 %(id)s") % {"id": pk}

    def dept(self, key: Any, name: Any = None) -> str:
        return str(name or self.departments.get(key) or self.departments.get(str(key)) or key or "")

    def town(self, code: Any) -> str:
        return str(self.townships.get(code) or code)


def _join(parts: Iterable[Any]) -> str:
    return "、".join(str(p) for p in parts if p not in (None, ""))


def _some(parts: list[str], total: int | None = None) -> str:
    """「甲、乙、丙等 5 项」: the first few and the count."""
    total = len(parts) if total is None else total
    shown = _join(parts[:_SHOWN])
    if total > _SHOWN:
        return _("%(shown)s等 %(n)s 项") % {"shown": shown, "n": total}
    return shown


def _num(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:g}"
    return str(x if x is not None else "")


def _towns(p: Mapping[str, Any], ctx: _Ctx, listed: Iterable[str] = ()) -> str:
    """「全部乡镇（12 个）」 or 「3 个乡镇（甲镇、乙镇、丙乡）」."""
    n = p.get("township_count", 0)
    if p.get("all_townships"):
        return _("全部乡镇（%(n)s 个）") % {"n": n}
    names = [ctx.town(t) for t in list(listed or p.get("townships") or [])[:_TOWNS_SHOWN]]
    if not names:
        # Shares its msgid with a plural entry (duties/reports.html): ngettext, or English reads "3 township".
        return ngettext("%(n)s 个乡镇", "%(n)s 个乡镇", n) % {"n": n}
    more = _("等") if n > len(names) else ""
    return _("%(n)s 个乡镇（%(names)s%(more)s）") % {"n": n, "names": _join(names), "more": more}


def _terms(terms: Any) -> str:
    terms = list(terms or [])
    return _join(f"「{t}」" for t in terms) if terms else _("无明显共同词")


# ---- review flags --------------------------------------------------------------------------------------------


def _pair_others(p: Mapping[str, Any], ctx: _Ctx) -> str:
    pairs = list(p.get("pairs") or [])
    named = [
        _("%(dept)s「%(topic)s」（%(item)s）")
        % {
            "dept": ctx.dept(q.get("department"), q.get("department_name")),
            "topic": q.get("topic", ""),
            "item": ctx.item(q.get("other")),
        }
        for q in pairs
    ]
    return _some(named, p.get("pair_count", len(pairs)))


def _first_pair(p: Mapping[str, Any], ctx: _Ctx) -> dict[str, str]:
    q = (p.get("pairs") or [{}])[0]
    return {
        "towns": _towns(q, ctx),
        "from": q.get("from", ""),
        "to": q.get("to", ""),
        "days": _num(q.get("days", "")),
        "score": _num(q.get("score", "")),
        "terms": _terms(q.get("terms")),
    }


def _duplicate(p: Mapping[str, Any], ctx: _Ctx) -> str:
    return _(
        "与%(others)s重复：对象乡镇重叠（%(towns)s），时间窗口在 %(from)s 至 %(to)s 重叠 %(days)s 天，"
        "主题相似度 %(score)s（共同关键词：%(terms)s）。不同部门就同一事项分别督查检查，应合并为一次或取消其一。"
    ) % {"others": _pair_others(p, ctx), **_first_pair(p, ctx)}


def _near_duplicate(p: Mapping[str, Any], ctx: _Ctx) -> str:
    return _(
        "与%(others)s疑似重复：对象乡镇重叠（%(towns)s），时间窗口在 %(from)s 至 %(to)s 重叠 %(days)s 天，"
        "主题相似度 %(score)s（共同关键词：%(terms)s）。请核实是否为同一事项，能合并的应合并。"
    ) % {"others": _pair_others(p, ctx), **_first_pair(p, ctx)}


def _split(p: Mapping[str, Any], ctx: _Ctx) -> str:
    topics = [f"「{t}」" for t in p.get("topics") or []]
    return _(
        "%(dept)s就%(terms)s另有 %(n)s 个事项（%(topics)s），对象乡镇重叠（%(towns)s），时间在 %(from)s 至 "
        "%(to)s 之间，合计 %(hours)s 小时：同一部门把一项督查检查拆成多项（拆包分包），应合并为一个事项。"
    ) % {
        "dept": ctx.dept(p.get("department"), p.get("department_name")),
        "terms": _terms(p.get("terms")),
        "n": max(0, int(p.get("items", 1)) - 1),
        "topics": _some(topics, max(0, int(p.get("items", 1)) - 1)),
        "towns": _towns(p, ctx),
        "from": p.get("from", ""),
        "to": p.get("to", ""),
        "hours": _num(p.get("hours", "")),
    }


def _why_last(p: Mapping[str, Any]) -> str:
    if p.get("out_of_plan"):
        return _("本事项为计划外事项，排在计划内事项之后")
    return _("本事项开始日期（%(start)s）较晚，排在上限之外") % {"start": p.get("start", "")}


def _where_over(p: Mapping[str, Any], ctx: _Ctx, listed: Iterable[str]) -> str:
    if p.get("all_targets"):
        return _("全部 %(n)s 个对象乡镇") % {"n": p.get("target_count", p.get("township_count", 0))}
    return _towns({**p, "all_townships": False}, ctx, listed)


def _over_quota_quarter(p: Mapping[str, Any], ctx: _Ctx, listed: Iterable[str] = ()) -> str:
    return _(
        "%(year)s 年第 %(quarter)s 季度，%(where)s的实地督查检查考核最多已有 %(count)s 项，超过每季度 %(cap)s 项的"
        "上限；%(why)s。应与其他事项合并或改为非现场方式。"
    ) % {
        "year": p.get("year", ""),
        "quarter": p.get("quarter", ""),
        "where": _where_over(p, ctx, listed),
        "count": p.get("count", ""),
        "cap": p.get("cap", ""),
        "why": _why_last(p),
    }


def _over_quota_year(p: Mapping[str, Any], ctx: _Ctx, listed: Iterable[str] = ()) -> str:
    return _(
        "%(year)s 年，%(where)s的实地督查检查考核最多已有 %(count)s 项，超过每年 %(cap)s 项的上限；%(why)s。"
        "应与其他事项合并或改为非现场方式。"
    ) % {
        "year": p.get("year", ""),
        "where": _where_over(p, ctx, listed),
        "count": p.get("count", ""),
        "cap": p.get("cap", ""),
        "why": _why_last(p),
    }


def _comprehensive_quota(
    p: Mapping[str, Any], ctx: _Ctx, listed: Iterable[str] = (), others: Iterable[Any] = ()
) -> str:
    earlier = _some([ctx.item(o) for o in others]) or _("其他综合性事项")
    return _(
        "%(dept)s %(year)s 年已在%(where)s安排综合性督查检查考核（%(earlier)s），每个部门每年至多 %(cap)s 次；"
        "%(why)s。应并入已有的综合性事项。"
    ) % {
        "dept": ctx.dept(p.get("department"), p.get("department_name")),
        "year": p.get("year", ""),
        "where": _where_over(p, ctx, listed),
        "earlier": earlier,
        "cap": p.get("cap", ""),
        "why": _why_last(p),
    }


def _materials(p: Mapping[str, Any]) -> tuple[str, str, str]:
    ms = list(p.get("materials") or [])
    names = _join(f"「{m.get('material', '')}」" for m in ms)
    terms = _join(dict.fromkeys(t for m in ms for t in m.get("terms", [])))
    bases = _join(dict.fromkeys(f"{m.get('basis', '')}" for m in ms if m.get("basis")))
    return names, terms, bases


def _trace_demand(p: Mapping[str, Any], ctx: _Ctx) -> str:
    names, terms, _b = _materials(p)
    return _(
        "索要的材料%(names)s属于留痕类（%(terms)s），且未注明法定依据：不得要求基层为迎检拍照、签到、截图、"
        "做台账留痕，该项材料予以退回；确有法定依据的，请注明依据后重报。"
    ) % {"names": names, "terms": terms}


def _trace_demand_with_basis(p: Mapping[str, Any], ctx: _Ctx) -> str:
    names, terms, bases = _materials(p)
    return _(
        "索要的材料%(names)s属于留痕类（%(terms)s），已注明依据%(bases)s，不予退回；请县减负办核实依据是否成立。"
    ) % {"names": names, "terms": terms, "bases": bases}


def _data_held(p: Mapping[str, Any], ctx: _Ctx) -> str:
    parts = []
    for f in p.get("fields") or []:
        if f.get("all"):
            where = _("全部对象乡镇已报")
        else:
            where = _("%(held)s/%(of)s 个对象乡镇已报") % {"held": f.get("held", 0), "of": f.get("of", 0)}
        label = f"「{f.get('field', '')}」"
        if f.get("catalog_field") and f.get("catalog_field") != f.get("field"):
            label += _("（目录中为「%(name)s」）") % {"name": f.get("catalog_field")}
        parts.append(_("%(label)s（%(where)s）") % {"label": label, "where": where})
    return _("所要的数据已在一表通：%(fields)s。改为引用数据目录，已报的乡镇不再重复填报。") % {
        "fields": _join(parts)
    }


_FLAG_RENDER: dict[str, Callable[..., str]] = {
    "duplicate": _duplicate,
    "near_duplicate": _near_duplicate,
    "split": _split,
    "over_quota_quarter": _over_quota_quarter,
    "over_quota_year": _over_quota_year,
    "comprehensive_quota": _comprehensive_quota,
    "trace_demand": _trace_demand,
    "trace_demand_with_basis": _trace_demand_with_basis,
    "data_held": _data_held,
}


def flag_text(
    flag: Any,
    names: Names | None = None,
    townships: Names | None = None,
    departments: Names | None = None,
) -> str:
    """A review flag (a ``Flag``, or a mapping with ``code`` and ``params``) as one sentence."""
    get = flag.get if isinstance(flag, Mapping) else lambda k, d=None: getattr(flag, k, d)
    code = str(get("code", "") or get("rule", ""))
    params = get("params", None) or {}
    ctx = _Ctx(names, townships, departments)
    fn = _FLAG_RENDER.get(code)
    if fn is None:
        return code
    if code in ("over_quota_quarter", "over_quota_year"):
        return fn(params, ctx, get("townships", ()) or ())
    if code == "comprehensive_quota":
        return fn(params, ctx, get("townships", ()) or (), get("others", ()) or ())
    return fn(params, ctx)


explain_flag = flag_text


# ---- merge reasons -------------------------------------------------------------------------------------------


def _joint_visit(p: Mapping[str, Any], ctx: _Ctx) -> str:
    items = list(p.get("items") or [])
    lead = ctx.dept(p.get("lead_department"))
    why = _("综合性事项的部门") if p.get("lead_reason") == "comprehensive" else _("耗时最长事项的部门")
    return _(
        "%(n)s 个事项（%(depts)s）的时间窗口在 %(from)s 至 %(to)s 重叠，合并为一次联合督查，建议 %(day)s 进行，"
        "由%(lead)s牵头（%(why)s）；乡镇少接待 %(fewer)s 次，工时由分别接待的 %(separate)s 小时减为 %(hours)s "
        "小时（接待、汇报和材料共用，最长事项之外的每个事项按 %(share)s 计）。"
    ) % {
        "n": len(items),
        "depts": _join(ctx.dept(d) for d in p.get("departments") or []),
        "from": p.get("from", ""),
        "to": p.get("to", ""),
        "day": p.get("day", ""),
        "lead": lead,
        "why": why,
        "fewer": max(0, len(items) - 1),
        "separate": _num(p.get("hours_separate", "")),
        "hours": _num(p.get("hours", "")),
        "share": _num(p.get("share", "")),
    }


def _single_visit(p: Mapping[str, Any], ctx: _Ctx) -> str:
    if p.get("before_platform"):
        # Recorded from before the platform (the demo's 2025): no merge ran, so no unmerged reason follows.
        return _(
            "平台启用前由%(dept)s单独开展（%(hours)s 小时）：当年各部门的督查检查考核未经统筹合并，"
            "每个事项各自到乡镇一次。"
        ) % {"dept": ctx.dept(p.get("lead_department")) or _("主办部门"), "hours": _num(p.get("hours", ""))}
    return _("本次只有一个事项（%(hours)s 小时），原因见下。") % {"hours": _num(p.get("hours", ""))}


def _solo_department(p: Mapping[str, Any], ctx: _Ctx) -> str:
    return _("%(dept)s的事项按规则须单独开展（如巡察、审计），不与其他事项合并。") % {
        "dept": ctx.dept(p.get("department"))
    }


def _window_too_short(p: Mapping[str, Any], ctx: _Ctx) -> str:
    return _("时间窗口只有 %(days)s 天，少于合并所需的 %(min)s 天共同时间，只能单独安排。") % {
        "days": p.get("days", ""),
        "min": p.get("min_days", ""),
    }


def _no_overlap(p: Mapping[str, Any], ctx: _Ctx) -> str:
    return _("同一乡镇没有其他事项的时间窗口与之重叠，无法合并。")


_BLOCKED = {
    "incompatible": lambda n: _("%(n)s 个按不相容规则不能同行") % {"n": n},
    "visit_full": lambda n: _("%(n)s 个所在的联合督查已满") % {"n": n},
    "window_conflict": lambda n: _("%(n)s 个所在的联合督查的共同时间在本事项窗口之外") % {"n": n},
    "kept_apart": lambda n: _("%(n)s 个合并后不会减少接待次数") % {"n": n},
}


def _blocked(lead: str) -> Callable[[Mapping[str, Any], _Ctx], str]:
    def render(p: Mapping[str, Any], ctx: _Ctx) -> str:
        by = p.get("by_reason") or {}
        detail = _join(_BLOCKED[c](by[c]) for c in _BLOCKED if by.get(c))
        examples = _join(ctx.item(e.get("item")) for e in p.get("examples") or [])
        return _("%(lead)s：时间重叠的 %(n)s 个事项（如%(examples)s）中，%(detail)s，因此单独安排。") % {
            "lead": lead,
            "n": p.get("neighbours", 0),
            "examples": examples,
            "detail": detail,
        }

    return render


_REASON_RENDER: dict[str, Callable[[Mapping[str, Any], _Ctx], str]] = {
    "joint_visit": _joint_visit,
    "single_visit": _single_visit,
    "solo_department": _solo_department,
    "window_too_short": _window_too_short,
    "no_overlap": _no_overlap,
    "incompatible": lambda p, c: _blocked(_("不相容"))(p, c),
    "visit_full": lambda p, c: _blocked(_("联合督查已满"))(p, c),
    "window_conflict": lambda p, c: _blocked(_("日期对不上"))(p, c),
    "kept_apart": lambda p, c: _blocked(_("合并无益"))(p, c),
}


def reason_text(
    code: str,
    params: Mapping[str, Any] | None = None,
    names: Names | None = None,
    townships: Names | None = None,
    departments: Names | None = None,
) -> str:
    """A merge reason (a visit's code, or an unmerged demand's) as one sentence."""
    ctx = _Ctx(names, townships, departments)
    fn = _REASON_RENDER.get(code)
    return fn(params or {}, ctx) if fn is not None else str(code)


def explain(obj: Any, params: Mapping[str, Any] | None = None, names: Names | None = None) -> str:
    """Any engine reason: a ``Flag``, ``Visit`` or ``Unmerged`` (or a mapping with ``code``/``params``), or a code
    with its params."""
    if isinstance(obj, str):
        code = obj
        if code in _FLAG_RENDER:
            return flag_text({"code": code, "params": params or {}}, names)
        return reason_text(code, params, names)
    get = obj.get if isinstance(obj, Mapping) else lambda k, d=None: getattr(obj, k, d)
    code = str(get("code", ""))
    if code in _FLAG_RENDER:
        return flag_text(obj, names)
    return reason_text(code, get("params", None) or params, names)


# Every code the engines can emit has a renderer (checked by the tests).
CODES = frozenset(FLAG_CODES) | frozenset(VISIT_CODES) | frozenset(UNMERGED_CODES)
RENDERED = frozenset(_FLAG_RENDER) | frozenset(_REASON_RENDER)
