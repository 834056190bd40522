"""The SDL as a contract: compared with the previous release, every breaking, dangerous and
deprecating change must be the one schema/CHANGELOG.md documents; and nothing we ship (the console,
the README's examples) selects a deprecated field.

Each dated entry of the CHANGELOG (newest first) documents one release: the newest the current
SDL against the last saved release (schema/releases/<date>.graphql), each older one the release
saved under its date against the one saved before it. Cutting a release saves the current SDL
under the date of the entry that described it and starts a new entry on top."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    NoDeprecatedCustomRule,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    parse,
    validate,
)

import schema as api
from tests.test_cost_limit import _console_documents, _readme_documents

SCHEMA_DIR = Path(api.__file__).resolve().parent
RELEASES = sorted((SCHEMA_DIR / "releases").glob("*.graphql"))  # named by date: oldest first
CHANGELOG = SCHEMA_DIR / "CHANGELOG.md"
PREVIOUS_RELEASE = RELEASES[-1]


def _entries() -> list[tuple[str, str]]:
    """(date, text) of the CHANGELOG's dated entries, newest first."""
    entries = re.split(r"^## ", CHANGELOG.read_text(), flags=re.MULTILINE)[1:]
    assert entries, "schema/CHANGELOG.md has no dated entry"
    dated = [(e.split("\n", 1)[0].strip(), e) for e in entries]
    dates = [d for d, _ in dated]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in dates), dates
    assert dates == sorted(dates, reverse=True) and len(set(dates)) == len(dates), (
        "the newest entry comes first, one entry a release"
    )
    return dated


def _latest_entry() -> str:
    date, entry = _entries()[0]
    assert date > PREVIOUS_RELEASE.stem, "the newest entry is after the last saved release"
    return entry


def _releases() -> list[tuple[str, GraphQLSchema, GraphQLSchema, str]]:
    """(date, SDL before, SDL after, entry) of every release the CHANGELOG documents and that
    has a saved release before it: the newest against the current SDL."""
    current = (SCHEMA_DIR / "schema.graphql").read_text()
    assert current == api.sdl(), "schema/schema.graphql is stale: run c360 export-schema"
    saved = {p.stem: p.read_text() for p in RELEASES}
    out = []
    for k, (date, entry) in enumerate(_entries()):
        if k >= len(RELEASES):
            break
        after = current if k == 0 else saved.get(date)
        assert after is not None, f"the release of {date} is not saved in schema/releases/"
        before = RELEASES[-1 - k]
        assert before.stem < date, (before.stem, date)
        out.append((date, build_schema(before.read_text()), build_schema(after), entry))
    return out


def _listed(entry: str, heading: str) -> set[str]:
    """The items under ``### heading`` ("- none" is the empty list)."""
    found = re.search(rf"^### {heading}\n(.*?)(?=^### |\Z)", entry, re.MULTILINE | re.DOTALL)
    assert found, f"the entry has no '### {heading}' list"
    items = {line[2:].strip() for line in found[1].splitlines() if line.startswith("- ")}
    return set() if items == {"none"} else items


def _documented_deprecations(entry: str) -> set[str]:
    """The field coordinates in the first column of the deprecation table."""
    rows = re.findall(r"^\| (`[^|]*) \|", entry, re.MULTILINE)
    return {c for row in rows for c in re.findall(r"`([A-Za-z]+\.[A-Za-z]+)`", row)}


def _deprecated(sdl: GraphQLSchema) -> set[str]:
    return {
        f"{name}.{field_name}"
        for name, type_ in sdl.type_map.items()
        if isinstance(type_, GraphQLObjectType) and not name.startswith("__")
        for field_name, field in type_.fields.items()
        if field.deprecation_reason is not None
    }


def _change(change) -> str:
    return f"{change.type.name}: {change.description}"


def _sdls() -> tuple[GraphQLSchema, GraphQLSchema]:
    current = (SCHEMA_DIR / "schema.graphql").read_text()
    assert current == api.sdl(), "schema/schema.graphql is stale: run c360 export-schema"
    return build_schema(PREVIOUS_RELEASE.read_text()), build_schema(current)


def test_every_release_is_compared_and_the_newest_against_the_current_sdl():
    releases = _releases()
    assert releases[0][0] == _entries()[0][0] and len(releases) == len(RELEASES)
    _latest_entry()


def test_breaking_and_dangerous_changes_are_the_documented_ones():
    for date, previous, current, entry in _releases():
        assert {_change(c) for c in find_breaking_changes(previous, current)} == _listed(
            entry, "Breaking changes"
        ), date
        assert {_change(c) for c in find_dangerous_changes(previous, current)} == _listed(
            entry, "Dangerous changes"
        ), date


def test_every_new_deprecation_is_in_the_changelog_with_its_replacement():
    seen = 0
    for date, previous, current, entry in _releases():
        newly = _deprecated(current) - _deprecated(previous)
        seen += len(newly)
        assert newly == _documented_deprecations(entry), date
        for coordinate in newly:  # and the schema itself says what to select instead
            type_name, field_name = coordinate.split(".")
            field = current.type_map[type_name].fields[field_name]  # type: ignore[attr-defined]
            assert re.search(r"[Ss]elect ", field.deprecation_reason), coordinate
    assert seen, "releases deprecated fields: the comparison must see them"


def test_a_removed_field_would_fail_the_comparison():
    """The check is not blind: dropping a field from the current SDL is a breaking change the
    CHANGELOG does not list."""
    previous, _ = _sdls()
    trimmed = (SCHEMA_DIR / "schema.graphql").read_text().replace("  productCode: String\n", "", 1)
    changes = {_change(c) for c in find_breaking_changes(previous, build_schema(trimmed))}
    assert changes == {"FIELD_REMOVED: Field Account.productCode was removed."}
    assert not changes <= _listed(_latest_entry(), "Breaking changes")


SHIPPED = {**_console_documents(), **_readme_documents()}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_what_we_ship_selects_no_deprecated_field(name):
    _, current = _sdls()
    errors = validate(current, parse(SHIPPED[name]), [NoDeprecatedCustomRule])
    assert not errors, [e.message for e in errors]


def test_the_shipped_documents_are_found():
    assert any(n.startswith("console") for n in SHIPPED)
    assert any(n.startswith("README") for n in SHIPPED)
