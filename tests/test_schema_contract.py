"""The SDL as a contract: compared with the previous release, every breaking, dangerous and
deprecating change must be the one schema/CHANGELOG.md documents; and nothing we ship (the console,
the README's examples) selects a deprecated field."""

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
PREVIOUS_RELEASE = SCHEMA_DIR / "releases" / "2026-11-29.graphql"
CHANGELOG = SCHEMA_DIR / "CHANGELOG.md"


def _latest_entry() -> str:
    entries = re.split(r"^## ", CHANGELOG.read_text(), flags=re.MULTILINE)[1:]
    assert entries, "schema/CHANGELOG.md has no dated entry"
    assert entries[0].startswith("2026-11-30"), "the newest entry comes first"
    return entries[0]


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


def test_breaking_and_dangerous_changes_are_the_documented_ones():
    previous, current = _sdls()
    entry = _latest_entry()
    assert {_change(c) for c in find_breaking_changes(previous, current)} == _listed(
        entry, "Breaking changes"
    )
    assert {_change(c) for c in find_dangerous_changes(previous, current)} == _listed(
        entry, "Dangerous changes"
    )


def test_every_new_deprecation_is_in_the_changelog_with_its_replacement():
    previous, current = _sdls()
    newly = _deprecated(current) - _deprecated(previous)
    assert newly, "this release deprecates fields: the comparison must see them"
    assert newly == _documented_deprecations(_latest_entry())
    for coordinate in newly:  # and the schema itself says what to select instead
        type_name, field_name = coordinate.split(".")
        field = current.type_map[type_name].fields[field_name]  # type: ignore[attr-defined]
        assert re.search(r"[Ss]elect ", field.deprecation_reason), coordinate


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
