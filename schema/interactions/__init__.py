"""Interactions: the timeline, follow-ups and complaints."""
