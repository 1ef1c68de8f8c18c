"""Counselor views of the patients who share with them."""
