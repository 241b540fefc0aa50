"""Roster import benchmark: 30,000 residents from one .xlsx through ``import_file``, against reading the same
workbook in the same run.

A township typically imports its whole resident register once and then re-imports corrected copies. On a scratch
database (PostgreSQL ``gongzhi_bench_roster`` on 127.0.0.1:5432 by default, ``--sqlite`` for a SQLite file) with
one seeded county, it times:

1. baseline: ``openpyxl`` reading every cell of the workbook (read-only mode), what a hand-written importer would
   start from; the importer itself reads with calamine (Rust), so its ratios can fall below 1;
2. the first import: every row validated, 30,000 residents created (COPY on PostgreSQL);
3. the same file again: every row matched, nothing written (未变);
4. every phone number changed: only that column rewritten.

Prints seconds, rows/s and each step's ratio to the baseline, and PASS/FAIL against 30 s per step (the figure the
test suite held before this script replaced its timed test). Then drops the scratch database.

    python bench/roster_import.py                 # PostgreSQL, 30,000 rows
    python bench/roster_import.py --sqlite        # SQLite file in a temp folder
    python bench/roster_import.py --rows 100000
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

# Running ``python bench/roster_import.py`` puts bench/ first on sys.path, where bench/http.py would shadow the
# standard library's ``http`` package; seek modules from the repository root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

TARGET_SECONDS = 30.0
HEAD = ["姓名", "村（社区）区划代码", "户号", "手机号", "身份证号", "是否核验"]


def _admin_conn(host: str, port: int, user: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(host=host, port=port, user=user, dbname="postgres", autocommit=True)


def _id_number(i: int) -> str:
    from gongzhi.engines.idcard import make_id

    born = date(1950, 1, 1) + timedelta(days=i // 1000)
    return make_id(f"990102{born:%Y%m%d}{i % 1000:03d}")


def _workbook(village: str, n: int, prefix: str) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("居民")
    ws.append(HEAD)
    for i in range(n):
        ws.append([f"居民{i}", village, f"H{i:05d}", f"{prefix}{i:08d}", _id_number(i), "是"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _read_all(data: bytes) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    cells = sum(len(row) for ws in wb.worksheets for row in ws.iter_rows(values_only=True))
    wb.close()
    return cells


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=30_000)
    ap.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    ap.add_argument("--db", default="gongzhi_bench_roster")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5432)
    ap.add_argument("--user", default="postgres")
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory()
    if args.sqlite:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp.name}/bench.sqlite3"
    else:
        os.environ["DATABASE_URL"] = f"postgres://{args.user}@{args.host}:{args.port}/{args.db}"
        with _admin_conn(args.host, args.port, args.user) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.db}"')
    os.environ.setdefault("SECRET_KEY", "bench-roster-secret-key-not-for-production-0123456789abcdefghij")
    os.environ.setdefault("RESIDENT_ID_KEY", "bench-roster-resident-id-key")
    os.environ.setdefault("AUDIT_CHAIN_KEY", "bench-roster-audit-chain-key")
    os.environ["DEBUG"] = "false"
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.settings"
    failed = False
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        from gongzhi.core import demo
        from gongzhi.core.imports import import_file, system_actor
        from gongzhi.core.models import AdminUnit, Level, Resident

        call_command("migrate", interactive=False, verbosity=0)
        demo.seed(townships=1, villages_per_township=1, residents=0)
        village = AdminUnit.objects.filter(level=Level.VILLAGE).order_by("code").first()
        assert village is not None
        actor = system_actor()
        print(
            f"{connection.vendor}; {args.rows:,} residents into {village.name} ({village.code})", flush=True
        )

        first = _workbook(village.code, args.rows, "138")
        changed = _workbook(village.code, args.rows, "139")
        t0 = time.perf_counter()
        cells = _read_all(first)
        base = time.perf_counter() - t0
        print(f"baseline: openpyxl reads {cells:,} cells in {base:.2f} s", flush=True)

        steps = [
            ("first import (created)", first, "created"),
            ("same file again (unchanged)", first, "unchanged"),
        ]
        steps.append(("every phone changed (updated)", changed, "updated"))
        for label, data, field in steps:
            t0 = time.perf_counter()
            result = import_file(actor=actor, kind="residents", filename="residents.xlsx", data=data)
            took = time.perf_counter() - t0
            got = getattr(result.counts["residents"], field)
            ok = got == args.rows and took < TARGET_SECONDS
            failed |= not ok
            print(
                f"{label}: {took:.2f} s = {args.rows / took:,.0f} rows/s; {took / base:.1f}× the baseline; "
                f"{field} {got:,}; {'PASS' if ok else 'FAIL'} (< {TARGET_SECONDS:.0f} s)",
                flush=True,
            )
        assert Resident.objects.filter(village=village).count() == args.rows
        connections.close_all()
    finally:
        if not args.sqlite:
            with _admin_conn(args.host, args.port, args.user) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        tmp.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
