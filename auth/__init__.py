"""Authentication (JWT), role policy, masking and audit."""
