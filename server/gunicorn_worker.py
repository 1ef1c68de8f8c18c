"""gunicorn's threaded worker, answering everything it rejects or gives up on as problem+json.

gunicorn answers what it rejects before the app sees it (a request line or headers over the
limits, malformed HTTP) with an HTML page, and logs the request line or URI on the way. This
worker answers those with RFC 9457 problem details naming the rule, echoes and logs nothing
from the request, and gives each request a deadline of gunicorn's ``timeout``: a request that
has sent nothing by then is answered 503 with ``Retry-After`` (the gthread worker's heartbeat
runs on its main thread, so gunicorn itself never times out a request stuck in a thread).
Requests still unanswered when the worker is aborted or stops get the same 503.
"""

from __future__ import annotations

import errno
import http
import json
import socket
import ssl
import sys
import threading
import time
import traceback
import uuid

from gunicorn import glogging
from gunicorn.http import errors as parse
from gunicorn.workers.gthread import ThreadWorker

from server.config import Config

PROBLEM_MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 5
NOT_HTTP = "The request is not valid HTTP/1.1 ({part})."

# Most specific first; the details name the rule and never repeat the request.
REJECTIONS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], int, str], ...] = (
    (
        (parse.InvalidResponseHeader, parse.InvalidResponseHeaderName),
        500,
        "Something went wrong on our side. Please try again.",
    ),
    (
        parse.LimitRequestLine,
        414,
        "The request line (method, path and query) must be at most {limit_request_line} bytes.",
    ),
    (
        parse.LimitRequestHeaders,
        431,
        "Send at most {limit_request_fields} header fields of at most "
        "{limit_request_field_size} bytes each.",
    ),
    (
        parse.UnsupportedTransferCoding,
        501,
        "Send the body with Content-Length or Transfer-Encoding: chunked.",
    ),
    (parse.ExpectationFailed, 417, "Only Expect: 100-continue is supported."),
    (parse.ForbiddenProxyRequest, 403, "Requests from this address must come through a proxy."),
    (parse.ConfigurationProblem, 500, "Something went wrong on our side. Please try again."),
    (
        (parse.InvalidRequestLine, parse.InvalidRequestMethod),
        400,
        NOT_HTTP.format(part="request line"),
    ),
    (parse.InvalidHTTPVersion, 400, NOT_HTTP.format(part="HTTP version")),
    (
        (parse.InvalidHeader, parse.InvalidHeaderName, parse.ObsoleteFolding),
        400,
        NOT_HTTP.format(part="a header"),
    ),
    (
        (parse.InvalidChunkSize, parse.ChunkMissingTerminator, parse.InvalidChunkExtension),
        400,
        NOT_HTTP.format(part="chunked body"),
    ),
    (
        (parse.InvalidProxyLine, parse.InvalidProxyHeader, parse.InvalidSchemeHeaders),
        400,
        NOT_HTTP.format(part="proxy or forwarding headers"),
    ),
    ((parse.InvalidH2CPreface, ssl.SSLError), 400, NOT_HTTP.format(part="connection preface")),
)
UNEXPECTED = (500, "Something went wrong on our side. Please try again.")


def problem_bytes(status: int, detail: str, *, slug: str | None = None) -> tuple[bytes, str]:
    """A complete HTTP/1.1 problem+json response that closes the connection, and its id."""
    request_id = uuid.uuid4().hex
    phrase = http.HTTPStatus(status).phrase
    body = json.dumps(
        {
            "type": f"{Config.PROBLEM_TYPE_BASE}{slug}" if slug else "about:blank",
            "title": phrase,
            "status": status,
            "detail": detail,
            "request_id": request_id,
        }
    ).encode()
    headers = [
        f"HTTP/1.1 {status} {phrase}",
        f"Content-Type: {PROBLEM_MEDIA_TYPE}",
        f"Content-Length: {len(body)}",
        "Cache-Control: no-store",
        "X-Content-Type-Options: nosniff",
        f"X-Request-ID: {request_id}",
        "Connection: close",
    ]
    if status in (429, 503):
        headers.append(f"Retry-After: {RETRY_AFTER_SECONDS}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1") + body, request_id


def rejection(error: BaseException, cfg) -> tuple[int, str]:
    """The status and detail for something gunicorn raised while reading or answering."""
    for kinds, status, detail in REJECTIONS:
        if isinstance(error, kinds):
            return status, detail.format(
                limit_request_line=cfg.limit_request_line,
                limit_request_fields=cfg.limit_request_fields,
                limit_request_field_size=cfg.limit_request_field_size,
            )
    return UNEXPECTED


class ResponseGuard:
    """The client socket as a request's thread writes to it, until the deadline answers instead.

    The deadline answers only a request that has sent nothing; after that the thread's writes
    fail like writes to a closed connection, so the two never interleave on the wire.
    """

    def __init__(self, sock: socket.socket, deadline: float | None) -> None:
        self.sock = sock
        self.deadline = deadline
        self._lock = threading.Lock()
        self._started = False
        self._answered = False

    def _claim(self) -> None:
        with self._lock:
            if self._answered:
                raise BrokenPipeError(errno.EPIPE, "already answered by the request deadline")
            self._started = True

    def claim_for_deadline(self) -> bool:
        """Take the connection over, unless the app has begun its response."""
        with self._lock:
            if self._started or self._answered:
                return False
            self._answered = True
            return True

    def send(self, data, *args):
        """Send, unless the deadline answered already."""
        self._claim()
        return self.sock.send(data, *args)

    def sendall(self, data, *args):
        """Send all, unless the deadline answered already."""
        self._claim()
        return self.sock.sendall(data, *args)

    def sendfile(self, *args, **kwargs):
        """Send a file, unless the deadline answered already."""
        self._claim()
        return self.sock.sendfile(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.sock, name)


class ProblemThreadWorker(ThreadWorker):
    """The gthread worker: problem+json for every rejection, a deadline for every request."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.in_flight: set[ResponseGuard] = set()

    def handle_request(self, req, conn):
        """Serve one request through a ResponseGuard the deadline can take over."""
        timeout = self.cfg.timeout
        guard = ResponseGuard(conn.sock, time.monotonic() + timeout if timeout else None)
        conn.sock = guard
        self.in_flight.add(guard)
        try:
            return super().handle_request(req, conn)
        finally:
            self.in_flight.discard(guard)
            conn.sock = guard.sock

    def murder_pending(self):
        """Each turn of the main loop: also answer requests past their deadline."""
        super().murder_pending()
        now = time.monotonic()
        overdue = [g for g in list(self.in_flight) if g.deadline is not None and now >= g.deadline]
        for guard in overdue:
            self.in_flight.discard(guard)
            self._answer_unavailable(
                guard, "The server took too long to answer. Please retry shortly.", "deadline"
            )

    def run(self):
        """Serve; then answer whatever a graceful stop left unanswered."""
        super().run()
        self._answer_all_in_flight("stop")

    def handle_abort(self, sig, frame):
        """The arbiter aborts a stuck worker: answer its requests before going."""
        self._answer_all_in_flight("abort")
        super().handle_abort(sig, frame)

    def handle_quit(self, sig, frame):
        """An immediate stop: answer in-flight requests before going."""
        self._answer_all_in_flight("quit")
        super().handle_quit(sig, frame)

    def _answer_all_in_flight(self, why: str) -> None:
        for guard in list(self.in_flight):
            self.in_flight.discard(guard)
            self._answer_unavailable(guard, "The server is restarting. Please retry shortly.", why)

    def _answer_unavailable(self, guard: ResponseGuard, detail: str, why: str) -> None:
        """Answer 503 on a connection whose thread is still busy, then end the connection."""
        if not guard.claim_for_deadline():
            return  # the response is already on its way; let it finish
        payload, request_id = problem_bytes(503, detail, slug="unavailable")
        self.log.warning(
            "Request unanswered at %s: answering 503 (request_id=%s)", why, request_id
        )
        try:
            # Never block the main loop: the answer is small and the send buffer empty.
            guard.sock.send(payload, socket.MSG_DONTWAIT)
            guard.sock.shutdown(socket.SHUT_WR)
        except (OSError, ValueError):
            self.log.debug("Could not send the 503 (%s).", why)

    def handle_error(self, req, client, addr, exc):
        """Answer a rejected or failed request as problem+json; log only the kind of error."""
        status, detail = rejection(exc, self.cfg)
        payload, request_id = problem_bytes(status, detail)
        if status >= 500:
            # Frames only: exception messages can carry the request line or header values.
            frames = "".join(traceback.format_tb(exc.__traceback__))
            self.log.error(
                "Error handling request (%s, request_id=%s)\n%s",
                type(exc).__name__,
                request_id,
                frames,
            )
        else:
            self.log.warning(
                "Rejected request: %s %s (request_id=%s)", status, type(exc).__name__, request_id
            )
        try:
            client.setblocking(False)
            client.send(payload)
        except (OSError, ValueError):
            self.log.debug("Could not send the error response.")
        finally:
            client.setblocking(True)


class FramesOnlyLogger(glogging.Logger):
    """gunicorn's logger, printing tracebacks without exception messages.

    A message can carry request data (a database error quotes its parameters), and gunicorn
    logs the tracebacks of failures in streamed responses that Flask never sees.
    """

    def exception(self, msg, *args, **kwargs):
        """Log ``msg`` with the exception's type and frames, not its message."""
        kwargs.pop("exc_info", None)
        error = sys.exc_info()[1]
        text = str(msg) % args if args else str(msg)
        if error is None:
            self.error("%s", text, **kwargs)
            return
        frames = "".join(traceback.format_tb(error.__traceback__))
        self.error("%s (%s)\n%s", text, type(error).__name__, frames, **kwargs)
