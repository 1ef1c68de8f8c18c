"""Patient-controlled sharing with counselors (consent)."""
