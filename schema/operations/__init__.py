"""The operations domain: the audit trail (and later load runs)."""
