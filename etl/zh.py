"""Chinese text helpers shared by the generator and identity resolution.

Names are compared (etl/linkage_frame.py) in simplified characters and in toneless pinyin, so
a card system's ``ZHANG WEI`` meets the core system's ``张伟`` and a CRM's ``張偉``; pinyin comes
from ``pypinyin`` one character at a time (a name is not a phrase: the phrase dictionary reads
names wrongly), with the family names that are read otherwise as names (:data:`SURNAME_PINYIN`).

``TRADITIONAL`` maps the simplified characters that occur in our names to their traditional form
(a small, hand-made subset of OpenCC's table: enough for the names the bank's systems hold).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from pypinyin import lazy_pinyin

_PAIRS = (
    "东東严嚴丰豐丽麗乌烏乐樂乔喬云雲伟偉储儲党黨兰蘭关關军軍冯馮况況刘劉刚剛劳勞华華单單卢盧"
    "卫衛厉厲叶葉吕呂吴吳国國娄婁孙孫宁寧宾賓尧堯巩鞏帅帥师師庄莊应應庞龐张張强強战戰时時晋晉"
    "杨楊杰傑栾欒楼樓欢歡欧歐毕畢汤湯洁潔涛濤温溫满滿盖蓋盘盤红紅纪紀练練缪繆罗羅聂聶艳艷芦蘆"
    "苏蘇荆荊荣榮莹瑩萧蕭蒋蔣蓝藍蔺藺许許诸諸谈談谌諶谢謝谭譚贺賀贾賈赖賴赵趙辉輝边邊连連迟遲"
    "邓鄧邝鄺邬鄔郑鄭钟鍾钱錢银銀门門闭閉闵閔闻聞阎閻阙闕阚闞阳陽阴陰陆陸陈陳韦韋韩韓项項顾顧"
    "颖穎颜顏飞飛饶饒马馬骆駱鲁魯鲍鮑鲜鮮鹏鵬麦麥黄黃龙龍龚龔静靜丛叢凤鳳凯凱区區涂塗"
)
TRADITIONAL: dict[str, str] = {_PAIRS[i]: _PAIRS[i + 1] for i in range(0, len(_PAIRS), 2)}
SIMPLIFIED: dict[str, str] = {t: s for s, t in TRADITIONAL.items()}
_TO_SIMPLIFIED = str.maketrans(SIMPLIFIED)
_TO_TRADITIONAL = str.maketrans(TRADITIONAL)


def to_simplified(text: str) -> str:
    return text.translate(_TO_SIMPLIFIED)


def to_traditional(text: str) -> str:
    return text.translate(_TO_TRADITIONAL)


def normalise_name(name: str | None) -> str:
    """Simplified characters, no spaces or middle dots: the form names are compared in."""
    if not isinstance(name, str) or not name:
        return ""
    return to_simplified("".join(name.split()).replace("·", "").replace("•", ""))


# -- names as identity resolution compares them ------------------------------------------------
# two-character family names (simplified); any other hanzi name's family name is its first
# character
_COMPOUND = (
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 司徒 夏侯 轩辕 长孙 宇文 端木 独孤 南宫 "
    "西门 百里 呼延 东郭 澹台 万俟 闻人 申屠 太史 钟离 宗政 濮阳 公冶 赫连 淳于 单于 仲孙 鲜于 "
    "闾丘 司空 亓官 司寇 左丘 东门 羊舌 微生 梁丘 第五 拓跋"
)
COMPOUND_SURNAMES = frozenset(_COMPOUND.split(" "))
# family names read otherwise than their character's first reading (单 is Shan as a name, not Dan)
SURNAME_PINYIN = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "朴": "piao", "查": "zha", "区": "ou",
    "乐": "yue", "盖": "ge", "缪": "miao", "翟": "zhai", "覃": "qin", "召": "shao", "种": "chong",
    "秘": "bi", "重": "chong", "华": "hua", "员": "yun", "贲": "ben", "折": "she", "尉迟": "yuchi",
    "万俟": "moqi", "长孙": "zhangsun", "单于": "chanyu", "令狐": "linghu", "阚": "kan",
    "冼": "xian", "洗": "xian", "句": "gou", "隗": "wei", "祭": "zhai", "繁": "po", "能": "nai",
}  # fmt: skip
_SEPARATORS = str.maketrans({"·": " ", "•": " ", "・": " ", ",": " ", ".": " ", "-": " "})


def is_hanzi(text: str) -> bool:
    """Whether ``text`` (spaces aside) is written in CJK characters only."""
    chars = [c for c in text if not c.isspace()]
    return bool(chars) and all(
        "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in chars
    )


@lru_cache(maxsize=20_000)
def _char_pinyin(char: str) -> str:
    return "".join(lazy_pinyin(char, errors="ignore"))


def pinyin(text: str, *, family: bool = False) -> str:
    """Toneless pinyin of hanzi, lower case, syllables joined (``张伟`` and ``張偉`` -> ``zhangwei``).
    ``family``: ``text`` is a family name (read as names are: ``单`` -> ``shan``)."""
    text = to_simplified("".join(text.split()))
    if family and text in SURNAME_PINYIN:
        return SURNAME_PINYIN[text]
    return "".join(_char_pinyin(c) for c in text)


def split_hanzi_name(name: str) -> tuple[str, str]:
    """(family name, given name) of a hanzi name written family name first, simplified."""
    text = to_simplified("".join(name.split()).replace("·", "").replace("•", ""))
    size = 2 if text[:2] in COMPOUND_SURNAMES and len(text) > 2 else 1
    return text[:size], text[size:]


def latin_tokens(text: str) -> list[str]:
    """Lower-case ASCII words of a Latin-script name (accents dropped, punctuation as spaces)."""
    plain = unicodedata.normalize("NFKD", text.translate(_SEPARATORS))
    ascii_only = "".join(c for c in plain if c.isascii() and (c.isalpha() or c.isspace()))
    return ascii_only.lower().split()
