"""Test and demo helpers for the crawlers (a local site serving pages in the real formats)."""
