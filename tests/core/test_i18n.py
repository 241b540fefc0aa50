"""The English catalog: complete, compiled, in step with the sources, and actually used by the pages.

Source strings are Chinese; ``gongzhi/locale/en/LC_MESSAGES/django.po`` translates them. To fix a failure here,
from ``gongzhi/``: ``makemessages -l en --ignore "migrations/*"``, fill the new msgstrs, then ``compilemessages``.
"""

from __future__ import annotations

import gettext
import html as htmllib
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import translation

from gongzhi.core.models import User

PACKAGE = Path(__file__).resolve().parents[2] / "gongzhi"
PO = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PASSWORD = "Correct-Horse-42"
# CJK ideographs and CJK punctuation / full-width forms: none may survive in translated text.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\{\s*\w+\s*\}\}")


@dataclass
class Entry:
    msgid: str
    msgid_plural: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None


def _unquote(s: str) -> str:
    s = s.strip()
    assert s.startswith('"') and s.endswith('"'), s
    return bytes(s[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def parse_po(text: str) -> list[Entry]:
    """A small .po reader: enough for what makemessages writes (no obsolete ``#~`` entries are returned)."""
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        e: Entry | None = None
        flags: set[str] = set()
        last: str | None = None
        for line in block.splitlines():
            if line.startswith("#,"):
                flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
                continue
            if line.startswith("#") or not line.strip():
                continue
            m = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$", line)
            if m:
                key, value = m.group(1), _unquote(m.group(2))
                if key == "msgctxt":
                    e = Entry(msgid="", msgctxt=value)
                elif key == "msgid":
                    e = e or Entry(msgid="")
                    e.msgid = value
                elif key == "msgid_plural":
                    assert e is not None
                    e.msgid_plural = value
                else:
                    assert e is not None
                    e.msgstrs.append(value)
                last = key
            else:
                assert e is not None and last is not None, f"unexpected line in .po: {line!r}"
                value = _unquote(line)
                if last == "msgctxt":
                    e.msgctxt = (e.msgctxt or "") + value
                elif last == "msgid":
                    e.msgid += value
                elif last == "msgid_plural":
                    e.msgid_plural = (e.msgid_plural or "") + value
                else:
                    e.msgstrs[-1] += value
        if e is not None:
            e.flags = flags
            entries.append(e)
    return entries


def _entries() -> list[Entry]:
    return parse_po(PO.read_text(encoding="utf-8"))


def _messages() -> list[Entry]:
    return [e for e in _entries() if e.msgid]


def _catalog_from_mo(path: Path) -> dict[Any, str]:
    with path.open("rb") as f:
        cat = dict(gettext.GNUTranslations(f)._catalog)  # type: ignore[attr-defined]
    cat.pop("", None)  # the header carries dates, not messages
    return cat


def _catalog_from_po() -> dict[Any, str]:
    cat: dict[Any, str] = {}
    for e in _messages():
        key = f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt is not None else e.msgid
        if e.msgid_plural is None:
            cat[key] = e.msgstrs[0]
        else:
            for i, s in enumerate(e.msgstrs):
                cat[(key, i)] = s
    return cat


def _nav(html: str) -> str:
    m = re.search(r'<nav id="mainnav".*?</nav>', html, re.S)
    assert m, "no main navigation on the page"
    return m.group(0)


def _main(html: str) -> str:
    m = re.search(r'<main id="main".*?</main>', html, re.S)
    assert m, "no <main> on the page"
    return m.group(0)


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


# --- (a) the catalog is complete ---------------------------------------------------------------------


def test_parser_reads_the_catalog() -> None:
    entries = _entries()
    assert entries[0].msgid == "" and "charset=UTF-8" in entries[0].msgstrs[0]
    assert len(_messages()) >= 150
    # The parser itself must notice an untranslated entry, or the next test proves nothing.
    sample = 'msgid ""\nmsgstr "x"\n\n#, python-format\nmsgid "共 %(count)s 条"\nmsgstr ""\n'
    [_, e] = parse_po(sample)
    assert e.msgid == "共 %(count)s 条" and e.msgstrs == [""] and e.flags == {"python-format"}


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    entries = _entries()
    assert "fuzzy" not in entries[0].flags, "the header is marked fuzzy"
    untranslated = [e.msgid for e in _messages() if not e.msgstrs or not all(s.strip() for s in e.msgstrs)]
    fuzzy = [e.msgid for e in _messages() if "fuzzy" in e.flags]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    plural = [e.msgid for e in _messages() if e.msgid_plural is not None and len(e.msgstrs) != 2]
    assert not plural, f"English needs exactly two plural forms: {plural}"


def test_translations_are_english_and_keep_placeholders() -> None:
    problems = []
    for e in _messages():
        for s in e.msgstrs:
            want = sorted(PLACEHOLDER.findall(e.msgid))
            if sorted(PLACEHOLDER.findall(s)) != want:
                problems.append(f"placeholders differ: {e.msgid!r} -> {s!r}")
            # Chinese may appear only as a quoted name the user sees verbatim, e.g. the sheet “说明”.
            unquoted = re.sub(r"“[^”]*”", "", s)
            if CJK.search(unquoted) or any(run not in e.msgid for run in CJK.findall(s)):
                problems.append(f"Chinese left in translation: {e.msgid!r} -> {s!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (gettext) is not installed")
def test_msgfmt_accepts_the_catalog_with_nothing_untranslated() -> None:
    r = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)],
        capture_output=True,
        text=True,
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin:/usr/local/bin"},
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"\d+ translated messages\.\n", r.stderr), r.stderr  # no "fuzzy"/"untranslated" part


# --- (b) the committed .mo is not stale ----------------------------------------------------------------


def test_mo_matches_po() -> None:
    assert MO.exists(), "django.mo is missing: run compilemessages"
    mo, po = _catalog_from_mo(MO), _catalog_from_po()
    assert mo == po, (
        "django.mo is stale: run compilemessages. "
        f"Only in .po: {sorted(map(str, po.keys() - mo.keys()))[:5]}; "
        f"only in .mo: {sorted(map(str, mo.keys() - po.keys()))[:5]}; "
        f"different: {[k for k in po.keys() & mo.keys() if po[k] != mo[k]][:5]}"
    )


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (gettext) is not installed")
def test_mo_matches_a_fresh_msgfmt_build(tmp_path: Path) -> None:
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(PO)], check=True)
    assert _catalog_from_mo(fresh) == _catalog_from_mo(MO), "django.mo is stale: run compilemessages"


# --- the catalog covers every string in the sources --------------------------------------------------


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext (gettext) is not installed")
def test_catalog_covers_every_source_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # makemessages writes in place; run it on a copy so the real catalog is never touched.
    work = tmp_path / "gongzhi"
    shutil.copytree(
        PACKAGE, work, ignore=shutil.ignore_patterns("__pycache__", "static", "migrations", "*.mo")
    )
    monkeypatch.chdir(work)
    with override_settings(LOCALE_PATHS=[]):
        call_command("makemessages", locale=["en"], ignore_patterns=["migrations/*"], verbosity=0)
    fresh = parse_po((work / "locale" / "en" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8"))
    in_sources = {(e.msgctxt, e.msgid) for e in fresh if e.msgid}
    in_catalog = {(e.msgctxt, e.msgid) for e in _messages()}
    assert in_sources - in_catalog == set(), (
        f"new source strings missing from the English catalog (run makemessages): {in_sources - in_catalog}"
    )
    assert in_catalog - in_sources == set(), (
        f"catalog keeps strings no longer in the sources (run makemessages): {in_catalog - in_sources}"
    )


# --- (c) the pages switch language --------------------------------------------------------------------


def test_plural_and_placeholder_translations() -> None:
    with translation.override("en"):
        assert translation.ngettext("%(n)s 个下级", "%(n)s 个下级", 1) % {"n": 1} == "1 subordinate unit"
        assert translation.ngettext("%(n)s 个下级", "%(n)s 个下级", 3) % {"n": 3} == "3 subordinate units"
        assert translation.gettext("%(name)s，您好") % {"name": "李明"} == "Hello, 李明"
    with translation.override("zh-hans"):
        assert translation.gettext("登录") == "登录"


def test_login_page_in_english_and_back(db: Any) -> None:
    c = Client()
    zh = c.get("/login/").content.decode()
    assert 'lang="zh-hans"' in zh and "登录共治平台" in zh

    r = c.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert r.status_code == 302 and r["Location"] == "/login/"
    html = c.get("/login/").content.decode()
    assert 'lang="en"' in html
    main = _main(html)
    for text in ("Sign in to Gongzhi", "Staff", "Residents / enterprises", "Username", "Password", "Sign in"):
        assert text in main, text
    assert CJK.findall(_text(main)) == [], "Chinese left on the English login page"
    assert "Skip to main content" in html and ">中文</button>" in html  # the way back is offered in Chinese

    c.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    back = c.get("/login/").content.decode()
    assert 'lang="zh-hans"' in back and "登录共治平台" in back and "Sign in" not in back


def test_browser_language_does_not_switch_the_platform(db: Any) -> None:
    """Chinese first: an English browser (Accept-Language) still gets Chinese; only the switch (cookie) changes it."""
    english_browser = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    r = english_browser.get("/login/")
    html = r.content.decode()
    assert 'lang="zh-hans"' in html and "登录共治平台" in html and "Sign in" not in html
    assert r["Content-Language"] == "zh-hans" and "Cookie" in r["Vary"]
    english_browser.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert 'lang="en"' in english_browser.get("/login/").content.decode()
    # An unknown or forged cookie value falls back to Chinese.
    forged = Client(HTTP_ACCEPT_LANGUAGE="en")
    forged.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr<script>"
    assert 'lang="zh-hans"' in forged.get("/login/").content.decode()
    # The API answers in Chinese too (its error messages are Chinese by contract).
    api = Client(HTTP_ACCEPT_LANGUAGE="en-US").get("/api/v1/units")
    assert api.status_code == 401 and CJK.search(api.json()["message"])


def test_township_leader_home_in_english_and_back(users: dict[str, User]) -> None:
    c = Client()
    assert c.login(username="township_leader", password=PASSWORD)
    zh = c.get("/").content.decode()
    assert "首页" in _nav(zh) and "本乡镇待办" in zh

    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = c.get("/").content.decode()
    assert 'lang="en"' in html
    nav = _nav(html)
    labels = [htmllib.unescape(x) for x in re.findall(r"<a [^>]*>([^<]+)</a>", nav)]
    assert labels == [
        "Home",
        "Administrative divisions",
        "Departments",
        "Cadres",
        "Enterprises & organizations",
        "Duty lists",
        "Task gate",
        "Summons and report-in",
        "Verify an item code",
        "Data catalog",
        "Joint visits",
        "Burden ledger",
        "Residents",
        "Import & export",
    ], labels
    assert CJK.findall(_text(nav)) == [], "Chinese left in the English navigation"
    assert 'aria-label="Main navigation"' in nav and ">Menu</button>" in html
    # Role label and home section; the township's own name is data and stays Chinese.
    for text in (
        "Township leader · 东河镇",
        "Township to-dos",
        "Jurisdiction",
        "Sign out",
        "Change password",
    ):
        assert text in html, text
    assert "本乡镇待办" not in html and "退出登录" not in html

    c.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    back = c.get("/").content.decode()
    assert 'lang="zh-hans"' in back
    assert "首页" in _nav(back) and "本乡镇待办" in back and "Township to-dos" not in back
    assert "Home" not in _nav(back)
