"""Counselors' own resources reach exactly the patients who share with them."""

from datetime import date

CLINIC = {
    "name": "Riverside Clinic line",
    "kind": "treatment",
    "region": "US",
    "phone": "555-0100",
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
    assert created["verified_on"] == date.today().isoformat()
    assert created["source_url"] is None
    assert CLINIC["name"] in names(client, sharing)
    assert CLINIC["name"] in names(client, counselor)
    assert CLINIC["name"] not in names(client, not_sharing)
    assert CLINIC["name"] not in {i["name"] for i in client.get("/api/v1/resources").json["items"]}


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
