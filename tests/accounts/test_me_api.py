"""The signed-in person's own account."""

from sqlalchemy import text

from server.extensions import db
from tests.factories import PASSWORD


def test_get_me(client, factory):
    person = factory.counselor(display_name="Dr Lee")
    me = client.get("/api/v1/me", headers=person.headers).json
    assert (me["id"], me["role"], me["display_name"]) == (person.id, "counselor", "Dr Lee")


def test_patch_settings(client, factory):
    person = factory.patient()
    response = client.patch(
        "/api/v1/me",
        json={"display_name": "Sam", "timezone": "Australia/Perth", "region": "AU"},
        headers=person.headers,
    )
    assert response.status_code == 200
    assert (response.json["display_name"], response.json["timezone"], response.json["region"]) == (
        "Sam",
        "Australia/Perth",
        "AU",
    )


def test_patch_rejects_bad_values_and_read_only_fields(client, factory):
    person = factory.patient()
    for body, field in (
        ({"timezone": "Nowhere/Land"}, "timezone"),
        ({"region": "ZZ"}, "region"),
        ({"role": "counselor"}, "role"),
        ({"email": "x@example.org"}, "email"),
    ):
        response = client.patch("/api/v1/me", json=body, headers=person.headers)
        assert response.status_code == 422
        assert list(response.json["errors"]) == [field]
    assert client.get("/api/v1/me", headers=person.headers).json["role"] == "patient"


def test_password_change_needs_current_password(client, factory):
    person = factory.patient()
    missing = client.patch(
        "/api/v1/me", json={"new_password": "a brand new pw"}, headers=person.headers
    )
    wrong = client.patch(
        "/api/v1/me",
        json={"new_password": "a brand new pw", "current_password": "not it at all"},
        headers=person.headers,
    )
    assert missing.status_code == wrong.status_code == 403
    assert list(wrong.json["errors"]) == ["current_password"]
    factory.login(person.email, PASSWORD)  # still the old password


def test_password_change_ends_other_sessions_only(client, factory):
    person = factory.patient()
    other_device = factory.login(person.email)
    response = client.patch(
        "/api/v1/me",
        json={"new_password": "a brand new pw", "current_password": PASSWORD},
        headers=person.headers,
    )
    assert response.status_code == 200
    assert client.get("/api/v1/me", headers=person.headers).status_code == 200
    other = {"Authorization": f"Bearer {other_device['access_token']}"}
    assert client.get("/api/v1/me", headers=other).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/login", json={"email": person.email, "password": PASSWORD}
        ).status_code
        == 401
    )
    factory.login(person.email, "a brand new pw")


def test_delete_me_needs_password(client, factory):
    person = factory.patient()
    response = client.delete(
        "/api/v1/me", json={"password": "wrong password"}, headers=person.headers
    )
    assert response.status_code == 403
    assert list(response.json["errors"]) == ["password"]
    assert client.get("/api/v1/me", headers=person.headers).status_code == 200


def _rows_mentioning(app, person_id: str) -> dict:
    """Count rows in every table that hold the person's id in any column."""
    counts = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                if str(column.type).startswith(("UUID", "CHAR(32)", "VARCHAR")):
                    found = db.session.execute(
                        text(
                            f"SELECT COUNT(*) FROM {table.name} "
                            f"WHERE CAST({column.name} AS VARCHAR(64)) IN (:a, :b)"
                        ),
                        {"a": person_id, "b": person_id.replace("-", "")},
                    ).scalar()
                    if found:
                        counts[f"{table.name}.{column.name}"] = found
    return counts


def test_delete_me_removes_every_row_of_the_person(app, client, factory):
    from datetime import date, timedelta

    person = factory.patient()
    survivor = factory.patient()
    today = date.today()
    factory.log(person, today, [{}, {"note": "gone soon"}, {}])
    factory.log(survivor, today - timedelta(days=1), [{}])
    # A deleted day leaves a tombstone in the changes feed, which must go too.
    assert client.delete(f"/api/v1/checkins/{today}", headers=person.headers).status_code == 204
    before = _rows_mentioning(app, person.id)
    for table in ("checkins", "checkin_feeds", "checkin_tombstones"):
        assert f"{table}.patient_id" in before, before

    response = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=person.headers)
    assert response.status_code == 204
    assert _rows_mentioning(app, person.id) == {}
    assert client.get("/api/v1/me", headers=person.headers).status_code == 401
    assert client.get("/api/v1/checkins", headers=survivor.headers).json["total_items"] == 1
