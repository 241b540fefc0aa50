"""Regression tests for holes found in review: each was reproduced before the fix."""

from __future__ import annotations

from typing import Any

import pytest

from gongzhi.core.auth import AuthError, otp_request, otp_verify
from gongzhi.core.imports import ImportFailed, import_file
from gongzhi.core.models import Cadre, Department, OneTimeCode, Position, Resident, User
from gongzhi.core.roles import grants_for, roles_of

from ..factories import PASSWORD, cadre, resident

CADRE_HEAD = ["姓名", "用户名", "手机号", "单位区划代码", "部门名称", "职务", "是否领导"]


def _csv(rows: list[list[str]]) -> bytes:
    return ("\n".join(",".join(r) for r in rows) + "\n").encode("utf-8-sig")


def _code(outbox: list[tuple[str, str]]) -> str:
    return outbox[-1][1].split("验证码为 ")[1][:6]


def test_import_cannot_touch_a_platform_admin(users: dict[str, User], tree: Any) -> None:
    admin = users["admin"]
    c = Cadre.objects.create(user=admin, name="管理员", phone="")
    Position.objects.create(cadre=c, unit=tree.t1, title="挂职")
    data = _csv([CADRE_HEAD, ["管理员", "admin", "13599990000", tree.t1.code, "", "挂职", "否"]])
    with pytest.raises(ImportFailed) as e:
        import_file(actor=users["county_office"], kind="cadres", filename="c.csv", data=data)
    assert "平台管理员" in e.value.errors[0].text()
    assert Cadre.objects.get(pk=c.pk).phone == ""


def test_import_cannot_take_over_a_cadre_whose_posts_are_all_inactive_elsewhere(
    users: dict[str, User], tree: Any
) -> None:
    victim = cadre(unit=tree.tb, title="干部", username="victim_b")
    Position.objects.filter(cadre__user=victim).update(active=False)
    data = _csv([CADRE_HEAD, ["受害人", "victim_b", "13599990001", tree.t1.code, "", "干部", "否"]])
    with pytest.raises(ImportFailed):
        import_file(actor=users["county_office"], kind="cadres", filename="c.csv", data=data)
    assert not Position.objects.filter(cadre__user=victim, unit=tree.t1).exists()


def test_sms_login_never_opens_an_account_that_has_a_password(
    users: dict[str, User], tree: Any, outbox: list[tuple[str, str]]
) -> None:
    staff = users["township_staff"]
    Cadre.objects.filter(user=staff).update(phone="13599990002")
    assert staff.has_usable_password()
    otp_request(phone="13599990002")
    assert outbox == []  # no code is even sent
    with pytest.raises(AuthError):
        otp_verify(phone="13599990002", code="000000")


def test_changed_register_phone_does_not_open_the_residents_account(
    users: dict[str, User], tree: Any, outbox: list[tuple[str, str]]
) -> None:
    r = Resident.objects.get(user=users["resident"])
    r.phone = "13599990003"  # e.g. edited by whoever manages the register
    r.save()
    otp_request(phone="13599990003")
    with pytest.raises(AuthError) as e:
        otp_verify(phone="13599990003", code=_code(outbox))
    assert e.value.code == "phone_changed"
    assert OneTimeCode.objects.filter(phone="13599990003").exists()


def test_inactive_department_gives_no_role(users: dict[str, User], tree: Any) -> None:
    user = users["department_staff"]
    Department.objects.filter(pk=tree.dept.pk).update(active=False)
    user = User.objects.get(pk=user.pk)  # fresh object: grants are cached per request
    assert grants_for(user) == ()


def test_unverified_resident_gets_no_resident_role(tree: Any) -> None:
    r = resident(tree.v11, phone="13599990004", verified=False, with_user=True)
    assert r.user is not None
    assert "resident" not in roles_of(User.objects.get(pk=r.user.pk))


def test_pager_url_encodes_the_village_filter(users: dict[str, User], tree: Any) -> None:
    from django.test import Client

    for i in range(60):
        resident(tree.v11, name=f"甲{i}")
    c = Client()
    c.force_login(users["township_staff"])
    html = c.get(f"/residents/?village={tree.v11.code}%26page%3D9").content.decode()
    assert "village=990102001001%26page%3D9" in html or "没有符合条件的居民" in html


def test_lockout_message_does_not_reveal_which_usernames_exist(users: dict[str, User], settings: Any) -> None:
    from django.test import Client

    settings.LOGIN_MAX_FAILURES = 2
    for name in ("township_staff", "no_such_user"):
        c = Client()
        for _ in range(2):
            c.post("/login/", {"username": name, "password": "wrong-wrong-wrong"})
        body = c.post("/login/", {"username": name, "password": PASSWORD}).content.decode()
        assert "锁定" in body, name
