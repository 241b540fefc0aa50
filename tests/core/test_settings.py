"""Production configuration: `check --deploy` is clean, secrets are required, DEBUG is off by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROD_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
    "SECRET_KEY": "k7#Qz!p2Lw9@Xr4%Tn8^Vb1&Hs6*Jd3(Fm5)Gc0-Ye" * 2,
    "RESIDENT_ID_KEY": "y8" * 20,
    "AUDIT_CHAIN_KEY": "z7" * 20,
    "ALLOWED_HOSTS": "gongzhi.example.gov.cn",
}


def _run(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "django", *args], env=env, capture_output=True, text=True, cwd=cwd
    )


def test_check_deploy_is_clean(tmp_path: Path) -> None:
    env = {**PROD_ENV, "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "GONGZHI_DATA_DIR": str(tmp_path)}
    r = _run(env, "check", "--deploy", "--fail-level", "WARNING", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_production_requires_secret_key(tmp_path: Path) -> None:
    env = {k: v for k, v in PROD_ENV.items() if k != "SECRET_KEY"}
    env["GONGZHI_DATA_DIR"] = str(tmp_path)
    (tmp_path / "secret_key").write_text("a-key-file-left-by-a-demo")  # must not be trusted in production
    r = _run(env, "check", cwd=tmp_path)
    assert r.returncode != 0 and "SECRET_KEY 未设置" in r.stderr


def test_production_requires_resident_id_key(tmp_path: Path) -> None:
    env = {k: v for k, v in PROD_ENV.items() if k != "RESIDENT_ID_KEY"}
    env["GONGZHI_DATA_DIR"] = str(tmp_path)
    r = _run(env, "check", cwd=tmp_path)
    assert r.returncode != 0 and "RESIDENT_ID_KEY" in r.stderr


def test_demo_generates_and_keeps_secret_key(tmp_path: Path) -> None:
    env = {
        "PATH": PROD_ENV["PATH"],
        "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
        "GONGZHI_DEMO": "1",
        "GONGZHI_DATA_DIR": str(tmp_path),
    }
    code = "from django.conf import settings; print(settings.SECRET_KEY, settings.DEBUG, settings.TIME_ZONE)"
    first = subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + code],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    second = subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + code],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and "True Asia/Shanghai" in first.stdout
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_debug_off_by_default() -> None:
    env = {**PROD_ENV, "GONGZHI_DATA_DIR": "/nonexistent"}
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG, settings.LANGUAGE_CODE)"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.stdout.strip() == "False zh-hans", r.stderr


def test_sessions_never_behind_a_per_process_cache() -> None:
    """Without a shared cache sessions are read from the database (a logout must reach every worker)."""
    code = (
        "import django; django.setup(); from django.conf import settings;"
        "print(settings.SESSION_ENGINE, settings.CACHES['default']['BACKEND'])"
    )
    base = {**PROD_ENV, "GONGZHI_DATA_DIR": "/nonexistent"}
    plain = subprocess.run([sys.executable, "-c", code], env=base, capture_output=True, text=True)
    assert plain.stdout.split() == [
        "django.contrib.sessions.backends.db",
        "django.core.cache.backends.locmem.LocMemCache",
    ]
    shared = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "CACHE_URL": "redis://127.0.0.1:6379/1"},
        capture_output=True,
        text=True,
    )
    assert shared.stdout.split() == [
        "django.contrib.sessions.backends.cached_db",
        "gongzhi.core.cache.PooledRedisCache",
    ], shared.stderr


def test_pooled_redis_cache_round_trip(settings: object) -> None:
    """The Redis cache backend used in production stores, reads and deletes (Redis runs on this machine)."""
    import socket

    import pytest

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    from gongzhi.core.cache import PooledRedisCache

    cache = PooledRedisCache("redis://127.0.0.1:6379/9", {"KEY_PREFIX": "gongzhi-test"})
    cache.set("k", {"会话": 1}, 30)
    assert cache.get("k") == {"会话": 1}
    client = cache._cache.get_client()
    assert cache._cache.get_client() is client  # one client per pool, not one per call
    cache.delete("k")
    assert cache.get("k") is None
