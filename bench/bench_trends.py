"""Throughput of GET /trends (90 days) and PUT /checkins/{date} against a bare endpoint.

Run by hand from the repository root (not part of the test suite):

    .venv/bin/python -m bench.bench_trends [--seconds 10] [--concurrency 4] [--workers 2]

It migrates a throw-away SQLite database (or the one in --database-url), starts
gunicorn on a free local port, registers a patient, logs 90 days through the API,
then drives each endpoint in turn with a closed-loop load generator (one process
per connection, http.client) and prints req/s, p50 and p95 latency, and each
endpoint's ratios against GET /healthz on the same server in the same run.
Absolute numbers depend on the machine; the ratios are the point.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / ".venv" / "bin"
HISTORY_DAYS = 90
PASSWORD = "bench password 1234"


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(port: int, method: str, path: str, body: dict | None = None, token: str | None = None):
    """One request on a fresh connection; returns (status, decoded JSON or None)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        connection.close()


def wait_until_up(port: int, server: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited during start-up; see its output above")
        try:
            if call(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)  # polling a starting server, not waiting on application logic
    raise SystemExit("gunicorn did not answer /healthz in time")


def day_body(rng: random.Random) -> dict:
    """A plausible check-in."""
    return {
        "nausea": rng.randint(0, 8),
        "aches": rng.randint(0, 8),
        "anxiety": rng.randint(0, 8),
        "insomnia": rng.randint(0, 8),
        "diarrhea": rng.choice([None, rng.randint(0, 6)]),
        "vomiting": rng.choice([None, rng.randint(0, 5)]),
        "cravings": rng.randint(0, 10),
        "sleep_hours": rng.choice([None, round(rng.uniform(2, 9), 1)]),
        "used_opioids": rng.random() < 0.05,
        "crisis": False,
        "note": None,
    }


def load_loop(args: tuple) -> tuple[int, int, list[float], float]:
    """Run one closed-loop client until the deadline (runs in its own process)."""
    port, kind, path, token, seconds, worker, days = args
    rng = random.Random(worker)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + seconds
    n = 0
    while time.perf_counter() < deadline:
        if kind == "put":
            # Rotate over the 90 logged days with fresh scores, so every PUT really writes.
            day = days[(worker * 7 + n) % len(days)]
            method, target = "PUT", f"/api/v1/checkins/{day}"
            body = json.dumps(day_body(rng))
            request_headers = {**headers, "Content-Type": "application/json"}
        else:
            method, target, body, request_headers = "GET", path, None, headers
        t0 = time.perf_counter()
        try:
            connection.request(method, target, body, request_headers)
            response = connection.getresponse()
            response.read()
            ok = response.status in (200, 201)
        except (OSError, http.client.HTTPException):
            connection.close()
            ok = False
        latencies.append((time.perf_counter() - t0) * 1000)
        errors += not ok
        n += 1
    connection.close()
    return n, errors, latencies, time.perf_counter() - started


def measure(pool, port, name, kind, path, token, seconds, concurrency, days) -> Result:
    # A short warm-up so imports, connections and caches are not counted.
    list(
        pool.map(load_loop, [(port, kind, path, token, 1.0, w, days) for w in range(concurrency)])
    )
    jobs = [(port, kind, path, token, seconds, w, days) for w in range(concurrency)]
    outcomes = list(pool.map(load_loop, jobs))
    return Result(
        name=name,
        requests=sum(o[0] for o in outcomes),
        errors=sum(o[1] for o in outcomes),
        seconds=max(o[3] for o in outcomes),
        latencies_ms=[ms for o in outcomes for ms in o[2]],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per endpoint")
    parser.add_argument("--concurrency", type=int, default=4, help="client connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--redis-url", help="default: none (in-process limits and cache)")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="steady-bench-"))
    env = {
        **os.environ,
        "STEADY_ENV": "development",
        "DATABASE_URL": options.database_url or f"sqlite:///{workdir / 'bench.db'}",
        # Long enough for the whole run; the default 15 minutes could expire mid-run.
        "ACCESS_TOKEN_MINUTES": "240",
    }
    env.pop("REDIS_URL", None)
    if options.redis_url:
        env["REDIS_URL"] = options.redis_url
    port = free_port()
    server = None
    try:
        subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
        )
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--workers",
                str(options.workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=REPO,
            env=env,
        )
        wait_until_up(port, server)

        email = f"bench-{int(time.time())}@example.org"
        status, _ = call(
            port,
            "POST",
            "/api/v1/auth/register",
            {"email": email, "password": PASSWORD, "role": "patient", "display_name": "Bench"},
        )
        assert status == 201, status
        status, tokens = call(
            port, "POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD}
        )
        assert status == 200, status
        token = tokens["access_token"]

        today = datetime.now(UTC).date()
        days = [(today - timedelta(days=n)).isoformat() for n in range(HISTORY_DAYS)]
        rng = random.Random(90)
        for day in days:
            status, _ = call(port, "PUT", f"/api/v1/checkins/{day}", day_body(rng), token)
            assert status in (200, 201), (day, status)
        start = date.fromisoformat(days[-1])
        trends_path = f"/api/v1/trends?from={start}&to={today}"
        status, trends = call(port, "GET", trends_path, token=token)
        assert status == 200 and trends["days_logged"] == HISTORY_DAYS, status

        print(
            f"gunicorn {options.workers} sync workers, {options.concurrency} client "
            f"connections, {options.seconds:g}s per endpoint, "
            f"{'PostgreSQL' if 'postgresql' in env['DATABASE_URL'] else 'SQLite'}, "
            f"{os.cpu_count()} CPUs (client and server share them)"
        )
        plan = [
            ("GET /healthz (bare)", "get", "/healthz", None),
            (f"GET /api/v1/trends ({HISTORY_DAYS} days)", "get", trends_path, token),
            ("PUT /api/v1/checkins/{date}", "put", None, token),
        ]
        results = []
        with ProcessPoolExecutor(max_workers=options.concurrency) as pool:
            for name, kind, path, bearer in plan:
                job = (port, name, kind, path, bearer, options.seconds, options.concurrency)
                results.append(measure(pool, *job, days))

        bare = results[0]
        header = f"{'endpoint':36} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}"
        print(header + f" {'req/s vs bare':>14} {'p50 vs bare':>12}")
        for result in results:
            p50, p95 = result.percentile(0.50), result.percentile(0.95)
            print(
                f"{result.name:36} {result.rps:9.1f} {p50:8.2f} {p95:8.2f} {result.errors:7d}"
                f" {result.rps / bare.rps:14.3f} {p50 / bare.percentile(0.5):12.2f}"
            )
        return 1 if any(result.errors for result in results) else 0
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
