"""Validated withdrawal instruments: definitions, scoring, responses and observations."""
