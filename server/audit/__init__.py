"""Append-only record of who saw or changed what of a patient's data."""
