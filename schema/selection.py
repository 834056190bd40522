"""The fields a query asked for (for the audit trail), fragments included."""

from __future__ import annotations

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


def requested_fields(selections: list[Selection]) -> list[str]:
    """Names of the fields directly under the given selections (first level only)."""
    names: list[str] = []
    for selection in selections:
        if isinstance(selection, SelectedField):
            names.append(selection.name)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            names.extend(requested_fields(selection.selections))
    return sorted(set(names))


def fields_of_this_field(info) -> list[str]:
    """Sub-fields selected under the field being resolved."""
    return requested_fields(info.selected_fields[0].selections) if info.selected_fields else []
