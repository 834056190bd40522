"""The fields a query asked for (for the audit trail and to fetch only what is asked), fragments
included.

Read from the parsed document (graphql-core's AST) rather than strawberry's ``selected_fields``,
which converts the whole sub-tree with its directives on every call: a measurable share of a
profile request. ``@skip``/``@include`` are not evaluated, so the answer is a superset: the audit
names a field the caller wrote, and a query may fetch a part it then does not show.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.values import VariableValues, get_argument_values

Fragments = dict[str, FragmentDefinitionNode]


def _fields(sets: Iterable[SelectionSetNode | None], fragments: Fragments) -> list[FieldNode]:
    """The field nodes directly under the selection sets, through fragments."""
    out: list[FieldNode] = []
    for selection_set in sets:
        if selection_set is None:
            continue
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                out.append(sel)
            elif isinstance(sel, InlineFragmentNode):
                out.extend(_fields([sel.selection_set], fragments))
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value in fragments:
                out.extend(_fields([fragments[sel.name.value].selection_set], fragments))
    return out


def names_under(
    sets: Iterable[SelectionSetNode | None], fragments: Fragments, path: tuple[str, ...] = ()
) -> list[str]:
    """Sorted names of the fields under ``path`` (field names, e.g. ``("edges", "node")``)."""
    for name in path:
        sets = [f.selection_set for f in _fields(sets, fragments) if f.name.value == name]
    return sorted({f.name.value for f in _fields(sets, fragments)})


def _under(info, path: tuple[str, ...]) -> list[str]:
    raw = info._raw_info  # graphql-core's resolve info: the field's nodes and the fragments
    return names_under([n.selection_set for n in raw.field_nodes], raw.fragments, path)


def fields_of_this_field(info) -> list[str]:
    """Sub-fields selected under the field being resolved."""
    return _under(info, ())


def fields_of_nodes(info, *inner: str) -> list[str]:
    """Fields selected on the nodes of the connection being resolved: ``edges { node { ... } }``
    and ``nodes { ... }``; with ``inner`` (e.g. ``"customer"``), under that field of the nodes."""
    return sorted({*_under(info, ("edges", "node", *inner)), *_under(info, ("nodes", *inner))})


def account_fields(info) -> list[str]:
    """The Account fields a Customer selection shows: under ``accounts``, under ``holdings {
    account }``, and ``holderRole`` for ``holdings { role }``."""
    holdings = _under(info, ("holdings",))
    return sorted(
        {
            *_under(info, ("accounts",)),
            *_under(info, ("holdings", "account")),
            *(["holderRole"] if "role" in holdings else []),
        }
    )


# Where a page's items are, per page field: a Relay connection's edges' nodes and nodes, or the
# deprecated connections' items.
ITEM_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "timeline": (("edges", "node"), ("nodes",)),
    "interactions": (("items",),),
}


def item_fields(info) -> list[str]:
    """Fields selected on the items of the page being resolved (the field's ITEM_PATHS)."""
    return sorted({f for path in ITEM_PATHS[info.field_name] for f in _under(info, path)})


def first_page_wanted(info, names: tuple[str, ...]) -> tuple[dict[str, Any], list[str]] | None:
    """For the page sub-field named in ``names`` (e.g. a customer's ``timeline``): its arguments
    and the fields selected on its items (ITEM_PATHS), when the selection asks for exactly one
    such field and for its first page unfiltered (no argument but ``first``, literal or
    variable, defaults applied); None otherwise."""
    raw = info._raw_info
    nodes = [
        f
        for f in _fields([n.selection_set for n in raw.field_nodes], raw.fragments)
        if f.name.value in names
    ]
    if len(nodes) != 1:
        return None
    [node] = nodes
    parent = get_named_type(raw.return_type)
    definition = getattr(parent, "fields", {}).get(node.name.value)
    if definition is None:
        return None
    variables = raw.variable_values  # strawberry hands the coerced values as a plain dict
    if isinstance(variables, dict):
        variables = VariableValues(sources={}, coerced=variables)
    try:
        args = get_argument_values(definition, node, variables)
    except GraphQLError:  # the field's own resolution names the problem
        return None
    if any(value is not None for name, value in args.items() if name != "first"):
        return None
    paths = ITEM_PATHS[node.name.value]
    fields = {f for path in paths for f in names_under([node.selection_set], raw.fragments, path)}
    return args, sorted(fields)
