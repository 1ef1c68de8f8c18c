"""openapi.yaml is valid, equals what the code generates, and covers every route."""

from pathlib import Path

import yaml
from openapi_spec_validator import validate

SPEC_PATH = Path(__file__).parents[2] / "openapi.yaml"
UNDOCUMENTED = {"/api/v1/openapi.json", "/api/v1/docs"}


def committed_spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


def test_committed_spec_is_valid_openapi():
    validate(committed_spec())


def test_committed_spec_matches_the_code(app):
    generated = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    assert generated == committed_spec(), (
        "openapi.yaml is stale: run `flask --app wsgi openapi write --format=yaml openapi.yaml`"
    )


def test_every_route_is_in_the_spec_and_back(app):
    spec_operations = {
        (path, method.upper())
        for path, item in committed_spec()["paths"].items()
        for method in item
        if method in {"get", "put", "post", "patch", "delete"}
    }
    route_operations = set()
    for rule in app.url_map.iter_rules():
        if rule.rule in UNDOCUMENTED:
            continue
        if rule.endpoint.startswith("dashboard."):
            continue  # the counselor dashboard's web pages are not API operations
        path = (
            rule.rule.replace("<day:", "{")
            .replace("<uuid:", "{")
            .replace("<", "{")
            .replace(">", "}")
        )
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            route_operations.add((path, method))
    assert route_operations == spec_operations


def test_every_error_response_is_problem_json():
    spec = committed_spec()
    for name, response in spec["components"]["responses"].items():
        for media_type in response.get("content", {}):
            assert media_type == "application/problem+json", name


def test_spec_is_served_with_docs(client):
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.json["paths"].keys() == committed_spec()["paths"].keys()
    assert client.get("/api/v1/docs").status_code == 200
