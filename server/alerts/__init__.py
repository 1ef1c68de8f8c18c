"""Alerts for counselors when a sharing patient's day looks worse."""
