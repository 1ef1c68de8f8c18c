"""Where the hot path finds the settings that were validated and built at start-up."""

from flask import current_app


def settings():
    """Return the app's ``server.Settings`` (thresholds, trend rules, locator, limits...)."""
    return current_app.extensions["steady.settings"]
