"""Alert messages and the SNS publisher (DESIGN.md §2.1)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from lambda_src.alerts import (
    BATCH_SIZE,
    FIX,
    KIND_DIGEST,
    KIND_STATE_UNAVAILABLE,
    KIND_UPLOAD_FAILED,
    SUBJECT_LIMIT,
    Alert,
    AlertPublisher,
    PublishError,
    failure_alert,
    listing_alert,
)
from lambda_src.model import Attachment

SNS_MESSAGE_LIMIT = 256 * 1024
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:registration-attachment-alerts"
ATTACHMENT_ID = "attachment-0123456789abcdef0123456789abcdef"
ATTACHMENT_ARN = f"arn:aws:sms-voice:us-east-1:123456789012:registration-attachment/{ATTACHMENT_ID}"
URL_SECRET = "X-Amz-Signature=deadbeefcafef00d-attachment-url-secret"
DETECTED_AT = datetime(2026, 12, 4, 20, 15, 30, 123456, tzinfo=UTC)


def api_item(**overrides: Any) -> dict[str, Any]:
    """One ``RegistrationAttachments`` entry as boto3 returns it, AttachmentUrl included."""
    item = {
        "RegistrationAttachmentArn": ATTACHMENT_ARN,
        "RegistrationAttachmentId": ATTACHMENT_ID,
        "AttachmentStatus": "UPLOAD_FAILED",
        "AttachmentUploadErrorReason": "INTERNAL_ERROR",
        # boto3 parses timestamps as aware datetimes in the local zone (here: UTC-5).
        "CreatedTimestamp": datetime(2026, 12, 1, 7, 30, 0, tzinfo=timezone(timedelta(hours=-5))),
        "AttachmentUrl": f"https://attachments.example.com/upload?{URL_SECRET}",
    }
    return item | overrides


def attachment(**overrides: Any) -> Attachment:
    return Attachment.from_api(api_item(**overrides))


def parts(alert: Alert) -> dict[str, str]:
    document = json.loads(alert.message)
    assert isinstance(document, dict)
    return document


def machine(alert: Alert) -> dict[str, Any]:
    details = json.loads(parts(alert)["sqs"])
    assert isinstance(details, dict)
    return details


# -- failure_alert ------------------------------------------------------------------------------


def test_subject_is_short_and_names_the_attachment() -> None:
    alert = failure_alert(attachment(), region="us-east-1", detected_at=DETECTED_AT)
    assert alert.subject == f"SMS registration attachment upload failed: {ATTACHMENT_ID}"
    assert len(alert.subject) <= SUBJECT_LIMIT


def test_subject_stays_within_100_ascii_characters_with_a_long_id_and_region() -> None:
    # Given an id of 256 characters, with a non-ASCII character early on
    long_id = "attachment-é" + "f" * 244
    item = api_item(RegistrationAttachmentId=long_id)
    # When the alert is built
    alert = failure_alert(
        Attachment.from_api(item),
        region="ap-southeast-5-some-very-long-region-name-for-tests",
        detected_at=DETECTED_AT,
    )
    # Then SNS will accept the subject
    assert len(alert.subject) <= SUBJECT_LIMIT
    assert alert.subject.isascii()
    assert alert.subject.isprintable()
    assert alert.subject.endswith("...")


def test_listing_subject_stays_within_100_ascii_characters_with_a_long_region() -> None:
    alert = listing_alert(
        KIND_DIGEST,
        ["attachment-1"],
        total=1_000_000,
        headline="Many failed.",
        region="ap-southeast-5-some-very-long-region-name-for-tests-" + "x" * 80,
        account="123456789012",
        detected_at=DETECTED_AT,
    )
    assert len(alert.subject) <= SUBJECT_LIMIT
    assert alert.subject.isascii()
    assert alert.subject.startswith("1000000 SMS registration attachment uploads failed")


def test_message_is_a_json_document_for_every_protocol() -> None:
    alert = failure_alert(attachment(), region="us-east-1", detected_at=DETECTED_AT)
    document = parts(alert)
    assert set(document) == {"default", "email", "sqs", "lambda", "http", "https"}
    assert document["default"] == document["email"]
    assert document["sqs"] == document["lambda"] == document["http"] == document["https"]


def test_machine_fields_describe_the_failure() -> None:
    alert = failure_alert(attachment(), region="us-east-1", detected_at=DETECTED_AT)
    assert machine(alert) == {
        "kind": KIND_UPLOAD_FAILED,
        "registrationAttachmentId": ATTACHMENT_ID,
        "registrationAttachmentArn": ATTACHMENT_ARN,
        "attachmentStatus": "UPLOAD_FAILED",
        "attachmentUploadErrorReason": "INTERNAL_ERROR",
        # 07:30 at UTC-5 is 12:30 UTC
        "createdTimestamp": "2026-12-01T12:30:00Z",
        "region": "us-east-1",
        "account": "123456789012",
        "detectedAt": "2026-12-04T20:15:30Z",
        "consoleUrl": (
            "https://us-east-1.console.aws.amazon.com/sms-voice/home"
            "?region=us-east-1#/registrations"
        ),
        "fix": FIX,
    }


def test_console_url_follows_the_region() -> None:
    alert = failure_alert(attachment(), region="eu-west-3", detected_at=DETECTED_AT)
    url = machine(alert)["consoleUrl"]
    assert url.startswith("https://eu-west-3.console.aws.amazon.com/")
    assert "region=eu-west-3" in url


def test_text_for_people_gives_the_fix_the_console_link_and_the_facts() -> None:
    alert = failure_alert(attachment(), region="us-east-1", detected_at=DETECTED_AT)
    text = parts(alert)["email"]
    assert f"Fix: {FIX}" in text
    assert "Console: https://us-east-1.console.aws.amazon.com/sms-voice/" in text
    assert ATTACHMENT_ID in text
    assert ATTACHMENT_ARN in text
    assert "INTERNAL_ERROR" in text
    assert "2026-12-01T12:30:00Z" in text
    assert "upload the document again" in FIX.lower()
    assert "point the registration at the new attachment" in FIX


def test_attributes_let_subscribers_filter() -> None:
    alert = failure_alert(attachment(), region="us-east-1", detected_at=DETECTED_AT)
    assert alert.attributes == {
        "AlertKind": KIND_UPLOAD_FAILED,
        "AttachmentStatus": "UPLOAD_FAILED",
        "AttachmentUploadErrorReason": "INTERNAL_ERROR",
    }
    assert alert.attachment_ids == (ATTACHMENT_ID,)


def test_missing_error_reason_is_none_in_attributes_and_null_in_json() -> None:
    item = api_item()
    del item["AttachmentUploadErrorReason"]
    alert = failure_alert(Attachment.from_api(item), region="us-east-1", detected_at=DETECTED_AT)
    assert alert.attributes["AttachmentUploadErrorReason"] == "NONE"
    assert machine(alert)["attachmentUploadErrorReason"] is None
    assert "Error reason:  not given" in parts(alert)["default"]


def test_attachment_url_appears_nowhere_in_the_alert() -> None:
    # Given an API item that carries an AttachmentUrl with a signature in it
    item = api_item()
    assert URL_SECRET in item["AttachmentUrl"]
    # When the alert is built from it
    alert = failure_alert(Attachment.from_api(item), region="us-east-1", detected_at=DETECTED_AT)
    # Then neither the URL nor its secret is in any part of the alert
    everything = repr(alert) + alert.message + alert.subject + json.dumps(alert.attributes)
    assert "deadbeefcafef00d" not in everything
    assert "attachments.example.com" not in everything
    assert "AttachmentUrl" not in everything
    assert "attachmentUrl" not in everything


def test_account_is_unknown_when_the_arn_is_not_an_arn() -> None:
    alert = failure_alert(
        attachment(RegistrationAttachmentArn="not-an-arn"),
        region="us-east-1",
        detected_at=DETECTED_AT,
    )
    assert machine(alert)["account"] == "unknown"


# -- listing_alert ------------------------------------------------------------------------------


def many_ids(count: int) -> list[str]:
    return [f"attachment-{index:032x}" for index in range(count)]


def digest(ids: list[str], *, total: int | None = None) -> Alert:
    return listing_alert(
        KIND_DIGEST,
        ids,
        total=len(ids) if total is None else total,
        headline="More uploads failed than the individual alerts sent per run.",
        region="us-east-1",
        account="123456789012",
        detected_at=DETECTED_AT,
    )


def test_listing_with_ten_thousand_ids_keeps_the_count_and_fits_sns() -> None:
    # Given 10,000 failed attachments
    ids = many_ids(10_000)
    # When one digest names them
    alert = digest(ids)
    details = machine(alert)
    listed = details["registrationAttachmentIds"]
    # Then the total is kept, the list is trimmed, and what is not listed is counted
    assert details["count"] == 10_000
    assert 0 < len(listed) < 10_000
    assert listed == ids[: len(listed)]
    assert details["notListed"] == 10_000 - len(listed)
    assert f"and {details['notListed']} more" in parts(alert)["email"]
    # And the whole message (with attributes and subject) is under SNS's 256 KiB limit
    size = (
        len(alert.message.encode())
        + len(alert.subject.encode())
        + sum(len(k) + len(v) for k, v in alert.attributes.items())
    )
    assert size < SNS_MESSAGE_LIMIT
    assert "10000" in alert.subject


def test_listing_with_few_ids_lists_all_of_them() -> None:
    ids = many_ids(3)
    alert = digest(ids)
    details = machine(alert)
    assert details["registrationAttachmentIds"] == ids
    assert details["notListed"] == 0
    assert "more (see the console)" not in parts(alert)["email"]
    for attachment_id in ids:
        assert f"  {attachment_id}" in parts(alert)["email"]


def test_listing_counts_ids_it_was_not_given() -> None:
    # The state-unavailable summary passes at most 1,000 ids but the full count.
    alert = listing_alert(
        KIND_STATE_UNAVAILABLE,
        many_ids(5),
        total=1_234,
        headline="State unreachable.",
        region="us-east-1",
        account="123456789012",
        detected_at=DETECTED_AT,
    )
    details = machine(alert)
    assert details["count"] == 1_234
    assert details["notListed"] == 1_229
    assert alert.attributes == {
        "AlertKind": KIND_STATE_UNAVAILABLE,
        "AttachmentStatus": "UPLOAD_FAILED",
        "AttachmentUploadErrorReason": "MULTIPLE",
    }
    assert len(alert.subject) <= SUBJECT_LIMIT


# -- AlertPublisher -----------------------------------------------------------------------------


def alerts(count: int) -> list[Alert]:
    return [
        failure_alert(
            attachment(RegistrationAttachmentId=f"attachment-{index:032x}"),
            region="us-east-1",
            detected_at=DETECTED_AT,
        )
        for index in range(count)
    ]


def throttled() -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "Throttled", "Message": "Rate exceeded", "Type": "Sender"},
            "ResponseMetadata": {"HTTPStatusCode": 429},
        },
        "PublishBatch",
    )


def not_found() -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "NotFound", "Message": "Topic does not exist", "Type": "Sender"},
            "ResponseMetadata": {"HTTPStatusCode": 404},
        },
        "PublishBatch",
    )


Script = Callable[[list[dict[str, Any]]], dict[str, Any]]


class RecordingSns:
    """A stand-in SNS client: records each PublishBatch and answers from a script.

    Each script step gets the request's entries and returns the answer or raises."""

    def __init__(self, *steps: Script) -> None:
        self.requests: list[dict[str, Any]] = []
        self._steps = list(steps)

    def publish_batch(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        step = self._steps.pop(0) if len(self._steps) > 1 else self._steps[0]
        return step(request["PublishBatchRequestEntries"])


def all_succeed(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Successful": [{"Id": e["Id"], "MessageId": f"m-{e['Id']}"} for e in entries],
        "Failed": [],
    }


def fail_first(*, sender_fault: bool, code: str) -> Script:
    def step(entries: list[dict[str, Any]]) -> dict[str, Any]:
        first, rest = entries[0], entries[1:]
        return {
            "Successful": [{"Id": e["Id"], "MessageId": f"m-{e['Id']}"} for e in rest],
            "Failed": [{"Id": first["Id"], "Code": code, "SenderFault": sender_fault}],
        }

    return step


def raise_(error: Exception) -> Script:
    def step(entries: list[dict[str, Any]]) -> dict[str, Any]:
        raise error

    return step


def publisher(client: Any, sleeps: list[float] | None = None, **options: Any) -> AlertPublisher:
    recorded = sleeps if sleeps is not None else []
    return AlertPublisher(TOPIC_ARN, client, sleep=recorded.append, **options)


def test_publishes_a_batch_of_ten_in_one_call() -> None:
    # Given ten alerts and SNS accepting them all
    sns = RecordingSns(all_succeed)
    batch = alerts(10)
    sleeps: list[float] = []
    # When published
    outcome = publisher(sns, sleeps).publish(batch)
    # Then one PublishBatch call delivered them, with structured JSON and attributes
    assert outcome.delivered == batch
    assert outcome.refused == []
    assert len(sns.requests) == 1
    assert sleeps == []
    request = sns.requests[0]
    assert request["TopicArn"] == TOPIC_ARN
    entries = request["PublishBatchRequestEntries"]
    assert len(entries) == 10
    assert len({entry["Id"] for entry in entries}) == 10
    first = entries[0]
    assert first["MessageStructure"] == "json"
    assert first["Subject"] == batch[0].subject
    assert first["Message"] == batch[0].message
    assert first["MessageAttributes"]["AttachmentStatus"] == {
        "DataType": "String",
        "StringValue": "UPLOAD_FAILED",
    }
    assert set(first["MessageAttributes"]) == {
        "AlertKind",
        "AttachmentStatus",
        "AttachmentUploadErrorReason",
    }


def test_entries_failed_without_sender_fault_are_retried_then_delivered() -> None:
    # Given SNS fails one entry with a server-side fault, then accepts the retry
    sns = RecordingSns(fail_first(sender_fault=False, code="InternalError"), all_succeed)
    batch = alerts(3)
    sleeps: list[float] = []
    # When published
    outcome = publisher(sns, sleeps).publish(batch)
    # Then everything is delivered, and only the failed entry was sent again
    assert sorted(outcome.delivered, key=batch.index) == batch
    assert outcome.refused == []
    assert len(sns.requests) == 2
    retried = sns.requests[1]["PublishBatchRequestEntries"]
    assert [entry["Message"] for entry in retried] == [batch[0].message]
    assert len(sleeps) == 1


def test_entries_failed_with_sender_fault_are_refused_not_retried() -> None:
    sns = RecordingSns(fail_first(sender_fault=True, code="InvalidParameter"), all_succeed)
    batch = alerts(3)
    outcome = publisher(sns).publish(batch)
    assert outcome.delivered == batch[1:]
    assert outcome.refused == [(batch[0], "InvalidParameter", True)]
    assert len(sns.requests) == 1


def test_entries_failing_every_attempt_are_refused_after_max_attempts() -> None:
    sns = RecordingSns(fail_first(sender_fault=False, code="InternalError"))
    batch = alerts(1)
    outcome = publisher(sns, max_attempts=3).publish(batch)
    assert outcome.delivered == []
    assert outcome.refused == [(batch[0], "InternalError", False)]
    assert len(sns.requests) == 3


def test_throttled_call_is_retried_then_succeeds() -> None:
    # Given SNS throttles the first call (botocore's standard mode does not retry it)
    sns = RecordingSns(raise_(throttled()), all_succeed)
    batch = alerts(4)
    sleeps: list[float] = []
    # When published
    pub = publisher(sns, sleeps)
    outcome = pub.publish(batch)
    # Then the whole batch is sent again and delivered
    assert outcome.delivered == batch
    assert outcome.refused == []
    assert len(sns.requests) == 2
    assert len(sns.requests[1]["PublishBatchRequestEntries"]) == 4
    assert pub.calls == 2
    assert len(sleeps) == 1


def test_throttled_on_every_attempt_refuses_as_throttled_after_bounded_calls() -> None:
    sns = RecordingSns(raise_(throttled()))
    batch = alerts(2)
    sleeps: list[float] = []
    outcome = publisher(sns, sleeps, max_attempts=4).publish(batch)
    assert outcome.delivered == []
    assert outcome.refused == [(alert, "Throttled", False) for alert in batch]
    assert len(sns.requests) == 4
    # Backoff is bounded: full jitter capped at two seconds per wait
    assert all(0 <= seconds <= 2.0 for seconds in sleeps)


def test_http_429_with_another_code_counts_as_throttling() -> None:
    error = ClientError(
        {"Error": {"Code": "TooManyRequests"}, "ResponseMetadata": {"HTTPStatusCode": 429}},
        "PublishBatch",
    )
    sns = RecordingSns(raise_(error), all_succeed)
    outcome = publisher(sns).publish(alerts(1))
    assert len(outcome.delivered) == 1
    assert len(sns.requests) == 2


def test_other_client_errors_raise_publish_error_naming_the_topic() -> None:
    sns = RecordingSns(raise_(not_found()))
    with pytest.raises(PublishError, match="NotFound") as raised:
        publisher(sns).publish(alerts(1))
    assert TOPIC_ARN in str(raised.value)
    assert len(sns.requests) == 1


def test_unreachable_sns_raises_publish_error() -> None:
    sns = RecordingSns(raise_(EndpointConnectionError(endpoint_url="https://sns.invalid")))
    with pytest.raises(PublishError, match="could not be reached"):
        publisher(sns).publish(alerts(1))


def test_more_than_ten_alerts_are_refused_before_calling_sns() -> None:
    sns = RecordingSns(all_succeed)
    with pytest.raises(ValueError, match="at most 10"):
        publisher(sns).publish(alerts(BATCH_SIZE + 1))
    assert sns.requests == []


def test_throttling_from_a_real_botocore_client_is_retried() -> None:
    # Given a real SNS client (fake credentials) whose answers are stubbed: the 429
    # ClientError has exactly the shape botocore builds
    client = boto3.client("sns", region_name="us-east-1")
    batch = alerts(2)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "publish_batch",
            service_error_code="Throttled",
            service_message="Rate exceeded",
            http_status_code=429,
        )
        stubber.add_response(
            "publish_batch",
            {"Successful": [{"Id": "0", "MessageId": "m0"}, {"Id": "1", "MessageId": "m1"}]},
        )
        # When published
        outcome = publisher(client).publish(batch)
        # Then the second call delivered both
        stubber.assert_no_pending_responses()
    assert outcome.delivered == batch
    assert outcome.refused == []
