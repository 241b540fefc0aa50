"""The ``gongzhi`` console script: demo, serve, seed, import, export, audit verify, backup, restore."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _setup(demo: bool = False) -> None:
    if demo or _is_local_demo():
        os.environ.setdefault("GONGZHI_DEMO", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
    import django

    django.setup()


def _is_local_demo() -> bool:
    """True when no production configuration is given and `gongzhi demo` has set up ./var here.

    Then `gongzhi audit verify`, `import`, `backup` … act on the same embedded demo database as the demo server,
    instead of failing for want of a SECRET_KEY that only production needs.
    """
    if "SECRET_KEY" in os.environ or "DATABASE_URL" in os.environ:
        return False
    data_dir = Path(os.environ.get("GONGZHI_DATA_DIR", str(Path.cwd() / "var")))
    return (data_dir / "secret_key").exists()


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def cmd_demo(args: argparse.Namespace) -> int:
    _setup(demo=True)
    from gongzhi.core import demo

    print("共治 Gongzhi 演示县 —— 正在准备数据库 …", flush=True)
    _migrate()
    try:
        created = demo.build_demo_county(progress=lambda msg: print("  " + msg, flush=True))
    except demo.DemoError as e:
        print(f"生成演示县失败，未写入任何数据：{e}", file=sys.stderr)
        return 1
    print("演示数据已生成。" if created else "演示数据已存在，跳过生成（重复运行是安全的）。")
    demo.print_logins()
    if args.no_serve:
        return 0
    return _serve(args.bind, args.workers, demo_mode=True)


def _serve(bind: str, workers: int, demo_mode: bool = False) -> int:
    from django.conf import settings
    from django.core.management import call_command

    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)
    print(f"\n服务已启动 Serving on http://{bind}/  （Ctrl+C 停止）", flush=True)
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "gongzhi.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--access-logfile",
        "-" if not demo_mode else "/dev/null",
        "--error-logfile",
        "-",
        "--timeout",
        "120",
    ]
    os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _setup()
    if args.migrate:
        _migrate()
    return _serve(args.bind, args.workers)


def cmd_seed(args: argparse.Namespace) -> int:
    _setup()
    _migrate()
    from gongzhi.core import demo

    try:
        stats = demo.seed(
            townships=args.townships,
            villages_per_township=args.villages_per_township,
            residents_per_village=args.residents_per_village,
            county_code=args.county_code,
            progress=lambda msg: print("  " + msg, flush=True),
        )
    except demo.SeedError as e:
        print(f"生成失败，未写入任何数据：{e}", file=sys.stderr)
        return 1
    print(stats)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    _setup()
    from gongzhi.core.imports import ImportFailed, import_file, system_actor

    path = Path(args.file)
    try:
        result = import_file(actor=system_actor(), kind=args.kind, filename=path.name, data=path.read_bytes())
    except ImportFailed as e:
        print(f"导入失败，未写入任何数据（共 {len(e.errors)} 处错误）：", file=sys.stderr)
        for err in e.errors[:200]:
            print("  " + err.text(), file=sys.stderr)
        return 1
    print(f"导入成功：{result.summary()}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    _setup()
    from gongzhi.core.exports import export_workbook
    from gongzhi.core.imports import system_actor

    Path(args.file).write_bytes(export_workbook(actor=system_actor(), kinds=args.kind or None))
    print(f"已导出到 {args.file}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    _setup()
    from gongzhi.core.audit import audit_verify
    from gongzhi.core.models import AuditHead

    problem = audit_verify()
    if problem is None:
        head = AuditHead.objects.filter(pk=1).first()
        print(f"OK：审计链完整，共 {head.seq if head else 0} 条事件。")
        return 0
    where = f"（数据库行 id={problem.row_id}）" if problem.row_id is not None else ""
    print(f"FAILED：{problem.message}，事件序号 seq={problem.seq}{where}", file=sys.stderr)
    return 2


def cmd_backup(args: argparse.Namespace) -> int:
    _setup()
    from gongzhi.core.backup import backup

    n = backup(Path(args.file))
    print(f"已备份 {n} 条记录到 {args.file}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    _setup()
    _migrate()
    from gongzhi.core.backup import RestoreError, restore

    try:
        n = restore(Path(args.file))
    except RestoreError as e:
        print(f"恢复失败：{e}", file=sys.stderr)
        return 1
    print(f"已恢复 {n} 条记录")
    return 0


def cmd_duties(args: argparse.Namespace) -> int:
    """P1 operations from the command line: import/export a duty-list workbook, escalate overdue summonses."""
    _setup()
    import datetime as dt

    from gongzhi.core.errors import ServiceError
    from gongzhi.core.imports import ImportFailed, system_actor
    from gongzhi.core.models import AdminUnit

    if args.action == "escalate":
        from gongzhi.duties.summons import summons_escalate_overdue

        n = summons_escalate_overdue()
        print(f"超时未响应的吹哨：新上报县减负办 {n} 个部门")
        return 0
    if args.action == "export":
        from gongzhi.duties.gate import current_list
        from gongzhi.duties.listio import export_duty_list

        unit = AdminUnit.objects.filter(code=args.unit).first()
        duty_list = current_list(unit) if unit is not None else None
        if duty_list is None:
            print(f"{args.unit} 没有现行的履职事项清单", file=sys.stderr)
            return 1
        Path(args.file).write_bytes(export_duty_list(duty_list))
        print(f"已导出 {duty_list} 到 {args.file}")
        return 0
    from gongzhi.duties.listio import MappingUnsure, import_duty_lists

    county = AdminUnit.objects.filter(code=args.county).first()
    township = AdminUnit.objects.filter(code=args.township).first() if args.township else None
    if county is None or (args.township and township is None):
        print("找不到指定的县或乡镇（请使用 12 位区划代码）", file=sys.stderr)
        return 1
    try:
        day = dt.date.fromisoformat(args.effective_from) if args.effective_from else dt.date.today()
    except ValueError:
        print("生效日期格式应为 YYYY-MM-DD", file=sys.stderr)
        return 1
    path = Path(args.file)
    try:
        result = import_duty_lists(
            actor=system_actor(),
            file_name=path.name,
            data=path.read_bytes(),
            county=county,
            township=township,
            effective_from=day,
        )
    except MappingUnsure as e:
        print("无法确定列对应关系，请在网页导入界面确认列映射，未写入任何数据：", file=sys.stderr)
        for err in e.errors[:50]:
            print("  " + err.text(), file=sys.stderr)
        return 1
    except ImportFailed as e:
        print(f"导入失败，未写入任何数据（共 {len(e.errors)} 处错误）：", file=sys.stderr)
        for err in e.errors[:200]:
            print("  " + err.text(), file=sys.stderr)
        return 1
    except ServiceError as e:
        print(f"导入失败，未写入任何数据：{e.message}", file=sys.stderr)
        return 1
    print(f"导入成功：{result.summary()}")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["gongzhi manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gongzhi", description="共治 Gongzhi 基层共治平台")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="迁移本地 SQLite 数据库、生成演示县并启动服务")
    d.add_argument("--bind", default="127.0.0.1:8000")
    d.add_argument("--workers", type=int, default=2)
    d.add_argument("--no-serve", action="store_true", help="只生成数据，不启动服务")
    d.set_defaults(func=cmd_demo)

    s = sub.add_parser("serve", help="以 gunicorn 启动服务（生产环境放在 nginx 之后）")
    s.add_argument("--bind", default="127.0.0.1:8000")
    s.add_argument("--workers", type=int, default=3)
    s.add_argument("--migrate", action="store_true", help="启动前执行数据库迁移")
    s.set_defaults(func=cmd_serve)

    sd = sub.add_parser("seed", help="批量生成大规模测试数据（用于基准测试）")
    sd.add_argument("--townships", type=int, default=12)
    sd.add_argument("--villages-per-township", type=int, default=12)
    sd.add_argument("--residents-per-village", type=int, default=200)
    sd.add_argument("--county-code", default=None, help="县级区划代码前缀；默认自动分配")
    sd.set_defaults(func=cmd_seed)

    im = sub.add_parser("import", help="从 .xlsx/.csv 导入（全部成功才写入）")
    im.add_argument("kind", choices=["units", "departments", "cadres", "residents", "roster"])
    im.add_argument("file")
    im.set_defaults(func=cmd_import)

    ex = sub.add_parser("export", help="导出为 .xlsx")
    ex.add_argument("file")
    ex.add_argument("--kind", action="append", choices=["units", "departments", "cadres", "residents"])
    ex.set_defaults(func=cmd_export)

    a = sub.add_parser("audit", help="审计日志")
    a.add_argument("action", choices=["verify"])
    a.set_defaults(func=cmd_audit)

    b = sub.add_parser("backup", help="备份全部数据到文件（.json.gz）")
    b.add_argument("file")
    b.set_defaults(func=cmd_backup)

    r = sub.add_parser("restore", help="从备份文件恢复到空数据库")
    r.add_argument("file")
    r.set_defaults(func=cmd_restore)

    du = sub.add_parser("duties", help="履职事项清单导入导出、超时吹哨上报")
    dsub = du.add_subparsers(dest="action", required=True)
    di = dsub.add_parser("import", help="导入履职事项清单 .xlsx/.csv（全部成功才写入）")
    di.add_argument("file")
    di.add_argument("--county", required=True, help="县级 12 位区划代码")
    di.add_argument("--township", default=None, help="乡镇 12 位区划代码；文件内含乡镇列时省略")
    di.add_argument("--effective-from", default=None, help="生效日期 YYYY-MM-DD，默认今天")
    de = dsub.add_parser("export", help="导出乡镇（或县级模板）现行清单为 .xlsx")
    de.add_argument("unit", help="乡镇或县的 12 位区划代码")
    de.add_argument("file")
    dsub.add_parser("escalate", help="把超时未响应的吹哨上报县减负办（供定时任务调用）")
    du.set_defaults(func=cmd_duties)

    m = sub.add_parser("manage", help="运行 Django 管理命令", add_help=False)
    m.add_argument("rest", nargs=argparse.REMAINDER)
    m.set_defaults(func=cmd_manage)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
