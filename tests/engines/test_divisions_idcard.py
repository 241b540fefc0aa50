import pytest

from gongzhi.engines import divisions as dv
from gongzhi.engines import idcard


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("990000000000", "province"),
        ("990100000000", "city"),
        ("990102000000", "county"),
        ("990102001000", "township"),
        ("990102001001", "village"),
    ],
)
def test_level_of(code: str, level: str) -> None:
    assert dv.level_of(code) == level


def test_parent_and_prefix() -> None:
    assert dv.parent_code("990102001001") == "990102001000"
    assert dv.parent_code("990000000000") is None
    assert dv.prefix("990102001000") == "990102001"


def test_bad_codes() -> None:
    with pytest.raises(dv.DivisionCodeError):
        dv.level_of("12345")
    with pytest.raises(dv.DivisionCodeError):
        dv.check_child("990102000000", "990103001000", "township")
    with pytest.raises(dv.DivisionCodeError):
        dv.check_child("990102000000", "990102001001", "township")


def test_id_checksum() -> None:
    good = idcard.make_id("11010519491231002")
    assert good == "11010519491231002X"
    assert idcard.id_problem(good) is None
    assert idcard.id_problem(good[:-1] + "1") == "身份证号校验位不正确"
    assert idcard.id_problem("110105194913310021") is not None  # month 13
    assert idcard.id_problem("123") is not None


def test_id_hash_is_keyed_and_normalized() -> None:
    n = idcard.make_id("11010519491231002")
    assert idcard.id_hash(n.lower(), b"k1") == idcard.id_hash(n, b"k1")
    assert idcard.id_hash(n, b"k1") != idcard.id_hash(n, b"k2")
    assert n not in idcard.id_hash(n, b"k1")


def test_phone() -> None:
    assert idcard.phone_problem("13800138000") is None
    assert idcard.phone_problem("+86 138-0013-8000") is None
    assert idcard.phone_problem("12800138000") is not None
    assert idcard.mask_phone("13800138000") == "138****8000"
