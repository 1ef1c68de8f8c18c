"""Exports benchmark, run by hand: `.venv/bin/python -m bench.bench_exports [--runs N]`.

Everything goes through the real route in-process (Flask test client) against a temporary
SQLite file database migrated to head:

* a 1-year PDF (366 check-ins logged through the API): median time and peak memory, with
  a breakdown of where the time goes (reads, chart, PDF layout);
* the CSV export over 1, 5 and 10 years (3653 check-ins): time and peak memory while the
  stream is consumed chunk by chunk, to show memory stays flat as the range grows;
* for reference, a 10-year PDF and FHIR bundle (no target).

Peak memory is tracemalloc's: Python and NumPy allocations, not matplotlib's C++ buffers.
"""

import argparse
import os
import random
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta

from flask_migrate import upgrade

from server import create_app
from server.checkins.models import Checkin
from server.config import TestConfig
from server.exports import service
from server.extensions import db

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "migrations")
PASSWORD = "correct horse battery"
PDF_TARGET_MS = 300
FLAT_RATIO = 1.5  # 10 years may cost at most this multiple of 1 year's peak
NOTES = ("slept badly", "Тошнота, но лучше", "tá mé tuirseach", "=not a formula", None)
# A long note every few days makes the 10-year CSV several MB, so flat memory shows.
LONG_NOTE = "Rough day, cramps and sweats but I kept water down. " * 30


def make_app(db_path: str):
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{db_path}"
    config.REDIS_URL = None
    config.RATELIMIT_KEY_PREFIX = "bench"
    app = create_app(config)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
    return app


def sign_up(client, email: str, name: str) -> dict:
    body = {"email": email, "password": PASSWORD, "role": "patient", "display_name": name}
    registered = client.post("/api/v1/auth/register", json=body)
    assert registered.status_code == 201, registered.json
    tokens = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json
    return {"id": registered.json["id"], "headers": _bearer(tokens)}


def _bearer(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def scores(rng: random.Random, day_index: int, *, long_notes: bool = False) -> dict:
    body = {name: rng.randint(0, 10) for name in ("nausea", "aches", "anxiety", "insomnia")}
    body.update(sleep_hours=rng.choice((4.5, 6.0, 7.25)), cravings=rng.randint(0, 10))
    body["note"] = NOTES[day_index % len(NOTES)]
    if long_notes and day_index % 3 == 0:
        body["note"] = LONG_NOTE
    return body


def log_via_api(client, patient: dict, end: date, days: int) -> None:
    rng = random.Random(1)
    for index in range(days):
        day = end - timedelta(days=days - 1 - index)
        response = client.put(
            f"/api/v1/checkins/{day}", json=scores(rng, index), headers=patient["headers"]
        )
        assert response.status_code in (200, 201), response.json


def insert_directly(app, patient: dict, end: date, days: int) -> None:
    """3653 PUTs would take a while; exports only read rows, so insert them in bulk."""
    rng = random.Random(2)
    with app.app_context():
        db.session.add_all(
            Checkin(
                patient_id=patient["id"],
                date=end - timedelta(days=days - 1 - index),
                **scores(rng, index, long_notes=True),
            )
            for index in range(days)
        )
        db.session.commit()


def median_ms(fn, runs: int) -> tuple[float, float, float]:
    """Median, min and max wall time of `fn` in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times), max(times)


def peak_bytes(fn) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def get_export(client, patient: dict, fmt: str, start: date, end: date) -> int:
    """Fetch an export through the route, consuming a stream chunk by chunk; return its size."""
    response = client.get(
        "/api/v1/export",
        query_string={"format": fmt, "from": start, "to": end},
        headers=patient["headers"],
        buffered=False,
    )
    assert response.status_code == 200, response.status_code
    size = 0
    for chunk in response.response:  # the app iterator: nothing is joined in memory
        size += len(chunk)
    response.close()
    return size


def pdf_breakdown(client, patient: dict, start: date, end: date, runs: int) -> dict:
    """Time the chart and the PDF layout inside the real request."""
    spent = {"chart": [], "layout": []}
    real_chart, real_build = service._chart, service.build_pdf

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name].append((time.perf_counter() - started) * 1000)

        return wrapper

    service._chart, service.build_pdf = timed("chart", real_chart), timed("layout", real_build)
    try:
        for _ in range(runs):
            get_export(client, patient, "pdf", start, end)
    finally:
        service._chart, service.build_pdf = real_chart, real_build
    # The chart is rendered before build_pdf is called, so the two never overlap.
    return {name: statistics.median(values) for name, values in spent.items()}


def years_before(end: date, years: int) -> date:
    return end - timedelta(days=round(365.25 * years) - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per measurement")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(os.path.join(tmp, "bench.db"))
        client = app.test_client()
        end = datetime.now(UTC).date()

        year_patient = sign_up(client, "year@example.org", "Year Patient")
        log_via_api(client, year_patient, end, 366)
        decade_patient = sign_up(client, "decade@example.org", "Decade Patient")
        insert_directly(app, decade_patient, end, service.MAX_RANGE_DAYS)
        year_start = end - timedelta(days=365)

        # Warm-up: imports matplotlib and fontTools, fills caches; not measured.
        get_export(client, year_patient, "pdf", year_start, end)
        get_export(client, decade_patient, "csv", years_before(end, 1), end)

        print(f"Exports benchmark (SQLite file DB, in-process, median of {args.runs} runs)\n")
        pdf_ms = median_ms(
            lambda: get_export(client, year_patient, "pdf", year_start, end), args.runs
        )
        pdf_size = get_export(client, year_patient, "pdf", year_start, end)
        pdf_peak = peak_bytes(lambda: get_export(client, year_patient, "pdf", year_start, end))
        parts = pdf_breakdown(client, year_patient, year_start, end, max(args.runs // 3, 3))
        verdict = "ok" if pdf_ms[0] <= PDF_TARGET_MS else "OVER TARGET"
        print("PDF, 1 year (366 check-ins logged)")
        print(
            f"  time     median {pdf_ms[0]:7.1f} ms  (min {pdf_ms[1]:.1f}, max {pdf_ms[2]:.1f})"
            f"  target <= {PDF_TARGET_MS} ms: {verdict}"
        )
        other = pdf_ms[0] - parts["chart"] - parts["layout"]
        print(
            f"  of which chart {parts['chart']:.1f} ms, PDF layout {parts['layout']:.1f} ms,"
            f" reads + HTTP {other:.1f} ms"
        )
        print(f"  peak mem {pdf_peak / 1e6:7.2f} MB   size {pdf_size / 1e3:.0f} kB\n")

        print("CSV, streamed (3653 check-ins stored)")
        csv_runs = max(args.runs // 3, 3)
        peaks = {}
        for years in (1, 5, 10):
            start = years_before(end, years)
            if years == 10:
                start = end - timedelta(days=service.MAX_RANGE_DAYS - 1)
            taken = median_ms(
                lambda start=start: get_export(client, decade_patient, "csv", start, end),
                csv_runs,
            )
            size = get_export(client, decade_patient, "csv", start, end)
            peaks[years] = peak_bytes(
                lambda start=start: get_export(client, decade_patient, "csv", start, end)
            )
            days = (end - start).days + 1
            print(
                f"  {years:>2} y ({days:>4} days)  time {taken[0]:7.1f} ms"
                f"  peak mem {peaks[years] / 1e6:6.2f} MB  file {size / 1e6:5.2f} MB"
            )
        ratio = peaks[10] / peaks[1]
        verdict = "flat" if ratio <= FLAT_RATIO else "NOT FLAT"
        print(f"  peak memory ratio 10y/1y = {ratio:.2f}  (<= {FLAT_RATIO}: {verdict})\n")

        print("For reference, 10 years (no target)")
        decade_start = end - timedelta(days=service.MAX_RANGE_DAYS - 1)
        for fmt in ("pdf", "fhir"):
            taken = median_ms(
                lambda fmt=fmt: get_export(client, decade_patient, fmt, decade_start, end), 3
            )
            size = get_export(client, decade_patient, fmt, decade_start, end)
            peak = peak_bytes(
                lambda fmt=fmt: get_export(client, decade_patient, fmt, decade_start, end)
            )
            print(
                f"  {fmt:<4}  time {taken[0]:7.1f} ms  peak mem {peak / 1e6:6.2f} MB"
                f"  size {size / 1e6:5.2f} MB"
            )


if __name__ == "__main__":
    main()
