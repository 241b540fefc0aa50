"""Seed benchmark on PostgreSQL: how fast ``gongzhi seed`` builds a province.

Creates a scratch database (``gongzhi_bench_seed`` on 127.0.0.1:5432, user postgres), migrates it, runs the same
``demo.seed`` that ``gongzhi seed`` runs (COPY for residents and villages), prints rows/s and the elapsed time,
then drops the database.

    python bench/seed.py              # 150 townships, 3,000 villages, 1,000,000 residents; extrapolates a province
    python bench/seed.py --province   # the full province: 1,500 townships, 30,000 villages, 10,000,000 residents
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Running ``python bench/seed.py`` puts bench/ first on sys.path, where bench/http.py would shadow the standard
# library's ``http`` package; seek modules from the repository root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

PROVINCE = {"townships": 1500, "villages_per_township": 20, "residents": 10_000_000}
DEFAULT = {"townships": 150, "villages_per_township": 20, "residents": 1_000_000}


def _admin_conn(host: str, port: int, user: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(host=host, port=port, user=user, dbname="postgres", autocommit=True)


def _recreate(name: str, host: str, port: int, user: str) -> None:
    with _admin_conn(host, port, user) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop(name: str, host: str, port: int, user: str) -> None:
    with _admin_conn(host, port, user) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a local process (the PostgreSQL backend serving us)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--province", action="store_true", help="full province: 1,500 / 30,000 / 10,000,000")
    ap.add_argument("--townships", type=int)
    ap.add_argument("--villages-per-township", type=int)
    ap.add_argument("--residents", type=int, help="total residents")
    ap.add_argument("--db", default="gongzhi_bench_seed")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5432)
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    args = ap.parse_args()

    size = dict(PROVINCE if args.province else DEFAULT)
    for key in ("townships", "villages_per_township", "residents"):
        if getattr(args, key) is not None:
            size[key] = getattr(args, key)

    os.environ["DATABASE_URL"] = f"postgres://{args.user}@{args.host}:{args.port}/{args.db}"
    os.environ.setdefault("SECRET_KEY", "bench-seed-secret-key-not-for-production-0123456789abcdefghij")
    os.environ.setdefault("RESIDENT_ID_KEY", "bench-seed-resident-id-key")
    os.environ.setdefault("AUDIT_CHAIN_KEY", "bench-seed-audit-chain-key")
    os.environ["DEBUG"] = "false"  # no query log kept in memory
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.settings"

    print(f"scratch database {args.db} on {args.host}:{args.port}", flush=True)
    _recreate(args.db, args.host, args.port, args.user)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        from gongzhi.core import demo

        t0 = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        migrate_s = time.perf_counter() - t0
        with connection.cursor() as cur:
            cur.execute("SHOW server_version")
            version = cur.fetchone()[0]
        print(
            f"PostgreSQL {version}; migrate {migrate_s:.1f} s; seeding {size['townships']:,} townships, "
            f"{size['townships'] * size['villages_per_township']:,} villages, {size['residents']:,} residents",
            flush=True,
        )
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backend = cur.fetchone()[0]
        pg_cpu0, py_cpu0 = _proc_cpu(backend), time.process_time()
        stats = demo.seed(
            townships=size["townships"],
            villages_per_township=size["villages_per_township"],
            residents=size["residents"],
            progress=lambda msg: print("  " + msg, flush=True),
        )
        print(stats, flush=True)
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM core_resident")
            count = cur.fetchone()[0]
            cur.execute("SELECT pg_size_pretty(pg_total_relation_size('core_resident'))")
            table_size = cur.fetchone()[0]
        assert count == stats.residents, (count, stats.residents)
        other = stats.seconds - stats.resident_seconds
        copy_s = stats.resident_seconds - stats.index_seconds
        print(
            f"\nresidents: {stats.residents:,} rows; COPY {copy_s:.1f} s = {stats.residents / copy_s:,.0f} rows/s; "
            f"index + foreign-key rebuild {stats.index_seconds:.1f} s; "
            f"together {stats.rows_per_second:,.0f} rows/s; table + indexes {table_size}"
        )
        print(f"tree, cadres, audit, analyze: {other:.1f} s")
        pg_cpu = _proc_cpu(backend) - pg_cpu0
        print(
            f"CPU used: python {time.process_time() - py_cpu0:.1f} s, postgres backend {pg_cpu:.1f} s "
            f"(on {os.cpu_count()} cores; load average now {os.getloadavg()[0]:.1f})"
        )
        print(f"total: {stats.seconds:.1f} s = {stats.seconds / 60:.2f} min")
        if not args.province:
            scale_r = PROVINCE["residents"] / max(1, stats.residents)
            scale_t = PROVINCE["townships"] / stats.townships
            estimate = stats.resident_seconds * scale_r + other * scale_t
            print(
                f"extrapolated province (1,500 townships, 30,000 villages, 10,000,000 residents): "
                f"~{estimate / 60:.1f} min (run with --province to measure)"
            )
        connections.close_all()
    finally:
        if args.keep:
            print(f"kept database {args.db}")
        else:
            _drop(args.db, args.host, args.port, args.user)
            print(f"dropped database {args.db}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
