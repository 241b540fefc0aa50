"""Authentication: argon2 passwords with lockout for staff, one-time SMS codes for residents, API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from gongzhi.engines.idcard import normalize_phone, phone_problem

from .audit import audit_record
from .models import ApiToken, Cadre, OneTimeCode, Representative, Resident, User
from .roles import user_with_grants
from .sms import get_sender


class AuthError(Exception):
    """A login problem to show to the person, in Chinese."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class LockoutModelBackend(ModelBackend):
    """ModelBackend that locks an account for LOGIN_LOCKOUT_SECONDS after LOGIN_MAX_FAILURES wrong passwords."""

    def get_user(self, user_id: Any) -> Any:
        # Runs on every request: one hand-written query (a plain cursor skips the ORM's SQL compilation, the
        # largest cost of the lookup) brings the user and their grants, which every page needs next.
        try:
            pk = User._meta.pk.to_python(user_id)  # type: ignore[union-attr]
        except ValidationError:
            return None
        user = user_with_grants(pk)
        return user if user is not None and self.user_can_authenticate(user) else None

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kw: Any
    ) -> Any:
        if username is None or password is None:
            return None
        user = User.objects.filter(username=username).first()
        now = timezone.now()
        if user is not None and user.locked_until and user.locked_until > now:
            if request is not None:
                request.gongzhi_locked_until = user.locked_until
            # Still run the hasher so a locked account answers as slowly as an open one.
            User().set_password(password)
            return None
        result = super().authenticate(request, username=username, password=password, **kw)
        if user is None:
            _register_unknown_failure(username, request)
            return result
        if result is not None:
            if user.failed_logins or user.locked_until:
                User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
            return result
        _register_failure(user, request)
        return None


def _register_unknown_failure(username: str, request: Any) -> None:
    """Unknown usernames 'lock' after the same number of failures, so the lockout message cannot tell an
    attacker which usernames exist. Counted in the cache: there is no account row to count in."""
    from django.core.cache import cache

    key = "login-fail:" + hashlib.sha256(username.encode()).hexdigest()
    failures = cache.get(key, 0) + 1
    cache.set(key, failures, settings.LOGIN_LOCKOUT_SECONDS)
    if failures >= settings.LOGIN_MAX_FAILURES and request is not None:
        request.gongzhi_locked_until = timezone.now() + timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def _register_failure(user: User, request: Any) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
        user.refresh_from_db(fields=["failed_logins"])
        if user.failed_logins >= settings.LOGIN_MAX_FAILURES:
            until = timezone.now() + timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
            User.objects.filter(pk=user.pk).update(locked_until=until, failed_logins=0)
            audit_record(
                actor=None,
                action="auth.lockout",
                object_type="user",
                object_id=user.pk,
                data={"username": user.username, "until": until.isoformat()},
            )
            if request is not None:
                request.gongzhi_locked_until = until


# ---- one-time codes -------------------------------------------------------------------------------------------


def _code_hash(phone: str, code: str) -> str:
    return hmac.new(str(settings.SECRET_KEY).encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _cadre_for_phone(phone: str) -> Cadre | None:
    # Cadres imported from a roster have no password yet; their registered phone lets them sign in at once.
    # Once an account has a password (or is an administrator) only the password opens it, so whoever can edit a
    # roster's phone column can never take over an established account by SMS.
    return (
        Cadre.objects.filter(
            phone=phone,
            active=True,
            user__is_active=True,
            user__is_superuser=False,
            user__password__startswith=UNUSABLE_PASSWORD_PREFIX,
        )
        .select_related("user")
        .order_by("id")
        .first()
    )


def _phone_has_login(phone: str) -> bool:
    return (
        _cadre_for_phone(phone) is not None
        or Resident.objects.filter(phone=phone, verified=True).exists()
        or Representative.objects.filter(phone=phone).exists()
    )


def otp_request(*, phone: str) -> None:
    """Send a login code if the phone belongs to an active cadre, a verified resident or an organization representative.

    The answer is the same whether or not the phone is known, so the form cannot be used to probe who is registered.
    """
    problem = phone_problem(phone)
    if problem:
        raise AuthError("invalid_phone", problem)
    phone = normalize_phone(phone)
    now = timezone.now()
    recent = OneTimeCode.objects.filter(phone=phone, created_at__gte=now - timedelta(days=1))
    if recent.filter(created_at__gte=now - timedelta(seconds=settings.OTP_RESEND_SECONDS)).exists():
        raise AuthError("too_soon", f"验证码已发送，请 {settings.OTP_RESEND_SECONDS} 秒后再试")
    if recent.count() >= settings.OTP_MAX_PER_DAY:
        raise AuthError("too_many", "今日获取验证码次数过多，请明天再试")
    code = f"{secrets.randbelow(1_000_000):06d}"
    OneTimeCode.objects.create(
        phone=phone,
        code_hash=_code_hash(phone, code),
        expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
    )
    if _phone_has_login(phone):
        minutes = settings.OTP_TTL_SECONDS // 60
        get_sender().send(
            phone, f"【共治】您的登录验证码为 {code}，{minutes} 分钟内有效。如非本人操作请忽略。"
        )


def otp_verify(*, phone: str, code: str) -> User:
    phone = normalize_phone(phone)
    code = code.strip()
    now = timezone.now()
    # The attempt counter must be committed even when the code is wrong, so the error is raised only after the
    # transaction that counted it has closed.
    failure: AuthError | None = None
    with transaction.atomic():
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(phone=phone, used=False, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if otp is None:
            failure = AuthError("expired", "验证码已失效，请重新获取")
        elif otp.attempts >= settings.OTP_MAX_ATTEMPTS:
            failure = AuthError("too_many_attempts", "验证码错误次数过多，请重新获取")
        else:
            otp.attempts += 1
            if not hmac.compare_digest(otp.code_hash, _code_hash(phone, code)):
                failure = AuthError("wrong_code", "验证码不正确")
            else:
                otp.used = True
                if not _phone_has_login(phone):
                    failure = AuthError("wrong_code", "验证码不正确")
            otp.save(update_fields=["attempts", "used"])
        if failure is None:
            return _user_for_phone(phone)
    raise failure


def _user_for_phone(phone: str) -> User:
    cadre = _cadre_for_phone(phone)
    if cadre is not None:
        return cadre.user
    rep = Representative.objects.filter(phone=phone).select_related("user").first()
    if rep is not None:
        return rep.user
    resident = Resident.objects.filter(phone=phone, verified=True).order_by("id").first()
    assert resident is not None
    if resident.user_id is not None:
        account = resident.user
        assert account is not None
        if account.phone and account.phone != phone:
            # The register's phone changed after the account was opened: whoever edited the register must not
            # thereby gain the resident's account. The resident confirms the change in person.
            raise AuthError("phone_changed", "该居民登记的手机号已变更，请到村（社区）核实后再登录")
        return account
    user = User.objects.filter(phone=phone).first()
    if user is None:
        user = User(username=f"r{phone}", phone=phone, display_name=resident.name)
        user.set_unusable_password()
        user.save()
        audit_record(
            actor=None, action="resident.account_create", object_type="resident", object_id=resident.pk
        )
    resident.user = user
    resident.save(update_fields=["user"])
    return user


# ---- API tokens -----------------------------------------------------------------------------------------------

TOKEN_PREFIX = "gz_"  # noqa: S105 - a public marker, not a secret


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    name = name.strip()
    if not name:
        raise AuthError("invalid_name", "请填写令牌名称")
    if len(name) > 64:
        raise AuthError("invalid_name", "令牌名称不能超过 64 个字符")
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= 20:
        raise AuthError("too_many", "有效令牌已达 20 个，请先撤销不用的令牌")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name, prefix=raw[:10], key_hash=token_hash(raw))
        audit_record(
            actor=user,
            action="token.create",
            object_type="api_token",
            object_id=token.pk,
            data={"name": name},
        )
    return token, raw


def token_revoke(*, user: User, token_id: int) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
        if token is None:
            raise AuthError("not_found", "令牌不存在")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(actor=user, action="token.revoke", object_type="api_token", object_id=token.pk)
    return token


def user_for_token(raw: str) -> User | None:
    if not raw.startswith(TOKEN_PREFIX):
        return None
    # Runs on every API call: one hand-written query brings the user and their grants (roles.user_with_grants).
    user: User | None = user_with_grants(token_hash=token_hash(raw))
    return user
