"""The plan pages end to end: create, add items (with a form error), file, review, decide (approve the clean ones in
one click), the item page with its QR code, import and export, and the public code check; query counts of the
list pages stay flat as data grows."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from gongzhi.inspections import plans
from gongzhi.inspections.models import InspectionItem, InspectionPlan, ItemStatus, ReviewFlag, ReviewRun

from .factories import YEAR, dept2_staff, first_item, item_input, make_plan


def client_for(user: Any) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def item_post(**kw: Any) -> dict[str, Any]:
    data = {
        "kind": "inspection",
        "topic": "建筑工地扬尘治理检查",
        "scope": "all",
        "window_start": f"{YEAR}-03-01",
        "window_end": f"{YEAR}-03-31",
        "mode": "onsite",
        "township_hours": "2",
        "materials": "扬尘治理方案\n现场照片",
        "data_fields": "",
    }
    data.update(kw)
    return data


def test_department_drafts_and_files_a_plan(users: Any, tree: Any) -> None:
    c = client_for(users["department_staff"])
    assert c.get(reverse("plans:list")).status_code == 200
    r = c.post(reverse("plans:create"), {"year": YEAR})
    plan = InspectionPlan.objects.get()
    assert r.status_code == 303 and r["Location"] == reverse("plans:detail", args=[plan.pk])
    r = c.post(reverse("plans:create"), {"year": YEAR})
    assert r.status_code == 400 and "已有" in r.content.decode()
    url = reverse("plans:item-create", args=[plan.pk])
    assert c.get(url).status_code == 200
    r = c.post(url, item_post(window_start=f"{YEAR}-04-01"))
    assert r.status_code == 400 and "早于开始日期" in r.content.decode()
    assert 'aria-invalid="true"' in r.content.decode()
    r = c.post(url, item_post(scope="some", townships=[tree.t1.pk], next="another"))
    assert r.status_code == 303 and r["Location"] == url
    r = c.post(url, item_post(topic="物业小区消防检查"))
    assert r.status_code == 303
    page = c.get(reverse("plans:detail", args=[plan.pk])).content.decode()
    assert "建筑工地扬尘治理检查" in page and "报送计划" in page
    r = c.post(reverse("plans:file", args=[plan.pk]))
    assert r.status_code == 303
    plan.refresh_from_db()
    assert plan.status == "filed"
    r = c.post(reverse("plans:file", args=[plan.pk]))
    assert r.status_code == 400 and "不能重复报送" in r.content.decode()
    # After filing the add-item page files an out-of-plan item.
    r = c.post(url, item_post(topic="汛期安全检查", materials=""))
    extra = InspectionItem.objects.get(topic="汛期安全检查")
    assert extra.out_of_plan and r["Location"] == reverse("plans:item", args=[extra.pk])


def test_county_office_reviews_and_approves_clean_items_in_three_clicks(users: Any, tree: Any) -> None:
    make_plan(
        users["department_staff"],
        tree.dept,
        items=[{"topic": "建筑工地扬尘治理检查"}, {"topic": "燃气安全检查", "materials": "现场照片"}],
        filed=True,
    )
    c = client_for(users["county_office"])
    # Click 1: the decisions page (from the nav or the home page).
    page = c.get(reverse("plans:decisions") + f"?year={YEAR}").content.decode()
    assert "无提示的计划内事项 1 项" in page and "须逐项审核 1 项" in page
    # Click 2: approve every clean item.
    r = c.post(reverse("plans:approve-clean"), {"county": tree.county.pk, "year": YEAR})
    assert r.status_code == 303
    clean = InspectionItem.objects.get(topic="建筑工地扬尘治理检查")
    flagged = InspectionItem.objects.get(topic="燃气安全检查")
    assert clean.status == ItemStatus.APPROVED and clean.code
    assert flagged.status == ItemStatus.PENDING
    # The flagged one is decided on its page, with the flag's sentence shown.
    page = c.get(reverse("plans:item", args=[flagged.pk])).content.decode()
    assert "索要留痕材料" in page and "批准并生成事项码" in page
    assert "「现场照片」属于留痕类" in page  # the flag's sentence (inspections.explain)
    r = c.post(reverse("plans:item-decide", args=[flagged.pk]), {"action": "return"})
    assert r.status_code == 400 and "理由" in r.content.decode()
    r = c.post(reverse("plans:item-decide", args=[flagged.pk]), {"action": "approve"})
    assert r.status_code == 303
    page = c.get(reverse("plans:item", args=[flagged.pk])).content.decode()
    assert "<svg" in page and "<del>现场照片</del>" in page
    review_page = c.get(reverse("plans:review") + f"?year={YEAR}")
    assert review_page.status_code == 200
    assert c.post(reverse("plans:review-run"), {"county": tree.county.pk, "year": YEAR}).status_code == 303


def test_department_sees_flags_of_its_items_and_fixes_a_returned_item(users: Any, tree: Any) -> None:
    staff = users["department_staff"]
    plan = make_plan(staff, tree.dept, filed=True)
    item = first_item(plan)
    plans.item_decide(actor=users["county_office"], item_id=item.pk, action="return", note="请补充依据")
    c = client_for(staff)
    page = c.get(reverse("plans:item-edit", args=[item.pk])).content.decode()
    assert "请补充依据" in page and "修改并重新报送" in page
    r = c.post(reverse("plans:item-edit", args=[item.pk]), item_post(basis="《安全生产法》"))
    assert r.status_code == 303
    item.refresh_from_db()
    assert item.status == ItemStatus.PENDING and item.basis == "《安全生产法》"


def test_code_page_and_slip(users: Any, tree: Any) -> None:
    plan = make_plan(users["department_staff"], tree.dept, filed=True)
    item = first_item(plan)
    plans.item_decide(actor=users["county_office"], item_id=item.pk, action="approve")
    item.refresh_from_db()
    c = client_for(users["department_staff"])
    page = c.get(reverse("plans:item-slip", args=[item.pk])).content.decode()
    assert item.code in page and "<svg" in page and "/v/" + item.code in page
    # A township targeted by the item reads it but is not shown the code.
    tp = client_for(users["township_leader"]).get(reverse("plans:item", args=[item.pk])).content.decode()
    assert item.code not in tp
    assert (
        client_for(users["township_leader"]).get(reverse("plans:item-slip", args=[item.pk])).status_code
        == 404
    )


@pytest.fixture
def approved(users: Any, tree: Any) -> InspectionItem:
    cache.clear()
    plan = make_plan(
        users["department_staff"],
        tree.dept,
        items=[
            {"all_townships": False, "township_ids": [tree.t1.pk], "materials": "隐患整改情况说明、现场照片"}
        ],
        filed=True,
    )
    item = first_item(plan)
    plans.item_decide(actor=users["county_office"], item_id=item.pk, action="approve")
    item.refresh_from_db()
    return item


def test_verify_valid_code_without_login(approved: InspectionItem, tree: Any) -> None:
    c = Client()
    typed = approved.code.lower().replace("-", "").replace("0", "o")  # type: ignore[union-attr]
    r = c.get(reverse("verify:form") + "?code=" + typed)
    page = r.content.decode()
    assert r.status_code == 200 and "有效" in page
    for text in (tree.dept.name, approved.topic, "东河镇", tree.office.name, "隐患整改情况说明", "实地"):
        assert text in page
    assert "不得索要" in page and "现场照片" in page
    # The QR code opens /v/<code>/ directly.
    assert "有效" in c.get(reverse("verify:code", args=[approved.code])).content.decode()
    # Nothing internal leaks: no decision note, no other township, no link into the platform.
    assert "城关街道" not in page and "/inspections/" not in page


def test_verify_revoked_unknown_and_mistyped(approved: InspectionItem, users: Any) -> None:
    plans.code_revoke(actor=users["county_office"], item_id=approved.pk, reason="检查计划取消")
    c = Client()
    page = c.get(reverse("verify:code", args=[approved.code])).content.decode()
    assert "已撤销" in page and "检查计划取消" in page and "请拒绝接待" in page
    from gongzhi.inspections import codes

    fake = codes.make_code(YEAR)
    page = c.get(reverse("verify:code", args=[fake])).content.decode()
    assert "查无此码，请拒绝并向县减负办反映" in page
    assert approved.code is not None
    typo = approved.code[:-1] + ("2" if approved.code[-1] != "2" else "3")
    page = c.get(reverse("verify:code", args=[typo])).content.decode()
    assert "格式不正确" in page


def test_verify_throttles_guessing(approved: InspectionItem) -> None:
    from gongzhi.inspections import codes
    from gongzhi.inspections.plan_views import VERIFY_MAX_MISSES

    c = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(VERIFY_MAX_MISSES):
        assert c.get(reverse("verify:code", args=[codes.make_code(YEAR)])).status_code == 200
    r = c.get(reverse("verify:code", args=[approved.code]))
    assert r.status_code == 429 and "过于频繁" in r.content.decode()
    # Another client is not affected.
    assert (
        Client(REMOTE_ADDR="203.0.113.10").get(reverse("verify:code", args=[approved.code])).status_code
        == 200
    )


def test_import_page_shows_the_error_table(users: Any, tree: Any) -> None:
    c = client_for(users["department_staff"])
    assert c.get(reverse("plans:import")).status_code == 200
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = (
        f"类型,事项名称,对象乡镇,开始日期,结束日期\n检查,燃气检查,西山乡,{YEAR}-05-01,{YEAR}-04-01\n".encode()
    )
    r = c.post(reverse("plans:import"), {"year": YEAR, "file": SimpleUploadedFile("p.csv", csv)})
    page = r.content.decode()
    assert r.status_code == 400 and "西山乡" in page and "早于开始日期" in page and "<td>2</td>" in page
    assert not InspectionPlan.objects.exists()
    csv = (
        f"类型,事项名称,对象乡镇,开始日期,结束日期\n检查,燃气检查,东河镇,{YEAR}-05-01,{YEAR}-05-31\n".encode()
    )
    r = c.post(reverse("plans:import"), {"year": YEAR, "file": SimpleUploadedFile("p.csv", csv)})
    assert r.status_code == 303 and InspectionItem.objects.count() == 1


def test_export_and_template(users: Any, tree: Any) -> None:
    make_plan(users["department_staff"], tree.dept)
    c = client_for(users["department_staff"])
    r = c.get(reverse("plans:export") + f"?year={YEAR}")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None and ws.cell(2, 6).value == "安全生产大检查"
    assert c.get(reverse("plans:template")).status_code == 200


def _many(users: Any, tree: Any, n_plans: int) -> None:
    other = dept2_staff(tree)
    for k in range(n_plans):
        from tests.factories import DepartmentFactory, cadre

        if k == 0:
            make_plan(users["department_staff"], tree.dept, items=[{}, {"topic": "b"}], filed=True)
        elif k == 1:
            make_plan(
                other,
                tree.dept2,
                items=[{}, {"topic": "c", "all_townships": False, "township_ids": [tree.t1.pk]}],
                filed=True,
            )
        else:
            d = DepartmentFactory(county=tree.county)
            staff = cadre(department=d, username=f"s{k}")
            make_plan(
                staff,
                d,
                items=[
                    {"topic": f"事项{k}"},
                    {"topic": f"事项{k}b", "all_townships": False, "township_ids": [tree.t2.pk]},
                ],
                filed=True,
            )


@pytest.mark.parametrize("path", ["plans:list", "plans:review", "plans:decisions"])
def test_list_pages_query_counts_do_not_grow(
    users: Any, tree: Any, path: str, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(users["county_office"])
    url = reverse(path) + f"?year={YEAR}&show=all"
    _many(users, tree, 2)
    c.get(url)
    with CaptureQueriesContext(connection) as small:
        assert c.get(url).status_code == 200
    _many_more = 6
    for k in range(2, 2 + _many_more):
        from tests.factories import DepartmentFactory, cadre

        d = DepartmentFactory(county=tree.county)
        staff = cadre(department=d, username=f"m{k}")
        make_plan(
            staff,
            d,
            items=[
                {"topic": f"事项{k}"},
                {"topic": f"另一事项{k}", "all_townships": False, "township_ids": [tree.t2.pk]},
            ],
            filed=True,
        )
    with CaptureQueriesContext(connection) as big:
        assert c.get(url).status_code == 200
    assert len(big) == len(small), [q["sql"][:120] for q in big.captured_queries]
    assert len(big) <= 30


def test_plan_detail_query_count(users: Any, tree: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff = users["department_staff"]
    plan = make_plan(
        staff, tree.dept, items=[{"all_townships": False, "township_ids": [tree.t1.pk]}], filed=True
    )
    c = client_for(staff)
    url = reverse("plans:detail", args=[plan.pk])
    c.get(url)
    with CaptureQueriesContext(connection) as small:
        c.get(url)
    for k in range(10):
        plans.item_create(
            actor=staff,
            plan_id=plan.pk,
            data=item_input(topic=f"事项{k}", all_townships=False, township_ids=[tree.t1.pk, tree.t2.pk]),
        )
    with CaptureQueriesContext(connection) as big:
        assert c.get(url).status_code == 200
    assert len(big) == len(small)
    assert ReviewRun.objects.exists()


def test_home_sections(users: Any, tree: Any) -> None:
    staff = users["department_staff"]
    plan = make_plan(
        staff, tree.dept, items=[{}, {"topic": "燃气安全检查", "materials": "现场照片"}], filed=True
    )
    a = first_item(plan)
    plans.item_decide(
        actor=users["county_office"], item_id=a.pk, action="return", note="与应急局重复，请合并"
    )
    office = client_for(users["county_office"]).get("/").content.decode()
    assert f"{YEAR} 年度 1 个事项待审核" in office and "索要留痕材料 1" in office
    dept = client_for(staff).get("/").content.decode()
    assert a.topic in dept and "与应急局重复，请合并" in dept
    town = client_for(users["township_leader"]).get("/").content.decode()
    assert reverse("verify:form") in town


def test_admin_pages_are_read_only(users: Any, tree: Any) -> None:
    plan = make_plan(users["department_staff"], tree.dept, filed=True)
    c = client_for(users["admin"])
    for url in (
        "/admin/inspections/inspectionplan/",
        f"/admin/inspections/inspectionplan/{plan.pk}/change/",
        "/admin/inspections/inspectionitem/",
        "/admin/inspections/reviewrun/",
        "/admin/inspections/reviewflag/",
        "/admin/inspections/inspectionsettings/",
    ):
        assert c.get(url).status_code == 200, url
    item = first_item(plan)
    assert c.post(f"/admin/inspections/inspectionitem/{item.pk}/delete/", {"post": "yes"}).status_code == 403
    assert InspectionItem.objects.filter(pk=item.pk).exists()


def test_a_township_reads_its_approved_item_without_the_county_review(users: Any, tree: Any) -> None:
    """The review's flags are the county office's and the filing departments' working notes: they name other
    departments' items (pending ones too) and other townships. A township reading an approved item aimed at it
    sees the item, not the flags — on the page and in the API."""
    from gongzhi.inspections import review

    from .factories_visits import item as make_item

    mine = make_item(tree.dept, topic="森林防火专项检查", targets=[tree.t1, tree.t2])
    make_item(tree.dept2, topic="森林防火检查（机密草稿）", targets=[tree.t2], status=ItemStatus.PENDING)
    run = review.review_run(actor=users["county_office"], county=tree.county, year=mine.plan.year)
    assert run is not None and ReviewFlag.objects.filter(run=run, item=mine).exists()
    # The department that filed it still sees its flags.
    dept_page = (
        client_for(users["department_staff"]).get(reverse("plans:item", args=[mine.pk])).content.decode()
    )
    assert "机密草稿" in dept_page
    town = client_for(users["township_leader"])
    page = town.get(reverse("plans:item", args=[mine.pk]))
    assert page.status_code == 200 and "森林防火专项检查" in page.content.decode()
    assert "机密草稿" not in page.content.decode()
    api = town.get(f"/api/v1/inspections/items/{mine.pk}").json()
    assert api["topic"] == "森林防火专项检查" and api["flags"] == []
    listed = town.get("/api/v1/inspections/items").json()["items"]
    assert [i["flags"] for i in listed if i["id"] == mine.pk] == [[]]
