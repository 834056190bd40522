"""Reasons, alerts and notices as codes with parameters, rendered in the caller's language.

A reason is stored as ``{"code": "AUM_FELL", "params": {"pct": 41, ...}}`` and turned into text
only when it is read, in the language the request asks for (``Accept-Language``; Simplified
Chinese by default, English on request). The texts live in ``core/messages/*.toml``, one file per
domain (scoring, alerts, ...), each entry a code with a ``zh`` and an ``en`` template::

    [AUM_FELL]
    zh = "近{months}个月资产下降{pct}%（{from:money} → {to:money}）"
    en = "AUM fell {pct} % in {months} months ({from:money} → {to:money})"

Placeholders are ``{name}`` or ``{name:kind}`` with kind ``money`` (``1,891,257``), ``pct``
(``41``, rounded), ``num1`` (one decimal), ``date`` (ISO) or ``tier``/``risk``/``kind`` (an enum
value, translated through the ``[enums]`` table of the same catalogue when it has one). A code
missing from the catalogue renders as the code and its parameters, never as an error: a reason
written by a newer job is still readable by an older API.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

CATALOGUE_DIR = Path(__file__).resolve().parent / "messages"
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z0-9]+))?\}")


@dataclass(frozen=True)
class Reason:
    """One reason: a stable code and its parameters (numbers, dates, enum values)."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        return cls(str(data["code"]), dict(data.get("params") or {}))


def negotiate(accept_language: str | None) -> str:
    """The language to answer in: the first of ``Accept-Language`` (by q) we have, else zh-CN.

    ``en``, ``en-US``, ``en-GB;q=0.8`` → ``en``; ``zh``, ``zh-CN``, ``zh-Hans`` → ``zh-CN``."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, rest = part.strip().partition(";")
        q = 1.0
        if rest.strip().startswith("q="):
            try:
                q = float(rest.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, position, tag.strip().lower()))
    for neg_q, _, tag in sorted(ranked):
        if neg_q >= 0:
            continue
        primary = tag.split("-")[0]
        if primary == "en":
            return "en"
        if primary == "zh":
            return "zh-CN"
    return DEFAULT_LANGUAGE


@cache
def catalogue() -> dict[str, dict[str, Any]]:
    """Every code's templates ({code: {"zh": ..., "en": ...}}) and the ``enums`` translations
    (under the key ``"enums"``: {value: {"zh": ..., "en": ...}}), from all catalogue files."""
    merged: dict[str, dict[str, Any]] = {"enums": {}}
    for path in sorted(CATALOGUE_DIR.glob("*.toml")):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for code, entry in data.items():
            if code == "enums":
                merged["enums"].update(entry)
                continue
            if code in merged:
                raise ValueError(f"{path.name}: message code {code} is defined twice")
            if set(entry) != {"zh", "en"}:
                raise ValueError(f"{path.name}: {code} needs exactly zh and en texts")
            merged[code] = entry
    return merged


def _key(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def _format(value: Any, kind: str | None, lang: str) -> str:
    if value is None:
        return "—"
    if kind == "money":
        return f"{float(value):,.0f}"
    if kind == "pct":
        return f"{float(value):.0f}"
    if kind == "num1":
        return f"{float(value):.1f}"
    if kind == "date":
        return str(value)[:10]
    if kind in ("tier", "risk", "kind", "enum"):
        names = catalogue()["enums"].get(str(value))
        return names[_key(lang)] if names else str(value)
    return str(value)


def render(code: str, params: Mapping[str, Any] | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """The text of ``code`` with ``params`` in ``lang`` ("zh-CN" or "en")."""
    params = params or {}
    entry = catalogue().get(code)
    if entry is None or code == "enums":
        shown = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
        return f"{code}({shown})" if shown else code
    template = entry[_key(lang)]
    return _PLACEHOLDER.sub(lambda m: _format(params.get(m.group(1)), m.group(2), lang), template)


def render_reason(reason: Reason | Mapping[str, Any], lang: str = DEFAULT_LANGUAGE) -> str:
    if not isinstance(reason, Reason):
        reason = Reason.from_dict(reason)
    return render(reason.code, reason.params, lang)
