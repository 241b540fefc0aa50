"""The console script as a new user runs it: in a folder where `gongzhi demo` has set up ./var, without any env."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _env(**extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
    return {**keep, **extra}


def test_commands_after_demo_use_the_local_demo_database(tmp_path: Path) -> None:
    # What `gongzhi demo` does first: demo-mode settings create ./var with its keys and database.
    r = subprocess.run(
        [sys.executable, "-m", "gongzhi", "manage", "migrate", "-v", "0"],
        cwd=tmp_path,
        env=_env(GONGZHI_DEMO="1"),
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "var" / "secret_key").exists() and (tmp_path / "var" / "gongzhi.sqlite3").exists()
    # A later command in the same folder, with no environment at all, works on that database.
    r = subprocess.run(
        [sys.executable, "-m", "gongzhi", "audit", "verify"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and "OK" in r.stdout, r.stderr


def test_production_config_never_falls_back_to_demo_keys(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").write_text("left-over-demo-key")
    r = subprocess.run(
        [sys.executable, "-m", "gongzhi", "audit", "verify"],
        cwd=tmp_path,
        env=_env(DATABASE_URL=f"sqlite:///{tmp_path}/prod.sqlite3"),
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "SECRET_KEY" in r.stderr


def test_help_lists_subcommands() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "gongzhi", "--help"], capture_output=True, text=True, env=_env()
    )
    for cmd in ("demo", "serve", "seed", "import", "export", "audit", "backup", "restore"):
        assert cmd in r.stdout
