"""The CloudFormation answer: a body that always fits, delivered exactly once
(DESIGN.md §2.2)."""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.error
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from lambda_src.cfn_response import (
    FAILED,
    MAX_BODY_BYTES,
    SUCCESS,
    Responder,
    Watchdog,
    encode_response,
    http_put,
)
from lambda_src.custom_resource import StatusReport

STACK_ID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/registration-attachment-monitor/"
    "0f2b1c00-b1a2-11ee-9d3c-0a1b2c3d4e5f"
)
REQUEST = {
    "RequestType": "Create",
    "StackId": STACK_ID,
    "RequestId": "5d3e6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8",
    "LogicalResourceId": "AttachmentStatus",
}
PHYSICAL_ID = "registration-attachment-status-0123456789abcdef"
URL_SECRET = "X-Amz-Signature=f00dfeedf00dfeed"
RESPONSE_URL = (
    f"https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?{URL_SECRET}"
)
SCANNED_AT = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)


def attachment_id(index: int) -> str:
    return f"attachment-{index:032x}"


def report_data(*, failed: int = 0, requested: int = 0) -> dict[str, str]:
    """Data as the custom resource builds it."""
    report = StatusReport(
        counts={
            "UPLOAD_IN_PROGRESS": 2,
            "UPLOAD_COMPLETE": 40,
            "UPLOAD_FAILED": failed,
            "DELETED": 1,
        },
        failed_ids=[attachment_id(i) for i in range(failed)],
        status_by_id={attachment_id(10_000 + i): "UPLOAD_COMPLETE" for i in range(requested)},
        scanned_at=SCANNED_AT,
    )
    return report.data()


def encode(
    *, data: dict[str, str], reason: str = "status read", status: str = SUCCESS
) -> tuple[bytes, dict[str, Any]]:
    body = encode_response(
        status=status, reason=reason, request=REQUEST, physical_id=PHYSICAL_ID, data=data
    )
    document = json.loads(body.decode("utf-8"))
    assert isinstance(document, dict)
    return body, document


# -- encode_response --------------------------------------------------------------------------


def test_small_body_is_sent_unchanged_and_echoes_the_request() -> None:
    # Given a small answer
    data = report_data(failed=2, requested=3)
    # When encoded
    body, document = encode(data=data)
    # Then nothing was trimmed and the request ids are echoed
    assert len(body) <= MAX_BODY_BYTES
    assert document == {
        "Status": SUCCESS,
        "Reason": "status read",
        "PhysicalResourceId": PHYSICAL_ID,
        "StackId": STACK_ID,
        "RequestId": REQUEST["RequestId"],
        "LogicalResourceId": "AttachmentStatus",
        "NoEcho": False,
        "Data": data,
    }
    assert document["Data"]["FailedAttachmentIdsTruncated"] == "false"


def assert_ids_cut_at_a_boundary(kept: str, original: str) -> list[str]:
    kept_ids = kept.split(",")
    original_ids = original.split(",")
    assert 0 < len(kept_ids) < len(original_ids)
    assert kept_ids == original_ids[: len(kept_ids)]
    return kept_ids


def test_five_thousand_failed_ids_are_cut_at_an_id_boundary_to_fit() -> None:
    # Given 5,000 failed ids (far beyond 4096 bytes)
    data = report_data(failed=5_000)
    # When encoded
    body, document = encode(data=data)
    answered = document["Data"]
    # Then the body fits, the id list is cut between ids and marked truncated
    assert len(body) <= MAX_BODY_BYTES
    assert_ids_cut_at_a_boundary(answered["FailedAttachmentIds"], data["FailedAttachmentIds"])
    assert answered["FailedAttachmentIdsTruncated"] == "true"
    # And every other key a stack may Fn::GetAtt is present and unchanged
    others = {k: v for k, v in data.items() if not k.startswith("FailedAttachmentIds")}
    assert {k: answered[k] for k in others} == others
    assert set(answered) == set(data)
    # And the reason did not need to give way
    assert document["Reason"] == "status read"


def test_id_list_uses_the_room_available() -> None:
    # The cut is not needlessly short: one more id would not have fitted.
    data = report_data(failed=5_000)
    body, _ = encode(data=data)
    assert MAX_BODY_BYTES - len(body) < len(attachment_id(0)) + 1


def test_huge_non_ascii_reason_is_trimmed_to_fit_as_valid_json() -> None:
    # Given a FAILED answer with a huge reason full of non-ASCII characters
    reason = "Échec de lecture — 失敗しました 🚫 " * 2_000
    data = report_data(failed=1)
    # When encoded
    body, document = encode(data=data, reason=reason, status=FAILED)
    # Then the body fits, is JSON, and the reason is a marked prefix of the original
    assert len(body) <= MAX_BODY_BYTES
    trimmed = document["Reason"]
    assert trimmed.endswith(" [truncated]")
    kept = trimmed.removesuffix(" [truncated]")
    assert len(kept) > 100
    assert reason.startswith(kept)
    assert document["Status"] == FAILED
    assert set(document["Data"]) == set(data)


def test_trimming_only_the_reason_does_not_mark_the_id_list_truncated() -> None:
    # Given one failed id and a reason far too long for the body
    data = report_data(failed=1)
    body, document = encode(data=data, reason="x" * 10_000)
    # Then the reason gives way; the id list is complete and not marked truncated
    assert len(body) <= MAX_BODY_BYTES
    assert document["Data"]["FailedAttachmentIds"] == attachment_id(0)
    assert document["Data"]["FailedAttachmentIdsTruncated"] == "false"
    assert document["Data"] == data


def test_thirty_status_keys_and_thousands_of_failed_ids_fit_with_every_key() -> None:
    # Given the most ids a resource may request, with realistic ids, and 3,000 failed
    data = report_data(failed=3_000, requested=30)
    status_keys = [k for k in data if k.startswith("Status.")]
    assert len(status_keys) == 30
    assert all(len(k) == len("Status.attachment-") + 32 for k in status_keys)
    # When encoded with a failure reason (and the log hint the handler adds)
    reason = "status read (log stream 2026/12/04/[$LATEST]0123456789abcdef)"
    body, document = encode(data=data, reason=reason)
    answered = document["Data"]
    # Then it fits with every Status key, every count and ScannedAt intact
    assert len(body) <= MAX_BODY_BYTES
    for key in status_keys:
        assert answered[key] == "UPLOAD_COMPLETE"
    for key in ("TotalCount", "UploadInProgressCount", "UploadCompleteCount"):
        assert answered[key] == data[key]
    assert answered["UploadFailedCount"] == "3000"
    assert answered["DeletedCount"] == "1"
    assert answered["ScannedAt"] == "2026-12-04T20:00:00Z"
    assert answered["FailedAttachmentIdsTruncated"] == "true"
    assert_ids_cut_at_a_boundary(answered["FailedAttachmentIds"], data["FailedAttachmentIds"])
    assert document["Reason"] == reason


def test_huge_reason_and_many_failed_ids_together_still_fit() -> None:
    data = report_data(failed=2_000, requested=30)
    body, document = encode(data=data, reason="x" * 10_000, status=FAILED)
    assert len(body) <= MAX_BODY_BYTES
    assert set(document["Data"]) == set(data)
    assert document["Data"]["FailedAttachmentIds"] != "none"
    assert document["Reason"].endswith(" [truncated]")


def test_a_body_that_cannot_fit_still_answers_failed() -> None:
    # Only reachable with absurd data: CloudFormation still gets a valid, small answer.
    data = {f"Status.{'a' * 200}{i}": "UPLOAD_COMPLETE" for i in range(50)}
    body, document = encode(data=data)
    assert len(body) <= MAX_BODY_BYTES
    assert document["Status"] == FAILED
    assert "4096" in document["Reason"]


# -- Responder --------------------------------------------------------------------------------


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedPut:
    """Records each PUT; each step returns an HTTP status or raises."""

    def __init__(self, *steps: int | Exception) -> None:
        self.calls: list[tuple[str, bytes, float]] = []
        self._steps = list(steps)

    def __call__(self, url: str, body: bytes, timeout: float) -> int:
        self.calls.append((url, body, timeout))
        step = self._steps.pop(0) if len(self._steps) > 1 else self._steps[0]
        if isinstance(step, Exception):
            raise step
        return step


def responder(put: Callable[[str, bytes, float], int], fake: FakeTime) -> Responder:
    return Responder(RESPONSE_URL, put=put, clock=fake.clock, sleep=fake.sleep)


def test_answers_once_even_when_asked_twice() -> None:
    fake = FakeTime()
    put = ScriptedPut(200)
    answering = responder(put, fake)
    assert answering.answer(b'{"first":1}', deadline=fake.now + 60) is True
    assert answering.answer(b'{"second":2}', deadline=fake.now + 60) is False
    assert put.calls == [(RESPONSE_URL, b'{"first":1}', 10.0)]
    assert answering.delivered is True
    assert answering.claimed is True


def test_failed_put_is_retried_with_backoff_until_accepted() -> None:
    # Given the PUT fails with a network error, then a 500, then succeeds
    fake = FakeTime()
    put = ScriptedPut(urllib.error.URLError("connection reset"), 500, 200)
    answering = responder(put, fake)
    # When answering
    sent = answering.answer(b"{}", deadline=fake.now + 60)
    # Then it was delivered on the third attempt, after two waits
    assert sent is True
    assert answering.delivered is True
    assert answering.attempts == 3
    assert len(put.calls) == 3
    assert len(fake.sleeps) == 2
    assert all(0 < seconds <= 8.0 for seconds in fake.sleeps)


def test_http_error_raised_by_urllib_is_retried() -> None:
    fake = FakeTime()
    headers = http.client.HTTPMessage()
    error = urllib.error.HTTPError("https://example.com/", 503, "Slow Down", headers, None)
    put = ScriptedPut(error, 200)
    answering = responder(put, fake)
    assert answering.answer(b"{}", deadline=fake.now + 60) is True
    assert answering.delivered is True
    assert len(put.calls) == 2


@pytest.mark.parametrize(
    "error",
    [
        http.client.BadStatusLine("garbage"),
        http.client.RemoteDisconnected("closed"),
        TimeoutError("timed out"),
    ],
    ids=["bad-status-line", "remote-disconnected", "timeout"],
)
def test_transport_errors_of_any_kind_are_retried(error: Exception) -> None:
    # Given a PUT that fails once at the HTTP transport level, then succeeds
    fake = FakeTime()
    put = ScriptedPut(error, 200)
    answering = responder(put, fake)
    # Then the answer is retried and delivered (and nothing escapes the responder)
    assert answering.answer(b"{}", deadline=fake.now + 60) is True
    assert answering.delivered is True
    assert len(put.calls) == 2


def test_malformed_response_url_never_raises_out_of_the_responder() -> None:
    # Given a ResponseURL that passes the scheme check but is not a valid URL (bad port)
    fake = FakeTime()
    answering = Responder(
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:notaport/x",
        put=http_put,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    # When answering, Then the failure is reported as not delivered instead of raised
    assert answering.answer(b"{}", deadline=fake.now + 5) is True
    assert answering.delivered is False


def test_gives_up_at_the_deadline() -> None:
    # Given a PUT that always fails with 500
    fake = FakeTime()
    put = ScriptedPut(500)
    answering = responder(put, fake)
    deadline = fake.now + 20
    # When answering
    sent = answering.answer(b"{}", deadline=deadline)
    # Then it stops before the deadline, reporting the answer as not delivered
    assert sent is True
    assert answering.delivered is False
    assert 2 <= len(put.calls) < 20
    assert fake.now < deadline
    # And every PUT had at least a second to complete
    assert all(1.0 <= timeout <= 10.0 for _, _, timeout in put.calls)


def test_put_timeout_follows_the_time_left() -> None:
    fake = FakeTime()
    put = ScriptedPut(200)
    responder(put, fake).answer(b"{}", deadline=fake.now + 4.0)
    assert put.calls[0][2] == 4.0


def test_response_url_never_appears_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    # Given errors whose text contains the pre-signed URL
    fake = FakeTime()
    put = ScriptedPut(OSError(f"cannot reach {RESPONSE_URL}"), 500)
    # When the responder retries and gives up
    with caplog.at_level(logging.DEBUG):
        responder(put, fake).answer(b"{}", deadline=fake.now + 10)
    # Then the problems were logged by kind only: neither the URL nor its signature
    problems = [getattr(record, "problem", None) for record in caplog.records]
    assert "OSError" in problems
    assert "HTTP 500" in problems
    for record in caplog.records:
        logged = repr(vars(record))
        assert URL_SECRET not in logged
        assert "s3.amazonaws.com" not in logged


def test_concurrent_answers_send_exactly_one_put_sequence() -> None:
    # Given a PUT that blocks until released, and two threads answering at once
    release = threading.Event()
    calls: list[bytes] = []

    def slow_put(url: str, body: bytes, timeout: float) -> int:
        calls.append(body)
        release.wait(2)
        return 200

    answering = Responder(RESPONSE_URL, put=slow_put, sleep=lambda _: None)
    start = threading.Barrier(2)
    results: list[bool] = []

    def answer(body: bytes) -> None:
        start.wait(2)
        results.append(answering.answer(body, deadline=time.monotonic() + 30))

    threads = [threading.Thread(target=answer, args=(body,)) for body in (b"A", b"B")]
    for thread in threads:
        thread.start()
    # When the loser returns while the winner's PUT is still in flight
    waited_until = time.monotonic() + 2
    while not results and time.monotonic() < waited_until:
        time.sleep(0.001)
    assert results == [False]
    release.set()
    for thread in threads:
        thread.join(2)
    # Then exactly one thread sent, with exactly one PUT
    assert sorted(results) == [False, True]
    assert len(calls) == 1
    assert answering.delivered is True


def test_wait_blocks_until_an_answer_in_flight_is_delivered() -> None:
    release = threading.Event()

    def slow_put(url: str, body: bytes, timeout: float) -> int:
        release.wait(2)
        return 200

    answering = Responder(RESPONSE_URL, put=slow_put)
    sender = threading.Thread(
        target=answering.answer, args=(b"{}",), kwargs={"deadline": time.monotonic() + 30}
    )
    sender.start()
    give_up = time.monotonic() + 2
    while not answering.claimed and time.monotonic() < give_up:
        time.sleep(0.001)
    assert answering.delivered is False
    threading.Timer(0.05, release.set).start()
    answering.wait(2)
    assert answering.delivered is True
    sender.join(2)


# -- http_put ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["ftp://example.com/response", "file:///etc/passwd", "s3://bucket/key", ""]
)
def test_http_put_rejects_urls_that_are_not_http(url: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        http_put(url, b"{}", 1.0)


# -- Watchdog ---------------------------------------------------------------------------------


def test_watchdog_fires_at_once_when_less_time_is_left_than_the_margin() -> None:
    fired = threading.Event()
    watchdog = Watchdog(lambda: 0.01, fired.set, margin=1.0)
    watchdog.start()
    assert fired.wait(0.5)
    watchdog.cancel()


def test_watchdog_fires_margin_before_the_deadline() -> None:
    fired = threading.Event()
    started = time.monotonic()
    watchdog = Watchdog(lambda: 0.15, fired.set, margin=0.1)
    watchdog.start()
    assert fired.wait(1.0)
    assert time.monotonic() - started >= 0.04


def test_cancelled_watchdog_does_not_fire() -> None:
    fired = threading.Event()
    watchdog = Watchdog(lambda: 0.3, fired.set, margin=0.1)
    watchdog.start()
    watchdog.cancel()
    assert not fired.wait(0.35)


def test_cancelling_a_watchdog_that_never_started_is_harmless() -> None:
    Watchdog(lambda: 10.0, lambda: None, margin=1.0).cancel()
