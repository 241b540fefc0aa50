"""Roster export: same sheets and headers as the import, scoped to the actor, re-importable."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from django.urls import reverse

from gongzhi.core.exports import export_workbook, template_workbook
from gongzhi.core.imports import COLUMNS, SHEET_NAMES, import_file
from gongzhi.core.models import AuditEvent, Resident
from tests.core.test_imports import RES_HEAD, id_number, snapshot, xlsx
from tests.factories import resident


def read(data: bytes) -> dict[str, list[list[Any]]]:
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def column(sheet: list[list[Any]], header: str) -> list[Any]:
    i = sheet[0].index(header)
    return [r[i] for r in sheet[1:]]


@pytest.fixture
def people(users, tree):
    for i, v in enumerate([tree.v11, tree.v12, tree.v21, tree.vb]):
        resident(v, phone=f"1370000000{i}", name=f"住户{i}")
    return users


def test_headers_are_the_import_headers(people):
    book = read(export_workbook(actor=people["admin"]))
    assert list(book) == ["行政区划", "部门", "干部", "居民"]
    for kind, name in SHEET_NAMES.items():
        assert book[name][0] == [c.header for c in COLUMNS[kind]]


def test_admin_round_trip_changes_nothing(people, tree):
    data = export_workbook(actor=people["admin"])
    book = read(data)
    assert "990102001001" in column(book["行政区划"], "区划代码")  # codes stay text
    assert all(v in (None, "") for v in column(book["居民"], "身份证号"))
    before = snapshot()
    result = import_file(actor=people["admin"], kind="roster", filename="export.xlsx", data=data)
    assert {k: (c.created, c.updated) for k, c in result.counts.items()} == {
        "units": (0, 0),
        "departments": (0, 0),
        "cadres": (0, 0),
        "residents": (0, 0),
    }
    assert result.counts["residents"].unchanged == Resident.objects.count()
    after = snapshot()
    assert after["head"] != before["head"]  # the re-import itself is audited …
    for key in (
        "units",
        "departments",
        "users",
        "cadres",
        "positions",
        "residents",
        "resident_rows",
        "unit_names",
    ):
        assert after[key] == before[key], key  # … and nothing else changed


def test_township_round_trip_and_scope(people, tree):
    staff = people["township_staff"]
    book = read(export_workbook(actor=staff))
    assert list(book) == ["行政区划", "部门", "干部", "居民"]
    villages = set(column(book["居民"], "村（社区）区划代码"))
    assert villages == {"990102001001", "990102001002"}  # not 城关街道's, not the neighbouring county's
    assert "13700000000" in column(book["居民"], "手机号")  # managers see the full phone
    codes = set(column(book["行政区划"], "区划代码"))
    assert codes == {"990102001000", "990102001001", "990102001002"}
    # Cadres of the township only, and their phones masked: township staff do not manage cadres.
    usernames = set(column(book["干部"], "用户名"))
    assert {"township_staff", "township_leader"} <= usernames
    assert not usernames & {"county_office", "department_staff", "other_township_staff"}
    data = export_workbook(actor=staff, kinds=["residents"])
    result = import_file(actor=staff, kind="residents", filename="r.xlsx", data=data)
    assert (result.counts["residents"].created, result.counts["residents"].updated) == (0, 0)
    # The whole export (tree, departments, cadres, residents) re-imports as a roster: every row unchanged.
    before = snapshot()
    result = import_file(actor=staff, kind="roster", filename="all.xlsx", data=export_workbook(actor=staff))
    assert all(c.created == c.updated == 0 for c in result.counts.values()), result.summary()
    assert result.counts["departments"].unchanged == 6 and result.counts["residents"].unchanged == 3
    assert snapshot()["resident_rows"] == before["resident_rows"]


def test_masked_phones_reimport_without_change(people, tree):
    from gongzhi.core.models import Cadre

    Cadre.objects.filter(user__username="township_leader").update(phone="13812345678")
    book = read(export_workbook(actor=people["township_staff"], kinds=["cadres"]))
    i = book["干部"][0].index("用户名")
    row = next(r for r in book["干部"] if r[i] == "township_leader")
    assert row[book["干部"][0].index("手机号")] == "138****5678"
    # The county office re-imports a sheet with that masked phone: the stored number is kept.
    data = xlsx({"干部": [book["干部"][0], row]})
    result = import_file(actor=people["county_office"], kind="cadres", filename="c.xlsx", data=data)
    assert result.counts["cadres"].unchanged == 1
    assert Cadre.objects.get(user__username="township_leader").phone == "13812345678"


def test_county_office_sees_no_residents_and_not_the_other_county(people):
    book = read(export_workbook(actor=people["county_office"]))
    assert "居民" not in book
    codes = column(book["行政区划"], "区划代码")
    assert "990103000000" not in codes and "990102001001" in codes
    assert "邻县住建局" not in column(book["部门"], "名称")
    assert "other_township_staff" not in column(book["干部"], "用户名")
    # Its own cadres' phones are in full (it manages them).
    assert "county_office" in column(book["干部"], "用户名")


def test_village_committee_sees_its_village_only(people):
    book = read(export_workbook(actor=people["village_committee"], kinds=["residents"]))
    assert set(column(book["居民"], "村（社区）区划代码")) == {"990102001001"}


def test_export_is_audited_without_personal_data(people):
    export_workbook(actor=people["township_staff"], kinds=["residents"])
    ev = AuditEvent.objects.order_by("-seq").first()
    assert ev.action == "roster.export" and ev.data == {"rows": {"residents": 3}}  # 2 here + users' resident


def test_imported_ids_never_come_back_out(people, tree):
    import_file(
        actor=people["admin"],
        kind="residents",
        filename="r.xlsx",
        data=xlsx({"居民": [RES_HEAD, ["甲", "990102001001", "H1", "", id_number(3), "是"]]}),
    )
    raw = export_workbook(actor=people["admin"])
    assert id_number(3).encode() not in raw
    book = read(raw)
    assert id_number(3) not in str(book)


def test_template_has_headers_notes_and_examples():
    book = read(template_workbook("roster"))
    assert list(book) == ["行政区划", "部门", "干部", "居民", "说明"]
    for kind, name in SHEET_NAMES.items():
        assert book[name][0] == [c.header for c in COLUMNS[kind]]
        assert all(all(v is None for v in row) for row in book[name][1:])  # no example rows on data sheets
    notes = str(book["说明"])
    assert "990102001001" in notes and "是否核验" in notes
    wb = openpyxl.load_workbook(io.BytesIO(template_workbook("residents")))
    assert "必填" in wb["居民"]["B1"].comment.text
    assert wb["居民"]["E2"].number_format == "@"  # ID column is text, so Excel keeps all 18 digits


# --- views ---------------------------------------------------------------------------------------------------


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize(
    ("who", "kind", "status"),
    [
        ("admin", "roster", 200),
        ("admin", "residents", 200),
        ("county_office", "cadres", 200),
        ("county_office", "residents", 403),
        ("township_staff", "residents", 200),
        ("township_staff", "units", 200),
        ("village_committee", "roster", 200),
        ("department_staff", "units", 403),
        ("discipline", "roster", 403),
        ("resident", "residents", 403),
    ],
)
def test_export_view_permissions(client, people, who, kind, status):
    client.force_login(people[who])
    resp = client.get(reverse("roster:export", args=[kind]))
    assert resp.status_code == status
    if status == 200:
        assert resp["Content-Type"] == XLSX
        assert "attachment" in resp["Content-Disposition"]
        assert resp["Cache-Control"] == "no-store"
        read(resp.content)


def test_export_view_unknown_kind_404(client, people):
    client.force_login(people["admin"])
    assert client.get(reverse("roster:export", args=["secrets"])).status_code == 404
    assert client.get(reverse("roster:template", args=["secrets"])).status_code == 404


def test_template_view(client, people):
    client.force_login(people["township_staff"])
    resp = client.get(reverse("roster:template", args=["residents"]))
    assert resp.status_code == 200 and resp["Content-Type"] == XLSX
    assert list(read(resp.content)) == ["居民", "说明"]
    assert client.get(reverse("roster:template", args=["units"])).status_code == 200  # no data in a template
    client.force_login(people["department_staff"])
    assert client.get(reverse("roster:template", args=["units"])).status_code == 403


def test_export_view_anonymous(client, people):
    resp = client.get(reverse("roster:export", args=["roster"]))
    assert resp.status_code == 302


def test_formula_like_text_is_exported_as_text(people, tree):
    import zipfile

    resident(tree.v11, name='=HYPERLINK("http://evil.example","点我")')
    data = export_workbook(actor=people["admin"], kinds=["residents"])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    assert '=HYPERLINK("http://evil.example","点我")' in column(read(data)["居民"], "姓名")


def test_cli_export(db, tree, tmp_path, capsys):
    from gongzhi.cli import main

    out = tmp_path / "all.xlsx"
    assert main(["export", str(out), "--kind", "units"]) == 0
    book = read(out.read_bytes())
    assert list(book) == ["行政区划"] and "990103001001" in column(book["行政区划"], "区划代码")


@pytest.mark.parametrize(
    "who",
    [
        "admin",
        "county_office",
        "township_leader",
        "township_staff",
        "village_committee",
        "other_township_staff",
    ],
)
def test_every_importer_can_reimport_its_own_export(people, who):
    actor = people[who]
    before = snapshot()
    result = import_file(actor=actor, kind="roster", filename="all.xlsx", data=export_workbook(actor=actor))
    assert all(c.created == c.updated == 0 for c in result.counts.values()), result.summary()
    after = snapshot()
    assert {k: v for k, v in after.items() if k not in ("audit", "head")} == {
        k: v for k, v in before.items() if k not in ("audit", "head")
    }
