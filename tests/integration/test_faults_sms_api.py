"""Fault suite, SMS API: the scan and the custom resource while
``DescribeRegistrationAttachments`` throttles, errs, drops connections or hangs.

Every scan case checks that nothing is lost: each failed attachment is alerted exactly
once across the runs it takes. botocore's waits between retries are recorded instead of
slept (``InstantBackoff``); attempt counts and retry decisions are botocore's own.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotocoreConfig

from lambda_src import aws_clients, handler
from lambda_src.scan import ScanIncompleteError
from lambda_src.sms_api import AttachmentsApi
from tests.fakes.fake_sms_api import CONNECTION_RESET, HANG
from tests.integration.conftest import REGION, World
from tests.integration.test_custom_resource import only_answer
from tests.integration.test_scan import SCHEDULER_EVENT, alert_ids
from tests.support.botocore_faults import InstantBackoff

#: botocore's standard mode: 5 attempts per call (README), so 4 retries.
ATTEMPTS = 5
TRANSIENT = ["ThrottlingException", "InternalServerException", CONNECTION_RESET]
PERMANENT = ["AccessDeniedException", "ResourceNotFoundException", "ValidationException"]


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> InstantBackoff:
    return InstantBackoff(monkeypatch)


@pytest.fixture
def three_pages(world: World, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """300 attachments listed in three pages of 100 (the full inventory), three failed
    on each page; returns the failed ids."""
    monkeypatch.setenv("FULL_INVENTORY", "true")
    failed = []
    for _ in range(3):
        world.api.add("UPLOAD_COMPLETE", count=97)
        failed += world.api.add("UPLOAD_FAILED", count=3)
    return sorted(a.attachment_id for a in failed)


# -- the scan ------------------------------------------------------------------------------


def test_throttling_on_every_other_call_slows_the_scan_but_misses_nothing(
    world: World, three_pages: list[str], backoff: InstantBackoff
) -> None:
    # Given an API that throttles every other call
    world.api.fail_calls("ThrottlingException", call_numbers=set(range(2, 100, 2)))

    # When the scan lists its three pages
    result = world.invoke(SCHEDULER_EVENT)

    # Then pages 2 and 3 each took one retry, and every failure was alerted once
    assert world.api.call_count == 3 + 2
    assert result["alerts_sent"] == 9
    assert alert_ids(world.alerts()) == three_pages
    # botocore's throttling backoff: full jitter over 1 s for a first retry
    assert len(backoff.delays) == 2
    assert all(0 <= delay <= 1.0 for delay in backoff.delays)


@pytest.mark.parametrize("fault", TRANSIENT)
def test_a_transient_fault_four_times_in_a_row_is_absorbed_by_the_retries(
    world: World, three_pages: list[str], backoff: InstantBackoff, fault: str
) -> None:
    # Given the second page fails four times before it is served
    world.api.fail_calls(fault, call_numbers={2, 3, 4, 5})

    result = world.invoke(SCHEDULER_EVENT)

    assert world.api.call_count == 3 + 4
    assert result["alerts_sent"] == 9
    assert alert_ids(world.alerts()) == three_pages
    # Exponential backoff with full jitter: base 1 s for throttling, 50 ms otherwise
    base = 1.0 if fault == "ThrottlingException" else 0.05
    assert len(backoff.delays) == 4
    for attempt, delay in enumerate(backoff.delays):
        assert 0 <= delay <= base * 2**attempt


@pytest.mark.parametrize("fault", TRANSIENT)
def test_a_transient_fault_outlasting_the_retries_fails_the_run_and_a_later_run_alerts_the_rest(
    world: World, three_pages: list[str], backoff: InstantBackoff, fault: str
) -> None:
    # Given the second page fails on every one of botocore's five attempts
    world.api.fail_calls(fault, call_numbers=set(range(2, 2 + ATTEMPTS)))

    # When the scan runs, it fails and says why, after alerting what it had read
    with pytest.raises(ScanIncompleteError, match="scan incomplete") as failure:
        world.invoke(SCHEDULER_EVENT)
    assert world.api.call_count == 1 + ATTEMPTS
    first = world.alerts()
    assert len(first) == 3  # the first page's failures
    assert failure.value.summary.alerts_sent == 3

    # Then the next run, with the API healthy, alerts exactly the rest
    result = world.invoke(SCHEDULER_EVENT)
    assert result["already_alerted"] == 3
    assert result["alerts_sent"] == 6
    assert alert_ids(first + world.alerts()) == three_pages


@pytest.mark.parametrize("code", PERMANENT)
def test_a_permanent_error_fails_the_run_at_once_and_a_later_run_alerts_the_rest(
    world: World, three_pages: list[str], code: str
) -> None:
    # Given the second page answers an error that retrying cannot fix
    world.api.fail_calls(code, call_numbers={2})

    with pytest.raises(ScanIncompleteError, match=code):
        world.invoke(SCHEDULER_EVENT)

    # Then it was not retried, and the first page's failures were still alerted
    assert world.api.call_count == 2
    first = world.alerts()
    assert len(first) == 3
    world.invoke(SCHEDULER_EVENT)
    assert alert_ids(first + world.alerts()) == three_pages


def test_access_denied_from_the_first_call_sends_nothing_until_access_is_back(
    world: World,
) -> None:
    failed = world.api.add("UPLOAD_FAILED", count=4)
    world.api.deny_access()

    with pytest.raises(ScanIncompleteError, match="AccessDeniedException"):
        world.invoke(SCHEDULER_EVENT)
    assert world.alerts() == []

    world.api.deny_access(False)
    world.invoke(SCHEDULER_EVENT)
    assert alert_ids(world.alerts()) == sorted(a.attachment_id for a in failed)


def test_a_page_that_never_comes_times_out_and_a_later_run_alerts_the_rest(
    world: World,
    three_pages: list[str],
    backoff: InstantBackoff,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a read timeout of 0.2 s (the adapter takes an injected client; the product's
    # is 10 s), and a second page that never comes on any attempt
    short = aws_clients.BOTOCORE_CONFIG.merge(BotocoreConfig(read_timeout=0.2))
    client = boto3.client("pinpoint-sms-voice-v2", region_name=REGION, config=short)
    monkeypatch.setattr(
        handler,
        "_runtime",
        dataclasses.replace(handler.runtime(), api=AttachmentsApi(REGION, client=client)),
    )
    world.api.fail_calls(HANG, call_numbers=set(range(2, 2 + ATTEMPTS)))

    # When the scan runs, each attempt times out, and the run fails naming the timeout
    with pytest.raises(ScanIncompleteError, match="Read timeout"):
        world.invoke(SCHEDULER_EVENT)
    assert world.api.call_count == 1 + ATTEMPTS
    first = world.alerts()
    assert len(first) == 3

    # Then, once pages come again, the next run alerts the rest
    world.api.release()
    world.invoke(SCHEDULER_EVENT)
    assert alert_ids(first + world.alerts()) == three_pages


def test_a_slow_page_only_slows_the_scan(world: World, three_pages: list[str]) -> None:
    # Given every page takes 0.2 s, well within the 10 s read timeout
    world.api.latency_seconds = 0.2

    result = world.invoke(SCHEDULER_EVENT)

    assert world.api.call_count == 3
    assert result["duration_ms"] >= 600
    assert alert_ids(world.alerts()) == three_pages


# -- the custom resource ---------------------------------------------------------------------


def forward_update(world: World, properties: dict[str, Any] | None = None) -> dict[str, Any]:
    """An Update that is not a rollback (its refresh token is newer than the old one)."""
    return world.cfn_event(
        "Update",
        {**(properties or {}), "RefreshToken": "1764806999999"},
        old_properties={"RefreshToken": "1764806400000"},
        physical_id="registration-attachment-status-abc",
    )


@pytest.mark.parametrize(
    ("fault", "times", "named"),
    [
        ("AccessDeniedException", 1, "AccessDeniedException"),
        ("ResourceNotFoundException", 1, "ResourceNotFoundException"),
        ("ValidationException", 1, "ValidationException"),
        ("InternalServerException", ATTEMPTS, "InternalServerException"),
        ("ThrottlingException", ATTEMPTS, "ThrottlingException"),
        (CONNECTION_RESET, ATTEMPTS, "could not be reached"),
    ],
)
def test_an_api_error_fails_an_update_once_with_the_cause_in_the_reason(
    world: World, backoff: InstantBackoff, fault: str, times: int, named: str
) -> None:
    world.api.add("UPLOAD_COMPLETE")
    world.api.fail_next(fault, times=times)

    result = world.invoke(forward_update(world))

    answer = only_answer(world).document
    assert answer["Status"] == "FAILED"
    assert named in answer["Reason"]
    assert answer["PhysicalResourceId"] == "registration-attachment-status-abc"
    assert result["Status"] == "FAILED"  # returned, never raised
    assert world.api.call_count == times


@pytest.mark.parametrize("fault", TRANSIENT)
def test_a_transient_fault_during_a_create_is_retried_and_succeeds(
    world: World, backoff: InstantBackoff, fault: str
) -> None:
    world.api.seed({"UPLOAD_COMPLETE": 150, "UPLOAD_FAILED": 3})
    world.api.fail_calls(fault, call_numbers={2, 3})

    world.invoke(world.cfn_event("Create"))

    answer = only_answer(world).document
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["TotalCount"] == "153"
    assert answer["Data"]["UploadFailedCount"] == "3"
    assert world.api.call_count == 2 + 2


def test_access_denied_on_create_stops_retrying_in_time_to_answer_before_the_watchdog(
    world: World,
) -> None:
    # Given a role that never gets access, and 8 s left (the watchdog would fire at 3 s)
    world.api.deny_access()

    world.invoke(world.cfn_event("Create"), seconds=8)

    # Then the grace retries stop early enough for the handler's own answer
    answer = only_answer(world).document
    assert answer["Status"] == "FAILED"
    assert "AccessDeniedException" in answer["Reason"]
    assert "timed out" not in answer["Reason"]
    assert world.api.call_count == 2
