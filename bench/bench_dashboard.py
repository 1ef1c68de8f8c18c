"""Median time to render the dashboard's caseload page for a counselor with 50 patients.

Run by hand from the repository root (not part of the test suite):

    .venv/bin/python -m bench.bench_dashboard [--patients 50] [--requests 200]
    .venv/bin/python -m bench.bench_dashboard --database-url postgresql+psycopg://...  # empty DB

It migrates a throw-away SQLite database (or the given one), signs up a counselor and the
patients through the API (each logs 3 days, the last an alarming one, and shares its log),
signs the counselor in through the dashboard's form, then times GET /dashboard in-process
with the Flask test client: the whole request (session check, the patient list and the
open alerts with their audit rows, the template), without a network or a server. Request
log lines are off (LOG_LEVEL=WARNING). The query count of the same page is a test:
tests/dashboard/test_caseload_queries.py.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from flask_migrate import upgrade

from server import create_app
from server.config import TestConfig

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "bench password 1234"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
TARGET_MS = 100


def build_app(database_url: str):
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = database_url
    config.REDIS_URL = None
    config.LOG_LEVEL = "WARNING"
    config.SQLITE_STRICT_WRITES = False
    return create_app(config)


def register(client, email: str, role: str, name: str) -> dict:
    body = {"email": email, "password": PASSWORD, "role": role, "display_name": name}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {login.json['access_token']}"}


def seed(app, patients: int) -> None:
    client = app.test_client()
    register(client, "counselor@bench.example", "counselor", "Bench Counselor")
    today = date.today()
    for n in range(patients):
        headers = register(client, f"p{n}@bench.example", "patient", f"Patient {n:02d}")
        share = {
            "counselor_email": "counselor@bench.example",
            "purpose": "Bench",
            "expires_on": (today + timedelta(days=30)).isoformat(),
            "include_notes": False,
            "scope": ["checkins", "trends", "status", "export"],
        }
        assert client.post("/api/v1/shares", json=share, headers=headers).status_code == 201
        for offset, nausea in ((2, 3), (1, 4), (0, 9)):
            day = (today - timedelta(days=offset)).isoformat()
            body = {"nausea": nausea, "aches": 4, "anxiety": 5, "insomnia": 6}
            response = client.put(f"/api/v1/checkins/{day}", json=body, headers=headers)
            assert response.status_code in (200, 201)


def signed_in_browser(app):
    browser = app.test_client()
    page = browser.get("/dashboard/login").get_data(as_text=True)
    form = {
        "email": "counselor@bench.example",
        "password": PASSWORD,
        "csrf_token": TOKEN.search(page).group(1),
    }
    assert browser.post("/dashboard/login", data=form).status_code == 303
    return browser


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", help="an existing, empty database (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        app = build_app(url)
        with app.app_context():
            upgrade(directory=str(REPO / "migrations"))
        seed(app, args.patients)
        browser = signed_in_browser(app)
        for _ in range(10):  # warm-up: templates compiled, statements cached
            assert browser.get("/dashboard").status_code == 200
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = browser.get("/dashboard")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        rows = response.get_data(as_text=True).count('<th scope="row">')
    median = statistics.median(times)
    p90 = statistics.quantiles(times, n=10)[-1]
    print(f"caseload of {rows} patients, {args.requests} requests ({url.split(':')[0]})")
    print(f"median {median:.1f} ms, p90 {p90:.1f} ms, min {min(times):.1f} ms")
    verdict = "under" if median < TARGET_MS else "OVER"
    print(f"{verdict} the {TARGET_MS} ms target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
