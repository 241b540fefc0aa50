"""Task gate benchmark: ``admit_task`` against the 340-item county template, in process.

Builds the gate index once over ``gongzhi.duties.catalog.TEMPLATE_ITEMS`` (117 basic, 99 cooperative, 124 reclaimed
items), then decides a set of tasks many times: the 32 sample tasks, each sample dressed in every framing label
(属地管理, 专班, 责任状, 包保 …) at the head, the tail and in the title, each sample split into halves, each sample
wrapped in official boilerplate, and 45 paraphrased tasks written the way departments write them (abbreviations such
as 反诈, 社保卡, 河长). Prints µs per decision (p50/p90/p99/max), decisions/s, how many decisions reached the expected
outcome, and PASS/FAIL against the issue's target:

    admit_task against a 340-item list: p50 < 1 ms.

As a baseline measured in the same run, the same tasks go through a naive scan without an index: rapidfuzz's
``fuzz.token_set_ratio`` of the task text against every item's name and content (``process.extract``, best 5), the
way one would write it first. The script prints its time per task and the ratio to the gate, and how often its top
item is the expected one.

Then the attacks of the P1 review (issue 3), each class built from the template and the samples, decided once each
(not timed with the rest, so the figures above stay comparable): an item's name as the title over off-list and
reclaimed contents, a name appended in brackets, written inline or stuffed by the dozen into an off-list content,
a basic task bundled with a reclaimed or an off-list one, a citation plus the cited name over a reclaimed content,
spaces and invisible characters between the characters of every sample, and genuine sample titles over off-list
and reclaimed contents. Prints, per class, how many decisions the gate got right (an attack counts as stopped when
it is held or refused as the class requires).

    python bench/taskgate.py             # 5 rounds over ~1,000 tasks
    python bench/taskgate.py --rounds 20

Exit status 0 = PASS, 1 = FAIL.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# Running ``python bench/taskgate.py`` puts bench/ first on sys.path, where bench/http.py would shadow the standard
# library's ``http`` package; seek modules from the repository root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from gongzhi.duties import catalog  # noqa: E402
from gongzhi.engines import taskgate as tg  # noqa: E402

TARGET_P50_US = 1000.0

LABELS = (
    "按照属地管理原则，",
    "严格落实属地管理责任，",
    "压实属地责任，",
    "成立工作专班，",
    "抽调人员组成专班，",
    "层层签订责任状，",
    "签订目标责任书，",
    "实行干部包保，",
    "立下军令状，",
)
BOILER_HEAD = "为深入贯彻落实县委县政府决策部署，现将有关事项通知如下。"
BOILER_TAIL = "请于每周五前报送工作进展情况，县里将定期调度通报。"

# Paraphrases: (title, content, expected outcome, expected item or "").
PARAPHRASES: tuple[tuple[str, str, str, str], ...] = (
    ("反诈宣传", "组织反诈宣传进村入户。", "admitted", "反电信网络诈骗宣传劝阻"),
    (
        "低保年度复核",
        "对在册低保户开展年度复核，入户核查家庭收入变化。",
        "admitted",
        "农村低保对象申请受理与初审",
    ),
    (
        "清明护林员巡山",
        "清明期间组织护林员巡山，进山路口设卡，严防野外用火。",
        "admitted",
        "森林防火宣传与巡查",
    ),
    ("三会一课落实", "督促各村党支部按时召开三会一课和主题党日。", "admitted", "基层党组织建设"),
    ("征兵初检初审", "组织应征青年参加初检初审，做好征兵宣传。", "admitted", "兵役登记与征兵宣传"),
    (
        "留守老人探访",
        "对辖区独居、空巢老人每月上门探访一次，建立台账。",
        "admitted",
        "农村留守老年人关爱探访",
    ),
    ("居民医保集中征缴", "动员城乡居民按时缴纳下一年度居民医保费。", "admitted", "城乡居民医保参保动员"),
    ("信访件办理", "对交办的群众信访件按时办结答复。", "admitted", "群众来信来访办理"),
    (
        "网格员巡查上报",
        "网格员每日巡查网格，发现问题及时上报综治中心。",
        "admitted",
        "综治中心和网格化服务管理",
    ),
    (
        "经营性自建房排查",
        "对经营性自建房逐栋排查，建立隐患台账，督促房主整改。",
        "admitted",
        "农村自建房安全隐患排查",
    ),
    ("农户建房用地审批", "受理农户宅基地申请，批前到场踏勘、批后放线。", "admitted", "农村宅基地审批"),
    ("村级河长巡河", "村级河长每周巡河不少于一次，清理河道漂浮垃圾。", "admitted", "河湖长制巡河护河"),
    ("辍学学生劝返", "对疑似辍学学生逐人劝返复学。", "admitted", "控辍保学"),
    ("村庄清洁行动", "组织群众清理房前屋后乱堆乱放。", "admitted", "农村人居环境整治"),
    (
        "严重精神障碍患者排查",
        "摸排辖区严重精神障碍患者，落实监护人责任。",
        "admitted",
        "严重精神障碍患者关爱帮扶",
    ),
    ("公益性岗位考勤", "加强乡村公益性岗位人员管理，按月考勤。", "admitted", "乡村公益性岗位开发管理"),
    ("植树造林", "落实今年造林地块，组织春季义务植树。", "assistance", "国土绿化和义务植树"),
    ("家庭医生签约", "动员65岁以上老人和慢病患者签约家庭医生。", "assistance", "家庭医生签约服务"),
    ("两癌免费检查动员", "组织适龄妇女参加宫颈癌、乳腺癌免费检查。", "assistance", "农村妇女“两癌”免费检查"),
    ("社保卡集中发放", "组织群众领取社会保障卡并激活。", "assistance", "社会保障卡申领发放"),
    ("野猪致害统计", "统计辖区野猪损毁庄稼情况并上报。", "assistance", "野生动物保护和野猪危害防控"),
    ("房地一体权籍调查", "配合开展农村房地一体不动产登记权籍调查。", "assistance", "农村房地一体不动产登记"),
    ("工地扬尘管控", "督促辖区建筑工地落实覆盖、洒水措施。", "assistance", "建筑工地扬尘污染管控"),
    ("撂荒地复耕", "摸排撂荒地块，动员流转复耕。", "assistance", "撂荒耕地整治复耕"),
    ("网吧检查", "由乡镇对辖区网吧开展检查，查处违规接纳未成年人。", "refused", "网吧违规接纳未成年人查处"),
    ("私屠滥宰打击", "乡镇负责查处辖区私屠滥宰行为。", "refused", "生猪屠宰监管和私屠滥宰查处"),
    ("电鱼毒鱼查处", "乡镇对辖区河道电鱼毒鱼行为查处并没收工具。", "refused", "渔业捕捞许可和渔政执法"),
    ("特种设备检查", "乡镇对辖区电梯、锅炉开展特种设备安全检查。", "refused", "特种设备安全监督检查"),
    (
        "非法占地立案查处",
        "对辖区非法占用土地建房的，由乡镇立案查处并处罚款。",
        "refused",
        "土地违法案件立案查处",
    ),
    ("餐饮油烟处罚", "对集镇餐饮店油烟超标排放实施行政处罚。", "refused", "餐饮油烟污染执法"),
    ("结婚登记", "乡镇民政办受理结婚登记。", "refused", "婚姻登记"),
    ("药店检查", "乡镇对辖区药店开展检查，查处销售假劣药品。", "refused", "药品零售和医疗器械经营监管"),
    ("报刊征订", "完成年度报刊征订任务。", "held", ""),
    ("商业保险推销", "动员群众购买意外伤害商业保险，完成投保人数。", "held", ""),
    ("景区开业活动", "每个乡镇组织200人参加景区开业活动。", "held", ""),
    ("光伏推广", "动员农户安装屋顶分布式光伏。", "held", ""),
    ("完成税收指标", "乡镇完成年度税收收入任务。", "held", ""),
    ("协助企业招工", "为县工业园区企业招聘普工200人。", "held", ""),
    ("清收不良贷款", "组织村干部上门催收逾期贷款。", "held", ""),
    ("短视频播放量", "每月拍摄宣传短视频上传，播放量排名通报。", "held", ""),
    ("政务APP注册", "动员群众下载注册县政务APP，完成注册人数指标。", "held", ""),
    ("存款揽储", "动员干部群众在县农商银行新增存款。", "held", ""),
    ("县城路口值守", "抽调干部到县城主干道路口值守。", "held", ""),
    ("代收有线电视费", "协助广电网络公司收取有线电视收视费。", "held", ""),
    ("推销农产品礼盒", "每名干部认购滞销农产品礼盒20盒。", "held", ""),
)


class Case:
    __slots__ = ("expect_item", "expected", "kind", "task")

    def __init__(self, kind: str, task: tg.GateTask, expected: str, expect_item: str) -> None:
        self.kind, self.task, self.expected, self.expect_item = kind, task, expected, expect_item


def _halves(text: str) -> list[str]:
    parts = [p for p in re.split(r"(?<=[，。；])", text) if p]
    cut = max(1, len(parts) // 2)
    return [h for h in ("".join(parts[:cut]), "".join(parts[cut:])) if len(h) >= 6]


def build_cases(id_of: dict[str, int]) -> list[Case]:
    cases: list[Case] = []
    for s in catalog.SAMPLE_TASKS:
        cited = id_of[s.cites] if s.cites else None

        def task(
            title: str, content: str, cited: int | None = cited, dept: str = s.department
        ) -> tg.GateTask:
            return tg.GateTask(title, content, department=dept, cited_item_id=cited)

        cases.append(Case("sample", task(s.title, s.content), s.expected, s.expect_item))
        for lbl in LABELS:
            cases.append(Case("label", task(s.title, lbl + s.content), s.expected, s.expect_item))
            cases.append(
                Case("label", task(s.title, f"{s.content}。{lbl.rstrip('，')}。"), s.expected, s.expect_item)
            )
            cases.append(
                Case("label", task(f"{s.title}（{lbl.rstrip('，')}）", s.content), s.expected, s.expect_item)
            )
        cases.append(
            Case("boilerplate", task(s.title, BOILER_HEAD + s.content + BOILER_TAIL), s.expected, "")
        )
        if not s.cites:
            for half in _halves(s.content):
                cases.append(Case("half", task(s.title, half), s.expected, ""))
    for title, content, expected, item in PARAPHRASES:
        cases.append(Case("paraphrase", tg.GateTask(title, content), expected, item))
    return cases


# Separators put between every two characters of a task: spaces, zero-width space, ideographic space, word joiner,
# middle dot.
SEPARATORS = (" ", "\u200b", "\u3000", "\u2060", "·")


def build_attacks(items: Sequence[tg.GateItem]) -> list[Case]:
    """The review's attack classes over the template and the samples; ``expected`` may list outcomes (held|refused)."""
    by_cat = {c: [it.name for it in items if it.category == c] for c in ("basic", "cooperative")}
    names = by_cat["basic"] + by_cat["cooperative"]
    id_of = {it.name: it.id for it in items}
    samples = catalog.SAMPLE_TASKS
    off = [s.content for s in samples if s.expected == "held" and not s.cites]
    off += [c for _, c, e, _ in PARAPHRASES if e == "held"]
    rec = [s.content for s in samples if s.expected == "refused"]
    good = [s for s in samples if s.expected in ("admitted", "assistance") and not s.cites]
    out: list[Case] = []

    def add(kind: str, title: str, content: str, expected: str, cited: str = "") -> None:
        out.append(
            Case(
                kind, tg.GateTask(title, content, cited_item_id=id_of[cited] if cited else None), expected, ""
            )
        )

    for n in names:
        for c in off:
            add("name as title, off-list", n, c, "held")
            add("name appended, off-list", "工作任务", f"{c}（{n}）", "held")
            add("name inline, off-list", "工作任务", f"{c.rstrip('。')}，做好{n}工作。", "held")
        for c in rec:
            add("name as title, reclaimed", n, c, "refused")
            add("cited + name, reclaimed", n, c, "held|refused", cited=n)
    basic = by_cat["basic"]
    for c in off:
        add("names stuffed, off-list", "工作任务", f"{c}本任务涉及：" + "、".join(basic), "held")
        for i in range(0, len(basic), 10):
            add(
                "names stuffed, off-list",
                "工作任务",
                f"{c}本任务涉及：" + "、".join(basic[i : i + 10]),
                "held",
            )
    for g in good:
        for c in rec:
            add("bundle basic + reclaimed", g.title, f"{g.content.rstrip('。')}，{c}", "held|refused")
            add("bundle basic + reclaimed", g.title, g.content + c, "held|refused")
            add("genuine title, reclaimed", g.title, c, "refused")
        for c in off:
            add("bundle basic + off-list", g.title, g.content + c, "held")
            add("genuine title, off-list", g.title, c, "held")
    for s in samples:
        for sep in SEPARATORS:
            cited = s.cites
            add("separators", sep.join(s.title), sep.join(s.content), s.expected, cited=cited)
    return out


def _percentile(sorted_ns: Sequence[int], q: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000.0


def _time_each(
    fn: Callable[[tg.GateTask], object], tasks: Sequence[tg.GateTask], rounds: int
) -> tuple[list[int], float, float]:
    """Sorted wall-clock ns per call, total wall seconds, total CPU seconds (CPU time ignores other processes)."""
    for t in tasks[:50]:  # warm up
        fn(t)
    samples: list[int] = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            for t in tasks:
                a = time.perf_counter_ns()
                fn(t)
                samples.append(time.perf_counter_ns() - a)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        if gc_was:
            gc.enable()
    samples.sort()
    return samples, wall, cpu


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5, help="passes over the task set (default 5)")
    ap.add_argument("--baseline-rounds", type=int, default=1, help="passes for the naive scan (default 1)")
    args = ap.parse_args(argv)

    items = [
        tg.GateItem(
            id=int(it.number),
            category=it.category,
            name=it.name,
            content=it.content,
            number=it.number,
            lead_department=it.lead_department,
            reclaimed_by=it.reclaimed_by,
        )
        for it in catalog.TEMPLATE_ITEMS
    ]
    id_of = {it.name: it.id for it in items}
    counts = catalog.counts()

    builds = []
    for _ in range(5):
        a = time.perf_counter()
        index = tg.GateIndex(items)
        builds.append(time.perf_counter() - a)
    cases = build_cases(id_of)
    tasks = [c.task for c in cases]

    print(
        f"Task gate bench — {len(items)} items ({counts['basic']} basic, {counts['cooperative']} cooperative, "
        f"{counts['reclaimed']} reclaimed), python {sys.version.split()[0]}"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    cpus = os.cpu_count() or 1
    note = " — machine busy, tail latencies will be noisy" if load > 0.75 * cpus else ""
    print(f"load average {load:.2f} on {cpus} CPUs{note}")
    print(f"index build: {statistics.median(builds) * 1000:.1f} ms (median of 5; once per published list)")
    kinds: dict[str, int] = {}
    for c in cases:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    print(f"tasks: {len(cases)} (" + ", ".join(f"{k} {v}" for k, v in kinds.items()) + ")")

    # Accuracy, per kind of task.
    print("\naccuracy (outcome as expected; item as expected where one is named):")
    wrong: list[str] = []
    for kind in kinds:
        sub = [c for c in cases if c.kind == kind]
        ok_outcome = ok_item = named = 0
        for c in sub:
            d = tg.admit_task(c.task, index)
            good = d.outcome == c.expected
            ok_outcome += good
            if c.expect_item:
                named += 1
                ok_item += bool(d.matched) and d.matched[0].name == c.expect_item
            if not good:
                wrong.append(
                    f"  [{kind}] {c.task.title}: expected {c.expected}, got {d.outcome} — {d.explanation}"
                )
        item_txt = f", item {ok_item}/{named}" if named else ""
        print(f"  {kind:12s} outcome {ok_outcome}/{len(sub)}{item_txt}")
    for w in wrong[:10]:
        print(w)

    # Speed of the gate.
    ns, wall, cpu = _time_each(lambda t: tg.admit_task(t, index), tasks, args.rounds)
    p50 = _percentile(ns, 0.50)
    print(f"\nadmit_task: {len(ns)} decisions in {wall:.2f} s — {len(ns) / wall:,.0f} decisions/s")
    print(
        f"  µs per decision: p50 {p50:.0f}  p90 {_percentile(ns, 0.90):.0f}  "
        f"p99 {_percentile(ns, 0.99):.0f}  max {ns[-1] / 1000:.0f}; CPU {cpu / len(ns) * 1e6:.0f} µs per decision (mean)"
    )

    # Baseline: a naive scan of every item, no index.
    texts = [f"{t.title} {t.content}" for t in tasks]
    choices = [f"{it.name} {it.content}" for it in items]
    try:
        from rapidfuzz import fuzz, process

        def naive(i: int) -> list[int]:
            return [r[2] for r in process.extract(texts[i], choices, scorer=fuzz.token_set_ratio, limit=5)]

        base_name = "rapidfuzz token_set_ratio scan of all items (process.extract, limit 5)"
    except ImportError:  # rapidfuzz not installed: the standard library's scan stands in
        import difflib

        def naive(i: int) -> list[int]:
            scores = [difflib.SequenceMatcher(None, texts[i], ch).ratio() for ch in choices]
            return sorted(range(len(choices)), key=lambda j: -scores[j])[:5]

        base_name = "difflib.SequenceMatcher scan of all items (rapidfuzz not installed)"
    pos_of = {id(t): i for i, t in enumerate(tasks)}
    bns, bwall, bcpu = _time_each(lambda t: naive(pos_of[id(t)]), tasks, args.baseline_rounds)
    bp50 = _percentile(bns, 0.50)
    # Top item against the expected one, on uncited tasks only (a cited task's expected item is the one it cites).
    hits = gate_hits = named = 0
    for i, c in enumerate(cases):
        if c.expect_item and c.task.cited_item_id is None:
            named += 1
            hits += items[naive(i)[0]].name == c.expect_item
            top = tg.admit_task(c.task, index).suggestions
            gate_hits += bool(top) and top[0].name == c.expect_item
    print(f"\nbaseline, {base_name}:")
    print(
        f"  {len(bns)} scans in {bwall:.2f} s — {len(bns) / bwall:,.0f} scans/s; µs per task: p50 {bp50:.0f}  "
        f"p90 {_percentile(bns, 0.90):.0f}  p99 {_percentile(bns, 0.99):.0f}; CPU {bcpu / len(bns) * 1e6:.0f} µs (mean)"
    )
    print(f"  top item as expected (uncited tasks): naive {hits}/{named}, gate {gate_hits}/{named}")
    print(f"  ratio p50 naive / gate: {bp50 / p50:.1f}×")

    # The review's attacks, each decided once.
    attacks = build_attacks(items)
    akinds: dict[str, list[Case]] = {}
    for c in attacks:
        akinds.setdefault(c.kind, []).append(c)
    print(
        f"\nattacks of the P1 review ({len(attacks)} tasks; stopped = held or refused as the class requires):"
    )
    missed: list[str] = []
    a_ns: list[int] = []
    for kind, sub in akinds.items():
        ok = 0
        for c in sub:
            a = time.perf_counter_ns()
            d = tg.admit_task(c.task, index)
            a_ns.append(time.perf_counter_ns() - a)
            good = d.outcome in c.expected.split("|")
            ok += good
            if not good:
                missed.append(
                    f"  [{kind}] {c.task.title} / {c.task.content[:40]}: {d.outcome} — {d.explanation[:80]}"
                )
        print(f"  {kind:28s} {ok}/{len(sub)}")
    for m in missed[:5]:
        print(m)
    a_ns.sort()
    print(f"  µs per attack decision: p50 {_percentile(a_ns, 0.50):.0f}  p99 {_percentile(a_ns, 0.99):.0f}")

    passed = p50 < TARGET_P50_US
    print(
        f"\n{'PASS' if passed else 'FAIL'}: admit_task p50 {p50:.0f} µs against a {len(items)}-item list "
        f"(target < {TARGET_P50_US:.0f} µs)"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
