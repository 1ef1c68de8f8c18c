"""Test data builders: through the HTTP API like the mobile app does, or plain stand-ins."""

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from server.instruments.definitions import COWS, INSTRUMENTS

PASSWORD = "correct horse battery"
RECORD_STAMP = datetime(2025, 3, 8, 9, 30, 15, tzinfo=UTC)
# Core scores (nausea, aches, anxiety, insomnia) 3, 4, 5, 6: total 18, every one different.
MODERATE_SCORES = {"nausea": 3, "aches": 4, "anxiety": 5, "insomnia": 6}
_sequence = itertools.count(1)


@dataclass(frozen=True)
class CheckinRecord:
    """Minimal stand-in for the ORM check-in (satisfies CheckinLike).

    Only the attributes the trends, judgement and export code read.
    """

    date: date
    nausea: int = 2
    aches: int = 2
    anxiety: int = 2
    insomnia: int = 2
    diarrhea: int | None = None
    vomiting: int | None = None
    cravings: int | None = None
    sleep_hours: float | None = None
    used_opioids: bool | None = None
    crisis: bool | None = None
    note: str | None = None
    taken: tuple[dict, ...] | None = None
    episode_day: int | None = None
    created_at: datetime = RECORD_STAMP
    updated_at: datetime = RECORD_STAMP

    @property
    def total(self) -> int:
        """Sum of the four core scores, as the model stores it."""
        return self.nausea + self.aches + self.anxiety + self.insomnia


def trend_summary(mean, low, high, latest, previous_mean, change, direction) -> dict:
    """One metric's summary entry, in the shape the trends module returns."""
    return {
        "mean": mean,
        "min": low,
        "max": high,
        "latest": latest,
        "previous_mean": previous_mean,
        "change": change,
        "direction": direction,
    }


@dataclass
class Person:
    """A registered user and the headers of their signed-in session."""

    id: str
    email: str
    role: str
    display_name: str
    tokens: dict = field(default_factory=dict)

    @property
    def headers(self) -> dict:
        """Authorization header with the access token."""
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}

    @property
    def refresh_headers(self) -> dict:
        """Authorization header with the refresh token."""
        return {"Authorization": f"Bearer {self.tokens['refresh_token']}"}


def checkin_body(**overrides) -> dict:
    """A valid check-in body with moderate scores."""
    body = {"nausea": 3, "aches": 4, "anxiety": 5, "insomnia": 2}
    body.update(overrides)
    return body


class Factory:
    """Creates people and their data through the public API."""

    def __init__(self, app, client):
        self.app = app
        self.client = client

    def person(self, role: str = "patient", *, login: bool = True, **fields) -> Person:
        """Register (and by default sign in) a new person."""
        n = next(_sequence)
        body = {
            "email": f"person{n}@example.org",
            "password": PASSWORD,
            "role": role,
            "display_name": f"Person {n}",
            **fields,
        }
        response = self.client.post("/api/v1/auth/register", json=body)
        assert response.status_code == 201, response.json
        person = Person(
            id=response.json["id"],
            email=response.json["email"],
            role=role,
            display_name=body["display_name"],
        )
        if login:
            person.tokens = self.login(person.email)
        return person

    def patient(self, **fields) -> Person:
        """A signed-in patient."""
        return self.person("patient", **fields)

    def counselor(self, **fields) -> Person:
        """A signed-in counselor."""
        return self.person("counselor", **fields)

    def login(self, email: str, password: str = PASSWORD) -> dict:
        """Sign in and return the token pair."""
        response = self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.json
        return response.json

    def relogin(self, person: Person) -> Person:
        """Sign in again (e.g. after moving the clock past the token's lifetime)."""
        person.tokens = self.login(person.email)
        return person

    def checkin(self, person: Person, day: date, **overrides):
        """PUT a check-in for a day and return the response."""
        response = self.client.put(
            f"/api/v1/checkins/{day.isoformat()}",
            json=checkin_body(**overrides),
            headers=person.headers,
        )
        assert response.status_code in (200, 201), response.json
        return response

    def share(
        self,
        patient: Person,
        counselor: Person,
        *,
        scope=("checkins", "trends", "status", "export"),
        include_notes: bool = False,
        days: int = 30,
        purpose: str = "Weekly review of my withdrawal log",
    ) -> dict:
        """Share a patient's log with a counselor through the API."""
        response = self.client.post(
            "/api/v1/shares",
            json={
                "counselor_email": counselor.email,
                "purpose": purpose,
                "expires_on": (date.today() + timedelta(days=days)).isoformat(),
                "include_notes": include_notes,
                "scope": list(scope),
            },
            headers=patient.headers,
        )
        assert response.status_code == 201, response.json
        return response.json

    def instrument_response(self, person: Person, instrument_id: str, day: date, value=1):
        """PUT a complete response (every item `value`) to a patient instrument for a day."""
        items = dict.fromkeys(INSTRUMENTS[instrument_id].item_ids, value)
        response = self.client.put(
            f"/api/v1/instruments/{instrument_id}/responses/{day.isoformat()}",
            json={"items": items},
            headers=person.headers,
        )
        assert response.status_code in (200, 201), response.json
        return response

    def cows_observation(self, counselor: Person, patient: Person, *, hours_ago=0, **values):
        """POST a COWS observation (every item 0 unless given) made `hours_ago` hours ago."""
        observed_at = datetime.now(UTC) - timedelta(hours=hours_ago, minutes=1)
        response = self.client.post(
            f"/api/v1/patients/{patient.id}/observations/cows-11",
            json={
                "items": {item_id: values.get(item_id, 0) for item_id in COWS.item_ids},
                "observed_at": observed_at.isoformat(),
            },
            headers=counselor.headers,
        )
        assert response.status_code == 201, response.json
        return response

    def log(self, person: Person, end: date, scores: list[dict | None]) -> None:
        """Log consecutive days ending at `end`; None leaves a gap."""
        start = end - timedelta(days=len(scores) - 1)
        for offset, overrides in enumerate(scores):
            if overrides is not None:
                self.checkin(person, start + timedelta(days=offset), **overrides)
