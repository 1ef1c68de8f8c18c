"""Rule-based judgement of how a single day's check-in looks."""
