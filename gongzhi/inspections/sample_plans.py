"""The demo county's annual 督查检查考核 plans and its 一表通 catalog (pure data, no Django).

What the 20 county departments of the demo county would file for this year (``PLAN_YEAR``; written for 2026), and
what they ran the year before (``PREVIOUS_YEAR``), before the platform (nothing was reviewed or merged then; the burden ledger compares the two years). The items are written
the way such plans are written in practice, and so they carry what the review has to find:

- the same work inspected by two or three departments in the same weeks (汛期防汛及安全生产大检查 and 汛期防汛检查 in June at
  every township; 自建房 by 住建局 and 应急局; 食品安全 by 市场监管局, 卫健局 and 教育局; 秸秆禁烧 by 农业农村局
  and 生态环境分局; 农资打假, 村级财务, 防返贫 …);
- one topic cut into several small items (拆包分包: 河长制 and 爱国卫生 by the quarter, 重大项目 by the quarter,
  食品安全 by the occasion, 自建房 and its 回头看, 卫片执法 in batches);
- two comprehensive inspections by one department (应急局, 农业农村局);
- a few industrial and scenic townships named by many departments in the second quarter, so they would get more
  on-site visits than the cap;
- 留痕 demands (现场照片, 签到表, 会议记录及照片, 工作台账, 学习笔记, APP 截图, 轨迹, 视频 …), next to materials that
  are legitimately asked for with their legal basis (防汛责任人名单, 动物免疫档案, 会计凭证 …);
- data fields townships already submit to the 一表通 catalog (常住人口, 耕地面积, 规上工业企业数, 危化品企业名单,
  在校学生数 …), next to fields the catalog does not hold;
- items outside the plan added later in the year (一事一报).

Legal bases name the law, regulation or policy document the inspection rests on (pointers for the reader, not
quotations). Provincial and county documents belong to the fictional 示范省 and 共治县. Targets name townships by
their position in code order: 0–2 are the 街道, 3–8 the 镇 (3 is the demo township), 9–11 the 乡.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date


def _this_year() -> int:
    """The current year where the pages open: Django's local date once settings are loaded (the only Django this
    module touches), the system's date otherwise. Read once, at import."""
    try:
        from django.conf import settings
        from django.utils import timezone

        if settings.configured:
            return timezone.localdate().year
    except ImportError:  # pragma: no cover - the data is usable without Django
        pass
    return date.today().year


# The demo plans the current year and records the one before. The sample was written for 2026/2025; every other
# year gets the same items with dates and year names shifted, and the same random draws (seeded by SAMPLE_YEAR's
# counterpart, not by the calendar year), so the demo is the same county whatever year it is built in.
SAMPLE_YEAR = 2026
PLAN_YEAR = _this_year()
PREVIOUS_YEAR = PLAN_YEAR - 1
BOTH = (PREVIOUS_YEAR, PLAN_YEAR)

# Township groups in code order (see core.demo.TOWNSHIP_LAYOUT: 3 街道, 6 镇, 3 乡).
STREETS = (0, 1, 2)
TOWNS = (3, 4, 5, 6, 7, 8)
XIANG = (9, 10, 11)
RURAL = TOWNS + XIANG
ALL = STREETS + RURAL
INDUSTRIAL = (0, 3, 4)  # the county seat's development zone and the two industrial towns
MOUNTAIN = (7, 8, 9, 10, 11)  # forest, reservoirs, geological hazards
SCENIC = (8, 10)
RESERVOIRS = (6, 7, 9, 10)
TOWNSHIP_COUNT = len(ALL)
SAMPLE_FROM = 6  # groups this wide are sampled (抽查) from 2026 on

SUPERVISION, INSPECTION, ASSESSMENT = "supervision", "inspection", "assessment"
ONSITE, REMOTE = "onsite", "remote"


@dataclass(frozen=True)
class Material:
    name: str
    basis: str = ""  # the legal basis that makes the demand legitimate, when there is one


@dataclass(frozen=True)
class PlanItem:
    department: str
    kind: str  # supervision | inspection | assessment
    topic: str
    basis: str
    targets: tuple[int, ...]  # township positions (code order); ALL means 全县所有乡镇
    start: tuple[int, int]  # (month, day) within the plan year
    end: tuple[int, int]
    hours: float  # expected township hours per township
    mode: str = ONSITE
    materials: tuple[Material, ...] = ()
    data: tuple[str, ...] = ()  # data the township is asked to fill in (labels)
    comprehensive: bool = False
    out_of_plan: bool = False  # added later in the year, approved one by one (一事一报)
    years: tuple[int, ...] = BOTH
    # Every target township is visited in every year. Otherwise, from 2026 (the county's first 统筹 year) an
    # ordinary item of a wide group samples a third of it (抽查) instead of covering it all as in 2025.
    full: bool = False

    def targets_in(self, year: int) -> tuple[int, ...]:
        """The township positions this item reaches in ``year`` (deterministic)."""
        if year < PLAN_YEAR or self.full or self.comprehensive or self.kind == ASSESSMENT:
            return self.targets
        if self.mode != ONSITE or len(self.targets) < SAMPLE_FROM:
            return self.targets
        rng = random.Random(f"{sample_year(year)}:{self.department}:{self.topic}")
        k = max(3, round(len(self.targets) / 3))
        return tuple(sorted(rng.sample(self.targets, k)))

    def all_townships_in(self, year: int) -> bool:
        return self.targets_in(year) == ALL

    def window(self, year: int) -> tuple[date, date]:
        return date(year, *self.start), date(year, *self.end)


def sample_year(year: int) -> int:
    """The year of the sample ``year`` corresponds to (2026 for the plan year): what random draws are seeded by."""
    return year - PLAN_YEAR + SAMPLE_YEAR


def m(name: str, basis: str = "") -> Material:
    return Material(name, basis)


def _w(text: str) -> tuple[tuple[int, int], tuple[int, int]]:
    a, b = text.split("~")
    return (int(a[:2]), int(a[3:])), (int(b[:2]), int(b[3:]))


def _item(
    department: str,
    kind: str,
    topic: str,
    basis: str,
    targets: tuple[int, ...],
    window: str,
    hours: float,
    *,
    mode: str = ONSITE,
    materials: tuple[Material, ...] = (),
    data: tuple[str, ...] = (),
    comprehensive: bool = False,
    out_of_plan: bool = False,
    years: tuple[int, ...] = BOTH,
    full: bool = False,
) -> PlanItem:
    start, end = _w(window)
    return PlanItem(
        department=department,
        kind=kind,
        topic=topic,
        basis=basis,
        targets=targets,
        start=start,
        end=end,
        hours=hours,
        mode=mode,
        materials=materials,
        data=data,
        comprehensive=comprehensive,
        out_of_plan=out_of_plan,
        years=years,
        full=full,
    )


# Bases used by several departments.
SAFETY_LAW = "《中华人民共和国安全生产法》"
FOOD_LAW = "《中华人民共和国食品安全法》"
FLOOD = "《中华人民共和国防洪法》《中华人民共和国防汛条例》"
FOREST_FIRE = "《森林防火条例》"
FIRE_LAW = "《中华人民共和国消防法》"
COUNTY_ASSESS = f"县委办公室 县政府办公室《{PLAN_YEAR}年度乡镇综合考核实施办法》"
COUNTY_ASSESS_2025 = f"县委办公室 县政府办公室《{PREVIOUS_YEAR}年度乡镇综合考核实施办法》"

# Legitimate materials (a law or regulation requires them to exist; asking to see them is not 留痕).
FLOOD_ROSTER = m("防汛责任人名单", "《中华人民共和国防汛条例》")
EMERGENCY_PLAN = m("应急预案", "《中华人民共和国突发事件应对法》")
HAZARD_LIST = m("隐患排查整改清单", SAFETY_LAW)
GEO_PATROL = m("群测群防员巡查记录", "《地质灾害防治条例》")
IMMUNIZATION = m("动物免疫档案", "《中华人民共和国动物防疫法》")
VOUCHERS = m("会计凭证及账簿", "《中华人民共和国会计法》")
SUBSIDY_ROLL = m("补贴发放清册", "财政部等《关于进一步加强惠民惠农财政补贴资金“一卡通”管理的指导意见》")
RELIEF_VISITS = m("社会救助入户核查记录", "《社会救助暂行办法》")
RIVER_PATROL = m("河长巡河记录", "中共中央办公厅 国务院办公厅《关于全面推行河长制的意见》")
WAGE_ACCOUNT = m("农民工工资专用账户资料", "《保障农民工工资支付条例》")
RECTIFY_REPORT = m("整改情况报告")

# 留痕 demands, as departments actually word them (no legal basis; the review must catch them).
PHOTOS = m("现场照片")
SIGN_IN = m("签到表")
MINUTES = m("会议记录及照片")
LEDGER = m("工作台账")
NOTES = m("学习笔记")
EVENT_PHOTOS = m("宣传活动照片")
BEFORE_AFTER = m("整改前后对比照片")
VIDEO = m("视频资料")
GROUP_SCREENSHOTS = m("工作群截图")


# ---- the plans, department by department --------------------------------------------------------------------

_YJ = "县应急管理局"
_EMERGENCY: tuple[PlanItem, ...] = (
    _item(
        _YJ,
        ASSESSMENT,
        f"{PLAN_YEAR}年度乡镇安全生产和消防工作考核",
        f"{SAFETY_LAW}《地方党政领导干部安全生产责任制规定》",
        ALL,
        "12-01~12-25",
        8,
        materials=(m("安全生产责任制落实情况报告"), MINUTES, LEDGER),
        data=("危化品企业名单", "规上工业企业数", "人员密集场所数"),
        comprehensive=True,
    ),
    _item(
        _YJ,
        SUPERVISION,
        "安全生产综合督查",
        "省委办公厅 省政府办公厅《关于进一步加强安全生产工作的实施意见》",
        ALL,
        "04-01~05-31",
        6,
        materials=(HAZARD_LIST, MINUTES, SIGN_IN),
        comprehensive=True,
    ),
    _item(
        _YJ,
        INSPECTION,
        "春节前后安全生产检查",
        SAFETY_LAW,
        ALL,
        "01-15~02-28",
        4,
        materials=(HAZARD_LIST, PHOTOS),
    ),
    _item(
        _YJ,
        INSPECTION,
        "汛期防汛及安全生产大检查",
        f"{SAFETY_LAW}《中华人民共和国防洪法》",
        ALL,
        "06-01~06-30",
        4,
        materials=(EMERGENCY_PLAN, m("防汛值班值守记录"), PHOTOS),
        data=("山塘水库数",),
        full=True,
    ),
    _item(
        _YJ,
        INSPECTION,
        "自建房安全隐患排查整治检查",
        f"{SAFETY_LAW} 国务院办公厅《全国自建房安全专项整治工作方案》",
        RURAL,
        "05-01~06-30",
        4,
        materials=(HAZARD_LIST, PHOTOS),
        data=("经营性自建房栋数",),
        full=True,
    ),
    _item(
        _YJ,
        INSPECTION,
        "“安全生产月”活动开展情况检查",
        SAFETY_LAW,
        ALL,
        "06-01~06-30",
        3,
        materials=(m("活动方案及总结"), EVENT_PHOTOS, SIGN_IN),
    ),
    _item(
        _YJ,
        INSPECTION,
        "危险化学品安全专项检查",
        "《危险化学品安全管理条例》",
        (0, 3, 4, 7),
        "03-01~04-30",
        4,
        materials=(HAZARD_LIST,),
        data=("危化品企业名单", "危化品企业数"),
    ),
    _item(
        _YJ,
        INSPECTION,
        "防灾减灾救灾能力建设检查",
        "《中华人民共和国突发事件应对法》",
        ALL,
        "04-15~05-15",
        2,
        mode=REMOTE,
        materials=(EMERGENCY_PLAN, m("应急物资储备清单"), m("应急演练照片及视频")),
    ),
    _item(
        _YJ,
        INSPECTION,
        "“三小”场所消防安全检查",
        FIRE_LAW,
        ALL,
        "09-01~10-31",
        3,
        materials=(HAZARD_LIST,),
        data=("人员密集场所数",),
    ),
    _item(
        _YJ,
        INSPECTION,
        "烟花爆竹安全专项检查",
        "《烟花爆竹安全管理条例》",
        ALL,
        "01-05~02-15",
        2,
        data=("烟花爆竹零售点数",),
    ),
    _item(
        _YJ,
        SUPERVISION,
        "乡镇应急管理“一办一所一队”建设督查",
        "省委办公厅 省政府办公厅《关于加强基层应急管理体系和能力建设的意见》",
        ALL,
        "08-01~08-31",
        2,
        mode=REMOTE,
        materials=(m("应急队伍人员名单"), LEDGER, m("队伍训练照片")),
    ),
    _item(
        _YJ,
        INSPECTION,
        "国庆节前安全生产突击检查",
        SAFETY_LAW,
        ALL,
        "09-15~09-30",
        3,
        materials=(HAZARD_LIST,),
        out_of_plan=True,
        full=True,
    ),
    # 2025 only: dropped from the 2026 plan.
    _item(
        _YJ,
        INSPECTION,
        "安全生产大排查大整治“回头看”",
        SAFETY_LAW,
        ALL,
        "07-01~07-31",
        4,
        materials=(HAZARD_LIST, BEFORE_AFTER, LEDGER),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _YJ,
        INSPECTION,
        "安全生产“打非治违”专项行动检查",
        SAFETY_LAW,
        ALL,
        "10-08~10-31",
        3,
        materials=(PHOTOS, LEDGER),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _YJ,
        INSPECTION,
        "非煤矿山安全生产检查",
        "《中华人民共和国矿山安全法》",
        (5, 9, 10),
        "04-15~05-31",
        3,
        data=("非煤矿山数",),
    ),
    _item(
        _YJ,
        INSPECTION,
        "重大事故隐患专项排查整治检查",
        SAFETY_LAW,
        ALL,
        "03-15~04-30",
        3,
        materials=(HAZARD_LIST, LEDGER),
        years=(PLAN_YEAR,),
    ),
)

_SL = "县水利局"
_WATER: tuple[PlanItem, ...] = (
    _item(
        _SL,
        INSPECTION,
        "汛前防汛准备工作检查",
        FLOOD,
        ALL,
        "04-01~05-15",
        4,
        materials=(FLOOD_ROSTER, EMERGENCY_PLAN),
        data=("山塘水库数",),
        full=True,
    ),
    _item(
        _SL,
        INSPECTION,
        "汛期防汛检查",
        FLOOD,
        ALL,
        "06-01~06-30",
        4,
        materials=(FLOOD_ROSTER, m("巡查记录"), PHOTOS),
        data=("山塘水库数", "小型水库数"),
        full=True,
    ),
    _item(
        _SL,
        INSPECTION,
        "小型水库安全度汛检查",
        "《水库大坝安全管理条例》",
        RESERVOIRS,
        "05-01~06-15",
        4,
        materials=(m("水库安全度汛“三个责任人”名单", "《水库大坝安全管理条例》"),),
        data=("小型水库数",),
    ),
    _item(
        _SL,
        SUPERVISION,
        "河长制湖长制工作督查（第一季度）",
        "中共中央办公厅 国务院办公厅《关于全面推行河长制的意见》",
        ALL,
        "03-01~03-31",
        2,
        materials=(m("河长巡河APP轨迹截图"), MINUTES),
    ),
    _item(
        _SL,
        SUPERVISION,
        "河长制湖长制工作督查（第二季度）",
        "中共中央办公厅 国务院办公厅《关于全面推行河长制的意见》",
        ALL,
        "06-01~06-30",
        2,
        materials=(m("河长巡河APP轨迹截图"), MINUTES),
    ),
    _item(
        _SL,
        SUPERVISION,
        "河长制湖长制工作督查（第三季度）",
        "中共中央办公厅 国务院办公厅《关于全面推行河长制的意见》",
        ALL,
        "09-01~09-30",
        2,
        materials=(m("河长巡河APP轨迹截图"), MINUTES),
    ),
    _item(
        _SL,
        ASSESSMENT,
        "河湖长制工作年度考核",
        "中共中央办公厅 国务院办公厅《关于全面推行河长制的意见》",
        ALL,
        "12-01~12-20",
        6,
        materials=(RIVER_PATROL, m("河长制工作台账"), MINUTES),
        data=("河道长度",),
        comprehensive=True,
    ),
    _item(
        _SL,
        INSPECTION,
        "农村供水工程运行管理检查",
        "《中华人民共和国水法》",
        RURAL,
        "07-01~08-31",
        3,
        data=("农村集中供水工程数", "农村自来水普及率"),
    ),
    _item(
        _SL,
        INSPECTION,
        "生产建设项目水土保持监督检查",
        "《中华人民共和国水土保持法》",
        (5, 6, 9, 10),
        "09-01~10-31",
        3,
    ),
    _item(
        _SL,
        SUPERVISION,
        "水旱灾害防御责任落实督查",
        FLOOD,
        ALL,
        "04-15~05-15",
        2,
        mode=REMOTE,
        materials=(FLOOD_ROSTER, m("责任人培训签到表")),
    ),
    _item(
        _SL,
        INSPECTION,
        "河道“清四乱”专项整治检查",
        "《中华人民共和国河道管理条例》",
        RURAL,
        "10-01~10-31",
        3,
        materials=(BEFORE_AFTER,),
        years=(PREVIOUS_YEAR,),
    ),
)

_ZJ = "县住房和城乡建设局"
_HOUSING: tuple[PlanItem, ...] = (
    _item(
        _ZJ,
        INSPECTION,
        "自建房安全专项整治检查",
        "国务院办公厅《全国自建房安全专项整治工作方案》",
        ALL,
        "05-01~06-30",
        4,
        materials=(m("自建房排查整治台账"), PHOTOS),
        data=("经营性自建房栋数",),
        full=True,
    ),
    _item(
        _ZJ,
        INSPECTION,
        "经营性自建房安全专项整治“回头看”",
        "国务院办公厅《全国自建房安全专项整治工作方案》",
        ALL,
        "07-01~07-31",
        3,
        materials=(m("自建房排查整治台账"), BEFORE_AFTER),
        data=("经营性自建房栋数",),
        full=True,
    ),
    _item(
        _ZJ,
        INSPECTION,
        "农村危房改造质量安全检查",
        "住房和城乡建设部《农村危房改造基本安全技术导则》",
        RURAL,
        "08-01~09-30",
        3,
        data=("农村低收入群体危房户数",),
    ),
    _item(
        _ZJ,
        INSPECTION,
        "城镇燃气安全专项排查整治检查",
        "《城镇燃气管理条例》",
        (0, 1, 2, 3, 4),
        "03-01~04-30",
        3,
        materials=(HAZARD_LIST,),
    ),
    _item(
        _ZJ,
        INSPECTION,
        "建筑施工安全生产检查",
        "《建设工程安全生产管理条例》",
        (0, 1, 3, 4),
        "03-15~04-30",
        3,
        materials=(WAGE_ACCOUNT, HAZARD_LIST),
    ),
    _item(
        _ZJ,
        INSPECTION,
        "汛期建筑施工安全检查",
        "《建设工程安全生产管理条例》",
        (0, 1, 3, 4),
        "06-01~06-30",
        3,
        materials=(HAZARD_LIST, PHOTOS),
    ),
    _item(
        _ZJ,
        ASSESSMENT,
        "住房城乡建设工作年度目标考核",
        COUNTY_ASSESS,
        ALL,
        "12-01~12-20",
        6,
        materials=(m("年度工作总结"), LEDGER, MINUTES),
        comprehensive=True,
    ),
    _item(
        _ZJ,
        INSPECTION,
        "住宅小区消防安全检查",
        FIRE_LAW,
        STREETS,
        "11-01~11-30",
        2,
        materials=(HAZARD_LIST,),
    ),
    _item(
        _ZJ,
        INSPECTION,
        "美丽宜居村庄建设检查",
        "《中华人民共和国城乡规划法》",
        RURAL,
        "10-01~10-31",
        3,
        materials=(LEDGER, EVENT_PHOTOS),
    ),
    _item(
        _ZJ,
        INSPECTION,
        "燃气安全隐患突击排查",
        "《城镇燃气管理条例》",
        ALL,
        "10-10~10-31",
        2,
        materials=(HAZARD_LIST,),
        out_of_plan=True,
        years=(PLAN_YEAR,),
    ),
    _item(
        _ZJ,
        INSPECTION,
        "农房建设“回头看”排查检查",
        "国务院办公厅《全国自建房安全专项整治工作方案》",
        RURAL,
        "09-01~09-30",
        3,
        materials=(LEDGER, PHOTOS),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _ZJ,
        INSPECTION,
        "城镇老旧小区改造工程质量检查",
        "《建设工程质量管理条例》",
        STREETS,
        "08-01~08-31",
        2,
        years=(PLAN_YEAR,),
    ),
)

_SJ = "县市场监督管理局"
_MARKET: tuple[PlanItem, ...] = (
    _item(
        _SJ,
        INSPECTION,
        "春节期间食品安全检查",
        FOOD_LAW,
        ALL,
        "01-10~02-10",
        3,
    ),
    _item(
        _SJ,
        INSPECTION,
        "学校及周边食品安全检查",
        f"{FOOD_LAW}《学校食品安全与营养健康管理规定》",
        ALL,
        "03-01~03-31",
        3,
        data=("中小学校数", "在校学生数"),
        full=True,
    ),
    _item(
        _SJ,
        INSPECTION,
        "农村集体聚餐食品安全检查",
        FOOD_LAW,
        RURAL,
        "05-01~05-31",
        2,
        materials=(m("聚餐报备登记台账"),),
    ),
    _item(
        _SJ,
        INSPECTION,
        "中秋国庆节日市场食品安全检查",
        FOOD_LAW,
        ALL,
        "09-01~09-30",
        2,
    ),
    _item(
        _SJ,
        INSPECTION,
        "特种设备安全检查",
        "《中华人民共和国特种设备安全法》",
        (*INDUSTRIAL, 7),
        "04-01~05-31",
        3,
        data=("规上工业企业数",),
    ),
    _item(
        _SJ,
        ASSESSMENT,
        "食品安全工作评议考核",
        "《地方党政领导干部食品安全责任制规定》",
        ALL,
        "12-01~12-20",
        6,
        materials=(m("食品安全包保督导APP截图"), MINUTES, m("包保干部督导记录")),
        comprehensive=True,
    ),
    _item(
        _SJ,
        SUPERVISION,
        "食品安全“两个责任”包保督导落实情况督查",
        "《地方党政领导干部食品安全责任制规定》",
        ALL,
        "07-01~07-31",
        2,
        mode=REMOTE,
        materials=(m("包保督导APP截图"), m("包保工作台账")),
    ),
    _item(
        _SJ,
        INSPECTION,
        "药品零售企业和村卫生室药品质量检查",
        "《中华人民共和国药品管理法》",
        RURAL,
        "08-01~09-30",
        2,
    ),
    _item(
        _SJ,
        INSPECTION,
        "春季农资市场专项检查",
        "《农药管理条例》《中华人民共和国种子法》",
        RURAL,
        "03-01~04-15",
        2,
        full=True,
    ),
    _item(
        _SJ,
        INSPECTION,
        "燃气用具产品质量专项检查",
        "《中华人民共和国产品质量法》",
        (0, 1, 2, 3, 4),
        "10-10~10-31",
        2,
        out_of_plan=True,
        years=(PLAN_YEAR,),
    ),
    _item(
        _SJ,
        INSPECTION,
        "小作坊小餐饮专项整治检查",
        FOOD_LAW,
        ALL,
        "06-01~06-30",
        2,
        materials=(LEDGER, PHOTOS),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _SJ,
        INSPECTION,
        "创建国家食品安全示范县迎检检查",
        FOOD_LAW,
        ALL,
        "10-15~11-15",
        6,
        materials=(LEDGER, MINUTES, EVENT_PHOTOS, VIDEO),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _SJ,
        INSPECTION,
        "电动自行车及锂电池产品质量检查",
        "《中华人民共和国产品质量法》",
        (*STREETS, 3, 4),
        "05-01~05-31",
        2,
    ),
    _item(
        _SJ,
        INSPECTION,
        "夏季食品安全专项检查",
        FOOD_LAW,
        RURAL,
        "07-01~08-15",
        2,
    ),
)

_WJ = "县卫生健康局"
_HEALTH: tuple[PlanItem, ...] = (
    _item(
        _WJ,
        INSPECTION,
        "学校食品安全和传染病防控检查",
        "《中华人民共和国传染病防治法》《学校食品安全与营养健康管理规定》",
        ALL,
        "03-01~03-31",
        3,
        data=("在校学生数",),
        full=True,
    ),
    _item(
        _WJ,
        INSPECTION,
        "爱国卫生运动检查（第一季度）",
        "国务院《关于深入开展新时代爱国卫生运动的意见》",
        ALL,
        "03-15~03-31",
        2,
        materials=(BEFORE_AFTER,),
    ),
    _item(
        _WJ,
        INSPECTION,
        "爱国卫生运动检查（第二季度）",
        "国务院《关于深入开展新时代爱国卫生运动的意见》",
        ALL,
        "06-15~06-30",
        2,
        materials=(BEFORE_AFTER,),
    ),
    _item(
        _WJ,
        INSPECTION,
        "爱国卫生运动检查（第三季度）",
        "国务院《关于深入开展新时代爱国卫生运动的意见》",
        ALL,
        "09-15~09-30",
        2,
        materials=(BEFORE_AFTER,),
    ),
    _item(
        _WJ,
        SUPERVISION,
        "基本公共卫生服务项目督导",
        "《中华人民共和国基本医疗卫生与健康促进法》",
        RURAL,
        "07-01~08-31",
        4,
        data=("常住人口", "65岁以上老年人口"),
    ),
    _item(
        _WJ,
        ASSESSMENT,
        "卫生健康工作年度考核",
        COUNTY_ASSESS,
        ALL,
        "12-01~12-20",
        6,
        materials=(LEDGER, MINUTES),
        comprehensive=True,
    ),
    _item(
        _WJ,
        INSPECTION,
        "生活饮用水卫生监督检查",
        "《中华人民共和国传染病防治法》",
        RURAL,
        "07-01~07-31",
        2,
        data=("农村集中供水工程数",),
    ),
    _item(
        _WJ,
        INSPECTION,
        "医疗机构及村卫生室依法执业检查",
        "《医疗机构管理条例》",
        RURAL,
        "05-01~06-30",
        3,
    ),
    _item(
        _WJ,
        SUPERVISION,
        "人口监测和家庭发展工作督查",
        "《中华人民共和国人口与计划生育法》",
        ALL,
        "10-01~10-31",
        2,
        mode=REMOTE,
        data=("常住人口", "户籍人口", "出生人口"),
    ),
    _item(
        _WJ,
        INSPECTION,
        "职业病防治检查",
        "《中华人民共和国职业病防治法》",
        INDUSTRIAL,
        "09-01~10-31",
        3,
        data=("规上工业企业数",),
    ),
    _item(
        _WJ,
        INSPECTION,
        "夏季食品安全和食源性疾病防控检查",
        f"{FOOD_LAW}《中华人民共和国传染病防治法》",
        ALL,
        "07-01~08-31",
        3,
        full=True,
    ),
    _item(
        _WJ,
        SUPERVISION,
        "登革热等蚊媒传染病防控督导",
        "《中华人民共和国传染病防治法》",
        ALL,
        "08-15~09-15",
        2,
        materials=(m("病媒生物防制记录"),),
        out_of_plan=True,
        years=(PLAN_YEAR,),
    ),
    _item(
        _WJ,
        INSPECTION,
        "国家卫生县城复审迎检检查",
        "国务院《关于深入开展新时代爱国卫生运动的意见》",
        ALL,
        "04-01~04-30",
        6,
        materials=(LEDGER, MINUTES, BEFORE_AFTER, VIDEO),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _WJ,
        INSPECTION,
        "医疗卫生机构消防安全检查",
        FIRE_LAW,
        ALL,
        "11-01~11-30",
        2,
        years=(PLAN_YEAR,),
    ),
)

_JY = "县教育局"
_EDUCATION: tuple[PlanItem, ...] = (
    _item(
        _JY,
        INSPECTION,
        "春季开学安全检查",
        "《中小学幼儿园安全管理办法》",
        ALL,
        "02-20~03-15",
        3,
        materials=(HAZARD_LIST,),
    ),
    _item(
        _JY,
        INSPECTION,
        "秋季开学安全检查",
        "《中小学幼儿园安全管理办法》",
        ALL,
        "08-25~09-15",
        3,
        materials=(HAZARD_LIST,),
    ),
    _item(
        _JY,
        INSPECTION,
        "预防中小学生溺水专项检查",
        "教育部办公厅《关于做好预防中小学生溺水工作的通知》",
        RURAL,
        "05-01~07-15",
        3,
        materials=(m("防溺水家长告知书回执"), EVENT_PHOTOS, m("学生签名承诺书")),
        data=("农村留守儿童数",),
    ),
    _item(
        _JY,
        SUPERVISION,
        "控辍保学工作督查",
        "《中华人民共和国义务教育法》",
        ALL,
        "09-15~10-15",
        2,
        mode=REMOTE,
        data=("在校学生数", "义务教育适龄儿童数"),
    ),
    _item(
        _JY,
        ASSESSMENT,
        "乡镇人民政府教育工作督导评估",
        "《教育督导条例》",
        ALL,
        "11-01~11-30",
        8,
        materials=(m("教育工作会议记录"), LEDGER, NOTES),
        data=("中小学校数", "幼儿园数", "在校学生数"),
        comprehensive=True,
    ),
    _item(
        _JY,
        INSPECTION,
        "校车安全专项检查",
        "《校车安全管理条例》",
        RURAL,
        "04-01~04-30",
        2,
    ),
    _item(
        _JY,
        INSPECTION,
        "学校食堂食品安全检查",
        f"{FOOD_LAW}《学校食品安全与营养健康管理规定》",
        ALL,
        "03-01~03-31",
        2,
        full=True,
    ),
    _item(
        _JY,
        SUPERVISION,
        "“双减”工作落实情况督查",
        "中共中央办公厅 国务院办公厅《关于进一步减轻义务教育阶段学生作业负担和校外培训负担的意见》",
        STREETS,
        "10-15~11-15",
        2,
        mode=REMOTE,
        materials=(GROUP_SCREENSHOTS,),
    ),
    _item(
        _JY,
        INSPECTION,
        "无证幼儿园排查整治检查",
        "《中华人民共和国学前教育法》",
        RURAL,
        "06-01~06-30",
        2,
        data=("幼儿园数",),
    ),
    _item(
        _JY,
        INSPECTION,
        "暑期防溺水“回头看”检查",
        "教育部办公厅《关于做好预防中小学生溺水工作的通知》",
        RURAL,
        "07-15~08-15",
        2,
        materials=(EVENT_PHOTOS, SIGN_IN),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _JY,
        SUPERVISION,
        "中小学课后服务工作督查",
        "中共中央办公厅 国务院办公厅《关于进一步减轻义务教育阶段学生作业负担和校外培训负担的意见》",
        STREETS,
        "04-01~04-30",
        1,
        mode=REMOTE,
        materials=(m("课后服务活动照片"),),
        years=(PLAN_YEAR,),
    ),
)

_GA = "县公安局"
_POLICE: tuple[PlanItem, ...] = (
    _item(
        _GA,
        INSPECTION,
        "农村道路交通安全“两站两员”工作检查",
        "《中华人民共和国道路交通安全法》",
        RURAL,
        "03-01~04-30",
        3,
        materials=(m("劝导站工作记录及照片"), m("劝导员签到表")),
    ),
    _item(
        _GA,
        SUPERVISION,
        "社会治安重点地区排查整治督查",
        "中共中央 国务院《关于加强社会治安综合治理的决定》",
        ALL,
        "06-15~07-15",
        4,
    ),
    _item(
        _GA,
        INSPECTION,
        "校园周边治安秩序检查",
        "《中小学幼儿园安全管理办法》",
        ALL,
        "03-01~03-20",
        2,
    ),
    _item(
        _GA,
        INSPECTION,
        "寄递物流安全检查",
        "《中华人民共和国反恐怖主义法》",
        INDUSTRIAL,
        "04-01~05-31",
        2,
    ),
    _item(
        _GA,
        INSPECTION,
        "电动自行车充电安全隐患检查",
        FIRE_LAW,
        (*STREETS, 3, 4),
        "04-01~05-31",
        2,
        materials=(HAZARD_LIST,),
    ),
    _item(
        _GA,
        SUPERVISION,
        "反电信网络诈骗宣传工作督查",
        "《中华人民共和国反电信网络诈骗法》",
        ALL,
        "05-01~05-31",
        2,
        mode=REMOTE,
        materials=(m("国家反诈中心APP注册率截图"), EVENT_PHOTOS),
    ),
    _item(
        _GA,
        ASSESSMENT,
        "平安建设工作年度考核",
        COUNTY_ASSESS,
        ALL,
        "12-01~12-20",
        6,
        materials=(MINUTES, LEDGER),
        comprehensive=True,
    ),
    _item(
        _GA,
        INSPECTION,
        "烟花爆竹禁放限放检查",
        "《烟花爆竹安全管理条例》",
        (*STREETS, 3, 4),
        "01-05~02-15",
        2,
    ),
    _item(
        _GA,
        SUPERVISION,
        "禁毒工作督查",
        "《中华人民共和国禁毒法》",
        ALL,
        "06-01~06-26",
        2,
        mode=REMOTE,
        materials=(EVENT_PHOTOS, m("禁毒宣传视频")),
    ),
    _item(
        _GA,
        INSPECTION,
        "夏夜治安巡查检查",
        "中共中央 国务院《关于加强社会治安综合治理的决定》",
        (*STREETS, 3, 4),
        "07-01~08-31",
        2,
        materials=(m("巡逻签到表"), PHOTOS),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _GA,
        SUPERVISION,
        "基层综治中心规范化建设督查",
        "《中国共产党政法工作条例》",
        ALL,
        "08-01~08-31",
        3,
        materials=(LEDGER, m("视频监控平台截图")),
    ),
    _item(
        _GA,
        SUPERVISION,
        "防范养老诈骗宣传工作督查",
        "《中华人民共和国反电信网络诈骗法》",
        RURAL,
        "04-01~04-30",
        1,
        mode=REMOTE,
        materials=(EVENT_PHOTOS, SIGN_IN),
        years=(PLAN_YEAR,),
    ),
)

_MZ = "县民政局"
_CIVIL: tuple[PlanItem, ...] = (
    _item(
        _MZ,
        INSPECTION,
        "养老机构安全检查",
        "《养老机构管理办法》",
        RURAL,
        "01-10~02-10",
        3,
        data=("养老机构数", "养老床位数"),
    ),
    _item(
        _MZ,
        SUPERVISION,
        "社会救助（低保、特困）核查督查",
        "《社会救助暂行办法》",
        ALL,
        "04-01~05-31",
        3,
        mode=REMOTE,
        materials=(RELIEF_VISITS, m("民主评议会议记录及照片")),
        data=("低保对象人数", "特困供养人数"),
    ),
    _item(
        _MZ,
        INSPECTION,
        "农村留守老年人关爱服务检查",
        "民政部等《关于加强农村留守老年人关爱服务工作的意见》",
        RURAL,
        "09-01~09-30",
        3,
        materials=(m("探访台账"), m("探访照片")),
        data=("60岁以上老年人口",),
    ),
    _item(
        _MZ,
        INSPECTION,
        "村（居）委会规范化建设检查",
        "《中华人民共和国村民委员会组织法》《中华人民共和国城市居民委员会组织法》",
        ALL,
        "10-01~10-31",
        4,
        materials=(m("村务公开栏照片"), MINUTES),
    ),
    _item(
        _MZ,
        ASSESSMENT,
        "民政工作年度考核",
        COUNTY_ASSESS,
        ALL,
        "12-01~12-20",
        5,
        materials=(LEDGER,),
        comprehensive=True,
    ),
    _item(
        _MZ,
        INSPECTION,
        "敬老院冬季安全检查",
        "《养老机构管理办法》",
        RURAL,
        "11-15~12-15",
        2,
        data=("养老机构数",),
    ),
    _item(
        _MZ,
        SUPERVISION,
        "散埋乱葬治理督查",
        "《殡葬管理条例》",
        RURAL,
        "03-15~04-10",
        2,
        materials=(BEFORE_AFTER,),
    ),
    _item(
        _MZ,
        SUPERVISION,
        "儿童主任履职情况督查",
        "国务院《关于加强农村留守儿童关爱保护工作的意见》",
        ALL,
        "06-01~06-30",
        2,
        mode=REMOTE,
        materials=(m("走访记录"), m("走访照片")),
        data=("农村留守儿童数",),
    ),
    _item(
        _MZ,
        SUPERVISION,
        "困难群众冬季生活保障督查",
        "《社会救助暂行办法》",
        RURAL,
        "11-15~12-31",
        2,
        data=("低保对象人数", "特困供养人数"),
    ),
    _item(
        _MZ,
        INSPECTION,
        "社区养老服务设施建设检查",
        "《中华人民共和国老年人权益保障法》",
        STREETS,
        "05-01~05-31",
        2,
        data=("养老机构数", "养老床位数"),
        years=(PLAN_YEAR,),
    ),
)

_RS = "县人力资源和社会保障局"
_LABOUR: tuple[PlanItem, ...] = (
    _item(
        _RS,
        SUPERVISION,
        "冬季根治欠薪专项督查",
        "《保障农民工工资支付条例》",
        (0, 1, 3, 4),
        "11-01~12-31",
        3,
        materials=(WAGE_ACCOUNT,),
    ),
    _item(
        _RS,
        INSPECTION,
        "就业创业政策落实情况检查",
        "《中华人民共和国就业促进法》",
        ALL,
        "06-01~06-30",
        2,
        mode=REMOTE,
        data=("农村劳动力转移就业人数",),
    ),
    _item(
        _RS,
        SUPERVISION,
        "城乡居民养老保险参保扩面督查",
        "《中华人民共和国社会保险法》",
        ALL,
        "04-01~04-30",
        2,
        mode=REMOTE,
        data=("户籍人口", "60岁以上老年人口"),
    ),
    _item(
        _RS,
        ASSESSMENT,
        "就业和社会保障工作目标考核",
        COUNTY_ASSESS,
        ALL,
        "12-01~12-20",
        4,
        materials=(LEDGER,),
        comprehensive=True,
    ),
    _item(
        _RS,
        INSPECTION,
        "用人单位劳动用工情况检查",
        "《劳动保障监察条例》",
        INDUSTRIAL,
        "05-01~05-31",
        2,
        data=("规上工业企业数",),
    ),
    _item(
        _RS,
        INSPECTION,
        "乡镇人社服务平台建设检查",
        "《中华人民共和国就业促进法》",
        ALL,
        "08-01~08-31",
        3,
        materials=(m("服务台账"), m("服务窗口照片")),
    ),
    _item(
        _RS,
        SUPERVISION,
        "防止返贫就业帮扶督查",
        "中央农办 农业农村部《关于健全防止返贫动态监测和帮扶机制的指导意见》",
        RURAL,
        "07-01~07-31",
        3,
        data=("防返贫监测对象户数",),
        full=True,
    ),
    _item(
        _RS,
        INSPECTION,
        "技能培训补贴资金使用检查",
        "《中华人民共和国就业促进法》",
        ALL,
        "09-01~09-30",
        2,
        materials=(m("培训签到表及照片"),),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _RS,
        INSPECTION,
        "新就业形态劳动者权益保障检查",
        "《中华人民共和国劳动法》",
        STREETS,
        "09-01~09-30",
        2,
        years=(PLAN_YEAR,),
    ),
)

_CZ = "县财政局"
_FINANCE: tuple[PlanItem, ...] = (
    _item(
        _CZ,
        SUPERVISION,
        "惠民惠农财政补贴资金“一卡通”专项督查",
        "财政部等《关于进一步加强惠民惠农财政补贴资金“一卡通”管理的指导意见》",
        RURAL,
        "03-01~04-30",
        4,
        materials=(SUBSIDY_ROLL,),
    ),
    _item(
        _CZ,
        INSPECTION,
        "乡镇财政资金使用管理检查",
        "《中华人民共和国预算法》",
        ALL,
        "09-01~10-31",
        6,
        materials=(VOUCHERS,),
    ),
    _item(
        _CZ,
        INSPECTION,
        "村级财务管理检查",
        "《中华人民共和国会计法》",
        RURAL,
        "05-01~06-30",
        4,
        materials=(VOUCHERS,),
        full=True,
    ),
    _item(
        _CZ,
        ASSESSMENT,
        "乡镇财政管理绩效考核",
        "《中华人民共和国预算法》",
        ALL,
        "12-01~12-20",
        3,
        mode=REMOTE,
        materials=(m("预算执行情况报告"),),
        comprehensive=True,
    ),
    _item(
        _CZ,
        SUPERVISION,
        "乡镇政府债务风险排查督查",
        "《中华人民共和国预算法》",
        ALL,
        "07-01~07-31",
        2,
        mode=REMOTE,
    ),
    _item(
        _CZ,
        INSPECTION,
        "财会监督专项检查",
        "中共中央办公厅 国务院办公厅《关于进一步加强财会监督工作的意见》",
        (3, 4, 9),
        "10-01~10-31",
        4,
        materials=(VOUCHERS,),
    ),
    _item(
        _CZ,
        INSPECTION,
        "行政事业单位国有资产管理检查",
        "《行政事业性国有资产管理条例》",
        ALL,
        "11-01~11-30",
        3,
        materials=(m("资产清查台账"),),
    ),
    _item(
        _CZ,
        SUPERVISION,
        "预算绩效管理工作督查",
        "中共中央 国务院《关于全面实施预算绩效管理的意见》",
        ALL,
        "08-01~08-31",
        2,
        mode=REMOTE,
        materials=(MINUTES,),
    ),
)

_ZR = "县自然资源局"
_LAND: tuple[PlanItem, ...] = (
    _item(
        _ZR,
        INSPECTION,
        "耕地保护和违法用地检查",
        "《中华人民共和国土地管理法》",
        ALL,
        "03-01~04-30",
        4,
        materials=(m("动态巡查台账"), PHOTOS),
        data=("耕地面积", "永久基本农田面积"),
    ),
    _item(
        _ZR,
        ASSESSMENT,
        "耕地保护目标责任考核",
        "《省级政府耕地保护责任目标考核办法》",
        ALL,
        "12-01~12-20",
        6,
        materials=(LEDGER, MINUTES),
        data=("耕地面积", "永久基本农田面积"),
        comprehensive=True,
    ),
    _item(
        _ZR,
        INSPECTION,
        "地质灾害隐患点汛前排查",
        "《地质灾害防治条例》",
        MOUNTAIN,
        "04-01~05-15",
        4,
        materials=(GEO_PATROL, m("巡查照片")),
        data=("地质灾害隐患点数", "受威胁人数"),
    ),
    _item(
        _ZR,
        INSPECTION,
        "汛期地质灾害巡查检查",
        "《地质灾害防治条例》",
        MOUNTAIN,
        "06-01~08-31",
        3,
        materials=(GEO_PATROL,),
        data=("地质灾害隐患点数",),
    ),
    _item(
        _ZR,
        INSPECTION,
        "农村乱占耕地建房整治检查",
        "《中华人民共和国土地管理法》",
        RURAL,
        "07-01~08-31",
        3,
        materials=(BEFORE_AFTER,),
        data=("耕地面积",),
    ),
    _item(
        _ZR,
        SUPERVISION,
        "矿产资源开发秩序督查",
        "《中华人民共和国矿产资源法》",
        (5, 9, 10),
        "05-01~05-31",
        3,
        data=("非煤矿山数",),
    ),
    _item(
        _ZR,
        INSPECTION,
        "村庄规划编制实施情况检查",
        "《中华人民共和国城乡规划法》",
        RURAL,
        "10-01~10-31",
        2,
        mode=REMOTE,
    ),
    _item(
        _ZR,
        INSPECTION,
        "卫片执法图斑核查（第二批）",
        "《中华人民共和国土地管理法实施条例》",
        ALL,
        "09-01~09-30",
        3,
        materials=(m("图斑核查现场照片"),),
    ),
    _item(
        _ZR,
        INSPECTION,
        "耕地“进出平衡”实地核查",
        "《中华人民共和国土地管理法实施条例》",
        RURAL,
        "11-01~11-30",
        3,
        materials=(m("核查现场照片"),),
        data=("耕地面积",),
    ),
)

_JT = "县交通运输局"
_TRANSPORT: tuple[PlanItem, ...] = (
    _item(
        _JT,
        INSPECTION,
        "农村公路养护检查",
        "《农村公路养护管理办法》",
        RURAL,
        "04-01~05-31",
        3,
        data=("农村公路里程",),
    ),
    _item(
        _JT,
        INSPECTION,
        "汛期公路安全检查",
        "《公路安全保护条例》",
        ALL,
        "06-01~07-31",
        3,
        materials=(HAZARD_LIST,),
    ),
    _item(
        _JT,
        INSPECTION,
        "春运道路运输安全检查",
        "《中华人民共和国道路运输条例》",
        (0, 3),
        "01-10~02-10",
        2,
    ),
    _item(
        _JT,
        INSPECTION,
        "农村客运和校车运营安全检查",
        "《校车安全管理条例》《中华人民共和国道路运输条例》",
        RURAL,
        "04-01~04-30",
        2,
    ),
    _item(
        _JT,
        ASSESSMENT,
        "“四好农村路”建设考核",
        "交通运输部《关于推动“四好农村路”高质量发展的指导意见》",
        RURAL,
        "12-01~12-20",
        4,
        materials=(m("养护台账"), m("路长制工作照片")),
        data=("农村公路里程",),
        comprehensive=True,
    ),
    _item(
        _JT,
        INSPECTION,
        "渡口渡船安全检查",
        "《内河交通安全管理条例》",
        (7, 8, 10),
        "05-01~06-15",
        2,
    ),
    _item(
        _JT,
        SUPERVISION,
        "农村公路路长制落实督查",
        "交通运输部《关于推动“四好农村路”高质量发展的指导意见》",
        RURAL,
        "09-01~09-30",
        2,
        mode=REMOTE,
        materials=(m("巡路APP截图"),),
    ),
    _item(
        _JT,
        INSPECTION,
        "公路超限超载治理检查",
        "《公路安全保护条例》",
        (3, 4),
        "10-01~10-31",
        2,
    ),
    _item(
        _JT,
        INSPECTION,
        "农村公路危桥改造检查",
        "《公路安全保护条例》",
        MOUNTAIN,
        "07-01~07-31",
        2,
        data=("农村公路桥梁数",),
    ),
    _item(
        _JT,
        INSPECTION,
        "农村客运“金通工程”运营检查",
        "《中华人民共和国道路运输条例》",
        RURAL,
        "10-01~10-31",
        2,
        years=(PLAN_YEAR,),
    ),
)

_NY = "县农业农村局"
_AGRI: tuple[PlanItem, ...] = (
    _item(
        _NY,
        ASSESSMENT,
        "乡村振兴战略实绩考核",
        "《乡村振兴责任制实施办法》",
        RURAL,
        "12-01~12-25",
        8,
        materials=(MINUTES, NOTES, LEDGER),
        data=("耕地面积", "粮食播种面积", "常住人口"),
        comprehensive=True,
    ),
    _item(
        _NY,
        SUPERVISION,
        "农业农村重点工作综合督查",
        "《乡村振兴责任制实施办法》",
        RURAL,
        "05-01~06-30",
        6,
        materials=(LEDGER, PHOTOS),
        comprehensive=True,
    ),
    _item(
        _NY,
        INSPECTION,
        "春季农资打假专项检查",
        "《农药管理条例》《中华人民共和国种子法》",
        RURAL,
        "03-01~04-15",
        2,
        full=True,
    ),
    _item(
        _NY,
        SUPERVISION,
        "防止返贫动态监测和帮扶督查",
        "中央农办 农业农村部《关于健全防止返贫动态监测和帮扶机制的指导意见》",
        RURAL,
        "07-01~07-31",
        4,
        materials=(m("帮扶干部走访记录及照片"),),
        data=("防返贫监测对象户数",),
        full=True,
    ),
    _item(
        _NY,
        INSPECTION,
        "粮食生产和高标准农田建设检查",
        "《中华人民共和国粮食安全保障法》",
        RURAL,
        "06-01~06-30",
        3,
        data=("粮食播种面积", "高标准农田面积", "耕地面积"),
    ),
    _item(
        _NY,
        INSPECTION,
        "农村人居环境整治检查（春季）",
        "中共中央办公厅 国务院办公厅《农村人居环境整治提升五年行动方案（2021—2025年）》",
        RURAL,
        "03-15~04-15",
        3,
        materials=(BEFORE_AFTER,),
    ),
    _item(
        _NY,
        INSPECTION,
        "农村人居环境整治检查（秋季）",
        "中共中央办公厅 国务院办公厅《农村人居环境整治提升五年行动方案（2021—2025年）》",
        RURAL,
        "09-15~10-15",
        3,
        materials=(BEFORE_AFTER,),
    ),
    _item(
        _NY,
        INSPECTION,
        "农村集体“三资”管理检查",
        "《中华人民共和国农村集体经济组织法》",
        RURAL,
        "05-15~06-30",
        4,
        materials=(VOUCHERS,),
        full=True,
    ),
    _item(
        _NY,
        INSPECTION,
        "秸秆禁烧巡查检查",
        "《中华人民共和国大气污染防治法》",
        RURAL,
        "10-01~11-15",
        2,
        materials=(m("巡查照片"), m("值守签到表")),
        full=True,
    ),
    _item(
        _NY,
        INSPECTION,
        "农产品质量安全检查",
        "《中华人民共和国农产品质量安全法》",
        (5, 6, 9),
        "08-01~08-31",
        2,
    ),
    _item(
        _NY,
        INSPECTION,
        "春季重大动物疫病集中免疫检查",
        "《中华人民共和国动物防疫法》",
        RURAL,
        "03-15~04-30",
        3,
        materials=(IMMUNIZATION, m("免疫现场照片")),
    ),
    _item(
        _NY,
        SUPERVISION,
        "衔接推进乡村振兴补助资金项目督查",
        "财政部等《中央财政衔接推进乡村振兴补助资金管理办法》",
        RURAL,
        "08-01~09-30",
        3,
        materials=(m("项目资料"),),
    ),
    _item(
        _NY,
        INSPECTION,
        "农机安全生产检查",
        "《农业机械安全监督管理条例》",
        RURAL,
        "05-01~06-15",
        2,
    ),
    _item(
        _NY,
        INSPECTION,
        "农村宅基地管理检查",
        "《中华人民共和国土地管理法》",
        RURAL,
        "08-15~09-15",
        3,
        materials=(PHOTOS,),
        years=(PLAN_YEAR,),
    ),
)

_LY = "县林业局"
_FOREST: tuple[PlanItem, ...] = (
    _item(
        _LY,
        INSPECTION,
        "春季森林防火检查",
        FOREST_FIRE,
        MOUNTAIN,
        "01-05~04-30",
        3,
        materials=(m("护林员名单", FOREST_FIRE), m("护林员巡山APP轨迹截图"), EVENT_PHOTOS),
        full=True,
    ),
    _item(
        _LY,
        INSPECTION,
        "清明节森林防火专项检查",
        FOREST_FIRE,
        MOUNTAIN,
        "03-25~04-10",
        2,
        materials=(m("卡口值守签到表"), PHOTOS),
    ),
    _item(
        _LY,
        INSPECTION,
        "秋冬季森林防火检查",
        FOREST_FIRE,
        MOUNTAIN,
        "11-01~12-31",
        3,
        materials=(m("护林员巡山APP轨迹截图"),),
        full=True,
    ),
    _item(
        _LY,
        ASSESSMENT,
        "林长制工作年度考核",
        "中共中央办公厅 国务院办公厅《关于全面推行林长制的意见》",
        RURAL,
        "12-01~12-20",
        6,
        materials=(m("林长巡林记录"), MINUTES),
        data=("森林覆盖率",),
        comprehensive=True,
    ),
    _item(
        _LY,
        INSPECTION,
        "松材线虫病防控检查",
        "《森林病虫害防治条例》",
        MOUNTAIN,
        "09-01~10-31",
        3,
    ),
    _item(
        _LY,
        INSPECTION,
        "林地保护和打击毁林专项检查",
        "《中华人民共和国森林法》",
        RURAL,
        "05-01~05-31",
        3,
        materials=(PHOTOS,),
    ),
    _item(
        _LY,
        SUPERVISION,
        "春季植树造林督查",
        "《中华人民共和国森林法》",
        RURAL,
        "03-01~03-31",
        2,
        materials=(m("植树活动照片"),),
    ),
    _item(
        _LY,
        INSPECTION,
        "松材线虫病疫木清理专项检查",
        "《森林病虫害防治条例》",
        MOUNTAIN,
        "11-10~12-10",
        2,
        out_of_plan=True,
        years=(PLAN_YEAR,),
    ),
    _item(
        _LY,
        INSPECTION,
        "古树名木保护检查",
        "《中华人民共和国森林法》",
        RURAL,
        "06-01~06-30",
        2,
        materials=(m("古树名木挂牌照片"),),
    ),
)

_WL = "县文化和旅游局"
_CULTURE: tuple[PlanItem, ...] = (
    _item(
        _WL,
        INSPECTION,
        "“五一”旅游景区安全检查",
        "《中华人民共和国旅游法》",
        (*SCENIC, 5),
        "04-20~05-05",
        2,
    ),
    _item(
        _WL,
        INSPECTION,
        "国庆旅游景区安全检查",
        "《中华人民共和国旅游法》",
        (*SCENIC, 5),
        "09-20~10-05",
        2,
    ),
    _item(
        _WL,
        INSPECTION,
        "文物安全检查",
        "《中华人民共和国文物保护法》",
        (6, 9, 11),
        "03-01~03-31",
        2,
    ),
    _item(
        _WL,
        SUPERVISION,
        "乡镇综合文化站和农家书屋运行督查",
        "《中华人民共和国公共文化服务保障法》",
        ALL,
        "07-01~07-31",
        3,
        materials=(m("借阅登记台账"), m("文化活动照片")),
    ),
    _item(
        _WL,
        ASSESSMENT,
        "公共文化服务体系建设考核",
        "《中华人民共和国公共文化服务保障法》",
        ALL,
        "12-01~12-20",
        4,
        materials=(LEDGER, EVENT_PHOTOS),
        comprehensive=True,
    ),
    _item(
        _WL,
        INSPECTION,
        "网吧、歌舞娱乐场所检查",
        "《娱乐场所管理条例》《互联网上网服务营业场所管理条例》",
        (*STREETS, 3, 4),
        "06-01~06-30",
        2,
    ),
    _item(
        _WL,
        SUPERVISION,
        "“村晚”群众文化活动开展情况督查",
        "《中华人民共和国公共文化服务保障法》",
        RURAL,
        "02-01~02-28",
        1,
        mode=REMOTE,
        materials=(m("活动照片及视频"),),
    ),
    _item(
        _WL,
        INSPECTION,
        "文化旅游场所消防安全检查",
        FIRE_LAW,
        (*SCENIC, 0, 1),
        "11-01~11-30",
        2,
    ),
    _item(
        _WL,
        INSPECTION,
        "A级旅游景区复核检查",
        "《旅游景区质量等级管理办法》",
        SCENIC,
        "08-01~08-31",
        3,
    ),
    _item(
        _WL,
        INSPECTION,
        "乡村民宿消防安全检查",
        FIRE_LAW,
        (*SCENIC, 5),
        "06-01~06-30",
        2,
        materials=(HAZARD_LIST,),
        years=(PLAN_YEAR,),
    ),
)

_SW = "县商务局"
_COMMERCE: tuple[PlanItem, ...] = (
    _item(
        _SW,
        INSPECTION,
        "加油站安全检查",
        "《危险化学品安全管理条例》",
        (3, 4, 7),
        "03-01~03-31",
        2,
        data=("危化品企业名单",),
    ),
    _item(
        _SW,
        INSPECTION,
        "商贸领域汛期安全生产检查",
        SAFETY_LAW,
        (*STREETS, 3, 4),
        "06-01~06-30",
        2,
        materials=(HAZARD_LIST,),
    ),
    _item(
        _SW,
        SUPERVISION,
        "电子商务进农村综合示范项目督查",
        "《中华人民共和国电子商务法》",
        RURAL,
        "08-01~08-31",
        2,
        mode=REMOTE,
        materials=(m("服务站点照片"),),
    ),
    _item(
        _SW,
        INSPECTION,
        "再生资源回收站点安全检查",
        "《再生资源回收管理办法》",
        (3, 4),
        "09-01~09-30",
        2,
    ),
    _item(
        _SW,
        ASSESSMENT,
        "商务工作年度考核",
        COUNTY_ASSESS,
        ALL,
        "12-01~12-20",
        2,
        mode=REMOTE,
        materials=(m("年度工作总结"),),
        comprehensive=True,
    ),
    _item(
        _SW,
        INSPECTION,
        "春节市场供应保障检查",
        "商务部《关于做好节日市场供应工作的通知》",
        STREETS,
        "01-15~02-10",
        2,
    ),
    _item(
        _SW,
        SUPERVISION,
        "消费品以旧换新政策落实督查",
        "国家发展改革委 财政部《关于加力支持大规模设备更新和消费品以旧换新的若干措施》",
        ALL,
        "05-01~05-31",
        2,
        mode=REMOTE,
        data=("规上工业企业数",),
        years=(PLAN_YEAR,),
    ),
    _item(
        _SW,
        INSPECTION,
        "单用途商业预付卡检查",
        "《单用途商业预付卡管理办法（试行）》",
        STREETS,
        "10-01~10-31",
        1,
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _SW,
        INSPECTION,
        "县域商业体系建设项目检查",
        "商务部等《关于加强县域商业体系建设促进农村消费的意见》",
        RURAL,
        "07-01~07-31",
        2,
        years=(PLAN_YEAR,),
    ),
)

_YB = "县医疗保障局"
_MEDICARE: tuple[PlanItem, ...] = (
    _item(
        _YB,
        SUPERVISION,
        "城乡居民医保参保扩面督查",
        "《中华人民共和国社会保险法》",
        ALL,
        "10-01~11-30",
        2,
        mode=REMOTE,
        materials=(m("参保缴费台账"), EVENT_PHOTOS),
        data=("户籍人口", "常住人口"),
    ),
    _item(
        _YB,
        INSPECTION,
        "定点医药机构医保基金使用检查",
        "《医疗保障基金使用监督管理条例》",
        RURAL,
        "04-01~05-31",
        3,
    ),
    _item(
        _YB,
        INSPECTION,
        "村卫生室医保服务规范检查",
        "《医疗保障基金使用监督管理条例》",
        RURAL,
        "05-01~06-30",
        2,
    ),
    _item(
        _YB,
        ASSESSMENT,
        "医疗保障工作年度考核",
        COUNTY_ASSESS,
        ALL,
        "12-01~12-20",
        2,
        mode=REMOTE,
        materials=(LEDGER,),
        comprehensive=True,
    ),
    _item(
        _YB,
        SUPERVISION,
        "防范化解因病返贫致贫医疗救助落实督查",
        "国务院办公厅《关于健全重特大疾病医疗保险和救助制度的意见》",
        RURAL,
        "07-01~07-31",
        3,
        data=("防返贫监测对象户数", "低保对象人数"),
    ),
    _item(
        _YB,
        INSPECTION,
        "打击欺诈骗保专项检查",
        "《医疗保障基金使用监督管理条例》",
        (3, 4),
        "06-01~06-30",
        3,
    ),
    _item(
        _YB,
        INSPECTION,
        "医保服务站点建设检查",
        "国家医保局《关于加强医疗保障基层服务平台建设的指导意见》",
        ALL,
        "09-01~09-30",
        2,
        materials=(m("服务站挂牌照片"),),
    ),
    _item(
        _YB,
        INSPECTION,
        "医保基金“回头看”专项检查",
        "《医疗保障基金使用监督管理条例》",
        RURAL,
        "08-01~08-31",
        2,
        materials=(LEDGER,),
        years=(PREVIOUS_YEAR,),
    ),
)

_CG = "县城市管理局"
_URBAN: tuple[PlanItem, ...] = (
    _item(
        _CG,
        INSPECTION,
        "市容环境卫生检查（上半年）",
        "《城市市容和环境卫生管理条例》",
        (*STREETS, 3, 4),
        "03-01~03-31",
        2,
        materials=(BEFORE_AFTER,),
    ),
    _item(
        _CG,
        INSPECTION,
        "市容环境卫生检查（下半年）",
        "《城市市容和环境卫生管理条例》",
        (*STREETS, 3, 4),
        "09-01~09-30",
        2,
        materials=(BEFORE_AFTER,),
    ),
    _item(
        _CG,
        INSPECTION,
        "户外广告招牌设施安全检查",
        "《城市市容和环境卫生管理条例》",
        STREETS,
        "04-01~04-30",
        2,
    ),
    _item(
        _CG,
        INSPECTION,
        "汛期城镇内涝防治检查",
        FLOOD,
        (*STREETS, 3),
        "05-15~06-15",
        2,
        materials=(EMERGENCY_PLAN,),
    ),
    _item(
        _CG,
        INSPECTION,
        "农村生活垃圾收运处置检查",
        "《中华人民共和国固体废物污染环境防治法》",
        RURAL,
        "05-01~05-31",
        2,
        materials=(PHOTOS,),
    ),
    _item(
        _CG,
        ASSESSMENT,
        "城市管理工作年度考核",
        COUNTY_ASSESS,
        (*STREETS, 3, 4),
        "12-01~12-20",
        4,
        materials=(LEDGER,),
        comprehensive=True,
    ),
    _item(
        _CG,
        SUPERVISION,
        "违法建设治理督查",
        "《中华人民共和国城乡规划法》",
        ALL,
        "07-01~08-31",
        3,
        materials=(BEFORE_AFTER,),
    ),
    _item(
        _CG,
        INSPECTION,
        "渣土运输及工地扬尘管控检查",
        "《中华人民共和国大气污染防治法》",
        (*STREETS, 3, 4),
        "03-01~04-30",
        2,
    ),
    _item(
        _CG,
        SUPERVISION,
        "文明城市创建工作督查",
        "县委 县政府《共治县创建省级文明城市工作方案》",
        STREETS,
        "09-01~09-30",
        3,
        materials=(m("创建工作台账"), BEFORE_AFTER),
    ),
    _item(
        _CG,
        INSPECTION,
        "燃气管道占压隐患排查检查",
        "《城镇燃气管理条例》",
        (*STREETS, 3),
        "10-01~10-31",
        2,
        materials=(HAZARD_LIST,),
        years=(PLAN_YEAR,),
    ),
)

_HB = "县生态环境分局"
_ECOLOGY: tuple[PlanItem, ...] = (
    _item(
        _HB,
        INSPECTION,
        "秋冬季秸秆禁烧巡查",
        "《中华人民共和国大气污染防治法》",
        RURAL,
        "10-01~11-15",
        2,
        materials=(m("巡查照片"), m("网格员巡查轨迹")),
        full=True,
    ),
    _item(
        _HB,
        INSPECTION,
        "夏收秸秆禁烧巡查",
        "《中华人民共和国大气污染防治法》",
        RURAL,
        "05-25~06-25",
        2,
        materials=(m("巡查照片"),),
    ),
    _item(
        _HB,
        INSPECTION,
        "扬尘污染防治检查",
        "《中华人民共和国大气污染防治法》",
        (*STREETS, 3, 4),
        "03-01~04-30",
        2,
    ),
    _item(
        _HB,
        SUPERVISION,
        "中央生态环境保护督察反馈问题整改督查",
        "《中央生态环境保护督察工作规定》",
        (3, 4, 5),
        "05-01~05-31",
        4,
        materials=(m("整改销号资料"), BEFORE_AFTER),
    ),
    _item(
        _HB,
        INSPECTION,
        "农村生活污水和黑臭水体治理检查",
        "《中华人民共和国水污染防治法》",
        RURAL,
        "08-01~08-31",
        3,
    ),
    _item(
        _HB,
        ASSESSMENT,
        "生态环境保护目标责任考核",
        "《中华人民共和国环境保护法》",
        ALL,
        "12-01~12-20",
        6,
        materials=(MINUTES, LEDGER),
        data=("规上工业企业数",),
        comprehensive=True,
    ),
    _item(
        _HB,
        INSPECTION,
        "畜禽养殖污染防治检查",
        "《畜禽规模养殖污染防治条例》",
        RURAL,
        "06-01~06-30",
        2,
        data=("规模养殖场数",),
    ),
    _item(
        _HB,
        INSPECTION,
        "饮用水水源地环境保护检查",
        "《中华人民共和国水污染防治法》",
        RESERVOIRS,
        "07-01~07-31",
        2,
    ),
    _item(
        _HB,
        SUPERVISION,
        "环境信访件办理情况督查",
        "《信访工作条例》",
        ALL,
        "09-01~09-30",
        1,
        mode=REMOTE,
    ),
)

_FG = "县发展和改革局"
_DEVELOPMENT: tuple[PlanItem, ...] = (
    _item(
        _FG,
        SUPERVISION,
        "重大项目建设推进督查（第一季度）",
        "县委 县政府《重大项目建设攻坚行动方案》",
        INDUSTRIAL,
        "03-01~03-31",
        4,
        materials=(m("项目推进台账"), PHOTOS),
    ),
    _item(
        _FG,
        SUPERVISION,
        "重大项目建设推进督查（第二季度）",
        "县委 县政府《重大项目建设攻坚行动方案》",
        INDUSTRIAL,
        "06-01~06-30",
        4,
        materials=(m("项目推进台账"), PHOTOS),
    ),
    _item(
        _FG,
        SUPERVISION,
        "重大项目建设推进督查（第三季度）",
        "县委 县政府《重大项目建设攻坚行动方案》",
        INDUSTRIAL,
        "09-01~09-30",
        4,
        materials=(m("项目推进台账"), PHOTOS),
    ),
    _item(
        _FG,
        ASSESSMENT,
        "高质量发展综合绩效考核",
        COUNTY_ASSESS,
        ALL,
        "12-01~12-25",
        8,
        materials=(m("年度工作总结"), MINUTES),
        data=("规上工业企业数", "地区生产总值", "固定资产投资"),
        comprehensive=True,
    ),
    _item(
        _FG,
        INSPECTION,
        "秋粮收购政策落实检查",
        "《粮食流通管理条例》",
        RURAL,
        "10-01~10-31",
        2,
        data=("粮食产量",),
    ),
    _item(
        _FG,
        INSPECTION,
        "重点用能单位节能检查",
        "《中华人民共和国节约能源法》",
        (3, 4),
        "09-01~09-30",
        2,
    ),
    _item(
        _FG,
        SUPERVISION,
        "优化营商环境工作督查",
        "《优化营商环境条例》",
        ALL,
        "05-01~05-31",
        2,
        mode=REMOTE,
        materials=(m("企业走访记录"), LEDGER),
    ),
    _item(
        _FG,
        INSPECTION,
        "以工代赈项目检查",
        "《以工代赈管理办法》",
        RURAL,
        "08-01~08-31",
        2,
    ),
    _item(
        _FG,
        INSPECTION,
        "地方储备粮库存和安全检查",
        "《粮食流通管理条例》",
        (3, 6),
        "11-01~11-30",
        2,
    ),
)

# Items a department asks for on top of the plan, in the year before the platform (unrecorded then, counted now).
_EXTRA_2025: tuple[PlanItem, ...] = (
    _item(
        _NY,
        INSPECTION,
        "乡村振兴示范村创建迎检",
        "《乡村振兴责任制实施办法》",
        RURAL,
        "10-15~11-15",
        6,
        materials=(LEDGER, MINUTES, EVENT_PHOTOS, VIDEO),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _NY,
        INSPECTION,
        "巩固拓展脱贫攻坚成果“回头看”",
        "中共中央 国务院《关于实现巩固拓展脱贫攻坚成果同乡村振兴有效衔接的意见》",
        RURAL,
        "04-01~04-30",
        4,
        materials=(m("帮扶手册"), m("入户照片"), LEDGER),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _LY,
        INSPECTION,
        "森林防火“零火情”创建检查",
        FOREST_FIRE,
        MOUNTAIN,
        "02-01~02-28",
        2,
        materials=(m("防火宣传照片"), SIGN_IN),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _SL,
        INSPECTION,
        "美丽河湖创建检查",
        "中共中央办公厅 国务院办公厅《关于全面推行河长制的意见》",
        RURAL,
        "08-01~08-31",
        3,
        materials=(EVENT_PHOTOS, LEDGER),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _MZ,
        INSPECTION,
        "敬老院消防安全“回头看”",
        FIRE_LAW,
        RURAL,
        "03-01~03-31",
        2,
        materials=(PHOTOS,),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _CG,
        INSPECTION,
        "城乡环境综合整治百日攻坚检查",
        "《城市市容和环境卫生管理条例》",
        ALL,
        "06-15~09-15",
        3,
        materials=(BEFORE_AFTER, m("攻坚行动工作日志")),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _JY,
        INSPECTION,
        "教育强县创建迎检检查",
        "《教育督导条例》",
        ALL,
        "05-01~05-31",
        4,
        materials=(LEDGER, MINUTES, EVENT_PHOTOS),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _WL,
        INSPECTION,
        "全域旅游示范区创建检查",
        "《中华人民共和国旅游法》",
        ALL,
        "07-01~07-31",
        3,
        materials=(EVENT_PHOTOS, VIDEO),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _HB,
        INSPECTION,
        "大气污染防治“夏季攻坚”检查",
        "《中华人民共和国大气污染防治法》",
        ALL,
        "07-01~08-31",
        2,
        materials=(PHOTOS, m("巡查签到表")),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _FG,
        SUPERVISION,
        "重大项目建设推进督查（第四季度）",
        "县委 县政府《重大项目建设攻坚行动方案》",
        INDUSTRIAL,
        "11-01~11-30",
        4,
        materials=(m("项目推进台账"), PHOTOS),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _WJ,
        INSPECTION,
        "爱国卫生运动检查（第四季度）",
        "国务院《关于深入开展新时代爱国卫生运动的意见》",
        ALL,
        "12-01~12-15",
        2,
        materials=(BEFORE_AFTER,),
        years=(PREVIOUS_YEAR,),
    ),
    _item(
        _SL,
        SUPERVISION,
        "河长制湖长制工作督查（第四季度）",
        "中共中央办公厅 国务院办公厅《关于全面推行河长制的意见》",
        ALL,
        "11-01~11-30",
        2,
        materials=(m("河长巡河APP轨迹截图"), MINUTES),
        years=(PREVIOUS_YEAR,),
    ),
)

PLAN_ITEMS: tuple[PlanItem, ...] = (
    *_EMERGENCY,
    *_WATER,
    *_HOUSING,
    *_MARKET,
    *_HEALTH,
    *_EDUCATION,
    *_POLICE,
    *_CIVIL,
    *_LABOUR,
    *_FINANCE,
    *_LAND,
    *_TRANSPORT,
    *_AGRI,
    *_FOREST,
    *_CULTURE,
    *_COMMERCE,
    *_MEDICARE,
    *_URBAN,
    *_ECOLOGY,
    *_DEVELOPMENT,
    *_EXTRA_2025,
)


def items_for(year: int, *, out_of_plan: bool | None = None) -> list[PlanItem]:
    """The items of ``year`` in department order (each department's items in the order it lists them)."""
    out = [it for it in PLAN_ITEMS if year in it.years]
    if out_of_plan is not None:
        out = [it for it in out if it.out_of_plan == out_of_plan]
    order = {d: i for i, d in enumerate(DEPARTMENTS)}
    return sorted(out, key=lambda it: order[it.department])  # stable: keeps each department's own order


def departments_for(year: int) -> list[str]:
    seen = {it.department for it in items_for(year)}
    return [d for d in DEPARTMENTS if d in seen]


def planned_for(year: int) -> list[PlanItem]:
    """Items that belong in the filed plan of ``year``: the 2026 out-of-plan items arrive later, one by one; in
    2025 they were filed with the plan (nobody counted them then)."""
    return [it for it in items_for(year) if year == PREVIOUS_YEAR or not it.out_of_plan]


def onsite_visits(year: int, *, planned_only: bool = False) -> int:
    """On-site visits as filed: one per on-site item per target township (nothing merged)."""
    items = planned_for(year) if planned_only else items_for(year)
    return sum(len(it.targets_in(year)) for it in items if it.mode == ONSITE)


def per_township_quarter(year: int) -> Counter[tuple[int, int]]:
    """(township position, quarter) → on-site items starting then, as filed; the over-quota townships show here."""
    c: Counter[tuple[int, int]] = Counter()
    for it in items_for(year):
        if it.mode == ONSITE:
            for t in it.targets_in(year):
                c[(t, (it.start[0] - 1) // 3 + 1)] += 1
    return c


DEPARTMENTS: tuple[str, ...] = (
    "县发展和改革局",
    "县教育局",
    "县公安局",
    "县民政局",
    "县财政局",
    "县人力资源和社会保障局",
    "县自然资源局",
    "县住房和城乡建设局",
    "县交通运输局",
    "县水利局",
    "县农业农村局",
    "县商务局",
    "县文化和旅游局",
    "县卫生健康局",
    "县应急管理局",
    "县市场监督管理局",
    "县医疗保障局",
    "县城市管理局",
    "县林业局",
    "县生态环境分局",
)


# ---- the 一表通 catalog -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogField:
    key: str
    label: str
    unit: str = ""
    type: str = "integer"  # integer | decimal | text (the catalog's field types)


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    description: str
    owner: str  # the department that keeps the data set
    fields: tuple[CatalogField, ...]
    subscribers: tuple[str, ...] = ()  # departments that reuse it
    period: str = "year"
    # Townships (positions) that have not submitted the current period yet: their data is not held, so the review
    # must not replace those townships' requests with a reference.
    missing: tuple[int, ...] = field(default=())


def _f(key: str, label: str, unit: str = "", type: str = "integer") -> CatalogField:
    return CatalogField(key, label, unit, type)


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "人口基本情况",
        "乡镇（街道）户籍与常住人口、老年人口和社会救助对象，每年报送一次，各部门共用。",
        "县民政局",
        (
            _f("registered_pop", "户籍人口", "人"),
            _f("resident_pop", "常住人口", "人"),
            _f("households", "户数", "户"),
            _f("pop_60", "60岁以上老年人口", "人"),
            _f("pop_65", "65岁以上老年人口", "人"),
            _f("dibao", "低保对象人数", "人"),
            _f("tekun", "特困供养人数", "人"),
        ),
        ("县卫生健康局", "县人力资源和社会保障局", "县医疗保障局", "县农业农村局"),
    ),
    CatalogEntry(
        "耕地与粮食生产",
        "耕地、永久基本农田、高标准农田和粮食生产情况。",
        "县农业农村局",
        (
            _f("farmland", "耕地面积", "亩"),
            _f("basic_farmland", "永久基本农田面积", "亩"),
            _f("grain_area", "粮食播种面积", "亩"),
            _f("grain_output", "粮食产量", "吨"),
            _f("hq_farmland", "高标准农田面积", "亩"),
        ),
        ("县自然资源局", "县发展和改革局"),
    ),
    CatalogEntry(
        "安全生产重点企业",
        "辖区规模以上工业企业、危险化学品企业、非煤矿山、烟花爆竹零售点和人员密集场所。",
        "县应急管理局",
        (
            _f("industrial_firms", "规上工业企业数", "家"),
            _f("hazchem_firms", "危化品企业数", "家"),
            _f("hazchem_list", "危化品企业名单", type="text"),
            _f("mines", "非煤矿山数", "座"),
            _f("fireworks_shops", "烟花爆竹零售点数", "个"),
            _f("crowded_places", "人员密集场所数", "处"),
        ),
        ("县市场监督管理局", "县商务局", "县生态环境分局", "县人力资源和社会保障局"),
    ),
    CatalogEntry(
        "学校与在校生",
        "辖区中小学校、幼儿园、在校学生和农村留守儿童。",
        "县教育局",
        (
            _f("schools", "中小学校数", "所"),
            _f("kindergartens", "幼儿园数", "所"),
            _f("students", "在校学生数", "人"),
            _f("left_behind_children", "农村留守儿童数", "人"),
        ),
        ("县市场监督管理局", "县卫生健康局", "县民政局"),
    ),
    CatalogEntry(
        "养老服务机构",
        "敬老院、民办养老机构、床位和农村互助养老设施。",
        "县民政局",
        (
            _f("care_homes", "养老机构数", "家"),
            _f("care_beds", "养老床位数", "张"),
            _f("residents_in_care", "在院老人数", "人"),
            _f("happiness_homes", "农村幸福院数", "个"),
        ),
        ("县卫生健康局",),
        missing=(10, 11),
    ),
    CatalogEntry(
        "水利工程与防汛",
        "山塘水库、河道和农村供水工程。",
        "县水利局",
        (
            _f("ponds_reservoirs", "山塘水库数", "座"),
            _f("small_reservoirs", "小型水库数", "座"),
            _f("river_km", "河道长度", "公里", "decimal"),
            _f("water_works", "农村集中供水工程数", "处"),
        ),
        ("县应急管理局", "县卫生健康局"),
    ),
    CatalogEntry(
        "自然灾害风险隐患",
        "地质灾害隐患点、受威胁人数和经营性自建房。",
        "县自然资源局",
        (
            _f("geo_hazards", "地质灾害隐患点数", "处"),
            _f("threatened", "受威胁人数", "人"),
            _f("commercial_selfbuilt", "经营性自建房栋数", "栋"),
        ),
        ("县应急管理局", "县住房和城乡建设局"),
    ),
    CatalogEntry(
        "农村公路",
        "农村公路里程和桥梁。",
        "县交通运输局",
        (_f("rural_road_km", "农村公路里程", "公里", "decimal"), _f("bridges", "农村公路桥梁数", "座")),
        (),
        missing=(0, 1, 2),
    ),
    CatalogEntry(
        "防返贫监测",
        "防止返贫监测对象户数和帮扶情况。",
        "县农业农村局",
        (
            _f("monitored_households", "防返贫监测对象户数", "户"),
            _f("assisted_households", "已落实帮扶措施户数", "户"),
        ),
        ("县人力资源和社会保障局", "县医疗保障局"),
        period="quarter",
    ),
)

_HAZCHEM_NAMES = (
    "共治县安泰化工有限公司",
    "共治县恒润气体有限公司",
    "共治县鑫源石化加油站",
    "共治县绿洲农资化肥有限公司",
    "共治县宏达涂料有限公司",
    "共治县华宁液化气站",
    "共治县东方化学试剂经营部",
)


def township_values(
    entry: CatalogEntry, position: int, kind: str, seed: int = SAMPLE_YEAR
) -> dict[str, object]:
    """Generated, plausible and internally consistent values of ``entry`` for one township (deterministic)."""
    rng = random.Random(f"{seed}:{entry.name}:{position}")
    street, xiang = kind == "街道", kind == "乡"
    if entry.name == "人口基本情况":
        reg = (
            rng.randint(42_000, 68_000)
            if street
            else rng.randint(9_000, 17_000)
            if xiang
            else rng.randint(21_000, 46_000)
        )
        res = round(reg * (rng.uniform(1.05, 1.2) if street else rng.uniform(0.72, 0.9)))
        p60 = round(reg * rng.uniform(0.17, 0.2 if street else 0.27))
        return {
            "registered_pop": reg,
            "resident_pop": res,
            "households": round(reg / rng.uniform(2.6, 3.2)),
            "pop_60": p60,
            "pop_65": round(p60 * rng.uniform(0.66, 0.74)),
            "dibao": round(reg * rng.uniform(0.008, 0.015 if street else 0.04)),
            "tekun": round(reg * rng.uniform(0.001, 0.004)),
        }
    if entry.name == "耕地与粮食生产":
        land = (
            rng.randint(400, 2_600)
            if street
            else rng.randint(21_000, 39_000)
            if xiang
            else rng.randint(32_000, 61_000)
        )
        area = round(land * rng.uniform(1.1, 1.45))  # double cropping
        return {
            "farmland": land,
            "basic_farmland": round(land * rng.uniform(0.72, 0.86)),
            "grain_area": area,
            "grain_output": round(area * rng.uniform(0.38, 0.46)),
            "hq_farmland": round(land * rng.uniform(0.4, 0.68)),
        }
    if entry.name == "安全生产重点企业":
        industrial = position in INDUSTRIAL
        n_chem = rng.randint(2, 4) if industrial else rng.randint(0, 1)
        names = rng.sample(_HAZCHEM_NAMES, n_chem)
        return {
            "industrial_firms": rng.randint(18, 46) if industrial else rng.randint(1, 9),
            "hazchem_firms": n_chem,
            "hazchem_list": "、".join(names) or "无",
            "mines": rng.randint(1, 3) if position in (5, 9, 10) else 0,
            "fireworks_shops": rng.randint(4, 12),
            "crowded_places": rng.randint(30, 90) if street else rng.randint(6, 28),
        }
    if entry.name == "学校与在校生":
        schools = rng.randint(6, 12) if street else rng.randint(2, 4) if xiang else rng.randint(4, 8)
        return {
            "schools": schools,
            "kindergartens": schools + rng.randint(0, 5),
            "students": schools * rng.randint(420, 900 if street else 520),
            "left_behind_children": rng.randint(20, 80) if street else rng.randint(150, 620),
        }
    if entry.name == "养老服务机构":
        homes = rng.randint(2, 5) if street else 1 + rng.randint(0, 1)
        beds = homes * rng.randint(40, 120)
        return {
            "care_homes": homes,
            "care_beds": beds,
            "residents_in_care": round(beds * rng.uniform(0.45, 0.8)),
            "happiness_homes": 0 if street else rng.randint(4, 14),
        }
    if entry.name == "水利工程与防汛":
        return {
            "ponds_reservoirs": rng.randint(0, 6) if street else rng.randint(25, 140),
            "small_reservoirs": rng.randint(2, 6) if position in RESERVOIRS else rng.randint(0, 1),
            "river_km": round(rng.uniform(3, 12) if street else rng.uniform(18, 65), 1),
            "water_works": rng.randint(0, 1) if street else rng.randint(3, 14),
        }
    if entry.name == "自然灾害风险隐患":
        hazards = rng.randint(6, 19) if position in MOUNTAIN else rng.randint(0, 3)
        return {
            "geo_hazards": hazards,
            "threatened": hazards * rng.randint(12, 60),
            "commercial_selfbuilt": rng.randint(300, 900) if street else rng.randint(60, 320),
        }
    if entry.name == "农村公路":
        return {"rural_road_km": round(rng.uniform(120, 340), 1), "bridges": rng.randint(8, 40)}
    if entry.name == "防返贫监测":
        monitored = rng.randint(2, 9) if street else rng.randint(25, 110)
        return {"monitored_households": monitored, "assisted_households": monitored - rng.randint(0, 2)}
    raise KeyError(entry.name)


def catalog_labels() -> dict[str, tuple[str, str]]:
    """Field label → (entry name, field key), for matching data requests to the catalog."""
    return {f.label: (e.name, f.key) for e in CATALOG for f in e.fields}


def _check() -> None:
    """Guards against typos in the data above (run at import: it is cheap and the module is pure)."""
    known = set(DEPARTMENTS)
    for it in PLAN_ITEMS:
        assert it.department in known, it.department
        assert it.kind in (SUPERVISION, INSPECTION, ASSESSMENT), it.topic
        assert it.mode in (ONSITE, REMOTE), it.topic
        assert it.targets and all(0 <= t < TOWNSHIP_COUNT for t in it.targets), it.topic
        assert it.start <= it.end, it.topic
        assert len(it.topic) <= 200 and len(it.basis) <= 300, it.topic
        for y in it.years:
            it.window(y)  # a real date in both years
    for e in CATALOG:
        assert e.owner in known and all(s in known for s in e.subscribers), e.name
    keys = [(it.department, it.topic, y) for it in PLAN_ITEMS for y in it.years]
    assert len(keys) == len(set(keys)), "duplicate topic within a department's plan"


_check()
