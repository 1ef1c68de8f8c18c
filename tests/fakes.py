"""Fakes of outside services: a local FindTreatment.gov server that records its requests."""

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SEARCH_PATH = "/locator/exportsAsJson/v2"

ROW_FULL = {
    "name1": "Riverside Recovery Center",
    "name2": "Outpatient Program",
    "street1": "12 River Rd",
    "street2": "Suite 4",
    "city": "Springfield",
    "state": "IL",
    "zip": "62701",
    "phone": "217-555-0100",
    "website": "https://riverside.example.org",
    "latitude": "39.78",
    "longitude": "-89.65",
    "miles": 1.8,
    "services": [
        {"f1": "Type of Care", "f2": "TC", "f3": "Substance use treatment; Detoxification"},
        {"f1": "Pharmacotherapies", "f2": "PHR", "f3": "Buprenorphine; Naltrexone"},
    ],
}
ROW_MINIMAL = {"name1": "Hilltop Clinic", "city": "Chatham", "state": "IL", "miles": "6.25"}


def payload(*rows) -> bytes:
    """A FindTreatment search answer holding the given rows."""
    return json.dumps({"recordCount": len(rows), "totalPages": 1, "rows": list(rows)}).encode()


@dataclass
class Reply:
    """What the fake answers to every request."""

    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=lambda: {"Content-Type": "application/json"})
    delay: float = 0.0
    send_length: bool = True
    trickle_seconds: float = 0.0


@dataclass
class Seen:
    """One request the fake received; it also unpacks as a `(path, query)` pair."""

    path: str
    query: dict
    headers: dict

    def __iter__(self):
        return iter((self.path, self.query))

    def __getitem__(self, index):
        return (self.path, self.query)[index]


class FakeFindTreatment:
    """A FindTreatment-shaped server on 127.0.0.1 that records every request it gets.

    `base_url` is the server's root; `url` adds a fresh path prefix per server: the
    locator's cache key includes the base URL, so answers cached by another test (in a
    shared Redis) can never be served there.
    """

    def __init__(self) -> None:
        self.reply = Reply(body=payload(ROW_FULL, ROW_MINIMAL))
        self.requests: list[Seen] = []
        self.release = threading.Event()
        self.prefix = f"/ft-{uuid.uuid4().hex}"
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                fake.requests.append(
                    Seen(parts.path, parse_qs(parts.query), dict(self.headers.items()))
                )
                reply = fake.reply
                if reply.delay:
                    # Interruptible, so teardown never waits on a sleeping handler.
                    fake.release.wait(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.send_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if not reply.trickle_seconds:
                    self.wfile.write(reply.body)
                    return
                # One byte at a time, each within the socket timeout, to test the overall deadline.
                for index in range(len(reply.body)):
                    if fake.release.wait(reply.trickle_seconds):
                        return
                    self.wfile.write(reply.body[index : index + 1])
                    self.wfile.flush()

            def log_message(self, format, *args) -> None:  # noqa: A002
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request, client_address) -> None:
                # The client hanging up early (timeouts, size caps) is expected here.
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base_url}{self.prefix}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def searches(self) -> list[Seen]:
        """The search requests made against `base_url`."""
        return [seen for seen in self.requests if seen.path == SEARCH_PATH]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> "FakeFindTreatment":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
