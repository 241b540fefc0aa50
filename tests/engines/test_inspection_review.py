"""The plan review engine (gongzhi.engines.inspection_review) and its sentences (gongzhi.inspections.explain)."""

from __future__ import annotations

import json
import math
import random
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.engines import inspection_review as ir
from gongzhi.engines.inspection_review import Material, PlanItem, ReviewRules, review
from gongzhi.inspections import explain

TOWNS = [f"990101{i:03d}000" for i in range(1, 13)]
T1, T2, T3, T4, T5, T6 = TOWNS[:6]

DEPTS = {
    "1": "县应急管理局",
    "2": "县林业局",
    "3": "县消防救援大队",
    "4": "县住房和城乡建设局",
    "5": "县生态环境局",
    "6": "县农业农村局",
    "7": "县人力资源和社会保障局",
    "8": "县医疗保障局",
    "9": "县水利局",
    "10": "县市场监督管理局",
}
# Other topics a county files, so that IDF weights are those of a real plan (common words common, rare words rare).
BACKGROUND = (
    "安全生产大检查",
    "危险化学品安全专项检查",
    "农村人居环境整治督查",
    "农村生活垃圾治理考核",
    "河湖四乱清理整治检查",
    "河长制湖长制落实督查",
    "耕地保护督查",
    "高标准农田建设项目检查",
    "食品安全检查",
    "特种设备安全检查",
    "控辍保学督查",
    "低保专项治理检查",
    "平安建设考核",
    "矛盾纠纷排查化解督查",
    "基层党建工作考核",
    "统计数据质量检查",
    "防汛备汛检查",
    "城镇燃气安全排查整治",
    "农村房屋安全隐患排查整治",
    "基本公共卫生服务考核",
)

_ids = iter(range(1, 10**6))


def item(
    dept: str,
    topic: str,
    start: date = date(2025, 3, 1),
    end: date = date(2025, 3, 31),
    targets: frozenset[str] | set[str] | None = None,
    **kw: Any,
) -> PlanItem:
    pk = kw.pop("id", None) or next(_ids)
    defaults: dict[str, Any] = {
        "kind": "inspection",
        "comprehensive": False,
        "basis": "",
        "onsite": True,
        "hours": 3.0,
        "materials": (),
        "data_fields": (),
        "out_of_plan": False,
    }
    defaults.update(kw)
    return PlanItem(
        id=pk,
        department=dept,
        department_name=DEPTS.get(dept, dept),
        topic=topic,
        targets=None if targets is None else frozenset(targets),
        start=start,
        end=end,
        **defaults,
    )


def background() -> list[PlanItem]:
    # Remote and spread over other townships and the autumn: they shape the IDF and touch nothing else.
    return [
        item("10", t, date(2025, 10, 1), date(2025, 10, 20), {TOWNS[11]}, onsite=False) for t in BACKGROUND
    ]


def run(items: list[PlanItem], rules: ReviewRules | None = None, held: Any = None) -> ir.ReviewResult:
    return review([*items, *background()], townships=TOWNS, held=held or {}, rules=rules)


def flags(res: ir.ReviewResult, rule: str, item_id: int | None = None) -> list[ir.Flag]:
    return [f for f in res.flags if f.rule == rule and (item_id is None or f.item == item_id)]


# ---- duplicates ----------------------------------------------------------------------------------------------


def test_duplicate_across_departments_names_townships_days_and_terms() -> None:
    a = item("2", "2025年春季森林防火检查", date(2025, 3, 1), date(2025, 3, 31), {T1, T2, T3})
    b = item("1", "森林防火专项督查", date(2025, 3, 20), date(2025, 4, 20), {T3, T4}, kind="supervision")
    res = run([a, b])
    (fa,) = flags(res, "duplicate", a.id)
    (fb,) = flags(res, "duplicate", b.id)
    assert fa.others == (b.id,) and fb.others == (a.id,)
    assert fa.score is not None and fa.score >= 70
    assert fa.townships == (T3,)
    pair = fa.params["pairs"][0]
    assert (pair["from"], pair["to"], pair["days"]) == ("2025-03-20", "2025-03-31", 12)
    assert pair["township_count"] == 1 and pair["townships"] == [T3]
    assert "森林防火" in pair["terms"]
    assert pair["department_name"] == "县应急管理局"
    json.dumps(fa.as_dict())  # JSON-safe


@pytest.mark.parametrize(
    ("b_start", "b_end", "b_targets", "b_topic", "b_dept"),
    [
        (date(2025, 4, 1), date(2025, 4, 30), {T3}, "森林防火专项督查", "1"),  # windows do not overlap
        (date(2025, 3, 10), date(2025, 3, 20), {T4, T5}, "森林防火专项督查", "1"),  # targets disjoint
        (date(2025, 3, 10), date(2025, 3, 20), {T3}, "城乡居民养老保险参保检查", "1"),  # unrelated topic
    ],
)
def test_no_duplicate_when_windows_targets_or_topics_differ(
    b_start: date, b_end: date, b_targets: set[str], b_topic: str, b_dept: str
) -> None:
    a = item("2", "森林防火检查", date(2025, 3, 1), date(2025, 3, 31), {T1, T2, T3})
    b = item(b_dept, b_topic, b_start, b_end, b_targets)
    res = run([a, b])
    assert not flags(res, "duplicate") and not flags(res, "near_duplicate")


def test_duplicate_needs_min_overlap_days() -> None:
    a = item("2", "森林防火检查", date(2025, 3, 1), date(2025, 3, 10), {T1})
    b = item("1", "森林防火督查", date(2025, 3, 10), date(2025, 3, 20), {T1})
    assert flags(run([a, b]), "duplicate")  # one day in common is enough by default
    assert not flags(run([a, b], ReviewRules(min_overlap_days=2)), "duplicate")


def test_all_township_item_overlaps_every_target() -> None:
    a = item("3", "消防安全检查", targets=None)
    b = item("4", "消防安全专项督查", targets={T2, T5})
    res = run([a, b])
    (fb,) = flags(res, "duplicate", b.id)
    assert fb.params["pairs"][0]["township_count"] == 2 and set(fb.townships) == {T2, T5}
    (fa,) = flags(res, "duplicate", a.id)
    assert fa.params["township_count"] == 2


@pytest.mark.parametrize(
    ("topic_a", "topic_b"),
    [
        ("消防安全检查", "九小场所消防安全专项检查"),  # generic inside specific
        ("秸秆禁烧督查", "秋季秸秆综合利用和禁烧检查"),  # paraphrase across departments
        ("县应急管理局安全生产检查", "上半年安全生产专项督查"),  # department name and qualifiers ignored
        ("城镇燃气安全排查整治", "燃气安全专项整治暗访"),
        ("食品安全督查", "校园食品安全检查"),
    ],
)
def test_paraphrases_across_departments_are_flagged(topic_a: str, topic_b: str) -> None:
    a = item("5", topic_a, targets={T1, T2})
    b = item("6", topic_b, targets={T2})
    res = run([a, b])
    got = flags(res, "duplicate", a.id) + flags(res, "near_duplicate", a.id)
    assert got and got[0].others == (b.id,)


@pytest.mark.parametrize(
    ("topic_a", "topic_b"),
    [
        ("城乡居民养老保险参保检查", "城乡居民医保参保扩面督查"),  # pension vs medical insurance
        ("河长制湖长制落实督查", "田长制落实检查"),  # rivers vs farmland
        ("农村饮水安全检查", "农村房屋安全隐患排查整治"),  # share 农村 and 安全 only
        ("社会救助政策落实督查", "学生资助政策落实检查"),
        ("财政工作综合考核", "乡镇财政财务收支审计"),  # one bigram of topic is not containment
    ],
)
def test_distinct_topics_sharing_words_are_not_flagged(topic_a: str, topic_b: str) -> None:
    a = item("7", topic_a, targets={T1, T2})
    b = item("8", topic_b, targets={T2})
    res = run([a, b])
    assert not flags(res, "duplicate") and not flags(res, "near_duplicate")


def test_near_duplicate_below_duplicate_threshold() -> None:
    a = item("3", "消防安全检查", targets={T1})
    b = item("4", "九小场所消防安全专项检查", targets={T1})
    res = run([a, b])
    f = (flags(res, "duplicate", a.id) + flags(res, "near_duplicate", a.id))[0]
    assert f.score is not None
    strict = run([a, b], ReviewRules(duplicate_threshold=f.score + 0.1, near_duplicate_threshold=f.score))
    assert flags(strict, "near_duplicate", a.id) and not flags(strict, "duplicate", a.id)
    loose = run([a, b], ReviewRules(duplicate_threshold=f.score, near_duplicate_threshold=f.score))
    assert flags(loose, "duplicate", a.id)
    none = run([a, b], ReviewRules(duplicate_threshold=100, near_duplicate_threshold=f.score + 0.1))
    assert not flags(none, "duplicate") and not flags(none, "near_duplicate")


def test_same_department_is_not_a_cross_department_duplicate() -> None:
    a = item("2", "森林防火检查", hours=6)
    b = item("2", "森林防火督查", hours=6)
    res = run([a, b])
    assert not flags(res, "duplicate") and not flags(res, "near_duplicate")


# ---- splits --------------------------------------------------------------------------------------------------


def test_split_small_items_close_in_time() -> None:
    a = item("1", "安全生产检查（第一批）", date(2025, 5, 1), date(2025, 5, 7), {T1, T2}, hours=2)
    b = item("1", "安全生产检查（第二批）", date(2025, 5, 15), date(2025, 5, 21), {T2, T3}, hours=2)
    c = item("1", "安全生产专项检查（补充）", date(2025, 5, 25), date(2025, 5, 30), {T2}, hours=1)
    res = run([a, b, c])
    fs = {f.item: f for f in flags(res, "split")}
    assert set(fs) == {a.id, b.id, c.id}
    assert set(fs[a.id].others) == {b.id, c.id}
    assert fs[a.id].townships == (T2,)
    assert fs[a.id].params["items"] == 3 and fs[a.id].params["hours"] == 5
    assert "安全生产" in fs[a.id].params["terms"]


def test_no_split_months_apart_or_without_shared_townships_or_for_big_separate_items() -> None:
    a = item("1", "安全生产检查", date(2025, 3, 1), date(2025, 3, 10), {T1}, hours=2)
    later = item("1", "安全生产检查", date(2025, 9, 1), date(2025, 9, 10), {T1}, hours=2)
    elsewhere = item("1", "安全生产检查", date(2025, 3, 5), date(2025, 3, 15), {T2}, hours=2)
    big = item("1", "安全生产检查", date(2025, 3, 20), date(2025, 3, 30), {T1}, hours=6)
    assert not flags(run([a, later]), "split")
    assert not flags(run([a, elsewhere]), "split")
    assert not flags(run([a, big]), "split")  # 10 days apart but big: a second inspection, not a piece
    overlapping_big = item("1", "安全生产大检查", date(2025, 3, 8), date(2025, 3, 30), {T1}, hours=6)
    assert flags(run([a, overlapping_big]), "split")  # at the same time: one inspection filed twice


def test_split_needs_similar_topics() -> None:
    a = item("1", "安全生产检查", date(2025, 5, 1), date(2025, 5, 7), {T1}, hours=2)
    b = item("1", "危险化学品储存使用检查", date(2025, 5, 3), date(2025, 5, 9), {T1}, hours=2)
    assert not flags(run([a, b]), "split")


# ---- quotas --------------------------------------------------------------------------------------------------


def quota_rules(**kw: Any) -> ReviewRules:
    base: dict[str, Any] = {"onsite_per_quarter": 2, "onsite_per_year": 100, "comprehensive_per_year": 1}
    base.update(kw)
    return ReviewRules(**base)


def distinct(n: int) -> list[str]:
    # Topics that resemble nothing else, so only the quotas speak.
    return ["甲乙丙丁", "戊己庚辛", "子丑寅卯", "辰巳午未", "申酉戌亥", "金木水火", "琴棋书画", "梅兰竹菊"][
        :n
    ]


def test_quarter_quota_flags_the_latest_at_the_township_over_the_cap() -> None:
    t = distinct(4)
    items = [
        item("1", t[0], date(2025, 1, 10), date(2025, 1, 20), {T1, T2}),
        item("2", t[1], date(2025, 2, 10), date(2025, 2, 20), {T1}),
        item("3", t[2], date(2025, 3, 10), date(2025, 6, 20), {T1, T2}),  # spans Q1-Q2: counts in Q1
        item("4", t[3], date(2025, 2, 1), date(2025, 2, 5), {T1}, onsite=False),  # remote: not counted
    ]
    res = run(items, quota_rules())
    over = flags(res, "over_quota")
    assert [(f.item, f.code, f.townships) for f in over] == [(items[2].id, "over_quota_quarter", (T1,))]
    p = over[0].params
    assert (p["year"], p["quarter"], p["cap"], p["count"], p["township_count"], p["target_count"]) == (
        2025,
        1,
        2,
        3,
        1,
        2,
    )
    assert not p["all_targets"]


def test_out_of_plan_items_yield_first() -> None:
    t = distinct(3)
    items = [
        item("1", t[0], date(2025, 1, 5), date(2025, 1, 20), {T1}, out_of_plan=True),
        item("2", t[1], date(2025, 2, 10), date(2025, 2, 20), {T1}),
        item("3", t[2], date(2025, 3, 10), date(2025, 3, 20), {T1}),
    ]
    over = flags(run(items, quota_rules()), "over_quota")
    assert [f.item for f in over] == [items[0].id]
    assert over[0].params["out_of_plan"]


def test_year_quota() -> None:
    t = distinct(4)
    items = [
        item(str(k + 1), t[k], date(2025, 1 + 3 * k, 10), date(2025, 1 + 3 * k, 20), {T1, T2})
        for k in range(4)
    ]
    res = run(items, quota_rules(onsite_per_quarter=5, onsite_per_year=3))
    over = flags(res, "over_quota")
    assert [(f.item, f.code) for f in over] == [(items[3].id, "over_quota_year")]
    assert over[0].params["all_targets"] and set(over[0].townships) == {T1, T2}


def test_all_township_items_count_everywhere_without_expansion() -> None:
    t = distinct(4)
    base = [item(str(k + 1), t[k], date(2025, 1, 5 + k), date(2025, 1, 25), None) for k in range(2)]
    mine = item("3", t[2], date(2025, 1, 20), date(2025, 1, 30), {T4})
    res = run([*base, mine], quota_rules())
    over = flags(res, "over_quota")
    assert [(f.item, f.townships) for f in over] == [(mine.id, (T4,))]
    # A third all-township item is past the cap at every township.
    third = item("4", t[3], date(2025, 2, 1), date(2025, 2, 10), None)
    res = run([*base, third], quota_rules())
    (f,) = flags(res, "over_quota")
    assert f.item == third.id and f.params["township_count"] == len(TOWNS) and f.params["all_targets"]
    assert len(f.townships) == len(TOWNS)  # listed up to max_listed (20)


def test_all_township_item_is_flagged_only_where_it_is_past_the_cap() -> None:
    t = distinct(3)
    early = [
        item("1", t[0], date(2025, 1, 5), date(2025, 1, 9), {T1}),
        item("2", t[1], date(2025, 1, 6), date(2025, 1, 9), {T1}),
    ]
    late_all = item("3", t[2], date(2025, 2, 1), date(2025, 2, 10), None)
    (f,) = flags(run([*early, late_all], quota_rules()), "over_quota")
    assert f.item == late_all.id and f.townships == (T1,) and not f.params["all_targets"]


def test_comprehensive_per_department_per_year() -> None:
    t = distinct(4)
    first = item("1", t[0], date(2025, 4, 1), date(2025, 4, 30), None, comprehensive=True, onsite=False)
    second = item("1", t[1], date(2025, 9, 1), date(2025, 9, 30), {T1, T2}, comprehensive=True)
    other_dept = item("2", t[2], date(2025, 9, 1), date(2025, 9, 30), None, comprehensive=True)
    next_year = item("1", t[3], date(2026, 4, 1), date(2026, 4, 30), None, comprehensive=True)
    res = run([first, second, other_dept, next_year], quota_rules(onsite_per_quarter=10))
    fs = flags(res, "comprehensive_quota")
    assert [(f.item, f.others) for f in fs] == [(second.id, (first.id,))]
    assert set(fs[0].townships) == {T1, T2} and fs[0].params["year"] == 2025
    assert fs[0].params["department_name"] == "县应急管理局"
    assert not flags(run([first, second], quota_rules(comprehensive_per_year=2)), "comprehensive_quota")


# ---- trace demands -------------------------------------------------------------------------------------------

TRACE_SPELLINGS = (
    "现场照片",
    "活动影像资料",
    "签到簿",
    "签 到 表",
    "签到（表）",
    "APP截屏",
    "ＡＰＰ截屏",
    "会议纪要及照片",
    "学习笔记",
    "心得体会",
    "巡查轨迹截图",
    "手机定位记录",
    "工作留痕资料",
    "痕迹资料",
    "佐证材料",
    "迎检台账",
    "宣传活动照片及视频",
    "微信群转发截图",
    "学习强国学习积分排名",
    "照\u200b片",
)
ORDINARY = (
    "自查报告",
    "问题整改清单",
    "营业执照复印件",
    "遥感影像图斑核查结果",
    "视频监控系统运行记录",
    "照明设施检查记录",
    "（无需提供照片）自查报告",
)


@pytest.mark.parametrize("name", TRACE_SPELLINGS)
def test_trace_demands_as_people_write_them_are_refused(name: str) -> None:
    a = item("1", "安全生产检查", materials=(Material("自查报告"), Material(name)))
    res = run([a])
    (f,) = flags(res, "trace_demand", a.id)
    assert f.code == "trace_demand"
    assert [m["material"] for m in f.params["materials"]] == [name]
    assert f.params["materials"][0]["terms"]
    assert not res.notes


@pytest.mark.parametrize("name", ORDINARY)
def test_ordinary_materials_are_not_traces(name: str) -> None:
    res = run([item("1", "安全生产检查", materials=(Material(name),))])
    assert not flags(res, "trace_demand") and not res.notes


def test_trace_with_basis_is_noted_not_refused() -> None:
    a = item(
        "2",
        "森林防火检查",
        materials=(Material("巡护轨迹记录", basis="《森林防火条例》第二十四条"), Material("现场照片")),
    )
    res = run([a])
    (f,) = flags(res, "trace_demand", a.id)
    assert [m["material"] for m in f.params["materials"]] == ["现场照片"]
    (note,) = res.notes
    assert note.code == "trace_demand_with_basis" and note.item == a.id
    assert note.params["materials"][0]["basis"] == "《森林防火条例》第二十四条"


def test_trace_terms_and_exceptions_are_configurable() -> None:
    rules = ReviewRules(trace_terms=(("photo", ("照片",)),), trace_exceptions=("证件照片",))
    res = run([item("1", "安全生产检查", materials=(Material("证件照片"), Material("签到表")))], rules)
    assert not flags(res, "trace_demand")
    res = run([item("1", "安全生产检查", materials=(Material("现场照片"),))], rules)
    assert flags(res, "trace_demand")


# ---- data already held ---------------------------------------------------------------------------------------


def test_data_held_in_catalog_is_referenced_per_field() -> None:
    held = {
        T1: {"常住人口": "RK-01/T1", "低保对象": "MZ-03/T1"},
        T2: {"常住人口（人）": "RK-01/T2"},
        T5: {"常住人口": "RK-01/T5"},
    }
    a = item(
        "7",
        "就业帮扶督查",
        targets={T1, T2, T3},
        data_fields=("2025年常住人口数", "户籍人口", "低保户数", "耕地面积"),
    )
    res = run([a], held=held)
    (f,) = flags(res, "data_held", a.id)
    fields = {x["field"]: x for x in f.params["fields"]}
    assert set(fields) == {"2025年常住人口数", "低保户数"}  # 户籍人口 is not 常住人口
    pop = fields["2025年常住人口数"]
    assert (pop["held"], pop["of"], pop["all"]) == (2, 3, False)
    assert pop["refs"] == ["RK-01/T1", "RK-01/T2"] and pop["townships"] == [T1, T2]
    assert fields["低保户数"]["catalog_field"] == "低保对象" and fields["低保户数"]["refs"] == ["MZ-03/T1"]
    assert set(f.townships) == {T1, T2}
    # For every township of the county: T5 holds it too.
    b = item("7", "就业帮扶督查", targets=None, data_fields=("常住人口",))
    (g,) = flags(run([b], held=held), "data_held", b.id)
    assert g.params["fields"][0]["held"] == 3 and g.params["fields"][0]["of"] == len(TOWNS)


def test_field_keys() -> None:
    key = ir.field_key
    assert key("2025年常住人口数（人）") == key("常住人口") == key("常住人口数量") == key(" 常住 人口 ")
    assert key("户籍人口") != key("常住人口")
    index = ir.FieldIndex({T1: {"规模以上工业企业": "TJ"}}, ir.DEFAULT_FIELD_ALIASES)
    assert index.lookup("规上企业数", [T1, T2]) == {T1: "TJ"}
    assert index.lookup("企业", [T1]) == {}


# ---- input checks and determinism ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"start": date(2025, 5, 2), "end": date(2025, 5, 1)}, "结束日期早于开始日期"),
        ({"targets": {"990101999000"}}, "不在本县"),
        ({"targets": set()}, "没有对象乡镇"),
        ({"kind": "visit"}, "类型"),
        ({"hours": -1.0}, "时长"),
    ],
)
def test_bad_items_are_refused_in_chinese(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        review([item("1", "安全生产检查", **kw)], townships=TOWNS)


def test_duplicate_ids_are_refused() -> None:
    a = item("1", "安全生产检查")
    with pytest.raises(ValueError, match="重复"):
        review([a, a], townships=TOWNS)


def test_bad_rules_are_refused() -> None:
    with pytest.raises(ValueError):
        review([], townships=TOWNS, rules=ReviewRules(near_duplicate_threshold=80, duplicate_threshold=70))


TOPICS = (
    "森林防火检查",
    "森林防火专项督查",
    "消防安全检查",
    "九小场所消防安全检查",
    "安全生产大检查",
    "安全生产责任制落实督查",
    "秸秆禁烧督查",
    "秸秆综合利用和禁烧检查",
    "食品安全检查",
    "校园食品安全督查",
    "农村饮水安全检查",
    "农村房屋安全隐患排查整治",
    "河长制湖长制落实督查",
    "耕地保护督查",
)


def random_items(rng: random.Random, n: int) -> list[PlanItem]:
    out = []
    for _ in range(n):
        start = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 300))
        targets = None if rng.random() < 0.1 else set(rng.sample(TOWNS, rng.randrange(1, 5)))
        out.append(
            item(
                str(rng.randrange(1, 6)),
                rng.choice(TOPICS),
                start,
                start + timedelta(days=rng.randrange(0, 40)),
                targets,
                hours=float(rng.choice((1, 2, 4, 6))),
                onsite=rng.random() < 0.7,
                comprehensive=rng.random() < 0.1,
                out_of_plan=rng.random() < 0.1,
            )
        )
    return out


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.integers(2, 40))
def test_index_finds_exactly_the_pairs_an_all_pairs_scan_finds(seed: int, n: int) -> None:
    """Prefix filtering must lose nothing: compare with every pair scored directly."""
    rng = random.Random(seed)
    items = random_items(rng, n)
    rules = ReviewRules()
    res = review(items, townships=TOWNS, rules=rules)
    run_ = ir._Review(items, TOWNS, {}, rules)
    want_dup: set[tuple[int, int]] = set()
    want_split: set[tuple[int, int]] = set()
    for i, x in enumerate(run_.items):
        for y in run_.items[i + 1 :]:
            xs, ys = (x, y) if (x.mass, x.pos) <= (y.mass, y.pos) else (y, x)
            shared = sum(v * ys.vec.get(g, 0.0) for g, v in xs.vec.items())
            if not shared:
                continue
            score = shared / math.sqrt(math.sqrt(xs.mass**3 * ys.mass))
            if len(xs.grams) < 3:
                score *= math.sqrt(len(xs.grams) / 3)
            score = round(min(score, 1.0) * 100, 1)
            lo, hi = max(x.s, y.s), min(x.e, y.e)
            tx, ty = x.src.targets, y.src.targets
            if tx is not None and ty is not None and not tx & ty:
                continue
            pair = (min(x.src.id, y.src.id), max(x.src.id, y.src.id))
            if x.src.department == y.src.department:
                close = hi >= lo or (
                    lo - hi <= rules.split_gap_days and x.src.hours <= 4 and y.src.hours <= 4
                )
                if close and score >= rules.split_threshold:
                    want_split.add(pair)
            elif hi - lo + 1 >= 1 and score >= rules.near_duplicate_threshold:
                want_dup.add(pair)
    got_dup = {
        (min(f.item, o), max(f.item, o))
        for f in res.flags
        if f.rule in ("duplicate", "near_duplicate")
        for o in f.others
    }
    got_split = {(min(f.item, o), max(f.item, o)) for f in res.flags if f.rule == "split" for o in f.others}
    assert got_dup == want_dup
    assert got_split == want_split


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10**6))
def test_review_does_not_depend_on_input_order(seed: int) -> None:
    rng = random.Random(seed)
    items = random_items(rng, 30)
    a = review(items, townships=TOWNS)
    shuffled = items[:]
    rng.shuffle(shuffled)
    b = review(shuffled, townships=TOWNS)

    def key(r: ir.ReviewResult) -> list[str]:
        return sorted(json.dumps(f.as_dict(), sort_keys=True, ensure_ascii=False) for f in r.flags)

    assert key(a) == key(b)


# ---- sentences -----------------------------------------------------------------------------------------------


def every_flag() -> list[ir.Flag]:
    """A plan that raises every code, reviewed for real."""
    rules = quota_rules(onsite_per_quarter=2, onsite_per_year=3, duplicate_threshold=90)
    t = distinct(6)
    items = [
        item("2", "森林防火检查", date(2025, 3, 1), date(2025, 3, 31), {T1, T2}),
        item("1", "森林防火专项督查", date(2025, 3, 20), date(2025, 4, 20), {T2}),
        item("3", "消防安全检查", date(2025, 3, 1), date(2025, 3, 31), {T3}),
        item("4", "九小场所消防安全专项检查", date(2025, 3, 1), date(2025, 3, 31), {T3}),
        item("1", "安全生产检查（第一批）", date(2025, 5, 1), date(2025, 5, 7), {T4}, hours=2),
        item("1", "安全生产检查（第二批）", date(2025, 5, 9), date(2025, 5, 15), {T4}, hours=2),
        *(item(str(k + 1), t[k], date(2025, 7, 1 + k), date(2025, 7, 20), {T5}) for k in range(3)),
        *(item(str(k + 1), t[k + 3], date(2025, 10, 1 + k), date(2025, 10, 20), {T5}) for k in range(2)),
        item("6", "农业农村工作综合考核", date(2025, 2, 1), date(2025, 2, 9), {T6}, comprehensive=True),
        item("6", "农业农村工作综合督查", date(2025, 8, 1), date(2025, 8, 9), {T6}, comprehensive=True),
        item(
            "7",
            "就业帮扶督查",
            targets={T1, T2},
            materials=(Material("现场照片"), Material("签到表", basis="《某条例》第三条")),
            data_fields=("常住人口",),
            onsite=False,
        ),
    ]
    res = run(items, rules, held={T1: {"常住人口": "RK/T1"}})
    return res.flags + res.notes


def test_every_code_is_raised_by_the_plan_above() -> None:
    assert {f.code for f in every_flag()} == set(ir.FLAG_CODES)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_explain_renders_every_flag(lang: str) -> None:
    names = {T1: "城关镇", T2: "河口乡"}
    with translation.override(lang):
        for f in every_flag():
            text = explain.flag_text(f, townships=names)
            assert text and text != f.code and "%(" not in text, (f.code, text)
            assert explain.explain(f) == explain.flag_text(f)
            assert explain.flag_text(f.as_dict()) == explain.flag_text(f)


def test_explain_sentences_carry_the_reasons() -> None:
    by_code = {f.code: f for f in every_flag()}
    dup = explain.flag_text(by_code["duplicate"], townships={T2: "河口乡"})
    assert "河口乡" in dup and "森林防火" in dup and "2025-03-20" in dup
    assert "现场照片" in explain.flag_text(by_code["trace_demand"])
    assert "《某条例》第三条" in explain.flag_text(by_code["trace_demand_with_basis"])
    assert "常住人口" in explain.flag_text(by_code["data_held"])
    assert "计划外" not in explain.flag_text(by_code["over_quota_quarter"])


@pytest.mark.parametrize("code", ir.FLAG_CODES)
def test_explain_survives_empty_params(code: str) -> None:
    assert explain.flag_text({"code": code, "params": {}})
    assert explain.explain(code, {})
