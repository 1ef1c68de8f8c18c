"""Every error is application/problem+json with a stable shape and no internals."""

import os

import pytest
from werkzeug.exceptions import default_exceptions

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response, status):
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    body = response.json
    assert PROBLEM_KEYS <= set(body)
    assert body["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_unknown_route_is_404_problem(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404)


def test_wrong_method_is_405_with_allow(client):
    response = client.post("/api/v1/me")
    body = assert_problem(response, 405)
    assert body["type"] == "about:blank"
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "PATCH", "DELETE"}


def test_oversized_body_is_413(client, factory):
    person = factory.patient()
    huge = {"nausea": 1, "aches": 1, "anxiety": 1, "insomnia": 1, "note": "x" * 100_000}
    assert_problem(
        client.put("/api/v1/checkins/2024-01-01", json=huge, headers=person.headers), 413
    )


def test_non_json_body_is_415(client, factory):
    person = factory.patient()
    response = client.put(
        "/api/v1/checkins/2024-01-01",
        data="nausea=1",
        content_type="application/x-www-form-urlencoded",
        headers=person.headers,
    )
    assert_problem(response, 415)


def test_validation_problem_names_field_and_rule(client):
    body = assert_problem(client.post("/api/v1/auth/login", json={"email": "a@b.c"}), 422)
    assert body["type"] == "urn:steady:problem:validation-error"
    assert body["errors"] == {"password": ["Missing data for required field."]}


def test_unexpected_exception_is_a_generic_500(app_factory, caplog):
    app = app_factory()

    @app.get("/boom")
    def boom():
        from flask import request

        raise RuntimeError(request.args["note"])

    body = assert_problem(app.test_client().get("/boom?note=secret+note+text"), 500)
    assert "secret note text" not in str(body)
    assert "RuntimeError" not in str(body)
    assert "secret note text" not in caplog.text


@pytest.mark.parametrize("status", sorted(code for code in default_exceptions if code >= 400))
def test_every_werkzeug_error_becomes_a_problem(app_factory, status):
    from flask import abort

    app = app_factory()

    @app.get("/fail")
    def fail():
        abort(status)

    assert_problem(app.test_client().get("/fail"), status)


def test_readyz_reports_database_down(app_factory):
    healthy = app_factory().test_client()
    redis = "ok" if os.environ.get("REDIS_URL") else "off"
    assert healthy.get("/readyz").json == {"status": "ok", "database": "ok", "redis": redis}
    assert healthy.get("/healthz").json == {"status": "ok"}
    broken = app_factory(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none")
    problem = assert_problem(broken.test_client().get("/readyz"), 503)
    assert problem["database"] == "unavailable"
    assert broken.test_client().get("/healthz").status_code == 200


def test_database_outage_mid_request_is_503_not_500(app_factory):
    broken = app_factory(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = broken.test_client().post(
        "/api/v1/auth/login", json={"email": "a@example.org", "password": "whatever"}
    )
    body = assert_problem(response, 503)
    assert "psycopg" not in str(body).lower()
    assert response.headers["Retry-After"]


def test_nul_characters_are_422_not_a_database_error(client, factory):
    person = factory.patient()
    body = {"nausea": 1, "aches": 1, "anxiety": 1, "insomnia": 1, "note": "bad\x00byte"}
    response = client.put("/api/v1/checkins/2024-01-01", json=body, headers=person.headers)
    nul_rule = ["Must not contain NUL characters."]
    assert assert_problem(response, 422)["errors"] == {"note": nul_rule}
    login = client.post("/api/v1/auth/login", json={"email": "a\x00@b.c", "password": "x"})
    assert assert_problem(login, 422)["errors"] == {"email": nul_rule}


def test_lone_surrogates_are_stored_as_replacement_characters(client, factory):
    person = factory.patient()
    note = r'"ok \udb4e \ud83d\ude23"'
    raw = '{"nausea": 1, "aches": 1, "anxiety": 1, "insomnia": 1, "note": ' + note + "}"
    response = client.put(
        "/api/v1/checkins/2024-01-01",
        data=raw,
        content_type="application/json",
        headers=person.headers,
    )
    assert response.status_code == 201
    assert response.json["note"] == "ok \ufffd \U0001f623"


def test_missing_body_is_422(client):
    response = client.post("/api/v1/auth/login")
    assert assert_problem(response, 422)["errors"] == {
        "body": ["A JSON request body is required."]
    }
