"""Exports benchmark, run by hand: `.venv/bin/python -m bench.bench_exports [--runs N]`.

In-process, through the real route (Flask test client) against a temporary SQLite file
database migrated to head:

* a 1-year PDF (366 check-ins logged through the API): median time and peak memory, with
  a breakdown of where the time goes (reads, chart, PDF layout);
* a 1-year PDF with a 2,000-character note every day (the most a PDF can hold): time,
  pages, size and peak memory;
* CSV and FHIR over 1, 5 and 10 years (3653 check-ins): time and peak memory while the
  stream is consumed chunk by chunk, to show memory stays flat as the range grows;
* a year with withdrawal scales (366 check-ins, a SOWS-Gossop response every day and a
  COWS observation twice a week, inserted directly): PDF, CSV and FHIR times.

Then, unless `--skip-server`, against a real gunicorn (`--worker-class gthread --workers 1
--threads 8`) on a temporary SQLite file migrated with `flask db upgrade`: two people each
download year-long PDFs with notes, back to back, while a third person's client polls
`/healthz` and saves check-ins; it prints p50 and max latency of both.

Peak memory is tracemalloc's: Python and NumPy allocations, not matplotlib's C++ buffers.
"""

import argparse
import io
import os
import random
import statistics
import subprocess
import tempfile
import threading
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from flask_migrate import upgrade
from pypdf import PdfReader

from bench.bench_request_path import call, expect, free_port, stop, wait_until_up
from server import create_app
from server.checkins.models import Checkin
from server.config import TestConfig
from server.exports import service
from server.extensions import db
from server.instruments.definitions import COWS, SOWS_GOSSOP, score
from server.instruments.models import InstrumentObservation, InstrumentResponse

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "migrations")
PASSWORD = "correct horse battery"
PDF_TARGET_MS = 300
NOTES_PDF_TARGET_MS = 5000
FLAT_RATIO = 1.5  # 10 years may cost at most this multiple of 1 year's peak
NOTES = ("slept badly", "Тошнота, но лучше", "tá mé tuirseach", "=not a formula", None)
# A long note every few days makes the 10-year CSV several MB, so flat memory shows.
LONG_NOTE = "Rough day, cramps and sweats but I kept water down. " * 30
WORDS = "rough day cramps sweats kept water down walked the dog called my sister slept".split()
MAX_NOTE = 2000  # the API's limit
REPO = Path(__file__).resolve().parent.parent


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


def full_note(rng: random.Random) -> str:
    """Ordinary words, exactly the API's maximum length."""
    words = []
    while sum(len(w) + 1 for w in words) <= MAX_NOTE:
        words.append(rng.choice(WORDS))
    return " ".join(words)[:MAX_NOTE]


def insert_directly(app, patient_id: str, end: date, days: int, *, full_notes=False) -> None:
    """3653 PUTs would take a while; exports only read rows, so insert them in bulk."""
    rng = random.Random(2)
    with app.app_context():
        rows = []
        for index in range(days):
            row = scores(rng, index, long_notes=True)
            if full_notes:
                row["note"] = full_note(rng)
            rows.append(
                Checkin(
                    patient_id=patient_id,
                    date=end - timedelta(days=days - 1 - index),
                    version=uuid.uuid4().hex,
                    change_seq=index + 1,
                    **row,
                )
            )
        db.session.add_all(rows)
        db.session.commit()


def random_items(rng: random.Random, instrument) -> dict[str, int]:
    return {item.item_id: rng.choice(item.values) for item in instrument.items}


def insert_scales(app, patient_id: str, end: date, days: int) -> int:
    """A SOWS-Gossop response every day and a COWS observation twice a week; how many."""
    rng = random.Random(3)
    rows = []
    for index in range(days):
        day = end - timedelta(days=days - 1 - index)
        at = datetime(day.year, day.month, day.day, 20, 0, tzinfo=UTC)
        for instrument, observed in ((SOWS_GOSSOP, False), (COWS, index % 7 in (0, 3))):
            if instrument is COWS and not observed:
                continue
            items = random_items(rng, instrument)
            scored = score(instrument, items)
            common = {
                "patient_id": patient_id,
                "instrument_id": instrument.id,
                "instrument_version": instrument.version,
                "date": day,
                "items": items,
                "total": scored.total,
                "band": scored.band.code if scored.band else None,
            }
            if observed:
                rows.append(InstrumentObservation(observed_at=at, **common))
            else:
                rows.append(InstrumentResponse(version=uuid.uuid4().hex, **common))
    with app.app_context():
        db.session.add_all(rows)
        db.session.commit()
    return len(rows)


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


def pdf_runs(client, patient: dict, start: date, end: date, runs: int) -> dict[str, list[float]]:
    """Time PDFs through the real route and, in the same runs, the chart figure and layout.

    The parts come from the runs they belong to, so "rest" (reads, HTTP) is exact per run
    even when the machine's speed moves between runs.
    """
    spent: dict[str, list[float]] = {"total": [], "chart": [], "layout": []}
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
            timed("total", get_export)(client, patient, "pdf", start, end)
    finally:
        service._chart, service.build_pdf = real_chart, real_build
    # The chart figure is built before build_pdf is called, so the two never overlap.
    spent["rest"] = [t - c - lay for t, c, lay in zip(*spent.values(), strict=True)]
    return spent


def years_before(end: date, years: int) -> date:
    return end - timedelta(days=round(365.25 * years) - 1)


def streamed_formats(client, patient: dict, end: date, runs: int) -> None:
    """CSV and FHIR over 1, 5 and 10 years: time and peak memory of the stream."""
    for fmt in ("csv", "fhir"):
        print(f"{fmt.upper()}, streamed (3653 check-ins stored)")
        peaks = {}
        for years in (1, 5, 10):
            start = years_before(end, years)
            if years == 10:
                start = end - timedelta(days=service.MAX_RANGE_DAYS - 1)

            def fetch(start=start, fmt=fmt):
                return get_export(client, patient, fmt, start, end)

            taken = median_ms(fetch, runs)
            size = fetch()
            peaks[years] = peak_bytes(fetch)
            days = (end - start).days + 1
            print(
                f"  {years:>2} y ({days:>4} days)  time {taken[0]:7.1f} ms"
                f"  peak mem {peaks[years] / 1e6:6.2f} MB  file {size / 1e6:5.2f} MB"
            )
        ratio = peaks[10] / peaks[1]
        verdict = "flat" if ratio <= FLAT_RATIO else "NOT FLAT"
        print(f"  peak memory ratio 10y/1y = {ratio:.2f}  (<= {FLAT_RATIO}: {verdict})\n")


def pdf_bytes(client, patient: dict, start: date, end: date) -> bytes:
    response = client.get(
        "/api/v1/export",
        query_string={"format": "pdf", "from": start, "to": end},
        headers=patient["headers"],
    )
    assert response.status_code == 200, response.status_code
    return response.data


def in_process(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(os.path.join(tmp, "bench.db"))
        client = app.test_client()
        end = datetime.now(UTC).date()

        year_patient = sign_up(client, "year@example.org", "Year Patient")
        log_via_api(client, year_patient, end, 366)
        decade_patient = sign_up(client, "decade@example.org", "Decade Patient")
        insert_directly(app, decade_patient["id"], end, service.MAX_RANGE_DAYS)
        notes_patient = sign_up(client, "notes@example.org", "Notes Patient")
        insert_directly(app, notes_patient["id"], end, service.MAX_PDF_DAYS, full_notes=True)
        year_start = end - timedelta(days=365)

        # Warm-up: imports matplotlib and fontTools, fills caches; not measured.
        get_export(client, year_patient, "pdf", year_start, end)
        get_export(client, decade_patient, "csv", years_before(end, 1), end)

        print(f"Exports benchmark (SQLite file DB, in-process, median of {runs} runs)\n")
        spent = pdf_runs(client, year_patient, year_start, end, runs)
        pdf_size = get_export(client, year_patient, "pdf", year_start, end)
        pdf_peak = peak_bytes(lambda: get_export(client, year_patient, "pdf", year_start, end))
        median = {name: statistics.median(values) for name, values in spent.items()}
        verdict = "under" if median["total"] <= PDF_TARGET_MS else "over"
        print("PDF, 1 year (366 check-ins logged)")
        print(
            f"  time     median {median['total']:7.1f} ms  (min {min(spent['total']):.1f},"
            f" max {max(spent['total']):.1f})  {verdict} {PDF_TARGET_MS} ms here; the target"
            " is judged against a78ccaa in one run: bench_pdf_against --reference-ms 279"
        )
        print(
            f"  of which chart figure {median['chart']:.1f} ms, PDF layout (chart drawing"
            f" included) {median['layout']:.1f} ms, reads + HTTP {median['rest']:.1f} ms"
        )
        print(f"  peak mem {pdf_peak / 1e6:7.2f} MB   size {pdf_size / 1e3:.0f} kB\n")

        notes_runs = max(runs // 3, 3)
        notes_ms = median_ms(
            lambda: get_export(client, notes_patient, "pdf", year_start, end), notes_runs
        )
        body = pdf_bytes(client, notes_patient, year_start, end)
        pages = len(PdfReader(io.BytesIO(body)).pages)
        peak = peak_bytes(lambda: get_export(client, notes_patient, "pdf", year_start, end))
        verdict = "ok" if notes_ms[0] <= NOTES_PDF_TARGET_MS else "OVER TARGET"
        print(f"PDF, 1 year, a {MAX_NOTE}-character note every day (366 check-ins)")
        print(
            f"  time     median {notes_ms[0]:7.1f} ms  (min {notes_ms[1]:.1f},"
            f" max {notes_ms[2]:.1f}, {notes_runs} runs)"
            f"  target <= {NOTES_PDF_TARGET_MS} ms: {verdict}"
        )
        print(f"  {pages} pages, {len(body) / 1e6:.2f} MB, peak mem {peak / 1e6:.1f} MB\n")

        streamed_formats(client, decade_patient, end, max(runs // 3, 3))

        scales_patient = sign_up(client, "scales@example.org", "Scales Patient")
        insert_directly(app, scales_patient["id"], end, service.MAX_PDF_DAYS)
        plain = scales_times(client, scales_patient, year_start, end, runs)
        results = insert_scales(app, scales_patient["id"], end, service.MAX_PDF_DAYS)
        with_scales = scales_times(client, scales_patient, year_start, end, runs)
        print(f"1 year (366 check-ins), without and with {results} withdrawal-scale results")
        for fmt in ("pdf", "csv", "fhir"):
            (before, before_size), (after, after_size) = plain[fmt], with_scales[fmt]
            print(
                f"  {fmt.upper():<4} median {before:7.1f} -> {after:7.1f} ms"
                f"  size {before_size / 1e3:6.0f} -> {after_size / 1e3:6.0f} kB"
            )


def scales_times(client, patient: dict, start: date, end: date, runs: int) -> dict:
    """Median time and size of each format over the year."""
    times = {}
    for fmt in ("pdf", "csv", "fhir"):

        def fetch(fmt=fmt):
            return get_export(client, patient, fmt, start, end)

        times[fmt] = (median_ms(fetch, runs)[0], fetch())
    return times


def under_load(rounds: int, threads: int) -> None:
    """Two people's year-long PDFs on a real gthread server; a third person's latency."""
    workdir = Path(tempfile.mkdtemp(prefix="steady-bench-exports-"))
    database = workdir / "steady.db"
    env = {
        **os.environ,
        "STEADY_ENV": "development",
        "DATABASE_URL": f"sqlite:///{database}",
        "ACCESS_TOKEN_MINUTES": "240",
        "STEADY_EXPORT_LIMIT_PER_USER": "100000 per hour",
    }
    env.pop("REDIS_URL", None)
    port = free_port()
    bin_dir = REPO / ".venv" / "bin"
    server = None
    try:
        subprocess.run(
            [str(bin_dir / "flask"), "--app", "wsgi", "db", "upgrade"],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
        )
        log = workdir / "gunicorn.log"
        with log.open("ab") as output:
            server = subprocess.Popen(
                [
                    str(bin_dir / "gunicorn"),
                    "--worker-class",
                    "gthread",
                    "--workers",
                    "1",
                    "--threads",
                    str(threads),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--log-level",
                    "warning",
                    "wsgi:app",
                ],
                cwd=REPO,
                env=env,
                stdout=output,
                stderr=output,
            )
        server.log = log
        wait_until_up(port, server)

        people = {}
        for name in ("first", "second", "third"):
            body = {
                "email": f"{name}@example.org",
                "password": PASSWORD,
                "role": "patient",
                "display_name": name,
            }
            status, registered = call(port, "POST", "/api/v1/auth/register", body)
            expect(status, (201,), f"register {name}")
            credentials = {"email": body["email"], "password": PASSWORD}
            status, tokens = call(port, "POST", "/api/v1/auth/login", credentials)
            expect(status, (200,), f"login {name}")
            people[name] = (registered["id"], tokens["access_token"])
        end = datetime.now(UTC).date()
        start = end - timedelta(days=service.MAX_PDF_DAYS - 1)
        writer = make_app(str(database))
        for name in ("first", "second"):
            insert_directly(writer, people[name][0], end, service.MAX_PDF_DAYS, full_notes=True)

        pdf_times: list[float] = []
        failures: list[int] = []

        def exporter(token: str) -> None:
            path = f"/api/v1/export?format=pdf&from={start}&to={end}"
            for _ in range(rounds):
                started = time.perf_counter()
                status, _ = fetch(port, path, token)
                pdf_times.append(time.perf_counter() - started)
                if status != 200:
                    failures.append(status)

        # One warm-up PDF: the worker imports matplotlib and fontTools on first use.
        fetch(port, f"/api/v1/export?format=pdf&from={start}&to={end}", people["first"][1])
        workers = [
            threading.Thread(target=exporter, args=(people[name][1],))
            for name in ("first", "second")
        ]
        for worker in workers:
            worker.start()
        health, puts = [], []
        third = people["third"][1]
        n = 0
        while any(worker.is_alive() for worker in workers):
            started = time.perf_counter()
            status, _ = call(port, "GET", "/healthz")
            health.append(time.perf_counter() - started)
            expect(status, (200,), "healthz")
            day = end - timedelta(days=n % 30)
            started = time.perf_counter()
            status, _ = call(port, "PUT", f"/api/v1/checkins/{day}", scores_for(n), third)
            puts.append(time.perf_counter() - started)
            expect(status, (200, 201), "check-in PUT")
            n += 1
            time.sleep(0.05)  # a steady trickle of requests, not a flood
        for worker in workers:
            worker.join()

        print(
            f"Under load: gunicorn gthread, 1 worker x {threads} threads, SQLite; two people"
            f" each download {rounds} year-long PDFs with {MAX_NOTE}-character notes"
        )
        print(
            f"  PDF time     p50 {statistics.median(pdf_times):6.2f} s"
            f"  max {max(pdf_times):6.2f} s  ({len(pdf_times)} PDFs, failures {failures})"
        )
        for label, values in (("/healthz", health), ("check-in PUT", puts)):
            print(
                f"  {label:<12} p50 {statistics.median(values) * 1000:7.1f} ms"
                f"  max {max(values) * 1000:7.1f} ms  ({len(values)} requests)"
                f"  target < 1000 ms: {'ok' if max(values) < 1 else 'OVER TARGET'}"
            )
    finally:
        stop(server)


def fetch(port: int, path: str, token: str) -> tuple[int, int]:
    """GET a download and read it to the end; returns (status, size)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, len(response.read())
    finally:
        connection.close()


def scores_for(n: int) -> dict:
    return {"nausea": n % 7, "aches": n % 5, "anxiety": n % 9, "insomnia": n % 4}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="PDFs per person under load")
    parser.add_argument("--threads", type=int, default=8, help="gthread threads")
    parser.add_argument("--skip-server", action="store_true", help="in-process part only")
    parser.add_argument("--only-server", action="store_true", help="gunicorn part only")
    args = parser.parse_args()
    if not args.only_server:
        in_process(args.runs)
    if not args.skip_server:
        under_load(args.rounds, args.threads)


if __name__ == "__main__":
    main()
