"""Value and risk scoring: pure rules (rules.py), their configuration (scoring.toml), the job (job.py)."""
