"""`gongzhi duties import|export|escalate` on the test database (django.setup() is a no-op once configured)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gongzhi.cli import main
from gongzhi.duties.models import DutyList

from .factories import make_list, tree_departments


def test_export_then_reimport_as_a_new_version(tree: Any, tmp_path: Path, capsys: Any) -> None:
    make_list(tree.t1, tree.county, tree_departments(tree))
    out = tmp_path / "t1.xlsx"
    assert main(["duties", "export", tree.t1.code, str(out)]) == 0
    assert out.stat().st_size > 0
    code = main(
        [
            "duties",
            "import",
            str(out),
            "--county",
            tree.county.code,
            "--township",
            tree.t1.code,
            "--effective-from",
            "2026-03-01",
        ]
    )
    assert code == 0, capsys.readouterr().err
    versions = list(
        DutyList.objects.filter(owner=tree.t1).order_by("version").values_list("version", "status")
    )
    assert versions == [(1, "superseded"), (2, "published")]


def test_bad_file_and_unknown_unit_fail_cleanly(tree: Any, tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "x.xlsx"
    bad.write_bytes(b"not a workbook")
    assert main(["duties", "import", str(bad), "--county", tree.county.code, "--township", tree.t1.code]) == 1
    assert "未写入任何数据" in capsys.readouterr().err
    assert main(["duties", "export", "990199999000", str(tmp_path / "y.xlsx")]) == 1
    # A township of another county: a clear message, not a traceback.
    good = tmp_path / "t.xlsx"
    make_list(tree.t1, tree.county, tree_departments(tree))
    assert main(["duties", "export", tree.t1.code, str(good)]) == 0
    assert (
        main(["duties", "import", str(good), "--county", tree.county.code, "--township", tree.tb.code]) == 1
    )
    assert "不在" in capsys.readouterr().err
    DutyList.objects.all().delete()
    assert not DutyList.objects.exists()


def test_escalate_runs(db: Any, capsys: Any) -> None:
    assert main(["duties", "escalate"]) == 0
    assert "上报" in capsys.readouterr().out
