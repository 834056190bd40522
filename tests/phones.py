"""Phones as the leak tests look for them: stored in E.164, leaked in any spelling."""

from __future__ import annotations

import phonenumbers


def national_number(e164: str) -> str:
    """``+8613812345678`` → ``13812345678``: the digits a leak shows with or without the country
    code (a substring of the E.164 form, so banning it catches both)."""
    return phonenumbers.national_significant_number(phonenumbers.parse(e164, None))
