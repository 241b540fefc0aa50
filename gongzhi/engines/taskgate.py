"""The task gate (任务准入): decide whether a department's task may reach a township, against the township's duty list.

清单之外无事项，清单之内严准入. A task that matches a 基本履职事项 is admitted; a 配合履职事项 is admitted as
assistance (the department stays the lead); a 上级部门收回事项 is refused (the department does it itself); anything
else is held for 职责准入 by the county. Framing labels (属地管理, 工作专班, 责任状, 包保 …) are stripped before
matching, so they cannot change an outcome; each task is matched on its own text, so splitting a task into parts
decides each part as it would be decided alone.

Similarity is Chinese character bigrams, IDF-weighted across the list: the score (0..100) blends how much of an
item's *name* the task covers (the name says what the duty is) with the cosine between the task and the item's name
plus content (names weighted above content, task titles above task bodies). Generic filler (工作, 开展, 落实, 组织 …)
is removed first so it cannot create matches. Text is NFKC-normalised and invisible characters (zero-width spaces,
joiners, BOM …) and spaces between Chinese characters are removed first, so 「占 道 经 营」 is 「占道经营」. The index
is built once per list: an inverted index from bigram to items, so a decision touches only items sharing a bigram
with the task.

What the task says to do decides, not what it calls itself:

- **Names are claims.** An item's name written in the title is not evidence that the task is that item: when the
  content says something of substance, the names of basic and cooperative items are removed from the title before
  matching (a reclaimed item's name stays: a name may refuse, never admit). A name written in the content counts,
  but the rest of the task must then fit that item at the citation threshold, as a citation must.
- **Every part must fit.** The title and each sentence of the content that says something of its own (at least
  ``_PART_SUBSTANCE`` bigrams once names are removed; procedural boilerplate such as 「于月底前报送进展情况」 is not
  substance) must either be related to the matched item (a score of at least ``_PART_FLOOR``) or match a basic or
  cooperative item on its own. A part that matches nothing is work outside the
  list carried in by a matching part: the task is held for 职责准入 (rule ``off_list_part``).
- **Reclaimed items come first.** Besides a reclaimed item within the margin of the best match (refused), a
  reclaimed item that passes the threshold on the content as a whole and is the best match of one of its clauses, or
  that a sentence unrelated to the matched item matches, is a reclaimed duty bundled with the township's own: refused
  when it fits the content about as well as the matched item, otherwise held for the county office (rule
  ``reclaimed_part``). A citation cannot carry such a bundle either.
- **Lists are not tasks.** A task matching more than ``_MAX_MATCHES`` items is held (rule ``too_broad``).

Pure Python, no Django.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

CATEGORIES = ("basic", "cooperative", "reclaimed")
CATEGORY_LABELS = {"basic": "基本履职事项", "cooperative": "配合履职事项", "reclaimed": "上级部门收回事项"}
OUTCOME_LABELS = {
    "admitted": "准予进入",
    "assistance": "按配合事项准入",
    "refused": "不予准入",
    "held": "待县级职责准入",
}
RULE_LABELS = {
    "basic_item": "基本履职事项，乡镇牵头",
    "cooperative_item": "配合履职事项，部门牵头、乡镇配合",
    "reclaimed_item": "上级部门收回事项，由部门自行承担",
    "no_match": "清单之外无事项，须经职责准入",
    "cited_mismatch": "所引事项与任务内容不符，交县委编办裁定",
    "cited_unknown": "所引事项不在清单中，交县委编办裁定",
    "off_list_part": "任务夹带清单之外的工作，须经职责准入",
    "reclaimed_part": "任务夹带上级部门收回事项，交县委编办裁定",
    "too_broad": "任务罗列事项过多，须经职责准入",
}

# Defaults, calibrated on the county template (gongzhi.duties.catalog), its sample tasks and the bench's paraphrases:
# true matches score 43 and up there (one paraphrase excepted), off-list tasks 35 and below; the closest pair of items of different categories
# (土地承包经营纠纷 调解 / 仲裁) is 6.6 apart, so a 5-point margin separates a near-tie from a different duty.
DEFAULT_THRESHOLD = 40.0
DEFAULT_CITE_THRESHOLD = 30.0
DEFAULT_MARGIN = 5.0

# Weights of the score: share of name coverage, and the cosine at which the text part saturates.
_NAME_SHARE = 0.35
_COS_SATURATION = 0.4
_ITEM_NAME_WEIGHT = 2.0
_NAME_PRIOR = 1.0
_TASK_TITLE_WEIGHT = 1.5

# A substantive part of a task (the title, a sentence of the content; item names taken out) must score at least this
# against the matched item. The weakest genuine parts on the template's samples and paraphrases score 8.8 (「今年高标准
# 农田建设项目进场施工」 without the name, against 高标准农田建设) and 12.9; each off-list sample or paraphrase reaches it
# against at most 6 of the 216 basic and cooperative items, and most items score 0 against it.
_PART_FLOOR = 8.0
# Bigrams a text needs, after labels, filler and procedural phrases, to say something of its own: a content with
# fewer leaves the title to speak for the task.
_SUBSTANCE_MIN = 4
# Bigrams a part unrelated to the matched item needs to count as separate work. Genuine follow-up sentences
# (「发现焚烧及时扑灭」 4, 「建立隐患整改台账」 5, 「汛期实行24小时值班」 6) stay below; each off-list sample and
# paraphrase has 7 or more (「完成年度报刊征订任务」 7, an investment quota 17).
_PART_SUBSTANCE = 7
# The most items a genuine task matches at the threshold on the template is 5; a task matching more lists items.
_MAX_MATCHES = 6


# ---- data ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateItem:
    id: int
    category: str
    name: str
    content: str = ""
    number: str = ""
    lead_department: str = ""
    reclaimed_by: str = ""


@dataclass(frozen=True)
class GateTask:
    """A task as sent. ``basis`` is kept for the record but not matched: quoting a law must not steer the gate."""

    title: str
    content: str
    basis: str = ""
    department: str = ""
    cited_item_id: int | None = None


@dataclass(frozen=True)
class Match:
    item_id: int
    category: str
    name: str
    number: str
    score: float  # 0..100

    def label(self) -> str:
        """「配合履职事项 12「名称」（相似度 73.5）」 — how explanations name an item."""
        num = f" {self.number}" if self.number else ""
        return f"{CATEGORY_LABELS.get(self.category, self.category)}{num}「{self.name}」（相似度 {self.score:.1f}）"


@dataclass(frozen=True)
class Decision:
    outcome: str  # admitted | assistance | refused | held
    rule: str  # basic_item | cooperative_item | reclaimed_item | no_match | cited_mismatch | cited_unknown
    explanation: str
    matched: tuple[Match, ...]
    suggestions: tuple[Match, ...]
    labels: tuple[str, ...]
    cited_fits: bool | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "rule": self.rule,
            "explanation": self.explanation,
            "matched": [asdict(m) for m in self.matched],
            "suggestions": [asdict(m) for m in self.suggestions],
            "labels": list(self.labels),
            "cited_fits": self.cited_fits,
        }


# ---- text normalisation --------------------------------------------------------------------------------------

# Framing labels: each alternative is a named group whose name says which label it is. Longer forms first.
_LABEL_NAMES = {
    "sdgl": "属地管理",
    "sdzr": "属地责任",
    "sd": "属地管理",
    "zb": "工作专班",
    "zrz": "责任状",
    "bb": "包保",
    "jlz": "军令状",
}
_LABEL_RE = re.compile(
    r"(?P<sdgl>(?:严格)?(?:按照|根据|坚持|落实|压实|履行|强化)?属地管理(?:的)?(?:原则|责任|要求|职责)?)"
    r"|(?P<sdzr>(?:严格)?(?:落实|压实|履行|夯实|强化)?(?:乡镇)?属地(?:主体)?(?:责任|职责))"
    r"|(?P<sd>(?:按照|根据|坚持)?属地(?:原则)?)"
    r"|(?P<zb>(?:成立|组建|抽调人员组成|抽调人员成立|抽调精干力量组建|实行)?(?:工作)?专班(?:制|机制|推进)?)"
    r"|(?P<zrz>(?:层层)?(?:签订|签署|递交)?(?:目标)?责任(?:状|书))"
    r"|(?P<bb>(?:实行|落实)?(?:干部)?包保(?:责任)?(?:制)?)"
    r"|(?P<jlz>(?:立下|签订)?军令状)"
)

# Words kept whole even though they contain a filler word (党组织 must not lose 组织's neighbours).
_PROTECTED = (
    "党组织",
    "基层组织",
    "社会组织",
    "经济组织",
    "群团组织",
    "组织生活",
    "社会工作",
    "工作站",
    "工作队",
)
# Generic filler: instructions and connectives every task and item share; they would only create false matches.
_FILLERS = (
    "决策部署",
    "通知如下",
    "进展情况",
    "贯彻",
    "部署",
    "现将",
    "如下",
    "报送",
    "调度",
    "通报",
    "定期",
    "县委",
    "县政府",
    "进一步",
    "本辖区",
    "辖区内",
    "各乡镇",
    "各村",
    "全县",
    "辖区",
    "乡镇",
    "街道",
    "镇街",
    "工作",
    "开展",
    "做好",
    "抓好",
    "落实",
    "负责",
    "有关",
    "相关",
    "组织",
    "切实",
    "认真",
    "扎实",
    "全力",
    "全面",
    "深入",
    "持续",
    "加快",
    "加强",
    "积极",
    "及时",
    "务必",
    "确保",
    "有效",
    "推进",
    "推动",
    "按照",
    "根据",
    "要求",
    "任务",
    "事项",
    "专项",
    "行动",
    "方案",
    "通知",
    "关于",
    "必须",
    "的",
    "和",
    "与",
    "及",
    "等",
    "并",
    "将",
    "请",
    "须",
)
_FILLER_RE = re.compile(
    "("
    + "|".join(map(re.escape, _PROTECTED))
    + ")|(?:"
    + "|".join(map(re.escape, sorted(_FILLERS, key=len, reverse=True)))
    + ")"
)
# Numbers with their units (2025年, 5亿元, 30%) say how much, not what.
_NUMBER_RE = re.compile(r"[0-9０-９]+(?:[.．][0-9０-９]+)?[年月日号个万亿元人户次家项%％]*")
_TOKEN_RE = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z]+")

# ---- canonical text: what a reader sees, whatever the bytes ----------------------------------------------------

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Format characters (zero-width space and joiners, BOM, bidi marks, soft hyphen, tags): invisible, so they can only
# serve to split words.
_FORMAT_CHARS: dict[int, None] = dict.fromkeys(
    [cp for cp in range(0x10000) if unicodedata.category(chr(cp)) == "Cf"] + list(range(0xE0000, 0xE0080))
)
# Chinese is written without spaces: a space between two Chinese characters only splits a word (a newline stays, it
# ends a sentence).
_GAP_RE = re.compile(rf"(?<=[{_CJK}])[^\S\n]+(?=[{_CJK}])")
_CJK_RUN_RE = re.compile(rf"[{_CJK}]+")
# In text written character by character (占·道·经·营), any short separator between two characters goes too.
_SCATTER_GAP_RE = re.compile(rf"(?<=[{_CJK}])[^{_CJK}\w。;；!！?？\n]{{1,3}}(?=[{_CJK}])")


def canonical(text: str) -> str:
    """``text`` NFKC-normalised, without invisible characters and without spaces between Chinese characters."""
    text = _GAP_RE.sub("", unicodedata.normalize("NFKC", text.translate(_FORMAT_CHARS)))
    runs = _CJK_RUN_RE.findall(text)
    single = sum(1 for r in runs if len(r) == 1)
    if single >= 4 and 2 * single >= sum(map(len, runs)):
        text = _SCATTER_GAP_RE.sub("", text)
    return text


def _find_labels(canon: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for m in _LABEL_RE.finditer(canon):
        seen.setdefault(_LABEL_NAMES[m.lastgroup or "sd"], None)
    return tuple(seen)


def find_labels(text: str) -> tuple[str, ...]:
    """The framing labels in ``text``, each once, in order of first appearance."""
    return _find_labels(canonical(text))


def _strip_names(text: str, names_re: re.Pattern[str] | None) -> str:
    return names_re.sub(" ", text) if names_re is not None else text


def _normalize(text: str, names_re: re.Pattern[str] | None) -> str:
    text = _LABEL_RE.sub(" ", text)
    text = _strip_names(text, names_re)
    text = _NUMBER_RE.sub(" ", text)
    return _FILLER_RE.sub(lambda m: m.group(1) or " ", text)


def normalize(text: str, names_re: re.Pattern[str] | None = None) -> str:
    """Text with labels, department names, numbers and filler replaced by separators (so no bigram spans them)."""
    return _normalize(canonical(text), names_re)


def _grams(norm: str) -> set[str]:
    out: set[str] = set()
    for run in _TOKEN_RE.findall(norm):
        if run.isascii():
            out.add(run.lower())
        else:
            out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


def grams(text: str, names_re: re.Pattern[str] | None = None) -> set[str]:
    """Character bigrams of each CJK run (Latin words whole) after normalisation."""
    return _grams(normalize(text, names_re))


# ---- parts of a task -----------------------------------------------------------------------------------------

# A bracketed aside of four characters or more (「（企业走访与营商环境优化）」) is a sentence of its own; a short one
# (村（社区）) belongs to its sentence.
_LONG_ASIDE_RE = re.compile(r"[(\[【〔]([^()\[\]【】〔〕]{4,})[)\]】〕]")
_SENTENCE_RE = re.compile(r"[。;；!！?？:：\n]+")
_CLAUSE_RE = re.compile(r"[,，()\[\]【】〔〕]+")
# Procedural phrases (deadlines, reporting, record keeping, ranking): they say how the work is tracked, not what it
# is, so a sentence made of them has no substance. Applied after filler is removed (报送, 进展情况, 定期 are filler).
_PROCEDURAL_RE = re.compile(
    r"[于在]?(?:每|本|今|明|下|上)?(?:周[一二三四五六日]?|月|季度|季|旬|年|天|日)?(?:底|末|初)?(?:之前|以前|前)"
    r"|每(?:天|日|周|月|季度|季|旬|年)|按时|按期|如期|限期|上报|报告|汇报|录入系统|录入|建立台账|台账|排名|考核"
    r"|纳入|督办|督查|情况|结果|材料|县里"
)
_QUOTE_TABLE = str.maketrans({",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "!": "！", "?": "？"})


@dataclass
class _Part:
    """A piece of a task: its canonical text (quoted in explanations), normalised text and bigrams."""

    text: str
    norm: str
    grams: set[str]

    def quote(self, limit: int = 40) -> str:
        t = self.text.strip(" ,，、").translate(_QUOTE_TABLE)
        return t if len(t) <= limit else t[: limit - 1] + "…"


def _substance(norm: str) -> int:
    """How many bigrams ``norm`` (normalised text) has once procedural phrases are removed."""
    return len(_grams(_PROCEDURAL_RE.sub(" ", norm)))


@dataclass
class _Sentence:
    """A sentence of the content: the whole (its own text, quoted as written) and its comma clauses."""

    whole: _Part
    clauses: list[_Part]


def _sentences(text: str, names_re: re.Pattern[str] | None) -> list[_Sentence]:
    """The canonical ``text`` as sentences."""
    out: list[_Sentence] = []
    for sent in _SENTENCE_RE.split(_LONG_ASIDE_RE.sub(r"。\1。", text)):
        clauses = []
        for c in _CLAUSE_RE.split(sent):
            if c.strip():
                norm = _normalize(c, names_re)
                clauses.append(_Part(c, norm, _grams(norm)))
        if not clauses:
            continue
        if len(clauses) == 1:
            whole = clauses[0]
        else:
            whole = _Part(sent, " ".join(c.norm for c in clauses), set().union(*(c.grams for c in clauses)))
        out.append(_Sentence(whole, clauses))
    return out


# ---- the index -----------------------------------------------------------------------------------------------


class GateIndex:
    """An inverted bigram index over one duty list; build once per published list and reuse."""

    def __init__(
        self,
        items: Sequence[GateItem],
        *,
        threshold: float = DEFAULT_THRESHOLD,
        cite_threshold: float = DEFAULT_CITE_THRESHOLD,
        margin: float = DEFAULT_MARGIN,
    ) -> None:
        if not 0 <= cite_threshold <= 100 or not 0 <= threshold <= 100 or margin < 0:
            raise ValueError("阈值须在 0 到 100 之间，差距不能为负")
        self.threshold = float(threshold)
        self.cite_threshold = float(cite_threshold)
        self.margin = float(margin)
        self.items: tuple[GateItem, ...] = tuple(items)
        self._pos: dict[int, int] = {}
        for i, item in enumerate(self.items):
            if item.category not in CATEGORIES:
                raise ValueError(f"事项「{item.name}」的类别 {item.category!r} 无效")
            if item.id in self._pos:
                raise ValueError(f"事项编号 {item.id} 重复")
            self._pos[item.id] = i
        self._cats = tuple(it.category for it in self.items)

        # Department names are stripped from both sides: who sends or leads a task says nothing about what it is.
        depts = {canonical(d) for it in self.items for d in (it.lead_department, it.reclaimed_by) if d}
        self._names_re = (
            re.compile("|".join(map(re.escape, sorted(depts, key=len, reverse=True)))) if depts else None
        )

        name_norms = [normalize(it.name, self._names_re) for it in self.items]
        name_grams = [_grams(n) for n in name_norms]
        doc_grams = [
            ng | grams(it.content, self._names_re) for ng, it in zip(name_grams, self.items, strict=True)
        ]
        n = len(self.items)
        df: dict[str, int] = {}
        for dg in doc_grams:
            for g in dg:
                df[g] = df.get(g, 0) + 1
        self._idf = {g: math.log(1.0 + n / c) for g, c in df.items()}
        # A bigram no item has is as rare as it gets.
        self._idf_unknown = math.log(1.0 + max(n, 1))

        postings: dict[str, list[tuple[int, float, float]]] = {}
        self._norm: list[float] = []
        # Per item, bigram -> (name coverage share, weight): scores one item without touching the others.
        self._vec: list[dict[str, tuple[float, float]]] = []
        for i, (ng, dg) in enumerate(zip(name_grams, doc_grams, strict=True)):
            name_mass = sum(self._idf[g] for g in ng) + _NAME_PRIOR * self._idf_unknown
            sq = 0.0
            vec: dict[str, tuple[float, float]] = {}
            for g in dg:
                idf = self._idf[g]
                in_name = g in ng
                w = idf * (_ITEM_NAME_WEIGHT if in_name else 1.0)
                sq += w * w
                entry = (idf / name_mass if in_name and name_mass else 0.0, w)
                vec[g] = entry
                postings.setdefault(g, []).append((i, *entry))
            self._vec.append(vec)
            self._norm.append(math.sqrt(sq) or 1.0)
        self._postings = {g: tuple(p) for g, p in postings.items()}

        # Names written in a task: which items' names a text contains (all of the name's bigrams, two at least), and
        # the name's runs of characters, to take them out of the text.
        name_post: dict[str, list[int]] = {}
        for i, ng in enumerate(name_grams):
            for g in ng:
                name_post.setdefault(g, []).append(i)
        self._name_post = {g: tuple(p) for g, p in name_post.items()}
        self._name_need = [len(ng) for ng in name_grams]
        self._name_runs = [
            tuple(sorted((r for r in _TOKEN_RE.findall(nn) if len(r) >= 2), key=len, reverse=True))
            for nn in name_norms
        ]

    def __len__(self) -> int:
        return len(self.items)

    def get(self, item_id: int) -> GateItem | None:
        pos = self._pos.get(item_id)
        return None if pos is None else self.items[pos]

    # -- scoring --

    def _weights(self, title_grams: set[str], content_grams: set[str]) -> dict[str, float]:
        idf, unk = self._idf, self._idf_unknown
        return {
            g: idf.get(g, unk) * (_TASK_TITLE_WEIGHT if g in title_grams else 1.0)
            for g in title_grams | content_grams
        }

    def _task_weights(self, title: str, content: str) -> dict[str, float]:
        return self._weights(grams(title, self._names_re), grams(content, self._names_re))

    @staticmethod
    def _combine(cov: float, dot: float, tnorm: float, inorm: float) -> float:
        text = dot / (tnorm * inorm) / _COS_SATURATION
        s = 100.0 * (
            _NAME_SHARE * (cov if cov < 1.0 else 1.0) + (1.0 - _NAME_SHARE) * (text if text < 1.0 else 1.0)
        )
        # Rounded here, so every rule compares exactly the figure the explanation shows.
        return round(s, 1)

    def _scores(self, weights: dict[str, float]) -> dict[int, float]:
        """Score (0..100) of every item sharing at least one bigram with the task, by position."""
        if not weights:
            return {}
        tnorm = math.sqrt(sum(w * w for w in weights.values()))
        cov: dict[int, float] = {}
        dot: dict[int, float] = {}
        postings = self._postings
        for g, wt in weights.items():
            plist = postings.get(g)
            if plist is None:
                continue
            for i, nc, wi in plist:
                if nc:
                    cov[i] = cov.get(i, 0.0) + nc
                dot[i] = dot.get(i, 0.0) + wt * wi
        # The formula of ``_combine``, inlined: this loop is most of a decision's time.
        norm = self._norm
        out: dict[int, float] = {}
        for i, d in dot.items():
            text = d / (tnorm * norm[i]) / _COS_SATURATION
            c = cov.get(i, 0.0)
            s = 100.0 * (
                _NAME_SHARE * (c if c < 1.0 else 1.0) + (1.0 - _NAME_SHARE) * (text if text < 1.0 else 1.0)
            )
            out[i] = round(s, 1)
        return out

    def _score_one(self, weights: dict[str, float], pos: int) -> float:
        """The score of one item (by position); the same figure ``_scores`` gives it."""
        if not weights:
            return 0.0
        vec = self._vec[pos]
        cov = dot = 0.0
        for g, wt in weights.items():
            e = vec.get(g)
            if e is not None:
                cov += e[0]
                dot += wt * e[1]
        if not dot:
            return 0.0
        return self._combine(cov, dot, math.sqrt(sum(w * w for w in weights.values())), self._norm[pos])

    def _named(self, gs: set[str]) -> list[int]:
        """Positions of the items whose whole name (two bigrams at least) is in ``gs``."""
        hits: dict[int, int] = {}
        post = self._name_post
        for g in gs:
            for i in post.get(g, ()):
                hits[i] = hits.get(i, 0) + 1
        need = self._name_need
        return sorted(i for i, k in hits.items() if k == need[i] and k >= 2)

    def _without_names(self, norm: str, positions: Sequence[int]) -> str:
        for i in positions:
            for run in self._name_runs[i]:
                norm = norm.replace(run, " ")
        return norm

    def _match(self, pos: int, score: float) -> Match:
        it = self.items[pos]
        return Match(it.id, it.category, it.name, it.number, score)

    def _ranked(self, scores: dict[int, float], k: int) -> list[Match]:
        # Ties broken by list order, so a decision never depends on dict order.
        top = heapq.nsmallest(k, scores.items(), key=lambda kv: (-kv[1], kv[0]))
        return [self._match(i, s) for i, s in top]

    def suggest(self, text: str, k: int = 5) -> list[Match]:
        """The ``k`` items most similar to ``text`` (labels and filler ignored), best first."""
        return self._ranked(self._scores(self._task_weights(text, "")), k)

    def score(self, text: str, item_id: int) -> float:
        """Similarity (0..100) of ``text`` to one item; 0 for an unknown id."""
        pos = self._pos.get(item_id)
        if pos is None:
            return 0.0
        return self._scores(self._task_weights(text, "")).get(pos, 0.0)


# ---- the decision --------------------------------------------------------------------------------------------

_OUTCOME_OF = {"basic": "admitted", "cooperative": "assistance", "reclaimed": "refused"}
_RULE_OF = {"basic": "basic_item", "cooperative": "cooperative_item", "reclaimed": "reclaimed_item"}
_OFFICE = "县委编办"
_HOLD_FOR_APPROVAL = "须经县级职责准入审批；批准时须同时明确随任务下沉的经费、人员或权限（费随事转）。"


def _num(x: float) -> str:
    return f"{x:g}"


def _labels_note(labels: Sequence[str]) -> str:
    if not labels:
        return ""
    quoted = "、".join(f"「{x}」" for x in labels)
    return f"任务中的{quoted}等表述不改变准入结果，已忽略。"


def _names_note(names: Sequence[str]) -> str:
    if not names:
        return ""
    quoted = "、".join(f"「{x}」" for x in names)
    return f"标题中的{quoted}是清单事项的名称，名称只是自称，不作为判定依据，已按任务内容判定。"


def _rule_text(item: GateItem, task: GateTask) -> str:
    if item.category == "basic":
        return "依据规则：属于基本履职事项，由乡镇牵头办理，准予进入乡镇。"
    if item.category == "cooperative":
        lead = item.lead_department or task.department or "交办部门"
        return (
            f"依据规则：属于配合履职事项，按配合事项准入：{lead}仍为牵头部门，与乡镇共同负责，"
            "乡镇只承担清单所列的配合职责。"
        )
    by = item.reclaimed_by or "上级部门"
    return f"依据规则：该事项已由{by}收回，由{by}自己承担，不得再交由乡镇办理，不予准入。"


@dataclass(frozen=True)
class _Unfit:
    """A substantive part of the task that does not fit the matched item."""

    part: _Part
    in_title: bool
    score: float  # the part against the matched item
    top: Match | None  # the part's own best match

    def where(self) -> str:
        return "标题" if self.in_title else "中"


@dataclass(frozen=True)
class _Bundle:
    """A reclaimed item carried in a clause of the task."""

    part: _Part
    clause: Match  # the reclaimed item, scored on the clause
    content: Match  # the reclaimed item, scored on the whole content


class _Run:
    """One decision in progress: the task's scores against the list and what every rule needs."""

    def __init__(self, task: GateTask, index: GateIndex) -> None:
        self.task = task
        self.index = index
        idx = index
        title = canonical(task.title)
        content = canonical(task.content)
        self.labels = _find_labels(f"{title}\n{content}")
        self.sentences = _sentences(content, idx._names_re)
        self.content_grams: set[str] = set().union(*(s.whole.grams for s in self.sentences))
        content_norm = " ".join(s.whole.norm for s in self.sentences)
        # Does the content say anything of its own? If not, the title is all there is to go by.
        self.substantive = _substance(content_norm) >= _SUBSTANCE_MIN

        title_norm = _normalize(title, idx._names_re)
        title_grams = _grams(title_norm)
        cats = idx._cats
        self.title_named: list[int] = []
        if self.substantive:
            self.title_named = [i for i in idx._named(title_grams) if cats[i] != "reclaimed"]
        if self.title_named:
            title_norm = idx._without_names(title_norm, self.title_named)
            title_grams = _grams(title_norm)
        self.title = _Part(title, title_norm, title_grams)
        self.content_named = [i for i in idx._named(self.content_grams) if cats[i] != "reclaimed"]

        self.weights = idx._weights(title_grams, self.content_grams)
        self.scores = idx._scores(self.weights)
        self.suggestions = tuple(idx._ranked(self.scores, 5))
        self.best = self.suggestions[0] if self.suggestions else None
        self._content_scores: dict[int, float] | None = None
        self._nameless: tuple[dict[str, float], list[tuple[_Part, bool]]] | None = None

    # -- views of the task --

    def item(self, m: Match) -> GateItem:
        return self.index.items[self.index._pos[m.item_id]]

    def content_scores(self) -> dict[int, float]:
        """Scores on the content alone (the title set aside)."""
        if self._content_scores is None:
            if not self.title.grams or not self.content_grams:
                self._content_scores = self.scores
            else:
                self._content_scores = self.index._scores(self.index._weights(set(), self.content_grams))
        return self._content_scores

    def nameless(self) -> tuple[dict[str, float], list[tuple[_Part, bool]]]:
        """The task's weights with the names of basic and cooperative items taken out of the content as well, and its
        substantive parts (the title and each sentence, names out), each with whether it is the title."""
        if self._nameless is None:
            idx = self.index
            sents = [s.whole for s in self.sentences]
            if self.content_named:
                sents = [
                    _Part(s.text, n, _grams(n))
                    for s in sents
                    for n in [idx._without_names(s.norm, self.content_named)]
                ]
            parts = [(p, False) for p in sents if _substance(p.norm) >= _PART_SUBSTANCE]
            if _substance(self.title.norm) >= _PART_SUBSTANCE:
                parts.insert(0, (self.title, True))
            if self.content_named:
                cg: set[str] = set().union(*(s.grams for s in sents)) if sents else set()
                weights = idx._weights(self.title.grams, cg)
            else:
                weights = self.weights
            self._nameless = (weights, parts)
        return self._nameless

    def nameless_score(self, pos: int) -> float:
        weights, _ = self.nameless()
        if weights is self.weights:
            return self.scores.get(pos, 0.0)
        return self.index._score_one(weights, pos)

    # -- the checks --

    def best_reclaimed(self, floor: float, exclude: int | None = None) -> Match | None:
        """The strongest reclaimed item scoring at least ``floor`` and the threshold."""
        idx = self.index
        floor = max(floor, idx.threshold)
        found = [
            (s, i)
            for i, s in self.scores.items()
            if s >= floor and idx.items[i].category == "reclaimed" and idx.items[i].id != exclude
        ]
        if not found:
            return None
        s, i = min(found, key=lambda c: (-c[0], c[1]))
        return idx._match(i, s)

    def bundled_reclaimed(self, pos: int) -> _Bundle | None:
        """A reclaimed item that passes the threshold on the content as a whole and is the best match of one of its
        clauses (or sentences), also on what of the clause the item at ``pos`` does not already cover: a reclaimed
        duty carried inside the task, however well the rest fits."""
        idx = self.index
        exclude = idx.items[pos].id
        own = idx._vec[pos]
        thr = idx.threshold
        cs = self.content_scores()
        items = idx.items
        if not any(
            s >= thr and items[i].category == "reclaimed" and items[i].id != exclude for i, s in cs.items()
        ):
            return None
        pieces = [c for s in self.sentences for c in s.clauses]
        pieces += [s.whole for s in self.sentences if len(s.clauses) > 1]
        found: _Bundle | None = None
        for p in pieces:
            if not p.grams:
                continue
            top = idx._ranked(idx._scores(idx._weights(set(), p.grams)), 1)
            if not top:
                continue
            m = top[0]
            rpos = idx._pos[m.item_id]
            if (
                m.category == "reclaimed"
                and m.item_id != exclude
                and m.score >= thr
                and cs.get(rpos, 0.0) >= thr
                and (found is None or m.score > found.clause.score)
                # 「严管野外用火」 next to 森林防火: the words the fire patrol item shares are not a penalty duty.
                and idx._score_one(idx._weights(set(), {g for g in p.grams if g not in own}), rpos) >= thr
            ):
                found = _Bundle(p, m, idx._match(rpos, cs[rpos]))
        return found

    def unfit_part(self, pos: int) -> _Unfit | None:
        """The first substantive part (title, then each sentence; item names out) that is not related to the item at
        ``pos`` and does not match a basic or cooperative item on its own."""
        idx = self.index
        _, parts = self.nameless()
        for part, in_title in parts:
            w = idx._weights(set(), part.grams)
            s = idx._score_one(w, pos)
            if s >= _PART_FLOOR:
                continue
            ranked = idx._ranked(idx._scores(w), 1)
            top = ranked[0] if ranked else None
            if top is not None and top.score >= idx.threshold and top.category != "reclaimed":
                continue
            return _Unfit(part, in_title, s, top)
        return None

    def too_many(self) -> list[Match]:
        """The items passing the threshold, when there are more than a task can be about; else empty."""
        thr = self.index.threshold
        n = sum(1 for s in self.scores.values() if s >= thr)
        return self.index._ranked(self.scores, n) if n > _MAX_MATCHES else []

    # -- the decision --

    def decision(
        self, outcome: str, rule: str, text: str, matched: tuple[Match, ...], cited_fits: bool | None
    ) -> Decision:
        names = [self.index.items[i].name for i in self.title_named]
        return Decision(
            outcome=outcome,
            rule=rule,
            explanation=text + _names_note(names) + _labels_note(self.labels),
            matched=matched,
            suggestions=self.suggestions,
            labels=self.labels,
            cited_fits=cited_fits,
        )

    def by_category(self, m: Match, first: str, cited_fits: bool | None) -> Decision:
        item = self.item(m)
        text = first + _rule_text(item, self.task)
        return self.decision(_OUTCOME_OF[item.category], _RULE_OF[item.category], text, (m,), cited_fits)


def _unfit_text(u: _Unfit, threshold: float) -> str:
    """「任务中「…」与…（不）相符」 for a part that does not fit the matched item."""
    if u.top is not None and u.top.score >= threshold:
        return f"任务{u.where()}「{u.part.quote()}」与{u.top.label()}相符"
    nearest = f"最接近的{u.top.label()}" if u.top is not None else "没有相近的事项"
    return f"任务{u.where()}「{u.part.quote()}」与清单内任何事项都不相符（{nearest}）"


def _decide_cited(run: _Run, cited_id: int) -> Decision:
    idx = run.index
    cited = idx.get(cited_id)
    if cited is None:
        return run.decision(
            "held",
            "cited_unknown",
            f"任务引用的事项（编号 {cited_id}）不在本乡镇现行履职事项清单中。"
            f"依据规则：引用无法核对，暂缓交办，由{_OFFICE}裁定。",
            (),
            False,
        )
    pos = idx._pos[cited.id]
    # The citation already names the item: names written in the task add nothing to the fit.
    cm = idx._match(pos, run.nameless_score(pos))
    best = run.best
    rival: Match | None = None
    if cm.score >= idx.cite_threshold:
        why = ""
        if cited.category != "reclaimed":
            # The citation stands unless the text fits a reclaimed item about as well, carries a reclaimed duty in
            # one of its clauses (a citation must not carry a reclaimed duty down), fits an item of another category
            # clearly better, or carries work that fits neither the cited item nor any other.
            rival = run.best_reclaimed(cm.score - idx.margin, exclude=cited.id)
            if rival is not None:
                why = f"虽与任务内容相近，但任务与{rival.label()}同样或更加相符，类别不同"
            elif (bundle := run.bundled_reclaimed(pos)) is not None:
                rival = bundle.clause
                why = (
                    f"虽与任务内容相近，但任务中「{bundle.part.quote()}」与{rival.label()}相符"
                    f"（任务内容整体与之相似度 {bundle.content.score:.1f}），任务夹带上级部门收回事项"
                )
        if (
            rival is None
            and best is not None
            and best.category != cited.category
            and best.score >= idx.threshold
            and best.score > cm.score + idx.margin
        ):
            rival = best
            why = f"虽与任务内容相近，但任务与{rival.label()}同样或更加相符，类别不同"
        if rival is None and cited.category != "reclaimed":
            many = run.too_many()
            if many:
                why = f"但任务同时与清单内 {len(many)} 个事项相符，罗列事项无法核对引用"
            elif (u := run.unfit_part(pos)) is not None:
                why = f"但{_unfit_text(u, idx.threshold)}，与所引事项不符（相似度 {u.score:.1f}）"
                rival = u.top if u.top is not None and u.top.score >= idx.threshold else None
        if not why:
            return run.by_category(cm, f"任务引用的{cm.label()}与任务内容相符。", True)
    else:
        why = f"与任务内容不符（低于引用核对阈值 {_num(idx.cite_threshold)}）"
        if best is not None and best.item_id != cited.id:
            rival = best
            if best.score >= idx.threshold:
                why += f"；与任务最相符的是{best.label()}"
            else:
                why += f"；清单内也没有与任务相符的事项（最接近的{best.label()}低于准入阈值 {_num(idx.threshold)}）"
    return run.decision(
        "held",
        "cited_mismatch",
        f"任务引用{cm.label()}，{why}。依据规则：引用与任务内容不一致，暂缓交办，由{_OFFICE}裁定。",
        (cm, rival) if rival is not None else (cm,),
        False,
    )


def _held_no_match(run: _Run, why: str) -> Decision:
    return run.decision(
        "held",
        "no_match",
        f"{why}依据规则：清单之外无事项，暂缓交办，{_HOLD_FOR_APPROVAL}",
        (),
        None,
    )


def admit_task(task: GateTask, index: GateIndex) -> Decision:
    """Decide one task against one township's duty list. Pure: the same task and list always give the same answer."""
    run = _Run(task, index)
    if task.cited_item_id is not None:
        return _decide_cited(run, task.cited_item_id)

    best = run.best
    if best is None or best.score < index.threshold:
        if not len(index):
            nearest = "本乡镇尚无现行履职事项清单"
        elif best is None:
            nearest = f"与清单内任何事项都不相符（准入阈值 {_num(index.threshold)}）"
        else:
            nearest = (
                f"与清单内任何事项都不相符：最接近的是{best.label()}，低于准入阈值 {_num(index.threshold)}"
            )
        return _held_no_match(run, f"任务{nearest}。")

    if best.category == "reclaimed":
        return run.by_category(best, f"任务与{best.label()}相符。", None)

    rec = run.best_reclaimed(best.score - index.margin)
    if rec is not None:
        first = (
            f"任务与{rec.label()}相符；最相符的{best.label()}与其相差不足 {_num(index.margin)} 分，"
            "收回事项优先，不让收回事项借相近事项下沉。"
        )
        return run.by_category(rec, first, None)

    bpos = index._pos[best.item_id]
    bundle = run.bundled_reclaimed(bpos)
    if bundle is not None:
        own = run.content_scores().get(bpos, 0.0)
        where = f"任务中「{bundle.part.quote()}」与{bundle.clause.label()}相符"
        if bundle.content.score >= own - index.margin:
            than = "不低于" if bundle.content.score >= own else f"与其相差不足 {_num(index.margin)} 分："
            first = (
                f"{where}；就任务内容而言（不计标题），{bundle.content.label()}{than}"
                f"{best.name}（内容相似度 {own:.1f}），收回事项优先。"
            )
            return run.by_category(bundle.content, first, None)
        by = run.item(bundle.clause).reclaimed_by or "上级部门"
        return run.decision(
            "held",
            "reclaimed_part",
            f"{where}，任务其余部分与{best.label()}相符：任务把上级部门收回事项与乡镇事项捆绑交办。"
            f"依据规则：收回事项由{by}自己承担，不得随其他事项下沉；暂缓交办，由{_OFFICE}裁定，"
            "交办部门可剔除收回部分后另行交办。",
            (bundle.clause, best),
            None,
        )

    many = run.too_many()
    if many:
        shown = "、".join(f"「{m.name}」" for m in many[:3])
        return run.decision(
            "held",
            "too_broad",
            f"任务同时与清单内 {len(many)} 个事项相符（如{shown}），无法确定任务是哪一项工作。"
            f"依据规则：罗列事项名称不能代替任务内容，暂缓交办，{_HOLD_FOR_APPROVAL}也可按具体事项分别交办。",
            (),
            None,
        )

    if bpos in run.content_named:
        own = run.nameless_score(bpos)
        _, parts = run.nameless()
        if parts and own < index.cite_threshold:
            return _held_no_match(
                run,
                f"任务内容写入了{best.label()}的名称，但除去事项名称，任务与该事项的相似度只有 {own:.1f}，"
                f"低于引用核对阈值 {_num(index.cite_threshold)}：写入名称如同引用，任务内容须与所引事项相符。",
            )

    unfit = run.unfit_part(bpos)
    if unfit is not None:
        if unfit.top is not None and unfit.top.category == "reclaimed" and unfit.top.score >= index.threshold:
            by = run.item(unfit.top).reclaimed_by or "上级部门"
            return run.decision(
                "held",
                "reclaimed_part",
                f"{_unfit_text(unfit, index.threshold)}，与任务最相符的{best.label()}无关"
                f"（该部分相似度 {unfit.score:.1f}）："
                "任务把上级部门收回事项与乡镇事项捆绑交办。"
                f"依据规则：收回事项由{by}自己承担，不得随其他事项下沉；暂缓交办，由{_OFFICE}裁定，"
                "交办部门可剔除收回部分后另行交办。",
                (unfit.top, best),
                None,
            )
        return run.decision(
            "held",
            "off_list_part",
            f"{_unfit_text(unfit, index.threshold)}，与任务最相符的{best.label()}也无关"
            f"（该部分相似度 {unfit.score:.1f}，低于 {_num(_PART_FLOOR)}）："
            "任务夹带了清单之外的工作。"
            f"依据规则：清单之外无事项，暂缓交办，{_HOLD_FOR_APPROVAL}清单内的部分可单独交办。",
            (best,),
            None,
        )
    return run.by_category(best, f"任务与{best.label()}相符。", None)
