"""What a search term asks for: a phone number, a customer id, or a name (full text)."""

from __future__ import annotations

import re
from enum import StrEnum

from core.errors import BadUserInput


class SearchMode(StrEnum):
    ALL = "all"
    ID = "id"
    PHONE = "phone"
    NAME = "name"


PHONE_RE = re.compile(r"^\+?(?:86)?[\s-]*(1[\d\s-]{10,14})$")
ID_RE = re.compile(r"^(?=[^\s]*\d)[A-Za-z][A-Za-z0-9_-]{3,40}$")  # letters first, a digit somewhere
LUCENE_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/&|])')
MAX_SEARCH = 50


def classify(search: str | None) -> tuple[SearchMode, str | None]:
    """Which search a term asks for: a phone number, a customer id, or a name."""
    if search is None or not search.strip():
        return SearchMode.ALL, None
    term = search.strip()
    if len(term) > MAX_SEARCH:
        raise BadUserInput(f"search must be at most {MAX_SEARCH} characters")
    phone = PHONE_RE.match(term)
    if phone:
        digits = re.sub(r"\D", "", phone.group(1))
        if len(digits) == 11:
            return SearchMode.PHONE, digits
    if ID_RE.match(term):
        return SearchMode.ID, term.upper()
    # A phrase query on the full-text index, special characters escaped.
    return SearchMode.NAME, '"' + LUCENE_SPECIAL.sub(r"\\\1", term) + '"'
