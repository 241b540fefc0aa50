"""P2 part of the demo county: a realistic year of 督查检查考核 plans from its 20 departments (``sample_plans``).

- 一表通 first: the county office sets up the catalog entries, departments subscribe, and every township submits
  the period due now (``datacatalog.due_period``; some townships still owe an entry, so "held" is not the same
  everywhere).
- This year (``PLAN_YEAR``, the current year), through the services a user would call: each department's cadre
  drafts its plan (in the form, or five of them by importing the county's .xlsx template) and files it, and each
  filing runs the review. The county office approves the clean items in one step and decides the flagged ones one
  by one from the review's own flags: the second comprehensive inspection of a department and the pieces of a split
  item are returned, one inspection filed by two departments is refused for the later one, and approval strikes
  trace demands and turns data already held into catalog references. Out-of-plan items arrive one by one (一事一报,
  one approved). The office merged the approved on-site items into joint visits at the start of the year; at the
  demo township the visits already held have their findings, elsewhere the older ones are closed and each lead
  department's latest still wait for findings. Then two departments file late, and 应急局 reworks a returned item
  and files it again: these wait for the office.
- The year before (``PREVIOUS_YEAR``), before the platform: recorded as history (filed, approved, one visit per
  on-site item per township, nothing merged), so the burden ledger has a year to compare with.

Idempotent: core.demo builds the county once (it returns early when the county exists), and this builder also
returns early when the county already has plans.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from gongzhi.core.models import AdminUnit, Department, Level, Position, User

from . import codes, datacatalog, planio, plans, sample_plans, visits
from .models import (
    InspectionItem,
    InspectionPlan,
    InspectionTarget,
    ItemStatus,
    JointVisit,
    JointVisitItem,
    MergeRun,
    Mode,
    PlanStatus,
    ReviewFlag,
    VisitStatus,
)
from .sample_plans import PLAN_YEAR, PREVIOUS_YEAR, PlanItem

Say = Callable[[str], None]

# Departments whose plans for the year arrive after the office has decided the others: their items wait for a decision.
LATE_DEPARTMENTS = ("县医疗保障局", "县文化和旅游局")
# Departments that fill the county's .xlsx template and import it instead of typing items into the form.
IMPORTED_DEPARTMENTS = ("县自然资源局", "县农业农村局", "县卫生健康局", "县交通运输局", "县城市管理局")
# Out-of-plan items the office has already approved (the rest wait: 一事一报).
APPROVED_OUT_OF_PLAN = ("国庆节前安全生产突击检查",)
SPLIT_SCORE = 75  # a split scored lower is checked by hand: the office may find the contents differ
# CP-SAT as the exact reference on the townships it can solve quickly: a short budget keeps the demo fast.
EXACT_BUDGET_S = 1.5
EXACT_TIME_S = 0.3
# The returned item its department reworks and files again.
RESUBMIT = ("县应急管理局", f"{PLAN_YEAR}年度乡镇安全生产和消防工作考核")
# Visits held in the last this many days still wait for their findings; older ones were closed.
AWAITING_DAYS = 28
AWAITING_LATEST = 2
# Duplicate score (as shown, rounded) from which the office treats two items as one inspection filed twice.
SAME_SCORE = 87


class _Ctx:
    def __init__(self, county: AdminUnit, system: User, say: Say):
        self.county = county
        self.system = system
        self.say = say
        self.townships: list[AdminUnit] = list(
            AdminUnit.objects.filter(parent=county, level=Level.TOWNSHIP).order_by("code")
        )
        if len(self.townships) != sample_plans.TOWNSHIP_COUNT:
            raise RuntimeError(
                f"演示县应有 {sample_plans.TOWNSHIP_COUNT} 个乡镇，实有 {len(self.townships)} 个"
            )
        self.departments = {d.name: d for d in Department.objects.filter(county=county)}
        self.office_user = self._office_user()
        self._filers: dict[int, User] = {}
        self._township_users: dict[int, User] = {}

    def _office_user(self) -> User:
        user = User.objects.filter(username="county").first()
        if user is not None:
            return user
        office = next(d for d in self.departments.values() if d.kind == "county_office")
        return _user_in(Q(department=office))

    def filer(self, department: Department) -> User:
        """The department cadre who keeps its plan (住建局: the printed demo login)."""
        if department.pk not in self._filers:
            user = None
            if department.name == "县住房和城乡建设局":
                user = User.objects.filter(username="zhujian").first()
            if user is None:
                user = _user_in(Q(department=department), prefer="业务股股长")
            self._filers[department.pk] = user
        return self._filers[department.pk]

    def home_township(self) -> AdminUnit:
        """The township of the printed township logins (``leader``/``staff``)."""
        unit = AdminUnit.objects.filter(positions__cadre__user__username="leader").first()
        return unit if unit is not None else self.townships[3]

    def township_user(self, township: AdminUnit) -> User:
        """A township cadre who submits its 一表通 data (the demo township: the printed staff login)."""
        if township.pk not in self._township_users:
            user = User.objects.filter(username="staff", cadre__positions__unit=township).first()
            self._township_users[township.pk] = user or _user_in(Q(unit=township, is_leader=False))
        return self._township_users[township.pk]


def _user_in(where: Q, prefer: str = "") -> User:
    qs = Position.objects.filter(where, active=True, cadre__active=True).select_related("cadre__user")
    pos = (qs.filter(title=prefer).order_by("id").first() if prefer else None) or qs.order_by("id").first()
    if pos is None or pos.cadre.user is None:
        raise RuntimeError("演示数据缺少相应的干部")
    return pos.cadre.user


def build(*, county: AdminUnit, system: User, say: Say = lambda _m: None) -> dict[str, int]:
    if InspectionPlan.objects.filter(county=county).exists():
        return {}
    ctx = _Ctx(county, system, say)
    counts: dict[str, int] = {}
    counts |= _catalog(ctx)
    counts |= _history(ctx)
    counts |= _plans(ctx)
    return counts


# ---- 一表通 ----------------------------------------------------------------------------------------------------


def _catalog(ctx: _Ctx) -> dict[str, int]:
    today = timezone.localdate()
    submissions = 0
    for spec in sample_plans.CATALOG:
        owner = ctx.departments[spec.owner]
        entry = datacatalog.entry_create(
            actor=ctx.office_user,
            county=ctx.county,
            name=spec.name,
            period=spec.period,
            description=spec.description,
            owner_department_id=owner.pk,
            fields=[{"key": f.key, "label": f.label, "unit": f.unit, "type": f.type} for f in spec.fields],
        )
        for name in spec.subscribers:
            dept = ctx.departments[name]
            datacatalog.subscription_set(
                actor=ctx.filer(dept), entry_id=entry.pk, subscribe=True, department_id=dept.pk
            )
        period = datacatalog.due_period(spec.period, today)  # what the township owes now
        for pos, township in enumerate(ctx.townships):
            if pos in spec.missing:
                continue
            datacatalog.submission_save(
                actor=ctx.township_user(township),
                entry_id=entry.pk,
                township_id=township.pk,
                period=period,
                values=sample_plans.township_values(spec, pos, township.kind),
            )
            submissions += 1
    ctx.say(
        f"一表通：{len(sample_plans.CATALOG)} 个数据集，乡镇报送 {submissions} 份"
        f"（{sum(1 for s in sample_plans.CATALOG if s.missing)} 个数据集尚有乡镇未报）"
    )
    return {"catalog_entries": len(sample_plans.CATALOG), "catalog_submissions": submissions}


# ---- 2026: the services --------------------------------------------------------------------------------------------


def _input(ctx: _Ctx, spec: PlanItem, year: int) -> plans.ItemInput:
    start, end = spec.window(year)
    targets = spec.targets_in(year)
    every = targets == sample_plans.ALL
    return plans.ItemInput(
        kind=spec.kind,
        topic=spec.topic,
        basis=spec.basis,
        window_start=start,
        window_end=end,
        comprehensive=spec.comprehensive,
        all_townships=every,
        township_ids=() if every else [ctx.townships[t].pk for t in targets],
        mode=spec.mode,
        township_hours=spec.hours,
        materials=[{"name": m.name, "basis": m.basis} for m in spec.materials],
        data_fields=list(spec.data),
    )


def _file(ctx: _Ctx, department: Department, specs: Sequence[PlanItem], note: str) -> InspectionPlan:
    """A department drafts its plan (in the form, or by importing the county's .xlsx template) and files it."""
    user = ctx.filer(department)
    if department.name in IMPORTED_DEPARTMENTS:
        result = planio.import_plans(
            actor=user,
            file_name=f"{department.name}{PLAN_YEAR}年度督查检查考核计划.xlsx",
            data=_workbook(ctx, department, specs),
            year=PLAN_YEAR,
            department_id=department.pk,
        )
        plan = InspectionPlan.objects.get(pk=result.plans[0].plan_id)
    else:
        plan = plans.plan_create(actor=user, year=PLAN_YEAR, department_id=department.pk, note=note)
        for spec in specs:
            plans.item_create(actor=user, plan_id=plan.pk, data=_input(ctx, spec, PLAN_YEAR))
    return plans.plan_file(actor=user, plan_id=plan.pk)


def _workbook(ctx: _Ctx, department: Department, specs: Sequence[PlanItem]) -> bytes:
    """The department's plan typed into the county's template, as its staff would fill it in Excel."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(planio.template_workbook()))
    ws = wb[planio.SHEET_TITLE]
    kinds = {"supervision": "督查", "inspection": "检查", "assessment": "考核"}
    for seq, spec in enumerate(specs, start=1):
        start, end = spec.window(PLAN_YEAR)
        targets = spec.targets_in(PLAN_YEAR)
        row = {
            "department": department.name,
            "year": PLAN_YEAR,
            "seq": seq,
            "kind": kinds[spec.kind],
            "comprehensive": "是" if spec.comprehensive else "否",
            "topic": spec.topic,
            "basis": spec.basis,
            "targets": "全部乡镇"
            if targets == sample_plans.ALL
            else "、".join(ctx.townships[t].name for t in targets),
            "window_start": start,
            "window_end": end,
            "mode": "实地" if spec.mode == sample_plans.ONSITE else "非现场",
            "hours": spec.hours,
            "materials": "、".join(
                f"{m.name}（依据：{m.basis}）" if m.basis else m.name for m in spec.materials
            ),
            "data_fields": "、".join(spec.data),
        }
        ws.append([row.get(k) for k in planio.EXPORT_KEYS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _plans(ctx: _Ctx) -> dict[str, int]:
    by_dept: dict[str, list[PlanItem]] = defaultdict(list)
    for spec in sample_plans.planned_for(PLAN_YEAR):
        by_dept[spec.department].append(spec)
    on_time = [d for d in sample_plans.DEPARTMENTS if d in by_dept and d not in LATE_DEPARTMENTS]
    for name in on_time:
        _file(ctx, ctx.departments[name], by_dept[name], f"{PLAN_YEAR} 年度督查检查考核计划")
    filed = sum(len(by_dept[n]) for n in on_time)
    ctx.say(f"{PLAN_YEAR} 年度计划：{len(on_time)} 个部门报送 {filed} 项，报送即审查")

    decided = _decide(ctx)
    extra = _out_of_plan(ctx)
    merged = _merge(ctx)

    for name in LATE_DEPARTMENTS:
        _file(ctx, ctx.departments[name], by_dept[name], f"{PLAN_YEAR} 年度督查检查考核计划（补报）")
    late = sum(len(by_dept[n]) for n in LATE_DEPARTMENTS)
    resubmitted = _resubmit(ctx)
    pending = InspectionItem.objects.filter(
        plan__county=ctx.county, plan__year=PLAN_YEAR, status=ItemStatus.PENDING
    ).count()
    ctx.say(
        f"计划外 {extra} 项（一事一报）、补报 {len(LATE_DEPARTMENTS)} 个部门 {late} 项、"
        f"退回后重新报送 {resubmitted} 项；待县减负办审核 {pending} 项"
    )
    return {
        "inspection_plans": len(on_time) + len(LATE_DEPARTMENTS),
        "inspection_items": filed + late + extra,
        "inspection_pending": pending,
        **{f"decided_{k}": v for k, v in decided.items()},
        **merged,
    }


_RULE_LABELS = {
    "duplicate": "重复",
    "near_duplicate": "疑似重复",
    "split": "拆包分包",
    "over_quota": "超过频次上限",
    "comprehensive_quota": "综合性督查超限",
    "trace_demand": "留痕要求",
    "data_held": "数据已在一表通",
}


def _decide(ctx: _Ctx) -> dict[str, int]:
    """The county office's decisions: clean items in one step, flagged items one by one by their flags."""
    bulk = plans.items_approve_clean(actor=ctx.office_user, county=ctx.county, year=PLAN_YEAR)
    run_id = bulk.run_id
    flags: dict[int, list[ReviewFlag]] = defaultdict(list)
    for f in ReviewFlag.objects.filter(run_id=run_id).order_by("id"):
        flags[f.item_id].append(f)
    items = {
        i.pk: i
        for i in InspectionItem.objects.filter(plan__county=ctx.county, plan__year=PLAN_YEAR).select_related(
            "plan__department"
        )
    }
    done: Counter[str] = Counter(approved=bulk.approved)
    for item_id in sorted(i for i, it in items.items() if it.status == ItemStatus.PENDING):
        item = items[item_id]
        action, note = _decision(item, flags.get(item_id, []), items)
        items[item_id] = plans.item_decide(actor=ctx.office_user, item_id=item_id, action=action, note=note)
        done[{"approve": "approved", "return": "returned", "refuse": "refused"}[action]] += 1
    by_rule = Counter(ReviewFlag.objects.filter(run_id=run_id).values_list("rule", flat=True))
    ctx.say("审查提示：" + "，".join(f"{_RULE_LABELS.get(r, r)} {n}" for r, n in sorted(by_rule.items())))
    ctx.say(
        f"县减负办审核：批准 {done['approved']} 项（其中无提示的 {bulk.approved} 项一键批准），"
        f"退回修改 {done['returned']} 项，不予批准 {done['refused']} 项"
    )
    return dict(done)


def _decision(
    item: InspectionItem, flags: list[ReviewFlag], items: dict[int, InspectionItem]
) -> tuple[str, str]:
    """What a careful county office decides on these flags (the reasons name what the flags found)."""
    rules = {f.rule for f in flags}

    def others(*rule: str) -> list[InspectionItem]:
        ids = {o for f in flags if f.rule in rule for o in f.others}
        return [items[o] for o in sorted(ids) if o in items]

    if "comprehensive_quota" in rules:
        kept = others("comprehensive_quota")
        name = f"「{kept[0].topic}」" if kept else "一次综合性督查检查考核"
        return (
            "return",
            f"每个部门每年对同一乡镇至多开展一次综合性督查检查考核，本部门已安排{name}；"
            "本项请并入该项，或改为运用日常工作数据和一表通数据的非现场考核后重新报送。",
        )
    notes = []
    if "split" in rules:
        score = max(f.score or 0 for f in flags if f.rule == "split")
        group = [item, *[o for o in others("split") if o.plan_id == item.plan_id]]
        first = min(group, key=lambda i: (i.window_start, i.pk))
        if first.pk != item.pk and score >= SPLIT_SCORE:
            return (
                "return",
                f"与本部门「{first.topic}」属同一事项，不得拆分为多次到乡镇（拆包分包）；"
                "请并入该项一次开展，或改为非现场方式后重新报送。",
            )
        if first.pk != item.pk:
            notes.append(f"经核，与本部门「{first.topic}」检查内容不同，不属于拆包分包")
    # The same inspection filed twice (score ≥ SAME_SCORE): the first filed runs it for both, the other is refused.
    same = sorted(
        {
            o
            for f in flags
            if f.rule == "duplicate" and round(f.score or 0) >= SAME_SCORE
            for o in f.others
            if o in items
        }
    )
    lead = next((items[o] for o in same if o < item.pk and items[o].status != ItemStatus.REFUSED), None)
    if lead is not None:
        return (
            "refuse",
            f"与{_dept(lead)}「{lead.topic}」重复（同期、同对象、同内容），由{_dept(lead)}统一开展，"
            "检查结果两部门共享，不再重复到乡镇。",
        )
    if same:
        names = "、".join(f"{_dept(items[o])}「{items[o].topic}」" for o in same)
        notes.append(f"与{names}为同一事项，由本部门统一开展，检查结果共享")
    dup = [o for o in others("duplicate") if o.pk not in same]
    if dup:
        names = "、".join(f"{_dept(o)}「{o.topic}」" for o in dup[:2])
        notes.append(f"与{names}内容相近、时间和对象重叠，合并为联合检查，检查结果互认")
    near = [o for o in others("near_duplicate") if o.pk not in same and o not in dup]
    if near:
        names = "、".join(f"{_dept(o)}「{o.topic}」" for o in near[:2])
        notes.append(f"与{names}时间和对象重叠，统筹安排在同一次联合督查")
    if "trace_demand" in rules:
        notes.append("留痕类材料要求已删除，不得要求乡镇提供")
    if "data_held" in rules:
        notes.append("一表通已有的数据直接调用，不再向乡镇索要")
    if "over_quota" in rules:
        notes.append("纳入联合督查统筹安排，不单独到乡镇")
    return "approve", "；".join(notes)


def _dept(item: InspectionItem) -> str:
    d = item.plan.department
    return d.short_name or d.name


def _resubmit(ctx: _Ctx) -> int:
    """A returned item comes back: 应急局 turns its second comprehensive inspection, the year-end assessment, into
    a non-site one that reads the year's data instead of visiting (it waits for the office again)."""
    item = (
        InspectionItem.objects.filter(
            plan__county=ctx.county,
            plan__year=PLAN_YEAR,
            plan__department__name=RESUBMIT[0],
            topic=RESUBMIT[1],
            status=ItemStatus.RETURNED,
        )
        .select_related("plan__department")
        .first()
    )
    if item is None:
        return 0
    spec = next(s for s in sample_plans.items_for(PLAN_YEAR) if (s.department, s.topic) == RESUBMIT)
    data = _input(ctx, spec, PLAN_YEAR)
    data.mode = Mode.REMOTE
    data.township_hours = 2
    data.materials = [{"name": "安全生产责任制落实情况报告", "basis": ""}]
    plans.item_update(actor=ctx.filer(item.plan.department), item_id=item.pk, data=data)
    return 1


def _out_of_plan(ctx: _Ctx) -> int:
    """Items a department needs after filing: each one added to the filed plan is out of plan and waits alone."""
    n = 0
    for spec in sample_plans.items_for(PLAN_YEAR, out_of_plan=True):
        dept = ctx.departments[spec.department]
        plan = InspectionPlan.objects.get(department=dept, year=PLAN_YEAR)
        item = plans.item_create(actor=ctx.filer(dept), plan_id=plan.pk, data=_input(ctx, spec, PLAN_YEAR))
        n += 1
        if spec.topic in APPROVED_OUT_OF_PLAN:
            plans.item_decide(
                actor=ctx.office_user,
                item_id=item.pk,
                action="approve",
                note="节前安全生产形势需要，同意一事一报；与当月已批准的检查合并开展",
            )
    return n


def _merge(ctx: _Ctx) -> dict[str, int]:
    """The county office merges the approved on-site items into joint visits (CP-SAT checks the small townships
    within a short budget, so the run shows the heuristic's gap); then the visits already held at the demo
    township get their findings, recorded once by each lead department."""
    run = visits.merge_run(
        actor=ctx.office_user,
        county=ctx.county,
        year=PLAN_YEAR,
        exact_reference=True,
        exact_budget_s=EXACT_BUDGET_S,
        exact_time_s=EXACT_TIME_S,
        today=dt.date(PLAN_YEAR, 1, 1),  # merged when the plans were approved, at the start of the year
    )
    cut = 1 - run.visits_after / run.visits_before if run.visits_before else 0.0
    joint = run.stats.get("joint_visits", 0)
    ctx.say(
        f"联合督查：实地到乡镇 {run.visits_before} 次合并为 {run.visits_after} 次（减少 {cut:.0%}，"
        f"其中联合督查 {joint} 次），乡镇工时 {run.hours_before} → {run.hours_after} 小时"
    )
    findings = _findings(ctx, run)
    _close_held(ctx, run)
    return {"visits_before": run.visits_before, "visits_after": run.visits_after, "findings": findings}


# (topic keyword, finding, follow-up, days to fix): what inspectors of that topic typically write down.
_FINDINGS: tuple[tuple[str, str, str, int], ...] = (
    (
        "自建房",
        "镇区1栋经营性自建房擅自加层改变用途，未经安全鉴定",
        "责令暂停经营，委托房屋安全鉴定后整治",
        30,
    ),
    ("防汛", "1座山塘溢洪道被杂物堵塞，巡查责任人未落实到人", "汛前清理溢洪道，明确巡查责任人", 15),
    ("燃气", "2户餐饮商户燃气软管老化、未安装可燃气体报警器", "更换金属软管并安装报警器", 15),
    ("食品", "2家小餐饮未落实进货查验和留样制度", "限期整改，由市场监管所复查", 20),
    ("森林防火", "进山路口防火卡口夜间无人值守", "落实卡口值守和巡护排班", 7),
    ("耕地", "新发现1处违法占用耕地建设附属设施，约0.6亩", "立案查处，恢复耕种条件", 60),
    ("安全生产", "1家企业消防通道堆放杂物、应急照明损坏", "立即清理通道、修复应急照明", 7),
    ("消防", "1处人员密集场所疏散指示标志缺失", "补设疏散指示标志", 10),
)


def _findings(ctx: _Ctx, run: MergeRun) -> int:
    """Visits at the demo township held before today: the lead department records what it found once for all the
    visit's items (an item without a finding had nothing to report) and closes the visit."""
    today = timezone.localdate()
    held = (
        JointVisit.objects.filter(run=run, township=ctx.home_township(), day__lt=today)
        .select_related("lead_department")
        .prefetch_related("items")
        .order_by("day", "pk")
    )
    n = 0
    for visit in held:
        rows: list[dict[str, Any]] = []
        for item in sorted(visit.items.all(), key=lambda i: i.pk):
            hit = next((f for f in _FINDINGS if f[0] in item.topic), None)
            if hit is None:
                rows.append({"item_id": item.pk})
                continue
            _k, text, follow, days = hit
            due = visit.day + dt.timedelta(days=days)
            rows.append({"item_id": item.pk, "text": text, "follow_up": follow, "due": due})
        made = visits.findings_record(
            actor=ctx.filer(visit.lead_department), visit_id=visit.pk, rows=rows, done=True
        )
        n += len(made)
    ctx.say(f"{ctx.home_township().name}已开展的联合督查由牵头部门一次记录发现问题 {n} 条")
    return n


def _close_held(ctx: _Ctx, run: MergeRun) -> int:
    """Visits at the other townships held more than ``AWAITING_DAYS`` ago were closed by their lead departments
    with nothing to record (written in bulk: the demo's past, like 2025), except each lead department's latest
    ``AWAITING_LATEST`` held visits: those, and the last weeks' visits, still wait for their findings, as they would
    on a real department's home page."""
    today = timezone.localdate()
    cutoff = today - dt.timedelta(days=AWAITING_DAYS)
    held = list(
        JointVisit.objects.filter(run=run, day__lt=today, status=VisitStatus.PLANNED)
        .exclude(township=ctx.home_township())
        .order_by("lead_department_id", "-day", "-pk")
        .values_list("pk", "lead_department_id", "day")
    )
    seen: Counter[int] = Counter()
    close = []
    for pk, lead, day in held:
        seen[lead] += 1
        if day < cutoff and seen[lead] > AWAITING_LATEST:
            close.append(pk)
    return JointVisit.objects.filter(pk__in=close).update(status=VisitStatus.DONE)


# ---- 2025: history -------------------------------------------------------------------------------------------------


def _history(ctx: _Ctx) -> dict[str, int]:
    """The year before the platform, as it was run: every department's plan, all of it approved, each on-site item
    a visit of its own at each township it named. Written in bulk: it is the record the ledger compares with, not a
    year anyone files now (its filing and decision dates are in 2025)."""
    year = PREVIOUS_YEAR
    rng = random.Random(f"gongzhi-demo-inspections:{sample_plans.sample_year(year)}")
    specs = sample_plans.items_for(year)
    by_dept: dict[str, list[PlanItem]] = defaultdict(list)
    for spec in specs:
        by_dept[spec.department].append(spec)
    tz = timezone.get_current_timezone()
    filed_at = dt.datetime(year, 1, 20, 10, 0, tzinfo=tz)
    plan_rows = InspectionPlan.objects.bulk_create(
        [
            InspectionPlan(
                department=ctx.departments[name],
                county=ctx.county,
                year=year,
                status=PlanStatus.FILED,
                note=f"{year} 年度督查检查考核计划",
                filed_at=filed_at + dt.timedelta(days=i),
                filed_by=ctx.filer(ctx.departments[name]),
            )
            for i, name in enumerate(by_dept)
        ]
    )
    plan_of = {p.department.name: p for p in plan_rows}
    taken: set[str] = set()
    item_rows: list[InspectionItem] = []
    item_specs: list[PlanItem] = []
    for name, dept_specs in by_dept.items():
        plan = plan_of[name]
        for seq, spec in enumerate(dept_specs, start=1):
            start, end = spec.window(year)
            code = codes.make_code(year)
            while code in taken:
                code = codes.make_code(year)
            taken.add(code)
            decided = max(
                filed_at + dt.timedelta(days=14),
                dt.datetime.combine(start, dt.time(9), tz) - dt.timedelta(days=10),
            )
            item_rows.append(
                InspectionItem(
                    plan=plan,
                    seq=seq,
                    kind=spec.kind,
                    comprehensive=spec.comprehensive,
                    topic=spec.topic,
                    basis=spec.basis,
                    all_townships=spec.targets == sample_plans.ALL,
                    window_start=start,
                    window_end=end,
                    mode=spec.mode,
                    township_hours=Decimal(str(spec.hours)),
                    materials=[{"name": m.name, "basis": m.basis} for m in spec.materials],
                    data_fields=[{"label": label, "ref": None} for label in spec.data],
                    out_of_plan=spec.out_of_plan,
                    status=ItemStatus.APPROVED,
                    decided_by=ctx.office_user,
                    decided_at=decided,
                    decision_note="",
                    code=code,
                )
            )
            item_specs.append(spec)
    InspectionItem.objects.bulk_create(item_rows, batch_size=500)
    InspectionTarget.objects.bulk_create(
        [
            InspectionTarget(item=item, township=ctx.townships[t])
            for item, spec in zip(item_rows, item_specs, strict=True)
            if spec.targets != sample_plans.ALL
            for t in spec.targets
        ],
        batch_size=1000,
    )
    # No merging in 2025: one visit per on-site item per township, on a day inside the item's window.
    onsite = [(i, s) for i, s in zip(item_rows, item_specs, strict=True) if s.mode == Mode.ONSITE]
    made: list[JointVisit] = []
    members: list[InspectionItem] = []
    hours = Decimal(0)
    per: dict[str, dict[str, Any]] = {
        t.code: {"name": t.name, "before": 0, "after": 0, "hours_before": 0.0, "hours_after": 0.0}
        for t in ctx.townships
    }
    run = MergeRun.objects.create(
        county=ctx.county, year=year, active=True, created_by=ctx.office_user, stats={"merged": False}
    )
    for item, spec in onsite:
        span = (item.window_end - item.window_start).days
        dept = item.plan.department.name
        h = float(item.township_hours)
        for t in spec.targets:
            day = item.window_start + dt.timedelta(days=rng.randint(0, span))
            # The shape of the merge engine's reasons, so every page reads 2025 as it reads a merge.
            params: dict[str, Any] = {
                "items": [item.pk],
                "departments": [dept],
                "kinds": [item.kind],
                "from": item.window_start.isoformat(),
                "to": item.window_end.isoformat(),
                "day": day.isoformat(),
                "hours_separate": h,
                "hours": h,
                "saved": 0,
                "lead_department": dept,
                "lead_reason": "hours",
                "before_platform": True,
            }
            made.append(
                JointVisit(
                    run=run,
                    township=ctx.townships[t],
                    lead_department=item.plan.department,
                    window_start=item.window_start,
                    window_end=item.window_end,
                    day=day,
                    hours=item.township_hours,
                    reasons=[{"code": "single_visit", "params": params}],
                    status=VisitStatus.DONE,
                )
            )
            members.append(item)
            hours += item.township_hours
            p = per[ctx.townships[t].code]
            p["before"] += 1
            p["after"] += 1
            p["hours_before"] += h
            p["hours_after"] += h
    JointVisit.objects.bulk_create(made, batch_size=1000)
    JointVisitItem.objects.bulk_create(
        [JointVisitItem(visit=v, item=i) for v, i in zip(made, members, strict=True)], batch_size=1000
    )
    run.visits_before = run.visits_after = len(made)
    run.hours_before = run.hours_after = hours
    run.stats = {
        "merged": False,
        "note": f"{year} 年未统筹：每个实地事项在每个乡镇单独一次",
        "demands": len(made),
        "items": len(onsite),
        "townships": len(per),
        "joint_visits": 0,
        "unmerged": {},
        "kept_visits": 0,
        "kept_items": 0,
        "per_township": {
            c: {**p, "hours_before": round(p["hours_before"], 1), "hours_after": round(p["hours_after"], 1)}
            for c, p in per.items()
        },
        "rules": {"max_items_per_visit": 1},
        "superseded": [],
    }
    run.save(update_fields=["visits_before", "visits_after", "hours_before", "hours_after", "stats"])
    ctx.say(
        f"{year} 年度（平台上线前）：{len(plan_rows)} 个部门 {len(item_rows)} 项，"
        f"实地到乡镇 {len(made)} 次，均未合并"
    )
    return {"inspection_items_2025": len(item_rows), "visits_2025": len(made)}
