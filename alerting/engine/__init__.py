"""Incident engine: grouping (grouping), heat and severity (heat), stages (stages), the 12-hour
clock (clock); ``core.handle_posts`` and ``core.tick`` are the entry points."""
