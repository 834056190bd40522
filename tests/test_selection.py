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
    # aum comes from the accounts (with their FX rates, read only then)
    assert parts_for(names) == {"accounts", "aum_of_accounts", "household"}
    assert parts_for(["accounts", "id"]) == {"accounts"}
    assert parts_for(["aum", "id"]) == {"computed_aum"}
    assert names_under([op.selection_set], fragments, ("nothing",)) == []


def test_temporal_text_from_cypher_reads_like_the_driver_values():
    import datetime as dt

    from schema.scalars import to_date, to_datetime

    utc = dt.UTC
    assert to_datetime("2026-11-23T08:00Z") == dt.datetime(2026, 11, 23, 8, tzinfo=utc)
    assert to_datetime("2026-11-23T08:00:01.123456789+08:00") == dt.datetime(
        2026, 11, 23, 0, 0, 1, 123456, tzinfo=utc
    )
    assert to_datetime("2026-11-23T08:00+08:00[Asia/Shanghai]") == dt.datetime(
        2026, 11, 23, 0, tzinfo=utc
    )
    assert to_datetime("2026-11-23") == dt.datetime(2026, 11, 23, tzinfo=utc)
    assert to_date("2026-11-23T23:59:59Z") == dt.date(2026, 11, 23)
    assert to_date(None) is None and to_datetime(None) is None


def test_accounts_read_their_fx_rates_only_for_the_aum():
    """An account's FX rate is a subquery per account: read only when the AUM is summed from
    the accounts (aum selected with them), and then each account carries it."""
    from graph.queries.customers import details, parts_for, row
    from graph.queries.scope import ScopeKind

    for scope in ScopeKind:
        plain = details(parts_for(["accounts", "id"]), scope)
        with_aum = details(parts_for(["accounts", "aum"]), scope)
        assert "FxRate" not in plain and "fx_rate" not in plain
        assert "FxRate" in with_aum and "fx_rate: fx_rate" in with_aum
    assert "computed_aum" not in row(parts_for(["accounts"]))
    assert "computed_aum" in row(parts_for(["accounts", "aum"]))
