"""The complaint taxonomy (category, cause type, cause subtype), read from a TOML file.

A complaint is resolved with a category and a cause from here; the file is configuration
(``COMPLAINT_TAXONOMY_FILE``, default core/complaint_taxonomy.toml), read once per path. A file
that does not parse or names a cause it does not define is refused with the file and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.errors import BadUserInput


@dataclass(frozen=True)
class Cause:
    type: str
    label: str
    label_en: str
    subtypes: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    label_en: str
    causes: tuple[Cause, ...]


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def check(self, category: str, cause_type: str, cause_subtype: str | None) -> None:
        """BAD_USER_INPUT naming the argument that the taxonomy does not have."""
        found = self.category(category)
        if found is None:
            codes = ", ".join(c.code for c in self.categories)
            raise BadUserInput(f"category {category!r} is not in the taxonomy ({codes})")
        cause = next((c for c in found.causes if c.type == cause_type), None)
        if cause is None:
            types = ", ".join(c.type for c in found.causes)
            raise BadUserInput(
                f"causeType {cause_type!r} is not a cause of category {category} ({types})"
            )
        if cause_subtype is not None and cause_subtype not in cause.subtypes:
            raise BadUserInput(
                f"causeSubtype {cause_subtype!r} is not a subtype of {cause_type} "
                f"({', '.join(cause.subtypes)})"
            )


class TaxonomyFileError(ValueError):
    pass


@lru_cache(maxsize=4)
def load_taxonomy(path: Path) -> Taxonomy:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TaxonomyFileError(f"{path}: cannot read the complaint taxonomy: {exc}") from exc
    try:
        causes = {
            name: Cause(name, str(c["label"]), str(c["label_en"]), tuple(c["subtypes"]))
            for name, c in raw["causes"].items()
        }
        categories = []
        for code, c in raw["categories"].items():
            unknown = [t for t in c["causes"] if t not in causes]
            if unknown:
                raise TaxonomyFileError(
                    f"{path}: categories.{code}.causes names undefined causes {unknown}"
                )
            categories.append(
                Category(
                    code, str(c["label"]), str(c["label_en"]), tuple(causes[t] for t in c["causes"])
                )  # fmt: skip
            )
    except KeyError as exc:
        raise TaxonomyFileError(f"{path}: missing key {exc}") from exc
    return Taxonomy(tuple(categories))
