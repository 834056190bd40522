"""The identity domain: how source records became golden customers, and the stewards' review
queue and decisions."""
