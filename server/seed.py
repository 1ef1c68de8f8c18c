"""Reference data that ships with the app (loaded by migrations, tests and the CLI)."""

from server.extensions import db
from server.resources.service import sync_catalogue


def load_reference_data() -> None:
    """Insert or refresh the shipped resource catalogue."""
    with db.engine.begin() as connection:
        sync_catalogue(connection)
