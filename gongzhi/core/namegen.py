"""Deterministic generators for fictional Chinese names, place names, phone numbers and credit codes.

Everything takes a ``random.Random`` so that the demo county is the same on every machine. No real persons: names
are drawn from common surname and given-name characters; places from common place-name morphemes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from itertools import accumulate

# Common surnames, roughly in order of frequency; the weights below follow that order.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛"
)
_SURNAME_CUM = list(accumulate(1.0 / (i + 4) for i in range(len(SURNAMES))))

MALE_CHARS = (
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林洋毅峰建国志成立新海东文晨阳博学德兴振"
)
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀玲燕红琳雪婷慧莹颖倩洁琴云兰梅萍璐瑶怡欣悦佳晶冰月嘉蕾薇露菲雅春凤"
NEUTRAL_CHARS = "子文晓一思安佳家瑞嘉雨天金永宏小书心清和"

# Place-name morphemes.
_PLACE_HEAD = "东西南北青石柳桃杏白金龙凤清新高平安长永兴和福双三马黄红梨枣松竹梅兰桂荷蒲杨槐岔沙土盘"
_PLACE_TAIL = "河山桥湾坪岭溪塘口庄集铺店堡沟坝园湖泉峪洼台营寨屯滩坡渡冲垭"
# Two characters each.
_COMMUNITY_STEMS = (
    "和平幸福新华建设花园滨河解放人民朝阳光明文化胜利团结育才向阳长安锦绣康宁春晖翠苑"
    "东城西城南苑北苑府前新村紫荆丰泽学府润园金桥玉泉清源怡和荷塘迎宾站前鼓楼文昌凤鸣"
)
_COMMUNITY_NAMES = tuple(_COMMUNITY_STEMS[i : i + 2] for i in range(0, len(_COMMUNITY_STEMS), 2))
_JIEDAO_NAMES = ("城关", "城东", "城西", "城南", "城北", "新城", "河西", "河东", "滨江", "开发区")

# Mobile number prefixes (three digits each).
_PREFIXES = "130131132133134135136137138139150151152153155156157158159166173177180181182183185186187188189199"
PHONE_PREFIXES = tuple(_PREFIXES[i : i + 3] for i in range(0, len(_PREFIXES), 3))


def surname(rng: random.Random) -> str:
    return rng.choices(SURNAMES, cum_weights=_SURNAME_CUM, k=1)[0]


def given_name(rng: random.Random, female: bool) -> str:
    pool = FEMALE_CHARS if female else MALE_CHARS
    first = rng.choice(pool)
    if rng.random() < 0.25:
        return first
    if rng.random() < 0.3:
        return rng.choice(NEUTRAL_CHARS) + first  # 晓明, 思琪, 一帆
    return first + rng.choice(pool)


def person_name(rng: random.Random, female: bool | None = None, family: str | None = None) -> str:
    if female is None:
        female = rng.random() < 0.5
    return (family or surname(rng)) + given_name(rng, female)


def name_pool(rng: random.Random, size: int) -> list[str]:
    """A list of generated names to draw from quickly when seeding millions of rows."""
    return [person_name(rng) for _ in range(size)]


class UniqueNames:
    """Draws place names that are unique within one generator (one county)."""

    def __init__(self, rng: random.Random, taken: Iterable[str] = ()):
        self.rng = rng
        self.taken: set[str] = set(taken)

    def _draw(self, make: Callable[[], str], suffix: str, tries: int = 60) -> str:
        for _ in range(tries):
            name = make() + suffix
            if name not in self.taken:
                self.taken.add(name)
                return name
        # Short names exhausted (huge seeds): number them, which always terminates.
        while True:
            name = f"{make()}{len(self.taken) + 1}{suffix}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    def place_stem(self) -> str:
        return self.rng.choice(_PLACE_HEAD) + self.rng.choice(_PLACE_TAIL)

    def township(self, kind: str, index: int = 0) -> str:
        if kind == "街道" and index < len(_JIEDAO_NAMES) and _JIEDAO_NAMES[index] + kind not in self.taken:
            # Urban sub-districts are usually named after their part of town.
            self.taken.add(_JIEDAO_NAMES[index] + kind)
            return _JIEDAO_NAMES[index] + kind
        return self._draw(self.place_stem, kind)

    def village(self, kind: str) -> str:
        if kind == "社区":
            return self._draw(lambda: self.rng.choice(_COMMUNITY_NAMES), "社区")

        def stem() -> str:
            r = self.rng.random()
            if r < 0.3:
                # 张家庄, 李家沟: named after a clan.
                return surname(self.rng) + "家" + self.rng.choice(_PLACE_TAIL)
            if r < 0.45:
                return surname(self.rng) + self.rng.choice("庄营寨屯")
            return self.place_stem()

        return self._draw(stem, "村")


def phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"


# ---- unified social credit code (统一社会信用代码, GB 32100-2015) -------------------------------------------------

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code(body8: str) -> str:
    """Organization code (GB 11714): 8 characters plus a check character."""
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return body8 + ("X" if c9 == 10 else "0" if c9 == 11 else str(c9))


def credit_code(rng: random.Random, *, authority: str, category: str, area: str) -> str:
    """An 18-character credit code with valid check characters.

    ``authority``: 9 = market regulation (enterprises), 5 = civil affairs (social organizations).
    """
    body = _org_code("".join(rng.choice("0123456789") for _ in range(8)))
    first17 = authority + category + area + body
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return first17 + _CREDIT_CHARS[(31 - total % 31) % 31]


def credit_code_ok(code: str) -> bool:
    if len(code) != 18 or any(c not in _CREDIT_CHARS for c in code):
        return False
    if _org_code(code[8:16]) != code[8:17]:
        return False
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(code[:17], _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31] == code[17]
