"""The dashboard's pages over HTTP: what each share's scope shows, and what the access log says."""

import csv
import io
import re
from datetime import date, timedelta

import pytest
from markupsafe import escape

from server.dashboard import routes
from tests.dashboard.helpers import Dashboard, text_of
from tests.factories import MODERATE_SCORES

TODAY = date.today()
NOTE = "canary-note-5d1e"
ALL_SCOPES = ("checkins", "trends", "status", "export")


def access_log(client, patient) -> list[dict]:
    response = client.get("/api/v1/me/access-log?page_size=100", headers=patient.headers)
    assert response.status_code == 200
    return response.json["items"]


def actions(client, patient) -> list[str]:
    return [event["action"] for event in access_log(client, patient)]


def rows_of(html: str, table_class: str) -> list[str]:
    """The body rows of a table, as HTML."""
    table = html.split(f'class="table {table_class}"', 1)[1]
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.split("<tr>")[1:]


@pytest.fixture
def counselor(factory, dashboard):
    person = factory.counselor(display_name="Dr Ada Park")
    dashboard.sign_in(person)
    return person


def sharing(factory, counselor, days: list[dict], **share):
    """A patient who shared with the counselor, then logged consecutive days up to today."""
    patient = factory.patient()
    factory.share(patient, counselor, **share)
    factory.log(patient, TODAY, days)
    return patient


# --- Caseload ---------------------------------------------------------------------------------


def test_the_caseload_lists_active_shares_most_urgent_first_and_is_audited(
    client, factory, dashboard, counselor
):
    calm = sharing(factory, counselor, [dict(MODERATE_SCORES)] * 3)
    urgent = sharing(factory, counselor, [dict(MODERATE_SCORES), {"nausea": 9, "crisis": True}])
    not_sharing = factory.patient()
    factory.log(not_sharing, TODAY, [dict(MODERATE_SCORES)])
    revoked = sharing(factory, counselor, [dict(MODERATE_SCORES)])
    (share,) = client.get("/api/v1/shares", headers=revoked.headers).json["items"]
    client.delete(f"/api/v1/shares/{share['id']}", headers=revoked.headers)
    other_counselor = factory.counselor()
    sharing(factory, other_counselor, [dict(MODERATE_SCORES)])

    response = dashboard.get("/dashboard")
    assert response.status_code == 200
    html = text_of(response)
    rows = rows_of(html, "caseload")
    assert [re.search(r'<th scope="row"><a [^>]+>([^<]+)</a>', row)[1] for row in rows] == [
        urgent.display_name,
        calm.display_name,
    ]
    assert ">Crisis</strong>" in rows[0] and "feeling unsafe" in rows[0]
    assert "2 of 7" in rows[0] and "1 open" in rows[0]
    assert ">Stable</strong>" in rows[1] and "3 of 7" in rows[1]
    assert "Check-ins, trends, status, export; until" in rows[1]
    assert f'href="/dashboard/patients/{calm.id}"' in rows[1]
    # The same events as GET /patients and GET /alerts.
    assert actions(client, urgent)[:2] == ["alerts_viewed", "patient_listed"]
    assert actions(client, calm)[0] == "patient_listed"
    assert "patient_listed" not in actions(client, not_sharing)
    assert actions(client, revoked)[0] == "share_revoked"


def test_caseload_fields_outside_the_share_say_not_shared(client, factory, dashboard, counselor):
    sharing(factory, counselor, [{"nausea": 9}] * 2, scope=("export",))
    html = text_of(dashboard.get("/dashboard"))
    (row,) = rows_of(html, "caseload")
    assert row.count("Not shared") == 4  # level, latest day, days logged, alerts


def test_the_caseload_comes_a_page_at_a_time(factory, dashboard, counselor, monkeypatch):
    monkeypatch.setattr(routes, "PAGE_SIZE", 2)
    for _ in range(3):
        sharing(factory, counselor, [dict(MODERATE_SCORES)])
    first = text_of(dashboard.get("/dashboard"))
    assert len(rows_of(first, "caseload")) == 2
    assert 'href="/dashboard?page=2" rel="next"' in first
    second = dashboard.get("/dashboard?page=2")
    assert len(rows_of(text_of(second), "caseload")) == 1
    assert "<title>Caseload (page 2 of 2)" in text_of(second)
    for page in ("3", "0", "two", "-1"):
        response = dashboard.get(f"/dashboard?page={page}")
        assert response.status_code == 404 and "Page not found" in text_of(response)


def test_signed_out_pages_send_the_browser_to_sign_in(factory, app):
    patient = factory.patient()
    signed_out = Dashboard(app.test_client())
    for path in ("/dashboard", "/dashboard/alerts", f"/dashboard/patients/{patient.id}"):
        response = signed_out.get(path)
        assert response.status_code == 303
        assert response.headers["Location"] == f"/dashboard/login?next={path}"


# --- A patient's page ------------------------------------------------------------------------


def test_a_patient_page_needs_an_active_share(client, factory, dashboard, counselor):
    stranger = factory.patient()
    elsewhere = factory.patient()
    factory.share(elsewhere, factory.counselor())
    revoked = sharing(factory, counselor, [dict(MODERATE_SCORES)])
    (share,) = client.get("/api/v1/shares", headers=revoked.headers).json["items"]
    client.delete(f"/api/v1/shares/{share['id']}", headers=revoked.headers)
    for patient_id in (stranger.id, elsewhere.id, revoked.id, counselor.id, "not-a-uuid"):
        response = dashboard.get(f"/dashboard/patients/{patient_id}")
        assert response.status_code == 404
        assert response.mimetype == "text/html" and "Page not found" in text_of(response)
    assert "checkins_viewed" not in actions(client, revoked)


def test_a_full_share_shows_chart_summary_days_levels_and_export_audited_like_the_api(
    client, factory, dashboard, counselor
):
    days = [dict(MODERATE_SCORES)] * 5 + [{"nausea": 9, "used_opioids": True, "note": NOTE}]
    patient = sharing(factory, counselor, days)
    response = dashboard.get(f"/dashboard/patients/{patient.id}")
    assert response.status_code == 200
    html = text_of(response)
    assert "can see every view of their data in their access log" in html
    assert '<svg class="chart"' in html and 'role="img"' in html
    assert '<title id="chart-title">Symptom scores of' in html and '<desc id="chart-desc">' in html
    assert "6 of 30 days logged" in html
    rows = rows_of(html, "days")
    assert len(rows) == 6
    assert TODAY.isoformat() in rows[0] and ">Severe</strong>" in rows[0]
    assert "<li>Used opioids</li>" in rows[0] and "<li>Overdose risk</li>" in rows[0]
    assert NOTE not in html  # this share leaves notes out
    assert "Download CSV" in html and "Download PDF" in html and "Download FHIR" in html
    events = access_log(client, patient)
    start = (TODAY - timedelta(days=29)).isoformat()
    viewed = {event["action"]: event["detail"] for event in events[:3]}
    assert viewed.keys() == {"trends_viewed", "checkins_viewed", "status_viewed"}
    (share,) = client.get("/api/v1/shares", headers=patient.headers).json["items"]
    in_range = {"share_id": share["id"], "start": start, "end": TODAY.isoformat()}
    assert viewed["trends_viewed"] == in_range
    assert viewed["checkins_viewed"] == {**in_range, "page": 1, "notes_included": False}
    assert viewed["status_viewed"] == in_range


def test_each_days_level_is_the_apis_judgement(client, factory, dashboard, counselor):
    days = [dict(MODERATE_SCORES)] * 8 + [{"nausea": 7, "aches": 7, "anxiety": 7, "insomnia": 7}]
    patient = sharing(factory, counselor, days)
    rows = rows_of(text_of(dashboard.get(f"/dashboard/patients/{patient.id}")), "days")
    status = client.get(f"/api/v1/patients/{patient.id}/status", headers=counselor.headers).json
    assert status["level"] == "worsening"
    assert ">Worsening</strong>" in rows[0]
    for reason in status["reasons"]:
        assert escape(reason["message"]) in rows[0]
    # Earlier days were judged on their own history, not today's.
    assert ">Stable</strong>" in rows[1]


def test_notes_show_only_when_the_share_includes_them(client, factory, dashboard, counselor):
    patient = sharing(factory, counselor, [{"note": NOTE, **MODERATE_SCORES}], include_notes=True)
    html = text_of(dashboard.get(f"/dashboard/patients/{patient.id}"))
    assert NOTE in html and '<th scope="col">Note</th>' in html
    checkins_viewed = next(
        event for event in access_log(client, patient) if event["action"] == "checkins_viewed"
    )
    assert checkins_viewed["detail"]["notes_included"] is True


@pytest.mark.parametrize(
    ("scope", "shown", "hidden", "events"),
    [
        (
            ("checkins",),
            ["table days", "Nausea"],
            ['<svg class="chart"', "Level", "Download"],
            ["checkins_viewed"],
        ),
        (
            ("trends",),
            ['<svg class="chart"', "table days"],
            ["Level", "Download"],
            ["trends_viewed"],
        ),
        (
            ("status",),
            ["table days", ">Level<"],
            ['<svg class="chart"', ">Nausea<", "Download"],
            ["status_viewed"],
        ),
        (
            ("export",),
            ["Download CSV", "no days to show"],
            ["table days", "<svg"],
            ["patient_listed"],
        ),
    ],
)
def test_each_part_of_the_page_needs_its_scope(
    client, factory, dashboard, counselor, scope, shown, hidden, events
):
    patient = sharing(factory, counselor, [dict(MODERATE_SCORES)] * 2, scope=scope)
    before = len(access_log(client, patient))
    html = text_of(dashboard.get(f"/dashboard/patients/{patient.id}"))
    for text in shown:
        assert text in html, text
    for text in hidden:
        assert text not in html, text
    log = access_log(client, patient)
    assert [event["action"] for event in log[: len(log) - before]] == events


def test_the_range_picker_narrows_the_days(factory, dashboard, counselor):
    patient = sharing(factory, counselor, [dict(MODERATE_SCORES)] * 10)
    start = (TODAY - timedelta(days=2)).isoformat()
    html = text_of(dashboard.get(f"/dashboard/patients/{patient.id}?from={start}"))
    assert len(rows_of(html, "days")) == 3
    assert f'value="{start}"' in html and f'value="{TODAY.isoformat()}"' in html
    assert f'<input type="hidden" name="from" value="{start}">' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=yesterday", "Enter a date as YYYY-MM-DD"),
        ("from=2025-02-10&to=2025-02-01", "Must be on or before"),
        ("from=2020-01-01&to=2025-01-01", "at most 366 days"),
        ("from=1999-12-31&to=2000-01-31", "2000-01-01 or later"),
    ],
)
def test_a_bad_range_is_explained_beside_the_picker(
    client, factory, dashboard, counselor, query, message
):
    patient = sharing(factory, counselor, [dict(MODERATE_SCORES)])
    before = len(access_log(client, patient))
    response = dashboard.get(f"/dashboard/patients/{patient.id}?{query}")
    assert response.status_code == 422
    html = text_of(response)
    assert message in html and "There is a problem" in html and "<title>Error:" in html
    assert "table days" not in html
    assert len(access_log(client, patient)) == before  # nothing was shown


# --- Export ---------------------------------------------------------------------------------


def test_export_downloads_within_the_share_and_is_audited(client, factory, dashboard, counselor):
    patient = sharing(factory, counselor, [{"note": NOTE, **MODERATE_SCORES}] * 2)
    dashboard.get(f"/dashboard/patients/{patient.id}")
    start = (TODAY - timedelta(days=6)).isoformat()
    response = dashboard.post(
        f"/dashboard/patients/{patient.id}/export",
        {"format": "csv", "from": start, "to": TODAY.isoformat()},
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="steady-{start}-{TODAY.isoformat()}.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert NOTE not in text  # no notes in this share
    assert len([row for row in csv.reader(io.StringIO(text)) if row]) > 2
    export = next(event for event in access_log(client, patient) if event["action"] == "export")
    assert export["detail"] == {
        "share_id": export["detail"]["share_id"],
        "format": "csv",
        "notes_included": False,
        "start": start,
        "end": TODAY.isoformat(),
    }


def test_export_needs_the_export_scope_a_format_and_the_token(
    client, factory, dashboard, counselor
):
    without = sharing(factory, counselor, [dict(MODERATE_SCORES)], scope=("checkins",))
    dashboard.get(f"/dashboard/patients/{without.id}")
    path = f"/dashboard/patients/{without.id}/export"
    assert dashboard.post(path, {"format": "csv"}).status_code == 404
    patient = sharing(factory, counselor, [dict(MODERATE_SCORES)])
    path = f"/dashboard/patients/{patient.id}/export"
    bad_format = dashboard.post(path, {"format": "xlsx"})
    assert bad_format.status_code == 422 and "Choose CSV, PDF or FHIR." in text_of(bad_format)
    assert dashboard.post(path, {"format": "csv", "from": "soon"}).status_code == 422
    assert dashboard.post(path, {"format": "csv"}, token=False).status_code == 400
    assert "export" not in actions(client, patient)


# --- Alerts ---------------------------------------------------------------------------------


def alarming(factory, counselor):
    return sharing(factory, counselor, [dict(MODERATE_SCORES), {"nausea": 9}])


def test_alerts_list_open_ones_first_with_reasons_and_are_audited(
    client, factory, dashboard, counselor
):
    patient = alarming(factory, counselor)
    html = text_of(dashboard.get("/dashboard/alerts"))
    assert '<h2 id="open-title">Open (1)</h2>' in html
    assert '<h2 id="done-title">Acknowledged (0)</h2>' in html
    (row,) = rows_of(html, "alerts")
    assert patient.display_name in row and ">Severe</strong>" in row and "nausea 9" in row
    assert "Acknowledge<span" in row
    assert actions(client, patient)[0] == "alerts_viewed"


def test_acknowledging_an_alert_moves_it_below_and_is_audited(
    client, factory, dashboard, counselor
):
    patient = alarming(factory, counselor)
    dashboard.get("/dashboard/alerts")
    (alert,) = client.get("/api/v1/alerts", headers=counselor.headers).json["items"]
    response = dashboard.post(f"/dashboard/alerts/{alert['id']}/acknowledge")
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard/alerts"
    assert "HX-Request" in response.headers["Vary"]
    html = text_of(dashboard.get("/dashboard/alerts"))
    assert "acknowledged." in html and '<h2 id="open-title">Open (0)</h2>' in html
    assert '<h2 id="done-title">Acknowledged (1)</h2>' in html
    stored = client.get("/api/v1/alerts?status=all", headers=counselor.headers).json["items"]
    assert stored[0]["acknowledged_at"] is not None
    acknowledged = next(
        event for event in access_log(client, patient) if event["action"] == "alert_acknowledged"
    )
    assert acknowledged["detail"]["alert_id"] == alert["id"]


def test_htmx_gets_the_lists_back_instead_of_a_redirect(client, factory, dashboard, counselor):
    alarming(factory, counselor)
    dashboard.get("/dashboard/alerts")
    (alert,) = client.get("/api/v1/alerts", headers=counselor.headers).json["items"]
    response = dashboard.post(
        f"/dashboard/alerts/{alert['id']}/acknowledge", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = text_of(response)
    assert html.lstrip().startswith('<div id="alert-lists">') and "<html" not in html
    assert 'role="status"' in html and "Open (0)" in html
    assert "HX-Request" in response.headers["Vary"]


def test_an_alert_not_yours_or_without_a_token_stays_as_it_was(
    client, factory, dashboard, counselor
):
    other = factory.counselor()
    alarming(factory, other)
    (theirs,) = client.get("/api/v1/alerts", headers=other.headers).json["items"]
    dashboard.get("/dashboard/alerts")
    response = dashboard.post(f"/dashboard/alerts/{theirs['id']}/acknowledge")
    assert response.status_code == 404 and "Page not found" in text_of(response)
    failed = dashboard.post(
        f"/dashboard/alerts/{theirs['id']}/acknowledge", headers={"HX-Request": "true"}
    )
    assert failed.headers["HX-Retarget"] == "#main"  # htmx shows the error page's content
    alarming(factory, counselor)
    (mine,) = client.get("/api/v1/alerts", headers=counselor.headers).json["items"]
    refused = dashboard.post(f"/dashboard/alerts/{mine['id']}/acknowledge", token=False)
    assert refused.status_code == 400
    assert client.get("/api/v1/alerts", headers=counselor.headers).json["items"] == [mine]


# --- Headers and error pages ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/dashboard/login", "/dashboard", "/dashboard/alerts", "patient", "/dashboard/nope"]
)
def test_every_page_has_the_strict_policy_and_is_never_cached(factory, dashboard, counselor, path):
    if path == "patient":
        path = f"/dashboard/patients/{sharing(factory, counselor, [MODERATE_SCORES]).id}"
    response = dashboard.get(path)
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["form-action"] == "'self'"
    assert "unsafe" not in policy
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_apis_own_policy_is_unchanged(client):
    response = client.get("/api/v1/me")
    assert response.headers["Content-Security-Policy"] == (
        "default-src 'none'; frame-ancestors 'none'"
    )
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response.headers


def test_the_vendored_scripts_are_served_from_the_dashboard(client):
    htmx = client.get("/dashboard/static/vendor/htmx-2.0.11.min.js")
    assert htmx.status_code == 200 and b"htmx" in htmx.data
    licence = client.get("/dashboard/static/vendor/htmx-2.0.11.LICENSE")
    assert b"Zero-Clause BSD" in licence.data


def test_an_unexpected_failure_is_a_plain_page_without_internals(
    dashboard, counselor, monkeypatch
):
    def broken(_counselor):
        raise RuntimeError("secret internals at /srv/steady")

    monkeypatch.setattr(routes.reads, "caseload", broken)
    response = dashboard.get("/dashboard")
    assert response.status_code == 500
    html = text_of(response)
    assert "Something went wrong" in html and "Reference: <code>" in html
    assert "secret internals" not in html and "Traceback" not in html
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
