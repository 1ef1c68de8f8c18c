"""Throughput ratios of Steady's request paths against its own /healthz, and a naive peer's.

Run by hand from the repository root (not part of the test suite; needs `wrk`):

    .venv/bin/python -m bench.bench_request_path [--seconds 10] [--workers N] [--repo PATH]

In one run it migrates a throw-away SQLite database (or the one in --database-url),
starts Steady with gunicorn as `make run` does (its gunicorn.conf.py: one threaded worker
without Redis), registers a patient and logs 90 days through the API, sets
up two counselors (5 and 50 sharing patients), starts the naive peer
(bench/naive_peer) with 2 sync workers (or --workers) on its own SQLite file, then drives
each endpoint with wrk (2 s warm-up, then a timed run) and prints req/s, p50, errors and
each endpoint's ratio to the same server's GET /healthz (measured first and again last;
the mean of the two). Absolute numbers depend on the machine; the ratios are the point.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import jwt

HERE = Path(__file__).resolve().parents[1]  # the checkout holding this script and the peer
HISTORY_DAYS = 90
PASSWORD = "bench password 1234"
CONNECTIONS = 16
THREADS = 2
WARM_UP_SECONDS = 2
SMALL_CASELOAD, LARGE_CASELOAD = 5, 50
CASELOAD_DAYS = 3
PUT_TARGET, TRENDS_TARGET = 0.75, 0.30
DRIFT = 0.15  # warn when a /healthz baseline differs this much between start and end

# Shared by the two PUT scripts: each thread seeds its own generator and starts at its own
# offset, then every request takes the next day and fresh scores, so every PUT writes.
PUT_LUA = """
local days = {%(days)s}
local counter = 0
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  math.randomseed(1000 + id * 7919)
  counter = id * 37
end

wrk.method = "PUT"
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["Content-Type"] = "application/json"

function request()
  counter = counter + 1
  local day = days[(counter %% #days) + 1]
  local body = string.format(
    '{"nausea":%%d,"aches":%%d,"anxiety":%%d,"insomnia":%%d}',
    math.random(0, 8), math.random(0, 8), math.random(0, 8), math.random(0, 8))
  return wrk.format(nil, "/api/v1/checkins/" .. day, nil, body)
end
"""

GET_LUA = """
wrk.method = "GET"
wrk.path = "%(path)s"
%(auth)s
"""


@dataclass
class Result:
    name: str
    server: str  # "steady" or "peer": which /healthz the ratio is against
    rps: float
    p50_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    cpu_ms: float  # server CPU (all gunicorn processes) per request in the timed run

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(port: int, method: str, path: str, body: dict | None = None, token: str | None = None):
    """One request on a fresh connection; returns (status, decoded JSON or None)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
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


def expect(status: int, wanted: tuple[int, ...], what: str) -> None:
    if status not in wanted:
        raise SystemExit(f"{what}: HTTP {status}, expected {wanted}")


def start_gunicorn(
    gunicorn: str, app: str, cwd: Path, env: dict, port: int, options: list[str], log: Path
) -> subprocess.Popen:
    """Start gunicorn; its output (Steady logs every request) goes to `log`, not the terminal."""
    command = [gunicorn, *options, "--bind", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", app]
    with log.open("ab") as output:
        server = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=output)
    server.log = log
    return server


def wait_until_up(port: int, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            print(server.log.read_text()[-4000:], file=sys.stderr)
            raise SystemExit("gunicorn exited during start-up; its log is above")
        try:
            if call(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)  # polling a starting server, not waiting on application logic
    raise SystemExit("gunicorn did not answer /healthz in time")


def stop(server: subprocess.Popen | None) -> None:
    if server is not None and server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def scores(n: int) -> dict:
    """A plausible, deterministic check-in (the four core scores)."""
    return {
        "nausea": n % 7,
        "aches": (n * 3) % 8,
        "anxiety": (n * 5) % 9,
        "insomnia": (n * 7) % 6,
    }


def sign_up(port: int, role: str, name: str, run: str) -> tuple[str, str]:
    """Register and log in one account; returns (email, access token)."""
    email = f"bench-{run}-{name}@example.org"
    body = {"email": email, "password": PASSWORD, "role": role, "display_name": name}
    status, _ = call(port, "POST", "/api/v1/auth/register", body)
    expect(status, (201,), f"register {name}")
    status, tokens = call(
        port, "POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD}
    )
    expect(status, (200,), f"login {name}")
    return email, tokens["access_token"]


def log_days(port: int, token: str, days: list[str], what: str) -> None:
    for n, day in enumerate(days):
        status, _ = call(port, "PUT", f"/api/v1/checkins/{day}", scores(n), token)
        expect(status, (200, 201), f"{what}: PUT {day}")


def caseload_patient(port: int, run: str, n: int, counselor: str, days: list[str]) -> None:
    """One patient who logs a few days and shares them with `counselor`."""
    _, token = sign_up(port, "patient", f"patient-{n}", run)
    log_days(port, token, days, f"patient {n}")
    share = {
        "counselor_email": counselor,
        "purpose": "Benchmark caseload",
        "expires_on": (datetime.now(UTC).date() + timedelta(days=30)).isoformat(),
        "include_notes": False,
        "scope": ["checkins", "trends", "status", "export"],
    }
    status, _ = call(port, "POST", "/api/v1/shares", share, token)
    expect(status, (200, 201), f"patient {n}: share")


def write_script(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.lua"
    path.write_text(text)
    return path


def get_script(directory: Path, name: str, path: str, token: str | None = None) -> Path:
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
    return write_script(directory, name, GET_LUA % {"path": path, "auth": auth})


def put_script(directory: Path, name: str, days: list[str], token: str) -> Path:
    quoted = ", ".join(f'"{day}"' for day in days)
    return write_script(directory, name, PUT_LUA % {"days": quoted, "token": token})


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output: str) -> dict:
    def number(pattern: str, default: float | None = None) -> float:
        match = re.search(pattern, output)
        if match is None:
            if default is None:
                raise SystemExit(f"could not parse wrk output:\n{output}")
            return default
        return float(match.group(1))

    p50 = re.search(r"^\s*50%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "requests": int(number(r"(\d+) requests in")),
        "p50_ms": float(p50.group(1)) * UNITS_MS[p50.group(2)] if p50 else float("nan"),
        "non_2xx": int(number(r"Non-2xx or 3xx responses:\s+(\d+)", 0)),
        "socket_errors": sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
    }


def run_wrk(port: int, script: Path, seconds: float, latency: bool) -> dict:
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "10s"]
    if latency:
        command.append("--latency")
    command += ["-s", str(script), f"http://127.0.0.1:{port}"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def cpu_seconds(server: subprocess.Popen) -> float:
    """User + system CPU of a gunicorn master and its workers so far (Linux /proc)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    ticks = 0
    for pid in [server.pid, *map(int, children)]:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(
    name: str, server: str, process: subprocess.Popen, port: int, script: Path, seconds: float
) -> Result:
    run_wrk(port, script, WARM_UP_SECONDS, latency=False)  # imports, caches, pages
    cpu_before = cpu_seconds(process)
    numbers = run_wrk(port, script, seconds, latency=True)
    cpu_ms = (cpu_seconds(process) - cpu_before) * 1000 / max(numbers["requests"], 1)
    result = Result(name=name, server=server, cpu_ms=cpu_ms, **numbers)
    print(f"  {name}: {result.rps:.0f} req/s", file=sys.stderr, flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="timed run per endpoint")
    parser.add_argument(
        "--workers",
        type=int,
        help="gunicorn workers of both servers (default: Steady's gunicorn.conf.py; peer 2)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="threads per Steady worker (default: its gunicorn.conf.py, 8); the peer has none",
    )
    parser.add_argument("--database-url", help="Steady's database; default: a temporary SQLite")
    parser.add_argument("--redis-url", help="default: none (in-process limits and cache)")
    parser.add_argument(
        "--repo",
        type=Path,
        default=HERE,
        help="the Steady checkout to run, with its .venv (default: this one)",
    )
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    repo = options.repo.resolve()
    steady_bin = repo / ".venv" / "bin"

    workdir = Path(tempfile.mkdtemp(prefix="steady-bench-"))
    steady_env = {
        **os.environ,
        "STEADY_ENV": "development",
        "DATABASE_URL": options.database_url or f"sqlite:///{workdir / 'steady.db'}",
        # Long enough for the whole run; the default 15 minutes could expire mid-run.
        "ACCESS_TOKEN_MINUTES": "240",
        # Setting up the caseloads signs up 58 accounts from one address.
        "STEADY_LOGIN_LIMIT_PER_IP": "100000 per minute",
        "STEADY_REGISTER_LIMIT_PER_IP": "100000 per minute",
    }
    steady_env.pop("REDIS_URL", None)
    if options.redis_url:
        steady_env["REDIS_URL"] = options.redis_url
    peer_secret = secrets.token_hex(32)
    peer_env = {
        **os.environ,
        "NAIVE_PEER_DATABASE": str(workdir / "peer.db"),
        "NAIVE_PEER_JWT_SECRET": peer_secret,
    }
    steady_port, peer_port = free_port(), free_port()
    steady = peer = None
    try:
        subprocess.run(
            [str(steady_bin / "flask"), "--app", "wsgi", "db", "upgrade"],
            cwd=repo,
            env=steady_env,
            check=True,
            capture_output=True,
        )
        workers = ["--workers", str(options.workers)] if options.workers else []
        # An older checkout without gunicorn.conf.py runs gunicorn's defaults (sync workers).
        steady_config = ["-c", "gunicorn.conf.py"] if (repo / "gunicorn.conf.py").exists() else []
        steady_options = steady_config + (workers or ([] if steady_config else ["--workers", "2"]))
        if options.threads:
            steady_options += ["--threads", str(options.threads)]
        steady = start_gunicorn(
            str(steady_bin / "gunicorn"),
            "wsgi:app",
            repo,
            steady_env,
            steady_port,
            steady_options,
            workdir / "steady.log",
        )
        # An empty config file: the peer must not pick up ./gunicorn.conf.py.
        (workdir / "peer.conf.py").write_text("")
        peer_options = ["-c", str(workdir / "peer.conf.py"), *(workers or ["--workers", "2"])]
        peer_gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        peer = start_gunicorn(
            peer_gunicorn,
            "bench.naive_peer.app:app",
            HERE,
            peer_env,
            peer_port,
            peer_options,
            workdir / "peer.log",
        )
        wait_until_up(steady_port, steady)
        wait_until_up(peer_port, peer)

        run = uuid.uuid4().hex[:8]
        today = datetime.now(UTC).date()
        days = [(today - timedelta(days=n)).isoformat() for n in range(HISTORY_DAYS)]
        _, token = sign_up(steady_port, "patient", "main", run)
        log_days(steady_port, token, days, "main patient")
        start = date.fromisoformat(days[-1])
        trends_path = f"/api/v1/trends?from={start}&to={today}"
        status, trends = call(steady_port, "GET", trends_path, token=token)
        expect(status, (200,), "trends")
        assert trends["days_logged"] == HISTORY_DAYS, trends["days_logged"]

        # Two counselors: 5 and 50 sharing patients, each patient with a few days logged.
        small_email, small_token = sign_up(steady_port, "counselor", "counselor-small", run)
        large_email, large_token = sign_up(steady_port, "counselor", "counselor-large", run)
        caseload = [(n, small_email) for n in range(SMALL_CASELOAD)]
        caseload += [(SMALL_CASELOAD + n, large_email) for n in range(LARGE_CASELOAD)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            jobs = [
                pool.submit(caseload_patient, steady_port, run, n, email, days[:CASELOAD_DAYS])
                for n, email in caseload
            ]
            for job in jobs:
                job.result()
        for wanted, bearer in ((SMALL_CASELOAD, small_token), (LARGE_CASELOAD, large_token)):
            status, listing = call(steady_port, "GET", "/api/v1/patients", token=bearer)
            expect(status, (200,), "patients")
            assert len(listing["items"]) == wanted, (len(listing["items"]), wanted)

        # The peer's token: no login, minted here with the peer's secret.
        now = datetime.now(UTC)
        peer_token = jwt.encode(
            {
                "sub": str(uuid.uuid4()),
                "type": "access",
                "fresh": False,
                "jti": str(uuid.uuid4()),
                "iat": now,
                "nbf": now,
                "exp": now + timedelta(hours=4),
            },
            peer_secret,
            algorithm="HS256",
        )
        status, _ = call(peer_port, "PUT", f"/api/v1/checkins/{today}", scores(1), peer_token)
        expect(status, (200,), "peer PUT")

        scripts = Path(workdir / "lua")
        scripts.mkdir()
        s, p = steady_port, peer_port
        plan = [
            ("Steady GET /healthz", "steady", s, get_script(scripts, "s_health", "/healthz")),
            ("peer GET /healthz", "peer", p, get_script(scripts, "p_health", "/healthz")),
            (
                "Steady PUT /checkins/{date}",
                "steady",
                s,
                put_script(scripts, "s_put", days, token),
            ),
            (
                "peer PUT /checkins/{date}",
                "peer",
                p,
                put_script(scripts, "p_put", days, peer_token),
            ),
            (
                f"Steady GET /trends ({HISTORY_DAYS} d)",
                "steady",
                s,
                get_script(scripts, "s_trends", trends_path, token),
            ),
            (
                f"Steady GET /patients ({SMALL_CASELOAD})",
                "steady",
                s,
                get_script(scripts, "s_small", "/api/v1/patients", small_token),
            ),
            (
                f"Steady GET /patients ({LARGE_CASELOAD})",
                "steady",
                s,
                get_script(scripts, "s_large", "/api/v1/patients", large_token),
            ),
        ]
        database = "PostgreSQL" if "postgresql" in steady_env["DATABASE_URL"] else "SQLite"
        print(
            f"Steady at {repo} on {database}{' + Redis' if options.redis_url else ''}; "
            f"naive peer on SQLite; gunicorn {' '.join(steady_options)} for Steady, "
            f"{' '.join(peer_options[2:])} (sync) for the peer; "
            f"wrk -t{THREADS} -c{CONNECTIONS}, {WARM_UP_SECONDS}s warm-up + "
            f"{options.seconds:g}s per endpoint; {os.cpu_count()} CPUs shared by client "
            "and servers",
            flush=True,
        )
        # Each /healthz is measured again at the end: the ratios use the mean of the two,
        # and a large gap between them means the machine was busier at one end of the run.
        plan += [(f"{name} (again)", *rest) for name, *rest in plan[:2]]
        results = []
        for name, server, port, script in plan:
            process = steady if server == "steady" else peer
            results.append(measure(name, server, process, port, script, options.seconds))
        by_name = {result.name: result for result in results}
        pairs = {"steady": (results[0], results[-2]), "peer": (results[1], results[-1])}
        bare_rps = {server: (first.rps + last.rps) / 2 for server, (first, last) in pairs.items()}
        unsteady = [
            f"{first.name}: {first.rps:.0f} then {last.rps:.0f} req/s"
            for server, (first, last) in pairs.items()
            if abs(first.rps - last.rps) > DRIFT * bare_rps[server]
        ]

        print(
            f"{'endpoint':32} {'req/s':>9} {'p50 ms':>8} {'CPU ms':>7} {'errors':>7}"
            f" {'vs /healthz':>12}"
        )
        for result in results:
            ratio = result.rps / bare_rps[result.server]
            print(
                f"{result.name:32} {result.rps:9.1f} {result.p50_ms:8.2f} {result.cpu_ms:7.3f}"
                f" {result.errors:7d}"
                f" {ratio:12.3f}"
            )

        def ratio(name: str) -> float:
            result = by_name[name]
            return result.rps / bare_rps[result.server]

        steady_put = ratio("Steady PUT /checkins/{date}")
        peer_put = ratio("peer PUT /checkins/{date}")
        trends_ratio = ratio(f"Steady GET /trends ({HISTORY_DAYS} d)")
        small = by_name[f"Steady GET /patients ({SMALL_CASELOAD})"]
        large = by_name[f"Steady GET /patients ({LARGE_CASELOAD})"]
        print()
        print(
            f"Steady PUT ratio / peer PUT ratio: {steady_put:.3f} / {peer_put:.3f} = "
            f"{steady_put / peer_put:.2f}  (target >= {PUT_TARGET})"
        )
        print(f"trends ratio: {trends_ratio:.3f}  (target >= {TRENDS_TARGET})")
        print(
            f"patients {LARGE_CASELOAD}/{SMALL_CASELOAD} p50 latency ratio: "
            f"{large.p50_ms / small.p50_ms:.2f}  (req/s {small.rps / large.rps:.2f}x fewer)"
        )
        for line in unsteady:
            print(f"WARNING: the baseline moved by more than {DRIFT:.0%} ({line}); run again")
        failed = [result.name for result in results if result.errors]
        if failed:
            print(f"FAILED requests in: {', '.join(failed)}")
        return 1 if failed else 0
    finally:
        stop(steady)
        stop(peer)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
