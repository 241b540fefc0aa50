#!/usr/bin/env python
"""HTTP benchmark (issue 2, item 10): the role home page and one API list, as ratios against a bare Django view.

Creates a scratch PostgreSQL database, migrates it, loads a county-sized data set, serves the app with gunicorn
(production-like settings), logs real township leaders in, and drives three targets with ``wrk`` at 50 concurrent
connections: the bare view ``/bench/bare``, the home page ``/`` (several users' sessions, round-robin), and an API
list endpoint with per-user bearer tokens. Prints requests/s, p99, the ratios against the bare view and PASS/FAIL
against the target (>= 25% of bare throughput, p99 < 100 ms, no errors). See bench/README.md.

Run:  python bench/http.py            (about 1.5 minutes; exit status 0 = PASS, 1 = FAIL, 2 = could not run)
"""

# This file is named http.py: drop its own folder from the front of sys.path before anything imports the
# standard library's ``http`` package, or Python would import this script in its place.
import os
import sys

_BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.getcwd()) == _BENCH_DIR:
    sys.path.pop(0)
sys.path.append(_BENCH_DIR)  # after the standard library, for ``_client``

import argparse  # noqa: E402
import contextlib  # noqa: E402
import hashlib  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from http.cookies import SimpleCookie  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(_BENCH_DIR).parent
TARGET_RATIO = 0.25
TARGET_P99_MS = 100.0
PASSWORD = "Bench-Passw0rd-2024"
DRAIN_SECONDS = 1.5


# ---- helpers ------------------------------------------------------------------------------------------------------


def say(msg: str) -> None:
    print(msg, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_admin(pg_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(pg_url.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


# ---- data ---------------------------------------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文建国志红春梅海燕云飞鹏辉宇晨欣怡浩然子涵雨萱佳琪"
)
PLACE = "东西南北河山湾桥岭坪溪塘沟坝洲湖泉石林桃李柳枫竹松梅杏花禾丰安宁福寿兴隆和平新光明清水云龙凤金银"
DEPARTMENTS = [
    ("县委县政府办公室", "county_office"),
    ("县委组织部", "organization"),
    ("县纪委监委", "discipline"),
    ("县发展和改革局", "functional"),
    ("县教育局", "functional"),
    ("县公安局", "functional"),
    ("县民政局", "functional"),
    ("县财政局", "functional"),
    ("县人力资源和社会保障局", "functional"),
    ("县自然资源局", "functional"),
    ("县住房和城乡建设局", "functional"),
    ("县交通运输局", "functional"),
    ("县水利局", "functional"),
    ("县农业农村局", "functional"),
    ("县商务局", "functional"),
    ("县文化和旅游局", "functional"),
    ("县卫生健康局", "functional"),
    ("县应急管理局", "functional"),
    ("县市场监督管理局", "functional"),
    ("县医疗保障局", "functional"),
]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _place(rng: random.Random, used: set[str]) -> str:
    while True:
        n = "".join(rng.choice(PLACE) for _ in range(2))
        if n not in used:
            used.add(n)
            return n


def load_data(townships: int, villages_per_township: int, residents_per_village: int) -> dict[str, int]:
    """A fictional county through bulk paths: units, departments, cadres with positions, residents.

    Kept in bench/ on purpose: it is benchmark scaffolding and bypasses the services (and so the audit log).
    """
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from gongzhi.core.models import AdminUnit, Cadre, Department, Position, Resident, User

    rng = random.Random(20240601)
    used: set[str] = set()
    pw_hash = make_password(PASSWORD)  # hashed once and shared: argon2 per row would dominate the load time
    with transaction.atomic():
        prov = AdminUnit.objects.create(code="990000000000", name="示范省", level="province", kind="省")
        city = AdminUnit.objects.create(
            code="990100000000", name="启明市", level="city", kind="市", parent=prov
        )
        county = AdminUnit.objects.create(
            code="990102000000", name="共治县", level="county", kind="县", parent=city
        )
        towns = []
        for t in range(1, townships + 1):
            kind = "街道" if t <= 2 else ("乡" if t % 4 == 0 else "镇")
            towns.append(
                AdminUnit(
                    code=f"990102{t:03d}000",
                    name=_place(rng, used) + kind,
                    level="township",
                    kind=kind,
                    parent=county,
                )
            )
        AdminUnit.objects.bulk_create(towns)
        villages = []
        for town in towns:
            vkind = "社区" if town.kind == "街道" else "村"
            for v in range(1, villages_per_township + 1):
                villages.append(
                    AdminUnit(
                        code=f"{town.code[:9]}{v:03d}",
                        name=_place(rng, used) + vkind,
                        level="village",
                        kind=vkind,
                        parent=town,
                    )
                )
        AdminUnit.objects.bulk_create(villages)
        depts = Department.objects.bulk_create(
            [Department(county=county, name=n, kind=k, short_name=n[1:3]) for n, k in DEPARTMENTS]
        )

        # (unit, department, title, is_leader) for every post; leaders first so they get the low user numbers.
        posts: list[tuple[Any, Any, str, bool]] = []
        for town in towns:
            posts += [(town, None, "党委书记", True), (town, None, "乡镇长", True)]
        for town in towns:
            posts += [
                (town, None, t, False)
                for t in ("党政办主任", "综治办干部", "农业服务中心干部", "民政干事", "财政所干部")
            ]
        for vil in villages:
            posts += [(vil, None, "村（居）委会主任", True), (vil, None, "村（居）委会委员", False)]
        for d in depts:
            posts += [(None, d, "局长" if d.kind == "functional" else "主任", True), (None, d, "科员", False)]
        users = User.objects.bulk_create(
            [
                User(username=f"c{i:04d}", display_name=_name(rng), password=pw_hash, is_active=True)
                for i in range(len(posts))
            ]
        )
        cadres = Cadre.objects.bulk_create([Cadre(user=u, name=u.display_name) for u in users])
        Position.objects.bulk_create(
            [
                Position(cadre=c, unit=unit, department=dept, title=title, is_leader=lead)
                for c, (unit, dept, title, lead) in zip(cadres, posts, strict=True)
            ]
        )
        n_res = 0
        batch: list[Resident] = []
        for vil in villages:
            for h in range(residents_per_village):
                n_res += 1
                batch.append(
                    Resident(
                        village=vil,
                        name=_name(rng),
                        household_no=f"{vil.code[-6:]}{h // 4:04d}",
                        phone=f"139{n_res:08d}" if h % 3 else "",
                        id_hash=hashlib.sha256(f"bench-{n_res}".encode()).hexdigest(),
                        verified=h % 5 != 0,
                    )
                )
                if len(batch) >= 5000:
                    Resident.objects.bulk_create(batch)
                    batch = []
        Resident.objects.bulk_create(batch)
    return {
        "townships": len(towns),
        "villages": len(villages),
        "departments": len(depts),
        "cadres": len(cadres),
        "residents": n_res,
    }


def build_data(args: argparse.Namespace) -> dict[str, Any]:
    """The demo county (``gongzhi demo``'s data) when the app has it, else this script's loader; plus seeding."""
    try:
        from gongzhi.core import demo
    except ImportError:
        demo = None  # type: ignore[assignment]
    if args.data == "demo" and demo is None:
        raise RuntimeError("gongzhi.core.demo is not available; use --data own")
    if args.data != "own" and demo is not None:
        demo.build_demo_county()
        stats: dict[str, Any] = {"data": "demo county"}
    else:
        stats = {
            "data": "bench loader",
            **load_data(args.townships, args.villages_per_township, args.residents_per_village),
        }
    if args.seed_townships:
        if demo is None:
            raise RuntimeError("--seed-townships needs gongzhi.core.demo.seed")
        seeded = demo.seed(townships=args.seed_townships, residents_per_village=args.residents_per_village)
        stats["seeded_townships"] = seeded.townships
    from gongzhi.core.models import AdminUnit, Cadre, Department, Resident

    stats.update(
        townships=AdminUnit.objects.filter(level="township").count(),
        villages=AdminUnit.objects.filter(level="village").count(),
        departments=Department.objects.count(),
        cadres=Cadre.objects.count(),
        residents=Resident.objects.count(),
    )
    return stats


def township_leaders(n: int) -> list[Any]:
    """Up to ``n`` township leaders, one per township first; their password is set to the bench password."""
    from django.contrib.auth.hashers import make_password

    from gongzhi.core.models import Position, User

    seen: set[int] = set()
    ids: list[int] = []
    for uid, unit_id in (
        Position.objects.filter(unit__level="township", is_leader=True, active=True, cadre__active=True)
        .order_by("unit__code", "id")
        .values_list("cadre__user_id", "unit_id")
    ):
        if unit_id not in seen and uid not in ids:
            seen.add(unit_id)
            ids.append(uid)
    User.objects.filter(pk__in=ids[:n]).update(password=make_password(PASSWORD), is_active=True)
    by_id = User.objects.in_bulk(ids[:n])
    return [by_id[i] for i in ids[:n]]


# ---- server -------------------------------------------------------------------------------------------------------


def server_env(db_url: str, tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
            "GONGZHI_DEMO": "0",
            "DEBUG": "0",
            "HTTPS": "false",  # plain HTTP on 127.0.0.1: no SSL redirect, no secure-only cookies
            "GONGZHI_BENCH_VIEWS": "1",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "RESIDENT_ID_KEY": secrets.token_urlsafe(32),
            "AUDIT_CHAIN_KEY": secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": db_url,
            "STATIC_ROOT": str(tmp / "static"),
            "GONGZHI_DATA_DIR": str(tmp),
            "LOG_LEVEL": "WARNING",
        }
    )
    # Production runs with a shared Redis cache in front of the database sessions (README); use it when it is there.
    env.pop("CACHE_URL", None)
    if _redis_up():
        env["CACHE_URL"] = "redis://127.0.0.1:6379/7"
    return env


def _redis_up() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_gunicorn(env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "gongzhi.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--error-logfile",
        str(log),
        "--log-level",
        "warning",
        "--timeout",
        "60",
    ]
    proc = subprocess.Popen(argv, env=env, cwd=str(REPO), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {proc.returncode}; see {log}:\n{log.read_text()[-3000:]}"
            )
        try:
            status, _, _ = http_get(port, "/healthz")
            if status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz within 30 s")


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def http_get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def _cookies(headers: Any, jar: dict[str, str]) -> None:
    for raw in headers.get_all("Set-Cookie") or []:
        c: SimpleCookie = SimpleCookie()
        c.load(raw)
        for k, m in c.items():
            jar[k] = m.value


def login(port: int, username: str, password: str) -> dict[str, str]:
    """Log in through the real login form (CSRF included), as a browser does; returns the cookie jar."""
    jar: dict[str, str] = {}
    status, headers, body = http_get(port, "/login/")
    _cookies(headers, jar)
    m = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or not m or "csrftoken" not in jar:
        raise RuntimeError(f"login page: HTTP {status}, CSRF token {'found' if m else 'missing'}")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": m.group(1).decode(), "username": username, "password": password, "next": "/"}
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={jar['csrftoken']}",
                "Referer": f"http://127.0.0.1:{port}/login/",
            },
        )
        r = conn.getresponse()
        r.read()
        _cookies(r.headers, jar)
        if r.status != 302 or "sessionid" not in jar:
            raise RuntimeError(f"login of {username} failed: HTTP {r.status}")
    finally:
        conn.close()
    return jar


# ---- load generation ----------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    path: str
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    socket_errors: int = 0
    timeouts: int = 0
    non_2xx: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    app_cpu_s: float = 0.0  # CPU used by the gunicorn workers during the run
    db_cpu_s: float = 0.0  # CPU used by this database's PostgreSQL backends during the run

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """Server CPU (app + database) per request: what throughput would be bound by on an idle machine."""
        return (self.app_cpu_s + self.db_cpu_s) * 1000 / self.requests if self.requests else 0.0

    @property
    def errors(self) -> int:
        return self.socket_errors + self.timeouts + self.non_2xx


def combine(rs: list[Result]) -> Result:
    """Rounds of one target as one result: totals, request-weighted p50/p90, and the worst p99 and max."""
    n = sum(r.requests for r in rs) or 1
    statuses: dict[str, int] = {}
    for r in rs:
        for k, v in r.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
    return Result(
        name=rs[0].name,
        path=rs[0].path,
        requests=sum(r.requests for r in rs),
        seconds=sum(r.seconds for r in rs),
        p50_ms=sum(r.p50_ms * r.requests for r in rs) / n,
        p90_ms=sum(r.p90_ms * r.requests for r in rs) / n,
        p99_ms=max(r.p99_ms for r in rs),  # conservative: wrk gives no histogram to merge
        max_ms=max(r.max_ms for r in rs),
        socket_errors=sum(r.socket_errors for r in rs),
        timeouts=sum(r.timeouts for r in rs),
        non_2xx=sum(r.non_2xx for r in rs),
        statuses=statuses,
        app_cpu_s=sum(r.app_cpu_s for r in rs),
        db_cpu_s=sum(r.db_cpu_s for r in rs),
    )


class CpuMeter:
    """CPU seconds used by the gunicorn workers and by this database's PostgreSQL backends, from /proc.

    Wall-clock throughput on a shared 2-core machine moves with whatever else runs; CPU per request does not, so
    the report gives both.
    """

    def __init__(self, master_pid: int, pg_url: str, db: str):
        self.master_pid = master_pid
        self.db = db
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.conn: Any = None
        try:
            import psycopg

            self.conn = psycopg.connect(pg_url.rstrip("/") + "/postgres", autocommit=True)
        except Exception:  # noqa: S110 - no CPU accounting then; the benchmark itself still runs
            pass

    def _cpu(self, pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime

    def _workers(self) -> list[int]:
        out = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == self.master_pid:
                        out.append(int(d.name))
                except (OSError, ValueError, IndexError):
                    continue
        return out

    def _backends(self) -> list[int]:
        if self.conn is None:
            return []
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.db]
        ).fetchall()
        return [r[0] for r in rows]

    def snapshot(self) -> dict[str, dict[int, float]]:
        return {
            "app": {pid: self._cpu(pid) for pid in self._workers()},
            "db": {pid: self._cpu(pid) for pid in self._backends()},
        }

    @staticmethod
    def delta(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]], key: str) -> float:
        # A process that appeared during the run counts from zero; one that vanished is lost (rare: workers and
        # persistent connections live for the whole run).
        return sum(v - before[key].get(pid, 0.0) for pid, v in after[key].items())

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


WRK_LUA = r"""
local path = %(path)s
local sets = %(sets)s
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  -- every thread starts at a different user, then rotates: each connection sends several users' requests
  i = (id or 0) * 7
  s2, s3, s4, s5 = 0, 0, 0, 0
  reqs = {}
  for k, h in ipairs(sets) do reqs[k] = wrk.format("GET", path, h) end
end

function request()
  i = i + 1
  return reqs[(i %% #reqs) + 1]
end

function response(status, headers, body)
  if status < 300 then s2 = s2 + 1
  elseif status < 400 then s3 = s3 + 1
  elseif status < 500 then s4 = s4 + 1
  else s5 = s5 + 1 end
end

function done(summary, latency, requests)
  local t = {0, 0, 0, 0}
  for _, th in ipairs(threads) do
    t[1] = t[1] + th:get("s2"); t[2] = t[2] + th:get("s3"); t[3] = t[3] + th:get("s4"); t[4] = t[4] + th:get("s5")
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d, ' ..
    '"2xx": %%d, "3xx": %%d, "4xx": %%d, "5xx": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout,
    t[1], t[2], t[3], t[4]))
end
"""


def _lua_str(s: str) -> str:
    return json.dumps(s)  # ASCII JSON string literals are valid Lua string literals


def run_wrk(
    name: str,
    port: int,
    path: str,
    header_sets: list[dict[str, str]],
    *,
    seconds: float,
    connections: int,
    threads: int,
    tmp: Path,
) -> Result:
    sets = (
        "{"
        + ", ".join(
            "{" + ", ".join(f"[{_lua_str(k)}] = {_lua_str(v)}" for k, v in h.items()) + "}"
            for h in header_sets
        )
        + "}"
    )
    script = tmp / f"{name}.lua"
    script.write_text(WRK_LUA % {"path": _lua_str(path), "sets": sets})
    argv = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    m = re.search(r"^WRKJSON (\{.*\})$", out.stdout, re.M)
    if not m:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    d = json.loads(m.group(1))
    return Result(
        name=name,
        path=path,
        requests=d["requests"],
        seconds=d["duration_us"] / 1e6,
        p50_ms=d["p50_us"] / 1e3,
        p90_ms=d["p90_us"] / 1e3,
        p99_ms=d["p99_us"] / 1e3,
        max_ms=d["max_us"] / 1e3,
        socket_errors=d["connect"] + d["read"] + d["write"],
        timeouts=d["timeout"],
        non_2xx=d["3xx"] + d["4xx"] + d["5xx"],
        statuses={k: d[k] for k in ("2xx", "3xx", "4xx", "5xx") if d[k]},
    )


def run_load(
    client: str,
    name: str,
    port: int,
    path: str,
    header_sets: list[dict[str, str]],
    *,
    seconds: float,
    connections: int,
    threads: int,
    tmp: Path,
) -> Result:
    if client == "wrk":
        return run_wrk(
            name, port, path, header_sets, seconds=seconds, connections=connections, threads=threads, tmp=tmp
        )
    import _client

    d = _client.run(port, path, header_sets, seconds=seconds, connections=connections)
    return Result(
        name=name,
        path=path,
        requests=d["requests"],
        seconds=d["seconds"],
        p50_ms=d["p50_ms"],
        p90_ms=d["p90_ms"],
        p99_ms=d["p99_ms"],
        max_ms=d["max_ms"],
        socket_errors=d["socket_errors"],
        timeouts=d["timeouts"],
        non_2xx=d["non_2xx"],
        statuses=d["statuses"],
    )


def pick_client(requested: str) -> str:
    if requested in ("auto", "wrk") and shutil.which("wrk"):
        return "wrk"
    if requested in ("auto", "wrk") and os.geteuid() == 0 and shutil.which("apt-get"):
        say("wrk 未安装，正在用 apt-get 安装 … (wrk not found; installing it with apt-get)")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, stdout=subprocess.DEVNULL)
        if shutil.which("wrk"):
            return "wrk"
    if requested == "wrk":
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    say(
        "WARNING: wrk unavailable, falling back to the Python asyncio client (bench/_client.py); on a 2-core "
        "machine the client competes with the server, so absolute numbers are lower."
    )
    return "python"


# ---- per-request work, in process ---------------------------------------------------------------------------------


def request_costs(user: Any, api_path: str, token: str, repeat: int = 200) -> dict[str, tuple[int, float]]:
    """Queries per request and Django CPU ms per request for each target, in process, through all middleware."""
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out: dict[str, tuple[int, float]] = {}
    browser = Client(SERVER_NAME="127.0.0.1")
    browser.force_login(user, backend="gongzhi.core.auth.LockoutModelBackend")
    system = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    for name, client, path in (
        ("bare", browser, "/bench/bare"),
        ("home", browser, "/"),
        ("api", system, api_path),
    ):
        r = client.get(path)
        if r.status_code != 200:
            raise RuntimeError(f"in-process GET {path}: HTTP {r.status_code}")
        reset_queries()  # the query log is a bounded deque; a full one would make the capture read 0
        with CaptureQueriesContext(connection) as ctx:
            client.get(path)
        n_queries = len(
            ctx.captured_queries
        )  # read now: it is a view on the log, which the next request clears
        # CPU time of this process only: Django's share of a request, without PostgreSQL or the network, and
        # less disturbed than wall time when something else runs on the machine.
        t0 = time.process_time()
        for _ in range(repeat):
            client.get(path)
        out[name] = (n_queries, (time.process_time() - t0) * 1000 / repeat)
    return out


# ---- main ---------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server (no database)"
    )
    ap.add_argument(
        "--db", default="gongzhi_bench_http", help="scratch database name (dropped and recreated)"
    )
    ap.add_argument("--keep-db", action="store_true", help="do not drop the scratch database at the end")
    ap.add_argument("--duration", type=float, default=12, help="seconds measured per target, over all rounds")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds (bare, home, api, bare, …)")
    ap.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per target (not measured)")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    ap.add_argument("--users", type=int, default=12, help="township leaders logged in (sessions and tokens)")
    ap.add_argument("--api-path", default="/api/v1/units?page=1")
    ap.add_argument(
        "--data",
        choices=("auto", "demo", "own"),
        default="auto",
        help="demo: the demo county of `gongzhi demo`; own: this script's loader; auto: demo if available",
    )
    ap.add_argument(
        "--seed-townships", type=int, default=0, help="add this many townships with `gongzhi seed`"
    )
    ap.add_argument("--townships", type=int, default=12, help="own loader only")
    ap.add_argument("--villages-per-township", type=int, default=13, help="own loader only")
    ap.add_argument("--residents-per-village", type=int, default=200, help="own loader / seed")
    ap.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    ap.add_argument(
        "--hold",
        action="store_true",
        help="after the run, keep the server up until Ctrl+C (for profiling with py-spy)",
    )
    args = ap.parse_args(argv)

    started = time.monotonic()

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # SIGTERM (and SIGINT, which a background job ignores by default) end the run through the cleanup below.
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    load = args.start_load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 2):
        say(
            f"WARNING: load average {load:.1f} before the run — other work on this machine will skew the numbers"
        )
    client = pick_client(args.client)
    tmp = Path(tempfile.mkdtemp(prefix="gongzhi-bench-"))
    db_url = f"{args.pg.rstrip('/')}/{args.db}"
    env = server_env(db_url, tmp)
    os.environ.update(env)
    proc: subprocess.Popen[bytes] | None = None
    db_created = False
    try:
        say(f"[1/5] scratch database {args.db} on {args.pg} …")
        pg_admin(args.pg, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        pg_admin(args.pg, f'CREATE DATABASE "{args.db}"')
        db_created = True

        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from gongzhi.core.auth import token_create

        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        say("[2/5] loading data …")
        t0 = time.monotonic()
        stats = build_data(args)
        with connections["default"].cursor() as c:
            c.execute("ANALYZE")
        say(f"      {stats} in {time.monotonic() - t0:.1f} s")
        users = township_leaders(args.users)
        if not users:
            raise RuntimeError("no township leader in the data set")
        tokens = [token_create(user=u, name="bench")[1] for u in users]
        costs = request_costs(users[0], args.api_path, tokens[0])
        connections.close_all()

        port = free_port()
        say(f"[3/5] gunicorn, {args.workers} workers, on 127.0.0.1:{port} …")
        proc = start_gunicorn(env, port, args.workers, tmp / "gunicorn.log")

        say(f"[4/5] logging in {len(users)} township leaders through the login form …")
        browser_sets: list[dict[str, str]] = []
        for u in users:
            jar = login(port, u.username, PASSWORD)
            cookie = "; ".join(f"{k}={v}" for k, v in sorted(jar.items()))
            status, _, body = http_get(port, "/", {"Cookie": cookie})
            if status != 200 or u.display_name.encode() not in body:
                raise RuntimeError(f"home page of {u.username}: HTTP {status}, own name not on it")
            browser_sets.append({"Cookie": cookie})
        api_sets = [{"Authorization": f"Bearer {t}", "Accept": "application/json"} for t in tokens]
        for h in api_sets:
            status, _, body = http_get(port, args.api_path, h)
            if status != 200:
                raise RuntimeError(f"GET {args.api_path}: HTTP {status} {body[:200]!r}")

        targets = [
            ("bare", "/bench/bare", [{}]),
            ("home", "/", browser_sets),
            ("api", args.api_path, api_sets),
        ]
        rounds = max(1, args.rounds)
        per_round = args.duration / rounds
        say(
            f"[5/5] {client}: {args.connections} connections; per target {args.warmup:g} s warm-up, then "
            f"{rounds} interleaved round(s) of {per_round:g} s …"
        )
        kw: dict[str, Any] = {"connections": args.connections, "threads": args.threads, "tmp": tmp}
        for name, path, sets in targets:
            run_load(client, name + "-warm", port, path, sets, seconds=args.warmup, **kw)
        meter = CpuMeter(proc.pid, args.pg, args.db)
        # Interleaving the targets round by round spreads any background load over all three alike.
        runs: dict[str, list[Result]] = {name: [] for name, _, _ in targets}
        for k in range(rounds):
            for name, path, sets in targets:
                # Let the workers finish what the previous run left queued (wrk stops with 50 requests in
                # flight), or its tail would be charged to this target.
                time.sleep(DRAIN_SECONDS)
                before = meter.snapshot()
                r = run_load(client, name, port, path, sets, seconds=per_round, **kw)
                after = meter.snapshot()
                r.app_cpu_s = meter.delta(before, after, "app")
                r.db_cpu_s = meter.delta(before, after, "db")
                runs[name].append(r)
                say(
                    f"      round {k + 1} {name:<5} {r.rps:8.0f} req/s  p99 {r.p99_ms:7.1f} ms  errors {r.errors}"
                )
        results = {name: combine(rs) for name, rs in runs.items()}
        meter.close()

        ok = report(results, costs, args, client, stats, len(users))
        say(f"total time {time.monotonic() - started:.0f} s")
        if args.hold:
            say(f"server kept up on http://127.0.0.1:{port} (pid {proc.pid}); Ctrl+C to stop")
            with contextlib.suppress(KeyboardInterrupt):
                proc.wait()
        return 0 if ok else 1
    except KeyboardInterrupt:
        say("interrupted")
        return 2
    except Exception as e:  # report and clean up, never leave a server or a database behind
        say(f"ERROR: {e}")
        log = tmp / "gunicorn.log"
        if log.exists() and log.stat().st_size:
            say("gunicorn log (tail):\n" + log.read_text()[-2000:])
        return 2
    finally:
        stop(proc)
        if db_created and not args.keep_db:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: S110 - Django may not be set up yet
                pass
            pg_admin(args.pg, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


def report(
    results: dict[str, Result],
    costs: dict[str, tuple[int, float]],
    args: argparse.Namespace,
    client: str,
    stats: dict[str, Any],
    n_users: int,
) -> bool:
    bare = results["bare"]
    width = 118
    say("")
    say("=" * width)
    say(
        f"Gongzhi HTTP benchmark · gunicorn {args.workers} sync workers · PostgreSQL · {client} "
        f"{args.connections} connections × {args.duration:g} s ({args.rounds} rounds) · {n_users} users · "
        f"{os.cpu_count()} CPUs"
    )
    say(f"data: {stats}")
    start_load = getattr(args, "start_load", None)
    say(
        f"load average: {start_load:.1f} before the run, {os.getloadavg()[0]:.1f} after (1 min; "
        f"{os.cpu_count()} CPUs) — above about {os.cpu_count()} other work competes with the server"
        if start_load is not None
        else f"load average after the run: {os.getloadavg()[0]:.1f}"
    )
    say("-" * width)
    say(f"{'':<31} {'':>7} {'latency ms':^23} {'':>6} {'':>7} {'server CPU ms/req':^17} {'in process':^15}")
    say(
        f"{'target':<6} {'path':<24} {'req/s':>7} {'p50':>7} {'p99':>7} {'max':>7} {'errors':>6} {'non-2xx':>7} "
        f"{'app':>5} {'db':>5} {'all':>5} {'queries':>7} {'cpu ms':>7}"
    )
    for name, r in results.items():
        q, ms = costs.get(name, (0, 0.0))
        n = r.requests or 1
        say(
            f"{name:<6} {r.path:<24} {r.rps:7.0f} {r.p50_ms:7.1f} {r.p99_ms:7.1f} {r.max_ms:7.1f} "
            f"{r.socket_errors + r.timeouts:6d} {r.non_2xx:7d} {r.app_cpu_s * 1000 / n:5.2f} "
            f"{r.db_cpu_s * 1000 / n:5.2f} {r.cpu_ms:5.2f} {q:7d} {ms:7.2f}"
        )
    say("-" * width)
    say(
        "errors: socket errors + timeouts. server CPU: gunicorn workers (app) and PostgreSQL backends (db) per "
        "request during the run. in process: SQL queries and Django CPU per request (django.test.Client)."
    )
    all_ok = bare.errors == 0
    if bare.errors:
        say(
            f"bare view had errors ({bare.socket_errors} socket, {bare.timeouts} timeouts, {bare.non_2xx} "
            f"non-2xx {bare.statuses}): the baseline is not valid"
        )
    for name in ("home", "api"):
        r = results[name]
        ratio = r.rps / bare.rps if bare.rps else 0.0
        ok = ratio >= TARGET_RATIO and r.p99_ms < TARGET_P99_MS and r.errors == 0 and bare.errors == 0
        all_ok &= ok
        why = []
        if ratio < TARGET_RATIO:
            why.append(f"throughput < {TARGET_RATIO:.0%} of bare")
        if r.p99_ms >= TARGET_P99_MS:
            why.append(f"p99 >= {TARGET_P99_MS:.0f} ms")
        if r.errors:
            why.append(f"{r.errors} errors {r.statuses}")
        if bare.errors:
            why.append("baseline had errors")
        cpu_ratio = f"{bare.cpu_ms / r.cpu_ms:.2f}" if r.cpu_ms and bare.cpu_ms else "n/a"
        say(
            f"{name}/bare = {ratio:.2f}  (req/s {r.rps:.0f} / {bare.rps:.0f}; p99 {r.p99_ms:.1f} ms, bare "
            f"{bare.p99_ms:.1f} ms; errors {r.errors}; server CPU per request bare/{name} = {cpu_ratio})  "
            f"{'PASS' if ok else 'FAIL: ' + ', '.join(why)}"
        )
    say(
        f"target: >= {TARGET_RATIO:.0%} of the bare view's req/s, p99 < {TARGET_P99_MS:.0f} ms, no errors, "
        f"at {args.connections} concurrent clients — overall {'PASS' if all_ok else 'FAIL'}"
    )
    say("=" * width)
    return all_ok


if __name__ == "__main__":
    sys.exit(main())
