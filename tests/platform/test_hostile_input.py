"""Hostile bodies get a clear problem, never a 500, a traceback or a lost answer."""

import io
import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.common.json import (
    MAX_ARRAY_ITEMS,
    MAX_BODY_DEPTH,
    BodyShapeError,
    check_body_shape,
    loads_body,
)
from tests.platform.test_errors import assert_problem

DEEP_ARRAYS = b"[" * 30_000 + b"]" * 30_000  # the 60 KB body from the report
JSON_ENDPOINTS = [
    ("post", "/api/v1/auth/login", False),
    ("post", "/api/v1/auth/register", False),
    ("put", "/api/v1/checkins/2026-11-30", True),
    ("patch", "/api/v1/me", True),
    ("post", "/api/v1/shares", True),
]


def nested(depth: int) -> object:
    """A value `depth` containers deep: {"a": [{"a": [...]}]}."""
    value: object = 1
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


def depth_of(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


@pytest.mark.parametrize(("method", "path", "signed_in"), JSON_ENDPOINTS)
@pytest.mark.parametrize("body", [DEEP_ARRAYS[:60_000], json.dumps(nested(500)).encode()])
def test_deep_nesting_is_422_naming_the_rule_on_every_json_endpoint(
    client, factory, caplog, method, path, signed_in, body
):
    headers = factory.patient().headers if signed_in else {}
    with caplog.at_level(logging.INFO):
        response = getattr(client, method)(
            path, data=body, content_type="application/json", headers=headers
        )
    problem = assert_problem(response, 422)
    assert problem["errors"] == {
        "body": [f"JSON nested deeper than {MAX_BODY_DEPTH} levels is not accepted."]
    }
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text


def test_a_long_array_is_422_naming_the_rule(client, factory):
    patient = factory.patient()
    body = {"counselor_email": "c@example.org", "scope": ["checkins"] * (MAX_ARRAY_ITEMS + 1)}
    problem = assert_problem(
        client.post("/api/v1/shares", json=body, headers=patient.headers), 422
    )
    assert problem["errors"] == {
        "body": [f"JSON arrays longer than {MAX_ARRAY_ITEMS} items are not accepted."]
    }


def test_bodies_within_the_limits_still_work(client, factory):
    patient = factory.patient()
    body = {"nausea": 1, "aches": 2, "anxiety": 3, "insomnia": 4}
    response = client.put("/api/v1/checkins/2026-11-30", json=body, headers=patient.headers)
    assert response.status_code == 201, response.json


@settings(max_examples=200)
@given(
    st.recursive(
        st.integers() | st.text(max_size=3),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3)
        ),
        max_leaves=60,
    )
)
def test_shape_check_accepts_exactly_the_bodies_within_the_depth_limit(value):
    text = json.dumps(value)
    if depth_of(value) <= MAX_BODY_DEPTH:
        assert loads_body(text) == value
    else:
        with pytest.raises(BodyShapeError):
            loads_body(text)


@pytest.mark.parametrize("depth", [MAX_BODY_DEPTH - 1, MAX_BODY_DEPTH, MAX_BODY_DEPTH + 1])
def test_the_depth_limit_edge(depth):
    value = nested(depth)
    assert depth_of(value) == depth
    if depth <= MAX_BODY_DEPTH:
        check_body_shape(value)
    else:
        with pytest.raises(BodyShapeError):
            check_body_shape(value)


@pytest.mark.parametrize("items", [MAX_ARRAY_ITEMS, MAX_ARRAY_ITEMS + 1])
def test_the_array_limit_edge(items):
    if items <= MAX_ARRAY_ITEMS:
        check_body_shape({"a": [0] * items})
    else:
        with pytest.raises(BodyShapeError):
            check_body_shape({"a": [0] * items})


def test_an_oversized_chunked_body_is_413_not_invalid_json(client):
    body = json.dumps({"email": "a" * 100_000, "password": "x"}).encode()
    response = client.post(
        "/api/v1/auth/login",
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        # gunicorn marks a de-chunked body this way; werkzeug reads none without it.
        environ_overrides={"wsgi.input_terminated": True},
    )
    problem = assert_problem(response, 413)
    assert "65536 bytes" in problem["detail"]


def test_a_chunked_body_within_the_limit_is_read_whole(client, factory):
    patient = factory.patient()
    body = json.dumps({"nausea": 1, "aches": 2, "anxiety": 3, "insomnia": 4, "note": "n" * 2000})
    response = client.put(
        "/api/v1/checkins/2026-11-30",
        input_stream=io.BytesIO(body.encode()),
        headers={
            **patient.headers,
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 201, response.json
    assert response.json["note"] == "n" * 2000


def test_the_413_reads_the_rest_of_the_body_first(client):
    stream = io.BytesIO(b"{" + b" " * 1_000_000 + b"}")
    response = client.post(
        "/api/v1/auth/login",
        input_stream=stream,
        headers={"Content-Type": "application/json", "Content-Length": str(1_000_002)},
    )
    assert_problem(response, 413)
    # Everything the client sent was read, so it is listening when the answer comes.
    assert stream.tell() == 1_000_002
