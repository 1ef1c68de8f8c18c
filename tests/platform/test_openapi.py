"""openapi.yaml is valid, equals what the code generates, and covers every route."""

from pathlib import Path

import yaml
from openapi_spec_validator import validate

SPEC_PATH = Path(__file__).parents[2] / "openapi.yaml"
UNDOCUMENTED = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/static/<path:filename>"}


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


# --- What code generators need (openapi-typescript, openapi-python-client, ...) ----------

# Response fields that may be left out, and why; every other response field is required.
OPTIONAL_RESPONSE_FIELDS = {
    ("Checkin", "note"): "left out when a counselor's share hides notes",
    ("Problem", "instance"): "RFC 9457 optional member",
    ("Problem", "request_id"): "only once a request id was assigned",
    ("Problem", "errors"): "only on validation errors",
    ("BatchResult", "checkin"): "only on 200 and 201 results",
    ("BatchResult", "problem"): "only on 412 and 422 results",
    ("Change", "checkin"): "not on tombstones",
    ("Change", "etag"): "not on tombstones",
}
# Field names that always come from a vocabulary, so generated clients get an enum type.
VOCABULARY_FIELDS = {"level", "kind", "action", "scope", "status", "role", "timezone", "region"}


def _references(node, found: set[str]) -> set[str]:
    """Names of the component schemas a part of the spec refers to."""
    if isinstance(node, dict):
        if "$ref" in node:
            found.add(node["$ref"].rsplit("/", 1)[-1])
        for value in node.values():
            _references(value, found)
    elif isinstance(node, list):
        for value in node:
            _references(value, found)
    return found


def _reachable(spec: dict, names: set[str]) -> set[str]:
    """The schemas named, and every schema they refer to."""
    schemas, seen, todo = spec["components"]["schemas"], set(), list(names)
    while todo:
        name = todo.pop()
        if name not in seen and name in schemas:
            seen.add(name)
            todo.extend(_references(schemas[name], set()))
    return seen


def _operations(spec: dict):
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method in {"get", "put", "post", "patch", "delete"}:
                yield operation


def _request_schemas(spec: dict) -> set[str]:
    names = set()
    for operation in _operations(spec):
        _references(operation.get("requestBody", {}), names)
    return _reachable(spec, names)


def _response_schemas(spec: dict) -> set[str]:
    names = set()
    for operation in _operations(spec):
        _references(operation["responses"], names)
    _references(spec["components"]["responses"], names)
    return _reachable(spec, names)


def _walk(node, where: str = ""):
    """Every (location, mapping) in a part of the spec."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def _enum_of(spec: dict, prop: dict) -> list | None:
    """The values a property may take, through references, allOf and array items."""
    if "items" in prop:
        return _enum_of(spec, prop["items"])
    if "allOf" in prop:
        return _enum_of(spec, prop["allOf"][0])
    if "$ref" in prop:
        return _enum_of(spec, spec["components"]["schemas"][prop["$ref"].rsplit("/", 1)[-1]])
    return prop.get("enum")


def test_request_bodies_carry_no_defaults():
    # A default makes generators type the field as always present (openapi-typescript).
    spec = committed_spec()
    for name in _request_schemas(spec):
        for where, node in _walk(spec["components"]["schemas"][name], name):
            assert "default" not in node, where


def test_optional_request_fields_are_optional_and_null_only_where_accepted():
    checkin = committed_spec()["components"]["schemas"]["CheckinInput"]
    assert sorted(checkin["required"]) == ["aches", "anxiety", "insomnia", "nausea"]
    nullable = {name for name, prop in checkin["properties"].items() if prop.get("nullable")}
    assert nullable == set(checkin["properties"]) - set(checkin["required"])


def test_every_property_has_a_type():
    spec = committed_spec()
    for name, schema in spec["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            assert {"type", "$ref", "allOf", "oneOf", "anyOf"} & set(prop), f"{name}.{field}"


def test_response_fields_are_required_or_documented_optional():
    spec = committed_spec()
    for name in _response_schemas(spec):
        schema = spec["components"]["schemas"][name]
        for field in schema.get("properties", {}):
            if (name, field) not in OPTIONAL_RESPONSE_FIELDS:
                assert field in schema.get("required", []), f"{name}.{field}"


def test_vocabulary_fields_are_enums():
    spec = committed_spec()
    for name, schema in spec["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if field in VOCABULARY_FIELDS and not (name == "Problem" and field == "status"):
                assert _enum_of(spec, prop), f"{name}.{field}"
    for operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            if parameter["name"] in VOCABULARY_FIELDS:
                assert _enum_of(spec, parameter["schema"]), parameter["name"]


def test_big_enums_are_defined_once_and_referred_to():
    spec = committed_spec()
    text = SPEC_PATH.read_text()
    assert text.count("- America/Chicago\n") == 1  # the TimeZone component's value list
    for where, node in _walk(spec):
        if len(node.get("enum", [])) > 20:
            assert where in {"/components/schemas/TimeZone", "/components/schemas/RegionCode"}
    timezone = spec["components"]["schemas"]["TimeZone"]
    assert len(timezone["enum"]) > 500
    # Member names generators can use as they are (Etc/GMT+1 and Etc/GMT-1 differ).
    assert len(set(timezone["x-enum-varnames"])) == len(timezone["enum"])


def test_nullable_references_and_enums_are_shaped_for_generators():
    # apispec's own `anyOf: [{type: object, nullable: true}, $ref]` and enums listing null
    # beside `nullable` make generated clients grow spurious types.
    spurious = {"type": "object", "nullable": True}
    for where, node in _walk(committed_spec()):
        assert spurious not in node.get("anyOf", []), where
        assert None not in node.get("enum", []), where


def test_every_component_schema_is_used():
    spec = committed_spec()
    from_paths = _references(spec["paths"], set())
    responses = spec["components"]["responses"]
    named = from_paths | _references([responses[n] for n in from_paths if n in responses], set())
    assert set(spec["components"]["schemas"]) == _reachable(spec, named)


def test_servers_entry_is_relative_to_where_the_spec_is_served():
    assert committed_spec()["servers"] == [
        {"url": "/", "description": "The server this spec was fetched from"}
    ]
