"""The task gate (任务准入): decide whether a department's task may reach a township, against the township's duty list.

清单之外无事项，清单之内严准入. A task that matches a 基本履职事项 is admitted; a 配合履职事项 is admitted as
assistance (the department stays the lead); a 上级部门收回事项 is refused (the department does it itself); anything
else is held for 职责准入 by the county. Framing labels (属地管理, 工作专班, 责任状, 包保 …) are stripped before
matching, so they cannot change an outcome; each task is matched on its own text, so splitting a task into parts
decides each part as it would be decided alone.

Similarity is Chinese character bigrams, IDF-weighted across the list: the score (0..100) blends how much of an
item's *name* the task covers (the name says what the duty is) with the cosine between the task and the item's name
plus content (names weighted above content, task titles above task bodies). Generic filler (工作, 开展, 落实, 组织 …)
is removed first so it cannot create matches. The index is built once per list: an inverted index from bigram to
items, so a decision touches only items sharing a bigram with the task.

Pure Python, no Django.
"""

from __future__ import annotations

import heapq
import math
import re
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


def find_labels(text: str) -> tuple[str, ...]:
    """The framing labels in ``text``, each once, in order of first appearance."""
    seen: dict[str, None] = {}
    for m in _LABEL_RE.finditer(text):
        seen.setdefault(_LABEL_NAMES[m.lastgroup or "sd"], None)
    return tuple(seen)


def _strip_names(text: str, names_re: re.Pattern[str] | None) -> str:
    return names_re.sub(" ", text) if names_re is not None else text


def normalize(text: str, names_re: re.Pattern[str] | None = None) -> str:
    """Text with labels, department names, numbers and filler replaced by separators (so no bigram spans them)."""
    text = _LABEL_RE.sub(" ", text)
    text = _strip_names(text, names_re)
    text = _NUMBER_RE.sub(" ", text)
    return _FILLER_RE.sub(lambda m: m.group(1) or " ", text)


def grams(text: str, names_re: re.Pattern[str] | None = None) -> set[str]:
    """Character bigrams of each CJK run (Latin words whole) after normalisation."""
    out: set[str] = set()
    for run in _TOKEN_RE.findall(normalize(text, names_re)):
        if run.isascii():
            out.add(run.lower())
        else:
            out.update(run[i : i + 2] for i in range(len(run) - 1))
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

        # Department names are stripped from both sides: who sends or leads a task says nothing about what it is.
        depts = {d for it in self.items for d in (it.lead_department, it.reclaimed_by) if d}
        self._names_re = (
            re.compile("|".join(map(re.escape, sorted(depts, key=len, reverse=True)))) if depts else None
        )

        name_grams = [grams(it.name, self._names_re) for it in self.items]
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
        for i, (ng, dg) in enumerate(zip(name_grams, doc_grams, strict=True)):
            name_mass = sum(self._idf[g] for g in ng) + _NAME_PRIOR * self._idf_unknown
            sq = 0.0
            for g in dg:
                idf = self._idf[g]
                in_name = g in ng
                w = idf * (_ITEM_NAME_WEIGHT if in_name else 1.0)
                sq += w * w
                postings.setdefault(g, []).append((i, idf / name_mass if in_name and name_mass else 0.0, w))
            self._norm.append(math.sqrt(sq) or 1.0)
        self._postings = {g: tuple(p) for g, p in postings.items()}

    def __len__(self) -> int:
        return len(self.items)

    def get(self, item_id: int) -> GateItem | None:
        pos = self._pos.get(item_id)
        return None if pos is None else self.items[pos]

    # -- scoring --

    def _task_weights(self, title: str, content: str) -> dict[str, float]:
        tg = grams(title, self._names_re)
        cg = grams(content, self._names_re)
        idf, unk = self._idf, self._idf_unknown
        return {g: idf.get(g, unk) * (_TASK_TITLE_WEIGHT if g in tg else 1.0) for g in tg | cg}

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
        norm = self._norm
        out: dict[int, float] = {}
        for i, d in dot.items():
            cos = d / (tnorm * norm[i])
            text = cos / _COS_SATURATION
            s = 100.0 * (_NAME_SHARE * min(cov.get(i, 0.0), 1.0) + (1.0 - _NAME_SHARE) * min(text, 1.0))
            # Rounded here, so every rule compares exactly the figure the explanation shows.
            out[i] = round(s, 1)
        return out

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


def _num(x: float) -> str:
    return f"{x:g}"


def _labels_note(labels: Sequence[str]) -> str:
    if not labels:
        return ""
    quoted = "、".join(f"「{x}」" for x in labels)
    return f"任务中的{quoted}等表述不改变准入结果，已忽略。"


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


class _Run:
    """One decision in progress: the task's scores against the list and what every branch needs."""

    def __init__(self, task: GateTask, index: GateIndex) -> None:
        self.task = task
        self.index = index
        self.labels = find_labels(f"{task.title}\n{task.content}")
        self.scores = index._scores(index._task_weights(task.title, task.content))
        self.suggestions = tuple(index._ranked(self.scores, 5))
        self.best = self.suggestions[0] if self.suggestions else None

    def item(self, m: Match) -> GateItem:
        return self.index.items[self.index._pos[m.item_id]]

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

    def decision(
        self, outcome: str, rule: str, text: str, matched: tuple[Match, ...], cited_fits: bool | None
    ) -> Decision:
        return Decision(
            outcome=outcome,
            rule=rule,
            explanation=text + _labels_note(self.labels),
            matched=matched,
            suggestions=self.suggestions,
            labels=self.labels,
            cited_fits=cited_fits,
        )

    def by_category(self, m: Match, first: str, cited_fits: bool | None) -> Decision:
        item = self.item(m)
        text = first + _rule_text(item, self.task)
        return self.decision(_OUTCOME_OF[item.category], _RULE_OF[item.category], text, (m,), cited_fits)


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
    cm = idx._match(pos, run.scores.get(pos, 0.0))
    best = run.best
    rival: Match | None = None
    if cm.score >= idx.cite_threshold:
        # The citation stands unless the text fits a reclaimed item about as well (a citation must not carry a
        # reclaimed duty down), or fits an item of another category clearly better.
        if cited.category != "reclaimed":
            rival = run.best_reclaimed(cm.score - idx.margin, exclude=cited.id)
        if (
            rival is None
            and best is not None
            and best.category != cited.category
            and best.score >= idx.threshold
            and best.score > cm.score + idx.margin
        ):
            rival = best
        if rival is None:
            return run.by_category(cm, f"任务引用的{cm.label()}与任务内容相符。", True)
        why = f"虽与任务内容相近，但任务与{rival.label()}同样或更加相符，类别不同"
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
        return run.decision(
            "held",
            "no_match",
            f"任务{nearest}。依据规则：清单之外无事项，暂缓交办，须经县级职责准入审批；批准时须同时明确随任务"
            "下沉的经费、人员或权限（费随事转）。",
            (),
            None,
        )

    if best.category != "reclaimed":
        rec = run.best_reclaimed(best.score - index.margin)
        if rec is not None:
            first = (
                f"任务与{rec.label()}相符；最相符的{best.label()}与其相差不足 {_num(index.margin)} 分，"
                "收回事项优先，不让收回事项借相近事项下沉。"
            )
            return run.by_category(rec, first, None)
    return run.by_category(best, f"任务与{best.label()}相符。", None)
