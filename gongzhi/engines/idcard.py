"""Mainland resident identity numbers (GB 11643-1999) and phone numbers.

ID numbers are validated and then only ever stored as a keyed hash (HMAC-SHA256): the platform can match a
person against the household register without keeping the number in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def normalize_id(raw: str) -> str:
    return raw.strip().upper().replace(" ", "")


def id_problem(raw: str) -> str | None:
    """None when ``raw`` is a well-formed ID number, else the reason in Chinese."""
    num = normalize_id(raw)
    if not _ID_RE.match(num):
        return "身份证号应为 18 位（末位可为 X）"
    try:
        date(int(num[6:10]), int(num[10:12]), int(num[12:14]))
    except ValueError:
        return "身份证号中的出生日期无效"
    if check_digit(num[:17]) != num[17]:
        return "身份证号校验位不正确"
    return None


def make_id(first17: str) -> str:
    return first17 + check_digit(first17)


def id_hash(raw: str, key: bytes) -> str:
    return hmac.new(key, normalize_id(raw).encode("ascii"), hashlib.sha256).hexdigest()


def normalize_phone(raw: str) -> str:
    digits = re.sub(r"[\s-]", "", raw.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def phone_problem(raw: str) -> str | None:
    if not _PHONE_RE.match(normalize_phone(raw)):
        return "手机号应为 11 位大陆手机号码"
    return None


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else "****"
