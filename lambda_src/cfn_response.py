"""The CloudFormation answer: building a body that always fits, and delivering it.

The body is at most 4096 bytes (CloudFormation's limit): only ``Reason`` and
``FailedAttachmentIds`` are ever trimmed, so every attribute a stack may ``Fn::GetAtt``
is present. The PUT goes to a pre-signed S3 URL signed without a content type, so the
``Content-Type`` header is sent present and empty. The URL is a credential: it is never
logged, traced or put in an error message.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(child=True)

SUCCESS = "SUCCESS"
FAILED = "FAILED"
MAX_BODY_BYTES = 4096
FAILED_IDS_KEY = "FailedAttachmentIdsTruncated"
_IDS_KEY = "FailedAttachmentIds"
_NO_IDS = "none"
_ELLIPSIS = " [truncated]"
_REASON_FLOOR = 512

#: (url, body, timeout seconds) -> HTTP status; raises on transport errors.
HttpPut = Callable[[str, bytes, float], int]


def encode_response(
    *,
    status: str,
    reason: str,
    request: Mapping[str, Any],
    physical_id: str,
    data: Mapping[str, str],
) -> bytes:
    """The response document as UTF-8 JSON of at most 4096 bytes."""
    document: dict[str, Any] = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id,
        "StackId": request.get("StackId", ""),
        "RequestId": request.get("RequestId", ""),
        "LogicalResourceId": request.get("LogicalResourceId", ""),
        "NoEcho": False,
        "Data": dict(data),
    }
    body = _dump(document)
    if len(body) <= MAX_BODY_BYTES:
        return body
    _trim_failed_ids(document)
    body = _dump(document)
    if len(body) <= MAX_BODY_BYTES:
        return body
    document["Reason"] = _trim_reason(document["Reason"], len(body) - MAX_BODY_BYTES)
    body = _dump(document)
    if len(body) > MAX_BODY_BYTES:
        # Only reachable with absurd echoed ids; CloudFormation still gets an answer.
        document["Data"] = {}
        document["Status"] = FAILED
        document["Reason"] = "response too large for CloudFormation (4096 bytes)"
        body = _dump(document)
    return body


def _dump(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _trim_failed_ids(document: dict[str, Any]) -> None:
    data = document["Data"]
    ids = data.get(_IDS_KEY)
    if not ids or ids == _NO_IDS:
        return
    all_ids = ids.split(",")
    original_flag = data.get(FAILED_IDS_KEY, "false")
    data[_IDS_KEY] = ""
    data[FAILED_IDS_KEY] = "true"  # measure with the longest value it can take
    # The Reason gives way first (down to _REASON_FLOOR characters as serialized), so a
    # long reason does not cut ids that would fit once the reason is trimmed.
    reason_len = len(json.dumps(document["Reason"])) - 2
    room = MAX_BODY_BYTES - len(_dump(document)) + max(reason_len - _REASON_FLOOR, 0)
    kept: list[str] = []
    used = 0
    for attachment_id in all_ids:
        cost = len(json.dumps(attachment_id)) - 2 + (1 if kept else 0)
        if used + cost > room:
            break
        kept.append(attachment_id)
        used += cost
    # "none" would claim nothing failed: keep at least one id (Reason gives way instead).
    kept = kept or all_ids[:1]
    data[_IDS_KEY] = ",".join(kept)
    data[FAILED_IDS_KEY] = "true" if len(kept) < len(all_ids) else original_flag


def _trim_reason(reason: str, excess: int) -> str:
    encoded = json.dumps(reason)[1:-1]  # measured as it will be serialized
    keep = max(len(encoded) - excess - len(_ELLIPSIS), 0)
    trimmed = reason[:keep]
    while len(json.dumps(trimmed)) - 2 > keep and trimmed:
        trimmed = trimmed[:-1]
    return trimmed + _ELLIPSIS


def http_put(url: str, body: bytes, timeout: float) -> int:
    """PUTs ``body``; ``Content-Type`` is present and empty (urllib would otherwise add a
    form content type, and the pre-signed URL was signed without one)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("ResponseURL is not an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
        return int(answer.status)


class Responder:
    """Delivers exactly one answer per request, whoever asks first (the handler or the
    watchdog), retrying a failed PUT with backoff until the deadline."""

    def __init__(
        self,
        url: str,
        *,
        put: HttpPut = http_put,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = url
        self._put = put
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._claimed = False
        self._done = threading.Event()
        self.delivered = False
        self.attempts = 0

    @property
    def claimed(self) -> bool:
        return self._claimed

    def answer(self, body: bytes, *, deadline: float) -> bool:
        """Sends ``body`` unless an answer was already sent; True when this call sent it."""
        with self._lock:
            if self._claimed:
                return False
            self._claimed = True
        try:
            self.delivered = self._deliver(body, deadline)
        finally:
            self._done.set()
        return True

    def wait(self, timeout: float) -> None:
        """Blocks until an answer in flight (e.g. the watchdog's) has been delivered."""
        if self._claimed:
            self._done.wait(timeout)

    def _deliver(self, body: bytes, deadline: float) -> bool:
        delay = 0.5
        while True:
            self.attempts += 1
            remaining = deadline - self._clock()
            try:
                status = self._put(self._url, body, max(1.0, min(10.0, remaining)))
                if 200 <= status < 300:
                    logger.info(
                        "Answered CloudFormation", http_status=status, attempts=self.attempts
                    )
                    return True
                problem = f"HTTP {status}"
            except urllib.error.HTTPError as error:
                problem = f"HTTP {error.code}"
            except (OSError, ValueError, http.client.HTTPException) as error:
                problem = type(error).__name__
            wait = random.uniform(delay / 2, delay)
            if self._clock() + wait + 1.0 >= deadline:
                logger.error(
                    "Could not answer CloudFormation", problem=problem, attempts=self.attempts
                )
                return False
            logger.warning("Answering CloudFormation failed; retrying", problem=problem)
            self._sleep(wait)
            delay = min(delay * 2, 8.0)


class Watchdog:
    """Calls ``on_deadline`` ``margin`` seconds before the Lambda deadline unless
    cancelled first, so CloudFormation is answered even when the work hangs."""

    def __init__(
        self,
        seconds_left: Callable[[], float],
        on_deadline: Callable[[], None],
        *,
        margin: float,
    ) -> None:
        self._seconds_left = seconds_left
        self._on_deadline = on_deadline
        self._margin = margin
        self._timer: threading.Timer | None = None

    def start(self) -> None:
        delay = self._seconds_left() - self._margin
        self._timer = threading.Timer(max(delay, 0.0), self._on_deadline)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
