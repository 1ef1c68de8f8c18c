"""Small helpers shared by features (no feature imports)."""
