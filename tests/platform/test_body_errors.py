"""A body that is not JSON, or too large, gets a problem saying what and where."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.common.json import MAX_BODY_DEPTH
from tests.platform.test_errors import assert_problem

CANARY = "CANARY-note-text"
WERKZEUG_WORDING = "The browser (or proxy) sent a request that this server could not understand"


def post_login(client, body: bytes | str):
    return client.post("/api/v1/auth/login", data=body, content_type="application/json")


def assert_invalid_json(response) -> dict:
    problem = assert_problem(response, 400)
    assert problem["type"] == "urn:steady:problem:invalid-json"
    assert problem["detail"].startswith("The body is not valid JSON: ")
    assert WERKZEUG_WORDING not in response.get_data(as_text=True)
    return problem


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("{not json", "line 1, column 2 (character 1)"),
        ('{"email": "a@b.c",}', "line 1, column 19 (character 18)"),
        ('{\n  "email": "a@b.c"\n  "password": "x"\n}', "line 3, column 3 (character 23)"),
        ("[1, 2", "line 1, column 6 (character 5)"),
        ("   ", "line 1, column 4 (character 3)"),
        ('{"note": "' + CANARY, "line 1, column 10 (character 9)"),
    ],
)
def test_malformed_json_is_a_400_saying_where(client, body, where):
    problem = assert_invalid_json(post_login(client, body))
    assert problem["detail"].endswith(f" at {where}.")
    assert problem["errors"] == {
        "body": [problem["detail"].removeprefix("The body is not valid JSON: ")]
    }
    # The parser's message names the rule; nothing of the body comes back.
    assert CANARY not in problem["detail"]


def test_a_body_that_is_not_utf8_says_at_which_byte(client):
    problem = assert_invalid_json(post_login(client, b'{"email": "\xff"}'))
    assert problem["detail"] == "The body is not valid JSON: Invalid UTF-8 at byte 11."


def test_malformed_json_on_a_signed_in_route_is_the_same_400(client, factory):
    person = factory.patient()
    response = client.put(
        "/api/v1/checkins/2026-11-30",
        data='{"nausea": 1,, }',
        content_type="application/json",
        headers=person.headers,
    )
    assert_invalid_json(response)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    document=st.dictionaries(
        st.text(max_size=5), st.integers() | st.text(max_size=5) | st.lists(st.booleans())
    ),
    cut=st.integers(min_value=1),
)
def test_any_truncated_document_is_a_400_pointing_inside_it(client, document, cut):
    text = json.dumps(document, ensure_ascii=False)
    truncated = text[: max(1, cut % len(text))]
    problem = assert_invalid_json(post_login(client, truncated.encode()))
    offset = int(problem["detail"].rsplit("(character ", 1)[1].removesuffix(")."))
    assert 0 <= offset <= len(truncated)


def test_flask_get_json_answers_the_same_problems(app_factory):
    app = app_factory()

    @app.post("/echo")
    def echo():
        from flask import request

        return {"keys": sorted(request.get_json())}

    client = app.test_client()
    assert client.post("/echo", json={"b": 1, "a": 2}).json == {"keys": ["a", "b"]}
    assert_invalid_json(client.post("/echo", data="{oops", content_type="application/json"))
    deep = "[" * (MAX_BODY_DEPTH + 3) + "]" * (MAX_BODY_DEPTH + 3)
    problem = assert_problem(client.post("/echo", data=deep, content_type="application/json"), 422)
    assert "nested deeper" in problem["errors"]["body"][0]


@pytest.mark.parametrize("limit", [2_000, 10_000])
def test_the_413_states_the_configured_limit_in_bytes(app_factory, limit):
    client = app_factory(MAX_CONTENT_LENGTH=limit).test_client()
    body = {"email": "a@b.c", "password": "x" * limit}
    problem = assert_problem(client.post("/api/v1/auth/login", json=body), 413)
    assert problem["type"] == "urn:steady:problem:payload-too-large"
    assert problem["detail"] == f"The request body is larger than the limit of {limit} bytes."
