"""一事一码: the code an approved inspection item carries, and its tolerant reading.

A code reads ``JC26-7KQ4-M9XD``: ``JC`` (检查), the plan year's last two digits, then seven random characters and one
check character in Crockford's base32 (digits and capitals without I, L, O, U, so nothing is read two ways). A
township cadre types it from a slip or a phone screen, so reading forgives lower case, missing or extra dashes and
spaces, full-width characters and the O/0, I/L/1 confusions Crockford defines; the check character catches a
mistyped or swapped character before any lookup, and tells "you typed it wrong" from "no such code".

Seven random characters are 35 bits (34 billion bodies per year). Codes come from ``secrets``, so they are not
guessable from earlier ones, and the verification page limits lookups per client, so guessing a valid code by
trying costs millions of requests. Issued codes stay on their item for good (revoking keeps the row), and the
database's unique index makes a code impossible to issue twice.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# Crockford's decoding aliases.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
PREFIX = "JC"
BODY = 7  # random characters; one check character follows
_SHAPE = re.compile(rf"^{PREFIX}(\d\d)([{ALPHABET}]{{{BODY + 1}}})$")


def check_char(text: str) -> str:
    """Luhn mod 32 over ``text`` (base32 characters): catches every single-character error and every swap of two
    adjacent characters."""
    factor, total = 2, 0
    for ch in reversed(text):
        addend = factor * _VALUE[ch]
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def make_code(year: int) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY))
    yy = f"{year % 100:02d}"
    full = body + check_char(yy + body)
    return f"{PREFIX}{yy}-{full[:4]}-{full[4:]}"


def normalize(raw: str) -> str | None:
    """The canonical form of what was typed (``JC26-7KQ4-M9XD``), or None when it cannot be a code: wrong length
    or characters, or a check character that does not match (a typing mistake)."""
    if not raw:
        return None
    text = unicodedata.normalize("NFKC", str(raw))[:64].upper()
    # A scanned QR gives the whole verification URL: keep its last path segment.
    text = text.rstrip("/").rsplit("/", 1)[-1]
    text = re.sub(r"[\s\-_.·—–‐]", "", text)
    if not text.startswith(PREFIX):
        return None
    rest = text[len(PREFIX) :].translate(_ALIASES)
    m = _SHAPE.match(PREFIX + rest)
    if m is None:
        return None
    yy, full = m.group(1), m.group(2)
    if check_char(yy + full[:-1]) != full[-1]:
        return None
    return f"{PREFIX}{yy}-{full[:4]}-{full[4:]}"


def looks_like_code(raw: str) -> bool:
    """Shaped like a code (whatever the check character): tells a typing mistake from something else entirely."""
    text = re.sub(r"[\s\-_.·—–‐]", "", unicodedata.normalize("NFKC", str(raw or ""))[:64].upper())
    text = text.rstrip("/").rsplit("/", 1)[-1]
    return bool(text.startswith(PREFIX) and len(text) == len(PREFIX) + 2 + BODY + 1)
