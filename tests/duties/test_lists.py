"""Duty lists: scoped reads, versions and their diff, 动态调整 (apply → staffing office decides → new version), and the
P1 report with its Excel export."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.duties import gate, lists, reports
from gongzhi.duties.models import DutyAdjustment, DutyItem, DutyList, ListStatus

from .factories import make_list, tree_departments

FUTURE = dt.date.today() + dt.timedelta(days=30)


@pytest.fixture
def t1_list(tree: Any) -> DutyList:
    return make_list(tree.t1, tree.county, tree_departments(tree), power_department=tree.dept2)


def test_scope_of_list_reads(users: Any, tree: Any, t1_list: DutyList) -> None:
    template = make_list(tree.county, tree.county, tree_departments(tree))
    assert set(lists.list_index(user=users["township_staff"])) == {t1_list, template}
    assert set(lists.list_index(user=users["department_staff"])) == {t1_list, template}
    assert list(lists.list_index(user=users["other_township_staff"])) == []
    with pytest.raises(NotFoundError):
        lists.list_get(user=users["other_township_staff"], pk=t1_list.pk)
    with pytest.raises(PermissionDeniedError):
        lists.list_index(user=users["resident"])
    counts = lists.list_index(user=users["county_office"]).get(pk=t1_list.pk)
    assert (counts.n_basic, counts.n_cooperative, counts.n_reclaimed) == (4, 2, 2)


def _apply(users: Any, tree: Any, t1_list: DutyList, action: str, **kw: Any) -> DutyAdjustment:
    return lists.adjustment_apply(
        actor=users["township_leader"], township_id=tree.t1.pk, action=action, reason="乡镇无执法权", **kw
    )


def test_adjustment_change_publishes_a_new_version_and_keeps_the_old(
    users: Any, tree: Any, t1_list: DutyList
) -> None:
    item = t1_list.items.get(name="森林防火宣传与巡查")
    adj = _apply(
        users,
        tree,
        t1_list,
        "change",
        item_lineage=item.lineage,
        proposed={
            "category": "cooperative",
            "name": "森林防火宣传与巡查",
            "lead_department": "县应急管理局",
            "content": "配合开展森林防火",
        },
    )
    with pytest.raises(PermissionDeniedError):
        lists.adjustment_decide(actor=users["county_office"], adjustment_id=adj.pk, approve=True)
    with pytest.raises(ServiceError):  # not later than the current version
        lists.adjustment_decide(
            actor=users["staffing_office"], adjustment_id=adj.pk, approve=True, effective_from="2024-01-01"
        )
    lists.adjustment_decide(
        actor=users["staffing_office"], adjustment_id=adj.pk, approve=True, effective_from=dt.date(2026, 6, 1)
    )
    adj.refresh_from_db()
    new = adj.result_list
    assert adj.status == "approved" and new.version == 2 and new.status == ListStatus.PUBLISHED
    t1_list.refresh_from_db()
    assert t1_list.status == ListStatus.SUPERSEDED and t1_list.effective_to == dt.date(2026, 5, 31)
    assert DutyItem.objects.filter(duty_list=t1_list).count() == 8  # the old version stays readable
    diff = lists.list_diff(t1_list, new)
    assert not diff.added and not diff.removed and len(diff.changed) == 1
    fields = {f for f, _, _ in diff.changed[0].changes}
    assert {"类别", "牵头部门", "具体内容"} <= fields
    assert diff.unchanged == 7
    moved = new.items.get(lineage=item.lineage)
    assert moved.category == "cooperative" and moved.lead_department == tree.dept2
    # The gate now judges against the new version.
    assert gate.current_list(tree.t1) == new


def test_adjustment_add_and_remove(users: Any, tree: Any, t1_list: DutyList) -> None:
    add = _apply(
        users,
        tree,
        t1_list,
        "add",
        proposed={"category": "basic", "name": "农村公益性公墓管理", "content": "管理公益性公墓"},
    )
    lists.adjustment_decide(
        actor=users["staffing_office"], adjustment_id=add.pk, approve=True, effective_from=dt.date(2026, 2, 1)
    )
    v2 = DutyList.objects.get(owner=tree.t1, status=ListStatus.PUBLISHED)
    assert v2.items.filter(name="农村公益性公墓管理", category="basic").exists() and v2.items.count() == 9
    victim = v2.items.get(name="人民调解与矛盾纠纷排查化解")
    rm = lists.adjustment_apply(
        actor=users["department_staff"],
        township_id=tree.t1.pk,
        action="remove",
        reason="已收回",
        item_lineage=victim.lineage,
    )
    assert rm.applicant_department == tree.dept
    lists.adjustment_decide(
        actor=users["staffing_office"], adjustment_id=rm.pk, approve=True, effective_from=dt.date(2026, 3, 1)
    )
    v3 = DutyList.objects.get(owner=tree.t1, status=ListStatus.PUBLISHED)
    assert v3.version == 3 and not v3.items.filter(lineage=victim.lineage).exists()
    diff = lists.list_diff(v2, v3)
    assert [n for _, n, _ in diff.removed] == ["人民调解与矛盾纠纷排查化解"]


def test_adjustment_bad_input(users: Any, tree: Any, t1_list: DutyList) -> None:
    bad = [
        ({"action": "add", "proposed": {"category": "nonsense", "name": "x"}}, "类别"),
        ({"action": "add", "proposed": {"category": "basic", "name": ""}}, "事项名称"),
        ({"action": "add", "proposed": {"category": "cooperative", "name": "x"}}, "牵头部门"),
        (
            {
                "action": "add",
                "proposed": {"category": "basic", "name": "x", "lead_department": "县不存在局"},
            },
            "不在本县",
        ),
        (
            {"action": "change", "item_lineage": "nope", "proposed": {"category": "basic", "name": "x"}},
            "请选择要调整的事项",
        ),
        ({"action": "explode"}, "调整类型"),
    ]
    for kw, message in bad:
        with pytest.raises(ServiceError) as e:
            _apply(users, tree, t1_list, **kw)
        assert message in e.value.message
    with pytest.raises(ServiceError):
        lists.adjustment_apply(
            actor=users["township_leader"], township_id=tree.t1.pk, action="add", reason=" ", proposed={}
        )
    with pytest.raises(PermissionDeniedError):
        lists.adjustment_apply(
            actor=users["other_township_staff"], township_id=tree.t1.pk, action="add", reason="x", proposed={}
        )
    assert not DutyAdjustment.objects.exists()


def test_rejection_needs_a_reason_and_publishes_nothing(users: Any, tree: Any, t1_list: DutyList) -> None:
    adj = _apply(users, tree, t1_list, "remove", item_lineage=t1_list.items.first().lineage)
    with pytest.raises(ServiceError):
        lists.adjustment_decide(actor=users["staffing_office"], adjustment_id=adj.pk, approve=False)
    lists.adjustment_decide(
        actor=users["staffing_office"], adjustment_id=adj.pk, approve=False, note="依据不足"
    )
    assert DutyList.objects.filter(owner=tree.t1).count() == 1
    with pytest.raises(ServiceError):
        lists.adjustment_decide(actor=users["staffing_office"], adjustment_id=adj.pk, approve=True)


def test_pages_detail_diff_and_adjust(users: Any, tree: Any, t1_list: DutyList) -> None:
    c = Client()
    c.force_login(users["township_leader"])
    page = c.get(f"/duties/lists/{t1_list.pk}/?category=reclaimed").content.decode()
    assert "建筑施工安全监管执法" in page and "农村低保" not in page
    item = t1_list.items.get(name="森林防火宣传与巡查")
    r = c.post(
        f"/duties/lists/{t1_list.pk}/adjust/",
        {
            "action": "change",
            "item": item.lineage,
            "category": "basic",
            "name": "森林防火宣传、巡查与初期火情处置",
            "reason": "职责细化",
        },
    )
    assert r.status_code == 302
    adj = DutyAdjustment.objects.get()
    c.force_login(users["staffing_office"])
    assert "职责细化" in c.get(f"/duties/adjustments/{adj.pk}/").content.decode()
    r = c.post(
        f"/duties/adjustments/{adj.pk}/decide/", {"decision": "approve", "effective_from": "2026-06-01"}
    )
    assert r.status_code == 302
    adj.refresh_from_db()
    diff = c.get(f"/duties/lists/{t1_list.pk}/diff/{adj.result_list_id}/").content.decode()
    assert "森林防火宣传、巡查与初期火情处置" in diff and "森林防火宣传与巡查" in diff


def test_report_counts_scoping_and_xlsx(users: Any, tree: Any, t1_list: DutyList) -> None:
    make_list(tree.t2, tree.county, tree_departments(tree))
    send = users["department_staff"]
    for title, content in [
        ("低保入户调查", "受理辖区居民最低生活保障申请，开展入户调查和初审"),
        ("建筑工地施工安全违法行为处罚", "对辖区建筑工地施工安全违法行为实施行政处罚"),
        ("招商引资签约", "各乡镇须引进亿元以上招商项目两个并完成签约"),
    ]:
        gate.task_send(
            actor=send,
            title=title,
            content=content,
            deadline=FUTURE,
            expected_hours=1,
            township_ids=[tree.t1.pk, tree.t2.pk],
        )
    report = reports.build_report(user=users["county_office"], county=tree.county)
    t1 = next(r for r in report.townships if r.id == tree.t1.pk)
    assert t1.total == 3 and t1.counts == {"admitted": 1, "refused": 1, "held": 1}
    dept = next(r for r in report.departments if r.id == tree.dept.pk)
    assert dept.total == 6 and dept.reclaimed_pushes == 2
    assert report.totals.total == 6
    assert [(m["name"], m["townships"]) for m in report.mismatches] == [("森林防火宣传与巡查", ["东河镇"])]
    own = reports.build_report(user=users["township_staff"], county=tree.county)
    assert [r.id for r in own.townships] == [tree.t1.pk] and own.departments == []
    with pytest.raises(PermissionDeniedError):
        reports.build_report(user=users["village_committee"], county=tree.county)
    book = load_workbook(io.BytesIO(reports.report_xlsx(report)))
    assert book.sheetnames == ["按乡镇", "按部门", "权责不对等事项"]
    rows = list(book["按乡镇"].iter_rows(values_only=True))
    assert rows[2][0] == "东河镇" and rows[2][1] == 1  # 准入
    c = Client()
    c.force_login(users["county_office"])
    page = c.get("/duties/reports/").content.decode()
    assert "stackbar" in page and "东河镇" in page
    assert c.get("/duties/reports.xlsx")["Content-Type"].startswith("application/vnd.openxmlformats")


def test_api_lists_items_and_adjustment(users: Any, tree: Any, t1_list: DutyList) -> None:
    c = Client()
    c.force_login(users["township_staff"])
    r = c.get("/api/v1/duties/lists")
    assert r.status_code == 200 and r.json()["count"] == 1
    r = c.get(f"/api/v1/duties/lists/{t1_list.pk}/items?category=cooperative")
    items = r.json()["items"]
    assert {i["name"] for i in items} == {"农村危房改造", "安全生产检查"}
    assert items[0]["assisting"]
    r = c.post(
        "/api/v1/duties/adjustments",
        json.dumps(
            {
                "township_id": tree.t1.pk,
                "action": "add",
                "reason": "新增",
                "proposed": {"category": "basic", "name": "殡葬改革宣传"},
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["status"] == "pending"


def test_adjust_form_opens_prefilled_from_a_row(users: Any, tree: Any, t1_list: DutyList) -> None:
    c = Client()
    c.force_login(users["township_staff"])
    item = t1_list.items.get(name="农村危房改造")
    detail = c.get(f"/duties/lists/{t1_list.pk}/?q=危房").content.decode()
    assert f"?item={item.lineage}&amp;action=remove" in detail
    page = c.get(f"/duties/lists/{t1_list.pk}/adjust/?item={item.lineage}&action=change").content.decode()
    assert f'<option value="{item.lineage}" selected' in page
    assert 'value="农村危房改造"' in page and "<option selected>县住房和城乡建设局</option>" in page
    other = c.get(f"/duties/lists/{t1_list.pk}/adjust/?item=bogus&action=explode").content.decode()
    assert "selected" not in other.split('name="item"')[1].split("</select>")[0]


def test_two_pending_changes_to_different_items_both_apply(users: Any, tree: Any, t1_list: DutyList) -> None:
    a = t1_list.items.get(name="森林防火宣传与巡查")
    b = t1_list.items.get(name="人民调解与矛盾纠纷排查化解")
    adj_a = _apply(
        users,
        tree,
        t1_list,
        "change",
        item_lineage=a.lineage,
        proposed={"category": "basic", "name": a.name, "content": "甲"},
    )
    adj_b = _apply(
        users,
        tree,
        t1_list,
        "change",
        item_lineage=b.lineage,
        proposed={"category": "basic", "name": b.name, "content": "乙"},
    )
    for adj, day in ((adj_a, dt.date(2026, 2, 1)), (adj_b, dt.date(2026, 3, 1))):
        lists.adjustment_decide(
            actor=users["staffing_office"], adjustment_id=adj.pk, approve=True, effective_from=day
        )
    v3 = DutyList.objects.get(owner=tree.t1, version=3)
    assert v3.items.get(lineage=a.lineage).content == "甲" and v3.items.get(lineage=b.lineage).content == "乙"


def test_derive_township_lists_from_the_county_template(users: Any, tree: Any, t1_list: DutyList) -> None:
    template = make_list(tree.county, tree.county, tree_departments(tree))
    with pytest.raises(PermissionDeniedError):
        lists.derive_from_template(
            actor=users["county_office"],
            template_id=template.pk,
            township_ids=[tree.t2.pk],
            effective_from="2026-06-01",
        )
    with pytest.raises(ServiceError):  # a township of another county
        lists.derive_from_template(
            actor=users["staffing_office"],
            template_id=template.pk,
            township_ids=[tree.tb.pk],
            effective_from="2026-06-01",
        )
    with pytest.raises(ServiceError):  # only a template derives
        lists.derive_from_template(
            actor=users["staffing_office"],
            template_id=t1_list.pk,
            township_ids=[tree.t2.pk],
            effective_from="2026-06-01",
        )
    made = lists.derive_from_template(
        actor=users["staffing_office"],
        template_id=template.pk,
        township_ids=[tree.t1.pk, tree.t2.pk],
        effective_from=dt.date(2026, 6, 1),
    )
    assert [(dl.owner, dl.version) for dl in made] == [(tree.t1, 2), (tree.t2, 1)]
    assert all(dl.source_id == template.pk and dl.items.count() == 8 for dl in made)
    # T1 keeps its own lineages (its diff stays meaningful); T2, new, takes the template's (so one cited item can
    # be found in every township derived from the same template).
    t1_new = made[0].items.get(name="农村危房改造")
    assert t1_new.lineage == t1_list.items.get(name="农村危房改造").lineage
    t2_lineages = set(made[1].items.values_list("lineage", flat=True))
    assert t2_lineages == set(template.items.values_list("lineage", flat=True))
    c = Client()
    c.force_login(users["staffing_office"])
    page = c.get(f"/duties/lists/{template.pk}/derive/").content.decode()
    assert "东河镇" in page and "已有清单" in page


def test_api_export_import_and_report(users: Any, tree: Any, t1_list: DutyList) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = Client()
    c.force_login(users["township_staff"])
    r = c.get(f"/api/v1/duties/lists/{t1_list.pk}/export")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    exported = r.content
    r = c.post(
        "/api/v1/duties/imports",
        {
            "file": SimpleUploadedFile("t1.xlsx", exported),
            "county": tree.county.code,
            "township": tree.t1.code,
            "effective_from": "2026-06-01",
        },
    )
    assert r.status_code == 403  # township staff do not publish lists
    c.force_login(users["staffing_office"])
    r = c.post(
        "/api/v1/duties/imports",
        {
            "file": SimpleUploadedFile("t1.xlsx", exported),
            "county": tree.county.code,
            "township": tree.t1.code,
            "effective_from": "2026-06-01",
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["lists"][0]["version"] == 2 and sum(body["lists"][0]["counts"].values()) == 8
    r = c.post(
        "/api/v1/duties/imports",
        {
            "file": SimpleUploadedFile("bad.xls", b"\xd0\xcf\x11\xe0" + b"0" * 100),
            "county": tree.county.code,
            "township": tree.t1.code,
            "effective_from": "2026-07-01",
        },
    )
    assert r.status_code == 400 and r.json()["code"] == "import_failed" and r.json()["detail"]
    assert DutyList.objects.filter(owner=tree.t1).count() == 2
    c.force_login(users["county_office"])
    r = c.get("/api/v1/duties/reports")
    assert r.status_code == 200 and {t["name"] for t in r.json()["townships"]} >= {"东河镇", "城关街道"}


def test_api_import_asks_for_the_mapping_then_takes_it(users: Any, tree: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = "No,Item,对口科室\n1,村务公开,x\n2,民主评议,y\n".encode("utf-8-sig")
    form = {"county": tree.county.code, "township": tree.t1.code, "effective_from": "2026-06-01"}
    c = Client()
    c.force_login(users["staffing_office"])
    r = c.post("/api/v1/duties/imports", {**form, "file": SimpleUploadedFile("list.csv", data)})
    assert r.status_code == 409 and r.json()["code"] == "mapping_unsure"
    mapping = r.json()["detail"]["mapping"]
    assert not DutyList.objects.exists()
    mapping[""]["columns"].update({"1": "name", "2": ""})
    mapping[""]["category"] = "basic"
    r = c.post(
        "/api/v1/duties/imports",
        {**form, "file": SimpleUploadedFile("list.csv", data), "mapping": json.dumps(mapping)},
    )
    assert r.status_code == 201, r.content
    assert r.json()["lists"][0]["counts"]["basic"] == 2
    r = c.post(
        "/api/v1/duties/imports", {**form, "file": SimpleUploadedFile("list.csv", data), "mapping": "[1]"}
    )
    assert r.status_code == 400
