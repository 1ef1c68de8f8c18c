"""Withdrawal episodes: when a person's withdrawal started, from what, and on which medicine."""
