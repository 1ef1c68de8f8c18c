"""Symptom trend aggregation and chart rendering."""
