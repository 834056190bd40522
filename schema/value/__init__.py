"""Value and risk: what the scoring job stored, explained."""
