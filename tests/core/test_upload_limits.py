""".xlsx pre-flight (``core.imports.check_xlsx``), shared by the roster and the duty list importers: sheets whose cells
would make calamine build a huge dense grid, zip bombs, an inflated shared-string count, and the odd ways a cell can
be written (no ``r``, a namespace prefix, lower case, other quoting), each refused before calamine opens the file;
files calamine reads harmlessly (formatting-only far cells) still import.

The two files that abort the process when unguarded (A1 + XFD50000; ``uniqueCount="4000000000"``) run in a child
process with a 2 GB address-space limit, so a regression fails the test instead of killing the test run."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from gongzhi.core import imports
from gongzhi.core.imports import ImportFailed, check_xlsx, import_file

from .test_imports import RES_HEAD, res_rows, snapshot

ROOT = Path(__file__).resolve().parents[2]
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def t(text: str) -> str:
    return f"<is><t>{text}</t></is>"


def xlsx(sheets: dict[str, str], extra: dict[str, bytes | str] | None = None, root_attrs: str = "") -> bytes:
    """A workbook from raw sheet XML (the part between <worksheet> and </worksheet>), one part per sheet."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{CT}.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    files: dict[str, bytes | str] = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            f'"/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>{overrides}</Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
            f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{REL}"><sheets>'
            + "".join(
                f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>'
                for i, name in enumerate(sheets, start=1)
            )
            + "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, len(sheets) + 1)
            )
            + "</Relationships>"
        ),
    }
    for i, body in enumerate(sheets.values(), start=1):
        files[f"xl/worksheets/sheet{i}.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"{root_attrs}>{body}</worksheet>'
        )
    files.update(extra or {})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return buf.getvalue()


def resident_rows(village: str, n: int = 2) -> str:
    """A header and ``n`` residents, every cell written the canonical way (``<c r="B7" t="inlineStr">``)."""
    out = []
    for r, values in enumerate([RES_HEAD, *res_rows(n, village)], start=1):
        cells = "".join(f'<c r="{"ABCDEF"[j]}{r}" t="inlineStr">{t(v)}</c>' for j, v in enumerate(values))
        out.append(f'<row r="{r}">{cells}</row>')
    return "".join(out)


def sheet(rows: str, after: str = "") -> str:
    return f"<sheetData>{rows}</sheetData>{after}"


def refused(users: Any, data: bytes) -> str:
    before = snapshot()
    with pytest.raises(ImportFailed) as exc:
        import_file(actor=users["admin"], kind="residents", filename="居民.xlsx", data=data)
    assert snapshot() == before
    return exc.value.errors[0].text()


def check_refuses(data: bytes, needle: str, **kw: Any) -> imports.RowError:
    with pytest.raises(ImportFailed) as exc:
        check(data, **kw)
    assert needle in exc.value.errors[0].message, exc.value.errors[0].message
    return exc.value.errors[0]


def check(data: bytes, **kw: Any) -> list[imports.SheetExtent]:
    kw.setdefault("max_bytes", 50 * 1024 * 1024)
    kw.setdefault("max_rows", 1_000_000)
    return check_xlsx(data, too_many=lambda n, s: imports._fail(f"TOO MANY {n}", sheet=s), **kw)


# --- the regexes that let the fast path skip ordinary cells ----------------------------------------------------


@pytest.mark.parametrize("n", [1, 9, 10, 11, 99, 100, 101, 170_000, 175_502, 1_000_020, 1_048_576])
def test_row_bound_regex_matches_exactly_one_to_n(n: int) -> None:
    pattern = re.compile(imports._up_to_number(n))
    probes = {1, 2, 9, 10, 11, n - 1, n, n + 1, n * 10, n + 10 ** (len(str(n)) - 1)} - {0}
    for k in sorted(probes):
        assert bool(pattern.fullmatch(str(k))) == (k <= n), (n, k)
    assert not pattern.fullmatch("0") and not pattern.fullmatch("01")


def test_column_bound_regex_matches_exactly_a_to_n() -> None:
    for n in (1, 2, 9, 25, 26, 27, 52, 53, 64, 200, 702, 703):
        pattern = re.compile(imports._up_to_column(n))
        for k in range(1, 800):
            assert bool(pattern.fullmatch(imports.column_name(k))) == (k <= n), (n, k)


# --- what is measured --------------------------------------------------------------------------------------------


def test_extent_is_the_last_cell_with_a_value() -> None:
    body = sheet(
        '<row r="1"><c r="A1" t="inlineStr">' + t("a") + '</c><c r="D1" s="1"/></row>'
        '<row r="7"><c r="C7" t="inlineStr">' + t("b") + "</c></row>"
        '<row r="9"><c r="H9" s="2"/></row>'  # formatting only: calamine leaves it out of the range
    )
    assert check(xlsx({"表": body})) == [imports.SheetExtent("表", 7, 3)]


@pytest.mark.parametrize(
    "cells",
    [
        '<c t="inlineStr">{v}</c>' * 3,  # no r: after the previous cell
        '<c r="A2" t="inlineStr">{v}</c><c t="inlineStr">{v}</c><c t="inlineStr">{v}</c>',
        '<c t="inlineStr" r="C2">{v}</c>',  # r not first
        "<c r = 'C2' t=\"inlineStr\">{v}</c>",  # spacing and quotes
        '<c r="c2" t="inlineStr">{v}</c>',  # lower case
        '<c r="C002" t="inlineStr">{v}</c>',  # leading zeros
        '<c r="C2" t="inlineStr"\n>{v}</c>',
    ],
)
def test_odd_ways_of_writing_a_cell_are_measured_like_calamine(cells: str) -> None:
    body = sheet(
        '<row r="1"><c r="A1" t="inlineStr">'
        + t("x")
        + "</c></row>"
        + '<row r="2">'
        + cells.format(v=t("y"))
        + "</row>"
    )
    assert check(xlsx({"表": body})) == [imports.SheetExtent("表", 2, 3)]


def test_extent_of_a_large_sheet_spans_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "_PIECE", 4096)  # many pieces, tags cut at every boundary
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr">{t("名" * (r % 7))}</c><c r="B{r}"><v>{r}</v></c>'
        + (f'<c r="F{r}" s="1"/>' if r % 3 else "")
        + "</row>"
        for r in range(1, 3001)
    )
    rows += '<row r="3002"><c r="E3002" t="inlineStr">' + t("末") + "</c></row>"
    assert check(xlsx({"表": sheet(rows)})) == [imports.SheetExtent("表", 3002, 5)]
    # A far cell in the middle of the stream (rows out of order) is still found.
    middle = rows.replace(
        '<row r="1500">', '<row r="1500"><c r="BM1500" t="inlineStr">' + t("远") + "</c>", 1
    )
    check_refuses(xlsx({"表": sheet(middle)}), "BM 列有内容")


# --- refused before calamine -------------------------------------------------------------------------------------

FAR = '<c r="{ref}" t="inlineStr">' + t("x") + "</c>"


@pytest.mark.parametrize(
    ("far", "column"),
    [
        (FAR.format(ref="BM4"), "BM"),  # column 65
        (FAR.format(ref="XFD4"), "XFD"),
        (FAR.format(ref="bm4"), "BM"),
        (
            '<c r="BM4" x="/>" t="inlineStr">' + t("x") + "</c>",
            "BM",
        ),  # "/>" in a value does not make it empty
        ('<x:c r="BM4" t="inlineStr" xmlns:x="' + NS + '"><x:is><x:t>x</x:t></x:is></x:c>', "BM"),
        ('<c t="inlineStr" r="BM4">' + t("x") + "</c>", "BM"),
        ("".join('<c t="inlineStr">' + t("x") + "</c>" for _ in range(65)), "BM"),  # 65 cells without r
    ],
)
def test_a_value_beyond_the_column_cap_is_refused_naming_sheet_and_cell(
    users: Any, tree: Any, far: str, column: str
) -> None:
    body = sheet(resident_rows(tree.v11.code) + f'<row r="4">{far}</row>')
    text = refused(users, xlsx({"居民": body}))
    assert text == (
        f"工作表「居民」：第 4 行 {column} 列有内容，超出了导入支持的 64 列（到 BL 列）：请删除表格右侧多余的内容后再导入"
    ), text


def test_a_formatting_only_far_cell_is_not_refused(users: Any, tree: Any) -> None:
    body = sheet(resident_rows(tree.v11.code) + '<row r="50000"><c r="XFD50000" s="1"/></row>')
    result = import_file(
        actor=users["admin"], kind="residents", filename="居民.xlsx", data=xlsx({"居民": body})
    )
    assert result.counts["residents"].created == 2


def test_cells_written_without_r_import_normally(users: Any, tree: Any) -> None:
    rows = [RES_HEAD, *res_rows(2, tree.v11.code)]
    body = sheet(
        "".join("<row>" + "".join(f'<c t="inlineStr">{t(v)}</c>' for v in r) + "</row>" for r in rows)
    )
    result = import_file(
        actor=users["admin"], kind="residents", filename="居民.xlsx", data=xlsx({"居民": body})
    )
    assert result.counts["residents"].created == 2


def test_a_value_past_the_row_cap_is_refused_before_reading(users: Any, tree: Any, settings: Any) -> None:
    settings.IMPORT_MAX_ROWS = 5  # a sheet may hold 2 x 5 + 1,000 rows before any is read
    body = sheet(
        resident_rows(tree.v11.code) + '<row r="1011"><c r="A1011" t="inlineStr">' + t("x") + "</c></row>"
    )
    assert "数据行数（1011 行）超过单次导入上限 5 行" in refused(users, xlsx({"居民": body}))


def test_a_used_area_out_of_proportion_to_the_file_is_refused(users: Any, tree: Any) -> None:
    # 20 columns x 250,000 rows = 5 million cells from a file of 1 KB (calamine: ~160 MB).
    body = sheet(resident_rows(tree.v11.code) + '<row r="250000"><c r="T250000"><v>1</v></c></row>')
    text = refused(users, xlsx({"居民": body}))
    assert "有内容的区域过大（到第 250,000 行、T 列）" in text, text


def test_the_grid_budget_counts_all_sheets_together() -> None:
    one = sheet('<row r="1"><c r="A1"><v>1</v></c></row><row r="150000"><c r="T150000"><v>1</v></c></row>')
    assert len(check(xlsx({"一": one}))) == 1  # 3 million cells: within the 4 million floor
    check_refuses(xlsx({"一": one, "二": one}), "有内容的区域过大")


def test_decompressed_size_is_bounded_by_the_upload_cap(users: Any, tree: Any, settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 4096  # decompressed parts may total 40 KB
    body = sheet(resident_rows(tree.v11.code, 400))
    data = xlsx({"居民": body})
    assert len(data) < 4096 * 4
    assert "解压后过大（超过上传上限的 10 倍）" in refused(users, data)
    settings.IMPORT_MAX_BYTES = 50 * 1024 * 1024
    assert import_file(actor=users["admin"], kind="residents", filename="居民.xlsx", data=data).rows == 400


def test_a_part_that_inflates_a_hundredfold_is_refused() -> None:
    padding = " " * (9 * 1024 * 1024)  # 9 MB of spaces: about 9 KB compressed
    data = xlsx({"表": sheet('<row r="1"><c r="A1"><v>1</v></c></row>' + padding)})
    check_refuses(data, "压缩比异常")


def test_an_inflated_shared_string_count_is_refused() -> None:
    sst = f'<?xml version="1.0"?><sst xmlns="{NS}" count="1" uniqueCount="4000000000"><si><t>a</t></si></sst>'
    body = sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
    check_refuses(xlsx({"表": body}, {"xl/sharedStrings.xml": sst}), "字符串数量与内容不符")
    honest = sst.replace('uniqueCount="4000000000"', 'uniqueCount="1"')
    assert check(xlsx({"表": body}, {"xl/sharedStrings.xml": honest})) == [imports.SheetExtent("表", 1, 1)]


def test_two_parts_with_the_same_name_are_refused() -> None:
    data = xlsx({"表": sheet('<row r="1"><c r="A1"><v>1</v></c></row>')})
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as z:
        z.writestr("XL/worksheets/sheet1.xml", "<worksheet/>")
    check_refuses(buf.getvalue(), "重名")


def test_a_sheet_outside_the_usual_folder_is_scanned_under_its_sheet_name() -> None:
    data = xlsx({"表": sheet(FAR.format(ref="BM1").join(['<row r="1">', "</row>"]))})
    moved = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(moved, "w") as dst:
        for info in src.infolist():
            content = src.read(info)
            name = info.filename
            if name == "xl/worksheets/sheet1.xml":
                name = "xl/elsewhere/data.xml"
            if name == "xl/_rels/workbook.xml.rels":
                content = content.replace(b"worksheets/sheet1.xml", b"/xl/elsewhere/data.xml")
            dst.writestr(name, content)
    assert check_refuses(moved.getvalue(), "BM 列有内容").sheet == "表"


def _renamed(data: bytes, part: str, new_name: str, target: bytes, rel_type: bytes = b"") -> bytes:
    """``data`` with ``part`` stored as ``new_name`` and its workbook relationship pointing at ``target``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "xl/_rels/workbook.xml.rels":
                old = part.removeprefix("xl/").encode()
                if old in content:
                    content = content.replace(old, target)
                else:
                    rel = f'<Relationship Id="rIdS" Type="{REL}/sharedStrings" Target="'.encode()
                    content = content.replace(b"</Relationships>", rel + target + b'"/></Relationships>')
            dst.writestr(new_name if info.filename == part else info.filename, content)
    return out.getvalue()


def test_a_sheet_reached_through_dot_dot_is_scanned() -> None:
    data = xlsx({"表": sheet(FAR.format(ref="BM1").join(['<row r="1">', "</row>"]))})
    moved = _renamed(data, "xl/worksheets/sheet1.xml", "xl/data.xml", b"worksheets/../data.xml")
    assert check_refuses(moved, "BM 列有内容").sheet == "表"


def test_shared_strings_under_another_name_are_checked() -> None:
    sst = f'<?xml version="1.0"?><sst xmlns="{NS}" count="1" uniqueCount="4000000000"><si><t>a</t></si></sst>'
    data = xlsx({"表": sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')}, {"xl/strings.xml": sst})
    check_refuses(_renamed(data, "xl/strings.xml", "xl/strings.xml", b"strings.xml"), "字符串数量与内容不符")


# --- the files that abort an unguarded process -------------------------------------------------------------------


def test_process_killers_are_refused_in_both_importers(tmp_path: Path) -> None:
    far = sheet(
        '<row r="1"><c r="A1" t="inlineStr">'
        + t("序号")
        + "</c></row>"
        + FAR.format(ref="XFD50000").join(['<row r="50000">', "</row>"])
    )
    sst = f'<?xml version="1.0"?><sst xmlns="{NS}" count="1" uniqueCount="4000000000"><si><t>a</t></si></sst>'
    (tmp_path / "far.xlsx").write_bytes(xlsx({"居民": far}))
    (tmp_path / "sst.xlsx").write_bytes(
        xlsx({"居民": sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')}, {"xl/sharedStrings.xml": sst})
    )
    script = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        import django
        django.setup()
        from gongzhi.core import imports
        from gongzhi.duties import listio
        for name in ("far", "sst"):
            data = open({str(tmp_path)!r} + "/" + name + ".xlsx", "rb").read()
            for read in (lambda: imports._read_book("r.xlsx", data).load("居民"),
                         lambda: listio.read_workbook("r.xlsx", data)):
                try:
                    read()
                except imports.ImportFailed as e:
                    print("REFUSED", e.errors[0].text())
                else:
                    print("READ")
        """
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-800:]
    lines = done.stdout.splitlines()
    assert len(lines) == 4 and all(line.startswith("REFUSED") for line in lines), lines
    assert "XFD 列有内容" in lines[0] and "XFD 列有内容" in lines[1]
    assert all("字符串数量" in line for line in lines[2:])
