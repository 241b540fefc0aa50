"""A seeded, realistic year of inspection plans (督查检查考核计划) for the issue-4 benches.

``generate(items=10_000, townships=1_000, seed=4)`` returns a :class:`Year`: township codes (12-digit division codes,
20 townships per county), 28 county departments with the names counties use, and plan items drawn from 35 topic
families, each owned by the department that really runs it (安全生产 by 应急管理局, 秸秆禁烧 by 生态环境局 …) with
the co-owners that really duplicate it (农业农村局 also inspects 秸秆焚烧, 消防救援大队 and 住建局 both look at fire
safety). Topics are paraphrased the way plans are written (「秸秆禁烧督查」「秸秆焚烧巡查」「2025年秋季秸秆综合利用和禁烧
检查」) with time qualifiers and how-words that the review must see through. Also:

- targets: about 1% of items reach every township (``None``); the rest a log-uniform number of townships (1–100),
  mostly a contiguous block (one area of the county), sometimes scattered;
- windows: a start anywhere in the year, 1 week to 3 months long; half of the assessments (考核) at year end;
- on-site share by kind (督查 70%, 检查 75%, 考核 50%), township hours 1–8 on site, 0.5–2 remote;
- one comprehensive (综合性) item per department for all townships, and a second one for about one in seven;
- 8% out of plan (一事一报);
- about 3% of items filed again in pieces (the same department, the same topic in 「第二批」「补充」 pieces, small and
  close in time: 拆包分包);
- materials: ordinary ones (自查报告, 整改清单, 营业执照复印件 …) and, for about one item in five, a trace demand
  written the way departments write them (「现场照片」「活动影像资料」「签到簿」「APP截屏」「会议纪要及照片」 …), a third
  of which cite a basis;
- data fields, labelled loosely (「常住人口数（人）」「2025年常住人口」「低保户数」), and a data catalog (一表通) that
  each township has filled for about 70% of the common fields.

Pure data, no Django: the engines consume it directly.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from gongzhi.engines.inspection_review import Material, PlanItem
from gongzhi.engines.visit_merge import Demand

DEPARTMENTS: tuple[str, ...] = (
    "县应急管理局",
    "县生态环境局",
    "县自然资源局",
    "县农业农村局",
    "县住房和城乡建设局",
    "县卫生健康委员会",
    "县教育局",
    "县市场监督管理局",
    "县水利局",
    "县交通运输局",
    "县民政局",
    "县人力资源和社会保障局",
    "县财政局",
    "县公安局",
    "县司法局",
    "县文化旅游广电体育局",
    "县林业局",
    "县统计局",
    "县乡村振兴局",
    "县商务局",
    "县发展和改革局",
    "县消防救援大队",
    "县委组织部",
    "县委宣传部",
    "县纪委监委",
    "县审计局",
    "县退役军人事务局",
    "县医疗保障局",
)
# Departments whose work never joins a joint visit: discipline inspection (巡察) and audit are independent by law.
SOLO_DEPARTMENTS = ("县纪委监委", "县审计局")


def dept_key(name: str) -> str:
    return str(DEPARTMENTS.index(name) + 1)


@dataclass(frozen=True)
class Family:
    name: str
    owner: str
    co: tuple[str, ...]
    stems: tuple[str, ...]
    kinds: tuple[str, ...] = ("inspection", "supervision")
    fields: tuple[str, ...] = ()


F = Family
FAMILIES: tuple[Family, ...] = (
    F(
        "安全生产",
        "县应急管理局",
        ("县住房和城乡建设局", "县交通运输局", "县商务局"),
        (
            "安全生产",
            "安全生产隐患排查整治",
            "安全生产专项整治三年行动",
            "安全生产责任制落实",
            "重点行业领域安全生产",
        ),
        fields=("安全生产隐患台账", "企业安全生产基本信息"),
    ),
    F("危化品", "县应急管理局", (), ("危险化学品安全", "危化品企业隐患", "危险化学品储存使用安全")),
    F(
        "消防",
        "县消防救援大队",
        ("县应急管理局", "县住房和城乡建设局", "县教育局"),
        ("消防安全", "九小场所消防安全", "冬春火灾防控", "人员密集场所消防安全", "电动自行车消防安全"),
    ),
    F(
        "森林防火",
        "县林业局",
        ("县应急管理局",),
        ("森林防火", "森林草原防灭火", "野外用火管控", "森林火灾隐患", "清明森林防火"),
    ),
    F(
        "防汛",
        "县水利局",
        ("县应急管理局",),
        ("防汛备汛", "汛前安全", "山洪灾害防御", "防汛抗旱准备", "水库安全度汛"),
    ),
    F(
        "河长制",
        "县水利局",
        ("县生态环境局",),
        ("河长制湖长制落实", "河湖四乱清理整治", "河湖长巡河履职", "河道采砂管理"),
        fields=("河湖名录",),
    ),
    F(
        "秸秆禁烧",
        "县生态环境局",
        ("县农业农村局",),
        ("秸秆禁烧", "秸秆焚烧", "秸秆综合利用和禁烧", "秸秆露天焚烧管控"),
    ),
    F("大气", "县生态环境局", ("县住房和城乡建设局",), ("大气污染防治", "扬尘污染治理", "散乱污企业整治")),
    F(
        "人居环境",
        "县农业农村局",
        ("县住房和城乡建设局", "县乡村振兴局"),
        ("农村人居环境整治", "农村厕所革命", "农村生活垃圾治理", "村庄清洁行动", "农村人居环境整治提升"),
        kinds=("supervision", "assessment", "inspection"),
        fields=("农村户厕改造户数", "常住人口"),
    ),
    F(
        "饮水",
        "县水利局",
        (),
        ("农村饮水安全", "农村供水保障", "农村饮用水水源保护"),
        fields=("农村供水工程名录",),
    ),
    F(
        "农房",
        "县住房和城乡建设局",
        ("县应急管理局",),
        ("农村房屋安全隐患排查整治", "农村自建房安全专项整治", "经营性自建房安全", "农村危房改造"),
        fields=("农村危房户数", "自建房数量"),
    ),
    F(
        "燃气",
        "县住房和城乡建设局",
        ("县应急管理局", "县市场监督管理局"),
        ("城镇燃气安全排查整治", "燃气安全", "瓶装液化气安全", "燃气安全专项整治"),
        fields=("燃气用户数",),
    ),
    F(
        "耕地",
        "县自然资源局",
        ("县农业农村局",),
        ("耕地保护", "耕地非农化非粮化整治", "违法占用耕地建房", "田长制落实"),
        fields=("耕地面积", "永久基本农田面积"),
    ),
    F(
        "高标准农田",
        "县农业农村局",
        (),
        ("高标准农田建设项目", "高标准农田建设质量"),
        kinds=("inspection", "assessment"),
        fields=("高标准农田面积",),
    ),
    F(
        "粮食",
        "县农业农村局",
        (),
        ("粮食生产目标任务", "春耕备耕", "粮食安全党政同责"),
        kinds=("assessment", "supervision"),
        fields=("粮食播种面积",),
    ),
    F(
        "食品安全",
        "县市场监督管理局",
        ("县教育局", "县卫生健康委员会"),
        ("食品安全", "校园食品安全", "农村集体聚餐食品安全", "食品安全示范创建"),
        fields=("食品经营户名录",),
    ),
    F("特种设备", "县市场监督管理局", (), ("特种设备安全", "电梯安全隐患", "锅炉压力容器安全")),
    F(
        "公共卫生",
        "县卫生健康委员会",
        (),
        ("基本公共卫生服务", "家庭医生签约服务", "爱国卫生运动", "病媒生物防制"),
        kinds=("assessment", "inspection"),
        fields=("常住人口", "65岁以上老年人数"),
    ),
    F(
        "教育",
        "县教育局",
        (),
        ("控辍保学", "义务教育均衡发展", "校园安全", "学生资助政策落实"),
        fields=("适龄儿童入学情况",),
    ),
    F(
        "社会救助",
        "县民政局",
        ("县乡村振兴局",),
        ("社会救助政策落实", "低保专项治理", "特困人员供养服务", "养老服务机构安全"),
        fields=("低保对象", "特困人员"),
    ),
    F(
        "防返贫",
        "县乡村振兴局",
        ("县农业农村局",),
        ("防止返贫动态监测帮扶", "巩固拓展脱贫攻坚成果", "衔接资金项目"),
        kinds=("assessment", "supervision"),
        fields=("建档立卡户", "监测对象"),
    ),
    F(
        "就业社保",
        "县人力资源和社会保障局",
        (),
        ("就业帮扶", "城乡居民养老保险参保", "根治欠薪", "农民工工资支付"),
        fields=("养老保险参保人数",),
    ),
    F("医保", "县医疗保障局", (), ("城乡居民医保参保扩面", "医保基金使用监督"), fields=("医保参保人数",)),
    F(
        "平安",
        "县公安局",
        ("县司法局",),
        ("平安建设", "反电信网络诈骗宣传", "道路交通安全隐患", "农村道路交通安全"),
        kinds=("assessment", "inspection"),
    ),
    F("调解", "县司法局", (), ("矛盾纠纷排查化解", "人民调解", "法治乡村建设", "普法宣传")),
    F("文旅", "县文化旅游广电体育局", (), ("文化市场安全", "旅游景区安全", "农家书屋", "综合文化站建设")),
    F("统计", "县统计局", (), ("统计数据质量", "统计基层基础规范化建设"), fields=("规模以上工业企业",)),
    F(
        "财政",
        "县财政局",
        (),
        ("财政资金使用", "惠民惠农补贴一卡通", "村级财务管理"),
        fields=("村级集体经济收入",),
    ),
    F(
        "党建",
        "县委组织部",
        (),
        ("基层党建", "软弱涣散党组织整顿", "村干部履职", "党员发展"),
        kinds=("assessment", "supervision"),
    ),
    F(
        "宣传",
        "县委宣传部",
        (),
        ("意识形态工作责任制", "新时代文明实践站建设", "文明村镇创建"),
        kinds=("assessment", "supervision"),
    ),
    F(
        "巡察",
        "县纪委监委",
        (),
        ("村级巡察", "县委巡察", "群众身边不正之风和腐败问题专项巡察"),
        kinds=("supervision",),
    ),
    F(
        "审计",
        "县审计局",
        (),
        ("乡镇财政财务收支审计", "乡镇党政主要领导经济责任审计"),
        kinds=("inspection",),
    ),
    F("退役军人", "县退役军人事务局", (), ("退役军人服务站建设", "优抚政策落实")),
    F(
        "发改",
        "县发展和改革局",
        (),
        ("重点项目建设", "营商环境", "招商引资"),
        kinds=("assessment", "supervision"),
    ),
    F("商务", "县商务局", (), ("成品油市场", "商贸领域安全生产", "农村电商服务站")),
)
# Each department's area, for its comprehensive (综合性) item.
AREAS = {
    "县应急管理局": "应急管理和安全生产",
    "县生态环境局": "生态环境保护",
    "县自然资源局": "自然资源管理",
    "县农业农村局": "农业农村",
    "县住房和城乡建设局": "城乡建设",
    "县卫生健康委员会": "卫生健康",
    "县教育局": "教育",
    "县市场监督管理局": "市场监管",
    "县水利局": "水利",
    "县交通运输局": "交通运输",
    "县民政局": "民政",
    "县人力资源和社会保障局": "人社",
    "县财政局": "财政",
    "县公安局": "公安",
    "县司法局": "司法行政",
    "县文化旅游广电体育局": "文化旅游",
    "县林业局": "林业",
    "县统计局": "统计",
    "县乡村振兴局": "乡村振兴",
    "县商务局": "商务",
    "县发展和改革局": "发展改革",
    "县消防救援大队": "消防救援",
    "县委组织部": "组织",
    "县委宣传部": "宣传思想文化",
    "县纪委监委": "党风廉政建设",
    "县审计局": "审计",
    "县退役军人事务局": "退役军人",
    "县医疗保障局": "医疗保障",
}
HOW = {
    "supervision": ("督查", "督导", "暗访", "专项督查", "明察暗访"),
    "inspection": ("检查", "专项检查", "抽查", "排查", "大检查"),
    "assessment": ("考核", "考评", "评估", "年度考核"),
}
QUALIFIERS = ("", "", "", "", "2025年", "春季", "秋季", "汛期", "第二季度", "上半年", "节前", "全县")
PIECES = ("（第二批）", "（补充）", "（第三批）", "回头看", "（二）")

ORDINARY_MATERIALS = (
    "自查报告",
    "整改报告",
    "问题整改清单",
    "工作方案",
    "相关制度文件",
    "统计报表",
    "营业执照复印件",
    "视频监控系统运行记录",
    "项目验收资料",
    "资金拨付凭证",
)
TRACE_MATERIALS = (
    "现场照片",
    "活动影像资料",
    "签到簿",
    "APP截屏",
    "会议纪要及照片",
    "学习笔记",
    "巡查轨迹截图",
    "工作留痕资料",
    "佐证材料",
    "宣传活动照片及视频",
    "入户走访记录及合影",
    "迎检台账",
    "心得体会",
    "微信群转发截图",
    "签 到 表",
    "ＡＰＰ登录次数统计",
)
BASES = (
    "《中华人民共和国安全生产法》第四十一条",
    "《森林防火条例》第二十四条",
    "《食品安全法》第一百零九条",
)
# Data fields as departments write them; the catalog holds the canonical label.
FIELD_VARIANTS = {
    "常住人口": ("常住人口", "常住人口数（人）", "2025年常住人口", "常住人口数量"),
    "户籍人口": ("户籍人口", "户籍人口数"),
    "低保对象": ("低保对象", "低保户数", "最低生活保障对象名单"),
    "特困人员": ("特困人员", "五保户", "特困供养人员数"),
    "耕地面积": ("耕地面积", "耕地面积（亩）"),
    "永久基本农田面积": ("永久基本农田面积",),
    "规模以上工业企业": ("规模以上工业企业", "规上企业数"),
    "安全生产隐患台账": ("安全生产隐患台账", "安全隐患台账"),
    "企业安全生产基本信息": ("企业安全生产基本信息",),
    "农村危房户数": ("农村危房户数",),
    "自建房数量": ("自建房数量",),
    "建档立卡户": ("建档立卡户", "脱贫户"),
    "监测对象": ("监测对象",),
    "适龄儿童入学情况": ("适龄儿童入学情况",),
    "养老保险参保人数": ("养老保险参保人数",),
    "医保参保人数": ("医保参保人数",),
    "村级集体经济收入": ("村级集体经济收入",),
    "高标准农田面积": ("高标准农田面积",),
    "粮食播种面积": ("粮食播种面积",),
    "河湖名录": ("河湖名录",),
    "燃气用户数": ("燃气用户数",),
    "食品经营户名录": ("食品经营户名录",),
    "农村户厕改造户数": ("农村户厕改造户数",),
    "农村供水工程名录": ("农村供水工程名录",),
    "65岁以上老年人数": ("65岁以上老年人数",),
}
# Fields held in the catalog (一表通) and their data set codes.
CATALOG_FIELDS = {
    "常住人口": "RK-01",
    "户籍人口": "RK-01",
    "低保对象": "MZ-03",
    "特困人员": "MZ-03",
    "耕地面积": "ZR-02",
    "规模以上工业企业": "TJ-05",
    "安全生产隐患台账": "YJ-07",
    "建档立卡户": "XC-01",
    "养老保险参保人数": "RS-02",
    "医保参保人数": "YB-01",
    "村级集体经济收入": "CZ-04",
    "粮食播种面积": "NY-06",
}


@dataclass
class Year:
    townships: list[str]
    township_names: dict[str, str]
    departments: dict[str, str]  # key -> name
    items: list[PlanItem]
    held: dict[str, dict[str, str]]
    family: dict[int, str]  # item id -> topic family (the generator's truth, for the bench's quality figures)
    pieces: set[int]  # items filed as pieces of another (拆包分包 injected on purpose)


def township_codes(n: int) -> list[str]:
    """12-digit codes, 20 townships per county, 99 counties per city."""
    out = []
    for i in range(n):
        county, t = divmod(i, 20)
        city, c = divmod(county, 99)
        out.append(f"99{city + 1:02d}{c + 1:02d}{t + 1:03d}000")
    return out


def _start(rng: random.Random, year: int, kind: str, lo: int = 0, hi: int = 330) -> date:
    """A start day in the slice ``[lo, hi)`` of the year (days after 6 January); half of the assessments (考核) at
    year end."""
    if kind == "assessment" and rng.random() < 0.5:
        return date(year, 11, 15) + timedelta(days=rng.randrange(0, 30))
    return date(year, 1, 6) + timedelta(days=rng.randrange(lo, max(lo + 1, hi)))


def _end(rng: random.Random, start: date, longest: int = 90) -> date:
    days = rng.choice([d for d in (7, 14, 21, 30, 30, 45, 60, 90) if d <= longest] or [7])
    return min(start + timedelta(days=days), date(start.year, 12, 31))


def _materials(rng: random.Random) -> tuple[Material, ...]:
    out = [Material(m) for m in rng.sample(ORDINARY_MATERIALS, rng.randrange(0, 3))]
    if rng.random() < 0.2:
        name = rng.choice(TRACE_MATERIALS)
        out.append(Material(name, rng.choice(BASES) if rng.random() < 0.33 else ""))
    return tuple(out)


def _fields(rng: random.Random, fam: Family) -> tuple[str, ...]:
    if not fam.fields or rng.random() < 0.5:
        return ()
    chosen = rng.sample(fam.fields, rng.randrange(1, len(fam.fields) + 1))
    return tuple(rng.choice(FIELD_VARIANTS.get(f, (f,))) for f in chosen)


def generate(items: int = 10_000, townships: int = 1_000, seed: int = 4, year: int = 2025) -> Year:
    """Plans are filed as campaigns: a department runs a topic over an area of the county in one window, in batches
    of townships (one plan item per batch, disjoint targets, the same topic). The campaigns of one department on one
    topic follow each other through the year. Duplicates come from co-owning departments running the same topic over
    the same area at the same time; splits from campaigns filed again in small pieces."""
    rng = random.Random(seed)
    codes = township_codes(townships)
    n_t = len(codes)
    names = {c: f"第{i + 1}乡镇" for i, c in enumerate(codes)}
    depts = {dept_key(d): d for d in DEPARTMENTS}
    out: list[PlanItem] = []
    family: dict[int, str] = {}
    pieces: set[int] = set()

    def add(fam: str = "综合", piece: bool = False, **kw: object) -> None:
        out.append(PlanItem(id=len(out) + 1, **kw))  # type: ignore[arg-type]
        family[len(out)] = fam
        if piece:
            pieces.add(len(out))

    # One comprehensive item per department (a second for about one in seven), for every township.
    for d in DEPARTMENTS:
        for _ in range(2 if rng.random() < 0.15 else 1):
            kind = rng.choice(("assessment", "supervision"))
            start = _start(rng, year, kind)
            add(
                fam=f"综合-{d}",
                department=dept_key(d),
                department_name=d,
                kind=kind,
                comprehensive=True,
                topic=f"{AREAS[d]}工作综合{rng.choice(HOW[kind])}",
                basis="年度督查检查考核计划",
                targets=None,
                start=start,
                end=_end(rng, start, 30),
                onsite=True,
                hours=float(rng.choice((4, 6, 8))),
                materials=_materials(rng),
                data_fields=(),
                out_of_plan=False,
            )
    weights = [2.0 if f.name in ("安全生产", "消防", "人居环境", "食品安全") else 1.0 for f in FAMILIES]
    # Campaigns per (department, family) so far: each new one takes the next slice of the year.
    slot: dict[tuple[str, str], int] = defaultdict(int)
    cursor: dict[tuple[str, str], int] = {}
    while len(out) < items:
        fam = rng.choices(FAMILIES, weights)[0]
        dept = fam.owner if not fam.co or rng.random() < 0.8 else rng.choice(fam.co)
        k = slot[(dept, fam.name)]
        slot[(dept, fam.name)] = k + 1
        cursor.setdefault((dept, fam.name), rng.randrange(0, n_t))
        kind = rng.choice(fam.kinds)
        stem = rng.choice(fam.stems)
        topic = f"{rng.choice(QUALIFIERS)}{stem}{rng.choice(HOW[kind])}"
        # Six slices of the year, visited in a shuffled order per department and topic.
        lo = (k * 5 + DEPARTMENTS.index(dept) + FAMILIES.index(fam)) % 6 * 55
        start = _start(rng, year, kind, lo, lo + 20)
        end = _end(rng, start, 30)
        onsite = rng.random() < {"supervision": 0.7, "inspection": 0.75, "assessment": 0.5}[kind]
        hours = float(rng.choice((1, 2, 2, 3, 4, 4, 6, 8))) if onsite else float(rng.choice((0.5, 1, 2)))
        oop = rng.random() < 0.08
        fields = _fields(rng, fam)
        materials = _materials(rng)
        if rng.random() < 0.01:
            batches: list[frozenset[str] | None] = [None]
        else:
            # Successive campaigns of one department on one topic cover successive areas of the county.
            area = min(n_t, int(math.exp(rng.uniform(math.log(10.0), math.log(400.0)))))
            first = cursor[(dept, fam.name)]
            cursor[(dept, fam.name)] = (first + area) % n_t
            region = [codes[(first + i) % n_t] for i in range(area)]
            if rng.random() < 0.3:
                rng.shuffle(region)
            batches = []
            while region:
                size = max(1, int(math.exp(rng.uniform(0.0, math.log(60.0)))))
                batches.append(frozenset(region[:size]))
                region = region[size:]
        for targets in batches:
            if len(out) >= items:
                break
            add(
                fam=fam.name,
                department=dept_key(dept),
                department_name=dept,
                kind=kind,
                comprehensive=False,
                topic=topic,
                basis="",
                targets=targets,
                start=start,
                end=end,
                onsite=onsite,
                hours=hours,
                materials=materials,
                data_fields=fields,
                out_of_plan=oop,
            )
            # 拆包分包: the same inspection filed again in small pieces close in time.
            if rng.random() < 0.03:
                for _ in range(rng.randrange(1, 3)):
                    if len(out) >= items:
                        break
                    s2 = start + timedelta(days=rng.randrange(0, 20))
                    add(
                        fam=fam.name,
                        piece=True,
                        department=dept_key(dept),
                        department_name=dept,
                        kind=kind,
                        comprehensive=False,
                        topic=f"{stem}{rng.choice(HOW[kind])}{rng.choice(PIECES)}",
                        basis="",
                        targets=targets,
                        start=s2,
                        end=s2 + timedelta(days=rng.choice((7, 14))),
                        onsite=onsite,
                        hours=float(rng.choice((1, 2))),
                        materials=_materials(rng),
                        data_fields=(),
                        out_of_plan=oop,
                    )
    held: dict[str, dict[str, str]] = {}
    for c in codes:
        held[c] = {f: f"{ds}/{c}/2025" for f, ds in CATALOG_FIELDS.items() if rng.random() < 0.7}
    kept = out[:items]
    ids = {it.id for it in kept}
    return Year(codes, names, depts, kept, held, {k: v for k, v in family.items() if k in ids}, pieces & ids)


def demands(year: Year) -> list[Demand]:
    """One demand per on-site item and target township (items for every township expanded)."""
    out: list[Demand] = []
    for it in year.items:
        if not it.onsite:
            continue
        targets = year.townships if it.targets is None else sorted(it.targets)
        for t in targets:
            out.append(Demand(it.id, t, it.department, it.kind, it.start, it.end, it.hours, it.comprehensive))
    return out
