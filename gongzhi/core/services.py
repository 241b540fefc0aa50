"""Every write to core data: validates, checks permission, runs in a transaction and appends the audit event."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from gongzhi.engines import divisions
from gongzhi.engines.idcard import id_hash, id_problem, normalize_phone, phone_problem

from .audit import audit_record
from .errors import PermissionDeniedError, ServiceError
from .models import (
    KINDS_BY_LEVEL,
    AdminUnit,
    Cadre,
    Department,
    DepartmentKind,
    Level,
    Position,
    Resident,
    User,
)
from .permissions import can_manage_residents_of, can_manage_roster_of


def resident_id_hash(id_number: str) -> str:
    return id_hash(id_number, str(settings.RESIDENT_ID_KEY).encode())


def unit_create(
    *, actor: Any, code: str, name: str, level: str, kind: str, parent_code: str | None
) -> AdminUnit:
    code, name = code.strip(), name.strip()
    if not name:
        raise ServiceError("invalid", "名称不能为空")
    if level not in Level.values:
        raise ServiceError("invalid", f"层级「{level}」无效")
    if kind not in KINDS_BY_LEVEL[level]:
        raise ServiceError(
            "invalid", f"类别「{kind}」不适用于该层级，可选：{'、'.join(KINDS_BY_LEVEL[level])}"
        )
    with transaction.atomic():
        parent = None
        if parent_code:
            parent = AdminUnit.objects.filter(code=parent_code).first()
            if parent is None:
                raise ServiceError("invalid", f"上级区划 {parent_code} 不存在")
            try:
                divisions.check_child(parent.code, code, level)
            except divisions.DivisionCodeError as e:
                raise ServiceError("invalid", str(e)) from e
        elif level != Level.PROVINCE:
            raise ServiceError("invalid", "除省级外，必须填写上级区划代码")
        scope = parent or AdminUnit(code=code, level=level)
        if not can_manage_roster_of(actor, scope):
            raise PermissionDeniedError()
        if AdminUnit.objects.filter(code=code).exists():
            raise ServiceError("duplicate", f"区划代码 {code} 已存在")
        unit = AdminUnit.objects.create(code=code, name=name, level=level, kind=kind, parent=parent)
        audit_record(
            actor=actor,
            action="unit.create",
            object_type="admin_unit",
            object_id=code,
            data={"name": name, "level": level, "kind": kind, "parent": parent_code},
        )
    return unit


def department_create(
    *, actor: Any, county: AdminUnit, name: str, kind: str = DepartmentKind.FUNCTIONAL, short_name: str = ""
) -> Department:
    name = name.strip()
    if not name:
        raise ServiceError("invalid", "部门名称不能为空")
    if county.level != Level.COUNTY:
        raise ServiceError("invalid", "部门必须隶属于县级区划")
    if kind not in DepartmentKind.values:
        raise ServiceError("invalid", f"部门类型「{kind}」无效")
    if not can_manage_roster_of(actor, county):
        raise PermissionDeniedError()
    with transaction.atomic():
        if Department.objects.filter(county=county, name=name).exists():
            raise ServiceError("duplicate", f"部门「{name}」已存在")
        dept = Department.objects.create(county=county, name=name, kind=kind, short_name=short_name)
        audit_record(
            actor=actor,
            action="department.create",
            object_type="department",
            object_id=dept.pk,
            data={"name": name, "kind": kind, "county": county.code},
        )
    return dept


def cadre_create(
    *,
    actor: Any,
    name: str,
    username: str,
    phone: str = "",
    password: str | None = None,
    unit: AdminUnit | None = None,
    department: Department | None = None,
    title: str,
    is_leader: bool = False,
) -> Cadre:
    name, username = name.strip(), username.strip()
    if not name or not username or not title.strip():
        raise ServiceError("invalid", "姓名、用户名和职务不能为空")
    if (unit is None) == (department is None):
        raise ServiceError("invalid", "职务必须属于一个单位或一个部门（二选一）")
    if phone:
        if problem := phone_problem(phone):
            raise ServiceError("invalid", problem)
        phone = normalize_phone(phone)
    scope = unit if unit is not None else department.county  # type: ignore[union-attr]
    if not can_manage_roster_of(actor, scope):
        raise PermissionDeniedError()
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise ServiceError("duplicate", f"用户名「{username}」已被使用")
        user = User(username=username, display_name=name)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        cadre = Cadre.objects.create(user=user, name=name, phone=phone)
        Position.objects.create(
            cadre=cadre, unit=unit, department=department, title=title.strip(), is_leader=is_leader
        )
        audit_record(
            actor=actor,
            action="cadre.create",
            object_type="cadre",
            object_id=cadre.pk,
            data={
                "name": name,
                "username": username,
                "title": title,
                "unit": unit.code if unit else None,
                "department": department.pk if department else None,
            },
        )
    return cadre


def resident_create(
    *,
    actor: Any,
    village: AdminUnit,
    name: str,
    household_no: str = "",
    phone: str = "",
    id_number: str = "",
    verified: bool = False,
) -> Resident:
    name = name.strip()
    if not name:
        raise ServiceError("invalid", "姓名不能为空")
    if village.level != Level.VILLAGE:
        raise ServiceError("invalid", "居民必须登记在村（社区）")
    if not can_manage_residents_of(actor, village):
        raise PermissionDeniedError()
    if phone:
        if problem := phone_problem(phone):
            raise ServiceError("invalid", problem)
        phone = normalize_phone(phone)
    digest = ""
    if id_number:
        if problem := id_problem(id_number):
            raise ServiceError("invalid", problem)
        digest = resident_id_hash(id_number)
    with transaction.atomic():
        if digest and Resident.objects.filter(id_hash=digest).exists():
            raise ServiceError("duplicate", "该身份证号的居民已登记")
        r = Resident.objects.create(
            village=village,
            name=name,
            household_no=household_no.strip(),
            phone=phone,
            id_hash=digest,
            verified=verified,
        )
        audit_record(
            actor=actor,
            action="resident.create",
            object_type="resident",
            object_id=r.pk,
            data={"village": village.code, "verified": verified},
        )
    return r


def password_change(*, user: User, old_password: str, new_password: str) -> None:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    if not user.check_password(old_password):
        raise ServiceError("wrong_password", "原密码不正确")
    try:
        validate_password(new_password, user)
    except ValidationError as e:
        raise ServiceError("weak_password", "；".join(e.messages)) from e
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_record(actor=user, action="user.password_change", object_type="user", object_id=user.pk)
