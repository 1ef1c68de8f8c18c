"""The offline story end to end, through HTTP: a phone offline for days, and a tablet."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

FIXED_NOW = datetime(2026, 6, 15, 20, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


class Device:
    """A client app with its own sign-in, its own copy of the log and its feed cursor."""

    def __init__(self, client, factory, patient):
        self.client = client
        self.headers = {"Authorization": f"Bearer {factory.login(patient.email)['access_token']}"}
        self.copy: dict[str, tuple[str, dict]] = {}
        self.cursor = None

    def pull(self) -> list[dict]:
        """Follow the changes feed from the cursor to its end, applying every change."""
        pulled = []
        while True:
            query = {"limit": 4, **({"since": self.cursor} if self.cursor else {})}
            page = self.client.get(
                "/api/v1/checkins/changes", query_string=query, headers=self.headers
            )
            assert page.status_code == 200, page.json
            for change in page.json["items"]:
                if change["deleted"]:
                    self.copy.pop(change["date"], None)
                else:
                    self.copy[change["date"]] = (change["etag"], change["checkin"])
            pulled += page.json["items"]
            self.cursor = page.json["next_cursor"]
            if not page.json["has_more"]:
                return pulled


def scores(n: int) -> dict:
    return {"nausea": n % 11, "aches": 2, "anxiety": (n * 3) % 11, "insomnia": 4}


def server_days(client, headers) -> dict:
    """Date -> (ETag, check-in) as the server has them now."""
    listing = client.get("/api/v1/checkins?from=2026-01-01&page_size=100", headers=headers)
    days = {}
    for entry in listing.json["items"]:
        got = client.get(f"/api/v1/checkins/{entry['date']}", headers=headers)
        days[entry["date"]] = (got.headers["ETag"], got.json)
    return days


def test_a_phone_offline_for_ten_days_and_a_second_device(client, factory):
    patient = factory.patient()
    phone, tablet = Device(client, factory, patient), Device(client, factory, patient)
    # The tablet saw the (empty) log before the phone went offline.
    assert tablet.pull() == []

    # The ten days before today, logged offline and queued on the phone, go up in one batch.
    queued = [
        {"date": (TODAY - timedelta(days=10 - n)).isoformat(), **scores(n)} for n in range(10)
    ]
    upload = client.post("/api/v1/checkins/batch", json={"items": queued}, headers=phone.headers)
    assert upload.status_code == 200
    results = upload.json["items"]
    assert [r["status"] for r in results] == [201] * 10
    assert [r["date"] for r in results] == [item["date"] for item in queued]

    # The answer never reached the phone: it sends the same batch again.
    retry = client.post("/api/v1/checkins/batch", json={"items": queued}, headers=phone.headers)
    assert retry.status_code == 200
    assert [r["status"] for r in retry.json["items"]] == [200] * 10
    assert [r["etag"] for r in retry.json["items"]] == [r["etag"] for r in results]
    listing = client.get("/api/v1/checkins", headers=phone.headers).json
    assert listing["total_items"] == 10  # no duplicates
    for result in results:
        phone.copy[result["date"]] = (result["etag"], result["checkin"])

    # The tablet, which never fetched these days, tries to create one of them: refused.
    taken = queued[4]["date"]
    create_only = client.put(
        f"/api/v1/checkins/{taken}",
        json=scores(10),
        headers={**tablet.headers, "If-None-Match": "*"},
    )
    assert create_only.status_code == 412
    assert "exists already" in create_only.json["detail"]
    assert create_only.headers["ETag"] == results[4]["etag"]
    assert client.get(f"/api/v1/checkins/{taken}", headers=tablet.headers).json["nausea"] == 4

    # Today was not logged yet: the tablet's create-only PUT goes through.
    today = TODAY.isoformat()
    tablet_today = client.put(
        f"/api/v1/checkins/{today}",
        json=scores(7),
        headers={**tablet.headers, "If-None-Match": "*"},
    )
    assert tablet_today.status_code == 201

    # The phone corrects one day (If-Match: its own ETag) and deletes another.
    corrected = queued[2]["date"]
    fixed = client.put(
        f"/api/v1/checkins/{corrected}",
        json={**scores(2), "note": "the real numbers"},
        headers={**phone.headers, "If-Match": results[2]["etag"]},
    )
    assert fixed.status_code == 200
    gone = queued[7]["date"]
    assert client.delete(f"/api/v1/checkins/{gone}", headers=phone.headers).status_code == 204

    # The tablet pulls the feed, deletion included, and holds what the server holds.
    pulled = tablet.pull()
    assert {"date": gone, "deleted": True} in pulled
    assert [c["date"] for c in pulled if not c["deleted"]][-2:] == [today, corrected]
    truth = server_days(client, tablet.headers)
    assert tablet.copy == truth
    assert len(truth) == 10  # 10 uploaded, one deleted, today added

    # The phone catches up on the tablet's day the same way, and both agree.
    phone.cursor = None
    phone.copy = {}
    phone.pull()
    assert phone.copy == truth == tablet.copy
    # Nothing new: both are at the end of the feed.
    assert tablet.pull() == [] and phone.pull() == []
