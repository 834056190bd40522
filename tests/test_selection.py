"""Which fields a GraphQL selection names, and the profile parts they need (pure)."""

from __future__ import annotations


def test_selected_names_follow_fragments_and_paths():
    from graphql import parse

    from graph.queries.customers import parts_for
    from schema.selection import names_under

    doc = parse(
        """query { customers { edges { node { id ...F ... on Customer { accounts { id } } } } } }
        fragment F on Customer { aum household { id } }"""
    )
    op = doc.definitions[0]
    fragments = {d.name.value: d for d in doc.definitions[1:]}
    names = names_under([op.selection_set], fragments, ("customers", "edges", "node"))
    assert names == ["accounts", "aum", "household", "id"]
    assert parts_for(names) == {"accounts", "household"}  # aum comes from the accounts
    assert parts_for(["aum", "id"]) == {"computed_aum"}
    assert names_under([op.selection_set], fragments, ("nothing",)) == []
