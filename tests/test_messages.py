"""Reason codes render in both languages from one code, and Accept-Language picks the language
the way browsers send it (the header strings below are Chromium's and Firefox's defaults)."""

from __future__ import annotations

import re

import pytest

from core.messages import _PLACEHOLDER, catalogue, negotiate, render, render_reason


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en-GB,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "en"),
        ("de;q=1.0, zh-Hans;q=0.5", "zh-CN"),
        ("zh;q=0.2, en;q=0.9", "en"),
        ("en;q=0", "zh-CN"),
        ("ja", "zh-CN"),
    ],
)
def test_accept_language(header: str | None, lang: str) -> None:
    assert negotiate(header) == lang


def test_every_code_renders_in_both_languages_with_every_placeholder_filled() -> None:
    """Each catalogue entry: both texts name the same placeholders, and rendering with them
    leaves no brace behind; the Chinese text has Chinese in it and the English text has none."""
    codes = [c for c in catalogue() if c != "enums"]
    for code in codes:
        entry = catalogue()[code]
        zh_names = {m.group(1) for m in _PLACEHOLDER.finditer(entry["zh"])}
        en_names = {m.group(1) for m in _PLACEHOLDER.finditer(entry["en"])}
        assert zh_names == en_names, code
        params = dict.fromkeys(zh_names, 12345)
        zh, en = render(code, params, "zh-CN"), render(code, params, "en")
        assert "{" not in zh and "{" not in en, code
        assert re.search(r"[\u4e00-\u9fff]", zh), (code, zh)
        assert not re.search(r"[\u4e00-\u9fff]", en), (code, en)


def test_unknown_code_renders_as_code_and_params() -> None:
    assert render("NOT_A_CODE", {"b": 2, "a": 1}, "en") == "NOT_A_CODE(a=1, b=2)"
    assert render_reason({"code": "NOT_A_CODE"}, "zh-CN") == "NOT_A_CODE"


def test_enum_values_are_translated_inside_messages() -> None:
    from core.messages import _format

    assert _format("CORE", "tier", "zh-CN") == "核心客户"
    assert _format("CORE", "tier", "en") == "CORE"
    assert _format(1891257.4, "money", "en") == "1,891,257"


@pytest.mark.graph
def test_api_answers_vary_by_accept_language(api, auth_header) -> None:
    """The same document answers in the caller's language, so a shared cache must key on it."""
    resp = api.post(
        "/graphql",
        json={"query": "{ me { subject } }"},
        headers={**auth_header("admin"), "Accept-Language": "en-US,en;q=0.9"},
    )
    assert resp.status_code == 200
    assert "accept-language" in resp.headers["vary"].lower()
