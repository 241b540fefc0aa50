"""一表通: entries, typed submissions once per period (corrections audited), subscriptions, held_fields/resolve for the
review engine, and the pages."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError
from gongzhi.core.models import AuditEvent
from gongzhi.engines.auditchain import digest
from gongzhi.inspections import datacatalog as cat
from gongzhi.inspections.models import CatalogEntry, CatalogSubscription, DataSubmission

from .factories_visits import FIELDS, entry, submit

GOOD = {"resident_pop": "12,345", "farmland": "８８０.５", "contact": "王芳"}


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


# ---- entries --------------------------------------------------------------------------------------------------


def test_county_office_creates_entry_with_typed_fields(users: Any, tree: Any) -> None:
    e = cat.entry_create(
        actor=users["county_office"],
        county=tree.county,
        name="乡镇基本情况",
        period="year",
        fields=cat.parse_field_lines("常住人口 | 人 | 整数 | resident_pop\n耕地面积|亩|数值\n\n联系人"),
        owner_department_id=tree.dept.pk,
    )
    assert [(f["key"], f["type"]) for f in e.fields] == [
        ("resident_pop", "integer"),
        ("f2", "decimal"),
        ("f3", "text"),
    ]
    assert AuditEvent.objects.filter(action="catalog.entry_create", object_id=str(e.pk)).count() == 1
    with pytest.raises(ServiceError) as exc:
        cat.entry_create(
            actor=users["county_office"],
            county=tree.county,
            name="乡镇基本情况",
            period="year",
            fields=FIELDS,
        )
    assert exc.value.code == "duplicate"
    assert CatalogEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ([], "至少定义一个字段"),
        ([{"label": "人口", "key": "Pop"}], "标识「Pop」无效"),
        ([{"label": "人口"}, {"label": "人口"}], "重名"),
        ([{"label": "人口", "type": "布尔"}], "类型「布尔」无效"),
        ([{"label": ""}], "缺少名称"),
    ],
)
def test_bad_field_definitions_are_refused_in_chinese(users: Any, tree: Any, fields: Any, words: str) -> None:
    with pytest.raises(ServiceError) as exc:
        cat.entry_create(
            actor=users["county_office"], county=tree.county, name="x", period="year", fields=fields
        )
    assert words in exc.value.message
    assert not CatalogEntry.objects.exists()


def test_only_the_county_office_creates_entries(users: Any, tree: Any) -> None:
    for role in ("department_staff", "township_leader", "org_department"):
        with pytest.raises(PermissionDeniedError):
            cat.entry_create(actor=users[role], county=tree.county, name="x", period="year", fields=FIELDS)
    with pytest.raises(PermissionDeniedError):  # another county's office
        cat.entry_create(
            actor=users["county_office"], county=tree.county_b, name="x", period="year", fields=FIELDS
        )
    assert not CatalogEntry.objects.exists()


# ---- submissions ------------------------------------------------------------------------------------------------


def test_township_submits_typed_values_and_a_resubmission_corrects_with_audit(users: Any, tree: Any) -> None:
    e = entry(tree.county)
    s = cat.submission_save(
        actor=users["township_staff"], entry_id=e.pk, township_id=tree.t1.pk, period="2025", values=GOOD
    )
    assert s.values == {"resident_pop": 12345, "farmland": "880.5", "contact": "王芳"}
    first = digest(s.values)
    s2 = cat.submission_save(
        actor=users["township_leader"],
        entry_id=e.pk,
        township_id=tree.t1.pk,
        period="2025",
        values={**GOOD, "resident_pop": "12400", "contact": ""},
    )
    assert s2.pk == s.pk and DataSubmission.objects.count() == 1
    assert s2.values == {"resident_pop": 12400, "farmland": "880.5"}
    ev = AuditEvent.objects.filter(action="catalog.submission_correct").get()
    assert ev.data["previous_digest"] == first and ev.data["digest"] == digest(s2.values)
    assert ev.data["changed"] == ["contact", "resident_pop"]
    assert AuditEvent.objects.filter(action="catalog.submission").count() == 1


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({**GOOD, "resident_pop": "一万二"}, "「常住人口」须为整数（人）"),
        ({**GOOD, "resident_pop": "12.5"}, "「常住人口」须为整数"),
        ({**GOOD, "farmland": "abc"}, "「耕地面积」须为数字（亩）"),
        ({**GOOD, "farmland": "1e20"}, "数值过大"),
        ({**GOOD, "farmland": "NaN"}, "「耕地面积」须为数字"),
        ({**GOOD, "farmland": "1.123456"}, "最多保留 4 位小数"),
        ({"farmland": "1", "contact": "x"}, "请填写「常住人口」"),
        ({**GOOD, "bogus": "1"}, "没有这些字段：bogus"),
    ],
)
def test_wrong_values_are_refused_and_nothing_is_written(
    users: Any, tree: Any, values: Any, words: str
) -> None:
    e = entry(tree.county)
    with pytest.raises(ServiceError) as exc:
        cat.submission_save(
            actor=users["township_staff"], entry_id=e.pk, township_id=tree.t1.pk, period="2025", values=values
        )
    assert words in exc.value.message
    assert not DataSubmission.objects.exists() and not AuditEvent.objects.exists()


def test_all_field_errors_are_reported_at_once(users: Any, tree: Any) -> None:
    e = entry(tree.county)
    with pytest.raises(ServiceError) as exc:
        cat.submission_save(
            actor=users["township_staff"],
            entry_id=e.pk,
            township_id=tree.t1.pk,
            period="2025",
            values={"resident_pop": "x", "farmland": "y"},
        )
    assert set(exc.value.detail["errors"]) == {"resident_pop", "farmland"}
    assert "另有 1 处" in exc.value.message


@pytest.mark.parametrize(
    ("period", "words"), [("2025年", "格式不正确"), ("2099", "尚未开始"), ("1999", "格式不正确")]
)
def test_bad_periods(users: Any, tree: Any, period: str, words: str) -> None:
    e = entry(tree.county)
    with pytest.raises(ServiceError) as exc:
        cat.submission_save(
            actor=users["township_staff"], entry_id=e.pk, township_id=tree.t1.pk, period=period, values=GOOD
        )
    assert words in exc.value.message


def test_quarter_and_month_periods_are_canonical(users: Any, tree: Any) -> None:
    q = entry(tree.county, name="季度安全台账", period="quarter")
    m = entry(tree.county, name="月度报表", period="month")
    o = entry(tree.county, name="一次性", period="once")
    ok = {"resident_pop": 1, "farmland": 2}
    a = users["township_staff"]
    assert (
        cat.submission_save(actor=a, entry_id=q.pk, township_id=tree.t1.pk, period="2025q2", values=ok).period
        == "2025Q2"
    )
    assert (
        cat.submission_save(
            actor=a, entry_id=m.pk, township_id=tree.t1.pk, period="2025－03", values=ok
        ).period
        == "2025-03"
    )
    assert (
        cat.submission_save(actor=a, entry_id=o.pk, township_id=tree.t1.pk, period="", values=ok).period
        == "once"
    )
    with pytest.raises(ServiceError):
        cat.submission_save(actor=a, entry_id=m.pk, township_id=tree.t1.pk, period="2025-13", values=ok)


def test_only_the_townships_own_cadres_submit(users: Any, tree: Any) -> None:
    e = entry(tree.county)
    with pytest.raises(PermissionDeniedError):  # another township of the same county
        cat.submission_save(
            actor=users["township_staff"], entry_id=e.pk, township_id=tree.t2.pk, period="2025", values=GOOD
        )
    for role in ("department_staff", "county_office", "village_committee"):
        with pytest.raises((PermissionDeniedError, NotFoundError)):
            cat.submission_save(
                actor=users[role], entry_id=e.pk, township_id=tree.t1.pk, period="2025", values=GOOD
            )
    with pytest.raises(NotFoundError):  # another county's cadre does not even see the entry
        cat.submission_save(
            actor=users["other_township_staff"],
            entry_id=e.pk,
            township_id=tree.tb.pk,
            period="2025",
            values=GOOD,
        )
    with pytest.raises(ServiceError) as exc:  # a township outside the entry's county
        cat.submission_save(
            actor=users["admin"], entry_id=e.pk, township_id=tree.tb.pk, period="2025", values=GOOD
        )
    assert "不在本县" in exc.value.message
    with pytest.raises(NotFoundError):
        cat.submission_save(
            actor=users["township_staff"], entry_id=999999, township_id=tree.t1.pk, period="2025", values=GOOD
        )
    assert not DataSubmission.objects.exists()


def test_retired_entry_takes_no_submissions(users: Any, tree: Any) -> None:
    e = entry(tree.county)
    with pytest.raises(PermissionDeniedError):
        cat.entry_set_active(actor=users["department_staff"], entry_id=e.pk, active=False)
    cat.entry_set_active(actor=users["county_office"], entry_id=e.pk, active=False)
    with pytest.raises(ServiceError) as exc:
        cat.submission_save(
            actor=users["township_staff"], entry_id=e.pk, township_id=tree.t1.pk, period="2025", values=GOOD
        )
    assert "已停用" in exc.value.message


# ---- subscriptions and reading values ---------------------------------------------------------------------------


def test_department_reads_values_only_while_subscribed(users: Any, tree: Any) -> None:
    e = entry(tree.county)
    submit(e, tree.t1, {"resident_pop": 100, "farmland": "1.5"}, "2024")
    submit(e, tree.t1, {"resident_pop": 120, "farmland": "2"}, "2025")
    dept = users["department_staff"]
    with pytest.raises(PermissionDeniedError) as exc:
        cat.township_values(user=dept, entry=e)
    assert "订阅" in exc.value.message
    assert cat.subscription_set(actor=dept, entry_id=e.pk, subscribe=True) is True
    assert cat.subscription_set(actor=dept, entry_id=e.pk, subscribe=True) is True  # idempotent
    assert CatalogSubscription.objects.count() == 1
    rows = cat.township_values(user=dept, entry=e)
    by_name = {r.township_name: r for r in rows}
    assert by_name["东河镇"].period == "2025" and by_name["东河镇"].values["resident_pop"] == 120
    assert by_name["城关街道"].period is None  # the gap is shown, not hidden
    assert [r.period for r in cat.township_values(user=dept, entry=e, period="2024", missing=False)] == [
        "2024"
    ]
    cat.subscription_set(actor=dept, entry_id=e.pk, subscribe=False)
    with pytest.raises(PermissionDeniedError):
        cat.township_values(user=dept, entry=e)
    assert AuditEvent.objects.filter(action__in=["catalog.subscribe", "catalog.unsubscribe"]).count() == 2


def test_who_may_subscribe(users: Any, tree: Any) -> None:
    e = entry(tree.county)
    for role in ("township_staff", "county_office"):
        with pytest.raises(PermissionDeniedError):
            cat.subscription_set(actor=users[role], entry_id=e.pk, subscribe=True)
    with pytest.raises(NotFoundError):
        cat.subscription_set(actor=users["other_township_staff"], entry_id=e.pk, subscribe=True)
    with pytest.raises(PermissionDeniedError):
        cat.subscription_set(
            actor=users["department_staff"], entry_id=e.pk, subscribe=True, department_id=tree.dept2.pk
        )
    assert not CatalogSubscription.objects.exists()


def test_county_readers_read_all_and_owner_department_reads_without_subscribing(
    users: Any, tree: Any
) -> None:
    e = entry(tree.county, owner_department=tree.dept)
    submit(e, tree.t2, {"resident_pop": 5, "farmland": "1"})
    for role in ("county_office", "org_department", "department_staff", "admin"):
        assert len(cat.township_values(user=users[role], entry=e)) == 2
    with pytest.raises(PermissionDeniedError):
        cat.township_values(user=users["township_staff"], entry=e)


# ---- held_fields and resolve --------------------------------------------------------------------------------------


def test_held_fields_and_resolve(users: Any, tree: Any) -> None:
    e = entry(tree.county)
    later = entry(
        tree.county,
        name="人口台账",
        fields=[{"key": "pop", "label": "常住人口", "unit": "人", "type": "integer"}],
    )
    retired = entry(
        tree.county, name="旧表", active=False, fields=[{"key": "x", "label": "户籍人口", "type": "integer"}]
    )
    submit(e, tree.t1, {"resident_pop": 100, "farmland": "1.5"}, "2024")
    submit(e, tree.t1, {"resident_pop": 110, "farmland": "1.5", "contact": ""}, "2025")
    submit(retired, tree.t1, {"x": 1})
    submit(later, tree.t2, {"pop": 7})
    held = cat.held_fields(tree.county)
    assert set(held) == {tree.t1.code, tree.t2.code}
    assert held[tree.t1.code]["常住人口"] == {
        "entry": e.pk,
        "entry_name": "乡镇基本情况",
        "field": "resident_pop",
        "period": "2025",
    }
    assert "联系人" not in held[tree.t1.code]  # a blank value is not held
    assert "户籍人口" not in held[tree.t1.code]  # retired entries do not count
    assert held[tree.t2.code] == {
        "常住人口": {"entry": later.pk, "entry_name": "人口台账", "field": "pop", "period": "2025"}
    }
    assert cat.held_fields(tree.county_b) == {}
    got = cat.resolve({"entry": e.pk, "field": "resident_pop"}, tree.t1)
    assert got is not None and got["value"] == 110 and got["period"] == "2025" and got["unit"] == "人"
    assert cat.resolve({"entry": e.pk, "field": "resident_pop"}, tree.t2.pk) is None
    assert cat.resolve({"entry": e.pk, "field": "nope"}, tree.t1) is None
    assert cat.resolve({"entry": "x"}, tree.t1) is None
    assert cat.resolve(None, tree.t1) is None


def test_held_fields_query_count(users: Any, tree: Any, django_assert_num_queries: Any) -> None:
    for i in range(5):
        e = entry(tree.county, name=f"表{i}")
        submit(e, tree.t1, {"resident_pop": i, "farmland": "1"})
        submit(e, tree.t2, {"resident_pop": i, "farmland": "1"})
    with django_assert_num_queries(2):
        held = cat.held_fields(tree.county)
    assert len(held[tree.t1.code]) == 2


# ---- pages --------------------------------------------------------------------------------------------------------


def test_township_form_is_prefilled_from_the_last_period_and_errors_show_inline(
    users: Any, tree: Any
) -> None:
    e = entry(tree.county)
    submit(e, tree.t1, {"resident_pop": 4321, "farmland": "77.5"}, "2024")
    c = _client(users["township_staff"])
    page = c.get(f"/catalog/{e.pk}/").content.decode()
    assert 'value="4321"' in page and 'value="77.5"' in page and "已按 2024 期数据预填" in page
    r = c.post(
        f"/catalog/{e.pk}/submit/",
        {"township": tree.t1.pk, "period": "2025", "v_resident_pop": "很多", "v_farmland": "80"},
    )
    body = r.content.decode()
    assert r.status_code == 400 and "「常住人口」须为整数" in body and 'value="很多"' in body
    assert DataSubmission.objects.count() == 1
    r = c.post(
        f"/catalog/{e.pk}/submit/",
        {"township": tree.t1.pk, "period": "2025", "v_resident_pop": "4400", "v_farmland": "80"},
    )
    assert r.status_code == 303
    assert DataSubmission.objects.get(period="2025").values == {"resident_pop": 4400, "farmland": "80"}
    page = c.get(r["Location"]).content.decode()
    assert "2025 期已报送" in page and "更正本期数据" in page


def test_department_page_subscribe_values_and_export(users: Any, tree: Any) -> None:
    e = entry(tree.county)
    submit(e, tree.t1, {"resident_pop": 4321, "farmland": "77.5", "contact": '=HYPERLINK("x")'})
    c = _client(users["department_staff"])
    page = c.get(f"/catalog/{e.pk}/").content.decode()
    assert "订阅后可查看" in page and "4321" not in page
    assert c.get(f"/catalog/{e.pk}/values.xlsx").status_code == 403
    assert c.post(f"/catalog/{e.pk}/subscribe/", {"subscribe": "1"}).status_code == 303
    page = c.get(f"/catalog/{e.pk}/").content.decode()
    assert "4321" in page and "1 / 2 个乡镇" in page
    r = c.get(f"/catalog/{e.pk}/values.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][:5] == ("乡镇（街道）", "区划代码", "期别", "常住人口（人）", "耕地面积（亩）")
    assert rows[2][:6] == ("东河镇", tree.t1.code, "2025", 4321, 77.5, '=HYPERLINK("x")')
    assert ws.cell(row=3, column=6).data_type == "s"  # user text never becomes a formula
    assert rows[3][2] == "未报送"


def test_new_entry_page(users: Any, tree: Any) -> None:
    c = _client(users["county_office"])
    assert c.get("/catalog/new/").status_code == 200
    r = c.post(
        "/catalog/new/",
        {"county": tree.county.code, "name": "安全台账", "period": "quarter", "fields": "隐患数 | 处"},
    )
    assert r.status_code == 303
    e = CatalogEntry.objects.get(name="安全台账")
    assert e.fields[0]["type"] == "integer"
    r = c.post(
        "/catalog/new/", {"county": tree.county.code, "name": "安全台账", "period": "quarter", "fields": "x"}
    )
    assert r.status_code == 400 and "已有名为「安全台账」" in r.content.decode()
    assert _client(users["department_staff"]).get("/catalog/new/").status_code == 403


def test_catalog_list_query_count_does_not_grow(
    users: Any, tree: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(3):
        e = entry(tree.county, name=f"表{i}")
        submit(e, tree.t1, {"resident_pop": 1, "farmland": "1"})
    for role in ("township_staff", "department_staff", "county_office"):
        c = _client(users[role])
        c.get("/catalog/")
        with CaptureQueriesContext(connection) as few:
            assert c.get("/catalog/").status_code == 200
        for i in range(3, 60):
            entry(tree.county, name=f"表{i}-{role}")
        with django_assert_max_num_queries(len(few)):
            html = c.get("/catalog/").content.decode()
        assert "第 1 / 2 页" in html or "下一页" in html


def test_resolve_many_matches_resolve(users: Any, tree: Any, django_assert_num_queries: Any) -> None:
    e = entry(tree.county)
    other = entry(
        tree.county, name="人口台账", fields=[{"key": "pop", "label": "常住人口", "type": "integer"}]
    )
    submit(e, tree.t1, {"resident_pop": 1, "farmland": "2"}, "2024")
    submit(e, tree.t1, {"resident_pop": 3, "farmland": "4"}, "2025")
    submit(other, tree.t2, {"pop": 9})
    refs = [
        {"entry": e.pk, "field": "resident_pop"},
        {"entry": e.pk, "field": "farmland"},
        {"entry": e.pk, "field": "contact"},
        {"entry": other.pk, "field": "pop"},
        {"entry": "x"},
    ]
    with django_assert_num_queries(2):
        many = cat.resolve_many(refs, tree.t1)
    assert set(many) == {(e.pk, "resident_pop"), (e.pk, "farmland")}
    for (eid, key), got in many.items():
        assert got == cat.resolve({"entry": eid, "field": key}, tree.t1)
    assert cat.resolve_many([], tree.t1) == {}
