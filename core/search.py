"""What a search term asks for: a phone number, a customer id, or a name (full text)."""

from __future__ import annotations

import re
from enum import StrEnum

import phonenumbers

from core.errors import BadUserInput


class SearchMode(StrEnum):
    ALL = "all"
    ID = "id"
    PHONE = "phone"
    NAME = "name"


# digits as people type a number; read in the mainland unless it starts with +country code
PHONE_RE = re.compile(r"^\+?[\d\s()-]{7,24}$")
PHONE_REGION = "CN"
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
    if PHONE_RE.match(term):
        # phones are stored in E.164 (etl/normalise.phone_e164): the term is searched in it
        try:
            number = phonenumbers.parse(term, PHONE_REGION)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_valid_number(number):
            return SearchMode.PHONE, phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164
            )
    if ID_RE.match(term):
        return SearchMode.ID, term.upper()
    # A phrase query on the full-text index, special characters escaped.
    return SearchMode.NAME, '"' + LUCENE_SPECIAL.sub(r"\\\1", term) + '"'
