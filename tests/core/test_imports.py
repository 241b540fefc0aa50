"""Roster import: real .xlsx files built with openpyxl and real CSV bytes (UTF-8 with BOM, GBK)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.urls import reverse

from gongzhi.core.errors import PermissionDeniedError
from gongzhi.core.imports import ImportFailed, import_file, system_actor
from gongzhi.core.models import (
    AdminUnit,
    AuditEvent,
    AuditHead,
    Cadre,
    Department,
    DepartmentKind,
    Position,
    Resident,
    User,
)
from gongzhi.core.services import resident_id_hash
from gongzhi.engines.idcard import make_id
from tests.factories import resident

RES_HEAD = ["姓名", "村（社区）区划代码", "户号", "手机号", "身份证号", "是否核验"]
UNIT_HEAD = ["区划代码", "名称", "层级", "类别", "上级区划代码"]
DEPT_HEAD = ["名称", "类型", "所属县区划代码", "简称"]
CADRE_HEAD = ["姓名", "用户名", "手机号", "单位区划代码", "部门名称", "职务", "是否领导"]


def id_number(i: int) -> str:
    """A valid, unique 18-digit ID for row ``i`` (birth date advances every 1,000 numbers)."""
    born = date(1950, 1, 1) + timedelta(days=i // 1000)
    return make_id(f"990102{born:%Y%m%d}{i % 1000:03d}")


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    wb = openpyxl.Workbook(write_only=True)  # write-only: fast enough to build 30,000 rows in a test
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8-sig") -> bytes:
    import csv

    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def snapshot() -> dict[str, Any]:
    head = AuditHead.objects.filter(pk=1).first()
    return {
        "units": AdminUnit.objects.count(),
        "departments": Department.objects.count(),
        "users": User.objects.count(),
        "cadres": Cadre.objects.count(),
        "positions": Position.objects.count(),
        "residents": Resident.objects.count(),
        "audit": AuditEvent.objects.count(),
        "head": (head.seq, head.hash) if head else None,
        "resident_rows": sorted(Resident.objects.values_list("name", "phone", "household_no", "verified")),
        "unit_names": sorted(AdminUnit.objects.values_list("code", "name")),
    }


def res_rows(n: int, village: str = "990102001001", start: int = 0) -> list[list[Any]]:
    return [
        [f"居民{i}", village, f"H{i:05d}", f"138{i:08d}", id_number(i), "是"] for i in range(start, start + n)
    ]


def errors_of(exc: pytest.ExceptionInfo[ImportFailed]) -> list[tuple[str, int | None, str]]:
    return [(e.sheet, e.row, e.column) for e in exc.value.errors]


# --- happy paths per kind ------------------------------------------------------------------------------------


def test_units_happy_path_with_floats_labels_and_inferred_kind(users):
    data = xlsx(
        {
            "行政区划": [
                # Columns in another order, an extra column, surrounding whitespace, Excel float codes.
                ["名称", "备注", " 区划代码 ", "层级", "上级区划代码", "类别"],
                ["南山乡", "新设", 990102003000.0, "乡镇（街道）", 990102000000.0, ""],
                ["南山村", "", "990102003001", "村", "", "村"],
                ["  北坡社区 ", "", "９９０１０２００３００２", "村（社区）", "990102003000", None],
                [None, None, None, None, None, None],  # empty trailing rows
                ["", "", "", "", "", ""],
            ]
        }
    )
    result = import_file(actor=users["admin"], kind="units", filename="units.xlsx", data=data)
    assert result.counts["units"].created == 3
    town = AdminUnit.objects.get(code="990102003000")
    assert (town.name, town.level, town.kind, town.parent.code) == (
        "南山乡",
        "township",
        "乡",
        "990102000000",
    )
    shequ = AdminUnit.objects.get(code="990102003002")
    assert (shequ.name, shequ.kind, shequ.parent_id) == ("北坡社区", "社区", town.pk)
    assert "行政区划：新增 3" in result.summary()
    ev = AuditEvent.objects.order_by("-seq").first()
    assert ev.action == "roster.import" and ev.data["counts"]["units"]["created"] == 3
    assert len(ev.data["sha256"]) == 64


def test_departments_happy_path(users, tree):
    data = xlsx(
        {
            "部门": [
                DEPT_HEAD,
                ["县农业农村局", "县直部门", "990102000000", "农业农村局"],
                ["县数据局", "", 990102000000.0, ""],
                ["县委组织部", "组织部", "990102000000", "组织部"],  # exists: updates short name
            ]
        }
    )
    result = import_file(actor=users["county_office"], kind="departments", filename="d.xlsx", data=data)
    assert (result.counts["departments"].created, result.counts["departments"].updated) == (2, 1)
    d = Department.objects.get(name="县数据局")
    assert d.county == tree.county and d.kind == DepartmentKind.FUNCTIONAL
    assert Department.objects.get(pk=tree.orgdept.pk).short_name == "组织部"


def test_cadres_happy_path(users, tree):
    data = xlsx(
        {
            "干部": [
                CADRE_HEAD,
                ["赵一", "zhao1", 13800138000.0, 990102001000.0, "", "党委书记", "是"],
                ["赵一", "zhao1", "", "990102001001", "", "驻村第一书记", "否"],  # second post, same person
                ["钱二", "qian2", "", "", "县应急管理局", "科员", ""],
            ]
        }
    )
    result = import_file(actor=users["county_office"], kind="cadres", filename="c.xlsx", data=data)
    assert result.counts["cadres"].created == 3
    zhao = Cadre.objects.get(user__username="zhao1")
    assert zhao.name == "赵一" and zhao.phone == "13800138000"
    assert not zhao.user.has_usable_password()
    posts = {(p.unit.code, p.title, p.is_leader) for p in zhao.positions.all()}
    assert posts == {("990102001000", "党委书记", True), ("990102001001", "驻村第一书记", False)}
    qian = Position.objects.get(cadre__user__username="qian2")
    assert qian.department == tree.dept2 and qian.unit is None


def test_residents_happy_path_id_only_as_hash(users, tree):
    rows = res_rows(20)
    rows[3][4] = rows[3][4].lower().replace("x", "x") + "  "  # surrounding spaces tolerated
    data = xlsx({"居民": [RES_HEAD, *rows]})
    result = import_file(actor=users["township_staff"], kind="residents", filename="r.xlsx", data=data)
    assert result.counts["residents"].created == 20
    r0 = Resident.objects.get(name="居民0")
    assert r0.id_hash == resident_id_hash(id_number(0))
    assert r0.phone == "13800000000" and r0.verified and r0.village == tree.v11
    # The number itself is nowhere: not in any resident column, not in the audit log.
    for values in Resident.objects.values_list("name", "household_no", "phone", "id_hash"):
        assert id_number(0) not in "".join(values)
    assert id_number(0) not in str(list(AuditEvent.objects.values_list("data", flat=True)))


def test_roster_workbook_imports_all_sheets_in_one_transaction(users):
    before = AuditEvent.objects.count()
    data = xlsx(
        {
            "说明": [["这是说明，不导入"]],
            # Sheets in any order: units are still written first.
            "居民": [RES_HEAD, ["孙三", "990102003001", "H1", "", id_number(500), "否"]],
            "干部": [
                CADRE_HEAD,
                ["李四", "lisi", "", "990102003000", "", "乡长", "是"],
                ["周五", "zhouwu", "", "", "县数据局", "局长", "是"],
            ],
            "部门": [DEPT_HEAD, ["县数据局", "县直部门", "990102000000", ""]],
            "行政区划": [
                UNIT_HEAD,
                ["990102003001", "南山村", "村", "村", "990102003000"],
                ["990102003000", "南山乡", "乡镇", "乡", "990102000000"],
            ],
        }
    )
    result = import_file(actor=users["admin"], kind="roster", filename="roster.xlsx", data=data)
    assert {k: c.created for k, c in result.counts.items()} == {
        "units": 2,
        "departments": 1,
        "cadres": 2,
        "residents": 1,
    }
    assert AuditEvent.objects.count() == before + 1
    assert Resident.objects.get(name="孙三").village.code == "990102003001"
    assert Position.objects.get(cadre__user__username="zhouwu").department.name == "县数据局"


# --- all or nothing ------------------------------------------------------------------------------------------


def test_one_bad_row_among_many_refuses_everything(users):
    res = res_rows(60)
    res[35][3] = "1380013800"  # 10 digits: data row 36 is spreadsheet row 37
    data = xlsx(
        {
            "行政区划": [UNIT_HEAD, ["990102003000", "南山乡", "乡镇", "乡", "990102000000"]],
            "部门": [DEPT_HEAD, ["县数据局", "县直部门", "990102000000", ""]],
            "干部": [
                CADRE_HEAD,
                *[[f"干部{i}", f"gb{i}", "", "990102001000", "", "干部", "否"] for i in range(30)],
            ],
            "居民": [RES_HEAD, *res],
        }
    )
    before = snapshot()
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["admin"], kind="roster", filename="roster.xlsx", data=data)
    assert errors_of(exc) == [("居民", 37, "手机号")]
    assert exc.value.errors[0].text() == "工作表「居民」第 37 行「手机号」列：手机号应为 11 位大陆手机号码"
    assert "未写入任何数据" in exc.value.message
    assert snapshot() == before


def test_every_error_is_reported_not_just_the_first(users):
    data = xlsx(
        {
            "行政区划": [
                UNIT_HEAD,
                ["99010200300", "南山乡", "乡镇", "乡", ""],  # 11 digits
                ["990102003000", "", "村", "乡", ""],
            ],  # no name, wrong level
            "居民": [
                RES_HEAD,
                ["", "990102001001", "", "", "", ""],
                ["甲", "990102001001", "", "", "110101199001011230", "也许"],
            ],
        }
    )
    before = snapshot()
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["admin"], kind="roster", filename="roster.xlsx", data=data)
    assert errors_of(exc) == [
        ("行政区划", 2, "区划代码"),
        ("行政区划", 3, "名称"),
        ("行政区划", 3, "层级"),
        ("居民", 2, "姓名"),
        ("居民", 3, "身份证号"),
        ("居民", 3, "是否核验"),
    ]
    assert snapshot() == before


def test_error_cap(users, settings):
    rows = [["", "990102001001", "", "", "", ""] for _ in range(700)]
    with pytest.raises(ImportFailed) as exc:
        import_file(
            actor=users["admin"], kind="residents", filename="r.xlsx", data=xlsx({"居民": [RES_HEAD, *rows]})
        )
    assert len(exc.value.errors) == 500 and exc.value.truncated


def test_duplicates_inside_the_file(users, tree):
    data = xlsx(
        {
            "行政区划": [
                UNIT_HEAD,
                ["990102003000", "南山乡", "乡镇", "乡", ""],
                [990102003000.0, "南山镇", "乡镇", "镇", ""],
            ],
            "部门": [DEPT_HEAD, ["县数据局", "", "990102000000", ""], [" 县数据局", "", "990102000000", ""]],
            "干部": [
                CADRE_HEAD,
                ["甲", "jia", "", "990102001000", "", "干部", ""],
                ["甲", "jia", "", "990102001000", "", "副镇长", ""],
                ["乙", "jia", "", "990102001001", "", "干部", ""],
            ],
            "居民": [
                RES_HEAD,
                ["丙", "990102001001", "", "", id_number(7), ""],
                ["丁", "990102001002", "", "", id_number(7), ""],
                ["戊", "990102001001", "H9", "", "", ""],
                ["戊", "990102001001", "H9", "", "", ""],
            ],
        }
    )
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["admin"], kind="roster", filename="dup.xlsx", data=data)
    texts = [e.text() for e in exc.value.errors]
    assert texts == [
        "工作表「行政区划」第 3 行「区划代码」列：与第 2 行的区划代码重复",
        "工作表「部门」第 3 行「名称」列：与第 2 行的部门重复（同一县内部门名称不能重复）",
        "工作表「干部」第 3 行「用户名」列：与第 2 行重复（同一干部在同一单位的职务）",
        "工作表「干部」第 4 行「姓名」列：与第 2 行用户名相同，但姓名或手机号不一致",
        "工作表「居民」第 3 行「身份证号」列：与第 2 行的身份证号重复",
        "工作表「居民」第 5 行「姓名」列：与第 4 行同村、同户号、同姓名且都未填身份证号，无法区分，请补填身份证号",
    ]


def test_conflicts_with_the_database(users, tree):
    data = xlsx(
        {
            "行政区划": [UNIT_HEAD, ["990102009001", "孤村", "村", "村", ""]],  # parent township missing
            "干部": [
                CADRE_HEAD,
                ["管理员", "admin", "", "990102001000", "", "干部", ""],
            ],  # non-cadre username
            "部门": [DEPT_HEAD, ["某局", "", "990102001000", ""]],  # not a county code
        }
    )
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["admin"], kind="roster", filename="x.xlsx", data=data)
    assert [e.message for e in exc.value.errors] == [
        "上级区划 990102009000 不存在（数据库和本文件中都没有），请先导入上级区划",
        "990102001000 不是县级区划代码（县级代码后 6 位为 0）",
        "用户名「admin」是平台管理员账号，不能通过导入修改",
    ]


def test_level_and_parent_must_agree_with_code(users, tree):
    data = xlsx(
        {
            "行政区划": [
                UNIT_HEAD,
                ["990102003000", "南山乡", "村", "乡", "990102000000"],
                ["990102004000", "北山镇", "乡镇", "村", "990100000000"],
            ]
        }
    )
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["admin"], kind="units", filename="u.xlsx", data=data)
    assert [e.text() for e in exc.value.errors] == [
        "工作表「行政区划」第 2 行「层级」列：区划代码 990102003000 表示乡镇（街道）级，与层级「村」不符",
        "工作表「行政区划」第 3 行「类别」列：类别「村」不适用于乡镇（街道）级，可选：乡、镇、街道",
        "工作表「行政区划」第 3 行「上级区划代码」列：区划代码 990102004000 的上级应为 990102000000，而不是 990100000000",
    ]


# --- Excel quirks --------------------------------------------------------------------------------------------


def test_id_stored_as_number_is_detected(users, tree):
    data = xlsx({"居民": [RES_HEAD, ["甲", 990102001001.0, 1001.0, 13800138000.0, 110101199001011234, "是"]]})
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["admin"], kind="residents", filename="r.xlsx", data=data)
    (err,) = exc.value.errors
    assert (err.row, err.column) == (2, "身份证号") and "存成了数字" in err.message


def test_float_phone_and_household_keep_every_digit(users, tree):
    data = xlsx({"居民": [RES_HEAD, ["甲", 990102001001.0, 1001.0, 13800138000.0, "", "是"]]})
    import_file(actor=users["admin"], kind="residents", filename="r.xlsx", data=data)
    r = Resident.objects.get(name="甲")
    assert (r.phone, r.household_no, r.village.code) == ("13800138000", "1001", "990102001001")


def test_scientific_notation_in_csv_is_refused(users, tree):
    data = csv_bytes([RES_HEAD, ["甲", "9.90102E+11", "", "", "1.10101E+17", ""]])
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["admin"], kind="residents", filename="r.csv", data=data)
    assert [(e.column, "科学计数法" in e.message) for e in exc.value.errors] == [
        ("村（社区）区划代码", True),
        ("身份证号", True),
    ]


def test_title_row_above_header_and_aliases(users, tree):
    data = xlsx(
        {
            "Sheet1": [
                ["东河村户籍人员名单"],
                [],
                ["序号", "公民身份号码", "姓名", "联系电话", "村区划代码"],
                [1, id_number(1), "甲", "138 0013 8000", "990102001001"],
            ]
        }
    )
    result = import_file(actor=users["admin"], kind="residents", filename="名单.xlsx", data=data)
    assert result.counts["residents"].created == 1
    assert Resident.objects.get(name="甲").phone == "13800138000"


def test_missing_required_column(users, tree):
    data = xlsx({"居民": [["姓名", "户号"], ["甲", "1"]]})
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["admin"], kind="residents", filename="r.xlsx", data=data)
    assert [e.text() for e in exc.value.errors] == [
        "工作表「居民」第 1 行「村（社区）区划代码」列：缺少必填列「村（社区）区划代码」（表头应在数据上方的第一行）"
    ]


def test_csv_utf8_bom_and_gbk(users, tree):
    rows = [RES_HEAD, ["张三", "990102001001", "H1", "13800138000", id_number(1), "是"]]
    import_file(actor=users["admin"], kind="residents", filename="a.csv", data=csv_bytes(rows, "utf-8-sig"))
    rows2 = [RES_HEAD, ["李四", "990102001002", "H2", "", id_number(2), "否"]]
    gbk = csv_bytes(rows2, "gbk")
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")
    import_file(actor=users["admin"], kind="residents", filename="b.CSV", data=gbk)
    assert set(Resident.objects.filter(name__in=["张三", "李四"]).values_list("name", "verified")) == {
        ("张三", True),
        ("李四", False),
    }


def test_csv_roster_kind_is_recognized_by_header(users, tree):
    data = csv_bytes([DEPT_HEAD, ["县数据局", "县直部门", "990102000000", ""]])
    result = import_file(actor=users["admin"], kind="roster", filename="d.csv", data=data)
    assert result.counts["departments"].created == 1


@pytest.mark.parametrize(
    ("filename", "data", "needle"),
    [
        ("r.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "不支持 .xls"),
        ("r.pdf", b"%PDF-1.4", "只支持 .xlsx 和 .csv"),
        ("r", b"abc", "只支持 .xlsx 和 .csv"),
        ("r.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "密码"),
        ("r.xlsx", b"this is not a workbook", "不是有效的 .xlsx"),
        ("r.xlsx", b"PK\x03\x04garbage-zip", "不是有效的 .xlsx"),
        ("r.xlsx", b"", "文件为空"),
        ("r.csv", "姓名,".encode("gbk") + b"\x80\x81 ", "编码"),
        ("r.csv", b"\xff\xfeA\x00\x00\x00", "无效字符"),
    ],
)
def test_wrong_or_broken_files(users, tree, filename, data, needle):
    before = snapshot()
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["admin"], kind="residents", filename=filename, data=data)
    assert needle in exc.value.errors[0].message, exc.value.errors[0].message
    assert snapshot() == before


def test_truncated_xlsx_is_refused(users, tree):
    data = xlsx({"居民": [RES_HEAD, *res_rows(5)]})
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["admin"], kind="residents", filename="r.xlsx", data=data[: len(data) // 2])
    assert "损坏" in exc.value.errors[0].message


def test_row_limit(users, tree, settings):
    settings.IMPORT_MAX_ROWS = 5
    data = xlsx({"居民": [RES_HEAD, *res_rows(6)]})
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["admin"], kind="residents", filename="r.xlsx", data=data)
    assert exc.value.errors[0].message == "数据行数（6 行）超过单次导入上限 5 行，请拆分为多个文件分批导入"


def test_template_without_rows_imports_nothing(users):
    from gongzhi.core.exports import template_workbook

    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["admin"], kind="roster", filename="t.xlsx", data=template_workbook("roster"))
    assert "没有数据行" in exc.value.errors[0].message


# --- permissions ---------------------------------------------------------------------------------------------


def test_township_staff_cannot_import_residents_of_another_township(users, tree):
    data = xlsx(
        {
            "居民": [
                RES_HEAD,
                *res_rows(3),
                ["外人", "990102002001", "", "", "", ""],
                ["邻人", "990103001001", "", "", "", ""],
            ]
        }
    )
    before = snapshot()
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["township_staff"], kind="residents", filename="r.xlsx", data=data)
    assert errors_of(exc) == [("居民", 5, "村（社区）区划代码"), ("居民", 6, "村（社区）区划代码")]
    assert "超出您的管理范围" in exc.value.errors[0].message
    assert snapshot() == before


def test_village_committee_only_its_village(users, tree):
    data = xlsx(
        {"居民": [RES_HEAD, ["甲", "990102001001", "", "", "", ""], ["乙", "990102001002", "", "", "", ""]]}
    )
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["village_committee"], kind="residents", filename="r.xlsx", data=data)
    assert errors_of(exc) == [("居民", 3, "村（社区）区划代码")]


@pytest.mark.parametrize(
    ("who", "kind"),
    [
        ("department_staff", "residents"),
        ("department_staff", "units"),
        ("county_office", "residents"),
        ("township_staff", "cadres"),
        ("resident", "roster"),
        ("discipline", "units"),
    ],
)
def test_kind_denied_outright(users, tree, who, kind):
    data = xlsx({"居民": [RES_HEAD, *res_rows(1)]})
    with pytest.raises(PermissionDeniedError):
        import_file(actor=users[who], kind=kind, filename="r.xlsx", data=data)


def test_county_office_limited_to_its_county(users, tree):
    data = xlsx(
        {
            "行政区划": [
                UNIT_HEAD,
                ["990102003000", "南山乡", "乡镇", "乡", ""],
                ["990103002000", "邻县新镇", "乡镇", "镇", ""],
                ["990102000000", "共治县（改名）", "县", "县", ""],
            ],
            "部门": [DEPT_HEAD, ["邻县新局", "", "990103000000", ""]],
            "干部": [CADRE_HEAD, ["外县干部", "waixian", "", "990103001000", "", "干部", ""]],
            "居民": [RES_HEAD, ["甲", "990102001001", "", "", "", ""]],
        }
    )
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["county_office"], kind="roster", filename="r.xlsx", data=data)
    assert errors_of(exc) == [
        ("行政区划", 3, "区划代码"),
        ("行政区划", 4, "区划代码"),  # renaming its own county belongs to the city level
        ("部门", 2, "所属县区划代码"),
        ("干部", 2, "单位区划代码"),
        ("居民", 2, "村（社区）区划代码"),
    ]


def test_county_office_cannot_take_over_a_cadre_of_another_county(users, tree):
    data = xlsx({"干部": [CADRE_HEAD, ["改名", "other_township_staff", "", "990102001000", "", "干部", ""]]})
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["county_office"], kind="cadres", filename="c.xlsx", data=data)
    assert "管理范围以外的干部" in exc.value.errors[0].message


# --- upsert --------------------------------------------------------------------------------------------------


def test_reimport_updates_residents_by_id_and_by_household(users, tree):
    import_file(
        actor=users["township_staff"],
        kind="residents",
        filename="r.xlsx",
        data=xlsx(
            {"居民": [RES_HEAD, *res_rows(3), ["无证", "990102001001", "H77", "13900000077", "", "否"]]}
        ),
    )
    rows = res_rows(3)
    rows[0][0] = "居民0改"  # renamed: matched by ID
    rows[1][3] = ""  # empty phone keeps the stored one
    rows[2][1] = "990102001002"  # moved to another village of the same township
    rows.append(["无证", "990102001001", "H77", "", id_number(77), "是"])  # ID added to the earlier record
    result = import_file(
        actor=users["township_staff"],
        kind="residents",
        filename="r.xlsx",
        data=xlsx({"居民": [RES_HEAD, *rows]}),
    )
    assert (result.counts["residents"].created, result.counts["residents"].updated) == (0, 3)
    assert result.counts["residents"].unchanged == 1
    assert Resident.objects.get(id_hash=resident_id_hash(id_number(0))).name == "居民0改"
    assert Resident.objects.get(id_hash=resident_id_hash(id_number(1))).phone == "13800000001"
    assert Resident.objects.get(id_hash=resident_id_hash(id_number(2))).village == tree.v12
    r77 = Resident.objects.get(name="无证")
    assert r77.id_hash == resident_id_hash(id_number(77)) and r77.verified and r77.phone == "13900000077"


def test_moving_a_resident_out_of_anothers_township_is_refused(users, tree):
    import_file(
        actor=users["admin"],
        kind="residents",
        filename="r.xlsx",
        data=xlsx({"居民": [RES_HEAD, ["甲", "990102002001", "", "", id_number(5), ""]]}),
    )
    with pytest.raises(ImportFailed) as exc:
        import_file(
            actor=users["township_staff"],
            kind="residents",
            filename="r.xlsx",
            data=xlsx({"居民": [RES_HEAD, ["甲", "990102001001", "", "", id_number(5), ""]]}),
        )
    assert "管理范围以外" in exc.value.errors[0].message
    assert Resident.objects.get(name="甲").village == tree.v21


def test_units_update_name_and_cadre_posts(users, tree):
    data = xlsx(
        {
            "行政区划": [
                UNIT_HEAD,
                ["990102001000", "东河镇（新）", "乡镇", "镇", "990102000000"],
                ["990102001001", "东河村", "村", "村", "990102001000"],
            ],
            "干部": [
                CADRE_HEAD,
                ["用户改名", "township_staff", "13800138000", "990102001000", "", "副镇长", "是"],
            ],
        }
    )
    result = import_file(actor=users["county_office"], kind="roster", filename="u.xlsx", data=data)
    assert (result.counts["units"].updated, result.counts["units"].unchanged) == (1, 1)
    assert AdminUnit.objects.get(code="990102001000").name == "东河镇（新）"
    staff = User.objects.get(username="township_staff")
    assert staff.display_name == "用户改名" and staff.cadre.phone == "13800138000"
    assert list(staff.cadre.positions.values_list("title", "is_leader")) == [("副镇长", True)]


# --- system actor and command line ---------------------------------------------------------------------------


def test_system_actor_is_an_inactive_superuser(db, tree):
    actor = system_actor()
    assert actor.username == "system" and actor.is_superuser and not actor.is_active
    assert not actor.has_usable_password()
    assert system_actor().pk == actor.pk
    import_file(
        actor=actor, kind="residents", filename="r.xlsx", data=xlsx({"居民": [RES_HEAD, *res_rows(1)]})
    )
    assert AuditEvent.objects.order_by("-seq").first().actor_label == "system"


def test_system_name_taken_by_a_person(db):
    User.objects.create_user("system", password="Correct-Horse-42")
    with pytest.raises(RuntimeError):
        system_actor()


def test_cli_import(db, tree, tmp_path, capsys):
    from gongzhi.cli import main

    good = tmp_path / "r.xlsx"
    good.write_bytes(xlsx({"居民": [RES_HEAD, *res_rows(2)]}))
    assert main(["import", "residents", str(good)]) == 0
    assert "新增 2" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([RES_HEAD, ["", "990102001001", "", "", "", ""]]))
    assert main(["import", "residents", str(bad)]) == 1
    assert "工作表「居民」第 2 行「姓名」列：姓名不能为空" in capsys.readouterr().err


# --- scale ---------------------------------------------------------------------------------------------------


def test_many_residents_created_unchanged_then_updated(users, tree):
    """Past every batch boundary (900-row lookups, 5,000-row inserts); speed is measured by bench/roster_import.py."""
    n = 6_000
    data = xlsx({"居民": [RES_HEAD, *res_rows(n)]})
    result = import_file(actor=users["township_staff"], kind="residents", filename="big.xlsx", data=data)
    assert result.counts["residents"].created == n
    assert (
        Resident.objects.filter(village=tree.v11, name__startswith="居民").count() == n + 1
    )  # +1 from users
    again = import_file(actor=users["township_staff"], kind="residents", filename="big.xlsx", data=data)
    assert again.counts["residents"].unchanged == n
    # Every phone changes: only that column is rewritten (rewriting id_hash too took minutes on SQLite).
    rows = res_rows(n)
    for row in rows:
        row[3] = "139" + row[3][3:]
    data = xlsx({"居民": [RES_HEAD, *rows]})
    changed = import_file(actor=users["township_staff"], kind="residents", filename="big.xlsx", data=data)
    assert changed.counts["residents"].updated == n
    assert Resident.objects.get(name=f"居民{n - 1}").phone == f"139{n - 1:08d}"
    assert Resident.objects.filter(phone__startswith="138", name__startswith="居民").count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics of PostgreSQL")
def test_bulk_insert_refreshes_planner_statistics(users, tree):
    """Without ANALYZE after the COPY the table still looks empty to the planner, and a re-import's id lookups ran as
    sequential scans (30,000 residents: 17 s instead of under 1 s)."""
    import_file(
        actor=users["township_staff"],
        kind="residents",
        filename="r.xlsx",
        data=xlsx({"居民": [RES_HEAD, *res_rows(1_500)]}),
    )
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Resident._meta.db_table])
        assert cur.fetchone()[0] >= 1_500


# --- web page ------------------------------------------------------------------------------------------------


def _login(client, user):
    client.force_login(user)
    return client


def test_page_get_for_importers(client, users):
    resp = _login(client, users["admin"]).get(reverse("roster:import"))
    assert resp.status_code == 200
    body = resp.content.decode()
    assert 'for="id_file"' in body and 'for="id_kind"' in body
    assert reverse("roster:template", args=["residents"]) in body
    assert reverse("roster:export", args=["roster"]) in body


def test_page_for_township_staff_offers_residents(client, users):
    body = _login(client, users["township_staff"]).get(reverse("roster:import")).content.decode()
    assert 'value="residents"' in body and 'value="units"' not in body
    assert reverse("roster:template", args=["units"]) not in body


@pytest.mark.parametrize("who", ["department_staff", "resident", "org_rep", "discipline", "org_department"])
def test_page_forbidden(client, users, who):
    c = _login(client, users[who])
    assert c.get(reverse("roster:import")).status_code == 403
    assert c.post(reverse("roster:import"), {"kind": "residents"}).status_code == 403
    assert c.get(reverse("roster:export", args=["residents"])).status_code == 403
    assert c.get(reverse("roster:template", args=["residents"])).status_code == 403


def test_page_anonymous_redirects_to_login(client, users):
    resp = client.get(reverse("roster:import"))
    assert resp.status_code == 302 and "/login/" in resp["Location"]


def _upload(name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_page_post_success(client, users, tree):
    c = _login(client, users["township_staff"])
    resp = c.post(
        reverse("roster:import"),
        {"kind": "residents", "file": _upload("r.xlsx", xlsx({"居民": [RES_HEAD, *res_rows(4)]}))},
    )
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "导入成功" in body and "<td>4</td>" in body
    assert Resident.objects.filter(village=tree.v11, name__in=[f"居民{i}" for i in range(4)]).count() == 4


def test_page_post_errors_table_and_nothing_written(client, users, tree):
    rows = res_rows(4)
    rows[2][3] = "12345"
    before = snapshot()
    resp = _login(client, users["township_staff"]).post(
        reverse("roster:import"),
        {"kind": "residents", "file": _upload("r.xlsx", xlsx({"居民": [RES_HEAD, *rows]}))},
    )
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "未写入任何数据" in body
    assert "<td>居民</td><td>4</td><td>手机号</td><td>手机号应为 11 位大陆手机号码</td>" in body
    assert snapshot() == before


def test_page_post_htmx_returns_partial(client, users, tree):
    resp = _login(client, users["township_staff"]).post(
        reverse("roster:import"),
        {"kind": "residents", "file": _upload("r.txt", b"x")},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "<html" not in body and "只支持 .xlsx 和 .csv 文件" in body


def test_page_post_without_file_or_kind(client, users):
    c = _login(client, users["admin"])
    assert "请选择要上传的文件" in c.post(reverse("roster:import"), {"kind": "units"}).content.decode()
    resp = c.post(reverse("roster:import"), {"kind": "bogus", "file": _upload("a.csv", b"a")})
    assert resp.status_code == 400 and "请选择导入内容" in resp.content.decode()


def test_page_township_staff_cannot_pick_units(client, users, tree):
    before = snapshot()
    data = xlsx({"行政区划": [UNIT_HEAD, ["990102001003", "新村", "村", "村", ""]]})
    resp = _login(client, users["township_staff"]).post(
        reverse("roster:import"), {"kind": "units", "file": _upload("u.xlsx", data)}
    )
    assert resp.status_code == 400
    assert snapshot() == before


def test_resident_factory_residents_are_untouched_by_failed_import(users, tree):
    resident(tree.v11, phone="13900000099", name="老住户")
    before = snapshot()
    with pytest.raises(ImportFailed):
        import_file(
            actor=users["township_staff"],
            kind="residents",
            filename="r.xlsx",
            data=xlsx(
                {
                    "居民": [
                        RES_HEAD,
                        ["老住户", "990102001001", "H000001", "13900000098", "", "是"],
                        ["", "990102001001", "", "", "", ""],
                    ]
                }
            ),
        )
    assert snapshot() == before
