"""A list of amounts in one text (monthly balances) parses as ``round(float(item) * unit, 2)``
of each item, whichever path etl/mapping._parse_list takes: value for value, the sign of zero
included, and the same refusal for what is not a list of finite numbers."""

from __future__ import annotations

import math
import random

import pytest

from etl.mapping import _parse_list, _plain_list


def _rounded(value: str | list | None, sep: str, factor: float) -> list[float] | None:
    """The definition: each item times the unit, rounded to cents; finite or refused."""
    if value is None:
        return None
    items = value.split(sep) if isinstance(value, str) else value
    out = [round(float(v) * factor, 2) for v in items]
    if not all(math.isfinite(v) for v in out):
        raise ValueError("not finite")
    return out


def _item(rng: random.Random) -> str:
    digits = rng.choice([1, 2, 6, 11, 12, 13, 15, 17])
    whole = str(rng.randrange(10 ** (digits - 1), 10**digits))
    cents = "".join(rng.choice("0123456789") for _ in range(rng.choice([0, 0, 1, 2, 2, 3, 4])))
    text = whole + ("." + cents if cents or rng.random() < 0.1 else "")
    if rng.random() < 0.2:
        text = "-" + text
    if rng.random() < 0.05:
        text = rng.choice([" ", "\t", "\u00a0", "\u2003"]) + text + " "
    if rng.random() < 0.02:  # digits of other scripts (float reads them)
        text = text.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    if rng.random() < 0.02:
        text = rng.choice(["1e3", "1E-2", "inf", "-inf", "nan", "1_000", "", "0x10", ".5", "5.",
                           "-0.00", "+.01", "12.345", "１２.5", "abc"])  # fmt: skip
    return text


def _texts(sep: str) -> list[str]:
    rng = random.Random(17)
    return [sep.join(_item(rng) for _ in range(rng.randrange(1, 25))) for _ in range(5_000)]


def _outcome(fn, value: object, sep: str, factor: float) -> str:  # type: ignore[no-untyped-def]
    try:
        return repr(fn(value, sep, factor))  # (repr: -0.0 and 0.0 differ)
    except (ValueError, TypeError) as exc:
        return type(exc).__name__


# the usual separators, and some that share characters with numbers (the fast path must then
# cut where str.split does: "1...149" split at ".." is "1." and ".149")
@pytest.mark.parametrize("sep", ["|", ";", ",", "..", ".", ".0.", " ", "\t", "-", "0"])
@pytest.mark.parametrize("factor", [1.0, 0.01, 10_000.0])
def test_a_list_parses_as_its_items_times_the_unit_rounded_to_cents(
    sep: str, factor: float
) -> None:
    texts = [*_texts(sep), "", sep, f"1{sep}{sep}2", "0.1 ", f"-0.0{sep}0.005{sep}2.675", "1...149"]
    differ = [
        t
        for t in texts
        if _outcome(_parse_list, t, sep, factor) != _outcome(_rounded, t, sep, factor)
    ]
    assert differ == []
    assert _parse_list([1, "2.5", 3.14159], sep, factor) == _rounded(
        [1, "2.5", 3.14159], sep, factor
    )
    assert _parse_list(None, sep, factor) is None


def test_plain_balances_take_the_path_without_rounding() -> None:
    """What a core system's balance history looks like (the pattern is what makes it fast)."""
    assert _plain_list("|").fullmatch("756028.45|751542.77|-1.5|0|321512.8")
    for text in ["1e3|2", "inf", "1.005", "1234567890123.5", "1_000"]:
        assert not _plain_list("|").fullmatch(text), text
