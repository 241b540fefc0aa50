"""The burden ledger: the three stages and the counting rules, year over year, the headline against the 50% goal,
scopes, the page, the .xlsx export and the API."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from gongzhi.core.errors import PermissionDeniedError, ServiceError
from gongzhi.inspections import ledger as lg
from gongzhi.inspections import visits as svc
from gongzhi.inspections.models import ItemStatus, JointVisit, Mode, PlanStatus

from .factories_visits import YEAR, entry, item, run, submit, visit

D = dt.date


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def year_of_plans(tree: Any) -> dict[str, Any]:
    """共治县 2026 (townships 东河镇 t1, 城关街道 t2):
    a: 住建 on-site t1, 3 h, materials 台账 + 照片 (照片 struck), data 常住人口 (met by the catalog in t1 only)
    b: 应急 on-site, all townships, 4 h, materials 台账
    c: 应急 remote t2, 2 h, data 耕地面积 (not met)
    d: 住建 on-site t2, 5 h, refused later (counts as filed only)
    e: 住建 on-site t1, 1 h, in a draft plan of 2027 (never counted for 2026)
    """
    e = entry(tree.county)
    submit(e, tree.t1, {"resident_pop": 100, "farmland": "1"})
    a = item(
        tree.dept,
        topic="危房改造检查",
        targets=[tree.t1],
        hours=3,
        materials=[{"name": "台账", "basis": ""}, {"name": "照片", "basis": "", "removed": "trace_demand"}],
        data_fields=[{"label": "常住人口", "ref": {"entry": e.pk, "field": "resident_pop"}}],
    )
    b = item(
        tree.dept2,
        topic="安全生产检查",
        all_townships=True,
        hours=4,
        materials=[{"name": "台账", "basis": ""}],
    )
    c = item(
        tree.dept2,
        topic="防汛数据核查",
        targets=[tree.t2],
        hours=2,
        mode=Mode.REMOTE,
        data_fields=[{"label": "耕地面积", "ref": None}],
    )
    d = item(tree.dept, topic="重复检查", targets=[tree.t2], hours=5, status=ItemStatus.REFUSED)
    item(tree.dept, topic="明年草稿", targets=[tree.t1], year=YEAR + 1, plan_status=PlanStatus.DRAFT)
    return {"entry": e, "a": a, "b": b, "c": c, "d": d}


def _by_name(rows: list[lg.Row]) -> dict[str, lg.Row]:
    return {r.name: r for r in rows}


def test_three_stages_follow_the_counting_rules(users: Any, tree: Any, year_of_plans: Any) -> None:
    led = lg.build_ledger(user=users["county_office"], county=tree.county, year=YEAR)
    t = _by_name(led.townships)
    t1, t2 = t["东河镇"], t["城关街道"]
    # As filed: t1 = a + b; t2 = b + c (remote) + d (refused later).
    assert (t1.filed.visits, t1.filed.hours, t1.filed.forms, t1.filed.fields, t1.filed.materials) == (
        2,
        Decimal(7),
        1,
        1,
        3,
    )
    assert (t2.filed.visits, t2.filed.hours, t2.filed.forms, t2.filed.materials) == (2, Decimal(11), 1, 1)
    # After review: d gone, 照片 struck, 常住人口 met in t1 by the catalog.
    assert (
        t1.reviewed.visits,
        t1.reviewed.hours,
        t1.reviewed.forms,
        t1.reviewed.fields,
        t1.reviewed.materials,
    ) == (
        2,
        Decimal(7),
        0,
        0,
        2,
    )
    assert (t2.reviewed.visits, t2.reviewed.hours, t2.reviewed.forms, t2.reviewed.fields) == (
        1,
        Decimal(6),
        1,
        1,
    )
    assert t1.merged is None and led.total.visits_cut is None and led.headline()["met"] is None
    d = _by_name(led.departments)
    assert d["县住房和城乡建设局"].filed.visits == 2 and d["县住房和城乡建设局"].reviewed.visits == 1
    assert d["县应急管理局"].filed.visits == 2 and d["县应急管理局"].filed.hours == Decimal(10)
    assert led.total.filed.visits == 4 and led.total.reviewed.visits == 3


def test_after_merging_and_the_headline(users: Any, tree: Any, year_of_plans: Any) -> None:
    svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR, exact_reference=False)
    led = lg.build_ledger(user=users["county_office"], county=tree.county, year=YEAR)
    t = _by_name(led.townships)
    t1, t2 = t["东河镇"], t["城关街道"]
    assert t1.merged is not None and t2.merged is not None
    # t1: a + b merged into one visit of 4 + 0.5 × 3 = 5.5 h; 台账 asked by both is handed over once.
    assert (t1.merged.visits, t1.merged.hours, t1.merged.materials, t1.merged.forms) == (
        1,
        Decimal("5.5"),
        1,
        0,
    )
    # t2: b alone (4 h) + c remote (2 h); 耕地面积 still asked.
    assert (t2.merged.visits, t2.merged.hours, t2.merged.fields) == (1, Decimal(6), 1)
    assert led.total.merged is not None and led.total.merged.visits == 2
    head = led.headline()
    assert (
        head["visits_filed"] == 4 and head["visits_merged"] == 2 and head["visits_cut"] == 0.5 and head["met"]
    )
    dept = _by_name(led.departments)
    zj, yj = dept["县住房和城乡建设局"], dept["县应急管理局"]
    assert zj.merged is not None and yj.merged is not None
    # 住建 has one of the two items of the t1 visit: 0.5; 应急 the other half and the whole t2 visit.
    assert (zj.merged.visits, zj.joined, zj.led) == (Decimal("0.5"), 1, 0)
    assert (yj.merged.visits, yj.joined, yj.led) == (Decimal("1.5"), 2, 2)
    assert zj.merged.visits + yj.merged.visits == led.total.merged.visits
    assert zj.visits_cut == 0.75 and yj.visits_cut == 0.25  # 住建 filed 2 (one refused later)
    # The t1 visit's 5.5 h split 3 : 4 between the departments.
    assert zj.merged.hours == Decimal("5.5") * 3 / 7
    # An approved on-site item not merged yet counts one visit per township.
    item(tree.dept, topic="补充", targets=[tree.t1, tree.t2], hours=1)
    led = lg.build_ledger(user=users["county_office"], county=tree.county, year=YEAR)
    assert led.total.merged is not None and led.total.merged.visits == 4 and not led.headline()["met"]


def test_year_over_year(users: Any, tree: Any, year_of_plans: Any) -> None:
    # 2025 was never merged: its figure is as filed.
    item(tree.dept, topic="去年一", targets=[tree.t1], year=YEAR - 1)
    item(tree.dept, topic="去年二", targets=[tree.t1, tree.t2], year=YEAR - 1)
    led = lg.build_ledger(user=users["county_office"], county=tree.county, year=YEAR)
    assert led.total.previous is not None and led.total.previous_basis == "filed"
    assert led.total.previous.visits == 3
    t1 = _by_name(led.townships)["东河镇"]
    assert t1.previous is not None and t1.previous.visits == 2 and t1.yoy_visits == 0.0
    # Once 2025 is merged, its figure after merging is used.
    svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR - 1, exact_reference=False)
    led = lg.build_ledger(user=users["county_office"], county=tree.county, year=YEAR)
    assert led.total.previous_basis == "merged" and led.total.previous is not None
    assert led.total.previous.visits == 2


def test_scopes(users: Any, tree: Any, year_of_plans: Any) -> None:
    town = lg.build_ledger(user=users["township_staff"], county=tree.county, year=YEAR)
    assert (
        town.scope == "township" and [r.name for r in town.townships] == ["东河镇"] and town.departments == []
    )
    assert town.total.filed.visits == 2
    dept = lg.build_ledger(user=users["department_staff"], county=tree.county, year=YEAR)
    assert dept.scope == "department" and dept.townships == []
    assert [r.name for r in dept.departments] == ["县住房和城乡建设局"] and dept.total.filed.visits == 2
    for role in ("org_department", "admin", "discipline"):
        assert lg.build_ledger(user=users[role], county=tree.county, year=YEAR).scope == "county"
    for role in ("village_committee", "resident", "other_township_staff"):
        with pytest.raises(PermissionDeniedError):
            lg.build_ledger(user=users[role], county=tree.county, year=YEAR)
    with pytest.raises(ServiceError):
        lg.build_ledger(user=users["county_office"], county=tree.county, year="去年")
    with pytest.raises(ServiceError):
        lg.build_ledger(user=users["county_office"], county=tree.t1, year=YEAR)


def test_cancelled_visits_do_not_count(users: Any, tree: Any) -> None:
    r = run(tree.county)
    a = item(tree.dept, targets=[tree.t1])
    visit(r, tree.t1, tree.dept, [a])
    JointVisit.objects.update(status="cancelled")
    led = lg.build_ledger(user=users["county_office"], county=tree.county, year=YEAR)
    assert _by_name(led.townships)["东河镇"].merged.visits == 1  # type: ignore[union-attr]  # counted as not merged


def test_page_export_and_api(users: Any, tree: Any, year_of_plans: Any) -> None:
    c = _client(users["county_office"])
    page = c.get(f"/burden/?year={YEAR}").content.decode()
    assert "尚未合并" in page and "口径说明" in page and "按申报" in page and "<svg" in page
    svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR, exact_reference=False)
    page = c.get(f"/burden/?year={YEAR}").content.decode()
    assert "按申报 4 次 → 合并后 2 次，压减 50.0%" in page and "达标（目标 ≥ 50%）" in page
    r = c.get(f"/burden/export.xlsx?year={YEAR}")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    rows = list(wb["按乡镇"].iter_rows(values_only=True))
    assert rows[1][0] == "名称" and rows[1][1] == "按申报·实地次数"
    by_name = {row[0]: row for row in rows[2:]}
    assert by_name["东河镇"][1] == 2 and by_name["东河镇"][11] == 1 and by_name["合计"][1] == 4
    assert "达标" in str(list(wb["口径说明"].iter_rows(values_only=True))[1][1])
    body = c.get(f"/api/v1/burden?county={tree.county.code}&year={YEAR}").json()
    assert (
        body["headline"]["visits_cut"] == 0.5 and body["headline"]["met"] is True and len(body["rules"]) >= 5
    )
    towns = c.get(f"/api/v1/burden/townships?county={tree.county.code}&year={YEAR}&page_size=1").json()
    assert towns["count"] == 2 and len(towns["items"]) == 1
    depts = c.get(f"/api/v1/burden/departments?county={tree.county.code}&year={YEAR}").json()
    assert {d["name"] for d in depts["items"]} >= {"县住房和城乡建设局", "县应急管理局"}
    r = c.get(f"/api/v1/burden?county={tree.county.code}&year=abc")
    assert r.status_code == 422
    r = _client(users["resident"]).get(f"/api/v1/burden?county={tree.county.code}&year={YEAR}")
    assert r.status_code == 403 and set(json.loads(r.content)) == {"code", "message", "detail"}


def test_ledger_query_count_is_bounded(users: Any, tree: Any, django_assert_max_num_queries: Any) -> None:
    r = run(tree.county)
    for i in range(40):
        a = item(
            tree.dept, topic=f"事项{i}", targets=[tree.t1, tree.t2], data_fields=[{"label": "x", "ref": None}]
        )
        b = item(tree.dept2, topic=f"另{i}", all_townships=True)
        visit(r, tree.t1, tree.dept, [a, b])
    c = _client(users["county_office"])
    with django_assert_max_num_queries(30):
        assert c.get(f"/burden/?year={YEAR}").status_code == 200


def test_undecided_items_are_left_out_of_both_sides_of_the_cut(
    users: Any, tree: Any, year_of_plans: Any
) -> None:
    """A department whose items all await a decision (pending, or returned and not resubmitted) shows no cut, and
    the county headline does not count them as cut; refused and withdrawn items stay as filed (burden removed)."""
    from gongzhi.core.models import Department, DepartmentKind

    wl = Department.objects.create(county=tree.county, name="县文化和旅游局", kind=DepartmentKind.FUNCTIONAL)
    item(wl, topic="文旅检查", targets=[tree.t1, tree.t2], hours=2, status=ItemStatus.PENDING)
    item(wl, topic="文旅复查", targets=[tree.t1], hours=3, status=ItemStatus.RETURNED)
    item(wl, topic="文旅远程", targets=[tree.t2], hours=1, mode=Mode.REMOTE, status=ItemStatus.PENDING)
    svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR, exact_reference=False)
    led = lg.build_ledger(user=users["county_office"], county=tree.county, year=YEAR)
    w = _by_name(led.departments)["县文化和旅游局"]
    assert w.merged is not None
    # Filed keeps what was asked; the three items are shown as 待审核 and nothing of them is "cut".
    assert (w.filed.visits, w.pending.visits, w.pending.hours) == (3, 3, Decimal(8))
    assert (w.reviewed.visits, w.merged.visits) == (0, 0)
    assert w.decided.visits == 0 and w.visits_cut is None and w.hours_cut is None and w.met is None
    # The county: 4 decided on-site visits as filed (one refused) → 2 after merging, as without the pending items.
    head = led.headline()
    assert (head["visits_filed"], head["visits_pending"], head["visits_decided"]) == (7, 3, 4)
    assert head["visits_merged"] == 2 and head["visits_cut"] == 0.5
    assert head["hours_pending"] == 8.0 and head["hours_decided"] == 18.0
    assert head["hours_cut"] == (18 - 11.5) / 18  # t1 5.5 h + t2 4 h + c 2 h remote after merging
    t1 = _by_name(led.townships)["东河镇"]
    assert (t1.filed.visits, t1.pending.visits, t1.visits_cut) == (4, 2, 0.5)
    # Once decided, the item counts: refused is burden removed, approved is still asked.
    from gongzhi.inspections.models import InspectionItem

    InspectionItem.objects.filter(plan__department=wl, topic="文旅复查").update(status=ItemStatus.REFUSED)
    led = lg.build_ledger(user=users["county_office"], county=tree.county, year=YEAR)
    w = _by_name(led.departments)["县文化和旅游局"]
    assert (w.pending.visits, w.decided.visits, w.visits_cut) == (2, 1, 1.0)
    assert led.headline()["visits_decided"] == 5 and led.headline()["visits_cut"] == 0.6
    # A withdrawn item is decided too (the department took it back).
    InspectionItem.objects.filter(plan__department=wl, topic="文旅检查").update(status=ItemStatus.WITHDRAWN)
    led = lg.build_ledger(user=users["county_office"], county=tree.county, year=YEAR)
    assert led.headline()["visits_pending"] == 0 and led.headline()["visits_decided"] == 7
    # The page says so, with the rule, and the departments' share column is labelled 折算.
    page = _client(users["county_office"]).get(f"/burden/?year={YEAR}").content.decode()
    assert "按申报 7 次 → 合并后 2 次" in page and "合并后（折算）" in page and "待审核：" in page


def test_pending_items_shown_on_the_page_and_export(users: Any, tree: Any, year_of_plans: Any) -> None:
    item(tree.dept, topic="待定", targets=[tree.t1], hours=2, status=ItemStatus.PENDING)
    svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR, exact_reference=False)
    c = _client(users["county_office"])
    page = c.get(f"/burden/?year={YEAR}").content.decode()
    # 5 on-site visits filed, one awaiting a decision: the cut is 4 → 2, not 5 → 2.
    assert (
        "按申报 4 次 → 合并后 2 次，压减 50.0%" in page and "另有 1 次实地督查检查（2.0 小时）待审核" in page
    )
    wb = load_workbook(io.BytesIO(c.get(f"/burden/export.xlsx?year={YEAR}").content))
    rows = list(wb["按乡镇"].iter_rows(values_only=True))
    i = rows[1].index("待审核·实地次数")
    by_name = {row[0]: row for row in rows[2:]}
    assert by_name["东河镇"][i] == 1 and by_name["城关街道"][i] == 0 and by_name["合计"][i] == 1
    assert by_name["合计"][rows[1].index("实地次数压减比例")] == 0.5
    assert "合并后·实地次数（折算）" in list(wb["按部门"].iter_rows(values_only=True))[1]
    body = c.get(f"/api/v1/burden?county={tree.county.code}&year={YEAR}").json()
    assert body["headline"]["visits_cut"] == 0.5  # the API follows the same rule
    # ... and says what it left out, in the headline and on every row.
    h = body["headline"]
    assert (h["visits_pending"], h["visits_decided"]) == (1, h["visits_filed"] - 1)
    assert body["total"]["pending"]["visits"] == 1
    towns = c.get(f"/api/v1/burden/townships?county={tree.county.code}&year={YEAR}").json()
    assert {t["name"]: t["pending"]["visits"] for t in towns["items"]} == {"东河镇": 1, "城关街道": 0}


def test_headline_and_township_table_show_the_same_materials(
    users: Any, tree: Any, year_of_plans: Any
) -> None:
    """A township's headline and its table row give the same three material figures (decided as filed → after
    review → after merging), so the two never disagree for the same township."""
    item(
        tree.dept,
        topic="待定",
        targets=[tree.t1],
        materials=[{"name": "方案", "basis": ""}],
        status="pending",
    )
    svc.merge_run(actor=users["county_office"], county=tree.county, year=YEAR, exact_reference=False)
    page = _client(users["township_staff"]).get(f"/burden/?year={YEAR}").content.decode()
    # 东河镇: a (台账, 照片) + b (台账) decided = 3; 照片 struck → 2; 台账 handed over once in the joint visit → 1.
    assert "索要材料 3 → 审核后 2（留痕材料已删去）→ 合并后 1" in page
    assert "<td>3 → 2 → 1</td>" in page


def test_counting_rules_are_translated_in_english(users: Any, tree: Any) -> None:
    """Every 口径说明 rule reads in English, the one with "50%" in it too ({% translate var %} missed it)."""
    c = _client(users["county_office"])
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = c.get(f"/burden/?year={YEAR}").content.decode()
    rules = page[page.index('id="rules"') :]
    rules = rules[: rules.index("</details>")]
    assert "Cut: the reduction in on-site visits" in rules
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in rules), rules
