"""Every paged list: the same parameters and bounds, the same body, RFC 8288 Link headers."""

import re
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from server.common.pagination import link_header
from server.vocabulary import SCOPES

TODAY = date.today()
LINK = re.compile(r'<([^>]*)>; rel="([a-z]+)"')


def targets(response) -> dict[str, str]:
    """rel -> target URI of a response's Link header."""
    return {relation: target for target, relation in LINK.findall(response.headers["Link"])}


def links(response) -> dict[str, tuple[str, dict]]:
    """rel -> (path, query parameters) of a response's Link header."""
    parsed = {}
    for relation, target in targets(response).items():
        parts = urlsplit(target)
        parsed[relation] = (parts.path, dict(parse_qsl(parts.query)))
    return parsed


@pytest.fixture
def world(factory):
    """A patient with three shares, days and alerts, and one of the counselors."""
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor, scope=SCOPES)
    for other in (factory.counselor(), factory.counselor()):
        factory.share(patient, other)
    factory.log(patient, TODAY, [{"crisis": True}, {"crisis": True}, {}])
    for days_ago in range(3):
        factory.instrument_response(patient, "sows-gossop-10", TODAY - timedelta(days=days_ago))
        factory.cows_observation(counselor, patient, hours_ago=days_ago)
    for _ in range(2):
        other_patient = factory.patient()
        factory.share(other_patient, counselor)
        factory.log(other_patient, TODAY, [{"crisis": True}])
    return patient, counselor


def _lists(patient, counselor) -> list[tuple[str, object]]:
    """Every paged list, with someone who may read it."""
    return [
        ("/api/v1/checkins", patient),
        ("/api/v1/me/access-log", patient),
        ("/api/v1/shares", patient),
        ("/api/v1/patients", counselor),
        ("/api/v1/alerts?status=all", counselor),
        (f"/api/v1/patients/{patient.id}/checkins", counselor),
        ("/api/v1/instruments/sows-gossop-10/responses", patient),
        ("/api/v1/observations", patient),
        (f"/api/v1/patients/{patient.id}/instruments/sows-gossop-10/responses", counselor),
        (f"/api/v1/patients/{patient.id}/observations", counselor),
    ]


def test_every_list_pages_alike_with_links_that_walk_the_whole_list(client, world):
    patient, counselor = world
    for path, person in _lists(patient, counselor):
        whole = client.get(path, headers=person.headers).json
        assert whole["total_items"] >= 3, path
        separator = "&" if "?" in path else "?"
        first = client.get(f"{path}{separator}page_size=2", headers=person.headers)
        assert first.status_code == 200
        body = first.json
        assert (body["page"], body["page_size"], len(body["items"])) == (1, 2, 2), path
        assert body["total_items"] == whole["total_items"]
        assert body["total_pages"] == -(-whole["total_items"] // 2)
        # Follow `next` to the end: the pages together are the whole list, in order.
        seen, response = list(body["items"]), first
        while "next" in targets(response):
            next_path, query = links(response)["next"]
            assert next_path == urlsplit(path).path
            assert query["page_size"] == "2"
            if "status=all" in path:
                assert query["status"] == "all"  # other parameters are kept
            response = client.get(targets(response)["next"], headers=person.headers)
            seen += response.json["items"]
        assert seen == whole["items"], path
        assert links(response)["last"][1]["page"] == str(body["total_pages"])


@pytest.mark.parametrize("query", ["page=0", "page=100001", "page_size=0", "page_size=101"])
def test_every_list_has_the_same_bounds(client, world, query):
    patient, counselor = world
    for path, person in _lists(patient, counselor):
        separator = "&" if "?" in path else "?"
        response = client.get(f"{path}{separator}{query}", headers=person.headers)
        assert response.status_code == 422, path
        assert query.split("=")[0] in response.json["errors"], path


def test_a_page_past_the_end_is_empty_and_still_counts(client, world):
    patient, counselor = world
    for path, person in _lists(patient, counselor):
        separator = "&" if "?" in path else "?"
        response = client.get(f"{path}{separator}page=50&page_size=2", headers=person.headers)
        assert response.status_code == 200
        assert response.json["items"] == []
        assert response.json["total_items"] >= 3
        assert links(response)["prev"][1]["page"] == str(response.json["total_pages"])
        assert "next" not in links(response)


def test_an_empty_list_links_to_its_one_empty_page(client, factory):
    patient = factory.patient()
    response = client.get("/api/v1/shares", headers=patient.headers)
    assert response.json["total_pages"] == 0
    assert links(response) == {
        "first": ("/api/v1/shares", {"page": "1", "page_size": "50"}),
        "last": ("/api/v1/shares", {"page": "1", "page_size": "50"}),
    }


@given(
    page=st.integers(min_value=1, max_value=100_000),
    page_size=st.integers(min_value=1, max_value=100),
    total_pages=st.integers(min_value=0, max_value=100_000),
    other=st.dictionaries(
        st.sampled_from(["from", "to", "status", "région"]),
        st.text(min_size=1, max_size=8),
        max_size=3,
    ),
)
def test_links_name_real_pages_and_keep_the_other_parameters(page, page_size, total_pages, other):
    with Flask(__name__).test_request_context(
        "/api/v1/alerts", query_string={**other, "page": str(page), "page_size": "7"}
    ):
        header = link_header(page, page_size, total_pages)
    found = {}
    for target, relation in LINK.findall(header):
        parts = urlsplit(target)
        assert parts.path == "/api/v1/alerts" and not parts.netloc
        query = dict(parse_qsl(parts.query))
        assert query.pop("page_size") == str(page_size)
        found[relation] = int(query.pop("page"))
        assert query == other
    last = max(total_pages, 1)
    assert found.pop("first") == 1
    assert found.pop("last") == last
    assert found.pop("prev", None) == (min(page - 1, last) if page > 1 else None)
    assert found.pop("next", None) == (page + 1 if page < last else None)
    assert found == {}


def test_the_spec_documents_the_link_header_on_every_paged_list():
    from tests.platform.test_openapi import committed_spec

    spec = committed_spec()
    for path, item in spec["paths"].items():
        operation = item.get("get")
        if not operation:
            continue
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        paged = {"page", "page_size"} <= names
        headers = operation["responses"]["200"].get("headers", {})
        assert paged == ("Link" in headers), path
        if paged:
            schema_name = operation["responses"]["200"]["content"]["application/json"]["schema"]
            body = spec["components"]["schemas"][schema_name["$ref"].split("/")[-1]]
            assert {"items", "page", "page_size", "total_items", "total_pages"} <= set(
                body["required"]
            )


def test_patients_pages_follow_urgency_and_only_the_page_is_audited(client, factory):
    counselor = factory.counselor()
    calm, crisis, severe = (factory.patient(display_name=name) for name in "ABC")
    factory.log(calm, TODAY, [{}])
    factory.log(crisis, TODAY - timedelta(days=2), [{"crisis": True}])
    factory.log(severe, TODAY, [{}, {"nausea": 10}])
    for patient in (calm, crisis, severe):
        factory.share(patient, counselor)
    first = client.get("/api/v1/patients?page_size=2", headers=counselor.headers).json
    second = client.get("/api/v1/patients?page=2&page_size=2", headers=counselor.headers).json
    assert [row["display_name"] for row in first["items"]] == ["B", "C"]
    assert [row["display_name"] for row in second["items"]] == ["A"]

    def listed(patient):
        log = client.get("/api/v1/me/access-log", headers=patient.headers).json["items"]
        return sum(1 for event in log if event["action"] == "patient_listed")

    # Each patient was disclosed on one page only.
    assert [listed(calm), listed(crisis), listed(severe)] == [1, 1, 1]
