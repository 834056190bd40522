"""The graph layer: driver, schema migration, named Cypher queries and the local server."""
