"""Fault suite, CloudFormation: every request answered exactly once, consistently, in
time, whatever the ResponseURL, the clock, the API or the event itself does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from lambda_src.routing import InvalidEventError
from tests.fakes.fake_sms_api import HANG
from tests.integration.conftest import World
from tests.integration.test_custom_resource import only_answer, rollback_event
from tests.support.network import SilentServer, closed_loopback_url

PHYSICAL_ID = "registration-attachment-status-abc"


def after_first_answer(world: World, action: Callable[[], None]) -> threading.Thread:
    """Runs ``action`` in the background as soon as CloudFormation got an answer (or
    after 10 s): lets a test end a hang it started once the watchdog has spoken."""

    def wait_then_act() -> None:
        deadline = time.monotonic() + 10
        while not world.responses.puts and time.monotonic() < deadline:
            time.sleep(0.01)
        action()

    thread = threading.Thread(target=wait_then_act, daemon=True)
    thread.start()
    return thread


# -- delivery -------------------------------------------------------------------------------


def test_a_response_url_refusing_with_500_then_403_is_retried_until_accepted(
    world: World,
) -> None:
    world.api.add("UPLOAD_COMPLETE")
    world.responses.fail_next(500, 403)

    result = world.invoke(world.cfn_event("Create"))

    # Then three PUTs carried the same answer, and only the last was accepted
    puts = world.responses.puts
    assert [put.answered_status for put in puts] == [500, 403, 200]
    assert len({put.body for put in puts}) == 1
    assert only_answer(world).document["Status"] == "SUCCESS"
    assert result["Status"] == "SUCCESS"


def test_an_unreachable_response_url_still_returns_within_the_deadline(world: World) -> None:
    # Given a ResponseURL on a port nothing listens on, and 5.5 s left
    event = world.cfn_event("Create")
    event["ResponseURL"] = closed_loopback_url() + "/response?X-Amz-Signature=secret"
    started = time.monotonic()

    # When the handler tries to answer
    result = world.invoke(event, seconds=5.5)

    # Then it gives up before the deadline and returns without raising
    assert time.monotonic() - started < 5.5
    assert result["PhysicalResourceId"].startswith("registration-attachment-status-")


def test_a_response_url_that_never_answers_still_returns_within_the_deadline(
    world: World,
) -> None:
    # Given a ResponseURL that takes the request and never answers, and 5.5 s left
    silent = SilentServer()
    event = world.cfn_event("Create")
    event["ResponseURL"] = silent.url + "/response?X-Amz-Signature=secret"
    started = time.monotonic()

    # When the handler tries to answer
    try:
        world.invoke(event, seconds=5.5)
    finally:
        silent.close()

    # Then its PUT times out in time for the handler to return before the deadline
    assert time.monotonic() - started < 5.5


# -- duplicates -------------------------------------------------------------------------------


def test_a_failed_answer_is_not_replaced_when_the_request_is_delivered_again(
    world: World,
) -> None:
    # Given a Create answered FAILED because the API rejected the request
    world.api.fail_next("ValidationException")
    event = world.cfn_event("Create")
    world.invoke(event)
    assert only_answer(world).document["Status"] == "FAILED"

    # When the same request arrives again, with the API healthy
    second = world.invoke(event)

    # Then CloudFormation's answer stays the one it got
    assert len(world.responses.puts) == 1
    assert second["Status"] == "DUPLICATE"


def test_a_page_that_never_comes_is_answered_failed_once_by_the_watchdog(
    world: World,
) -> None:
    # Given the first page never comes before the deadline (6 s left: the watchdog
    # fires at 1 s; the page is let go once CloudFormation got its answer)
    world.api.add("UPLOAD_COMPLETE")
    world.api.fail_next(HANG)
    releaser = after_first_answer(world, world.api.release)

    result = world.invoke(world.cfn_event("Create"), seconds=6)

    # Then the watchdog's FAILED answer is the only one, even after the page came late
    releaser.join()
    answer = only_answer(world).document
    assert answer["Status"] == "FAILED"
    assert "timed out" in answer["Reason"]
    assert len(world.responses.puts) == 1
    assert result["Status"] == "FAILED"


def test_lambdas_retry_of_a_timed_out_request_is_not_answered_again(world: World) -> None:
    # Given the watchdog answered FAILED while the page hung (Lambda then times the
    # invocation out, and its async retry delivers the same request again)
    world.api.add("UPLOAD_COMPLETE")
    world.api.fail_next(HANG)
    after_first_answer(world, world.api.release)
    event = world.cfn_event("Create")
    world.invoke(event, seconds=6)
    assert only_answer(world).document["Status"] == "FAILED"

    # When the retry arrives with the API healthy
    retry = world.invoke(event)

    # Then CloudFormation still has exactly one answer: the first
    assert [put.document["Status"] for put in world.responses.puts] == ["FAILED"]
    assert retry["Status"] == "DUPLICATE"


# -- time --------------------------------------------------------------------------------------


def test_a_create_with_less_than_5_seconds_left_is_answered_failed_at_once(
    world: World,
) -> None:
    started = time.monotonic()

    world.invoke(world.cfn_event("Create"), seconds=3)

    answer = only_answer(world).document
    assert answer["Status"] == "FAILED"
    assert "time" in answer["Reason"]
    assert world.api.call_count == 0
    assert time.monotonic() - started < 1.0


def test_a_delete_with_less_than_5_seconds_left_still_succeeds(world: World) -> None:
    world.invoke(world.cfn_event("Delete", physical_id=PHYSICAL_ID), seconds=3)

    answer = only_answer(world).document
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == PHYSICAL_ID
    assert world.api.call_count == 0


def test_a_rollback_update_with_less_than_5_seconds_left_never_fails(world: World) -> None:
    # Several requests: the handler's own answer and the watchdog's (due at once) race
    for number in range(8):
        world.responses.reset()
        event = rollback_event(world, {"FailOnStatuses": ["UPLOAD_FAILED"]})
        event["RequestId"] = f"rollback-with-little-time-{number}"

        world.invoke(event, seconds=3)

        answer = only_answer(world).document
        assert answer["Status"] == "SUCCESS", answer["Reason"]
        assert answer["Data"]["TotalCount"] == "UNKNOWN"
    assert world.api.call_count == 0


def test_a_delete_whose_state_check_hangs_is_answered_success_by_the_watchdog(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the state table accepts connections but never answers (the duplicate check
    # hangs), and 6 s left: the watchdog answers at 1 s
    silent = SilentServer()
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", silent.url)
    after_first_answer(world, silent.close)

    world.invoke(world.cfn_event("Delete", physical_id=PHYSICAL_ID), seconds=6)

    # Then even the watchdog's answer to a Delete is SUCCESS
    answer = only_answer(world).document
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == PHYSICAL_ID


# -- lifecycle ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failing_properties",
    [
        pytest.param({"FailOnStatuses": ["UPLOAD_FAILED"]}, id="gate"),
        pytest.param({"AttachmentStatuses": ["NOT_A_STATUS"]}, id="bad-property"),
    ],
)
def test_a_delete_after_a_failed_create_succeeds_without_calling_the_api(
    world: World, failing_properties: dict[str, Any]
) -> None:
    # Given a Create that failed
    world.api.add("UPLOAD_FAILED")
    world.invoke(world.cfn_event("Create", failing_properties))
    create = only_answer(world).document
    assert create["Status"] == "FAILED"
    world.responses.reset()
    calls = world.api.call_count

    # When CloudFormation deletes the resource it could not create
    world.invoke(
        world.cfn_event(
            "Delete",
            failing_properties,
            physical_id=create["PhysicalResourceId"],
            request_id="delete-after-failed-create",
        )
    )

    # Then the Delete succeeds with the same physical id, and the API is not called
    delete = only_answer(world).document
    assert delete["Status"] == "SUCCESS"
    assert delete["PhysicalResourceId"] == create["PhysicalResourceId"]
    assert world.api.call_count == calls


@pytest.mark.parametrize(
    ("new_properties", "status"),
    [
        pytest.param({"AttachmentStatuses": ["UPLOAD_FAILED"]}, "SUCCESS", id="succeeding"),
        pytest.param({"FailOnStatuses": "UPLOAD_FAILED"}, "FAILED", id="failing"),
    ],
)
def test_an_update_that_changes_properties_keeps_the_physical_id(
    world: World, new_properties: dict[str, Any], status: str
) -> None:
    # Given a created resource
    [failed] = world.api.add("UPLOAD_FAILED")
    world.invoke(world.cfn_event("Create", {"RegistrationAttachmentIds": [failed.attachment_id]}))
    physical_id = only_answer(world).document["PhysicalResourceId"]
    world.responses.reset()

    # When an Update changes its properties
    world.invoke(
        world.cfn_event(
            "Update",
            {**new_properties, "RefreshToken": "1764806999999"},
            old_properties={
                "RegistrationAttachmentIds": [failed.attachment_id],
                "RefreshToken": "1764806400000",
            },
            physical_id=physical_id,
            request_id="update-changing-properties",
        )
    )

    # Then the answer echoes the physical id (a new one would mean replacement)
    answer = only_answer(world).document
    assert answer["Status"] == status
    assert answer["PhysicalResourceId"] == physical_id


# -- malformed properties -------------------------------------------------------------------------

_MB = 1_100_000
IDS, STATUSES, FAIL_ON = "RegistrationAttachmentIds", "AttachmentStatuses", "FailOnStatuses"


def _bad(field: str, value: Any, case: str) -> Any:
    return pytest.param({field: value}, field, id=case)


MALFORMED_PROPERTIES = [
    _bad(STATUSES, ["UPLOAD_BROKEN"], "unknown-status"),
    _bad(STATUSES, ["upload_failed"], "lower-case-status"),
    _bad(FAIL_ON, "UPLOAD_FAILED,NOPE", "unknown-status-in-csv"),
    _bad(STATUSES, [], "empty-status-list"),
    _bad(FAIL_ON, "", "empty-string"),
    _bad(STATUSES, "   ", "blank-string"),
    _bad(IDS, [], "empty-id-list"),
    _bad(IDS, "attachment-1,,attachment-2", "empty-id-in-csv"),
    _bad(IDS, ["attachment-1", " "], "blank-id-in-list"),
    _bad(IDS, [f"attachment-{n}" for n in range(31)], "31-ids"),
    _bad(IDS, ["attachment-" + "a" * 289], "id-of-300-chars"),
    _bad(IDS, ["attachment-ünïcødé"], "non-ascii-id"),
    _bad(IDS, ["添付ファイル"], "non-latin-id"),
    _bad(IDS, ["attachment 1"], "id-with-a-space"),
    _bad(IDS, [{"Id": "attachment-1"}], "object-in-the-list"),
    _bad(IDS, [["attachment-1"]], "list-in-the-list"),
    _bad(IDS, {"Id": "attachment-1"}, "object-for-a-list"),
    _bad(IDS, 12345, "number-for-a-list"),
    _bad(STATUSES, 3, "number-for-a-status-list"),
    _bad(FAIL_ON, [1, 2], "numbers-in-the-list"),
    _bad(FAIL_ON, True, "boolean-for-a-list"),
    _bad(FAIL_ON, None, "none-for-a-list"),
    _bad(IDS, [None], "none-in-the-list"),
    _bad(IDS, ",".join(f"attachment-{n:08d}" for n in range(_MB // 20)), "over-1-MB-of-ids"),
    _bad(STATUSES, "UPLOAD_" + "X" * _MB, "over-1-MB-status"),
    _bad(IDS, ["attachment-" + "b" * _MB], "over-1-MB-id"),
]


@pytest.mark.parametrize(("properties", "field"), MALFORMED_PROPERTIES)
def test_malformed_properties_are_answered_failed_naming_the_field(
    world: World, properties: dict[str, Any], field: str
) -> None:
    result = world.invoke(world.cfn_event("Create", properties))

    answer = only_answer(world).document  # one answer, ≤ 4096 bytes
    assert answer["Status"] == "FAILED"
    assert field in answer["Reason"]
    assert answer["PhysicalResourceId"]
    assert result["Status"] == "FAILED"
    assert world.api.call_count == 0


@pytest.mark.parametrize(
    "properties",
    [
        pytest.param("RegistrationAttachmentIds=attachment-1", id="string"),
        pytest.param(42, id="number"),
        pytest.param(["RegistrationAttachmentIds"], id="list"),
        pytest.param([], id="empty-list"),
    ],
)
def test_resource_properties_that_are_not_an_object_are_answered_failed(
    world: World, properties: Any
) -> None:
    event = world.cfn_event("Create")
    event["ResourceProperties"] = properties

    world.invoke(event)

    answer = only_answer(world).document
    assert answer["Status"] == "FAILED"
    assert "ResourceProperties" in answer["Reason"]
    assert world.api.call_count == 0


# -- malformed requests ------------------------------------------------------------------------


def _without(name: str) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        del event[name]

    return change


def _with(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        event[name] = value

    return change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param(_with("RequestType", "Replace"), "RequestType", id="unknown-request-type"),
        pytest.param(_with("RequestType", "create"), "RequestType", id="lower-case-request-type"),
        pytest.param(_with("RequestType", ""), "RequestType", id="empty-request-type"),
        pytest.param(_with("RequestType", None), "RequestType", id="none-request-type"),
        pytest.param(_with("RequestType", ["Create"]), "RequestType", id="list-request-type"),
        pytest.param(_without("StackId"), "StackId", id="missing-stack-id"),
        pytest.param(_without("RequestId"), "RequestId", id="missing-request-id"),
        pytest.param(_without("LogicalResourceId"), "LogicalResourceId", id="missing-logical-id"),
        pytest.param(_with("StackId", 123), "StackId", id="number-stack-id"),
        pytest.param(_with("RequestId", {"id": "x"}), "RequestId", id="object-request-id"),
        pytest.param(_with("LogicalResourceId", ""), "LogicalResourceId", id="empty-logical-id"),
    ],
)
def test_malformed_requests_are_answered_failed_naming_the_field(
    world: World, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    event = world.cfn_event("Create")
    change(event)

    result = world.invoke(event)

    answer = only_answer(world).document
    assert answer["Status"] == "FAILED"
    assert field in answer["Reason"]
    assert result["Status"] == "FAILED"
    assert world.api.call_count == 0


def test_two_requests_without_ids_are_each_answered(world: World) -> None:
    # Given two different hand-made requests, neither with a StackId or RequestId
    first = world.cfn_event("Create")
    second = world.cfn_event("Create")
    second["ResponseURL"] = world.responses.url("second")
    for event in (first, second):
        del event["StackId"], event["RequestId"]

    world.invoke(first)
    world.invoke(second)

    # Then each got its own answer: neither is mistaken for a copy of the other
    assert sorted(put.path.split("?")[0] for put in world.responses.accepted) == [
        "/response",
        "/second",
    ]


def _over_1_mb_without_url(event: dict[str, Any]) -> None:
    del event["ResponseURL"]
    event["ResourceProperties"]["Padding"] = "x" * _MB


@pytest.mark.parametrize(
    ("change", "named"),
    [
        pytest.param(_without("ResponseURL"), "ResponseURL", id="missing-response-url"),
        pytest.param(_with("ResponseURL", None), "ResponseURL", id="none-response-url"),
        pytest.param(_with("ResponseURL", 42), "ResponseURL", id="number-response-url"),
        pytest.param(_with("ResponseURL", ""), "ResponseURL", id="empty-response-url"),
        pytest.param(_with("ResponseURL", "ftp://example/x"), "ResponseURL", id="ftp-response-url"),
        pytest.param(_with("ResponseURL", "response"), "ResponseURL", id="relative-response-url"),
        pytest.param(_without("RequestType"), "RequestType", id="missing-request-type"),
        pytest.param(_over_1_mb_without_url, "ResponseURL", id="over-1-MB-without-url"),
    ],
)
def test_requests_that_cannot_be_answered_fail_fast_with_a_clear_error(
    world: World, change: Callable[[dict[str, Any]], None], named: str
) -> None:
    event = world.cfn_event("Create")
    change(event)
    started = time.monotonic()

    with pytest.raises(InvalidEventError, match=named):
        world.invoke(event)

    assert time.monotonic() - started < 1.0
    assert world.responses.puts == []
    assert world.api.call_count == 0
