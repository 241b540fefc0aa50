"""factory_boy factories and a small administrative tree builder shared by all tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import factory

from gongzhi.core.models import (
    AdminUnit,
    Cadre,
    Department,
    DepartmentKind,
    Organization,
    OrgKind,
    Position,
    Representative,
    Resident,
    User,
)
from gongzhi.engines.idcard import make_id

PASSWORD = "Correct-Horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj: Any, create: bool, extracted: Any, **kw: Any) -> None:
        if create:
            obj.save()


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdminUnit
        django_get_or_create = ("code",)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"县第{n}局")
    kind = DepartmentKind.FUNCTIONAL


def cadre(
    unit: AdminUnit | None = None,
    department: Department | None = None,
    *,
    title: str = "干部",
    is_leader: bool = False,
    username: str | None = None,
) -> User:
    user = UserFactory(**({"username": username} if username else {}))
    c = Cadre.objects.create(user=user, name=user.display_name)
    Position.objects.create(cadre=c, unit=unit, department=department, title=title, is_leader=is_leader)
    return user


_phone_seq = iter(range(10_000_000))


def resident(
    village: AdminUnit,
    *,
    phone: str | None = None,
    verified: bool = True,
    with_user: bool = False,
    name: str = "居民",
) -> Resident:
    n = next(_phone_seq)
    phone = phone or f"139{n:08d}"
    r = Resident.objects.create(
        village=village, name=name, phone=phone, verified=verified, household_no=f"H{n:06d}"
    )
    if with_user:
        u = User.objects.create(username=f"r{phone}", phone=phone, display_name=name)
        u.set_unusable_password()
        u.save()
        r.user = u
        r.save()
    return r


def id_number(seq: int) -> str:
    """A valid ID number (born 1990-01-01 + seq days' worth of sequence numbers), distinct per seq < 999,000."""
    day, n = divmod(seq, 999)
    born = date(1990, 1, 1) + timedelta(days=day)
    return make_id(f"990101{born:%Y%m%d}{n + 1:03d}")


@dataclass
class Tree:
    """Two counties; county A has townships T1 (镇) and T2 (街道), each with villages."""

    province: AdminUnit
    city: AdminUnit
    county: AdminUnit
    county_b: AdminUnit
    t1: AdminUnit
    t2: AdminUnit
    v11: AdminUnit
    v12: AdminUnit
    v21: AdminUnit
    tb: AdminUnit
    vb: AdminUnit
    dept: Department
    dept2: Department
    office: Department
    orgdept: Department
    discipline: Department
    staffing: Department
    dept_b: Department


def build_tree() -> Tree:
    p = UnitFactory(code="990000000000", name="示范省", level="province", kind="省")
    c = UnitFactory(code="990100000000", name="启明市", level="city", kind="市", parent=p)
    k = UnitFactory(code="990102000000", name="共治县", level="county", kind="县", parent=c)
    kb = UnitFactory(code="990103000000", name="邻县", level="county", kind="县", parent=c)
    t1 = UnitFactory(code="990102001000", name="东河镇", level="township", kind="镇", parent=k)
    t2 = UnitFactory(code="990102002000", name="城关街道", level="township", kind="街道", parent=k)
    v11 = UnitFactory(code="990102001001", name="东河村", level="village", kind="村", parent=t1)
    v12 = UnitFactory(code="990102001002", name="柳湾村", level="village", kind="村", parent=t1)
    v21 = UnitFactory(code="990102002001", name="和平社区", level="village", kind="社区", parent=t2)
    tb = UnitFactory(code="990103001000", name="邻镇", level="township", kind="镇", parent=kb)
    vb = UnitFactory(code="990103001001", name="邻村", level="village", kind="村", parent=tb)
    return Tree(
        p,
        c,
        k,
        kb,
        t1,
        t2,
        v11,
        v12,
        v21,
        tb,
        vb,
        dept=DepartmentFactory(county=k, name="县住房和城乡建设局"),
        dept2=DepartmentFactory(county=k, name="县应急管理局"),
        office=DepartmentFactory(county=k, name="县委县政府办公室", kind=DepartmentKind.COUNTY_OFFICE),
        orgdept=DepartmentFactory(county=k, name="县委组织部", kind=DepartmentKind.ORGANIZATION),
        discipline=DepartmentFactory(county=k, name="县纪委监委", kind=DepartmentKind.DISCIPLINE),
        staffing=DepartmentFactory(county=k, name="县委编办", kind=DepartmentKind.STAFFING),
        dept_b=DepartmentFactory(county=kb, name="邻县住建局"),
    )


def organization(unit: AdminUnit, *, phone: str = "13700000001", kind: str = OrgKind.ENTERPRISE) -> User:
    org = Organization.objects.create(
        name="示范农业合作社", kind=kind, credit_code=f"91{phone[-9:]}0000000"[:18], unit=unit
    )
    user = UserFactory(phone=phone)
    Representative.objects.create(organization=org, user=user, name="代表", phone=phone)
    return user
