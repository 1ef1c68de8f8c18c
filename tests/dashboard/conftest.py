"""Fixtures for the dashboard's tests: a cookie-keeping client and a small caseload."""

import pytest

from tests.dashboard.helpers import Dashboard


@pytest.fixture
def dashboard(app):
    """A second client (its own cookies) for the dashboard; `client` stays the phone."""
    return Dashboard(app.test_client())
