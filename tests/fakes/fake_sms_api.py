"""In-repo fake of ``pinpoint-sms-voice-v2`` ``DescribeRegistrationAttachments`` over real HTTP.

moto has no backend for this service. The fake speaks the awsJson 1.0 wire protocol on
loopback, so botocore's real serialization, pagination, error parsing and retries run
against it. Storage is an append-only list in creation order plus an id index; listings
scan lazily from the offset in the ``NextToken`` and serialize only the page, so 100,000
attachments stay cheap.

Run it as a process for benchmarks::

    python -m tests.fakes.fake_sms_api --port 0 --seed UPLOAD_FAILED=100,UPLOAD_COMPLETE=9900

It prints ``READY http://127.0.0.1:PORT`` and serves until killed. Control endpoints on the
same server: ``POST /_fake/reset``, ``POST /_fake/seed`` ``{"UPLOAD_FAILED": 10}``,
``POST /_fake/fail-next`` ``{"code": "...", "times": n}``, ``POST /_fake/latency``
``{"seconds": 0.02}``, ``POST /_fake/release``, ``GET /_fake/calls`` → ``{"count": n}``.

Besides the API's error codes, two *transport* faults can be injected with ``fail_next`` and
``fail_calls``: ``ConnectionReset`` (the connection is closed with a TCP reset, no answer)
and ``Hang`` (the answer is held until ``release()``, ``reset()`` or ``stop()``, or at most
``hang_limit_seconds``; a client that stopped waiting simply never reads it).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hashlib
import json
import re
import socket
import struct
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

OPERATION = "DescribeRegistrationAttachments"
TARGET = f"PinpointSMSVoiceV2.{OPERATION}"
STATUSES = ("UPLOAD_IN_PROGRESS", "UPLOAD_COMPLETE", "UPLOAD_FAILED", "DELETED")
FILTER_NAME = "attachment-status"
MAX_IDS = 5
MAX_FILTERS = 20
MAX_FILTER_VALUES = 20
MAX_RESULTS = 100
# Smaller than MAX_RESULTS so a client that forgets MaxResults shows up in call counts.
DEFAULT_MAX_RESULTS = 20
ID_PATTERN = re.compile(r"[A-Za-z0-9_:/-]{1,256}")
ERROR_STATUS = {
    "ValidationException": 400,
    "ResourceNotFoundException": 404,
    "ThrottlingException": 400,
    "AccessDeniedException": 400,
    "InternalServerException": 500,
}
# An odd multiplier is invertible modulo 2**128: a counter maps to unique, random-looking ids.
#: Faults of the connection rather than of the API.
CONNECTION_RESET = "ConnectionReset"
HANG = "Hang"
TRANSPORT_FAULTS = (CONNECTION_RESET, HANG)
_ID_MULTIPLIER = 0x9E3779B97F4A7C15F39CC0605CEDC835
_ID_MODULUS = 1 << 128

Answer = tuple[int, dict[str, Any]]


@dataclass
class FakeAttachment:
    """One stored attachment."""

    attachment_id: str
    status: str
    created: datetime  # tz-aware UTC
    error_reason: str | None = None
    region: str = "us-east-1"
    account: str = "123456789012"

    @property
    def arn(self) -> str:
        return (
            f"arn:aws:sms-voice:{self.region}:{self.account}"
            f":registration-attachment/{self.attachment_id}"
        )

    @property
    def url(self) -> str:
        """A pre-signed-looking URL: the product must never copy it anywhere."""
        return f"https://fake-attachments.example/{self.attachment_id}?X-Amz-Signature=secret"

    def to_api(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "RegistrationAttachmentArn": self.arn,
            "RegistrationAttachmentId": self.attachment_id,
            "AttachmentStatus": self.status,
            "CreatedTimestamp": self.created.timestamp(),  # awsJson: epoch seconds
            "AttachmentUrl": self.url,
        }
        if self.error_reason is not None:
            item["AttachmentUploadErrorReason"] = self.error_reason
        return item


class ApiError(Exception):
    """An error answer: its code, message and the error shape's extra fields."""

    def __init__(self, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.code = code
        self.fields = fields

    def answer(self, request_id: str) -> Answer:
        body: dict[str, Any] = {"__type": self.code, "Message": str(self)}
        body.update(self.fields)
        if self.code == "InternalServerException":
            body.setdefault("RequestId", request_id)
        return ERROR_STATUS.get(self.code, 400), body


def _invalid(reason: str, field: str, message: str) -> ApiError:
    return ApiError(
        "ValidationException",
        message,
        Reason=reason,
        Fields=[{"Name": field, "Message": message}],
    )


def _injected(code: str, request: Mapping[str, Any]) -> ApiError:
    """The error a fault injection answers, with plausible shape fields."""
    message = f"Injected {code}"
    if code == "ValidationException":
        return ApiError(code, message, Reason="OTHER", Fields=[])
    if code == "ResourceNotFoundException":
        ids = request.get("RegistrationAttachmentIds") or ["injected"]
        return ApiError(code, message, ResourceType="registration-attachment", ResourceId=ids[0])
    if code == "AccessDeniedException":
        return ApiError(code, message, Reason="ACCOUNT_DISABLED")
    return ApiError(code, message)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"unknown attachment status {status!r}; expected one of {STATUSES}")


def _check_code(code: str) -> None:
    if code not in ERROR_STATUS and code not in TRANSPORT_FAULTS:
        expected = [*sorted(ERROR_STATUS), *TRANSPORT_FAULTS]
        raise ValueError(f"unknown error code {code!r}; expected one of {expected}")


class _Server(ThreadingHTTPServer):
    """Tracks open connections so ``stop()`` also ends keep-alive ones: a stopped fake must
    look down to a client holding pooled connections, not keep answering on them."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: FakeSmsApi) -> None:
        super().__init__(address, _Handler)
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._resets: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
            reset = request in self._resets
            self._resets.discard(request)
        if reset:  # no orderly FIN first: close at once, and SO_LINGER 0 makes it an RST
            self.close_request(request)
            return
        super().shutdown_request(request)

    def reset_on_close(self, request: socket.socket) -> None:
        """Marks a connection to be closed with a TCP reset instead of an answer."""
        with contextlib.suppress(OSError):
            request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self._connections_lock:
            self._resets.add(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real endpoint
    # Headers and body go out in two writes: without TCP_NODELAY the body waits for the
    # client's delayed ACK (~40 ms) on every keep-alive request.
    disable_nagle_algorithm = True
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.server.fake
        if self.path.startswith("/_fake/"):
            self._send(*fake.control("POST", self.path, body), "application/json")
            return
        request_id = str(uuid.uuid4())
        transport, (status, payload) = fake.serve(
            self.headers.get("X-Amz-Target", ""), body, request_id
        )
        if transport == CONNECTION_RESET:
            self.close_connection = True
            self.server.reset_on_close(self.connection)
            return
        if transport == HANG:
            fake.wait_for_release()
        if fake.latency_seconds > 0:
            time.sleep(fake.latency_seconds)
        try:
            self._send(status, payload, "application/x-amz-json-1.0", request_id)
        except OSError:  # the client stopped waiting (read timeout) and hung up
            self.close_connection = True

    def do_GET(self) -> None:
        self._send(*self.server.fake.control("GET", self.path, b""), "application/json")

    def _send(
        self,
        status: int,
        payload: dict[str, Any],
        content_type: str,
        request_id: str | None = None,
    ) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if request_id is not None:
            self.send_header("x-amzn-RequestId", request_id)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: test output stays readable."""


class FakeSmsApi:
    """The fake service: a store of attachments, fault injection and a call log."""

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        account: str = "123456789012",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.region = region
        self.account = account
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.endpoint_url = ""
        # Bumped by reset(): offsets in older NextTokens no longer mean anything.
        self._generation = 0
        self._reset_state()

    def _reset_state(self) -> None:
        self._attachments: list[FakeAttachment] = []  # creation order
        self._by_id: dict[str, FakeAttachment] = {}
        self._counter = 0
        self._fail_next: list[str] = []
        self._fail_at: dict[int, str] = {}  # absolute call number -> error code
        self._denied = False
        self._released = threading.Event()  # set: hung answers go out
        self.latency_seconds = 0.0
        #: A hung answer goes out after this long even without ``release()``.
        self.hang_limit_seconds = 30.0
        self.calls: list[dict[str, Any]] = []

    # Lifecycle

    def start(self) -> FakeSmsApi:
        self._server = _Server(self._address, self)
        self.endpoint_url = f"http://{self._address[0]}:{self._server.server_port}"
        # A short poll interval keeps stop() quick (shutdown waits for the next poll).
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-sms-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.release()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeSmsApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # Store

    def reset(self) -> None:
        with self._lock:
            self._released.set()  # no answer stays hung across tests
            self._generation += 1
            self._reset_state()

    def add(
        self,
        status: str,
        *,
        count: int = 1,
        error_reason: str | None = None,
        created: datetime | None = None,
    ) -> list[FakeAttachment]:
        _check_status(status)
        if created is None:
            created = datetime.now(UTC)
        elif created.tzinfo is None:
            raise ValueError("created must be timezone-aware")
        if status == "UPLOAD_FAILED" and error_reason is None:
            error_reason = "INTERNAL_ERROR"
        with self._lock:
            return [self._new(status, created, error_reason) for _ in range(count)]

    def seed(self, counts: Mapping[str, int]) -> None:
        """Adds ``counts[status]`` attachments of each status, each status spread evenly over
        the listing (failures land on every page, not all at the end)."""
        for status in counts:
            _check_status(status)
        # The k-th of n attachments of a status sits at fraction (k + 0.5) / n of the listing.
        slots = sorted(
            ((k + 0.5) / n, rank, status)
            for rank, (status, n) in enumerate(counts.items())
            for k in range(n)
        )
        created = datetime.now(UTC)
        with self._lock:
            for _, _, status in slots:
                reason = "INTERNAL_ERROR" if status == "UPLOAD_FAILED" else None
                self._new(status, created, reason)

    def _new(self, status: str, created: datetime, error_reason: str | None) -> FakeAttachment:
        """Stores one attachment; the caller holds the lock."""
        self._counter += 1
        attachment_id = f"attachment-{self._counter * _ID_MULTIPLIER % _ID_MODULUS:032x}"
        attachment = FakeAttachment(
            attachment_id, status, created, error_reason, self.region, self.account
        )
        self._attachments.append(attachment)
        self._by_id[attachment_id] = attachment
        return attachment

    def set_status(self, attachment_id: str, status: str, error_reason: str | None = None) -> None:
        _check_status(status)
        if status == "UPLOAD_FAILED" and error_reason is None:
            error_reason = "INTERNAL_ERROR"
        with self._lock:
            attachment = self._by_id[attachment_id]
            attachment.status = status
            attachment.error_reason = error_reason

    # Faults

    def fail_next(self, code: str, *, times: int = 1) -> None:
        """The next ``times`` calls answer ``code`` (or suffer the transport fault ``code``:
        ``ConnectionReset``, ``Hang``)."""
        _check_code(code)
        with self._lock:
            self._fail_next.extend([code] * times)

    def fail_calls(self, code: str, *, call_numbers: set[int]) -> None:
        """Calls number ``call_numbers``, counting from now (1 = the next call), answer ``code``."""
        _check_code(code)
        with self._lock:
            for number in call_numbers:
                self._fail_at[len(self.calls) + number] = code

    def release(self) -> None:
        """Sends every hung answer now (late); later ``Hang`` faults hang again."""
        with self._lock:
            released, self._released = self._released, threading.Event()
        released.set()

    def wait_for_release(self) -> None:
        """Blocks a hung answer until ``release()``, ``reset()``, ``stop()`` or the limit."""
        with self._lock:
            released = self._released
        released.wait(self.hang_limit_seconds)

    def deny_access(self, denied: bool = True) -> None:
        """Every call answers AccessDeniedException until ``deny_access(False)``."""
        with self._lock:
            self._denied = denied

    @property
    def call_count(self) -> int:
        with self._lock:
            return len(self.calls)

    # The API

    def handle(self, target: str, body: bytes, request_id: str) -> Answer:
        """Answers one API request: (HTTP status, JSON body). A transport fault due for
        this call is used up without effect: only the HTTP server can act one out."""
        return self.serve(target, body, request_id)[1]

    def serve(self, target: str, body: bytes, request_id: str) -> tuple[str | None, Answer]:
        """The transport fault due for this call (or None) and the answer to send."""
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = None
        if not isinstance(request, dict):
            request = {"_unparsed": body.decode(errors="replace")}
            with self._lock:
                self.calls.append(request)
            return None, _invalid(
                "CANNOT_PARSE", "body", "Request body is not a JSON object"
            ).answer(request_id)
        with self._lock:
            self.calls.append(request)
            transport: str | None = None
            try:
                if target != TARGET:
                    raise ApiError(
                        "UnknownOperationException", f"Unknown operation {target or '(none)'}"
                    )
                fault = self._fault_for_call(len(self.calls))
                if fault in TRANSPORT_FAULTS:
                    transport = fault  # acted out by the server; the answer is the usual one
                elif fault is not None:
                    raise _injected(fault, request)
                return transport, (200, self._describe(request))
            except ApiError as error:
                return transport, error.answer(request_id)

    def _fault_for_call(self, number: int) -> str | None:
        """Which injected error call ``number`` gets: a numbered fault, else the next queued
        one, else a standing access denial."""
        if number in self._fail_at:
            return self._fail_at.pop(number)
        if self._fail_next:
            return self._fail_next.pop(0)
        return "AccessDeniedException" if self._denied else None

    def _describe(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """DescribeRegistrationAttachments; the caller holds the lock."""
        ids = _parse_ids(request.get("RegistrationAttachmentIds"))
        statuses = _parse_filters(request.get("Filters"))
        max_results = _parse_max_results(request.get("MaxResults"))
        query = _query_key(ids, statuses)
        offset = self._parse_token(request.get("NextToken"), query)
        if ids:
            matches = [a for a in self._lookup(ids) if statuses is None or a.status in statuses]
            page = matches[offset : offset + max_results]
            next_offset = offset + max_results if offset + max_results < len(matches) else None
        else:
            page, next_offset = self._scan(offset, max_results, statuses)
        answer: dict[str, Any] = {"RegistrationAttachments": [a.to_api() for a in page]}
        if next_offset is not None:
            answer["NextToken"] = self._token(next_offset, query)
        return answer

    def _lookup(self, ids: list[str]) -> list[FakeAttachment]:
        """The attachments named by ids or ARNs, in request order, once each; one unknown
        id fails the whole request, as the real API does."""
        found: dict[str, FakeAttachment] = {}
        for requested in ids:
            # An ARN ends in "/<id>"; it names a stored attachment only if it is that one's ARN.
            attachment = self._by_id.get(requested.rsplit("/", 1)[-1])
            if attachment is None or requested not in (attachment.attachment_id, attachment.arn):
                raise ApiError(
                    "ResourceNotFoundException",
                    f"Registration attachment {requested} not found",
                    ResourceType="registration-attachment",
                    ResourceId=requested,
                )
            found.setdefault(attachment.attachment_id, attachment)
        return list(found.values())

    def _scan(
        self, offset: int, max_results: int, statuses: frozenset[str] | None
    ) -> tuple[list[FakeAttachment], int | None]:
        """A page of the listing from store position ``offset``, and where the next page
        starts (the next match, so no page rescans) or None when nothing else matches."""
        page: list[FakeAttachment] = []
        position = offset
        total = len(self._attachments)
        while position < total:
            attachment = self._attachments[position]
            if statuses is None or attachment.status in statuses:
                if len(page) == max_results:
                    return page, position
                page.append(attachment)
            position += 1
        return page, None

    def _token(self, offset: int, query: str) -> str:
        raw = json.dumps({"o": offset, "g": self._generation, "q": query}).encode()
        return base64.urlsafe_b64encode(raw).decode()

    def _parse_token(self, token: Any, query: str) -> int:
        if token is None:
            return 0
        try:
            decoded = json.loads(base64.urlsafe_b64decode(str(token).encode()))
            valid = (
                isinstance(decoded, dict)
                and decoded.get("g") == self._generation
                and decoded.get("q") == query
                and isinstance(decoded.get("o"), int)
            )
        except (ValueError, binascii.Error):
            valid = False
        if not valid:
            raise _invalid(
                "INVALID_NEXT_TOKEN",
                "NextToken",
                "NextToken is invalid, expired, or from a different query",
            )
        offset: int = decoded["o"]
        return offset

    # Control surface for the subprocess mode

    def control(self, method: str, path: str, body: bytes) -> Answer:
        try:
            payload = json.loads(body or b"{}")
            if method == "GET" and path == "/_fake/calls":
                return 200, {"count": self.call_count}
            if method != "POST":
                return 404, {"error": f"no control endpoint {method} {path}"}
            if path == "/_fake/reset":
                self.reset()
            elif path == "/_fake/seed":
                self.seed({str(status): int(n) for status, n in payload.items()})
            elif path == "/_fake/fail-next":
                self.fail_next(str(payload["code"]), times=int(payload.get("times", 1)))
            elif path == "/_fake/latency":
                self.latency_seconds = float(payload["seconds"])
            elif path == "/_fake/release":
                self.release()
            else:
                return 404, {"error": f"no control endpoint {method} {path}"}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return 400, {"error": f"{type(error).__name__}: {error}"}
        return 200, {"ok": True}


def _parse_ids(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_IDS:
        raise _invalid(
            "FIELD_VALIDATION_FAILED",
            "RegistrationAttachmentIds",
            f"RegistrationAttachmentIds must be a list of at most {MAX_IDS} ids",
        )
    for item in value:
        if not isinstance(item, str) or not ID_PATTERN.fullmatch(item):
            raise _invalid(
                "FIELD_VALIDATION_FAILED",
                "RegistrationAttachmentIds",
                f"Invalid registration attachment id or ARN: {item!r}",
            )
    return value


def _parse_filters(value: Any) -> frozenset[str] | None:
    """The statuses the filters allow (AND across filters, OR within one), or None."""
    if not value:
        return None
    if not isinstance(value, list) or len(value) > MAX_FILTERS:
        raise _invalid(
            "FIELD_VALIDATION_FAILED", "Filters", f"Filters must be a list of at most {MAX_FILTERS}"
        )
    allowed = frozenset(STATUSES)
    for item in value:
        if not isinstance(item, dict) or item.get("Name") != FILTER_NAME:
            raise _invalid(
                "FIELD_VALIDATION_FAILED", "Filters", f"Filter name must be {FILTER_NAME!r}"
            )
        values = item.get("Values")
        if (
            not isinstance(values, list)
            or not 1 <= len(values) <= MAX_FILTER_VALUES
            or not set(values) <= allowed
        ):
            raise _invalid(
                "INVALID_FILTER_VALUES",
                "Filters",
                f"Filter values must be 1 to {MAX_FILTER_VALUES} of {', '.join(STATUSES)}",
            )
        allowed &= frozenset(values)
    return allowed


def _parse_max_results(value: Any) -> int:
    if value is None:
        return DEFAULT_MAX_RESULTS
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RESULTS:
        raise _invalid(
            "FIELD_VALIDATION_FAILED",
            "MaxResults",
            f"MaxResults must be an integer from 1 to {MAX_RESULTS}",
        )
    return value


def _query_key(ids: list[str], statuses: frozenset[str] | None) -> str:
    """Fingerprint of a query, so a NextToken only continues the query that made it."""
    canonical = json.dumps([ids, sorted(statuses) if statuses is not None else None])
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _parse_seed(text: str) -> dict[str, int]:
    """``"UPLOAD_FAILED=100,UPLOAD_COMPLETE=9900"`` → ``{"UPLOAD_FAILED": 100, ...}``."""
    counts: dict[str, int] = {}
    for part in filter(None, text.split(",")):
        status, _, number = part.partition("=")
        counts[status.strip()] = int(number)
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the fake SMS API until killed.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=_parse_seed, default={}, help="STATUS=N,STATUS=N")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    fake = FakeSmsApi(host=args.host, port=args.port)
    fake.seed(args.seed)
    fake.latency_seconds = args.latency_ms / 1000
    fake.start()
    print(f"READY {fake.endpoint_url}", flush=True)
    try:
        threading.Event().wait()  # serve until killed
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
