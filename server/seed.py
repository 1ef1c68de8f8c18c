"""Reference data that ships with the app (loaded by migrations and tests)."""


def load_reference_data() -> None:
    """Insert or refresh shipped reference data; nothing yet."""
