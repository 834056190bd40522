"""Alerts: what a relationship manager should act on, computed as of a date; dismissals."""
