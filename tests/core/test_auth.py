from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from gongzhi.core.auth import AuthError, otp_request, otp_verify, token_create, token_revoke, user_for_token
from gongzhi.core.models import ApiToken, AuditEvent, OneTimeCode, Resident, User

from ..factories import PASSWORD, resident


def _login(client: Client, username: str, password: str) -> Any:
    return client.post("/login/", {"username": username, "password": password})


def test_staff_password_login_reaches_home(users: dict[str, User]) -> None:
    c = Client()
    r = _login(c, "township_leader", PASSWORD)
    assert r.status_code == 302 and r["Location"] == "/"
    home = c.get("/")
    assert "乡镇领导 · 东河镇" in home.content.decode()


def test_wrong_password_is_refused_in_chinese(users: dict[str, User]) -> None:
    r = _login(Client(), "township_leader", "wrong-password")
    assert r.status_code == 400
    assert "用户名或密码不正确" in r.content.decode()


def test_lockout_after_repeated_failures(users: dict[str, User], settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 3
    c = Client()
    for _ in range(3):
        _login(c, "township_staff", "nope-nope-nope")
    # Even the right password is refused while locked.
    r = _login(c, "township_staff", PASSWORD)
    assert r.status_code == 400 and "锁定" in r.content.decode()
    user = User.objects.get(username="township_staff")
    assert user.locked_until is not None and user.locked_until > timezone.now()
    assert AuditEvent.objects.filter(action="auth.lockout", object_id=str(user.pk)).exists()
    # After the lockout expires the right password works again and resets the counter.
    User.objects.filter(pk=user.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    r = _login(c, "township_staff", PASSWORD)
    assert r.status_code == 302
    user.refresh_from_db()
    assert user.failed_logins == 0


def test_success_resets_failure_count(users: dict[str, User]) -> None:
    c = Client()
    _login(c, "township_staff", "nope-nope-nope")
    assert User.objects.get(username="township_staff").failed_logins == 1
    _login(c, "township_staff", PASSWORD)
    assert User.objects.get(username="township_staff").failed_logins == 0


def test_open_redirect_is_refused(users: dict[str, User]) -> None:
    c = Client()
    r = c.post(
        "/login/?next=https://evil.example/",
        {"username": "township_leader", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert r.status_code == 302 and r["Location"] == "/"


def test_resident_otp_login(tree: Any, outbox: list[tuple[str, str]]) -> None:
    resident(tree.v11, phone="13911112222", name="张三")
    c = Client()
    r = c.post("/login/code/", {"phone": "139 1111 2222"})
    assert r.status_code == 200
    assert len(outbox) == 1 and outbox[0][0] == "13911112222"
    code = outbox[0][1].split("验证码为 ")[1][:6]
    assert not OneTimeCode.objects.filter(code_hash__contains=code).exists()  # stored only hashed
    r = c.post("/login/code/verify/", {"phone": "13911112222", "code": code})
    assert r.status_code == 302
    home = c.get("/")
    assert "居民 · 东河村" in home.content.decode()
    res = Resident.objects.get(phone="13911112222")
    assert res.user is not None and not res.user.has_usable_password()
    # The code cannot be used twice.
    c2 = Client()
    r = c2.post("/login/code/verify/", {"phone": "13911112222", "code": code})
    assert r.status_code == 400


def test_unknown_phone_gets_same_answer_but_no_sms(tree: Any, outbox: list[tuple[str, str]]) -> None:
    r = Client().post("/login/code/", {"phone": "13955556666"})
    assert r.status_code == 200 and "如果该号码已登记" in r.content.decode()
    assert outbox == []


def test_unverified_resident_cannot_log_in(tree: Any, outbox: list[tuple[str, str]]) -> None:
    resident(tree.v11, phone="13933334444", verified=False)
    otp_request(phone="13933334444")
    assert outbox == []
    with pytest.raises(AuthError):
        otp_verify(phone="13933334444", code="000000")


def test_otp_wrong_code_limits_and_resend_throttle(
    tree: Any, outbox: list[tuple[str, str]], settings: Any
) -> None:
    resident(tree.v11, phone="13922223333")
    otp_request(phone="13922223333")
    with pytest.raises(AuthError) as e:
        otp_request(phone="13922223333")
    assert e.value.code == "too_soon"
    code = outbox[0][1].split("验证码为 ")[1][:6]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(settings.OTP_MAX_ATTEMPTS):
        with pytest.raises(AuthError):
            otp_verify(phone="13922223333", code=wrong)
    with pytest.raises(AuthError) as e:
        otp_verify(phone="13922223333", code=code)  # right code, but too many attempts
    assert e.value.code == "too_many_attempts"


def test_otp_expired(tree: Any, outbox: list[tuple[str, str]]) -> None:
    resident(tree.v11, phone="13944445555")
    otp_request(phone="13944445555")
    code = outbox[0][1].split("验证码为 ")[1][:6]
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(AuthError) as e:
        otp_verify(phone="13944445555", code=code)
    assert e.value.code == "expired"


def test_invalid_phone_is_rejected(db: Any) -> None:
    with pytest.raises(AuthError) as e:
        otp_request(phone="12345")
    assert "11 位" in e.value.message


def test_api_token_lifecycle(users: dict[str, User]) -> None:
    user = users["township_staff"]
    token, raw = token_create(user=user, name="县数据中台")
    assert raw.startswith("gz_") and raw not in token.key_hash
    c = Client()
    r = c.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200 and r.json()["username"] == "township_staff"
    token_revoke(user=user, token_id=token.pk)
    assert user_for_token(raw) is None
    r = c.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 401
    assert r.json()["code"] == "unauthenticated" and "令牌" in r.json()["message"]


def test_cannot_revoke_someone_elses_token(users: dict[str, User]) -> None:
    token, _ = token_create(user=users["admin"], name="x")
    with pytest.raises(AuthError):
        token_revoke(user=users["township_staff"], token_id=token.pk)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_token_for_inactive_user_is_refused(users: dict[str, User]) -> None:
    user = users["township_staff"]
    _, raw = token_create(user=user, name="x")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert user_for_token(raw) is None


def test_token_name_required(users: dict[str, User]) -> None:
    with pytest.raises(AuthError):
        token_create(user=users["admin"], name="  ")


def test_password_change(users: dict[str, User]) -> None:
    c = Client()
    c.force_login(users["township_staff"])
    r = c.post(
        "/account/password/", {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"}
    )
    assert r.status_code == 400
    r = c.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "Another-Good-Pass-9",
            "new_password2": "Another-Good-Pass-9",
        },
    )
    assert r.status_code == 302
    assert User.objects.get(username="township_staff").check_password("Another-Good-Pass-9")


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"])
def test_passwords_are_argon2(db: Any) -> None:
    u = User.objects.create_user("argon", password="Some-Long-Password-1")
    assert u.password.startswith("argon2$")


def test_imported_cadre_without_password_signs_in_by_phone(tree: Any, outbox: list[tuple[str, str]]) -> None:
    from gongzhi.core.services import cadre_create

    admin = User.objects.create_superuser("root", password=PASSWORD)
    c = cadre_create(
        actor=admin, name="新干部", username="xin", phone="13566667777", unit=tree.t2, title="干部"
    )
    assert not c.user.has_usable_password()
    otp_request(phone="13566667777")
    code = outbox[-1][1].split("验证码为 ")[1][:6]
    assert otp_verify(phone="13566667777", code=code) == c.user
    # A cadre who left (inactive) gets no code.
    outbox.clear()
    c.active = False
    c.save()
    OneTimeCode.objects.all().delete()
    otp_request(phone="13566667777")
    assert outbox == []
