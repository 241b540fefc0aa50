"""Review of annual inspection plans (督查检查考核计划审核): pure, explainable, fast.

Every department files its plan items for the year; the county office reviews them all at once. The review flags:

- ``duplicate`` / ``near_duplicate`` — items of *different* departments whose targets overlap (at least one township
  in common), whose windows overlap (at least ``min_overlap_days`` days in common) and whose topics are similar
  (the score below, over IDF-weighted Chinese character bigrams; the same text handling as the task gate:
  NFKC, invisible characters out, framing labels, filler words, numbers and department names removed; on top of that
  the words that say *how* a department looks — 督查, 检查, 考核, 暗访, 专项, 季度, 春季 … — are removed, since two
  inspections are the same when they look at the same thing). A flag names the other items, the score, the townships
  and days that overlap and the key terms the topics share.
- ``split`` (拆包分包) — items of *one* department on one topic (similar topics, a township in common) whose windows
  overlap, or that are each small (``split_small_hours``) and less than ``split_gap_days`` apart: one inspection
  filed as several. A recurring inspection months apart is not a split (the quotas see it).
- ``over_quota`` — on-site items per township per quarter and per year above the caps. An item counts once, in the
  quarter (and year) its window starts: it is one visit, and counting it in every quarter it spans would charge a
  township for visits that never happen. At a township over a cap, the items kept are the planned ones before the
  out-of-plan ones (一事一报 items are the exception, so they yield first), then the earlier by start date; the items
  past the cap are flagged, with the townships where they are past it.
- ``comprehensive_quota`` — more than ``comprehensive_per_year`` comprehensive (综合性) items of one department
  reaching one township in one year (the 2019 and 2024 rules: at most one comprehensive inspection per department per
  year). Counted per township, so a department may run its one comprehensive inspection in batches over the county.
- ``trace_demand`` (留痕) — a requested material that is a trace (photos, sign-in sheets, screenshots, minutes, study
  notes, ledgers made for the inspection, location tracks, videos, 佐证材料 …) and cites no legal basis: refused.
  With a basis the material is not flagged but *noted* (``ReviewResult.notes``, code ``trace_demand_with_basis``),
  so the county office can see which law is cited: a basis is a claim, and the office checks it.
- ``data_held`` (一表通) — a requested data field that targets already submitted to the data catalog: the flag carries
  the catalog references, so the app replaces the request with a reference.

Flags carry a machine-readable ``code`` and JSON-safe ``params``; ``gongzhi.inspections.explain`` renders them as
sentences (Chinese msgids through gettext), so the page, the API and the audit log give the same reason.

The similarity score (0..100) is the geometric mean of the IDF cosine and the containment (the share of the smaller
topic's weight that the larger one covers): a generic topic inside a specific one (消防安全 / 九小场所消防安全, 食品安全
/ 校园食品安全) is the same inspection seen from further away, which the plain cosine underrates.

Speed: pairs are never all compared. Topics go into an inverted index, and each item probes it only with its prefix
(prefix filtering, after All-Pairs, Bayardo et al. 2007): its rarest bigrams holding more than ``1 − t`` of its weight.
A pair scoring ``t`` has containment ``≥ t``, so the smaller topic shares a bigram of its prefix with the other; common
bigrams (安全, 农村) alone produce no candidates. Items for all townships (``targets=None``) are never expanded for quotas: a township's
count is the number of all-township items plus its own.

Pure Python, no Django.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from gongzhi.engines.taskgate import canonical
from gongzhi.engines.taskgate import normalize as _gate_normalize

KINDS = ("supervision", "inspection", "assessment")
KIND_LABELS = {"supervision": "督查", "inspection": "检查", "assessment": "考核"}
RULES = (
    "duplicate",
    "near_duplicate",
    "split",
    "over_quota",
    "comprehensive_quota",
    "trace_demand",
    "data_held",
)
# Every code a flag or a note can carry (explain.py renders each one).
FLAG_CODES = (
    "duplicate",
    "near_duplicate",
    "split",
    "over_quota_quarter",
    "over_quota_year",
    "comprehensive_quota",
    "trace_demand",
    "trace_demand_with_basis",
    "data_held",
)


# ---- input ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Material:
    """A material the inspection will ask the township for; ``basis`` is the legal basis cited ("" = none)."""

    name: str
    basis: str = ""


@dataclass(frozen=True, slots=True)
class PlanItem:
    id: int
    department: str  # department key (its pk as str)
    department_name: str
    kind: str  # supervision 督查 | inspection 检查 | assessment 考核
    comprehensive: bool  # 综合性
    topic: str
    basis: str
    targets: frozenset[str] | None  # township codes; None = every township of the county
    start: date
    end: date
    onsite: bool = True
    hours: float = 0.0  # expected township hours, per township
    materials: tuple[Material, ...] = ()
    data_fields: tuple[str, ...] = ()  # data the item asks townships to provide, as free labels
    out_of_plan: bool = False


# ---- rules ---------------------------------------------------------------------------------------------------

# Trace terms by category. Matched on the material's name after NFKC, lower case, and with spaces and punctuation
# removed (「签 到（簿）」 is 「签到簿」, 「ＡＰＰ截屏」 is 「app截屏」). Synonyms are listed the way materials are
# actually written: 「现场照片」「活动影像资料」「签到簿」「APP截屏」「会议纪要及照片」「心得体会」「佐证材料」.
DEFAULT_TRACE_TERMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "photo",
        (
            "照片",
            "相片",
            "图片",
            "拍照",
            "拍摄",
            "合影",
            "留影",
            "影像",
            "图像",
            "摄影",
            "图文资料",
            "图文材料",
        ),
    ),
    ("video", ("视频", "录像", "录屏", "影音", "音像")),
    (
        "sign_in",
        ("签到", "签名表", "签名册", "签名簿", "签字表", "签字册", "点名册", "打卡", "考勤记录", "考勤表"),
    ),
    ("screenshot", ("截图", "截屏", "屏幕截取", "转发记录", "点赞记录", "朋友圈")),
    (
        "minutes",
        ("会议记录", "会议纪要", "会议笔记", "会议资料", "会议材料", "会议通知", "会议议程", "会议照片"),
    ),
    ("study_notes", ("学习笔记", "读书笔记", "心得体会", "学习心得", "学习记录", "手抄", "抄写", "笔记本")),
    ("ledger", ("台账", "迎检资料", "迎检材料", "档案盒", "资料盒", "资料汇编", "工作专档")),
    ("location", ("位置轨迹", "轨迹", "定位", "实时位置", "位置共享", "共享位置", "gps", "北斗")),
    (
        "trace",
        (
            "留痕",
            "痕迹",
            "佐证",
            "过程资料",
            "过程材料",
            "工作日志",
            "工作纪实",
            "民情日记",
            "走访日记",
            "宣传报道",
            "信息简报",
            "发文数量",
            "发文目录",
        ),
    ),
    (
        "usage",
        (
            "在线时长",
            "登录次数",
            "使用次数",
            "学习积分",
            "积分排名",
            "打卡次数",
            "下载量",
            "注册量",
            "阅读量",
        ),
    ),
)
# Phrases that contain a trace term but are not traces: licences and certificates, lighting, remote-sensing imagery,
# video-conferencing, surveillance equipment being checked, statutory law-enforcement recordings, and statutory
# ledgers an enterprise keeps by law. Removed before matching.
DEFAULT_TRACE_EXCEPTIONS: tuple[str, ...] = (
    "营业执照",
    "执照",
    "证照",
    "证件照",
    "身份证照片",
    "照明",
    "遥感影像",
    "卫星影像",
    "航拍影像",
    "影像学",
    "视频会议系统",
    "视频会议室",
    "视频会议终端",
    "视频监控设施",
    "视频监控设备",
    "视频监控系统",
    "执法记录仪视频",
    "执法记录仪录像",
    "执法记录仪",
    "出入库台账",
    "进货查验台账",
    "危险废物管理台账",
    "定位器",
    "定位桩",
)
# A term right after one of these (within a few characters) is excluded, not demanded: 「（无需照片）」.
_NEGATIONS = ("无需", "无须", "不需", "不用", "不要求", "不得", "不再", "免于", "禁止", "取消")

# Field aliases: different labels for the same data. Kept small on purpose: only labels that name the same
# statistic. 户籍人口 and 常住人口 are *different* statistics (registered vs resident population) and never match.
DEFAULT_FIELD_ALIASES: tuple[tuple[str, str], ...] = (
    ("低保户", "低保对象"),
    ("最低生活保障对象", "低保对象"),
    ("农村低保对象", "低保对象"),
    ("五保户", "特困人员"),
    ("特困供养人员", "特困人员"),
    ("脱贫户", "建档立卡户"),
    ("规上企业", "规模以上工业企业"),
    ("规模以上企业", "规模以上工业企业"),
    ("持证残疾人", "残疾人"),
    ("安全隐患台账", "安全生产隐患台账"),
    ("安全生产隐患排查台账", "安全生产隐患台账"),
    ("耕地保有面积", "耕地面积"),
)


@dataclass(frozen=True)
class ReviewRules:
    """Policy knobs. Defaults and why:

    - ``duplicate_threshold`` 70 / ``near_duplicate_threshold`` 40 (score × 100, see the module docstring): the same
      topic under other qualifiers and how-words scores 100 (「森林防火检查」/「2025年春季森林防火专项督查」), a
      paraphrase or a generic topic inside a specific one 45–80, as the plan's other topics set the IDF
      (「秸秆禁烧督查」/「秸秆综合利用和禁烧检查」,
      「消防安全检查」/「九小场所消防安全检查」, 「安全生产」/「商贸领域安全生产」); distinct topics sharing words stay
      below 40 (城乡居民养老保险参保 / 城乡居民医保参保扩面, 农村饮水安全 / 农村房屋安全, 河长制 / 田长制).
    - ``split_threshold`` 50: within one department topics share the department's vocabulary, so a split must be
      closer than a cross-department near-duplicate.
    - ``onsite_per_quarter`` 6 / ``onsite_per_year`` 20: no national figure exists; at most one on-site visit about
      every two weeks, a county sets its own from its baseline (the policy goal is a cut of at least half).
    - ``comprehensive_per_year`` 1: 2019 通知 and the 2024 若干规定 — one comprehensive inspection per department
      per year.
    - ``split_gap_days`` 30 and ``split_small_hours`` 4 (half a working day): small items on one topic within a
      month are one inspection in pieces.
    - ``min_overlap_days`` 1: windows sharing a single day could have been one visit.
    - ``max_listed`` 20: townships and pairs listed per flag (counts are always complete).
    """

    duplicate_threshold: float = 70.0
    near_duplicate_threshold: float = 40.0
    split_threshold: float = 50.0
    min_overlap_days: int = 1
    onsite_per_quarter: int = 6
    onsite_per_year: int = 20
    comprehensive_per_year: int = 1
    split_gap_days: int = 30
    split_small_hours: float = 4.0
    trace_terms: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_TRACE_TERMS
    trace_exceptions: tuple[str, ...] = DEFAULT_TRACE_EXCEPTIONS
    field_aliases: tuple[tuple[str, str], ...] = DEFAULT_FIELD_ALIASES
    max_listed: int = 20

    def check(self) -> None:
        for name in ("duplicate_threshold", "near_duplicate_threshold", "split_threshold"):
            v = getattr(self, name)
            if not 0 < v <= 100:
                raise ValueError(f"相似度阈值须在 0 到 100 之间：{name}={v}")
        if self.near_duplicate_threshold > self.duplicate_threshold:
            raise ValueError("疑似重复阈值不能高于重复阈值")
        for name in ("onsite_per_quarter", "onsite_per_year", "comprehensive_per_year"):
            if getattr(self, name) < 0:
                raise ValueError(f"次数上限不能为负：{name}")
        if self.min_overlap_days < 1 or self.split_gap_days < 0 or self.split_small_hours < 0:
            raise ValueError("天数与时长参数不能为负")
        if self.max_listed < 1:
            raise ValueError("列举上限至少为 1")


# ---- output --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flag:
    rule: str  # one of RULES
    item: int
    others: tuple[int, ...]
    score: float | None  # similarity 0..100 where the rule has one
    townships: tuple[str, ...]  # affected townships, at most ``max_listed`` (params hold the full count)
    code: str  # one of FLAG_CODES: what explain.py renders
    params: dict[str, Any]  # JSON-safe

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["others"] = list(self.others)
        d["townships"] = list(self.townships)
        return d


@dataclass
class ReviewResult:
    flags: list[Flag]
    notes: list[Flag]  # not refusals: trace materials with a basis cited, for the office to check
    stats: dict[str, Any] = field(default_factory=dict)

    def by_item(self) -> dict[int, list[Flag]]:
        out: dict[int, list[Flag]] = defaultdict(list)
        for f in self.flags:
            out[f.item].append(f)
        return dict(out)

    def counts(self) -> dict[str, int]:
        c = dict.fromkeys(RULES, 0)
        for f in self.flags:
            c[f.rule] += 1
        return c


# ---- topics --------------------------------------------------------------------------------------------------

# How a department looks, not what it looks at: removed from topics (longest first).
_HOW = (
    "督查检查考核",
    "明察暗访",
    "大检查",
    "大排查",
    "大整治",
    "大督查",
    "回头看",
    "补充",
    "汛期",
    "督查",
    "检查",
    "考核",
    "考评",
    "评比",
    "评估",
    "督导",
    "督办",
    "暗访",
    "抽查",
    "抽检",
    "核查",
    "复查",
    "巡查",
    "排查",
    "验收",
    "综合性",
    "年度",
    "年终",
    "年中",
    "全年",
    "上半年",
    "下半年",
    "季度",
    "半年",
    "春季",
    "夏季",
    "秋季",
    "冬季",
    "春节",
    "节前",
    "节后",
    "节日",
    "期间",
    "元旦",
    "国庆",
    "中秋",
    "五一",
    "情况",
    "工作",
    "县级",
    "市级",
    "省级",
    "全县",
    "全市",
    "全镇",
    "第一",
    "第二",
    "第三",
    "第四",
    "一季度",
    "二季度",
    "三季度",
    "四季度",
)
_HOW_RE = re.compile(
    # 综合 only where it says the inspection is comprehensive (综合督查, 综合考核), not in 综合文化站 or 综合执法.
    r"综合(?=(?:年度|专项)?(?:督查|检查|考核|考评|评估|督导|评价|评比|暗访))|"
    r"第[一二三四五六七八九十]+(?:批次|批|轮|次|阶段)?|[一二三四]季度|"
    + "|".join(map(re.escape, sorted(_HOW, key=len, reverse=True)))
)
_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[A-Za-z]+")


# Bigrams a topic needs for its containment in another to count in full (消防安全, 食品安全, 秸秆禁烧 have three).
_FULL_BIGRAMS = 3


def topic_norm(topic: str, names_re: re.Pattern[str] | None = None) -> str:
    """The topic with labels, filler, numbers, department names and how-words replaced by separators."""
    # How-words first (综合专项督查 loses 专项 to the filler list, which would hide 综合 from its lookahead), then
    # the gate's normalisation, then how-words again for those the filler removal brought together.
    return _HOW_RE.sub(" ", _gate_normalize(_HOW_RE.sub(" ", canonical(topic)), names_re))


def _runs(norm: str) -> list[str]:
    return _RUN_RE.findall(norm)


def bigrams(norm: str) -> set[str]:
    out: set[str] = set()
    for run in _runs(norm):
        if run.isascii():
            out.add(run.lower())
        else:
            out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


def shared_terms(norm_a: str, grams_b: set[str], limit: int = 5) -> list[str]:
    """Maximal substrings of ``norm_a`` made of consecutive bigrams that are also in ``grams_b``, longest first."""
    found: dict[str, None] = {}
    for run in _runs(norm_a):
        if run.isascii():
            if run.lower() in grams_b:
                found.setdefault(run, None)
            continue
        i, n = 0, len(run)
        while i < n - 1:
            if run[i : i + 2] in grams_b:
                j = i
                while j + 1 < n - 1 and run[j + 1 : j + 3] in grams_b:
                    j += 1
                found.setdefault(run[i : j + 2], None)
                i = j + 1
            else:
                i += 1
    return sorted(found, key=lambda t: (-len(t), t))[:limit]


# ---- traces --------------------------------------------------------------------------------------------------

_STRIP_RE = re.compile(r"[\s\W_]+", re.UNICODE)


def _material_text(name: str) -> str:
    return _STRIP_RE.sub("", canonical(name)).lower()


@dataclass(frozen=True)
class TraceHit:
    material: str
    terms: tuple[str, ...]
    categories: tuple[str, ...]


class TraceMatcher:
    """Finds trace terms in material names (tolerant: NFKC, case, spaces, punctuation; exceptions and negations)."""

    def __init__(self, terms: Sequence[tuple[str, Sequence[str]]], exceptions: Sequence[str]) -> None:
        self._cat: dict[str, str] = {}
        for cat, words in terms:
            for w in words:
                self._cat.setdefault(_material_text(w), cat)
        words_n = sorted((w for w in self._cat if w), key=len, reverse=True)
        self._re = re.compile("|".join(map(re.escape, words_n))) if words_n else None
        exc = sorted({_material_text(e) for e in exceptions if _material_text(e)}, key=len, reverse=True)
        self._exc_re = re.compile("|".join(map(re.escape, exc))) if exc else None
        neg = sorted({_material_text(n) for n in _NEGATIONS}, key=len, reverse=True)
        self._neg_re = re.compile("(?:" + "|".join(map(re.escape, neg)) + r")\w{0,3}$")

    def match(self, name: str) -> TraceHit | None:
        if self._re is None:
            return None
        text = _material_text(name)
        if self._exc_re is not None:
            text = self._exc_re.sub("|", text)
        terms: dict[str, None] = {}
        cats: dict[str, None] = {}
        for m in self._re.finditer(text):
            # 「无需提供照片」: the term is excluded, not asked for.
            if self._neg_re.search(text, max(0, m.start() - 6), m.start()):
                continue
            terms.setdefault(m.group(), None)
            cats.setdefault(self._cat[m.group()], None)
        if not terms:
            return None
        return TraceHit(name, tuple(terms), tuple(cats))


# ---- data catalog fields -------------------------------------------------------------------------------------

_FIELD_PERIOD_RE = re.compile(r"^(?:\d{2,4}年(?:度)?|本年度|上年度|本年|上年|全年)")
_FIELD_UNIT_RE = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_FIELD_SUFFIX_RE = re.compile(
    r"(?:数量|总数|总量|情况|信息|数据|统计表|统计|一览表|汇总表|明细表|明细|表|数)+$"
)


def field_key(label: str, aliases: Mapping[str, str] | None = None) -> str:
    """The key two labels of one statistic share: NFKC, units in brackets, periods, punctuation and generic
    suffixes (数, 数量, 情况, 信息, 数据, 统计表 …) removed, then the alias table. 「2025年常住人口数（人）」 and
    「常住人口」 share a key; 「户籍人口」 does not."""
    text = _FIELD_UNIT_RE.sub("", canonical(label))
    text = _STRIP_RE.sub("", text).lower()
    text = _FIELD_PERIOD_RE.sub("", text)
    stripped = _FIELD_SUFFIX_RE.sub("", text)
    key = stripped if len(stripped) >= 2 else text
    if aliases:
        key = aliases.get(key, key)
    return key


class FieldIndex:
    """Which townships already hold which data field (一表通), with the catalog reference of each."""

    def __init__(
        self, held: Mapping[str, Mapping[str, str]], aliases: Sequence[tuple[str, str]] = ()
    ) -> None:
        self.aliases: dict[str, str] = {}
        for a, b in aliases:
            kb = field_key(b)
            self.aliases[field_key(a)] = kb
            self.aliases.setdefault(kb, kb)
        self._by_key: dict[str, dict[str, str]] = defaultdict(dict)
        self._label: dict[str, str] = {}
        for township, fields in held.items():
            for label, ref in fields.items():
                k = self.key(label)
                self._by_key[k].setdefault(township, ref)
                self._label.setdefault(k, label)

    def key(self, label: str) -> str:
        return field_key(label, self.aliases)

    def catalog_label(self, key: str) -> str:
        return self._label.get(key, key)

    def holders(self, key: str) -> dict[str, str]:
        return self._by_key.get(key, {})

    def lookup(self, label: str, targets: Iterable[str]) -> dict[str, str]:
        """township -> catalog reference, for the ``targets`` that hold ``label``."""
        h = self.holders(self.key(label))
        return {t: h[t] for t in targets if t in h}


# ---- the review ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _It:
    src: PlanItem
    pos: int
    s: int  # start ordinal
    e: int  # end ordinal
    norm: str
    grams: set[str]
    vec: dict[str, float]  # bigram -> IDF weight
    mass: float  # sum of squared weights
    prefix: list[str]


def _priority(it: _It) -> tuple[bool, int, int]:
    """Kept first at a township over a cap: planned before out-of-plan, then earlier start, then lower id."""
    return (it.src.out_of_plan, it.s, it.src.id)


def _validate(items: Sequence[PlanItem], known: set[str]) -> None:
    seen: set[int] = set()
    for it in items:
        if it.id in seen:
            raise ValueError(f"计划事项编号 {it.id} 重复")
        seen.add(it.id)
        if it.kind not in KINDS:
            raise ValueError(f"计划事项 {it.id} 的类型 {it.kind!r} 无效（督查、检查或考核）")
        if it.end < it.start:
            raise ValueError(f"计划事项 {it.id} 的结束日期早于开始日期")
        if it.hours < 0 or not math.isfinite(it.hours):
            raise ValueError(f"计划事项 {it.id} 的预计时长无效")
        if it.targets is not None:
            if not it.targets:
                raise ValueError(f"计划事项 {it.id} 没有对象乡镇")
            unknown = it.targets - known
            if unknown:
                shown = "、".join(sorted(unknown)[:5])
                raise ValueError(f"计划事项 {it.id} 的对象乡镇不在本县：{shown}")


def _overlap_townships(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """Townships two items share; None = all of the county."""
    if a is None:
        return b
    if b is None:
        return a
    return a & b if len(a) <= len(b) else b & a


def _listed(codes: Iterable[str], limit: int) -> tuple[str, ...]:
    return tuple(heapq.nsmallest(limit, codes))


def _iso(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


class _Review:
    def __init__(
        self,
        items: Sequence[PlanItem],
        townships: Sequence[str],
        held: Mapping[str, Mapping[str, str]],
        rules: ReviewRules,
    ) -> None:
        rules.check()
        self.rules = rules
        self.all_codes = tuple(dict.fromkeys(townships))
        self.known = set(self.all_codes)
        _validate(items, self.known)
        self.held = held
        names = {canonical(it.department_name) for it in items if it.department_name}
        # Short forms too: 「县应急管理局」 files topics that say 「应急管理局」.
        names |= {n[1:] for n in names if n.startswith("县") and len(n) > 3}
        names_re = (
            re.compile("|".join(map(re.escape, sorted(names, key=len, reverse=True)))) if names else None
        )
        norms = [topic_norm(it.topic, names_re) for it in items]
        grams = [bigrams(n) for n in norms]
        n = len(items)
        df: dict[str, int] = defaultdict(int)
        for gs in grams:
            for g in gs:
                df[g] += 1
        self.idf = {g: math.log(1.0 + n / c) for g, c in df.items()}
        # Scores are compared as shown (rounded to 0.1), so a raw score 0.05 below a threshold may still reach it.
        t_low = (min(rules.near_duplicate_threshold, rules.split_threshold) - 0.05) / 100.0
        self.items: list[_It] = []
        for pos, (it, nm, gs) in enumerate(zip(items, norms, grams, strict=True)):
            vec = {g: self.idf[g] for g in gs}
            mass = sum(v * v for v in vec.values())
            # Probe prefix: the rarest bigrams holding more than 1 − t of the item's mass. A pair scoring t or more
            # has the smaller topic share at least t of its mass with the other (containment ≥ score), so it
            # shares a bigram of the smaller one's prefix.
            ordered = sorted(gs, key=lambda g: (df[g], g))
            suffix = 0.0
            cut = len(ordered)
            for k in range(len(ordered) - 1, -1, -1):
                suffix += vec[ordered[k]] ** 2
                if suffix >= t_low * mass:
                    break
                cut = k
            self.items.append(
                _It(it, pos, it.start.toordinal(), it.end.toordinal(), nm, gs, vec, mass, ordered[:cut])
            )
        self.pairs_checked = 0

    # -- similar pairs --

    def similar_pairs(
        self,
    ) -> tuple[dict[int, list[tuple[int, float, int, int]]], list[tuple[int, int, float]]]:
        """Cross-department pairs (both directions) with score, and same-department split pairs.

        Every item probes the full index with its prefix and scores the candidates it is the smaller topic of
        (by mass, then position): the pair is certain to be found from that side if it can reach the threshold."""
        r = self.rules
        near = r.near_duplicate_threshold
        split_t = r.split_threshold
        min_days = r.min_overlap_days
        gap_max = r.split_gap_days
        small = r.split_small_hours
        dup: dict[int, list[tuple[int, float, int, int]]] = defaultdict(list)
        splits: list[tuple[int, int, float]] = []
        items = self.items
        post: dict[str, list[int]] = defaultdict(list)
        for x in items:
            for g in x.grams:
                post[g].append(x.pos)
        checked = 0
        sqrt = math.sqrt
        for x in items:
            if not x.prefix:
                continue
            cand: set[int] = set()
            for g in x.prefix:
                cand.update(post[g])
            xs, xe, xd, xt, xv, xm, xp = x.s, x.e, x.src.department, x.src.targets, x.vec, x.mass, x.pos
            xh = x.src.hours
            xn = len(x.grams)
            for yp in cand:
                y = items[yp]
                ym = y.mass
                if ym < xm or (ym == xm and yp <= xp):
                    continue  # y is the smaller topic: the pair is scored from y's side
                checked += 1
                lo = xs if xs > y.s else y.s
                hi = xe if xe < y.e else y.e
                same = y.src.department == xd
                if same:
                    if hi < lo and not (lo - hi <= gap_max and xh <= small and y.src.hours <= small):
                        continue
                    thr = split_t
                else:
                    if hi - lo + 1 < min_days:
                        continue
                    thr = near
                yt = y.src.targets
                if xt is not None and yt is not None and xt.isdisjoint(yt):
                    continue
                yv = y.vec
                shared = 0.0
                for g, v in xv.items():
                    w = yv.get(g)
                    if w is not None:
                        shared += v * w
                # Cosine, corrected toward containment: the geometric mean of the cosine and the share of the
                # smaller topic's mass the larger covers (a generic topic inside a specific one, 消防安全 in
                # 九小场所消防安全, is the same inspection seen from further away). A topic of one or two bigrams
                # (财政, 河长制) says too little to be "contained": its containment counts a third per bigram.
                score = shared / sqrt(sqrt(xm * xm * xm * ym))
                if xn < _FULL_BIGRAMS:
                    score *= sqrt(xn / _FULL_BIGRAMS)
                # Rounded here, so every rule compares exactly the figure the explanation shows.
                rounded = round(min(score, 1.0) * 100.0, 1)
                if rounded < thr:
                    continue
                if same:
                    splits.append((xp, yp, rounded))
                else:
                    dup[xp].append((yp, rounded, lo, hi))
                    dup[yp].append((xp, rounded, lo, hi))
        self.pairs_checked = checked
        return dup, splits

    def duplicate_flags(self, dup: dict[int, list[tuple[int, float, int, int]]]) -> list[Flag]:
        r = self.rules
        out: list[Flag] = []
        for pos in sorted(dup):
            x = self.items[pos]
            pairs = sorted(dup[pos], key=lambda p: (-p[1], self.items[p[0]].src.id))
            strong = [p for p in pairs if p[1] >= r.duplicate_threshold]
            weak = [p for p in pairs if p[1] < r.duplicate_threshold]
            for rule, group in (("duplicate", strong), ("near_duplicate", weak)):
                if group:
                    out.append(self._dup_flag(x, rule, group))
        return out

    def _dup_flag(self, x: _It, rule: str, group: list[tuple[int, float, int, int]]) -> Flag:
        r = self.rules
        union: set[str] = set()
        everywhere = False
        listed: list[dict[str, Any]] = []
        for yp, score, lo, hi in group:
            y = self.items[yp]
            shared = _overlap_townships(x.src.targets, y.src.targets)
            if shared is None:
                everywhere = True
                count = len(self.all_codes)
                shown: tuple[str, ...] = ()
            else:
                if not everywhere:
                    union |= shared
                count = len(shared)
                shown = _listed(shared, 5)
            if len(listed) < r.max_listed:
                listed.append(
                    {
                        "other": y.src.id,
                        "department": y.src.department,
                        "department_name": y.src.department_name,
                        "topic": y.src.topic,
                        "kind": y.src.kind,
                        "score": score,
                        "from": _iso(lo),
                        "to": _iso(hi),
                        "days": hi - lo + 1,
                        "township_count": count,
                        "all_townships": shared is None,
                        "townships": list(shown),
                        "terms": shared_terms(x.norm, y.grams),
                    }
                )
        if everywhere:
            townships: tuple[str, ...] = _listed(self.all_codes, r.max_listed)
            total = len(self.all_codes)
        else:
            townships = _listed(union, r.max_listed)
            total = len(union)
        return Flag(
            rule=rule,
            item=x.src.id,
            others=tuple(self.items[p[0]].src.id for p in group),
            score=group[0][1],
            townships=townships,
            code=rule,
            params={
                "topic": x.src.topic,
                "pairs": listed,
                "pair_count": len(group),
                "township_count": total,
                "all_townships": everywhere,
            },
        )

    def split_flags(self, splits: list[tuple[int, int, float]]) -> list[Flag]:
        """One flag per item with the items it forms a split pair with (direct partners only: two batches of one
        campaign that share no township are not a split, even when a third item touches both)."""
        partners: dict[int, dict[int, float]] = defaultdict(dict)
        for a, b, s in splits:
            partners[a][b] = s
            partners[b][a] = s
        out: list[Flag] = []
        r = self.rules
        for pos in sorted(partners):
            x = self.items[pos]
            ps = sorted(partners[pos], key=lambda p: (self.items[p].s, self.items[p].src.id))
            ms = [x, *(self.items[p] for p in ps)]
            shared: set[str] = set()
            everywhere = x.src.targets is None
            for m in ms[1:]:
                ov = _overlap_townships(x.src.targets, m.src.targets)
                if ov is None:
                    everywhere = True
                    break
                shared |= ov
            codes = self.all_codes if everywhere else shared
            # Terms the item shares with every partner.
            common = set(x.grams)
            for m in ms[1:]:
                common &= m.grams
            out.append(
                Flag(
                    rule="split",
                    item=x.src.id,
                    others=tuple(m.src.id for m in ms[1:]),
                    score=max(partners[pos].values()),
                    townships=_listed(codes, r.max_listed),
                    code="split",
                    params={
                        "department": x.src.department,
                        "department_name": x.src.department_name,
                        "topic": x.src.topic,
                        "topics": [m.src.topic for m in ms[1 : 1 + r.max_listed]],
                        "items": len(ms),
                        "hours": round(sum(m.src.hours for m in ms), 2),
                        "from": _iso(min(m.s for m in ms)),
                        "to": _iso(max(m.e for m in ms)),
                        "terms": shared_terms(x.norm, common),
                        "township_count": len(codes),
                        "all_townships": everywhere,
                    },
                )
            )
        return out

    # -- quotas --

    def _over_cap(self, group: list[_It], cap: int) -> dict[int, tuple[set[str], int]]:
        """Items past ``cap`` at some township, each with those townships and the highest count among them.
        All-township items are counted once as a base, never expanded into their targets."""
        order = sorted(group, key=_priority)
        base = [it for it in order if it.src.targets is None]
        own: dict[str, list[_It]] = defaultdict(list)
        for it in order:
            if it.src.targets is not None:
                for t in it.src.targets:
                    own[t].append(it)
        out: dict[int, tuple[set[str], int]] = {}

        def mark(it: _It, townships: Iterable[str], count: int) -> None:
            got = out.get(it.pos)
            if got is None:
                out[it.pos] = (set(townships), count)
            else:
                got[0].update(townships)
                out[it.pos] = (got[0], max(got[1], count))

        n_base = len(base)
        if n_base > cap:
            plain = [t for t in self.all_codes if t not in own]
            if plain:
                for it in base[cap:]:
                    mark(it, plain, n_base)
        for t, mine in own.items():
            total = n_base + len(mine)
            if total <= cap:
                continue
            merged: Iterator[_It] = heapq.merge(base, mine, key=_priority) if base else iter(mine)
            for rank, it in enumerate(merged):
                if rank >= cap:
                    mark(it, (t,), total)
        return out

    def quota_flags(self) -> list[Flag]:
        r = self.rules
        onsite = [it for it in self.items if it.src.onsite]
        by_q: dict[tuple[int, int], list[_It]] = defaultdict(list)
        by_y: dict[int, list[_It]] = defaultdict(list)
        for it in onsite:
            st = it.src.start
            by_q[(st.year, (st.month - 1) // 3 + 1)].append(it)
            by_y[st.year].append(it)
        out: list[Flag] = []
        for (year, q), group in sorted(by_q.items()):
            for pos, (ts, count) in self._over_cap(group, r.onsite_per_quarter).items():
                out.append(
                    self._quota_flag(
                        "over_quota",
                        "over_quota_quarter",
                        pos,
                        ts,
                        count,
                        r.onsite_per_quarter,
                        {"year": year, "quarter": q},
                    )
                )
        for year, group in sorted(by_y.items()):
            for pos, (ts, count) in self._over_cap(group, r.onsite_per_year).items():
                out.append(
                    self._quota_flag(
                        "over_quota", "over_quota_year", pos, ts, count, r.onsite_per_year, {"year": year}
                    )
                )
        by_dy: dict[tuple[str, int], list[_It]] = defaultdict(list)
        for it in self.items:
            if it.src.comprehensive:
                by_dy[(it.src.department, it.src.start.year)].append(it)
        for (dept, year), group in sorted(by_dy.items()):
            over = self._over_cap(group, r.comprehensive_per_year)
            if not over:
                continue
            kept = [it for it in sorted(group, key=_priority) if it.pos not in over]
            for pos, (ts, count) in over.items():
                x = self.items[pos]
                earlier = [it for it in sorted(group, key=_priority) if _priority(it) < _priority(x)]
                others = [it.src.id for it in (earlier or kept)]
                f = self._quota_flag(
                    "comprehensive_quota",
                    "comprehensive_quota",
                    pos,
                    ts,
                    count,
                    r.comprehensive_per_year,
                    {"year": year, "department": dept, "department_name": x.src.department_name},
                )
                out.append(
                    Flag(
                        f.rule, f.item, tuple(others[: r.max_listed]), f.score, f.townships, f.code, f.params
                    )
                )
        return out

    def _quota_flag(
        self, rule: str, code: str, pos: int, ts: set[str], count: int, cap: int, extra: dict[str, Any]
    ) -> Flag:
        x = self.items[pos]
        targets = len(self.all_codes) if x.src.targets is None else len(x.src.targets)
        params = {
            **extra,
            "cap": cap,
            "count": count,
            "township_count": len(ts),
            "target_count": targets,
            "all_targets": len(ts) == targets,
            "out_of_plan": x.src.out_of_plan,
            "start": x.src.start.isoformat(),
        }
        return Flag(rule, x.src.id, (), None, _listed(ts, self.rules.max_listed), code, params)

    # -- materials and data --

    def trace_flags(self) -> tuple[list[Flag], list[Flag]]:
        r = self.rules
        matcher = TraceMatcher(r.trace_terms, r.trace_exceptions)
        flags: list[Flag] = []
        notes: list[Flag] = []
        for x in self.items:
            bare: list[dict[str, Any]] = []
            cited: list[dict[str, Any]] = []
            for m in x.src.materials:
                hit = matcher.match(m.name)
                if hit is None:
                    continue
                entry: dict[str, Any] = {
                    "material": m.name,
                    "terms": list(hit.terms),
                    "categories": list(hit.categories),
                }
                if m.basis.strip():
                    entry["basis"] = m.basis.strip()
                    cited.append(entry)
                else:
                    bare.append(entry)
            for rule_list, code, got in (
                (flags, "trace_demand", bare),
                (notes, "trace_demand_with_basis", cited),
            ):
                if got:
                    rule_list.append(
                        Flag(
                            "trace_demand",
                            x.src.id,
                            (),
                            None,
                            (),
                            code,
                            {"materials": got, "count": len(got)},
                        )
                    )
        return flags, notes

    def data_flags(self) -> list[Flag]:
        r = self.rules
        index = FieldIndex(self.held, r.field_aliases)
        out: list[Flag] = []
        all_n = len(self.all_codes)
        for x in self.items:
            if not x.src.data_fields:
                continue
            targets = x.src.targets
            n_t = all_n if targets is None else len(targets)
            fields: list[dict[str, Any]] = []
            union: set[str] = set()
            for label in dict.fromkeys(x.src.data_fields):
                key = index.key(label)
                holders = index.holders(key)
                if not holders:
                    continue
                if targets is None:
                    hit = [t for t in holders if t in self.known]
                elif len(targets) <= len(holders):
                    hit = [t for t in targets if t in holders]
                else:
                    hit = [t for t in holders if t in targets]
                if not hit:
                    continue
                union.update(hit)
                refs = list(dict.fromkeys(holders[t] for t in sorted(hit)))
                fields.append(
                    {
                        "field": label,
                        "catalog_field": index.catalog_label(key),
                        "held": len(hit),
                        "of": n_t,
                        "all": len(hit) == n_t,
                        "refs": refs[:5],
                        "ref_count": len(refs),
                        "townships": list(_listed(hit, 5)),
                    }
                )
            if fields:
                out.append(
                    Flag(
                        "data_held",
                        x.src.id,
                        (),
                        None,
                        _listed(union, r.max_listed),
                        "data_held",
                        {
                            "fields": fields,
                            "count": len(fields),
                            "requested": len(x.src.data_fields),
                            "township_count": len(union),
                            "target_count": n_t,
                        },
                    )
                )
        return out


def review(
    items: Sequence[PlanItem],
    *,
    townships: Sequence[str],
    held: Mapping[str, Mapping[str, str]] | None = None,
    rules: ReviewRules | None = None,
) -> ReviewResult:
    """Review every plan item of a county (or any set reviewed together). Pure: same input, same flags."""
    run = _Review(items, townships, held or {}, rules or ReviewRules())
    dup, splits = run.similar_pairs()
    flags = run.duplicate_flags(dup)
    flags += run.split_flags(splits)
    flags += run.quota_flags()
    trace, notes = run.trace_flags()
    flags += trace
    flags += run.data_flags()
    order = {rule: i for i, rule in enumerate(RULES)}
    flags.sort(key=lambda f: (f.item, order[f.rule], f.code))
    onsite = [it.src for it in run.items if it.src.onsite]
    n_all = len(run.all_codes)
    counts = dict.fromkeys(RULES, 0)
    for f in flags:
        counts[f.rule] += 1
    stats: dict[str, Any] = {
        "items": len(items),
        "onsite_items": len(onsite),
        "out_of_plan": sum(1 for it in items if it.out_of_plan),
        "townships": n_all,
        "onsite_demands": sum(n_all if it.targets is None else len(it.targets) for it in onsite),
        "flags": counts,
        "notes": len(notes),
        "items_flagged": len({f.item for f in flags}),
        "candidate_pairs": run.pairs_checked,
    }
    return ReviewResult(flags=flags, notes=notes, stats=stats)
