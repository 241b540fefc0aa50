"""P1 input hardening: the duty list importer's pre-flight (refused before calamine opens the file, merged ranges
kept bounded), exports that write user text as text (never a formula or an error value) and still re-import exactly,
and the length caps on what users type into summonses and 动态调整 applications."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import pytest
from openpyxl import load_workbook

from gongzhi.core.errors import ServiceError
from gongzhi.core.exports import text_cells
from gongzhi.core.models import User
from gongzhi.duties import lists, reports
from gongzhi.duties import summons as svc
from gongzhi.duties.listio import (
    ImportFailed,
    export_duty_list,
    import_duty_lists,
    read_workbook,
)
from gongzhi.duties.models import Category, DutyAdjustment, DutyItem, DutyList, Summons, SummonsReport

from ..core.test_upload_limits import t, xlsx
from .factories import ITEMS, make_list, tree_departments

D1 = dt.date(2025, 1, 1)
D2 = dt.date(2025, 7, 1)
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def _pending_uploads_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.DUTY_IMPORT_TMP_DIR = str(tmp_path / "pending")


def _import(users: Any, tree: Any, data: bytes, effective_from: dt.date = D1) -> Any:
    return import_duty_lists(
        actor=users["staffing_office"],
        file_name="清单.xlsx",
        data=data,
        county=tree.county,
        township=tree.t1,
        effective_from=effective_from,
    )


def _refused(users: Any, tree: Any, data: bytes) -> str:
    lists_before = DutyList.objects.count()
    with pytest.raises(ImportFailed) as exc:
        _import(users, tree, data)
    assert DutyList.objects.count() == lists_before
    return exc.value.errors[0].text()


def _rows(n: int, first: int = 1) -> str:
    """A header and ``n`` basic items, canonical cells."""
    out = [
        '<row r="1"><c r="A1" t="inlineStr">'
        + t("序号")
        + '</c><c r="B1" t="inlineStr">'
        + t("事项名称")
        + "</c></row>"
    ]
    for i in range(first, first + n):
        r = i - first + 2
        out.append(
            f'<row r="{r}"><c r="A{r}"><v>{i}</v></c><c r="B{r}" t="inlineStr">{t(f"事项{i}")}</c></row>'
        )
    return "".join(out)


# --- import: refused before calamine -------------------------------------------------------------------------------


@pytest.fixture
def no_calamine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proves a refusal comes from the pre-flight: calamine must not even open the file."""
    import python_calamine

    def boom(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("calamine opened a file the pre-flight should have refused")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", boom)


def test_a_far_column_is_refused_naming_the_sheet(users: Any, tree: Any, no_calamine: None) -> None:
    body = (
        f"<sheetData>{_rows(3)}"
        + '<row r="9"><c r="BM9" t="inlineStr">'
        + t("备注")
        + "</c></row></sheetData>"
    )
    text = _refused(users, tree, xlsx({"基本履职事项": body}))
    assert text.startswith("工作表「基本履职事项」：第 9 行 BM 列有内容，超出了导入支持的 64 列"), text


def test_rows_of_all_sheets_count_together_before_reading(
    users: Any, tree: Any, settings: Any, no_calamine: None
) -> None:
    settings.DUTY_IMPORT_MAX_ROWS = 10  # each sheet may add 20 rows of headers and titles: 50 in all for two
    body = f"<sheetData>{_rows(29)}</sheetData>"  # 30 rows each
    text = _refused(users, tree, xlsx({"基本履职事项": body, "配合履职事项": body}))
    assert "数据行数（60 行）超过单次导入上限 10 行" in text, text


def test_a_sheet_past_the_row_cap_is_refused_before_reading(
    users: Any, tree: Any, settings: Any, no_calamine: None
) -> None:
    settings.DUTY_IMPORT_MAX_ROWS = 10
    body = f"<sheetData>{_rows(3)}" + '<row r="31"><c r="A31"><v>1</v></c></row></sheetData>'
    assert "数据行数（31 行）" in _refused(users, tree, xlsx({"基本履职事项": body}))


def test_a_title_merged_across_the_whole_row_still_imports(users: Any, tree: Any) -> None:
    merges = '<mergeCells count="1"><mergeCell ref="A1:XFD1"/></mergeCells>'
    body = '<sheetData><row r="1"><c r="A1" t="inlineStr">' + t("东河镇履行职责事项清单") + "</c></row>"
    body += (
        '<row r="2"><c r="A2" t="inlineStr">'
        + t("序号")
        + '</c><c r="B2" t="inlineStr">'
        + t("事项名称")
        + "</c></row>"
    )
    body += '<row r="3"><c r="A3"><v>1</v></c><c r="B3" t="inlineStr">' + t("村务公开") + "</c></row>"
    body += "</sheetData>" + merges
    data = xlsx({"基本履职事项": body})
    (sheet,) = read_workbook("清单.xlsx", data)
    assert sheet.merged == [(0, 0, 0, 16383)]
    result = _import(users, tree, data)
    assert result.rows == 1
    assert list(
        DutyItem.objects.filter(duty_list_id=result.lists[0].list_id).values_list("name", flat=True)
    ) == ["村务公开"]


def test_overlapping_merged_ranges_are_refused(users: Any, tree: Any) -> None:
    # 300 copies of one merge over a 31-row sheet: filling them would be 300 x 31 x 64 writes, and a crafted file
    # can hold millions of them. Merges never overlap in a real workbook.
    merges = '<mergeCells count="300">' + '<mergeCell ref="A2:BL32"/>' * 300 + "</mergeCells>"
    body = f"<sheetData>{_rows(30)}</sheetData>{merges}"
    assert "合并单元格相互重叠" in _refused(users, tree, xlsx({"基本履职事项": body}))


# --- exports write text as text ------------------------------------------------------------------------------------

TRICKY = (
    '=HYPERLINK("http://example.invalid/","点击查看附件")',
    "=1+1",
    "#N/A",
    "#DIV/0!",
    "+86 138 0000 0000",
    "-1",
    "@SUM(A1:A2)",
)


def _cells(data: bytes) -> list[tuple[str, str, Any]]:
    wb = load_workbook(io.BytesIO(data))
    return [
        (ws.title, c.data_type, c.value)
        for ws in wb
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    ]


def test_duty_list_export_keeps_tricky_text_and_reimports_it_exactly(users: Any, tree: Any) -> None:
    items = (
        (Category.BASIC, TRICKY[0], TRICKY[1], None),
        (Category.BASIC, TRICKY[2], TRICKY[3], None),
        (Category.BASIC, TRICKY[4], TRICKY[5], None),
        (Category.BASIC, TRICKY[6], "普通内容", None),
        *ITEMS[4:],
    )
    v1 = make_list(tree.t1, tree.county, tree_departments(tree), items=items)
    data = export_duty_list(v1)
    cells = _cells(data)
    assert [c for c in cells if c[1] in ("f", "e")] == []
    for text in TRICKY:
        assert any(v == text and kind == "s" for _s, kind, v in cells), text
    result = _import(users, tree, data, effective_from=D2)
    v2 = DutyList.objects.get(pk=result.lists[0].list_id)

    def texts(dl: DutyList) -> list[tuple[str, str, str]]:
        return list(
            DutyItem.objects.filter(duty_list=dl)
            .order_by("position")
            .values_list("category", "name", "content")
        )

    assert texts(v2) == texts(v1)


def test_control_characters_do_not_break_an_export(tree: Any) -> None:
    items = ((Category.BASIC, "响铃\x07事项", "内容\x0b换页\x0c", None), *ITEMS[1:])
    dl = make_list(tree.t1, tree.county, tree_departments(tree), items=items)
    values = [v for _s, _k, v in _cells(export_duty_list(dl))]
    assert "响铃事项" in values and "内容换页" in values


def test_report_export_keeps_tricky_names_as_text(users: Any, tree: Any) -> None:
    tree.dept2.name = "=1+1"
    tree.dept2.save()
    items = (ITEMS[0], (Category.BASIC, "#N/A", "内容", None), *ITEMS[2:])
    make_list(tree.t1, tree.county, tree_departments(tree), items=items, power_department=tree.dept2)
    report = reports.build_report(user=users["county_office"], county=tree.county)
    cells = _cells(reports.report_xlsx(report))
    assert [c for c in cells if c[1] in ("f", "e")] == []
    assert ("权责不对等事项", "s", "#N/A") in cells and ("权责不对等事项", "s", "=1+1") in cells


def test_text_cells_leaves_ordinary_values_alone() -> None:
    from openpyxl import Workbook

    ws = Workbook(write_only=True).create_sheet()
    row = text_cells(ws, ["普通", 3, None, "", 1.5, "=A1", "#REF!", "a\x01b"])
    assert row[:5] == ["普通", 3, None, "", 1.5]
    assert [(c.value, c.data_type) for c in row[5:7]] == [("=A1", "s"), ("#REF!", "s")]
    assert row[7] == "ab"


# --- caps on what users type: summonses ------------------------------------------------------------------------


def _summons(users: dict[str, User], tree: Any, **kw: Any) -> Summons:
    args: dict[str, Any] = {
        "ground": "joint_enforcement",
        "title": "东河村违建联合执法",
        "description": "村民反映违建，乡镇无执法权",
        "department_ids": [tree.dept.pk],
        "now": T0,
    }
    args.update(kw)
    return svc.summons_create(actor=users["township_leader"], township=tree.t1, **args)


@pytest.mark.parametrize(
    ("field", "limit", "label"),
    [("title", 200, "事项"), ("description", 5000, "情况说明"), ("location", 200, "地点")],
)
def test_summons_texts_are_capped(users: Any, tree: Any, field: str, limit: int, label: str) -> None:
    assert getattr(_summons(users, tree, **{field: "字" * limit}), field) == "字" * limit
    n = Summons.objects.count()
    with pytest.raises(ServiceError) as exc:
        _summons(users, tree, **{field: "字" * (limit + 1)})
    assert exc.value.message == f"{label}不能超过 {limit:,} 个字（现为 {limit + 1:,} 个字）"
    assert Summons.objects.count() == n


def test_summons_description_of_megabytes_is_refused(users: Any, tree: Any) -> None:
    with pytest.raises(ServiceError, match="情况说明不能超过 5,000 个字"):
        _summons(users, tree, description="乡镇" * 3_000_000)


def test_summons_report_close_and_rating_texts_are_capped(users: Any, tree: Any) -> None:
    s = _summons(users, tree)
    target = s.targets.get()
    with pytest.raises(ServiceError, match="进展情况不能超过 5,000 个字"):
        svc.summons_report(
            actor=users["department_staff"],
            summons_id=s.pk,
            target_id=target.pk,
            kind="written",
            text="字" * 5001,
        )
    assert not SummonsReport.objects.exists()
    with pytest.raises(ServiceError, match="办结说明不能超过 500 个字"):
        svc.summons_close(actor=users["township_leader"], summons_id=s.pk, closing_note="字" * 501)
    svc.summons_close(actor=users["township_leader"], summons_id=s.pk, closing_note="字" * 500)
    scores = {"response_speed": 5, "cooperation": 4, "follow_through": 4}
    with pytest.raises(ServiceError, match="评价意见不能超过 500 个字"):
        svc.summons_rate(
            actor=users["township_leader"],
            summons_id=s.pk,
            target_id=target.pk,
            scores=scores,
            comment="字" * 501,
        )
    target.refresh_from_db()
    assert target.rated_at is None


@pytest.mark.parametrize("field", ["title", "description", "location"])
def test_summons_text_with_nul_is_a_clear_refusal(users: Any, tree: Any, field: str) -> None:
    with pytest.raises(ServiceError, match="含有无效字符"):
        _summons(users, tree, **{field: "违建\x00执法"})


def test_summons_department_list_is_bounded(users: Any, tree: Any) -> None:
    with pytest.raises(ServiceError, match="一次吹哨最多选择 100 个部门"):
        _summons(users, tree, department_ids=list(range(1_000_000, 1_070_000)))
    with pytest.raises(ServiceError, match="部门编号「1" + "0" * 19):
        _summons(users, tree, department_ids=[10**30])


def test_summons_duty_item_out_of_range_is_a_clear_refusal(users: Any, tree: Any) -> None:
    make_list(tree.t1, tree.county, tree_departments(tree))
    with pytest.raises(ServiceError, match="所选事项不在本乡镇现行履职事项清单中"):
        _summons(users, tree, duty_item_id=10**30)


def test_rating_with_many_unknown_indicators_keeps_the_message_short(users: Any, tree: Any) -> None:
    s = _summons(users, tree)
    svc.summons_close(actor=users["township_leader"], summons_id=s.pk, closing_note="办结")
    scores: dict[str, Any] = {"response_speed": 5, "cooperation": 4, "follow_through": 4}
    scores.update({f"x{i}": 1 for i in range(10_000)})
    with pytest.raises(ServiceError) as exc:
        svc.summons_rate(
            actor=users["township_leader"], summons_id=s.pk, target_id=s.targets.get().pk, scores=scores
        )
    assert exc.value.message.endswith("等 10000 项")
    assert len(exc.value.message) < 100


def test_indicator_list_is_bounded(users: Any, tree: Any) -> None:
    rows = [{"name": f"指标{i}", "weight": "0.04"} for i in range(25)]
    with pytest.raises(ServiceError, match="评价指标最多 20 项"):
        svc.summons_settings_update(actor=users["county_office"], county=tree.county, indicators=rows)


# --- caps on what users type: 动态调整 ------------------------------------------------------------------------


@pytest.fixture
def t1_list(tree: Any) -> DutyList:
    return make_list(tree.t1, tree.county, tree_departments(tree))


def _apply(users: Any, tree: Any, reason: str = "乡镇无执法权", **proposed: Any) -> DutyAdjustment:
    return lists.adjustment_apply(
        actor=users["township_leader"],
        township_id=tree.t1.pk,
        action="add",
        reason=reason,
        proposed={"category": "basic", "name": "新增事项", **proposed},
    )


@pytest.mark.parametrize(
    ("field", "limit", "label"),
    [
        ("name", 200, "事项名称"),
        ("content", 5000, "具体内容"),
        ("basis", 5000, "依据"),
        ("township_part", 5000, "乡镇职责"),
        ("department_part", 5000, "部门职责"),
        ("current_practice", 5000, "工作方式"),
        ("lead_department", 200, "牵头部门"),
        ("power_department", 200, "所需权力所在部门"),
    ],
)
def test_adjustment_fields_are_capped(
    users: Any, tree: Any, t1_list: DutyList, field: str, limit: int, label: str
) -> None:
    if field not in ("lead_department", "power_department"):  # at the cap is accepted
        assert _apply(users, tree, **{field: "字" * limit}).proposed[field] == "字" * limit
    n = DutyAdjustment.objects.count()
    with pytest.raises(ServiceError) as exc:
        _apply(users, tree, **{field: "字" * (limit + 1)})
    assert exc.value.message == f"{label}不能超过 {limit:,} 字（现为 {limit + 1:,} 字）"
    assert exc.value.detail == {"field": field}
    assert DutyAdjustment.objects.count() == n


def test_adjustment_reason_is_capped(users: Any, tree: Any, t1_list: DutyList) -> None:
    assert _apply(users, tree, reason="理" * 2000).reason == "理" * 2000
    with pytest.raises(ServiceError, match="调整理由不能超过 2,000 字"):
        _apply(users, tree, reason="理" * 2001)
    with pytest.raises(ServiceError, match="调整理由含有无效字符"):
        _apply(users, tree, reason="理\x00由")


def test_adjustment_assisting_departments_are_bounded(users: Any, tree: Any, t1_list: DutyList) -> None:
    with pytest.raises(ServiceError, match="配合部门最多填写 50 个"):
        _apply(users, tree, assisting=[f"部门{i}" for i in range(51)])
    with pytest.raises(ServiceError, match="配合部门最多填写 50 个"):
        _apply(users, tree, assisting="、".join(f"部{i}" for i in range(51)))
    with pytest.raises(ServiceError, match="配合部门名称不能超过 200 字"):
        _apply(users, tree, assisting=["部" * 201])
    with pytest.raises(ServiceError, match="配合部门"):
        _apply(users, tree, assisting={"not": "a list"})


def test_adjustment_proposal_must_be_an_object(users: Any, tree: Any, t1_list: DutyList) -> None:
    with pytest.raises(ServiceError, match="调整内容格式无效"):
        lists.adjustment_apply(
            actor=users["township_leader"],
            township_id=tree.t1.pk,
            action="add",
            reason="理由",
            proposed=["x"],  # type: ignore[arg-type]
        )


def test_a_zip_bomb_list_is_refused(users: Any, tree: Any, settings: Any, no_calamine: None) -> None:
    padding = " " * 4000  # whitespace between rows compresses about a thousandfold
    body = "<sheetData>" + _rows(30).replace("</row>", "</row>" + padding) + "</sheetData>"
    data = xlsx({"基本履职事项": body})
    unzipped = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert unzipped > 10 * len(data)
    settings.DUTY_IMPORT_MAX_BYTES = len(data)  # the file itself is within the cap
    assert "解压后过大（超过上传上限的 10 倍）" in _refused(users, tree, data)
