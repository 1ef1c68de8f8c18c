"""Email addresses as Steady stores and compares them."""


def normalise_email(email: str) -> str:
    """Lower-case and trim, so uniqueness and look-ups ignore case on every database."""
    return email.strip().lower()
