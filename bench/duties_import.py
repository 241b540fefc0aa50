"""Duty list import benchmark on PostgreSQL: a province's lists (1,500 townships × 340 items = 510,000 rows) in one
all-or-nothing ``import_duty_lists`` call, against a plain COPY of the same rows in the same run.

Creates a scratch database (``gongzhi_bench_duties`` on 127.0.0.1:5432, user postgres), migrates it, seeds a province
tree with ``demo.seed`` (1,500 townships in counties of 20, one village each, no residents) plus the 20 functional
departments of every county, writes the workbook (one sheet per part with a 乡镇（街道） column holding each township's
12-digit code; the 340 items of ``duties.catalog.TEMPLATE_ITEMS`` when present, generated items otherwise), then:

1. baseline: COPY the same item rows (and their assisting-department rows) into scratch tables with the same columns
   and no indexes or constraints, ids and values prepared in memory beforehand: the floor for writing these rows;
2. ``import_duty_lists`` end to end: read the .xlsx, detect headers, validate every row against the registry,
   publish 1,500 lists (COPY with sequence ids), 1,500 audit events, commit.

Prints rows/s, seconds, the ratio to the plain COPY and PASS/FAIL against the 60 s target, then drops the database.

    python bench/duties_import.py                  # the full province
    python bench/duties_import.py --townships 150  # a tenth, quicker
    python bench/duties_import.py --format csv     # the same rows as a UTF-8 CSV instead of .xlsx
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

# Running ``python bench/duties_import.py`` puts bench/ first on sys.path, where bench/http.py would shadow the
# standard library's ``http`` package; seek modules from the repository root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

TARGET_SECONDS = 60.0

HEADERS = {
    "basic": [
        "乡镇（街道）",
        "序号",
        "事项名称",
        "具体内容",
        "配合部门",
        "乡镇职责",
        "部门职责",
        "依据",
        "所需权力所在部门",
    ],
    "cooperative": [
        "乡镇（街道）",
        "序号",
        "事项名称",
        "具体内容",
        "对应上级部门",
        "上级部门职责",
        "镇街配合职责",
        "配合部门",
        "依据",
    ],
    "reclaimed": ["乡镇（街道）", "序号", "事项名称", "具体内容", "承接部门", "工作方式", "依据"],
}
SHEETS = {"basic": "基本履职事项清单", "cooperative": "配合履职事项清单", "reclaimed": "上级部门收回事项清单"}


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
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _items() -> tuple[list[Any], str]:
    """The template items: the catalog when it exists, generated ones otherwise (same counts and text lengths)."""
    try:
        from gongzhi.duties.catalog import TEMPLATE_ITEMS

        return list(TEMPLATE_ITEMS), "duties.catalog.TEMPLATE_ITEMS"
    except ImportError:
        pass
    from types import SimpleNamespace

    from gongzhi.core.demo import FUNCTIONAL_DEPARTMENTS

    names = [n for n, _s in FUNCTIONAL_DEPARTMENTS]
    out = []
    for cat, n in (("basic", 117), ("cooperative", 99), ("reclaimed", 124)):
        for i in range(n):
            d = names[i % len(names)]
            out.append(
                SimpleNamespace(
                    number=str(i + 1),
                    category=cat,
                    name=f"{cat}事项{i + 1}：组织开展辖区内相关工作",
                    content="负责辖区内相关工作的组织实施、排查摸底、宣传引导和情况上报，" * 2,
                    basis="《中华人民共和国地方各级人民代表大会和地方各级人民政府组织法》第七十六条",
                    lead_department=d if cat == "cooperative" else "",
                    assisting=(names[(i + 3) % len(names)],) if i % 2 else (),
                    township_part="组织实施，排查上报" if cat != "reclaimed" else "",
                    department_part="业务指导，监督检查，执法处置" if cat != "reclaimed" else "",
                    reclaimed_by=d if cat == "reclaimed" else "",
                    current_practice=f"由{d}直接实施" if cat == "reclaimed" else "",
                    power_department=d if cat == "basic" and i % 10 == 0 else "",
                )
            )
    return out, "generated (duties.catalog not importable)"


def _cells(cat: str, code: str, it: Any) -> list[Any]:
    assisting = "、".join(it.assisting)
    if cat == "basic":
        return [
            code,
            it.number,
            it.name,
            it.content,
            assisting,
            it.township_part,
            it.department_part,
            it.basis,
            it.power_department,
        ]
    if cat == "cooperative":
        return [
            code,
            it.number,
            it.name,
            it.content,
            it.lead_department,
            it.department_part,
            it.township_part,
            assisting,
            it.basis,
        ]
    return [code, it.number, it.name, it.content, it.reclaimed_by, it.current_practice, it.basis]


def _workbook(codes: list[str], items: list[Any], fmt: str, say: Any) -> bytes:
    import io

    by_cat = {c: [it for it in items if it.category == c] for c in HEADERS}
    if fmt == "csv":
        import csv

        # One table with a 类别 column (a CSV has one sheet), same rows.
        buf = io.StringIO()
        w = csv.writer(buf)
        header = ["乡镇（街道）", "类别", "序号", "事项名称", "具体内容", "牵头部门", "配合部门", "乡镇职责"]
        w.writerow([*header, "部门职责", "依据", "承接部门", "工作方式", "所需权力所在部门"])
        labels = {"basic": "基本履职事项", "cooperative": "配合履职事项", "reclaimed": "上级部门收回事项"}
        for cat, its in by_cat.items():
            for code in codes:
                for it in its:
                    depts = (it.lead_department, "、".join(it.assisting))
                    texts = (
                        it.township_part,
                        it.department_part,
                        it.basis,
                        it.reclaimed_by,
                        it.current_practice,
                    )
                    w.writerow(
                        [
                            code,
                            labels[cat],
                            it.number,
                            it.name,
                            it.content,
                            *depts,
                            *texts,
                            it.power_department,
                        ]
                    )
        return buf.getvalue().encode("utf-8")
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    for cat, its in by_cat.items():
        ws = wb.create_sheet(SHEETS[cat])
        ws.append([f"示范省乡镇（街道）{SHEETS[cat]}"])
        ws.append(HEADERS[cat])
        for k, code in enumerate(codes):
            for it in its:
                ws.append(_cells(cat, code, it))
            if k % 300 == 299:
                say(f"  {SHEETS[cat]}: {k + 1:,} / {len(codes):,} 个乡镇")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _baseline_rows(
    towns: list[Any], items: list[Any], dept_ids: dict[tuple[int, str], int], lineages: Any
) -> tuple[list[tuple[Any, ...]], list[tuple[int, int]]]:
    """The rows the import writes, prepared in memory: (id, list id, lineage, position, number, category, name,
    content, basis, lead, township part, department part, reclaimed by, practice, power) and (item id, dept); the
    lineages come from the same generator the import uses."""
    order = {"basic": 0, "cooperative": 1, "reclaimed": 2}
    ordered = sorted(items, key=lambda it: order[it.category])
    prefix = {"basic": "基本-", "cooperative": "配合-", "reclaimed": "收回-"}
    rows: list[tuple[Any, ...]] = []
    assists: list[tuple[int, int]] = []
    pk = 0
    for list_id, (county_id, _code) in enumerate(towns, start=1):
        for pos, it in enumerate(ordered, start=1):
            pk += 1

            def d(name: str, county: int = county_id) -> int | None:
                return dept_ids[(county, name)] if name else None

            rows.append(
                (
                    pk,
                    list_id,
                    next(lineages),
                    pos,
                    prefix[it.category] + it.number,
                    it.category,
                    it.name,
                    it.content,
                    it.basis,
                    d(it.lead_department),
                    it.township_part,
                    it.department_part,
                    d(it.reclaimed_by),
                    it.current_practice,
                    d(it.power_department),
                )
            )
            for a in it.assisting:
                assists.append((pk, dept_ids[(county_id, a)]))
    return rows, assists


def _instrument(listio: Any) -> tuple[dict[str, float], dict[str, float]]:
    """Wrap the import's phases to time them (the bench's own measurement; listio itself is unchanged). Returns the
    per-phase seconds and the moment ``publish_lists`` returned (what follows it is mostly the commit)."""
    phases: dict[str, float] = {}
    marks: dict[str, float] = {}

    def timed(owner: Any, attr: str, label: str, mark: str = "") -> None:
        inner = getattr(owner, attr)
        phases.setdefault(label, 0.0)

        def wrapper(*a: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return inner(*a, **kw)
            finally:
                end = time.perf_counter()
                phases[label] += end - t
                if mark:
                    marks[mark] = end

        setattr(owner, attr, wrapper)

    timed(listio, "read_workbook", "read file")
    timed(listio, "guess_workbook", "headers + merged cells")
    timed(listio._Registry, "load", "registry")
    timed(listio._SheetRows, "run", "validate rows")
    timed(listio, "_check_items", "check items")
    timed(listio, "_publish", "publish")
    timed(listio, "_write_items", "COPY items + assisting")
    timed(listio, "audit_record", "audit events")
    timed(listio, "publish_lists", "publish_lists", mark="published")
    return phases, marks


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--townships", type=int, default=1500)
    ap.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    ap.add_argument("--db", default="gongzhi_bench_duties")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5432)
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    ap.add_argument("--save", help="also write the generated workbook to this path")
    args = ap.parse_args()

    os.environ["DATABASE_URL"] = f"postgres://{args.user}@{args.host}:{args.port}/{args.db}"
    os.environ.setdefault("SECRET_KEY", "bench-duties-secret-key-not-for-production-0123456789abcdefghij")
    os.environ.setdefault("RESIDENT_ID_KEY", "bench-duties-resident-id-key")
    os.environ.setdefault("AUDIT_CHAIN_KEY", "bench-duties-audit-chain-key")
    os.environ["DEBUG"] = "false"  # no query log kept in memory
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.settings"

    def say(msg: str) -> None:
        print(msg, flush=True)

    say(f"scratch database {args.db} on {args.host}:{args.port}")
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1) * 0.5:
        say(f"warning: load average {load:.1f} on {os.cpu_count()} cores — other work will skew the figures")
    _recreate(args.db, args.host, args.port, args.user)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection, transaction

        from gongzhi.core import demo
        from gongzhi.core.imports import system_actor
        from gongzhi.core.models import AdminUnit, AuditEvent, Department, DepartmentKind, Level
        from gongzhi.duties import listio
        from gongzhi.duties.models import DutyItem, DutyItemAssist, DutyList

        settings.DUTY_IMPORT_MAX_BYTES = 1024 * 1024 * 1024  # the bench measures speed, not the upload limit

        call_command("migrate", interactive=False, verbosity=0)
        with connection.cursor() as cur:
            cur.execute("SHOW server_version")
            version = cur.fetchone()[0]
        t0 = time.perf_counter()
        stats = demo.seed(
            townships=args.townships, villages_per_township=1, residents=0, cadres_per_township=0
        )
        counties = list(AdminUnit.objects.filter(code__in=stats.counties).order_by("code"))
        with transaction.atomic():
            Department.objects.bulk_create(
                [
                    Department(county=c, name=n, short_name=s, kind=DepartmentKind.FUNCTIONAL)
                    for c in counties
                    for n, s in demo.FUNCTIONAL_DEPARTMENTS
                ]
                + [
                    Department(county=c, name=n, short_name=s, kind=k)
                    for c in counties
                    for n, s, k, _t in demo.ORGANS
                ],
                batch_size=2000,
            )
        towns = list(
            AdminUnit.objects.filter(level=Level.TOWNSHIP, code__startswith="99")
            .exclude(code__startswith=demo.AREA)
            .order_by("code")
            .values_list("parent_id", "code")
        )
        province = AdminUnit.objects.get(code=demo.PROVINCE_CODE)
        dept_ids = {(c, n): pk for pk, c, n in Department.objects.values_list("id", "county_id", "name")}
        say(
            f"PostgreSQL {version}; tree: {len(counties)} counties, {len(towns):,} townships, "
            f"{len(dept_ids):,} departments ({time.perf_counter() - t0:.1f} s)"
        )

        items, source = _items()
        n_rows = len(items) * len(towns)
        say(f"items per township: {len(items)} from {source}; rows: {n_rows:,}")
        t0 = time.perf_counter()
        data = _workbook([code for _c, code in towns], items, args.format, say)
        say(
            f"workbook (.{args.format}) written: {len(data) / 1048576:.1f} MB in {time.perf_counter() - t0:.1f} s"
        )
        if args.save:
            Path(args.save).write_bytes(data)

        # 1. Baseline: plain COPY of the same rows into tables with the same columns, no indexes or constraints;
        #    and, to show what the table's own indexes cost, the same COPY into a copy of it with its indexes.
        rows, assists = _baseline_rows(towns, items, dept_ids, listio._new_lineages())
        q = connection.ops.quote_name
        cols = ", ".join(q(DutyItem._meta.get_field(f).column) for f in listio._ITEM_COLUMNS)
        table = q(DutyItem._meta.db_table)
        with connection.cursor() as cur:
            cur.execute(f"CREATE TABLE bench_copy_item AS SELECT {cols} FROM {table} WITH NO DATA")
            cur.execute(f"CREATE TABLE bench_copy_indexed (LIKE {table} INCLUDING ALL)")
            cur.execute("CREATE TABLE bench_copy_assist (item_id bigint, department_id bigint)")

        def copy_rows(target: str, rows: list[tuple[Any, ...]], assists: list[tuple[int, int]]) -> float:
            t = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cur:
                with cur.cursor.copy(f"COPY {target} ({cols}) FROM STDIN") as cp:
                    for row in rows:
                        cp.write_row(row)
                if assists:
                    with cur.cursor.copy("COPY bench_copy_assist (item_id, department_id) FROM STDIN") as cp:
                        for a in assists:
                            cp.write_row(a)
            return time.perf_counter() - t

        copy_s = copy_rows("bench_copy_item", rows, assists)
        say(
            f"\nplain COPY: {len(rows):,} item rows + {len(assists):,} assisting rows in {copy_s:.1f} s "
            f"= {len(rows) / copy_s:,.0f} rows/s"
        )
        indexed_s = copy_rows("bench_copy_indexed", rows, [])
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", [DutyItem._meta.db_table])
            n_indexes = cur.fetchone()[0]
        say(
            f"COPY of the item rows into a copy of {table} with its {n_indexes} indexes "
            f"(no foreign keys): {indexed_s:.1f} s = {len(rows) / indexed_s:,.0f} rows/s"
        )
        del rows, assists

        # 2. The import, end to end; a few of its functions are wrapped to report where the time goes.
        phases, marks = _instrument(listio)
        actor = system_actor()
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backend = cur.fetchone()[0]
        pg0, py0 = _proc_cpu(backend), time.process_time()
        t0 = time.perf_counter()
        result = listio.import_duty_lists(
            actor=actor,
            file_name=f"province.{args.format}",
            data=data,
            county=province,
            township=None,
            effective_from=date(2025, 1, 1),
        )
        t_end = time.perf_counter()
        import_s = t_end - t0
        pg_cpu, py_cpu = _proc_cpu(backend) - pg0, time.process_time() - py0

        assert result.rows == n_rows, (result.rows, n_rows)
        assert DutyItem.objects.count() == n_rows
        assert DutyList.objects.count() == len(towns)
        assert AuditEvent.objects.filter(action="duty_list.publish").count() == len(towns)
        n_assist = DutyItemAssist.objects.count()
        ratio = import_s / copy_s
        say(
            f"import_duty_lists: {result.rows:,} items ({n_assist:,} assisting rows), {len(result.lists):,} lists, "
            f"{len(result.lists):,} audit events in {import_s:.1f} s = {result.rows / import_s:,.0f} rows/s"
        )
        # publish = versions, lineage, list rows + COPY + audit; what follows publish_lists is the commit, where
        # PostgreSQL checks the deferred foreign keys of every new row.
        phases["publish"] -= phases["COPY items + assisting"] + phases["audit events"]
        phases["lists, lineage, item rows"] = phases.pop("publish")
        del phases["publish_lists"]
        phases["commit (deferred foreign keys)"] = t_end - marks["published"]
        rest = import_s - sum(phases.values())
        parts = ", ".join(f"{name} {sec:.1f} s" for name, sec in phases.items())
        say(f"  where the time goes: {parts}, other {rest:.1f} s")
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        say(
            f"  CPU: python {py_cpu:.1f} s, postgres backend {pg_cpu:.1f} s (on {os.cpu_count()} cores); "
            f"peak memory of this process {peak:,.0f} MB (workbook and baseline rows included)"
        )
        say(
            f"ratio to plain COPY of the same rows: {ratio:.1f}× ({copy_s:.1f} s); "
            f"to COPY into the indexed table: {import_s / indexed_s:.1f}× ({indexed_s:.1f} s)"
        )
        verdict = "PASS" if import_s < TARGET_SECONDS and n_rows >= 510_000 else "FAIL"
        if n_rows < 510_000:
            verdict += " (not a full province: run without --townships to judge the target)"
        say(f"target: a province (510,000 rows) in < {TARGET_SECONDS:.0f} s — {verdict}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _drop(args.db, args.host, args.port, args.user)
            say(f"dropped {args.db}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
