"""gunicorn as `make run` starts it: one threaded worker without Redis, problem+json for all.

Each server is a real gunicorn subprocess on a free port, on its own migrated SQLite file.
"""

import json
import logging
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gunicorn.config import Config as GunicornConfig

from server.config import ConfigError, check_shared_rate_limits
from server.gunicorn_worker import FramesOnlyLogger

REPO = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
CANARY = "90210canary"  # stands in for a postal code or a date range in a query string
STRONG_SECRET = "s" * 48


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database: Path, **overrides) -> dict:
    env = {**os.environ, "STEADY_ENV": "development", "DATABASE_URL": f"sqlite:///{database}"}
    for name in ("REDIS_URL", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "STEADY_SERVER_WORKERS"):
        env.pop(name, None)
    env.update(overrides)
    return env


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("gunicorn") / "steady.db"
    subprocess.run(
        [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "db", "upgrade"],
        cwd=REPO,
        env=server_env(path),
        check=True,
        capture_output=True,
    )
    return path


class Server:
    """A gunicorn subprocess; `log` is what it wrote to stdout and stderr."""

    def __init__(self, database: Path, log_path: Path, *args: str, **env: str) -> None:
        self.port = free_port()
        self.log_path = log_path
        self._log_file = log_path.open("wb")
        self.process = subprocess.Popen(
            [GUNICORN, "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}", *args],
            cwd=REPO,
            env=server_env(database, **env),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self.wait_for_log("Booting worker")
        self.wait_until_serving()

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, count: int = 1) -> None:
        """Wait (a bounded number of polls) until ``text`` is logged ``count`` times."""
        for _ in range(600):
            if self.log.count(text) >= count:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"never logged {text!r}:\n{self.log}")

    def wait_until_serving(self) -> None:
        for _ in range(600):
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.log}")
            try:
                status, _, _ = self.request(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            except OSError:
                time.sleep(0.05)
                continue
            if status == 200:
                return
        raise AssertionError(f"gunicorn never served:\n{self.log}")

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        return sock

    def request(self, raw: bytes) -> tuple[int, dict, bytes]:
        """Send raw bytes on a new connection; read until the server closes it."""
        with self.connect() as sock:
            sock.sendall(raw)
            return read_response(sock)

    def worker_pids(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", self.log)]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log_file.close()


def read_response(sock: socket.socket) -> tuple[int, dict, bytes]:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        headers = parse_headers(head)
        if "content-length" in headers and len(body) >= int(headers["content-length"]):
            break
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, parse_headers(head), body


def parse_headers(head: bytes) -> dict:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {name.lower(): value.strip() for name, _, value in (ln.partition(":") for ln in lines)}


def assert_problem(status: int, headers: dict, body: bytes, expected: int) -> dict:
    assert status == expected, body
    assert headers["content-type"] == "application/problem+json"
    assert headers["cache-control"] == "no-store"
    problem = json.loads(body)
    assert {"type", "title", "status", "detail", "request_id"} <= set(problem)
    assert problem["status"] == expected
    assert headers["x-request-id"] == problem["request_id"]
    assert CANARY.encode() not in body
    return problem


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):
    """The default set-up (no REDIS_URL), with a 2 s request deadline and tight login limit."""
    running = Server(
        database,
        tmp_path_factory.mktemp("log") / "gunicorn.log",
        "--timeout",
        "2",
        "--graceful-timeout",
        "1",
        "tests.gunicorn_app:app",
        STEADY_LOGIN_LIMIT_PER_IP="3 per minute",
    )
    yield running
    running.stop()


def test_default_setup_runs_one_threaded_worker_so_limits_are_exact(server):
    assert "Using worker: server.gunicorn_worker.ProblemThreadWorker" in server.log
    assert len(server.worker_pids()) == 1
    login = json.dumps({"email": "nobody@example.org", "password": "wrong-password"}).encode()
    raw = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(login), login)
    )
    statuses = [server.request(raw)[0] for _ in range(4)]
    assert statuses == [401, 401, 401, 429]  # 3 per minute means 3, on separate connections


def test_more_workers_by_signal_stay_one_without_redis(server):
    os.kill(server.process.pid, signal.SIGTTIN)
    server.wait_for_log("More workers need REDIS_URL")
    assert len(server.worker_pids()) == 1


HUGE_QUERY = b"GET /api/v1/resources?postal_code=" + CANARY.encode() + b"&pad=" + b"a" * 5000
REJECTED = {
    "request line over 4094 bytes": (HUGE_QUERY + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414, "4094"),
    "more than 100 headers": (
        b"GET /healthz?q="
        + CANARY.encode()
        + b" HTTP/1.1\r\nHost: t\r\n"
        + b"".join(b"X-Filler-%d: %s\r\n" % (i, CANARY.encode()) for i in range(120))
        + b"\r\n",
        431,
        "100 header fields",
    ),
    "a header over 8190 bytes": (
        b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + CANARY.encode() * 1000 + b"\r\n\r\n",
        431,
        "8190 bytes",
    ),
    "malformed request line": (b"GET /?q=" + CANARY.encode() + b"\r\n\r\n", 400, "request line"),
    "invalid header name": (
        b"GET /healthz?q=" + CANARY.encode() + b" HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n",
        400,
        "a header",
    ),
}


@pytest.mark.parametrize("case", REJECTED, ids=list(REJECTED))
def test_what_gunicorn_rejects_is_problem_json_without_request_data(server, case):
    raw, expected, rule = REJECTED[case]
    status, headers, body = server.request(raw)
    problem = assert_problem(status, headers, body, expected)
    assert rule in problem["detail"]
    assert "retry-after" not in headers
    assert f"Rejected request: {expected} " in server.log
    assert f"request_id={problem['request_id']}" in server.log
    assert CANARY not in server.log


def test_a_malformed_chunked_body_is_a_400_problem_not_a_500(server):
    # gunicorn decodes the body while the app reads it, so this error reaches the app.
    status, headers, body = server.request(
        b"POST /api/v1/auth/login?q=" + CANARY.encode() + b" HTTP/1.1\r\nHost: t\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\n{}\r\n0\r\n\r\n"
    )
    problem = assert_problem(status, headers, body, 400)
    assert "chunked body" in problem["detail"]
    assert CANARY not in server.log


def test_a_client_that_sends_the_whole_oversized_body_first_still_gets_the_413(server):
    # Python's urllib and several mobile HTTP stacks write the body before reading.
    body = b'{"email": "' + b"a" * 10_000_000 + b'", "password": "x"}'
    head = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
    )
    with server.connect() as sock:
        sock.sendall(head + body)  # a broken pipe here was the bug
        status, headers, answer = read_response(sock)
    problem = assert_problem(status, headers, answer, 413)
    assert "65536 bytes" in problem["detail"]


def test_an_oversized_chunked_body_is_a_413_not_invalid_json(server):
    chunk = b"a" * 40_000
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3))
    status, headers, answer = server.request(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n"
    )
    assert_problem(status, headers, answer, 413)


def test_request_past_the_deadline_answers_503_problem_and_logs_no_query(server):
    with server.connect() as slow:
        slow.sendall(b"GET /test/slow?seconds=6&postal_code=" + CANARY.encode() + b" HTTP/1.1\r\n")
        slow.sendall(b"Host: t\r\n\r\n")
        server.wait_for_log("slow request started")
        # Threads: the stuck request does not hold up others.
        assert server.request(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")[0] == 200
        status, headers, body = read_response(slow)
    problem = assert_problem(status, headers, body, 503)
    assert problem["type"] == "urn:steady:problem:unavailable"
    assert headers["retry-after"] == "5"
    assert (
        f"Request unanswered at deadline: answering 503 (request_id={problem['request_id']})"
        in (server.log)
    )
    assert CANARY not in server.log and "postal_code" not in server.log


def test_an_aborted_worker_answers_its_requests_503_problem(database, tmp_path):
    running = Server(
        database, tmp_path / "gunicorn.log", "--graceful-timeout", "1", "tests.gunicorn_app:app"
    )
    try:
        with running.connect() as slow:
            slow.sendall(b"GET /test/slow?seconds=3&q=" + CANARY.encode() + b" HTTP/1.1\r\n")
            slow.sendall(b"Host: t\r\n\r\n")
            running.wait_for_log("slow request started")
            # What the arbiter sends a worker that missed its heartbeat.
            os.kill(running.worker_pids()[0], signal.SIGABRT)
            status, headers, body = read_response(slow)
        assert_problem(status, headers, body, 503)
        assert headers["retry-after"] == "5"
        assert "Request unanswered at abort: answering 503" in running.log
        assert CANARY not in running.log
    finally:
        running.stop()


def test_with_redis_several_workers_share_the_limits(database, tmp_path):
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    redis = pytest.importorskip("redis").Redis.from_url(redis_url, socket_connect_timeout=0.5)
    try:
        redis.ping()
    except OSError:
        pytest.skip("no Redis to share limits through")
    finally:
        redis.close()
    running = Server(database, tmp_path / "gunicorn.log", "wsgi:app", REDIS_URL=redis_url)
    try:
        running.wait_for_log("Booting worker", count=2)
        assert running.request(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")[0] == 200
        assert len(running.worker_pids()) == 2 and "Worker failed to boot" not in running.log
    finally:
        running.stop()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-c", "gunicorn.conf.py", "-w", "2"], "gunicorn runs 2 workers"),
        (["-w", "2"], "gunicorn runs 2 workers"),  # by hand: gunicorn reads ./gunicorn.conf.py
        (["-c", "{empty}"], "started without gunicorn.conf.py"),
    ],
    ids=["with the config", "by hand", "without the config"],
)
def test_production_refuses_workers_counting_limits_apart(database, tmp_path, arguments, message):
    empty = tmp_path / "empty.conf.py"
    empty.write_text("")
    arguments = [argument.format(empty=empty) for argument in arguments]
    env = server_env(
        database, STEADY_ENV="production", SECRET_KEY=STRONG_SECRET, JWT_SECRET_KEY=STRONG_SECRET
    )
    started = subprocess.run(
        [GUNICORN, *arguments, "--bind", f"127.0.0.1:{free_port()}", "wsgi:app"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert message in started.stderr
    assert "set REDIS_URL" in started.stderr


@pytest.mark.parametrize(
    ("environ", "workers"),
    [
        ({}, 1),
        ({"WEB_CONCURRENCY": "4"}, 1),
        ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, 2),
        ({"REDIS_URL": "redis://127.0.0.1:6379/0", "WEB_CONCURRENCY": "4"}, 4),
    ],
)
def test_config_runs_one_worker_unless_limits_are_shared(monkeypatch, environ, workers):
    for name in ("REDIS_URL", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    settings = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    assert settings["workers"] == workers
    assert settings["threads"] > 1
    assert settings["control_socket_disable"] is True
    assert settings["accesslog"] is None
    assert "%(r)s" not in settings["access_log_format"]
    assert "%(q)s" not in settings["access_log_format"]


@pytest.mark.parametrize(
    ("config", "environ", "refused"),
    [
        ({"RATELIMIT_STORAGE_URI": "memory://", "SERVER_WORKERS": 1}, {}, False),
        ({"RATELIMIT_STORAGE_URI": "memory://", "SERVER_WORKERS": 2}, {}, True),
        ({"RATELIMIT_STORAGE_URI": "redis://r:6379/0", "SERVER_WORKERS": 8}, {}, False),
        ({"RATELIMIT_STORAGE_URI": "memory://", "ENV_NAME": "development"}, {}, False),
        (
            {"RATELIMIT_STORAGE_URI": "memory://", "ENV_NAME": "production"},
            {"SERVER_SOFTWARE": "gunicorn/27.0.1"},
            True,
        ),
        ({"RATELIMIT_STORAGE_URI": "memory://", "ENV_NAME": "production"}, {}, False),
        (
            {"RATELIMIT_STORAGE_URI": "redis://r:6379/0", "ENV_NAME": "production"},
            {"SERVER_SOFTWARE": "gunicorn/27.0.1"},
            False,
        ),
    ],
)
def test_shared_rate_limit_rule(config, environ, refused):
    if refused:
        with pytest.raises(ConfigError, match="set REDIS_URL"):
            check_shared_rate_limits(config, environ)
    else:
        check_shared_rate_limits(config, environ)


def test_server_workers_must_be_a_whole_number():
    with pytest.raises(ConfigError, match="SERVER_WORKERS='many'"):
        check_shared_rate_limits({"SERVER_WORKERS": "many"}, {})


def test_gunicorn_tracebacks_carry_no_exception_message():
    logger = FramesOnlyLogger(GunicornConfig())
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.error_log.addHandler(handler)
    try:
        raise ValueError(f"parameters: postal_code={CANARY}")
    except ValueError:
        logger.exception("Error handling request")
    finally:
        logger.error_log.removeHandler(handler)
    (record,) = records
    text = record.getMessage()
    assert "Error handling request (ValueError)" in text
    assert "test_gunicorn_tracebacks_carry_no_exception_message" in text  # the frames stay
    assert CANARY not in text and record.exc_info is None
