"""Crisis and treatment resource catalogue."""
