from __future__ import annotations

import pytest
from neo4j import RoutingControl
from neo4j.exceptions import ConstraintError

from graph import migrate


def test_migration_twice_leaves_the_same_schema(clean_graph, settings):
    db = settings.neo4j_database
    first = migrate.describe(clean_graph, database=db)
    migrate.apply(clean_graph, database=db)
    second = migrate.describe(clean_graph, database=db)
    assert first == second
    expected_constraints = {name for name, _, _ in migrate.UNIQUE_KEYS}
    assert expected_constraints <= set(first["constraints"])
    expected_indexes = {
        n
        for n, _, _ in (
            *migrate.PROPERTY_INDEXES,
            *migrate.COMPOSITE_INDEXES,
            *migrate.FULLTEXT_INDEXES,
        )
    }
    assert expected_indexes <= set(first["indexes"])


def test_every_label_of_the_model_has_a_unique_key():
    labels = {label for _, label, _ in migrate.UNIQUE_KEYS}
    assert {
        "Customer",
        "SourceRecord",
        "Account",
        "Product",
        "Household",
        "Interaction",
        "Employee",
        "Branch",
        "LoadRun",
        "IdentityReview",
    } <= labels


@pytest.mark.parametrize(
    ("create", "params"),
    [
        ("CREATE (:Customer {customer_id: $id})", {"id": "DUP1"}),
        ("CREATE (:Account {account_id: $id})", {"id": "DUP1"}),
        ("CREATE (:SourceRecord {system: 'core', source_id: $id})", {"id": "DUP1"}),
        ("CREATE (:IdentityReview {review_id: $id, status: 'OPEN'})", {"id": "0123456789abcdef"}),
    ],
)
def test_a_duplicate_key_is_refused_by_the_database(clean_graph, settings, create, params):
    db = settings.neo4j_database
    clean_graph.execute_query(create, params, database_=db, routing_control=RoutingControl.WRITE)
    with pytest.raises(ConstraintError):
        clean_graph.execute_query(
            create, params, database_=db, routing_control=RoutingControl.WRITE
        )
