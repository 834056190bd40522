"""Identity review queue and steward decisions: the Cypher the loader and the API share.

The loader writes uncertain pairs as ``IdentityReview`` nodes (:data:`UPSERT_REVIEWS`); data
stewards decide them through the API; a rejected pair or a split customer leaves ``NOT_SAME_AS``
between source records, which later loads read (:data:`NOT_SAME_AS_PAIRS`) and never merge.
"""

from __future__ import annotations

# rows: {review_id, a: [system, source_id], b: [system, source_id], match_weight, probability,
#        comparisons_json, run_id, created_at}; a decided review is never reopened
UPSERT_REVIEWS = """
UNWIND $rows AS row
MATCH (a:SourceRecord {system: row.a[0], source_id: row.a[1]})
MATCH (b:SourceRecord {system: row.b[0], source_id: row.b[1]})
MERGE (r:IdentityReview {review_id: row.review_id})
ON CREATE SET r.status = 'OPEN', r.created_at = row.created_at
WITH r, a, b, row
WHERE r.status = 'OPEN'
SET r.match_weight = row.match_weight, r.probability = row.probability,
    r.comparisons_json = row.comparisons_json, r.run_id = row.run_id
MERGE (r)-[:CANDIDATE]->(a)
MERGE (r)-[:CANDIDATE]->(b)
"""

# the pairs of source records a steward said are different people (either direction)
NOT_SAME_AS_PAIRS = """
MATCH (a:SourceRecord)-[:NOT_SAME_AS]->(b:SourceRecord)
RETURN a.system AS system_a, a.source_id AS source_id_a, b.system AS system_b,
       b.source_id AS source_id_b
"""
