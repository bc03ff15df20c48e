"""Faults injected below the Lambda code, at botocore's level, for what the loopback
services cannot fake themselves.

* ``PublishBatchFaults``: SNS answers moto cannot be made to give (429 throttling, a 200
  with ``Failed`` entries, a crash mid-call), crafted in SNS's real XML wire shape from a
  ``before-send`` hook on one client. botocore emits ``before-send`` once per HTTP attempt
  (retries included); a handler that returns an ``AWSResponse`` replaces the network
  call, one that returns None lets the request go to moto, and one that raises fails the
  attempt with that exception (a non-botocore exception is not retried).
* ``InstantBackoff``: botocore's retry loop decides and counts as usual, only the waiting
  between attempts is recorded instead of slept, so throttling cases stay fast.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.httpsession import URLLib3Session

SNS_XML_NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/"
_ENTRIES = "PublishBatchRequestEntries.member."

Fault = Callable[[AWSPreparedRequest], AWSResponse]


class _Body:
    """The raw stream an ``AWSResponse`` reads its content from."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._content


def xml_response(url: str, status: int, body: str) -> AWSResponse:
    headers = {"Content-Type": "text/xml", "x-amzn-RequestId": str(uuid.uuid4())}
    return AWSResponse(url, status, headers, _Body(body.encode()))


def sns_error_xml(code: str, message: str, *, sender: bool = True) -> str:
    """SNS's (query protocol) error document."""
    return (
        f'<ErrorResponse xmlns="{SNS_XML_NAMESPACE}"><Error>'
        f"<Type>{'Sender' if sender else 'Receiver'}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )


def publish_batch_xml(
    successful: Iterable[tuple[str, str]], failed: Iterable[tuple[str, str, bool]]
) -> str:
    """A ``PublishBatchResponse``: ``successful`` (entry id, message id) and ``failed``
    (entry id, error code, sender fault)."""
    ok = "".join(
        f"<member><Id>{escape(entry_id)}</Id><MessageId>{escape(message_id)}</MessageId></member>"
        for entry_id, message_id in successful
    )
    refused = "".join(
        f"<member><Id>{escape(entry_id)}</Id><Code>{escape(code)}</Code>"
        f"<Message>Injected {escape(code)}</Message>"
        f"<SenderFault>{str(sender_fault).lower()}</SenderFault></member>"
        for entry_id, code, sender_fault in failed
    )
    return (
        f'<PublishBatchResponse xmlns="{SNS_XML_NAMESPACE}"><PublishBatchResult>'
        f"<Successful>{ok}</Successful><Failed>{refused}</Failed></PublishBatchResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</PublishBatchResponse>"
    )


class PublishBatchFaults:
    """Scripts the HTTP attempts (1 = the next one) of one SNS client's ``PublishBatch``;
    attempts without a fault go to moto unchanged."""

    def __init__(self, client: Any) -> None:
        self.attempts = 0  # every HTTP attempt, botocore's retries included
        self.forwarded = 0  # attempts (or parts of them) that reached moto
        self._plan: dict[int, Fault] = {}
        self._lock = threading.Lock()
        self._session = URLLib3Session()
        client.meta.events.register("before-send.sns.PublishBatch", self._before_send)

    def throttle(self, attempts: Iterable[int]) -> None:
        """These attempts answer HTTP 429 ``Throttled``, as SNS does past its rate."""

        def throttled(request: AWSPreparedRequest) -> AWSResponse:
            return xml_response(request.url, 429, sns_error_xml("Throttled", "Rate exceeded"))

        self._add(attempts, throttled)

    def fail_entries(
        self,
        attempt: int,
        entry_ids: Collection[str],
        *,
        sender_fault: bool,
        code: str = "InternalError",
    ) -> None:
        """This attempt answers 200 with the entries ``entry_ids`` (the request's own ids)
        in ``Failed``; the other entries really are published."""

        def partly_failed(request: AWSPreparedRequest) -> AWSResponse:
            return self._partly_failed(request, set(entry_ids), code, sender_fault)

        self._add([attempt], partly_failed)

    def crash(self, attempt: int) -> None:
        """This attempt raises RuntimeError: the process dies in the middle of the call."""

        def crashed(request: AWSPreparedRequest) -> AWSResponse:
            raise RuntimeError(f"injected crash during PublishBatch attempt {attempt}")

        self._add([attempt], crashed)

    def _add(self, attempts: Iterable[int], fault: Fault) -> None:
        with self._lock:
            for number in attempts:
                self._plan[self.attempts + number] = fault

    def _before_send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        with self._lock:
            self.attempts += 1
            fault = self._plan.pop(self.attempts, None)
            if fault is None:
                self.forwarded += 1
        return None if fault is None else fault(request)

    def _partly_failed(
        self, request: AWSPreparedRequest, failing: set[str], code: str, sender_fault: bool
    ) -> AWSResponse:
        common, entries = _split_entries(str(request.body))
        ids = [dict(fields)["Id"] for fields in entries]
        if not failing <= set(ids):
            raise ValueError(f"entry ids {sorted(failing - set(ids))} are not in the batch {ids}")
        kept = [
            fields for entry_id, fields in zip(ids, entries, strict=True) if entry_id not in failing
        ]
        successful: list[tuple[str, str]] = []
        if kept:
            successful = self._forward(request, common, kept)
        failed = [(entry_id, code, sender_fault) for entry_id in ids if entry_id in failing]
        return xml_response(request.url, 200, publish_batch_xml(successful, failed))

    def _forward(
        self,
        request: AWSPreparedRequest,
        common: list[tuple[str, str]],
        entries: list[list[tuple[str, str]]],
    ) -> list[tuple[str, str]]:
        """Publishes ``entries`` for real; returns moto's (entry id, message id) pairs."""
        fields = list(common)
        for number, entry in enumerate(entries, start=1):
            fields += [(f"{_ENTRIES}{number}.{name}", value) for name, value in entry]
        body = urlencode(fields)
        headers = dict(request.headers.items())
        headers["Content-Length"] = str(len(body.encode()))
        forwarded = AWSPreparedRequest(
            request.method, request.url, headers, body, request.stream_output
        )
        answer = self._session.send(forwarded)
        with self._lock:
            self.forwarded += 1
        if answer.status_code != 200:
            raise AssertionError(f"moto refused the forwarded batch: {answer.text}")
        document = ElementTree.fromstring(answer.content)  # noqa: S314 - moto on loopback
        members = document.iterfind(f".//{{{SNS_XML_NAMESPACE}}}Successful/{{*}}member")
        return [
            (member.findtext("{*}Id", ""), member.findtext("{*}MessageId", ""))
            for member in members
        ]


def _split_entries(body: str) -> tuple[list[tuple[str, str]], list[list[tuple[str, str]]]]:
    """The form fields outside the entries, and each entry's fields (names relative to
    the entry), in request order."""
    common: list[tuple[str, str]] = []
    entries: dict[int, list[tuple[str, str]]] = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        if name.startswith(_ENTRIES):
            number, _, rest = name[len(_ENTRIES) :].partition(".")
            entries.setdefault(int(number), []).append((rest, value))
        else:
            common.append((name, value))
    return common, [entries[number] for number in sorted(entries)]


class InstantBackoff:
    """Stands in for the ``time`` module botocore's endpoint sleeps through between
    retries: the delays botocore computes are recorded in ``delays``, not slept. Attempt
    counts and retry decisions stay botocore's own."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.delays: list[float] = []
        monkeypatch.setattr(botocore.endpoint, "time", self)

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)
