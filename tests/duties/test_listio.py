"""Duty list import/export in the official shape: real .xlsx files built with openpyxl in several provinces' shapes,
real CSV bytes, the bulk writer's versioning and lineage, every kind of bad input (nothing written), permissions,
and the confirm-mapping flow through the Django test client."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import openpyxl
import pytest
from django.urls import reverse

from gongzhi.core.errors import PermissionDeniedError, ServiceError
from gongzhi.core.models import AuditEvent, DepartmentKind
from gongzhi.duties.listio import (
    ImportFailed,
    ItemData,
    MappingUnsure,
    export_duty_list,
    guess_workbook,
    import_duty_lists,
    mapping_of,
    parse_category,
    printed_number,
    publish_lists,
    read_workbook,
    stored_number,
    template_workbook,
)
from gongzhi.duties.models import DutyItem, DutyItemAssist, DutyList, ListStatus
from tests.factories import DepartmentFactory, cadre

D1 = date(2025, 1, 1)
D2 = date(2025, 7, 1)


@pytest.fixture(autouse=True)
def _pending_uploads_in_tmp(settings: Any, tmp_path: Any) -> None:
    """Uploads kept for the confirm step go to a per-test directory, not the shared data directory."""
    settings.DUTY_IMPORT_TMP_DIR = str(tmp_path / "pending")


# --- workbook builders -------------------------------------------------------------------------------------------


def book(sheets: dict[str, list[list[Any]]], merges: dict[str, list[str]] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        for rng in (merges or {}).get(name, []):
            ws.merge_cells(rng)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8-sig") -> bytes:
    import csv

    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def zhejiang_shape(township: str = "东河镇") -> tuple[bytes, dict[str, Any]]:
    """Title row merged across, a note row, a two-row header (职责分工 over 乡镇职责/部门职责, 依据 over 法律法规依据/
    政策依据), a 领域 column merged down, section rows spanning the table, empty rows, one sheet per category."""
    head1 = ["序号", "领域", "事项名称", "具体内容", "牵头部门", "配合部门", "职责分工", None, "依据", None]
    head2 = [None, None, None, None, None, None, "乡镇职责", "部门职责", "法律法规依据", "政策依据"]
    basic = [
        [f"{township}履行职责事项清单"],
        ["（基本履职事项，共 3 项）"],
        head1,
        head2,
        ["一、党的建设"],
        [
            1,
            "党的建设",
            "基层党组织建设",
            "加强村（社区）党组织建设",
            None,
            "县委组织部",
            "组织实施",
            "指导",
            "《中国共产党章程》",
            "党建文件",
        ],
        [
            2,
            None,
            "党员教育管理",
            "组织党员学习",
            None,
            None,
            "组织实施",
            "",
            "《党员教育管理工作条例》",
            None,
        ],
        [None, None, None, None, None, None, None, None, None, None],
        ["二、平安建设"],
        [
            3,
            "平安建设",
            "安全生产巡查",
            "开展辖区安全生产巡查",
            None,
            "应急局、住建局",
            "巡查上报",
            "执法处置",
            "《安全生产法》",
            None,
        ],
    ]
    coop = [
        [f"{township}配合履职事项清单"],
        ["序号", "事项名称", "对应上级部门", "上级部门职责", "镇街配合职责", "依据"],
        [
            1,
            "农村危房改造",
            "县住房和城乡建设局",
            "组织实施危房改造",
            "排查上报",
            "《住房城乡建设部关于农村危房改造的通知》",
        ],
        [2, "森林防火", "应急局", "统筹指挥", "巡护宣传", ""],
    ]
    reclaimed = [
        [f"{township}上级部门收回事项清单"],
        ["序号", "事项名称", "收回部门", "工作方式", "备注"],
        [1, "建筑施工许可", "住建局", "由县住建局直接办理", ""],
    ]
    data = book(
        {"基本履职事项清单": basic, "配合履职事项清单": coop, "上级部门收回事项清单": reclaimed},
        {
            "基本履职事项清单": [
                "A1:J1",
                "A2:J2",
                "A3:A4",
                "B3:B4",
                "C3:C4",
                "D3:D4",
                "E3:E4",
                "F3:F4",
                "G3:H3",
                "I3:J3",
                "A5:J5",
                "B6:B7",
                "A9:J9",
            ],
            "配合履职事项清单": ["A1:F1"],
            "上级部门收回事项清单": ["A1:E1"],
        },
    )
    return data, {"basic": 3, "cooperative": 2, "reclaimed": 1}


def category_column_rows() -> list[list[Any]]:
    return [
        ["序号", "事项类别", "事项名称", "具体内容", "牵头部门", "配合部门", "依据"],
        [1, "基本履职事项", "村规民约制定", "指导制定村规民约", "", "县民政局", "《村民委员会组织法》"],
        [2, "基本履职事项", "人居环境整治", "组织开展环境整治", "", "", ""],
        [1, "配合履职事项", "耕地保护", "配合开展耕地保护巡查", "县自然资源局", "", ""],
        [1, "上级部门收回事项", "燃气经营许可", "", "", "", ""],
    ]


def setup_departments(tree: Any) -> None:
    tree.dept.short_name = "住建局"
    tree.dept.save()
    tree.dept2.short_name = "应急局"
    tree.dept2.save()
    DepartmentFactory(county=tree.county, name="县民政局", short_name="民政局")
    DepartmentFactory(county=tree.county, name="县自然资源局", short_name="自然资源局")


def snapshot() -> tuple[int, int, int, int, list[Any]]:
    return (
        DutyList.objects.count(),
        DutyItem.objects.count(),
        DutyItemAssist.objects.count(),
        AuditEvent.objects.count(),
        sorted(DutyList.objects.values_list("id", "status", "effective_to")),
    )


def items_of(dl: DutyList) -> list[tuple[Any, ...]]:
    out = []
    for it in DutyItem.objects.filter(duty_list=dl).order_by("position"):
        assisting = sorted(DutyItemAssist.objects.filter(item=it).values_list("department__name", flat=True))
        out.append(
            (
                it.category,
                it.number,
                it.name,
                it.content,
                it.basis,
                it.lead_department.name if it.lead_department else "",
                tuple(assisting),
                it.township_part,
                it.department_part,
                it.reclaimed_by.name if it.reclaimed_by else "",
                it.current_practice,
                it.power_department.name if it.power_department else "",
            )
        )
    return out


def run(users: dict[str, Any], tree: Any, data: bytes, name: str = "清单.xlsx", **kw: Any) -> Any:
    kw.setdefault("township", tree.t1)
    kw.setdefault("effective_from", D1)
    return import_duty_lists(
        actor=users["staffing_office"], file_name=name, data=data, county=tree.county, **kw
    )


# --- helpers -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("基本履职事项清单", "basic"),
        ("一、基本履职事项", "basic"),
        ("配合履职事项（99项）", "cooperative"),
        ("上级部门收回事项清单", "reclaimed"),
        ("收回事项", "reclaimed"),
        ("（三）基本公共服务", None),
        ("一、党的建设", None),
        ("东河镇履行职责事项清单", None),
        ("特殊履职事项", None),
    ],
)
def test_parse_category(text: str, expected: str | None) -> None:
    assert parse_category(text) == expected


def test_numbers_are_prefixed_once() -> None:
    assert stored_number("basic", "12") == "基本-12"
    assert stored_number("basic", "基本-12") == "基本-12"
    assert stored_number("reclaimed", "3") == "收回-3"
    assert printed_number("cooperative", "配合-7") == "7"


# --- import: shapes ----------------------------------------------------------------------------------------------


def test_zhejiang_shape_title_merges_two_row_header_sections(tree, users) -> None:
    setup_departments(tree)
    data, expected = zhejiang_shape()
    guesses = guess_workbook(read_workbook("x.xlsx", data))
    assert all(g.sure for g in guesses), [p.text() for g in guesses for p in g.problems]
    result = run(users, tree, data)
    (lc,) = result.lists
    assert lc.counts == expected
    dl = DutyList.objects.get(pk=lc.list_id)
    assert (dl.owner_id, dl.version, dl.status, dl.effective_from) == (tree.t1.pk, 1, "published", D1)
    items = {i[2]: i for i in items_of(dl)}
    assert set(items) == {
        "基层党组织建设",
        "党员教育管理",
        "安全生产巡查",
        "农村危房改造",
        "森林防火",
        "建筑施工许可",
    }
    first = items["基层党组织建设"]
    assert first[:5] == (
        "basic",
        "基本-1",
        "基层党组织建设",
        "加强村（社区）党组织建设",
        "《中国共产党章程》\n党建文件",
    )
    assert first[6] == ("县委组织部",) and first[7:9] == ("组织实施", "指导")
    # Short names and a missing leading 县 resolve through the registry; several departments split on 、.
    assert items["安全生产巡查"][6] == ("县住房和城乡建设局", "县应急管理局")
    coop = items["农村危房改造"]
    assert coop[:2] == ("cooperative", "配合-1") and coop[5] == "县住房和城乡建设局"
    assert coop[7:9] == ("排查上报", "组织实施危房改造")
    assert items["森林防火"][5] == "县应急管理局"
    rec = items["建筑施工许可"]
    assert rec[:2] == ("reclaimed", "收回-1") and rec[9:11] == ("县住房和城乡建设局", "由县住建局直接办理")
    # Positions: basic, then cooperative, then reclaimed, in file order.
    assert [i[0] for i in items_of(dl)] == ["basic"] * 3 + ["cooperative"] * 2 + ["reclaimed"]
    ev = AuditEvent.objects.get(action="duty_list.publish")
    assert ev.object_id == str(dl.pk)
    assert ev.data["owner"] == "东河镇" and ev.data["version"] == 1
    assert ev.data["counts"] == expected


def test_one_sheet_with_category_column_xlsx_and_gbk_csv(tree, users) -> None:
    setup_departments(tree)
    rows = category_column_rows()
    r1 = run(users, tree, book({"Sheet1": rows}))
    assert r1.lists[0].counts == {"basic": 2, "cooperative": 1, "reclaimed": 1}
    r2 = run(users, tree, csv_bytes(rows, "gbk"), name="清单.csv", effective_from=D2)
    assert r2.lists[0].counts == {"basic": 2, "cooperative": 1, "reclaimed": 1}
    old, new = DutyList.objects.get(pk=r1.lists[0].list_id), DutyList.objects.get(pk=r2.lists[0].list_id)
    assert items_of(old) == items_of(new)
    numbers = [i[1] for i in items_of(new)]
    assert numbers == ["基本-1", "基本-2", "配合-1", "收回-1"]  # the same printed 1 in three parts


def test_township_column_two_townships_by_name_and_code(tree, users) -> None:
    setup_departments(tree)
    head = ["乡镇（街道）", "序号", "事项名称", "对应上级部门", "镇街配合职责"]
    coop = [
        head,
        ["东河镇", 1, "耕地保护", "自然资源局", "巡查"],
        [tree.t2.code, 1, "耕地保护", "自然资源局", "巡查"],
    ]
    basic = [
        ["乡镇（街道）", "序号", "事项名称"],
        ["东河镇", 1, "村务公开"],
        ["东河镇", 2, "民主评议"],
        ["城关街道", 1, "社区治理"],
    ]
    result = run(users, tree, book({"基本履职事项": basic, "配合履职事项": coop}), township=None)
    by_name = {lc.owner_name: lc.counts for lc in result.lists}
    assert by_name == {
        "东河镇": {"basic": 2, "cooperative": 1, "reclaimed": 0},
        "城关街道": {"basic": 1, "cooperative": 1, "reclaimed": 0},
    }
    assert AuditEvent.objects.filter(action="duty_list.publish").count() == 2


def test_section_rows_name_the_category_in_a_single_sheet(tree, users) -> None:
    rows = [
        ["东河镇履行职责事项清单"],
        ["序号", "事项名称", "具体内容"],
        ["一、基本履职事项（2项）"],
        [1, "村务公开", "公开村务"],
        [2, "民主评议", ""],
        ["二、上级部门收回事项"],
        [1, "燃气经营许可", ""],
    ]
    result = run(users, tree, book({"清单": rows}, {"清单": ["A1:C1", "A3:C3", "A6:C6"]}), township=None)
    # No township chosen and no 乡镇 column: the title names the township.
    assert result.lists[0].owner_name == "东河镇"
    assert result.lists[0].counts == {"basic": 2, "cooperative": 0, "reclaimed": 1}


def test_template_blank_rows_and_county_template_owner(tree, users) -> None:
    rows = [["序号", "事项名称"], [1, "村务公开"], [2, None], [3, None]]  # numbered blank rows are skipped
    result = run(users, tree, book({"基本履职事项": rows}), township=tree.county)
    dl = DutyList.objects.get(pk=result.lists[0].list_id)
    assert dl.is_template and dl.owner_id == tree.county.pk
    assert result.lists[0].counts["basic"] == 1


# --- round trip, versions, lineage -------------------------------------------------------------------------------


def test_export_round_trip_and_versioning(tree, users) -> None:
    setup_departments(tree)
    data, _ = zhejiang_shape()
    r1 = run(users, tree, data)
    v1 = DutyList.objects.get(pk=r1.lists[0].list_id)
    exported = export_duty_list(v1)
    wb = openpyxl.load_workbook(io.BytesIO(exported))
    assert wb.sheetnames == ["基本履职事项", "配合履职事项", "上级部门收回事项"]
    ws = wb["配合履职事项"]
    assert ws["A1"].value == "东河镇履行职责事项清单" and "A1:" in str(ws.merged_cells)
    assert [c.value for c in ws[3]][:6] == [
        "序号",
        "事项名称",
        "具体内容",
        "对应上级部门",
        "上级部门职责",
        "镇街配合职责",
    ]
    assert [c.value for c in wb["上级部门收回事项"][3]][:5] == [
        "序号",
        "事项名称",
        "具体内容",
        "承接部门",
        "工作方式",
    ]

    r2 = run(users, tree, exported, name="导出.xlsx", effective_from=D2)
    v2 = DutyList.objects.get(pk=r2.lists[0].list_id)
    assert items_of(v2) == items_of(v1)
    v1.refresh_from_db()
    assert (v1.status, v1.effective_to) == (ListStatus.SUPERSEDED, date(2025, 6, 30))
    assert (v2.version, v2.status) == (2, ListStatus.PUBLISHED)
    assert DutyItem.objects.filter(duty_list=v1).count() == 6  # the old version stays readable
    lineage = dict(DutyItem.objects.filter(duty_list=v1).values_list("name", "lineage"))
    assert dict(DutyItem.objects.filter(duty_list=v2).values_list("name", "lineage")) == lineage
    assert len(set(lineage.values())) == 6


def test_lineage_by_category_and_normalised_name(tree, users) -> None:
    first = [["序号", "事项名称"], [1, "村务公开"], [2, "民主评议"]]
    run(users, tree, book({"基本履职事项": first}))
    v1 = DutyList.objects.get(owner=tree.t1, version=1)
    old = dict(DutyItem.objects.filter(duty_list=v1).values_list("name", "lineage"))
    second = [["序号", "事项名称"], [1, "村务 公开"], [2, "新增事项"]]
    run(users, tree, book({"基本履职事项": second}), effective_from=D2)
    v2 = DutyList.objects.get(owner=tree.t1, version=2)
    new = dict(DutyItem.objects.filter(duty_list=v2).values_list("name", "lineage"))
    assert new["村务 公开"] == old["村务公开"]  # spaces ignored
    assert new["新增事项"] not in old.values()


def test_publish_lists_interface(tree, users) -> None:
    items = [
        ItemData(category="basic", number="1", name="村务公开", lineage="a" * 32),
        ItemData(
            category="cooperative",
            number="1",
            name="耕地保护",
            lead_department_id=tree.dept.pk,
            assisting_ids=(tree.dept2.pk,),
        ),
    ]
    (dl,) = publish_lists(
        actor=users["staffing_office"], lists=[(tree.t1, items)], effective_from=D1, note="手工"
    )
    assert (dl.version, dl.note, dl.county_id, dl.created_by_id) == (
        1,
        "手工",
        tree.county.pk,
        users["staffing_office"].pk,
    )
    got = list(
        DutyItem.objects.filter(duty_list=dl)
        .order_by("position")
        .values_list("number", "lineage", "position")
    )
    assert got[0] == ("基本-1", "a" * 32, 1) and got[1][0] == "配合-1" and len(got[1][1]) == 32
    assert list(DutyItemAssist.objects.values_list("department_id", flat=True)) == [tree.dept2.pk]
    # A department of another county is refused; so are duplicated numbers and a date not after the current one.
    bad = [ItemData(category="basic", number="1", name="x", lead_department_id=tree.dept_b.pk)]
    with pytest.raises(ServiceError, match="引用了邻县的部门"):
        publish_lists(actor=users["admin"], lists=[(tree.t1, bad)], effective_from=D2)
    dup = [
        ItemData(category="basic", number="1", name="x"),
        ItemData(category="basic", number="基本-1", name="y"),
    ]
    with pytest.raises(ServiceError, match="重复"):
        publish_lists(actor=users["admin"], lists=[(tree.t1, dup)], effective_from=D2)
    with pytest.raises(ServiceError, match="须晚于"):
        publish_lists(actor=users["admin"], lists=[(tree.t1, items)], effective_from=D1)
    assert DutyList.objects.count() == 1


# --- bad input: refused whole, nothing written -------------------------------------------------------------------


def refused(
    users: dict[str, Any], tree: Any, data: bytes, name: str = "清单.xlsx", **kw: Any
) -> ImportFailed:
    before = snapshot()
    with pytest.raises(ImportFailed) as info:
        run(users, tree, data, name, **kw)
    assert snapshot() == before
    assert info.value.errors, "a refusal names what is wrong"
    return info.value


@pytest.fixture
def existing(tree: Any, users: dict[str, Any]) -> DutyList:
    """A published list, so that a refused import can be seen not to supersede it."""
    run(users, tree, book({"基本履职事项": [["序号", "事项名称"], [1, "村务公开"]]}))
    return DutyList.objects.get(owner=tree.t1)


def test_missing_required_column(tree, users, existing) -> None:
    e = refused(users, tree, book({"基本履职事项": [["序号", "具体内容"], [1, "内容"]]}))
    assert isinstance(e, MappingUnsure)
    (err,) = [x for x in e.errors if x.column == "事项名称"]
    assert err.sheet == "基本履职事项" and err.row == 1 and "缺少必填列" in err.message


def test_unknown_column(tree, users, existing) -> None:
    e = refused(users, tree, book({"基本履职事项": [["序号", "事项名称", "考核分值"], [1, "村务公开", 5]]}))
    assert isinstance(e, MappingUnsure)
    assert any(x.column == "考核分值" and "未识别" in x.message and x.row == 1 for x in e.errors)


def test_duplicated_number(tree, users, existing) -> None:
    rows = [["序号", "事项名称"], [1, "村务公开"], [2, "民主评议"], [2, "人居环境"]]
    e = refused(users, tree, book({"基本履职事项": rows}), effective_from=D2)
    (err,) = e.errors
    assert (err.sheet, err.row, err.column) == ("基本履职事项", 4, "序号")
    assert "与第 3 行重复" in err.message


def test_empty_name_row_and_merged_rows(tree, users, existing) -> None:
    rows = [
        ["序号", "事项名称", "具体内容"],
        [1, "村务公开", "a"],
        [None, None, "只有内容"],
        [2, "民主评议", "b"],
        [None, None, "c"],
    ]
    e = refused(
        users, tree, book({"基本履职事项": rows}, {"基本履职事项": ["A4:A5", "B4:B5"]}), effective_from=D2
    )
    texts = [x.text() for x in e.errors]
    assert any(x.row == 3 and x.column == "事项名称" and "不能为空" in x.message for x in e.errors), texts
    assert any(x.row == 4 and "合并了第 4–5 行" in x.message for x in e.errors), texts


def test_unknown_department_with_suggestion(tree, users, existing) -> None:
    rows = [["序号", "事项名称", "牵头部门", "配合部门"], [1, "耕地保护", "县住房城乡建设局", "县气象局"]]
    e = refused(users, tree, book({"配合履职事项": rows}), effective_from=D2)
    by_col = {x.column: x for x in e.errors}
    assert by_col["牵头部门"].row == 2 and "县住房和城乡建设局" in by_col["牵头部门"].message
    assert "「县气象局」不在本县部门名录中" in by_col["配合部门"].message


def test_unknown_category(tree, users, existing) -> None:
    setup_departments(tree)
    rows = category_column_rows()
    rows[2][1] = "特殊履职事项"
    e = refused(users, tree, book({"Sheet1": rows}), effective_from=D2)
    (err,) = e.errors
    assert (err.row, err.column) == (3, "事项类别") and "类别「特殊履职事项」无效" in err.message


def test_township_not_in_county(tree, users, existing) -> None:
    rows = [
        ["乡镇", "序号", "事项名称"],
        ["东河镇", 1, "村务公开"],
        ["邻镇", 1, "村务公开"],
        ["990103001000", 2, "x"],
    ]
    e = refused(users, tree, book({"基本履职事项": rows}), township=None, effective_from=D2)
    assert [(x.row, x.column) for x in e.errors] == [(3, "乡镇"), (4, "乡镇")]
    assert "不在共治县范围内" in e.errors[0].message


def test_old_xls_asks_for_xlsx(tree, users, existing) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512
    e = refused(users, tree, ole, name="清单.xls")
    assert "另存为" in e.errors[0].message and ".xlsx" in e.errors[0].message
    e = refused(users, tree, ole, name="清单.xlsx")  # renamed, still an old workbook
    assert ".xls" in e.errors[0].message


def test_file_over_size_limit(tree, users, existing, settings) -> None:
    data, _ = zhejiang_shape()
    settings.DUTY_IMPORT_MAX_BYTES = len(data) - 1
    e = refused(users, tree, data, effective_from=D2)
    assert "超过上限" in e.errors[0].message


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"%PDF-1.7 not a workbook", "清单.xlsx", "不是有效的 Excel"),
        (b"PK\x03\x04garbage", "清单.xlsx", "不是有效的 Excel"),
        (b"\x89PNG\r\n\x1a\n", "清单.png", "只支持"),
    ],
)
def test_not_excel_at_all(tree, users, existing, data, name, words) -> None:
    assert words in refused(users, tree, data, name=name, effective_from=D2).errors[0].message


def test_zip_that_is_not_a_workbook(tree, users, existing) -> None:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    assert "不是 Excel" in refused(users, tree, buf.getvalue(), effective_from=D2).errors[0].message


def test_effective_date_must_follow_current_version(tree, users, existing) -> None:
    e = refused(users, tree, book({"基本履职事项": [["序号", "事项名称"], [1, "新事项"]]}), effective_from=D1)
    assert "须晚于" in e.errors[0].message


def test_errors_are_collected_not_stopped_at_first(tree, users, existing) -> None:
    rows = [["序号", "事项名称", "牵头部门"]] + [[i, f"事项{i}", f"县不存在局{i}"] for i in range(1, 400)]
    e = refused(users, tree, book({"配合履职事项": rows}), effective_from=D2)
    assert len(e.errors) == 200 and e.truncated


# --- confirm mapping ---------------------------------------------------------------------------------------------


def test_unsure_mapping_then_confirmed(tree, users) -> None:
    rows = [["No", "Item", "对口科室"], [1, "村务公开", "x"], [2, "民主评议", "y"]]
    data = csv_bytes(rows)
    with pytest.raises(MappingUnsure) as info:
        run(users, tree, data, name="list.csv")
    (sheet,) = info.value.sheets
    assert [c.key for c in sheet.columns] == ["number", "", ""]
    mapping = mapping_of(info.value.sheets)
    mapping[""]["columns"].update({"1": "name", "2": ""})
    mapping[""]["category"] = "basic"
    result = run(users, tree, data, name="list.csv", mapping=mapping)
    assert result.lists[0].counts["basic"] == 2
    # A confirmed mapping that still lacks a required column is an error, not a question.
    mapping[""]["columns"]["1"] = ""
    with pytest.raises(ImportFailed) as again:
        run(users, tree, data, name="list.csv", mapping=mapping, effective_from=D2)
    assert not isinstance(again.value, MappingUnsure)


# --- permissions -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who", ["county_office", "department_staff", "township_leader", "resident", "discipline"]
)
def test_import_denied(tree, users, who) -> None:
    data, _ = zhejiang_shape()
    before = snapshot()
    with pytest.raises(PermissionDeniedError):
        import_duty_lists(
            actor=users[who],
            file_name="x.xlsx",
            data=data,
            county=tree.county,
            township=tree.t1,
            effective_from=D1,
        )
    with pytest.raises(PermissionDeniedError):
        publish_lists(actor=users[who], lists=[(tree.t1, [ItemData("basic", "1", "x")])], effective_from=D1)
    assert snapshot() == before


def test_staffing_office_of_other_county_denied_admin_allowed(tree, users) -> None:
    other = cadre(
        department=DepartmentFactory(county=tree.county_b, name="邻县编办", kind=DepartmentKind.STAFFING)
    )
    data = book({"基本履职事项": [["序号", "事项名称"], [1, "村务公开"]]})
    with pytest.raises(PermissionDeniedError):
        import_duty_lists(
            actor=other,
            file_name="x.xlsx",
            data=data,
            county=tree.county,
            township=tree.t1,
            effective_from=D1,
        )
    result = import_duty_lists(
        actor=users["admin"],
        file_name="x.xlsx",
        data=data,
        county=tree.county,
        township=tree.t1,
        effective_from=D1,
    )
    assert result.rows == 1


def test_template_workbook_imports_as_empty_and_its_notes_are_skipped(tree, users) -> None:
    data = template_workbook()
    guesses = guess_workbook(read_workbook("t.xlsx", data))
    assert [g.skip for g in guesses] == [False, False, False, True]
    assert all(g.sure for g in guesses)
    assert "没有事项" in refused(users, tree, data).errors[0].message


# --- web ---------------------------------------------------------------------------------------------------------


def upload(name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_page_get(client, users) -> None:
    client.force_login(users["staffing_office"])
    resp = client.get(reverse("duties_io:import"))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'for="id_file"' in html and "东河镇" in html and "文件内含乡镇列" in html


@pytest.mark.parametrize("who", ["township_staff", "department_staff", "county_office", "resident"])
def test_page_forbidden(client, users, who) -> None:
    client.force_login(users[who])
    assert client.get(reverse("duties_io:import")).status_code == 403


def test_page_anonymous_redirects(client, users) -> None:
    assert client.get(reverse("duties_io:import")).status_code == 302


def test_page_post_success(client, users, tree) -> None:
    setup_departments(tree)
    data, expected = zhejiang_shape()
    client.force_login(users["staffing_office"])
    resp = client.post(
        reverse("duties_io:import"),
        {
            "county": tree.county.pk,
            "township": tree.t1.pk,
            "effective_from": "2025-01-01",
            "file": upload("a.xlsx", data),
        },
    )
    assert resp.status_code == 200, resp.content.decode()[:2000]
    assert "导入成功" in resp.content.decode()
    assert DutyList.objects.get(owner=tree.t1).items.count() == sum(expected.values())


def test_page_post_errors_table(client, users, tree) -> None:
    client.force_login(users["staffing_office"])
    rows = [["序号", "事项名称", "牵头部门"], [1, "耕地保护", "县气象局"]]
    resp = client.post(
        reverse("duties_io:import"),
        {
            "county": tree.county.pk,
            "township": tree.t1.pk,
            "effective_from": "2025-01-01",
            "file": upload("a.xlsx", book({"配合履职事项": rows})),
        },
    )
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "县气象局" in html and '<th scope="col">工作表</th>' in html
    assert DutyList.objects.count() == 0


def test_page_township_outside_county_refused(client, users, tree) -> None:
    client.force_login(users["staffing_office"])
    resp = client.post(
        reverse("duties_io:import"),
        {
            "county": tree.county.pk,
            "township": tree.tb.pk,
            "effective_from": "2025-01-01",
            "file": upload("a.xlsx", b"x"),
        },
    )
    assert resp.status_code == 400 and "不在共治县范围内" in resp.content.decode()
    assert DutyList.objects.count() == 0


def test_page_confirm_mapping_flow(client, users, tree) -> None:
    client.force_login(users["staffing_office"])
    rows = [["No", "事项名称", "对口科室"], [1, "村务公开", "x"], [2, "民主评议", "y"]]
    resp = client.post(
        reverse("duties_io:import"),
        {
            "county": tree.county.pk,
            "township": tree.t1.pk,
            "effective_from": "2025-01-01",
            "file": upload("a.xlsx", book({"基本履职事项": rows})),
        },
    )
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "确认列的对应关系" in html and "对口科室" in html
    m = re.search(r'action="(/duties/io/import/confirm/[\w-]+/)"', html)
    assert m, html[:3000]
    url = m.group(1)
    assert DutyList.objects.count() == 0
    # Another user cannot use the token.
    other = client_for(users["admin"])
    assert other.post(url, {}).status_code == 404
    resp = client.post(
        url,
        {
            "s0-skip": "",
            "s0-category": "",
            "s0-header_row": "1",
            "s0-c0": "number",
            "s0-c1": "name",
            "s0-c2": "",
        },
    )
    assert resp.status_code == 200, resp.content.decode()[:3000]
    assert "导入成功" in resp.content.decode()
    assert DutyList.objects.get(owner=tree.t1).items.count() == 2
    assert client.post(url, {}).status_code == 404  # the kept file is gone after the import


def client_for(user: Any) -> Any:
    from django.test import Client

    c = Client()
    c.force_login(user)
    return c


def test_export_permissions(client, users, tree) -> None:
    run(users, tree, book({"基本履职事项": [["序号", "事项名称"], [1, "村务公开"]]}))
    dl = DutyList.objects.get(owner=tree.t1)
    url = reverse("duties_io:export", args=[dl.pk])
    expect = {
        "staffing_office": 200,
        "township_staff": 200,
        "township_leader": 200,
        "department_staff": 200,
        "county_office": 200,
        "admin": 200,
        "other_township_staff": 404,
        "resident": 403,
    }
    for who, status in expect.items():
        resp = client_for(users[who]).get(url)
        assert resp.status_code == status, who
        if status == 200:
            assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
            wb = openpyxl.load_workbook(io.BytesIO(resp.content))
            assert wb["基本履职事项"]["B4"].value == "村务公开"
    assert (
        client_for(users["staffing_office"]).get(reverse("duties_io:export", args=[dl.pk + 999])).status_code
        == 404
    )
    assert client.get(url).status_code == 302
    t = client_for(users["township_staff"]).get(reverse("duties_io:template"))
    assert (
        t.status_code == 200 and openpyxl.load_workbook(io.BytesIO(t.content)).sheetnames[0] == "基本履职事项"
    )
    assert client_for(users["resident"]).get(reverse("duties_io:template")).status_code == 403


# --- more shapes and scopes --------------------------------------------------------------------------------------


def test_two_row_header_parent_names_the_department(tree, users) -> None:
    """ "对应上级部门" over "名称"/"职责" is the lead department and its part, not a second 事项名称."""
    setup_departments(tree)
    rows = [
        ["序号", "事项名称", "对应上级部门", None, "镇街配合职责", "依据", None],
        [None, None, "名称", "职责", None, "法律法规依据", "政策依据"],
        [1, "耕地保护", "自然资源局", "执法查处", "巡查上报", "《土地管理法》", "省耕地保护办法"],
    ]
    data = book({"配合履职事项": rows}, {"配合履职事项": ["A1:A2", "B1:B2", "C1:D1", "E1:E2", "F1:G1"]})
    (guess,) = guess_workbook(read_workbook("x.xlsx", data))
    assert guess.sure and guess.header_row == 2
    assert [c.key for c in guess.columns] == [
        "number",
        "name",
        "lead",
        "department_part",
        "township_part",
        "basis",
        "basis",
    ]
    result = run(users, tree, data)
    (item,) = items_of(DutyList.objects.get(pk=result.lists[0].list_id))
    assert item[5] == "县自然资源局" and item[8] == "执法查处" and item[4] == "《土地管理法》\n省耕地保护办法"


def test_guessed_header_asks_for_confirmation(tree, users) -> None:
    rows = [["序号", "事项名称", "乡镇承担的具体任务"], [1, "村务公开", "公开"]]
    data = book({"基本履职事项": rows})
    with pytest.raises(MappingUnsure) as info:
        run(users, tree, data)
    assert any("推测为「乡镇职责」" in e.message for e in info.value.errors)
    result = run(users, tree, data, mapping=mapping_of(info.value.sheets))
    (item,) = items_of(DutyList.objects.get(pk=result.lists[0].list_id))
    assert item[7] == "公开"


def test_city_scope_by_admin_resolves_departments_per_county(tree, users) -> None:
    setup_departments(tree)
    tree.dept_b.short_name = "住建局"
    tree.dept_b.save()
    rows = [
        ["乡镇", "序号", "事项名称", "对应上级部门"],
        [tree.t1.code, 1, "危房改造", "住建局"],
        [tree.tb.code, 1, "危房改造", "住建局"],
    ]
    data = book({"配合履职事项": rows})
    with pytest.raises(PermissionDeniedError):
        import_duty_lists(
            actor=users["staffing_office"],
            file_name="x.xlsx",
            data=data,
            county=tree.city,
            township=None,
            effective_from=D1,
        )
    result = import_duty_lists(
        actor=users["admin"],
        file_name="x.xlsx",
        data=data,
        county=tree.city,
        township=None,
        effective_from=D1,
    )
    leads = {lc.owner_name: items_of(DutyList.objects.get(pk=lc.list_id))[0][5] for lc in result.lists}
    assert leads == {"东河镇": "县住房和城乡建设局", "邻镇": "邻县住建局"}
    assert {DutyList.objects.get(pk=lc.list_id).county_id for lc in result.lists} == {
        tree.county.pk,
        tree.county_b.pk,
    }


def test_new_lineages_are_time_ordered_uuids(tree, users) -> None:
    """UUIDv7 hex: valid, distinct, and in creation order (so PostgreSQL appends them to the lineage indexes)."""
    import uuid

    run(users, tree, book({"基本履职事项": [["序号", "事项名称"]] + [[i, f"事项{i}"] for i in range(1, 30)]}))
    lineages = list(DutyItem.objects.order_by("position").values_list("lineage", flat=True))
    for lineage in lineages:
        u = uuid.UUID(hex=lineage)
        assert (u.version, u.variant, u.hex) == (7, uuid.RFC_4122, lineage)
    assert lineages == sorted(set(lineages))


def test_template_list_export_title(tree, users) -> None:
    run(users, tree, book({"基本履职事项": [["序号", "事项名称"], [1, "村务公开"]]}), township=tree.county)
    dl = DutyList.objects.get(owner=tree.county)
    wb = openpyxl.load_workbook(io.BytesIO(export_duty_list(dl)))
    assert wb["基本履职事项"]["A1"].value == "共治县履职事项清单（县级模板）"
    assert "第 1 版（现行）" in wb["基本履职事项"]["A2"].value


def test_page_confirm_with_a_wrong_mapping_shows_errors_and_keeps_the_file(client, users, tree) -> None:
    client.force_login(users["staffing_office"])
    rows = [["No", "事项名称", "对口科室"], [1, "村务公开", "x"]]
    resp = client.post(
        reverse("duties_io:import"),
        {
            "county": tree.county.pk,
            "township": tree.t1.pk,
            "effective_from": "2025-01-01",
            "file": upload("a.xlsx", book({"基本履职事项": rows})),
        },
    )
    url = re.search(r'action="(/duties/io/import/confirm/[\w-]+/)"', resp.content.decode()).group(1)
    resp = client.post(url, {"s0-c0": "", "s0-c1": "name", "s0-c2": ""})  # still no 序号
    assert resp.status_code == 400 and "缺少必填列「序号」" in resp.content.decode()
    assert DutyList.objects.count() == 0
    assert client.get(url).status_code == 200  # the file is still there for another try


def test_category_column_holding_domains_in_a_category_sheet(tree, users) -> None:
    """Some lists use 类别 for a domain (党的建设 …): in a sheet named after its part that is not an error."""
    rows = [["序号", "类别", "事项名称"], [1, "党的建设", "村务公开"], [2, "平安建设", "矛盾调处"]]
    result = run(users, tree, book({"基本履职事项清单": rows}))
    assert result.lists[0].counts == {"basic": 2, "cooperative": 0, "reclaimed": 0}
    # Without the sheet's part, the same column must name a part.
    e = refused(users, tree, book({"Sheet1": rows}), effective_from=D2)
    assert [(x.row, x.column) for x in e.errors] == [(2, "类别"), (3, "类别")]


def test_a_file_with_one_part_keeps_the_other_parts(tree, users) -> None:
    """A township re-publishes only its 基本履职事项 sheet: the cooperative and reclaimed parts must not vanish."""
    setup_departments(tree)
    r1 = run(users, tree, book({"清单": category_column_rows()}))
    v1 = DutyList.objects.get(pk=r1.lists[0].list_id)
    basic_only = book(
        {
            "基本履职事项清单": [
                ["序号", "事项名称", "具体内容"],
                [1, "村规民约制定", "指导制定和修订村规民约"],
                [2, "农村公益性公墓管理", "管理公益性公墓"],
            ]
        }
    )
    r2 = run(users, tree, basic_only, name="基本.xlsx", effective_from=D2)
    v2 = DutyList.objects.get(pk=r2.lists[0].list_id)
    names = dict(DutyItem.objects.filter(duty_list=v2).values_list("name", "category"))
    assert names == {
        "村规民约制定": "basic",
        "农村公益性公墓管理": "basic",
        "耕地保护": "cooperative",
        "燃气经营许可": "reclaimed",
    }
    assert r2.lists[0].carried == ("cooperative", "reclaimed")
    assert "沿用上一版本" in r2.summary()
    old = DutyItem.objects.get(duty_list=v1, name="耕地保护")
    new = DutyItem.objects.get(duty_list=v2, name="耕地保护")
    assert (new.lineage, new.lead_department_id, new.number) == (
        old.lineage,
        old.lead_department_id,
        old.number,
    )
