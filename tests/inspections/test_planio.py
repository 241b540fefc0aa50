"""Plan import and export: synonyms, dates in every shape, townships by name, errors with sheet/row/column for
every bad input of issue 4, all or nothing, and an export that re-imports to the same items."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from gongzhi.core.errors import PermissionDeniedError
from gongzhi.core.imports import ImportFailed
from gongzhi.core.models import AuditEvent
from gongzhi.inspections import planio, plans
from gongzhi.inspections.models import InspectionItem, InspectionPlan, InspectionTarget

from .factories import YEAR, dept2_staff, make_plan

HEAD = [
    "序号",
    "事项类型",
    "是否综合性",
    "督查检查考核事项",
    "依据",
    "检查对象",
    "开始时间",
    "截止时间",
    "检查方式",
    "乡镇工时",
    "所需材料",
    "数据需求",
]


def xlsx(rows: list[list[Any]], header: list[str] | None = HEAD, title: str = "计划") -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    ws.append(["共治县住房和城乡建设局2026年度督查检查考核计划"])  # a title row above the header
    if header:
        ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def good_rows() -> list[list[Any]]:
    return [
        [
            1,
            "检查",
            "否",
            "建筑工地安全生产检查",
            "《建设工程安全生产管理条例》",
            "东河镇、城关街道",
            dt.date(YEAR, 3, 1),
            f"{YEAR}年4月30日",
            "实地",
            4,
            "安全生产台账、现场照片（依据：《安全生产法》第二十二条、第三十八条）",
            "常住人口、耕地面积",
        ],
        [
            2,
            "督查",
            "是",
            "住建领域综合督查",
            "",
            "全部乡镇",
            f"{YEAR}.6.1",
            f"{YEAR}/6/30",
            "实地",
            "8小时",
            "",
            "",
        ],
        [
            3,
            "考核",
            "",
            "农村危房改造年度考核",
            "",
            "东河",
            f"{YEAR}-11-01",
            float((dt.date(YEAR, 11, 30) - dt.date(1899, 12, 30)).days),
            "线上",
            2.5,
            "",
            "",
        ],
    ]


def refused(message: str, **kw: Any) -> ImportFailed:
    """Run the import expecting a refusal whose errors mention ``message`` (a regular expression)."""
    with pytest.raises(ImportFailed) as e:
        planio.import_plans(**kw)
    text = " ".join(x.message for x in e.value.errors)
    assert re.search(message, text), text
    return e.value


def errors_of(exc: ImportFailed) -> list[tuple[str, int | None, str, str]]:
    return [(e.sheet, e.row, e.column, e.message) for e in exc.errors]


def test_import_with_synonyms_and_every_date_shape(users: Any, tree: Any) -> None:
    result = planio.import_plans(
        actor=users["department_staff"], file_name="计划.xlsx", data=xlsx(good_rows()), year=YEAR
    )
    assert result.items == 3 and len(result.plans) == 1
    plan = InspectionPlan.objects.get(pk=result.plans[0].plan_id)
    assert (plan.department, plan.year, plan.status) == (tree.dept, YEAR, "draft")
    a, b, c = plan.items.order_by("seq")
    assert (a.kind, a.comprehensive, a.mode, a.window_start, a.window_end) == (
        "inspection",
        False,
        "onsite",
        dt.date(YEAR, 3, 1),
        dt.date(YEAR, 4, 30),
    )
    assert set(InspectionTarget.objects.filter(item=a).values_list("township_id", flat=True)) == {
        tree.t1.pk,
        tree.t2.pk,
    }
    assert a.materials[1] == {"name": "现场照片", "basis": "《安全生产法》第二十二条、第三十八条"}
    assert [d["label"] for d in a.data_fields] == ["常住人口", "耕地面积"]
    assert (b.kind, b.comprehensive, b.all_townships, float(b.township_hours)) == (
        "supervision",
        True,
        True,
        8.0,
    )
    assert (b.window_start, b.window_end) == (dt.date(YEAR, 6, 1), dt.date(YEAR, 6, 30))
    assert (c.kind, c.mode, c.window_end) == ("assessment", "remote", dt.date(YEAR, 11, 30))
    assert list(InspectionTarget.objects.filter(item=c).values_list("township_id", flat=True)) == [tree.t1.pk]
    ev = AuditEvent.objects.get(action="inspection_plan.import")
    assert ev.data["items"] == 3 and ev.data["sha256"] == result.sha256


def test_csv_in_gbk_with_a_window_column_and_department_column(users: Any, tree: Any) -> None:
    text = (
        "部门,年度,类型,事项名称,对象乡镇,起止日期,方式,预计占用乡镇工时（小时/乡镇）\n"
        f"县住房和城乡建设局,{YEAR},检查,燃气安全检查,城关街道,{YEAR}-05-01至{YEAR}-05-31,非现场,1\n"
        f"住房和城乡建设局,{YEAR}年,检查,物业消防检查,全部乡镇,{YEAR}-07-01 - {YEAR}-07-15,,\n"
    )
    result = planio.import_plans(
        actor=users["department_staff"], file_name="plan.csv", data=text.encode("gb18030")
    )
    assert result.items == 2
    a, b = InspectionItem.objects.order_by("seq")
    assert (a.window_start, a.window_end, a.mode) == (dt.date(YEAR, 5, 1), dt.date(YEAR, 5, 31), "remote")
    assert (b.window_end, b.mode, float(b.township_hours)) == (dt.date(YEAR, 7, 15), "onsite", 0.0)


def test_missing_columns(users: Any, tree: Any) -> None:
    data = xlsx([["检查", "燃气检查", "2026-01-01"]], header=["类型", "事项名称", "开始日期"])
    with pytest.raises(ImportFailed) as e:
        planio.import_plans(actor=users["department_staff"], file_name="p.xlsx", data=data, year=YEAR)
    errs = errors_of(e.value)
    assert ("计划", 2, "对象乡镇", "缺少必填列「对象乡镇」") in errs
    assert any(col == "结束日期" and "缺少必填列" in msg for _s, _r, col, msg in errs)
    assert "未写入任何数据" in e.value.message
    assert not InspectionPlan.objects.exists()


def test_no_header_at_all(users: Any, tree: Any) -> None:
    refused(
        "找不到计划表头", actor=users["department_staff"], file_name="p.csv", data=b"a,b\n1,2\n", year=YEAR
    )


def test_wrong_types_and_bad_values_each_named(users: Any, tree: Any) -> None:
    rows = good_rows()
    rows[0][6] = "三月下旬"  # start date
    rows[0][9] = "半天"  # hours
    rows[1][2] = "也许"  # comprehensive
    rows[1][1] = "巡查"  # kind
    rows[2][7] = True  # end date as a boolean cell
    rows.append(
        [4, "检查", "否", "消防检查", "", "东河镇", f"{YEAR}-09-30", f"{YEAR}-09-01", "实地", 1, "", ""]
    )
    rows.append([5, "检查", "否", "", "", "东河镇", None, None, "骑马", 1, "", ""])
    with pytest.raises(ImportFailed) as e:
        planio.import_plans(actor=users["department_staff"], file_name="p.xlsx", data=xlsx(rows), year=YEAR)
    errs = {(r, c): m for _s, r, c, m in errors_of(e.value)}
    assert "三月下旬" in errs[(3, "开始时间")]
    assert "必须是数字" in errs[(3, "乡镇工时")]
    assert "也许" in errs[(4, "是否综合性")]
    assert "逻辑值" in errs[(5, "截止时间")]
    assert "早于开始日期" in errs[(6, "截止时间")]
    assert "请填写事项名称" in errs[(7, "督查检查考核事项")]
    assert "开始日期为空" in errs[(7, "开始时间")] and "结束日期为空" in errs[(7, "截止时间")]
    assert "方式「骑马」无效" in errs[(7, "检查方式")]
    assert (
        not InspectionPlan.objects.exists()
        and not AuditEvent.objects.filter(action="inspection_plan.import").exists()
    )
    # The kind error of row 4 is reported after its cell problems are fixed.
    rows = good_rows()
    rows[1][1] = "巡查"
    with pytest.raises(ImportFailed) as e2:
        planio.import_plans(actor=users["department_staff"], file_name="p.xlsx", data=xlsx(rows), year=YEAR)
    assert errors_of(e2.value) == [("计划", 4, "事项类型", "类型「巡查」无效，应为督查、检查或考核")]


def test_unknown_townships_departments_and_other_county(users: Any, tree: Any) -> None:
    head = ["部门", *HEAD]
    base = good_rows()[0]
    rows = [
        ["县住房和城乡建设局", *base[:5], "西山乡", *base[6:]],
        ["县住房和城乡建设局", *base[:5], "东河镇，邻镇", *base[6:]],
        ["县教育局", *base],
        ["县应急管理局", *base],
        ["县委县政府办公室", *base],
        ["县住房和城乡建设局", *base[:6], dt.date(YEAR - 1, 3, 1), *base[7:]],
    ]
    with pytest.raises(ImportFailed) as e:
        planio.import_plans(
            actor=users["department_staff"], file_name="p.xlsx", data=xlsx(rows, header=head), year=YEAR
        )
    errs = {(r, c): m for _s, r, c, m in errors_of(e.value)}
    assert "西山乡" in errs[(3, "检查对象")] and "不在共治县" in errs[(3, "检查对象")]
    assert errs[(4, "检查对象")] == "「邻镇」不是共治县的乡镇，不能列为本县计划的对象"
    assert "部门「县教育局」不存在" in errs[(5, "部门")]
    assert "您不能为「县应急管理局」报送计划" in errs[(6, "部门")]
    assert "不是县直部门" in errs[(7, "部门")]
    assert f"都应在 {YEAR} 年内" in errs[(8, "开始时间")]
    assert InspectionItem.objects.count() == 0


def test_filed_plan_is_not_replaced(users: Any, tree: Any) -> None:
    plan = make_plan(users["department_staff"], tree.dept, filed=True)
    with pytest.raises(ImportFailed) as e:
        planio.import_plans(
            actor=users["department_staff"], file_name="p.xlsx", data=xlsx(good_rows()), year=YEAR
        )
    assert "已于" in e.value.errors[0].message and "一事一报" in e.value.errors[0].message
    assert plan.items.count() == 1


def test_draft_is_replaced_by_the_file(users: Any, tree: Any) -> None:
    plan = make_plan(users["department_staff"], tree.dept, items=[{}, {"topic": "旧事项"}])
    result = planio.import_plans(
        actor=users["department_staff"], file_name="p.xlsx", data=xlsx(good_rows()), year=YEAR
    )
    assert result.plans[0].plan_id == plan.pk and result.plans[0].replaced == 2
    assert list(plan.items.order_by("seq").values_list("topic", flat=True)) == [
        "建筑工地安全生产检查",
        "住建领域综合督查",
        "农村危房改造年度考核",
    ]


def test_year_and_department_are_needed(users: Any, tree: Any) -> None:
    refused("年度", actor=users["department_staff"], file_name="p.xlsx", data=xlsx(good_rows()))
    admin = users["admin"]
    with pytest.raises(ImportFailed) as e:
        planio.import_plans(actor=admin, file_name="p.xlsx", data=xlsx(good_rows()), year=YEAR)
    assert "部门" in e.value.errors[0].message
    result = planio.import_plans(
        actor=admin, file_name="p.xlsx", data=xlsx(good_rows()), year=YEAR, department_id=tree.dept2.pk
    )
    assert InspectionPlan.objects.get(pk=result.plans[0].plan_id).department == tree.dept2


def test_only_department_staff_import(users: Any, tree: Any) -> None:
    for role in ("county_office", "township_leader", "resident"):
        with pytest.raises(PermissionDeniedError):
            planio.import_plans(actor=users[role], file_name="p.xlsx", data=xlsx(good_rows()), year=YEAR)
    with pytest.raises(PermissionDeniedError):
        planio.import_plans(
            actor=users["department_staff"],
            file_name="p.xlsx",
            data=xlsx(good_rows()),
            year=YEAR,
            department_id=tree.dept2.pk,
        )


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("p.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 100, "旧版 .xls"),
        ("p.xlsx", b"PK\x03\x04not a zip", "不是有效的 Excel 工作簿"),
        ("p.xlsx", b"hello", "不是有效的 Excel 工作簿"),
        ("p.pdf", b"%PDF", "只支持"),
        ("p.csv", b"", "文件为空"),
    ],
)
def test_bad_files(users: Any, tree: Any, name: str, data: bytes, message: str) -> None:
    refused(message, actor=users["department_staff"], file_name=name, data=data, year=YEAR)


def test_export_reimports_to_the_same_items(users: Any, tree: Any) -> None:
    staff = users["department_staff"]
    planio.import_plans(actor=staff, file_name="p.xlsx", data=xlsx(good_rows()), year=YEAR)
    plan = InspectionPlan.objects.get()
    # Text that a spreadsheet would evaluate stays text.
    plans.item_create(
        actor=staff,
        plan_id=plan.pk,
        data=plans.ItemInput(
            kind="检查",
            topic='=HYPERLINK("http://x")',
            window_start=dt.date(YEAR, 1, 1),
            window_end=dt.date(YEAR, 1, 2),
            all_townships=True,
        ),
    )

    def snapshot() -> list[tuple[Any, ...]]:
        out = []
        for i in InspectionItem.objects.filter(plan=plan).order_by("seq"):
            t = sorted(InspectionTarget.objects.filter(item=i).values_list("township_id", flat=True))
            out.append(
                (
                    i.seq,
                    i.kind,
                    i.comprehensive,
                    i.topic,
                    i.basis,
                    i.all_townships,
                    t,
                    i.window_start,
                    i.window_end,
                    i.mode,
                    i.township_hours,
                    i.materials,
                    i.data_fields,
                )
            )
        return out

    before = snapshot()
    data = planio.export_plans([plan], with_codes=lambda p: True)
    ws = load_workbook(io.BytesIO(data)).active
    assert ws is not None
    assert ws.cell(5, 6).value == '=HYPERLINK("http://x")' and ws.cell(5, 6).data_type == "s"
    assert isinstance(ws.cell(2, 9).value, dt.datetime)
    result = planio.import_plans(actor=staff, file_name="export.xlsx", data=data)
    assert result.plans[0].plan_id == plan.pk and result.plans[0].replaced == 4
    assert snapshot() == before


def test_template_has_the_columns(users: Any, tree: Any) -> None:
    wb = load_workbook(io.BytesIO(planio.template_workbook()))
    header = [c.value for c in wb.worksheets[0][1]]
    assert "事项名称" in header and "对象乡镇" in header and "开始日期" in header
    # An empty template imports as "no items", not as a crash.
    refused(
        "没有事项",
        actor=users["department_staff"],
        file_name="t.xlsx",
        data=planio.template_workbook(),
        year=YEAR,
    )


def test_ambiguous_short_township_name(users: Any, tree: Any) -> None:
    from tests.factories import UnitFactory

    UnitFactory(code="990102003000", name="东河乡", level="township", kind="乡", parent=tree.county)
    rows = good_rows()[2:]
    refused("对应多个乡镇", actor=users["department_staff"], file_name="p.xlsx", data=xlsx(rows), year=YEAR)
    rows[0][5] = "东河乡"
    assert (
        planio.import_plans(
            actor=users["department_staff"], file_name="p.xlsx", data=xlsx(rows), year=YEAR
        ).items
        == 1
    )


def test_other_department_staff_import_their_own(users: Any, tree: Any) -> None:
    other = dept2_staff(tree)
    result = planio.import_plans(actor=other, file_name="p.xlsx", data=xlsx(good_rows()), year=YEAR)
    assert InspectionPlan.objects.get(pk=result.plans[0].plan_id).department == tree.dept2
