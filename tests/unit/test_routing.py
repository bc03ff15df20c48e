"""Routing: which of the three ways in an event came by (DESIGN.md §2)."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_src.routing import EventKind, classify, describe_invalid

SECRET = "X-Amz-Signature=0123456789abcdef-very-secret"

SCHEDULER_DEFAULT_PAYLOAD = {
    # EventBridge Scheduler's default notification: ``detail`` is the *string* "{}".
    "version": "0",
    "id": "c1a3a8f2-4b7c-4d6e-9f10-1a2b3c4d5e6f",
    "detail-type": "Scheduled Event",
    "source": "aws.scheduler",
    "account": "123456789012",
    "time": "2026-12-04T20:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:scheduler:us-east-1:123456789012:schedule/default/monitor"],
    "detail": "{}",
}

EVENTBRIDGE_RULE_SCHEDULED_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-04T20:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/monitor-schedule"],
    "detail": {},
}


def cloudformation_create() -> dict[str, Any]:
    """A Create request shaped like the ones CloudFormation sends."""
    stack_id = (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/monitor/"
        "0f2b1c00-b1a2-11ee-9d3c-0a1b2c3d4e5f"
    )
    return {
        "RequestType": "Create",
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:monitor",
        "ResponseURL": (
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/"
            "arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/monitor/"
            f"0f2b1c00%7CAttachmentStatus%7C5d3e?X-Amz-Algorithm=AWS4-HMAC-SHA256&{SECRET}"
        ),
        "StackId": stack_id,
        "RequestId": "5d3e6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8",
        "LogicalResourceId": "AttachmentStatus",
        "ResourceType": "Custom::RegistrationAttachmentStatus",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:monitor",
            "RefreshToken": "1764878400000",
        },
    }


# -- scans ----------------------------------------------------------------------------------


def test_scheduler_default_payload_with_string_detail_is_a_scan() -> None:
    # Given EventBridge Scheduler's default payload, whose detail is the string "{}"
    assert isinstance(SCHEDULER_DEFAULT_PAYLOAD["detail"], str)
    # When / Then it starts a scheduled scan
    assert classify(SCHEDULER_DEFAULT_PAYLOAD) is EventKind.SCHEDULED_SCAN


def test_eventbridge_rule_scheduled_event_is_a_scan() -> None:
    assert classify(EVENTBRIDGE_RULE_SCHEDULED_EVENT) is EventKind.SCHEDULED_SCAN


def test_empty_object_from_a_direct_invoke_is_a_scan() -> None:
    assert classify({}) is EventKind.SCHEDULED_SCAN


# -- CloudFormation --------------------------------------------------------------------------


def test_cloudformation_create_request_is_a_custom_resource_request() -> None:
    assert classify(cloudformation_create()) is EventKind.CUSTOM_RESOURCE


@pytest.mark.parametrize("request_type", ["Create", "Update", "Delete"])
def test_every_cloudformation_request_type_is_a_custom_resource_request(
    request_type: str,
) -> None:
    event = cloudformation_create() | {"RequestType": request_type}
    assert classify(event) is EventKind.CUSTOM_RESOURCE


def test_plain_http_response_url_is_accepted_for_local_test_servers() -> None:
    event = cloudformation_create() | {"ResponseURL": "http://127.0.0.1:8080/response"}
    assert classify(event) is EventKind.CUSTOM_RESOURCE


# -- invalid ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    ["a string", ["a", "list"], None, 42, b"{}"],
    ids=["string", "list", "None", "int", "bytes"],
)
def test_non_objects_are_invalid(event: Any) -> None:
    assert classify(event) is EventKind.INVALID


def test_cloudformation_looking_event_without_response_url_is_invalid() -> None:
    # Given a CloudFormation request that cannot be answered (no ResponseURL)
    event = cloudformation_create()
    del event["ResponseURL"]
    # Then it fails fast instead of running a scan nobody waits for
    assert classify(event) is EventKind.INVALID


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/response", "file:///etc/passwd", "", "example.com/response", None, 7],
)
def test_cloudformation_looking_event_with_unusable_response_url_is_invalid(url: Any) -> None:
    event = cloudformation_create() | {"ResponseURL": url}
    assert classify(event) is EventKind.INVALID


def test_response_url_without_request_type_is_invalid() -> None:
    event = cloudformation_create()
    del event["RequestType"]
    assert classify(event) is EventKind.INVALID


# -- messages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "expected_type"),
    [("a string", "str"), (["a", "list"], "list"), (None, "NoneType")],
)
def test_message_for_a_non_object_names_its_type_and_what_to_send(
    event: Any, expected_type: str
) -> None:
    message = describe_invalid(event)
    assert f"type {expected_type}" in message
    assert "JSON object" in message
    assert "CloudFormation" in message


def test_message_for_an_unanswerable_cloudformation_request_says_why_and_what_to_do() -> None:
    event = cloudformation_create() | {"ResponseURL": "ftp://example.com/x"}
    message = describe_invalid(event)
    assert "ResponseURL" in message
    assert "cannot be answered" in message
    assert "RequestType" in message


def test_message_for_response_url_without_request_type_names_request_type() -> None:
    event = cloudformation_create()
    del event["RequestType"]
    assert "without RequestType" in describe_invalid(event)


@pytest.mark.parametrize(
    "event",
    [
        SECRET,
        [SECRET],
        cloudformation_create() | {"ResponseURL": f"ftp://example.com/?{SECRET}"},
        {k: v for k, v in cloudformation_create().items() if k != "RequestType"},
        {k: v for k, v in cloudformation_create().items() if k != "ResponseURL"}
        | {"Password": SECRET},
    ],
    ids=["string", "list", "bad-url", "no-request-type", "no-response-url"],
)
def test_messages_never_echo_event_values(event: Any) -> None:
    # Given an invalid event carrying a secret (e.g. the pre-signed URL's signature)
    assert classify(event) is EventKind.INVALID
    # When the error message is built
    message = describe_invalid(event)
    # Then no value of the event appears in it
    assert "very-secret" not in message
    assert "123456789012" not in message
    assert "5d3e6a7b" not in message
