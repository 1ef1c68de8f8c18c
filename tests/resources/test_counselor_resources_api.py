"""Counselors' own resources reach exactly the patients who share with them."""

from datetime import UTC, date, datetime

import pytest

CLINIC = {
    "name": "Riverside Clinic line",
    "kind": "treatment",
    "region": "US",
    "phone": "217-555-0100",
    "hours": "Mon-Fri 9-5",
    "description": "Call the clinic to book or move an appointment.",
}


def add(client, counselor, **overrides):
    return client.post(
        "/api/v1/resources", json={**CLINIC, **overrides}, headers=counselor.headers
    )


def names(client, person):
    response = client.get("/api/v1/resources", headers=person.headers)
    assert response.status_code == 200
    return {item["name"] for item in response.json["items"]}


def test_counselor_adds_a_resource_for_their_patients(client, factory):
    counselor = factory.counselor(display_name="Dr Rivers")
    sharing, not_sharing = factory.patient(), factory.patient()
    factory.share(sharing, counselor)
    response = add(client, counselor)
    assert response.status_code == 201
    created = response.json
    assert created["provided_by"] == {"id": counselor.id, "display_name": "Dr Rivers"}
    # Nobody verified a counselor's entry: it says when it was added, and by whom.
    assert created["verified_on"] is None
    assert created["added_on"] == datetime.now(UTC).date().isoformat()
    assert created["source_url"] is None
    assert created["phone"] == "+12175550100"  # stored in E.164
    assert CLINIC["name"] in names(client, sharing)
    assert CLINIC["name"] in names(client, counselor)
    assert CLINIC["name"] not in names(client, not_sharing)
    assert CLINIC["name"] not in {i["name"] for i in client.get("/api/v1/resources").json["items"]}


def test_optional_resource_fields_left_out_are_stored_as_null(client, factory):
    counselor = factory.counselor()
    required = {name: CLINIC[name] for name in ("name", "kind", "region", "description")}
    response = client.post("/api/v1/resources", json=required, headers=counselor.headers)
    assert response.status_code == 201
    created = response.json
    assert [created[name] for name in ("phone", "sms", "url", "hours", "display")] == [None] * 5


def test_own_resources_join_the_assessment_of_a_bad_day(client, factory):
    counselor, patient = factory.counselor(), factory.patient()
    factory.share(patient, counselor)
    add(client, counselor)
    assessment = factory.checkin(patient, date.today(), nausea=10).json["assessment"]
    assert CLINIC["name"] in {resource["name"] for resource in assessment["resources"]}


def test_revoking_the_share_hides_the_counselors_resources(client, factory):
    counselor, patient = factory.counselor(), factory.patient()
    share = factory.share(patient, counselor)
    add(client, counselor)
    client.delete(f"/api/v1/shares/{share['id']}", headers=patient.headers)
    assert CLINIC["name"] not in names(client, patient)


def test_only_counselors_add_and_only_owners_remove(client, factory):
    counselor, other, patient = factory.counselor(), factory.counselor(), factory.patient()
    assert add(client, patient).status_code == 403
    assert client.post("/api/v1/resources", json=CLINIC).status_code == 401
    resource_id = add(client, counselor).json["id"]
    assert (
        client.delete(f"/api/v1/resources/{resource_id}", headers=other.headers).status_code == 404
    )
    assert (
        client.delete(f"/api/v1/resources/{resource_id}", headers=counselor.headers).status_code
        == 204
    )
    assert CLINIC["name"] not in names(client, counselor)


def test_catalogue_entries_cannot_be_removed(client, factory):
    counselor = factory.counselor()
    catalogue_id = client.get("/api/v1/resources").json["items"][0]["id"]
    response = client.delete(f"/api/v1/resources/{catalogue_id}", headers=counselor.headers)
    assert response.status_code == 404


def test_bad_resource_fields_are_422(client, factory):
    counselor = factory.counselor()
    for overrides, field in (
        ({"kind": "dosing"}, "kind"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"region": "ZZ"}, "region"),
        ({"name": ""}, "name"),
        ({"owner_id": "x"}, "owner_id"),
    ):
        response = add(client, counselor, **overrides)
        assert response.status_code == 422
        assert list(response.json["errors"]) == [field]


def test_a_counselor_never_sees_another_counselors_resources_in_a_patients_status(client, factory):
    """The status a counselor reads must not reveal the patient's other counselors."""
    mine, theirs, patient = factory.counselor(), factory.counselor(), factory.patient()
    factory.share(patient, mine)
    factory.share(patient, theirs)
    add(client, mine, name="My clinic line")
    add(client, theirs, name="Their clinic line")
    factory.checkin(patient, date.today(), nausea=10)

    def resource_names(person, path):
        response = client.get(path, headers=person.headers)
        assert response.status_code == 200, response.json
        return {resource["name"] for resource in response.json["resources"]}

    seen_by_patient = resource_names(patient, "/api/v1/status")
    assert {"My clinic line", "Their clinic line"} <= seen_by_patient
    seen_by_me = resource_names(mine, f"/api/v1/patients/{patient.id}/status")
    assert "My clinic line" in seen_by_me
    assert "Their clinic line" not in seen_by_me


def test_resource_creation_is_limited_per_counselor(app_factory):
    from tests.factories import Factory

    app = app_factory(RESOURCE_LIMIT_PER_COUNSELOR="2 per day")
    client = app.test_client()
    factory = Factory(app, client)
    counselor, colleague = factory.counselor(), factory.counselor()

    assert [add(client, counselor).status_code for _ in range(3)] == [201, 201, 429]
    limited = add(client, counselor)
    assert limited.status_code == 429
    assert limited.content_type == "application/problem+json"
    assert int(limited.headers["Retry-After"]) > 0
    assert add(client, colleague).status_code == 201
    # Retry-After is only for the refusals.
    assert "Retry-After" not in add(client, colleague).headers


@pytest.mark.parametrize("kind", ["emergency", "crisis", "medical", "harm_reduction", "directory"])
def test_catalogue_only_kinds_are_refused(client, factory, kind):
    counselor = factory.counselor()
    response = add(client, counselor, kind=kind, name="Emergency services (911)")
    assert response.status_code == 422
    assert "catalogue only" in response.json["errors"]["kind"][0]


@pytest.mark.parametrize("kind", ["clinic", "treatment", "helpline", "peer_support"])
def test_counselors_own_service_kinds_are_accepted(client, factory, kind):
    assert add(client, factory.counselor(), kind=kind).status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "javascript:alert(1)"),
        ("phone", "911"),  # not a number one can add: emergency numbers are the catalogue's
        ("phone", "+1 900 555 0199"),  # premium rate
        ("phone", "020 7946 0000"),  # a London number, but the entry is for the US
        ("sms", "<img src=x onerror=alert(1)>"),
        ("url", "https://988lifeline.org@evil.example/"),
        ("url", "http://clinic.example.org/"),
        ("url", "https://127.0.0.1:8411/api/v1/me"),
        ("url", "https://10.0.0.7/"),
        ("url", "https://169.254.169.254/latest/meta-data/"),
        ("url", "https://[::1]/"),
        ("url", "https://localhost/"),
        ("url", "https://intranet/"),
        ("url", "javascript:alert(1)"),
    ],
)
def test_numbers_and_links_must_be_real_and_public(client, factory, field, value):
    response = add(client, factory.counselor(), **{field: value})
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == [field]


def test_numbers_are_stored_in_e164_for_the_entrys_region(client, factory):
    counselor = factory.counselor()
    sms = {"number": "07400 123456", "body": "BOOK"}
    created = add(client, counselor, region="GB", phone="020 7946 0000", sms=sms)
    assert created.status_code == 201, created.json
    assert created.json["phone"] == "+442079460000"
    assert created.json["sms"] == {"number": "+447400123456", "body": "BOOK"}
    # People read the numbers as the region writes them.
    assert created.json["display"] == "Call 020 7946 0000 or text BOOK to 07400 123456"


def test_a_plain_sms_string_from_an_older_client_is_the_number(client, factory):
    created = add(client, factory.counselor(), phone=None, sms="(217) 555-0100")
    assert created.status_code == 201, created.json
    assert created.json["sms"] == {"number": "+12175550100", "body": None}
    assert created.json["display"] == "Text (217) 555-0100"


def test_the_sms_number_and_body_are_checked(client, factory):
    counselor = factory.counselor()
    foreign = add(client, counselor, sms={"number": "07400 123456"})  # a GB mobile, US entry
    assert foreign.status_code == 422
    assert foreign.json["errors"] == {
        "sms": [{"number": ["Must be a valid phone number for US."]}]
    }
    long_body = add(client, counselor, sms={"number": "217-555-0100", "body": "x" * 161})
    assert long_body.status_code == 422
    assert long_body.json["errors"] == {"sms": [{"body": ["Length must be between 1 and 160."]}]}
    unknown = add(client, counselor, sms={"number": "217-555-0100", "to": "me"})
    assert unknown.status_code == 422
    assert unknown.json["errors"] == {"sms": [{"to": ["Unknown field."]}]}


def test_a_counselors_entry_reads_back_as_it_was_created(client, factory):
    counselor, patient = factory.counselor(), factory.patient()
    factory.share(patient, counselor)
    created = add(client, counselor, sms={"number": "217-555-0199", "body": None}).json
    listed = client.get("/api/v1/resources", headers=patient.headers).json["items"]
    assert [item for item in listed if item["id"] == created["id"]] == [created]
    assert created["display"] == "Call (217) 555-0100 or text (217) 555-0199"


def test_at_most_twenty_entries_per_counselor(client, factory):
    counselor, other = factory.counselor(), factory.counselor()
    statuses = [add(client, counselor, name=f"Line {n}").status_code for n in range(21)]
    assert statuses == [201] * 20 + [422]
    refused = add(client, counselor)
    assert refused.json["errors"] == {"body": ["At most 20 resources per counselor."]}
    assert add(client, other).status_code == 201  # another counselor is not affected


def test_counselor_entries_come_after_every_catalogue_entry(client, factory):
    counselor, patient = factory.counselor(), factory.patient()
    factory.share(patient, counselor)
    add(client, counselor, kind="helpline", name="Our clinic's crisis callback")
    assessment = factory.checkin(patient, date.today(), nausea=10, aches=10).json["assessment"]
    owners = [resource["provided_by"] is not None for resource in assessment["resources"]]
    assert owners[-1] is True
    assert owners == sorted(owners)  # all catalogue entries (False) first
    assert assessment["resources"][0]["kind"] == "emergency"
