"""The demo county, its printed logins, and bulk seeding."""

from __future__ import annotations

import io
import re
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.password_validation import validate_password
from django.db import connection

from gongzhi.core import demo, namegen
from gongzhi.core.audit import audit_verify
from gongzhi.core.models import (
    AdminUnit,
    AuditEvent,
    Cadre,
    Department,
    DepartmentKind,
    Organization,
    Position,
    Representative,
    Resident,
    Role,
    User,
)
from gongzhi.core.roles import grants_for
from gongzhi.core.services import resident_id_hash
from gongzhi.engines import divisions
from gongzhi.engines.idcard import id_problem, make_id

pytestmark = pytest.mark.django_db

SMALL = 0.02  # 600 residents: the whole tree, departments and cadres, fewer people


def _snapshot() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (
            AdminUnit,
            Department,
            Cadre,
            Position,
            Resident,
            Organization,
            Representative,
            User,
            AuditEvent,
        )
    }


def test_demo_county_shape_small() -> None:
    log: list[str] = []
    assert demo.build_demo_county(progress=log.append, scale=SMALL) is True
    assert any("居民" in line for line in log)

    county = AdminUnit.objects.get(code=demo.COUNTY_CODE)
    assert (county.name, county.parent.code, county.parent.parent.code) == (
        "共治县",
        demo.CITY_CODE,
        demo.PROVINCE_CODE,
    )
    by_kind = Counter(AdminUnit.objects.values_list("level", "kind"))
    assert by_kind[("township", "街道")] == 3
    assert by_kind[("township", "镇")] == 6
    assert by_kind[("township", "乡")] == 3
    assert by_kind[("village", "村")] + by_kind[("village", "社区")] == 150
    assert by_kind[("village", "社区")] >= 24  # every 街道 has 社区 only, 镇 a few

    # Codes are valid and consistent with the tree; 街道 hold only 社区; names unique within the county.
    for unit in AdminUnit.objects.select_related("parent").exclude(level="province"):
        divisions.check_child(unit.parent.code, unit.code, unit.level)
        assert unit.code.startswith("99")
        if unit.level == "village" and unit.parent.kind == "街道":
            assert unit.kind == "社区"
    names = list(AdminUnit.objects.filter(code__startswith="990102").values_list("name", flat=True))
    assert len(names) == len(set(names))

    depts = Department.objects.filter(county=county)
    assert depts.filter(kind=DepartmentKind.FUNCTIONAL).count() == 20
    assert {d.kind for d in depts.exclude(kind=DepartmentKind.FUNCTIONAL)} == {
        DepartmentKind.COUNTY_OFFICE,
        DepartmentKind.ORGANIZATION,
        DepartmentKind.DISCIPLINE,
        DepartmentKind.STAFFING,
    }
    assert depts.filter(name="县住房和城乡建设局").exists()

    assert 380 <= Cadre.objects.count() <= 420
    assert Position.objects.filter(unit__level="village").count() == 150
    assert Position.objects.filter(unit__kind="镇", title="党委书记", is_leader=True).count() == 6
    # Only the printed demo accounts can sign in with a password.
    usable = {u.username for u in User.objects.all() if u.has_usable_password()}
    assert usable == {lg.username for lg in demo.DEMO_LOGINS if lg.password}

    assert Resident.objects.count() == round(demo.DEMO_RESIDENTS * SMALL)
    orgs = Organization.objects.all()
    assert orgs.count() >= 4 and {o.kind for o in orgs} == {"enterprise", "social_org"}
    assert all(namegen.credit_code_ok(o.credit_code) for o in orgs)
    assert Representative.objects.count() == orgs.count()

    # One audit event for the roster; the pillars' demo data went through their services (each audited); the
    # chain verifies.
    events = list(AuditEvent.objects.order_by("seq"))
    actions = [e.action for e in events]
    assert actions[-1] == "demo.build" and actions.count("demo.build") == 1
    assert {"duty_list.publish", "task.send", "task.decide", "summons.create"} <= set(actions)
    assert events[-1].data["residents"] == Resident.objects.count()
    assert audit_verify() is None


def test_demo_logins_exist_with_the_printed_role() -> None:
    demo.build_demo_county(scale=SMALL)
    out = io.StringIO()
    demo.print_logins(file=out)
    text = out.getvalue()
    assert demo.DEMO_PASSWORD in text and demo.DEMO_URL in text
    assert "服务器日志" in text  # where the resident's one-time code is shown
    validate_password(demo.DEMO_PASSWORD)
    seen_roles = set()
    for login in demo.DEMO_LOGINS:
        user = demo.login_user(login)
        assert user is not None, login
        roles = {g.role for g in grants_for(user)}
        assert login.role in roles, (login, roles)
        seen_roles.add(login.role)
        if login.username:
            assert login.username in text
        if login.phone:
            assert login.phone in text
        assert user.check_password(demo.DEMO_PASSWORD) is login.password
    assert seen_roles == set(Role.values)  # one login per role

    leader = demo.login_user(demo.DEMO_LOGINS[3])
    staff = demo.login_user(demo.DEMO_LOGINS[4])
    village = demo.login_user(demo.DEMO_LOGINS[5])
    t_leader = grants_for(leader)[0]
    assert t_leader.unit_name.endswith("镇")
    assert grants_for(staff)[0].unit_id == t_leader.unit_id
    v_unit = AdminUnit.objects.get(pk=grants_for(village)[0].unit_id)
    assert v_unit.kind == "村" and v_unit.parent_id == t_leader.unit_id
    zhujian = demo.login_user(demo.DEMO_LOGINS[2])
    assert grants_for(zhujian)[0].department_name == "县住房和城乡建设局"
    rep = demo.login_user(next(lg for lg in demo.DEMO_LOGINS if lg.role == Role.ORG_REP))
    assert rep.phone == demo.ORG_REP_PHONE and rep.representative.phone == demo.ORG_REP_PHONE
    # The resident logs in by phone: a verified resident of the demo village, phone unique in the county.
    resident = Resident.objects.get(phone=demo.RESIDENT_PHONE)
    assert resident.verified and resident.village_id == v_unit.pk


def test_rerun_is_safe_and_changes_nothing(django_assert_max_num_queries: Any) -> None:
    assert demo.build_demo_county(scale=0.005) is True
    before = _snapshot()
    with django_assert_max_num_queries(2):
        assert demo.build_demo_county(scale=0.005) is False
    assert _snapshot() == before
    assert audit_verify() is None


def test_demo_refuses_taken_usernames_and_writes_nothing() -> None:
    User.objects.create(username="leader")
    before = _snapshot()
    with pytest.raises(demo.DemoError, match="leader"):
        demo.build_demo_county(scale=0.005)
    assert _snapshot() == before


def test_full_demo_county() -> None:
    """The real size: 30,000 residents in households, ID numbers only as hashes."""
    assert demo.build_demo_county() is True
    assert Resident.objects.count() == demo.DEMO_RESIDENTS
    assert Resident.objects.values("village").distinct().count() == 150
    with_phone = Resident.objects.exclude(phone="").count() / demo.DEMO_RESIDENTS
    assert 0.65 <= with_phone <= 0.75
    verified = Resident.objects.filter(verified=True).count() / demo.DEMO_RESIDENTS
    assert 0.9 <= verified < 1
    households = Counter(Resident.objects.values_list("household_no", flat=True))
    assert set(households.values()) <= {1, 2, 3, 4, 5}
    assert 2.2 <= demo.DEMO_RESIDENTS / len(households) <= 3.5
    phones = [p for p in Resident.objects.exclude(phone="").values_list("phone", flat=True)]
    assert len(phones) == len(set(phones))
    hashes = list(Resident.objects.values_list("id_hash", flat=True))
    assert len(set(hashes)) == demo.DEMO_RESIDENTS and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)
    # No 18-character ID number appears anywhere in the resident table or the audit log.
    id_like = re.compile(r"(?<![0-9a-zA-Z])\d{17}[\dX](?![0-9a-zA-Z])")
    for row in Resident.objects.values_list("name", "household_no", "phone", "id_hash"):
        assert not any(id_like.search(v) for v in row)
    assert not id_like.search(str(AuditEvent.objects.get(action="demo.build").data))
    assert audit_verify() is None


def test_demo_is_deterministic() -> None:
    demo.build_demo_county(scale=0.005)
    first = list(AdminUnit.objects.order_by("code").values_list("code", "name"))
    residents = list(Resident.objects.order_by("id").values_list("name", "household_no", "id_hash")[:50])
    from gongzhi.duties import models as duties
    from gongzhi.inspections import models as insp

    for model in (
        insp.Finding,
        insp.JointVisitItem,
        insp.JointVisit,
        insp.MergeRun,
        insp.ReviewFlag,
        insp.ReviewRun,
        insp.InspectionTarget,
        insp.InspectionItem,
        insp.InspectionPlan,
        insp.CatalogSubscription,
        insp.DataSubmission,
        insp.CatalogEntry,
        insp.InspectionSettings,
        duties.SummonsReport,
        duties.SummonsTarget,
        duties.Summons,
        duties.ResourceGrant,
        duties.TaskContest,
        duties.Task,
        duties.DutyAdjustment,
        duties.DutyItemAssist,
        duties.DutyItem,
        duties.DutyList,
    ):
        model.objects.all().delete()
    AuditEvent.objects.all().delete()
    Resident.objects.all().delete()
    Representative.objects.all().delete()
    Organization.objects.all().delete()
    Position.objects.all().delete()
    Cadre.objects.all().delete()
    Department.objects.all().delete()
    User.objects.all().delete()
    AdminUnit.objects.filter(level="village").delete()
    AdminUnit.objects.filter(level="township").delete()
    AdminUnit.objects.filter(level="county").delete()
    demo.build_demo_county(scale=0.005)
    assert list(AdminUnit.objects.order_by("code").values_list("code", "name")) == first
    assert (
        list(Resident.objects.order_by("id").values_list("name", "household_no", "id_hash")[:50]) == residents
    )


# ---- seed ---------------------------------------------------------------------------------------------------


def test_seed_creates_exactly_n_m_k() -> None:
    log: list[str] = []
    stats = demo.seed(townships=3, villages_per_township=4, residents_per_village=5, progress=log.append)
    assert (stats.townships, stats.villages, stats.residents) == (3, 12, 60)
    assert str(stats).startswith("生成完毕")
    assert any("行/秒" in line for line in log)
    county = AdminUnit.objects.get(code=stats.counties[0])
    assert county.level == "county" and county.code.startswith("99")
    assert county.code[:6] != demo.AREA  # the demo county's code stays free
    assert AdminUnit.objects.filter(level="township", parent=county).count() == 3
    villages = AdminUnit.objects.filter(level="village", code__startswith=county.code[:6])
    assert villages.count() == 12
    for v in villages.select_related("parent"):
        divisions.check_child(v.parent.code, v.code, "village")
    residents = Resident.objects.filter(village__code__startswith=county.code[:6])
    assert residents.count() == 60
    assert all(c == 5 for c in Counter(residents.values_list("village_id", flat=True)).values())
    hashes = list(residents.values_list("id_hash", flat=True))
    assert len(set(hashes)) == 60
    assert Cadre.objects.count() == 6
    assert [e.action for e in AuditEvent.objects.all()] == ["seed.build"]
    assert audit_verify() is None


def test_seed_hashes_are_real_id_numbers() -> None:
    """The fast path computes check digits and keyed hashes exactly like the services do."""
    stats = demo.seed(townships=1, villages_per_township=2, residents_per_village=3)
    area = stats.counties[0][:6]
    expected = {resident_id_hash(demo.seed_id_number(area, j)) for j in range(6)}
    got = set(Resident.objects.filter(village__code__startswith=area).values_list("id_hash", flat=True))
    assert got == expected
    for j in (0, 1, 999, 123_456, demo.ID_CAPACITY - 1):
        number = demo.seed_id_number(area, j)
        assert id_problem(number) is None
        assert number == make_id(number[:17])


def test_seed_spreads_townships_over_counties_and_coexists_with_demo() -> None:
    demo.build_demo_county(scale=0.005)
    stats = demo.seed(
        townships=demo.TOWNSHIPS_PER_COUNTY * 2 + 1, villages_per_township=1, residents_per_village=1
    )
    assert len(stats.counties) == 3
    assert demo.COUNTY_CODE not in stats.counties
    per_county = Counter(
        AdminUnit.objects.filter(level="township", parent__code__in=stats.counties).values_list(
            "parent__code", flat=True
        )
    )
    assert sorted(per_county.values()) == [13, 14, 14]
    again = demo.seed(townships=1, villages_per_township=1, residents_per_village=2)
    assert not set(again.counties) & set(stats.counties)
    assert audit_verify() is None


def test_seed_with_county_code_and_errors() -> None:
    stats = demo.seed(townships=2, villages_per_township=2, residents_per_village=1, county_code="995501")
    assert stats.counties == ["995501000000"]
    assert AdminUnit.objects.get(code="995500000000").level == "city"
    before = _snapshot()
    for kwargs, message in (
        ({"county_code": "995501"}, "已被使用"),
        ({"county_code": "110101"}, "99 开头"),
        ({"county_code": "99550"}, "12 位"),
        ({"county_code": "995502", "townships": 1000}, "999"),
        ({"villages_per_township": 1000}, "999"),
        ({"townships": 0}, "至少"),
    ):
        args = {"townships": 1, "villages_per_township": 1, "residents_per_village": 1, **kwargs}
        with pytest.raises(demo.SeedError, match=message):
            demo.seed(**args)
    assert _snapshot() == before


def test_seed_total_residents_spread_evenly() -> None:
    stats = demo.seed(townships=2, villages_per_township=3, residents=20)
    assert stats.residents == 20
    counts = Counter(
        Resident.objects.filter(village__code__startswith=stats.counties[0][:6]).values_list(
            "village", flat=True
        )
    )
    assert sorted(counts.values()) == [3, 3, 3, 3, 4, 4]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY path for villages runs on PostgreSQL only"
)
def test_seed_copies_villages_on_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "VILLAGE_COPY_THRESHOLD", 5)
    stats = demo.seed(townships=2, villages_per_township=4, residents_per_village=2)
    assert Resident.objects.filter(village__code__startswith=stats.counties[0][:6]).count() == 16
    # Sequences advanced past COPYed rows: the ORM can still insert.
    AdminUnit.objects.create(code="999999000000", name="x", level="county", kind="县")


def _resident_schema() -> list[tuple[str, ...]]:
    with connection.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'core_resident' ORDER BY 1")
        indexes = cur.fetchall()
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'core_resident'::regclass ORDER BY 1"
        )
        return [*indexes, *cur.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="index rebuild is a PostgreSQL bulk path")
def test_big_seed_rebuilds_the_same_indexes_on_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import IntegrityError, transaction

    demo.build_demo_county(scale=0.005)  # rows already queued for deferred FK checks in this transaction
    monkeypatch.setattr(demo, "BULK_INDEX_THRESHOLD", 1)
    before = _resident_schema()
    assert len(before) >= 5
    log: list[str] = []
    stats = demo.seed(townships=2, villages_per_township=3, residents_per_village=4, progress=log.append)
    assert any("重建" in line for line in log) and stats.index_seconds > 0
    assert _resident_schema() == before
    assert Resident.objects.filter(village__code__startswith=stats.counties[0][:6]).count() == 24
    # The rebuilt unique index and foreign key are enforced again.
    taken = Resident.objects.exclude(id_hash="").values_list("id_hash", flat=True).first()
    village = AdminUnit.objects.filter(level="village").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Resident.objects.create(village=village, name="重复", id_hash=taken)
    with pytest.raises(IntegrityError), transaction.atomic():
        Resident.objects.create(village_id=10**9, name="无村")
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_seed_cli_reports_chinese_error(capsys: pytest.CaptureFixture[str]) -> None:
    from gongzhi.cli import main

    assert main(["seed", "--townships", "1", "--villages-per-township", "1000"]) == 1
    assert "生成失败" in capsys.readouterr().err
    assert (
        main(["seed", "--townships", "2", "--villages-per-township", "2", "--residents-per-village", "3"])
        == 0
    )
    assert "12 名居民" in capsys.readouterr().out
