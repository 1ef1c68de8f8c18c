"""Alerts reach the right counselors once, update on re-save and vanish with the share."""

from datetime import date, timedelta

TODAY = date.today()


def alerts(client, counselor, status="open"):
    response = client.get(f"/api/v1/alerts?status={status}", headers=counselor.headers)
    assert response.status_code == 200
    return response.json["items"]


def test_worrying_day_alerts_counselors_sharing_status_only(client, factory):
    patient = factory.patient()
    with_status, without_status, stranger = (
        factory.counselor(),
        factory.counselor(),
        factory.counselor(),
    )
    factory.share(patient, with_status, scope=["status"])
    factory.share(patient, without_status, scope=["checkins", "trends"])
    factory.checkin(patient, TODAY, crisis=True)
    [alert] = alerts(client, with_status)
    assert alert["level"] == "crisis"
    assert alert["checkin_date"] == TODAY.isoformat()
    assert alert["patient"] == {"id": patient.id, "display_name": patient.display_name}
    assert [reason["code"] for reason in alert["reasons"]][0] == "crisis"
    assert alert["acknowledged_at"] is None
    assert alerts(client, without_status) == []
    assert alerts(client, stranger) == []


def test_calm_days_raise_no_alert(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor)
    factory.log(patient, TODAY, [{}, {}, {}, {}])
    assert alerts(client, counselor, "all") == []


def test_danger_signs_alert_even_below_worsening(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor)
    # Use after three logged days without: overdose risk.
    factory.log(patient, TODAY, [{}, {}, {}, {"used_opioids": True}])
    [alert] = alerts(client, counselor)
    assert "overdose_risk" in [reason["code"] for reason in alert["reasons"]]


def test_resaving_the_day_updates_instead_of_duplicating(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor)
    factory.checkin(patient, TODAY, nausea=9)
    factory.checkin(patient, TODAY, nausea=9, crisis=True)
    [alert] = alerts(client, counselor)
    assert alert["level"] == "crisis"
    # Corrected to a calm day: the unacknowledged alert goes away.
    factory.checkin(patient, TODAY)
    assert alerts(client, counselor, "all") == []


def test_acknowledge(client, factory):
    patient, counselor, other = factory.patient(), factory.counselor(), factory.counselor()
    factory.share(patient, counselor)
    factory.checkin(patient, TODAY, nausea=9)
    [alert] = alerts(client, counselor)
    response = client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=counselor.headers)
    assert response.status_code == 200
    assert response.json["acknowledged_at"] is not None
    again = client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=counselor.headers)
    assert again.json["acknowledged_at"] == response.json["acknowledged_at"]
    assert alerts(client, counselor) == []
    assert [a["id"] for a in alerts(client, counselor, "all")] == [alert["id"]]
    # Other counselors and patients can't touch it.
    assert (
        client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=other.headers).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/alerts/{alert['id']}/acknowledge", headers=patient.headers
        ).status_code
        == 403
    )
    # Getting worse after acknowledgement reopens it.
    factory.checkin(patient, TODAY, nausea=9, crisis=True)
    [reopened] = alerts(client, counselor)
    assert (reopened["id"], reopened["level"], reopened["acknowledged_at"]) == (
        alert["id"],
        "crisis",
        None,
    )


def test_alerts_vanish_when_the_share_ends(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    share = factory.share(patient, counselor)
    factory.checkin(patient, TODAY - timedelta(days=1), crisis=True)
    [alert] = alerts(client, counselor)
    client.delete(f"/api/v1/shares/{share['id']}", headers=patient.headers)
    assert alerts(client, counselor, "all") == []
    response = client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=counselor.headers)
    assert response.status_code == 404


def test_only_days_after_sharing_began_are_not_backfilled(client, factory):
    # Alerts are raised as days are judged; sharing later does not invent past alerts.
    patient, counselor = factory.patient(), factory.counselor()
    factory.checkin(patient, TODAY, crisis=True)
    factory.share(patient, counselor)
    assert alerts(client, counselor, "all") == []
    assert (
        client.get(f"/api/v1/patients/{patient.id}/status", headers=counselor.headers).json[
            "level"
        ]
        == "crisis"
    )


def test_bad_status_filter_is_422(client, factory):
    counselor = factory.counselor()
    assert client.get("/api/v1/alerts?status=closed", headers=counselor.headers).status_code == 422


def test_sharing_again_never_brings_back_an_old_alert(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    first = factory.share(patient, counselor)
    factory.checkin(patient, TODAY - timedelta(days=1), crisis=True)
    [old] = alerts(client, counselor)
    client.delete(f"/api/v1/shares/{first['id']}", headers=patient.headers)
    factory.share(patient, counselor)
    assert alerts(client, counselor, "all") == []
    response = client.post(f"/api/v1/alerts/{old['id']}/acknowledge", headers=counselor.headers)
    assert response.status_code == 404


def test_a_replaced_share_starts_without_the_old_alerts(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    factory.share(patient, counselor, scope=["status"])
    factory.checkin(patient, TODAY, crisis=True)
    assert len(alerts(client, counselor)) == 1
    factory.share(patient, counselor, scope=["status", "checkins"])
    assert alerts(client, counselor, "all") == []


def test_days_logged_before_the_new_share_raise_no_alert_for_it(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    first = factory.share(patient, counselor)
    factory.checkin(patient, TODAY - timedelta(days=1), crisis=True)
    client.delete(f"/api/v1/shares/{first['id']}", headers=patient.headers)
    factory.checkin(patient, TODAY, nausea=9)
    factory.share(patient, counselor)
    # Both days were logged before the new share: correcting them raises nothing for it.
    factory.checkin(patient, TODAY - timedelta(days=1), crisis=True, note="still bad")
    factory.checkin(patient, TODAY, nausea=10)
    assert alerts(client, counselor, "all") == []
    # A day logged under the new share does.
    factory.checkin(patient, TODAY - timedelta(days=2), crisis=True)
    [alert] = alerts(client, counselor)
    assert alert["checkin_date"] == (TODAY - timedelta(days=2)).isoformat()


def test_a_day_deleted_and_logged_again_under_the_new_share_alerts_once(client, factory):
    patient, counselor = factory.patient(), factory.counselor()
    first = factory.share(patient, counselor)
    factory.checkin(patient, TODAY, crisis=True)
    [old] = alerts(client, counselor)
    client.post(f"/api/v1/alerts/{old['id']}/acknowledge", headers=counselor.headers)
    client.delete(f"/api/v1/shares/{first['id']}", headers=patient.headers)
    factory.share(patient, counselor)
    assert client.delete(f"/api/v1/checkins/{TODAY}", headers=patient.headers).status_code == 204
    factory.checkin(patient, TODAY, crisis=True)
    [new] = alerts(client, counselor, "all")
    assert new["id"] != old["id"]
    assert new["acknowledged_at"] is None
