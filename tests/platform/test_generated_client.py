"""A client generated from openapi.yaml by a third-party generator works as it comes.

openapi-python-client (pinned in requirements-dev.txt, offline: it reads the file) turns
the committed spec into a package, as a mobile team's generator would; the test imports
it and drives the API over real HTTP with its models and functions, never raw dicts. A
spec that stops generating cleanly, or that describes the API wrongly, fails here.
"""

import importlib
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from openapi_python_client import generate
from openapi_python_client.config import Config, ConfigFile, MetaType
from werkzeug.serving import WSGIRequestHandler, make_server

SPEC_PATH = Path(__file__).parents[2] / "openapi.yaml"
PACKAGE = "steady_client"
# No formatting hooks (cosmetic); and the charts' image types read as bytes, because this
# generator knows only application/octet-stream as binary. Nothing else is configured.
GENERATOR_SETTINGS = ConfigFile(
    post_hooks=[],
    content_type_overrides={
        "image/png": "application/octet-stream",
        "image/svg+xml": "application/octet-stream",
    },
)
PASSWORD = "a long enough passphrase"


@pytest.fixture(scope="module")
def steady_client(tmp_path_factory):
    """The generated package, imported; generation must report no error or warning."""
    output = tmp_path_factory.mktemp("generated") / PACKAGE
    config = Config.from_sources(
        GENERATOR_SETTINGS, MetaType.NONE, SPEC_PATH, "utf-8", overwrite=True, output_path=output
    )
    reported = generate(config=config)
    assert [f"{error.level}: {error.header} {error.detail}" for error in reported] == []
    sys.path.insert(0, str(output.parent))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(output.parent))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


class _QuietHandler(WSGIRequestHandler):
    """No access lines: they would carry query strings."""

    def log_request(self, *_args, **_kwargs):
        pass


@pytest.fixture
def base_url(app):
    """The app served over HTTP on a free local port for the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def test_register_log_in_put_four_scores_read_back_and_refresh(steady_client, base_url):
    from steady_client import AuthenticatedClient, Client
    from steady_client.api.accounts import get_api_v1_me
    from steady_client.api.auth import (
        post_api_v1_auth_login,
        post_api_v1_auth_refresh,
        post_api_v1_auth_register,
    )
    from steady_client.api.checkins import (
        get_api_v1_checkins,
        get_api_v1_checkins_date,
        put_api_v1_checkins_date,
    )
    from steady_client.models import (
        Checkin,
        CheckinInput,
        CheckinPage,
        Level,
        Login,
        RegionCode,
        Register,
        Role,
        SavedCheckin,
        TimeZone,
        TokenPair,
        User,
    )

    email = "sam@example.org"
    day = date.today() - timedelta(days=1)  # yesterday here is never tomorrow in Dublin
    with Client(base_url=base_url, raise_on_unexpected_status=True) as anonymous:
        account = post_api_v1_auth_register.sync(
            client=anonymous,
            body=Register(
                email=email,
                password=PASSWORD,
                role=Role.PATIENT,
                display_name="Sam",
                timezone=TimeZone.EUROPE_DUBLIN,
            ),
        )
        assert isinstance(account, User)
        assert (account.role, account.timezone) == (Role.PATIENT, TimeZone.EUROPE_DUBLIN)
        tokens = post_api_v1_auth_login.sync(
            client=anonymous, body=Login(email=email, password=PASSWORD)
        )
        assert isinstance(tokens, TokenPair)

    with AuthenticatedClient(base_url=base_url, token=tokens.access_token) as phone:
        # Only the four core scores: every optional field stays unset and is not sent.
        scores = CheckinInput(nausea=3, aches=2, anxiety=4, insomnia=1)
        assert scores.to_dict() == {"nausea": 3, "aches": 2, "anxiety": 4, "insomnia": 1}
        created = put_api_v1_checkins_date.sync_detailed(date=day, client=phone, body=scores)
        assert created.status_code == 201
        saved = created.parsed
        assert isinstance(saved, SavedCheckin)
        assert (saved.date, saved.total, saved.cravings, saved.note) == (day, 10, None, None)
        assert isinstance(saved.assessment.level, Level)

        fetched = get_api_v1_checkins_date.sync_detailed(date=day, client=phone)
        assert fetched.headers["ETag"] == created.headers["ETag"]
        assert isinstance(fetched.parsed, Checkin)
        assert (fetched.parsed.nausea, fetched.parsed.sleep_hours) == (3, None)

        listed = get_api_v1_checkins.sync_detailed(client=phone, page_size=10)
        assert isinstance(listed.parsed, CheckinPage)
        assert [item.date for item in listed.parsed.items] == [day]
        assert (listed.parsed.total_items, listed.parsed.total_pages) == (1, 1)
        assert 'rel="first"' in listed.headers["Link"]

    with AuthenticatedClient(base_url=base_url, token=tokens.refresh_token) as refreshing:
        renewed = post_api_v1_auth_refresh.sync(client=refreshing)
        assert isinstance(renewed, TokenPair)
        assert renewed.refresh_token != tokens.refresh_token

    with AuthenticatedClient(base_url=base_url, token=renewed.access_token) as phone:
        me = get_api_v1_me.sync(client=phone)
        assert isinstance(me, User)
        assert (me.email, me.region) == (email, RegionCode.US)


def test_errors_arrive_as_the_generated_problem_model(steady_client, base_url):
    from steady_client import Client
    from steady_client.api.auth import post_api_v1_auth_login
    from steady_client.models import Login, Problem

    with Client(base_url=base_url) as anonymous:
        refused = post_api_v1_auth_login.sync_detailed(
            client=anonymous, body=Login(email="nobody@example.org", password="not it at all")
        )
    assert refused.status_code == 401
    assert isinstance(refused.parsed, Problem)
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.parsed.status == 401
    assert refused.parsed.type_ == "urn:steady:problem:unauthorized"
