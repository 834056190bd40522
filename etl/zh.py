"""Chinese text helpers shared by the generator and identity resolution.

``TRADITIONAL`` maps the simplified characters that occur in our names to their traditional form
(a small, hand-made subset of OpenCC's table: enough for the names the bank's systems hold).
"""

from __future__ import annotations

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
