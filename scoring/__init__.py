"""The scoring job (``c360 score``): value, tier, downgrade and churn risk, recommendations.

A product of its own beside the ETL, reading what the load put in the graph: pure rules
(rules.py), their configuration (scoring.toml), the job that pages through the graph (job.py).
"""
