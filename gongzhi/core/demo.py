"""The demo county (``gongzhi demo``) and bulk seeding of large data sets (``gongzhi seed``).

Everything is fictional: codes live under the province prefix 99, which no real province uses; names are generated
from common characters with a fixed random seed, so every machine gets the same county. Resident ID numbers are
generated, validated and stored only as keyed hashes, as for real residents.

Both builders write through bulk paths (``bulk_create``; PostgreSQL ``COPY``; SQLite ``executemany``) in one
transaction and append a single audit event for the whole build: they are platform bootstrapping, not a person's
action, and recording 30,000 events for generated rows would only bury the real ones.
"""

from __future__ import annotations

import hashlib
import math
import random
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any, TextIO

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from gongzhi.engines import divisions
from gongzhi.engines.idcard import make_id

from . import namegen
from .audit import audit_record
from .models import (
    AdminUnit,
    Cadre,
    Department,
    DepartmentKind,
    Level,
    Organization,
    OrgKind,
    Position,
    Representative,
    Resident,
    Role,
    User,
)
from .services import resident_id_hash

Progress = Callable[[str], None] | None

DEMO_PASSWORD = "Gongzhi@2026"  # noqa: S105 - published demo password, printed by print_logins
DEMO_URL = "http://127.0.0.1:8000/"
RANDOM_SEED = 2026

PROVINCE_CODE, PROVINCE_NAME = "990000000000", "示范省"
CITY_CODE, CITY_NAME = "990100000000", "启明市"
COUNTY_CODE, COUNTY_NAME = "990102000000", "共治县"
AREA = COUNTY_CODE[:6]
DEMO_RESIDENTS = 30_000

RESIDENT_PHONE = "13800000001"
ORG_REP_PHONE = "13700000001"

# 20 county functional departments (县直部门): (name, short name).
FUNCTIONAL_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("县发展和改革局", "发改局"),
    ("县教育局", "教育局"),
    ("县公安局", "公安局"),
    ("县民政局", "民政局"),
    ("县财政局", "财政局"),
    ("县人力资源和社会保障局", "人社局"),
    ("县自然资源局", "自然资源局"),
    ("县住房和城乡建设局", "住建局"),
    ("县交通运输局", "交通局"),
    ("县水利局", "水利局"),
    ("县农业农村局", "农业农村局"),
    ("县商务局", "商务局"),
    ("县文化和旅游局", "文旅局"),
    ("县卫生健康局", "卫健局"),
    ("县应急管理局", "应急局"),
    ("县市场监督管理局", "市场监管局"),
    ("县医疗保障局", "医保局"),
    ("县城市管理局", "城管局"),
    ("县林业局", "林业局"),
    ("县生态环境分局", "生态环境分局"),
)
# The county organs that hold a platform role: (name, short name, kind, titles; the first title is the head).
ORGANS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "县委县政府办公室",
        "两办",
        DepartmentKind.COUNTY_OFFICE,
        ("主任", "减负办主任", "督查室主任", "秘书科科员"),
    ),
    (
        "县委组织部",
        "组织部",
        DepartmentKind.ORGANIZATION,
        ("部长", "干部科科长", "组织科科长", "干部监督科科员"),
    ),
    (
        "县纪委监委",
        "纪委监委",
        DepartmentKind.DISCIPLINE,
        ("书记", "党风政风监督室主任", "案件审理室主任", "信访室科员"),
    ),
    (
        "县委机构编制委员会办公室",
        "县委编办",
        DepartmentKind.STAFFING,
        ("主任", "职能配置科科长", "机构编制科科员"),
    ),
)
DEPARTMENT_TITLES = (
    ("局长", True),
    ("副局长", True),
    ("办公室主任", False),
    ("业务股股长", False),
    ("科员", False),
)

# (township kind, how many, first code - 1, villages as (kind, count)). Code ranges follow the statistical
# convention: 街道 001-099, 镇 100-199, 乡 200-399; 社区 (居委会) 001-199, 村 (村委会) 200-399.
TOWNSHIP_LAYOUT: tuple[tuple[str, int, int, tuple[tuple[str, int], ...]], ...] = (
    ("街道", 3, 0, (("社区", 8),)),
    ("镇", 6, 100, (("社区", 1), ("村", 14))),
    ("乡", 3, 200, (("村", 12),)),
)
_LEADERS = {
    "街道": ("党工委书记", "街道办事处主任", "街道办事处副主任", "街道办事处副主任"),
    "镇": ("党委书记", "镇长", "副镇长", "副镇长"),
    "乡": ("党委书记", "乡长", "副乡长"),
}
_STAFF = {
    "街道": (
        "党政办公室干部",
        "党建工作办公室干部",
        "社区治理办公室干部",
        "城市管理办公室干部",
        "平安建设办公室干部",
        "社会事务办公室干部",
        "综合行政执法队队员",
        "便民服务中心干部",
    ),
    "镇": (
        "党政综合办公室干部",
        "党建工作办公室干部",
        "经济发展办公室干部",
        "社会事务办公室干部",
        "平安法治办公室干部",
        "农业农村办公室干部",
        "自然资源和规划所干部",
        "综合行政执法队队员",
        "便民服务中心干部",
    ),
    "乡": (
        "党政综合办公室干部",
        "党建工作办公室干部",
        "经济发展办公室干部",
        "社会事务办公室干部",
        "农业农村办公室干部",
        "便民服务中心干部",
    ),
}
_VILLAGE_HEAD = {"村": "村委会主任", "社区": "社区居委会主任"}

# (name, kind, registration authority, category). 9x: market regulation; 5x: civil affairs.
ORGANIZATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("共治县青禾农业科技有限公司", OrgKind.ENTERPRISE, "9", "1"),
    ("共治县启明建筑工程有限公司", OrgKind.ENTERPRISE, "9", "1"),
    ("共治县云岭茶叶专业合作社", OrgKind.ENTERPRISE, "9", "3"),
    ("共治县顺达物流有限公司", OrgKind.ENTERPRISE, "9", "1"),
    ("共治县志愿服务联合会", OrgKind.SOCIAL_ORG, "5", "1"),
    ("共治县康乐养老服务中心", OrgKind.SOCIAL_ORG, "5", "2"),
)


class DemoError(RuntimeError):
    """The demo or seed cannot be built; the message is for the person at the terminal, in Chinese."""


SeedError = DemoError


# ---- demo logins --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str  # "" for the resident, who signs in by phone only
    phone: str = ""
    password: bool = True
    sees: str = ""


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin(Role.PLATFORM_ADMIN, "admin", sees="全部数据、账号与审计日志；Django 管理后台 /admin/"),
    DemoLogin(Role.COUNTY_OFFICE, "county", sees="全县乡镇、部门、干部名册；任务准入与基层负担汇总"),
    DemoLogin(
        Role.DEPARTMENT_STAFF, "zhujian", sees="本部门（县住房和城乡建设局）的交办任务、吹哨报到、督查计划"
    ),
    DemoLogin(Role.TOWNSHIP_LEADER, "leader", sees="本镇及所辖村（社区）的干部、居民与待办"),
    DemoLogin(Role.TOWNSHIP_STAFF, "staff", sees="本镇待办，所辖村（社区）与居民名册"),
    DemoLogin(Role.VILLAGE_COMMITTEE, "village", sees="本村居民名册、居民诉求与村务公开"),
    DemoLogin(Role.ORG_DEPARTMENT, "zuzhi", sees="全县干部名册、民主评议与激励事项"),
    DemoLogin(Role.DISCIPLINE, "jiwei", sees="全县容错纠错、问责案件与审计日志"),
    DemoLogin(Role.STAFFING_OFFICE, "bianban", sees="全县乡镇履职事项清单的发布、动态调整审批"),
    DemoLogin(Role.ORG_REP, "qiye", phone=ORG_REP_PHONE, sees="本企业提交的诉求与建议"),
    DemoLogin(
        Role.RESIDENT, "", phone=RESIDENT_PHONE, password=False, sees="本人的诉求、参与的评议与本村公开事项"
    ),
)


def login_user(login: DemoLogin) -> User | None:
    """The account behind a printed demo login (residents are found by phone)."""
    if login.username:
        return User.objects.filter(username=login.username).first()
    resident = Resident.objects.filter(phone=login.phone, verified=True).select_related("user").first()
    return resident.user if resident else None


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _where(user: User | None) -> str:
    """Where a demo account sits, read from the database so the table names the real generated units."""
    if user is None:
        return ""
    pos = Position.objects.filter(cadre__user=user).select_related("unit", "department").first()
    if pos is not None:
        place = pos.department.name if pos.department else pos.unit.name  # type: ignore[union-attr]
        return f"{place} {pos.title}"
    rep = Representative.objects.filter(user=user).select_related("organization").first()
    if rep is not None:
        return rep.organization.name
    resident = Resident.objects.filter(user=user).select_related("village__parent").first()
    if resident is not None:
        return f"{resident.village.parent.name}{resident.village.name} {resident.name}"  # type: ignore[union-attr]
    return ""


def print_logins(file: TextIO | None = None) -> None:
    out = file or sys.stdout
    rows: list[tuple[str, str, str, str]] = []
    for login in DEMO_LOGINS:
        role = str(Role(login.role).label)
        where = _where(login_user(login))
        if where:
            role = f"{role}（{where}）"
        if login.role == Role.RESIDENT:
            account = f"手机号 {login.phone}"
            secret = "短信验证码（见服务器日志）"  # noqa: S105
        elif login.phone:
            account = f"{login.username} 或 手机号 {login.phone}"
            secret = f"{DEMO_PASSWORD} 或 短信验证码"
        else:
            account, secret = login.username, DEMO_PASSWORD
        rows.append((role, account, secret, login.sees))
    heads = ("角色", "账号", "密码", "可以看到")
    widths = [max(_width(r[i]) for r in [heads, *rows]) for i in range(3)]
    print("\n演示账号（每个角色一个）：", file=out)
    print("  " + "  ".join(_pad(h, w) for h, w in zip(heads, [*widths, 0], strict=True)).rstrip(), file=out)
    print("  " + "  ".join("-" * w for w in [*widths, 12]), file=out)
    for r in rows:
        print("  " + "  ".join(_pad(c, w) for c, w in zip(r, [*widths, 0], strict=True)).rstrip(), file=out)
    print(
        f"\n  居民和组织代表用手机号登录：在登录页选「居民 / 企业」，输入手机号后点「获取验证码」；"
        f"演示环境不发真实短信，验证码由开发用短信发送器打印在运行 gongzhi 的终端（服务器日志）里，"
        f"形如「【短信 SMS】→ {RESIDENT_PHONE}：【共治】您的登录验证码为 123456」。",
        file=out,
    )
    print(f"  所有演示账号的密码均为 {DEMO_PASSWORD}，仅供本机演示使用。", file=out)
    print(f"\n  打开 {DEMO_URL}", file=out)


# ---- demo county --------------------------------------------------------------------------------------------


def build_demo_county(progress: Progress = None, *, scale: float = 1.0) -> bool:
    """Build the demo county. Returns False (and writes nothing) when it already exists.

    ``scale`` shrinks the number of residents (the tree, departments and cadres stay whole) for fast tests.
    """
    say = progress or (lambda _msg: None)
    if AdminUnit.objects.filter(code=COUNTY_CODE).exists():
        return False
    t0 = time.perf_counter()
    try:
        with transaction.atomic():
            if AdminUnit.objects.filter(code=COUNTY_CODE).exists():  # a concurrent run got there first
                return False
            counts = _DemoBuilder(random.Random(RANDOM_SEED), scale, say).build()
            # Pillars add their demo data through an app hook, so core never imports them.
            county = AdminUnit.objects.get(code=COUNTY_CODE)
            for cfg in apps.get_app_configs():
                hook = getattr(cfg, "build_demo", None)
                if hook is not None:
                    counts.update(hook(county=county, say=say))
            audit_record(
                actor=None, action="demo.build", object_type="admin_unit", object_id=COUNTY_CODE, data=counts
            )
    except IntegrityError:
        if AdminUnit.objects.filter(code=COUNTY_CODE).exists():
            return False
        raise
    say(f"演示县生成完毕，用时 {time.perf_counter() - t0:.1f} 秒")
    return True


@dataclass
class _CadreSpec:
    username: str
    title: str
    unit: AdminUnit | None = None
    department: Department | None = None
    is_leader: bool = False


class _DemoBuilder:
    def __init__(self, rng: random.Random, scale: float, say: Callable[[str], None]):
        self.rng = rng
        self.scale = scale
        self.say = say
        self.phones: set[str] = {RESIDENT_PHONE, ORG_REP_PHONE}
        self.now = timezone.now()
        self.demo_hash = make_password(DEMO_PASSWORD)  # hashed once: argon2 is slow on purpose

    def phone(self) -> str:
        while True:
            p = namegen.phone(self.rng)
            if p not in self.phones:
                self.phones.add(p)
                return p

    def build(self) -> dict[str, int]:
        taken = [lg.username for lg in DEMO_LOGINS if lg.username and lg.username != "admin"]
        clash = sorted(User.objects.filter(username__in=taken).values_list("username", flat=True))
        if clash:
            raise DemoError(f"用户名 {'、'.join(clash)} 已被占用：演示县需要在空数据库中生成")
        county, townships, villages = self._tree()
        self.say(f"行政区划：{COUNTY_NAME}，{len(townships)} 个乡镇（街道），{len(villages)} 个村（社区）")
        departments = self._departments(county)
        self.say(f"部门：{len(departments)} 个（含县委县政府办、组织部、纪委监委）")
        zhen = next(t for t in townships if t.kind == "镇")
        cun = next(v for v in villages if v.parent_id == zhen.pk and v.kind == "村")
        cadres = self._cadres(townships, villages, departments, zhen, cun)
        self.say(f"干部：{cadres} 名（含各角色演示账号）")
        orgs = self._organizations(townships, zhen)
        t0 = time.perf_counter()
        residents = self._residents(villages, cun)
        self.say(f"居民：{residents:,} 名（{time.perf_counter() - t0:.1f} 秒）")
        return {
            "townships": len(townships),
            "villages": len(villages),
            "departments": len(departments),
            "cadres": cadres,
            "organizations": orgs,
            "residents": residents,
        }

    def _tree(self) -> tuple[AdminUnit, list[AdminUnit], list[AdminUnit]]:
        province, _ = AdminUnit.objects.get_or_create(
            code=PROVINCE_CODE, defaults={"name": PROVINCE_NAME, "level": Level.PROVINCE, "kind": "省"}
        )
        city, _ = AdminUnit.objects.get_or_create(
            code=CITY_CODE,
            defaults={"name": CITY_NAME, "level": Level.CITY, "kind": "市", "parent": province},
        )
        county = AdminUnit.objects.create(
            code=COUNTY_CODE, name=COUNTY_NAME, level=Level.COUNTY, kind="县", parent=city
        )
        names = namegen.UniqueNames(self.rng, taken=[COUNTY_NAME])
        townships: list[AdminUnit] = []
        layout: dict[str, tuple[tuple[str, int], ...]] = {}
        for kind, count, base, villages in TOWNSHIP_LAYOUT:
            for i in range(count):
                code = f"{AREA}{base + i + 1:03d}000"
                townships.append(
                    AdminUnit(
                        code=code,
                        name=names.township(kind, i),
                        level=Level.TOWNSHIP,
                        kind=kind,
                        parent=county,
                    )
                )
                layout[code] = villages
        AdminUnit.objects.bulk_create(townships)
        villages_out: list[AdminUnit] = []
        for t in townships:
            for vkind, n in layout[t.code]:
                base = 0 if vkind == "社区" else 200
                for j in range(n):
                    villages_out.append(
                        AdminUnit(
                            code=f"{t.code[:9]}{base + j + 1:03d}",
                            name=names.village(vkind),
                            level=Level.VILLAGE,
                            kind=vkind,
                            parent=t,
                        )
                    )
        AdminUnit.objects.bulk_create(villages_out, batch_size=500)
        for u in (*townships, *villages_out):
            divisions.check_child(u.parent.code, u.code, u.level)  # type: ignore[union-attr]
        return county, townships, villages_out

    def _departments(self, county: AdminUnit) -> list[Department]:
        depts = [
            Department(county=county, name=n, short_name=s, kind=DepartmentKind.FUNCTIONAL)
            for n, s in FUNCTIONAL_DEPARTMENTS
        ]
        depts += [Department(county=county, name=n, short_name=s, kind=k) for n, s, k, _ in ORGANS]
        return Department.objects.bulk_create(depts)

    def _cadres(
        self,
        townships: list[AdminUnit],
        villages: list[AdminUnit],
        departments: list[Department],
        zhen: AdminUnit,
        cun: AdminUnit,
    ) -> int:
        specs: list[_CadreSpec] = []
        for t in townships:
            specs += [_CadreSpec("", title, unit=t, is_leader=True) for title in _LEADERS[t.kind]]
            specs += [_CadreSpec("", title, unit=t) for title in _STAFF[t.kind]]
        specs += [_CadreSpec("", _VILLAGE_HEAD[v.kind], unit=v, is_leader=True) for v in villages]
        by_name = {d.name: d for d in departments}
        for d in departments[: len(FUNCTIONAL_DEPARTMENTS)]:
            specs += [
                _CadreSpec("", title, department=d, is_leader=lead) for title, lead in DEPARTMENT_TITLES
            ]
        for name, _short, _kind, titles in ORGANS:
            specs += [
                _CadreSpec("", title, department=by_name[name], is_leader=i == 0)
                for i, title in enumerate(titles)
            ]

        def claim(username: str, pred: Callable[[_CadreSpec], bool]) -> None:
            spec = next(s for s in specs if not s.username and pred(s))
            spec.username = username

        claim("leader", lambda s: s.unit is zhen and s.title == "党委书记")
        claim("staff", lambda s: s.unit is zhen and not s.is_leader)
        claim("village", lambda s: s.unit is cun)
        claim("zhujian", lambda s: s.department is by_name["县住房和城乡建设局"] and s.title == "业务股股长")
        claim("county", lambda s: s.department is by_name["县委县政府办公室"] and s.title == "减负办主任")
        claim("zuzhi", lambda s: s.department is by_name["县委组织部"] and s.title == "干部科科长")
        claim("jiwei", lambda s: s.department is by_name["县纪委监委"] and s.title == "党风政风监督室主任")
        claim(
            "bianban",
            lambda s: s.department is by_name["县委机构编制委员会办公室"] and s.title == "职能配置科科长",
        )

        users: list[User] = []
        names: list[str] = []
        for i, spec in enumerate(specs, start=1):
            name = namegen.person_name(self.rng, female=self.rng.random() < 0.35)
            names.append(name)
            # Only the printed demo accounts can sign in; the rest exist for the rosters.
            password = self.demo_hash if spec.username else make_password(None)
            users.append(User(username=spec.username or f"gz{i:04d}", display_name=name, password=password))
        if not User.objects.filter(username="admin").exists():
            users.append(
                User(
                    username="admin",
                    display_name="平台管理员",
                    is_superuser=True,
                    is_staff=True,
                    password=self.demo_hash,
                )
            )
        User.objects.bulk_create(users, batch_size=500)
        cadres = Cadre.objects.bulk_create(
            [
                Cadre(user=u, name=n, phone=self.phone())
                for u, n in zip(users[: len(specs)], names, strict=True)
            ],
            batch_size=500,
        )
        Position.objects.bulk_create(
            [
                Position(cadre=c, unit=s.unit, department=s.department, title=s.title, is_leader=s.is_leader)
                for c, s in zip(cadres, specs, strict=True)
            ],
            batch_size=500,
        )
        return len(cadres)

    def _organizations(self, townships: list[AdminUnit], zhen: AdminUnit) -> int:
        orgs: list[Organization] = []
        codes: set[str] = set()
        for i, (name, kind, authority, category) in enumerate(ORGANIZATIONS):
            code = namegen.credit_code(self.rng, authority=authority, category=category, area=AREA)
            while code in codes:
                code = namegen.credit_code(self.rng, authority=authority, category=category, area=AREA)
            codes.add(code)
            unit = zhen if i == 0 else self.rng.choice(townships)
            orgs.append(Organization(name=name, kind=kind, credit_code=code, unit=unit))
        Organization.objects.bulk_create(orgs)
        users, reps = [], []
        for i, org in enumerate(orgs):
            name = namegen.person_name(self.rng)
            if i == 0:
                user = User(username="qiye", display_name=name, phone=ORG_REP_PHONE, password=self.demo_hash)
                phone = ORG_REP_PHONE
            else:
                user = User(username=f"daibiao{i:02d}", display_name=name, password=make_password(None))
                phone = self.phone()
            users.append(user)
            reps.append(Representative(organization=org, user=user, name=name, phone=phone))
        User.objects.bulk_create(users)
        Representative.objects.bulk_create(reps)
        return len(orgs)

    def _residents(self, villages: list[AdminUnit], cun: AdminUnit) -> int:
        rng = self.rng
        total = round(DEMO_RESIDENTS * self.scale)
        sizes = _apportion(total, [1.6 if v.kind == "社区" else 1.0 for v in villages])
        demo_index = villages.index(cun)
        sizes[demo_index] = max(sizes[demo_index], 1)
        seen: set[str] = set()
        rows: list[tuple[Any, ...]] = []
        demo_row = -1
        for v, n in zip(villages, sizes, strict=True):
            if v is cun:
                demo_row = len(rows)  # the resident demo login: head of the village's first household
            household = 0
            left = n
            while left > 0:
                household += 1
                size = min(left, rng.choices((1, 2, 3, 4, 5), weights=(12, 26, 30, 21, 11))[0])
                left -= size
                family = namegen.surname(rng)
                head_year = rng.randint(1945, 1996)
                head_female = rng.random() < 0.3
                for k in range(size):
                    if k == 0:
                        female, fam, year = head_female, family, head_year
                    elif k == 1:  # spouse
                        female, fam = not head_female, namegen.surname(rng)
                        year = min(2000, head_year + rng.randint(-4, 4))
                    else:  # child
                        female, fam = rng.random() < 0.5, family
                        year = min(2023, head_year + rng.randint(22, 38))
                    id_number = self._id_number(year, female, seen)
                    rows.append(
                        (
                            v.pk,
                            namegen.person_name(rng, female=female, family=fam),
                            f"{v.code}{household:04d}",
                            self.phone() if rng.random() < 0.7 else "",
                            resident_id_hash(id_number),
                            rng.random() < 0.95,
                        )
                    )
        vid, name, household_no, _phone, digest, _verified = rows[demo_row]
        rows[demo_row] = (vid, name, household_no, RESIDENT_PHONE, digest, True)
        # Raw bulk insert (COPY / executemany): Django's bulk_create spends seconds building 30,000 objects.
        written = _insert_residents(lambda stamp: ((*r, stamp) for r in rows), self.now)
        demo_user = User.objects.create(
            username=f"r{RESIDENT_PHONE}",
            phone=RESIDENT_PHONE,
            display_name=name,
            password=make_password(None),
        )
        Resident.objects.filter(village=cun, phone=RESIDENT_PHONE).update(user=demo_user)
        return written

    def _id_number(self, year: int, female: bool, seen: set[str]) -> str:
        rng = self.rng
        while True:
            born = date.fromordinal(date(year, 1, 1).toordinal() + rng.randrange(365))
            seq = rng.randrange(1000)
            seq = seq - seq % 2 + (0 if female else 1)  # 17th digit: odd for men, even for women
            number = make_id(f"{AREA}{born.year}{born.month:02d}{born.day:02d}{seq:03d}")
            if number not in seen:
                seen.add(number)
                return number


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder), summing exactly to it."""
    w = sum(weights)
    raw = [total * x / w for x in weights]
    out = [math.floor(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: out[i] - raw[i])[: total - sum(out)]:
        out[i] += 1
    return out


# ---- bulk seeding -------------------------------------------------------------------------------------------

# Layout of auto-assigned seed counties: a township code has 3 digits (at most 999 per county), so a province-scale
# seed spreads its townships over counties of a realistic size, and its counties over cities.
TOWNSHIPS_PER_COUNTY = 20
COUNTIES_PER_CITY = 15
NAME_POOL_SIZE = 20_000
RESIDENT_CHUNK = 50_000
VILLAGE_COPY_THRESHOLD = 5_000
# PostgreSQL: from this many residents on, indexes are rebuilt after the load instead of maintained per row.
BULK_INDEX_THRESHOLD = 200_000

# GB 11643 check digit, split by part so that a generated number costs three table lookups.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_BIRTH_FIRST = date(1940, 1, 1)
_BIRTH_DAYS = (date(2020, 1, 1) - _BIRTH_FIRST).days
# Distinct ID numbers available per county (area code): one per birth date and 3-digit sequence number.
ID_CAPACITY = _BIRTH_DAYS * 1000
# Strides coprime to their moduli turn a running index into a shuffled but collision-free value.
_ID_STRIDE = next(p for p in range(7_000_003, 9_000_000, 2) if math.gcd(p, ID_CAPACITY) == 1)
_HOUSEHOLD_SIZES = (3, 2, 4, 1, 3, 5, 2, 3, 4, 2, 1, 3)


@dataclass
class SeedStats:
    backend: str
    counties: list[str] = field(default_factory=list)
    townships: int = 0
    villages: int = 0
    cadres: int = 0
    residents: int = 0
    seconds: float = 0.0
    resident_seconds: float = 0.0  # writing residents, including any index rebuild
    index_seconds: float = 0.0  # of which: rebuilding indexes after a big PostgreSQL load

    @property
    def rows_per_second(self) -> float:
        return self.residents / self.resident_seconds if self.resident_seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "counties": len(self.counties),
            "first_county": self.counties[0] if self.counties else "",
            "townships": self.townships,
            "villages": self.villages,
            "cadres": self.cadres,
            "residents": self.residents,
        }

    def __str__(self) -> str:
        span = self.counties[0] + (f" 至 {self.counties[-1]}" if len(self.counties) > 1 else "")
        return (
            f"生成完毕：{len(self.counties)} 个县（{span}），{self.townships:,} 个乡镇（街道），"
            f"{self.villages:,} 个村（社区），{self.cadres:,} 名干部，{self.residents:,} 名居民；"
            f"总用时 {self.seconds:.1f} 秒，居民写入 {self.rows_per_second:,.0f} 行/秒（{self.backend}"
            + (f"，其中重建索引 {self.index_seconds:.1f} 秒）" if self.index_seconds else "）")
        )


def seed(
    *,
    townships: int = 12,
    villages_per_township: int = 12,
    residents_per_village: int = 200,
    county_code: str | None = None,
    progress: Progress = None,
    residents: int | None = None,
    cadres_per_township: int = 2,
) -> SeedStats:
    """Create new counties under prefix 99 with ``townships`` × ``villages_per_township`` × residents.

    ``residents`` (a total, spread evenly over the villages) overrides ``residents_per_village``. Without
    ``county_code`` the townships are spread over as many new counties as needed (TOWNSHIPS_PER_COUNTY each).
    All-or-nothing: one transaction, one audit event.
    """
    say = progress or (lambda _msg: None)
    if townships < 1:
        raise SeedError("乡镇数必须至少为 1")
    if not 1 <= villages_per_township <= 999:
        raise SeedError("每个乡镇的村（社区）数必须在 1 到 999 之间（村级代码只有 3 位）")
    if residents_per_village < 0 or (residents is not None and residents < 0):
        raise SeedError("居民数不能为负数")
    total = residents if residents is not None else townships * villages_per_township * residents_per_village
    t0 = time.perf_counter()
    stats = SeedStats(backend=connection.vendor)
    with transaction.atomic():
        plan = _plan_counties(townships, county_code)
        n_villages = townships * villages_per_township
        per_county_max = max(n for _c, n in plan) * villages_per_township * (total // n_villages + 1)
        if per_county_max > ID_CAPACITY:
            raise SeedError(
                f"单个县最多生成 {ID_CAPACITY:,} 名居民（身份证号空间所限），请增加乡镇数或减少居民数"
            )
        stats.counties = [c for c, _n in plan]
        rng = random.Random(f"gongzhi-seed:{plan[0][0]}")
        town_units, villages = _seed_tree(plan, villages_per_township, rng)
        stats.townships, stats.villages = len(town_units), len(villages)
        say(
            f"行政区划：{len(plan)} 个县，{stats.townships:,} 个乡镇（街道），{stats.villages:,} 个村（社区）"
            f"（{time.perf_counter() - t0:.1f} 秒）"
        )
        stats.cadres = _seed_cadres(town_units, cadres_per_township)
        base, extra = divmod(total, len(villages))
        counts = [base + (1 if i < extra else 0) for i in range(len(villages))]
        names = namegen.name_pool(rng, NAME_POOL_SIZE)
        t1 = time.perf_counter()
        with _indexes_rebuilt_after(Resident, total, say) as rebuild:
            stats.residents = _load_residents(villages, counts, names, say)
        stats.resident_seconds = time.perf_counter() - t1
        stats.index_seconds = rebuild.get("seconds", 0.0)
        audit_record(
            actor=None,
            action="seed.build",
            object_type="admin_unit",
            object_id=plan[0][0],
            data=stats.as_dict(),
        )
        if connection.vendor == "postgresql":
            # Fresh statistics so the planner uses the new indexes at once in benchmarks.
            with connection.cursor() as cur:
                for model in (AdminUnit, Resident):
                    cur.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    stats.seconds = time.perf_counter() - t0
    return stats


def _plan_counties(townships: int, county_code: str | None) -> list[tuple[str, int]]:
    """[(county code, number of townships)] for the counties to create."""
    if county_code:
        code = county_code.strip()
        code = code + "0" * (12 - len(code)) if len(code) == 6 else code
        try:
            level = divisions.level_of(code)
        except divisions.DivisionCodeError as e:
            raise SeedError(str(e)) from e
        if level != Level.COUNTY or not code.startswith("99"):
            raise SeedError(
                f"县级代码 {code} 无效：应为 99 开头的县级代码（如 990103），演示数据不使用真实区划代码"
            )
        if townships > 999:
            raise SeedError("一个县最多 999 个乡镇（乡镇代码只有 3 位）；不指定县级代码时会自动分到多个县")
        if AdminUnit.objects.filter(code__startswith=code[:6]).exists():
            raise SeedError(f"县级代码 {code[:6]} 已被使用，请换一个或不指定（自动分配）")
        return [(code, townships)]
    n = math.ceil(townships / TOWNSHIPS_PER_COUNTY)
    sizes = [townships // n + (1 if i < townships % n else 0) for i in range(n)]
    used = {
        c[:6]
        for c in AdminUnit.objects.filter(code__startswith="99", level=Level.COUNTY).values_list(
            "code", flat=True
        )
    }
    used.add(AREA)  # reserved for the demo county, which may be built later
    slots: list[str] = []
    for cc in range(1, 100):
        city = f"99{cc:02d}"
        room = COUNTIES_PER_CITY - sum(1 for c in used if c.startswith(city))
        for dd in range(1, 100):
            if room <= 0 or len(slots) == n:
                break
            if f"{city}{dd:02d}" not in used:
                slots.append(f"{city}{dd:02d}000000")
                room -= 1
        if len(slots) == n:
            break
    if len(slots) < n:
        raise SeedError("示范省（99）下可分配的县级代码已用完")
    return list(zip(slots, sizes, strict=True))


def _township_kinds(n: int) -> list[str]:
    jiedao, xiang = round(n * 0.15), round(n * 0.25)
    return ["街道"] * jiedao + ["镇"] * (n - jiedao - xiang) + ["乡"] * xiang


def _seed_tree(
    plan: list[tuple[str, int]], vpt: int, rng: random.Random
) -> tuple[list[AdminUnit], list[tuple[int, str]]]:
    province, _ = AdminUnit.objects.get_or_create(
        code=PROVINCE_CODE, defaults={"name": PROVINCE_NAME, "level": Level.PROVINCE, "kind": "省"}
    )
    names = namegen.UniqueNames(rng)
    cities: dict[str, AdminUnit] = {}
    for code, _n in plan:
        city_code = code[:4] + "0" * 8
        if city_code not in cities:
            city = AdminUnit.objects.filter(code=city_code).first()
            if city is None:
                name = CITY_NAME if city_code == CITY_CODE else names.place_stem() + "市"
                city = AdminUnit.objects.create(
                    code=city_code, name=name, level=Level.CITY, kind="市", parent=province
                )
            cities[city_code] = city
    counties = AdminUnit.objects.bulk_create(
        [
            AdminUnit(
                code=code,
                name=names.place_stem() + "县",
                level=Level.COUNTY,
                kind="县",
                parent=cities[code[:4] + "0" * 8],
            )
            for code, _n in plan
        ]
    )
    towns: list[AdminUnit] = []
    for county, (_code, n) in zip(counties, plan, strict=True):
        county_names = namegen.UniqueNames(rng)
        for i, kind in enumerate(_township_kinds(n)):
            towns.append(
                AdminUnit(
                    code=f"{county.code[:6]}{i + 1:03d}000",
                    name=county_names.township(kind, i),
                    level=Level.TOWNSHIP,
                    kind=kind,
                    parent=county,
                )
            )
    AdminUnit.objects.bulk_create(towns, batch_size=1000)
    rows: list[tuple[str, str, str, str, int]] = []
    for t in towns:
        village_names = namegen.UniqueNames(rng)
        shequ = vpt if t.kind == "街道" else (max(1, vpt // 10) if t.kind == "镇" and vpt >= 3 else 0)
        for j in range(vpt):
            kind = "社区" if j < shequ else "村"
            rows.append((f"{t.code[:9]}{j + 1:03d}", village_names.village(kind), Level.VILLAGE, kind, t.pk))
    if connection.vendor == "postgresql" and len(rows) > VILLAGE_COPY_THRESHOLD:
        cols = _columns(AdminUnit, ("code", "name", "level", "kind", "parent"))
        _copy(AdminUnit._meta.db_table, cols, iter(rows))
        villages = []
        for i in range(0, len(towns), 500):
            ids = [t.pk for t in towns[i : i + 500]]
            villages += list(
                AdminUnit.objects.filter(parent_id__in=ids).order_by("code").values_list("id", "code")
            )
        villages.sort(key=lambda v: v[1])
    else:
        objs = AdminUnit.objects.bulk_create(
            [AdminUnit(code=c, name=nm, level=lv, kind=k, parent_id=p) for c, nm, lv, k, p in rows],
            batch_size=2000,
        )
        villages = [(u.pk, u.code) for u in objs]
    return towns, villages


def _seed_cadres(towns: list[AdminUnit], per_township: int) -> int:
    if per_township <= 0:
        return 0
    rng = random.Random(f"gongzhi-seed-cadres:{towns[0].code}")
    users, specs = [], []
    for t in towns:
        for k in range(per_township):
            leader = k == 0
            title = _LEADERS[t.kind][0] if leader else _STAFF[t.kind][(k - 1) % len(_STAFF[t.kind])]
            users.append(
                User(
                    username=f"s{t.code[:9]}{k + 1}",
                    display_name=namegen.person_name(rng),
                    password=make_password(None),
                )
            )
            specs.append((t, title, leader))
    User.objects.bulk_create(users, batch_size=2000)
    cadres = Cadre.objects.bulk_create([Cadre(user=u, name=u.display_name) for u in users], batch_size=2000)
    Position.objects.bulk_create(
        [
            Position(cadre=c, unit=t, title=title, is_leader=leader)
            for c, (t, title, leader) in zip(cadres, specs, strict=True)
        ],
        batch_size=2000,
    )
    return len(cadres)


def _id_tables() -> tuple[list[str], list[int], list[str], list[int]]:
    """Birth-date and sequence parts of an ID number with their check-digit partial sums."""
    dates, date_sums = [], []
    for d in range(_BIRTH_DAYS):
        s = (_BIRTH_FIRST + timedelta(days=d)).strftime("%Y%m%d")
        dates.append(s)
        date_sums.append(sum(int(c) * w for c, w in zip(s, _ID_WEIGHTS[6:14], strict=True)))
    seqs = [f"{i:03d}" for i in range(1000)]
    seq_sums = [sum(int(c) * w for c, w in zip(s, _ID_WEIGHTS[14:], strict=True)) for s in seqs]
    return dates, date_sums, seqs, seq_sums


def seed_id_number(area: str, index: int) -> str:
    """The ``index``-th generated ID number of a county; distinct for distinct index < ID_CAPACITY."""
    day, seq = divmod(index * _ID_STRIDE % ID_CAPACITY, 1000)
    return make_id(f"{area}{(_BIRTH_FIRST + timedelta(days=day)):%Y%m%d}{seq:03d}")


def _resident_rows(
    villages: list[tuple[int, str]], counts: list[int], names: list[str], stamp: Any
) -> Iterator[tuple[Any, ...]]:
    """(village_id, name, household_no, phone, id_hash, verified, stamp) for every seeded resident.

    Deterministic and collision-free: ID numbers walk each county's ID space with a stride.
    """
    dates, date_sums, seqs, seq_sums = _id_tables()
    # HMAC-SHA256 from precomputed inner and outer hash states (RFC 2104): two cheap state copies per row instead
    # of building an HMAC object, which matters at ten million rows. Equal to services.resident_id_hash (tested).
    key = str(settings.RESIDENT_ID_KEY).encode()
    key = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    n_names = len(names)
    # Phones 19xxxxxxxxx, consecutive from an offset that differs between seed runs (first county code).
    phone_at = int(villages[0][1][2:6]) * 10_000_000 if villages else 0
    per_county: dict[str, int] = {}
    g = 0
    for (vid, vcode), n in zip(villages, counts, strict=True):
        area = vcode[:6]
        area_sum = sum(int(c) * w for c, w in zip(area, _ID_WEIGHTS[:6], strict=True))
        j = per_county.get(area, 0)
        household, left_in_house = 0, 0
        for _ in range(n):
            if left_in_house == 0:
                household += 1
                left_in_house = _HOUSEHOLD_SIZES[household % len(_HOUSEHOLD_SIZES)]
                household_no = f"{vcode}{household:04d}"
            left_in_house -= 1
            day, seq = divmod(j * _ID_STRIDE % ID_CAPACITY, 1000)
            number = (
                f"{area}{dates[day]}{seqs[seq]}{_ID_CHECK[(area_sum + date_sums[day] + seq_sums[seq]) % 11]}"
            )
            h = inner.copy()
            h.update(number.encode())
            o = outer.copy()
            o.update(h.digest())
            phone = f"19{(phone_at + g) % 1_000_000_000:09d}" if g % 10 < 7 else ""
            yield (
                vid,
                names[g * 7919 % n_names],
                household_no,
                phone,
                o.hexdigest(),
                g % 20 != 0,
                stamp,
            )
            j += 1
            g += 1
        per_county[area] = j


def _columns(model: type[models.Model], names: Sequence[str]) -> list[str]:
    by_name = {f.name: f.column for f in model._meta.concrete_fields}
    return [by_name[n] for n in names]


def _copy(
    table: str,
    columns: list[str],
    rows: Iterator[tuple[Any, ...]],
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """PostgreSQL COPY FROM STDIN through psycopg 3, inside the current Django transaction."""
    qn = connection.ops.quote_name
    sql = f"COPY {qn(table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN"
    connection.ensure_connection()
    done = 0
    with connection.connection.cursor() as cur, cur.copy(sql) as cp:  # type: ignore[union-attr]
        while chunk := list(islice(rows, RESIDENT_CHUNK)):
            for row in chunk:
                cp.write_row(row)
            done += len(chunk)
            if on_chunk:
                on_chunk(done)
    return done


def _executemany(
    table: str,
    columns: list[str],
    rows: Iterator[tuple[Any, ...]],
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """SQLite: executemany in big batches on the raw connection, inside the current Django transaction."""
    qn = connection.ops.quote_name
    marks = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) VALUES ({marks})"  # noqa: S608
    connection.ensure_connection()
    raw = connection.connection
    done = 0
    while chunk := list(islice(rows, RESIDENT_CHUNK)):
        raw.executemany(sql, chunk)  # type: ignore[union-attr]
        done += len(chunk)
        if on_chunk:
            on_chunk(done)
    return done


def _insert_residents(
    make_rows: Callable[[Any], Iterator[tuple[Any, ...]]],
    created_at: datetime,
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Insert residents through the fastest bulk path of the database.

    ``make_rows(stamp)`` yields (village_id, name, household_no, phone, id_hash, verified, stamp) tuples, where
    ``stamp`` is ``created_at`` already in the form the path wants (appending it per row would cost seconds).
    """
    fields = ("village", "name", "household_no", "phone", "id_hash", "verified", "created_at")
    cols = _columns(Resident, fields)
    table = Resident._meta.db_table
    if connection.vendor == "postgresql":
        return _copy(table, cols, make_rows(created_at.isoformat()), on_chunk)
    if connection.vendor == "sqlite":
        return _executemany(
            table, cols, make_rows(connection.ops.adapt_datetimefield_value(created_at)), on_chunk
        )
    # Other backends: the portable ORM bulk path.
    done = 0
    rows = make_rows(created_at)
    while chunk := list(islice(rows, RESIDENT_CHUNK)):
        Resident.objects.bulk_create(
            [Resident(**dict(zip(fields, r, strict=True))) for r in chunk], batch_size=5000
        )
        done += len(chunk)
        if on_chunk:
            on_chunk(done)
    return done


@contextmanager
def _indexes_rebuilt_after(
    model: type[models.Model], rows: int, say: Callable[[str], None]
) -> Iterator[dict[str, float]]:
    """PostgreSQL, big loads into a table not much bigger than the load: drop secondary indexes and foreign keys
    first and rebuild them afterwards, as pg_restore does.

    Maintaining five B-trees (two of them on random hashes) row by row makes COPY crawl once they outgrow shared
    buffers; one sort per index afterwards is many times faster. All inside the seed's transaction, so a failure
    restores the old definitions; the table is locked for the duration (this is a benchmark tool, not a live path).
    """
    timing: dict[str, float] = {}
    if connection.vendor != "postgresql" or rows < BULK_INDEX_THRESHOLD:
        yield timing
        return
    qn = connection.ops.quote_name
    table = model._meta.db_table
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        if max(0.0, cur.fetchone()[0]) > rows:
            yield timing  # rebuilding a large index for a smaller addition would be slower than maintaining it
            return
        cur.execute(
            """SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
            [table],
        )
        indexes = cur.fetchall()
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
            "AND contype = 'f'",
            [table],
        )
        foreign_keys = cur.fetchall()
        # Fire checks still queued for earlier rows, or ALTER TABLE refuses ("pending trigger events").
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("SET CONSTRAINTS ALL DEFERRED")
        for name, _definition in foreign_keys:
            cur.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
        for name, _sql in indexes:
            cur.execute(f"DROP INDEX {qn(name)}")
    yield timing
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for _name, sql in indexes:
            cur.execute(sql)
        for name, definition in foreign_keys:
            cur.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")
    timing["seconds"] = time.perf_counter() - t0
    say(f"重建 {len(indexes)} 个索引和 {len(foreign_keys)} 个外键：{timing['seconds']:.1f} 秒")


def _load_residents(
    villages: list[tuple[int, str]], counts: list[int], names: list[str], say: Callable[[str], None]
) -> int:
    total = sum(counts)
    if total == 0:
        return 0
    step = max(RESIDENT_CHUNK, total // 10)
    t0 = time.perf_counter()
    last = [0]

    def report(done: int) -> None:
        if done - last[0] >= step or done == total:
            last[0] = done
            elapsed = time.perf_counter() - t0
            say(f"居民：{done:,} / {total:,} 行，{done / elapsed:,.0f} 行/秒")

    return _insert_residents(
        lambda stamp: _resident_rows(villages, counts, names, stamp), timezone.now(), report
    )
