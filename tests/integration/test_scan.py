"""The scheduled scan end to end: fake SMS API over HTTP, moto for SNS/SQS/DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambda_src import handler
from lambda_src.routing import InvalidEventError
from lambda_src.scan import ScanIncompleteError
from tests.integration.conftest import TABLE, World
from tests.support.concurrency import run_together

SCHEDULER_EVENT = {  # EventBridge Scheduler's default notification: detail is a string
    "version": "0",
    "id": "7f1b5bc4-0000-0000-0000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.scheduler",
    "account": "123456789012",
    "time": "2026-12-04T10:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:scheduler:us-east-1:123456789012:schedule/default/monitor"],
    "detail": "{}",
}
RULE_EVENT = {
    "version": "0",
    "id": "89d1a02d-0000-0000-0000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-04T10:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/monitor"],
    "detail": {},
}


def alert_ids(alerts: list[dict[str, Any]]) -> list[str]:
    return sorted(a["registrationAttachmentId"] for a in alerts if "registrationAttachmentId" in a)


def test_no_attachments_sends_nothing(world: World) -> None:
    result = world.invoke(SCHEDULER_EVENT)

    assert result["attachments_seen"] == 0
    assert result["alerts_sent"] == 0
    assert world.alerts() == []
    assert world.api.call_count == 1


def test_one_failed_attachment_is_alerted_with_everything_a_person_needs(world: World) -> None:
    # Given one failed upload among healthy ones
    world.api.add("UPLOAD_COMPLETE", count=3)
    [failed] = world.api.add("UPLOAD_FAILED")

    # When the scheduled scan runs
    result = world.invoke(SCHEDULER_EVENT)

    # Then exactly one alert describes it, with attributes for filter policies
    assert result["failed_found"] == 1
    assert result["alerts_sent"] == 1
    [alert] = world.alerts()
    assert alert["kind"] == "ATTACHMENT_UPLOAD_FAILED"
    assert alert["registrationAttachmentId"] == failed.attachment_id
    assert alert["registrationAttachmentArn"] == failed.arn
    assert alert["attachmentStatus"] == "UPLOAD_FAILED"
    assert alert["attachmentUploadErrorReason"] == "INTERNAL_ERROR"
    assert alert["createdTimestamp"].endswith("Z")
    assert alert["account"] == "123456789012"
    assert "region=us-east-1" in alert["consoleUrl"]
    assert "upload the document again" in alert["fix"].lower()
    assert alert["_attributes"] == {
        "AlertKind": "ATTACHMENT_UPLOAD_FAILED",
        "AttachmentStatus": "UPLOAD_FAILED",
        "AttachmentUploadErrorReason": "INTERNAL_ERROR",
    }
    assert len(alert["_subject"]) <= 100
    assert "X-Amz-Signature" not in str(alert)  # the fake's AttachmentUrl never leaks


def test_the_scan_asks_only_for_alerting_statuses_with_full_pages(world: World) -> None:
    world.api.add("UPLOAD_FAILED")

    world.invoke({})

    [request] = world.api.calls
    assert request["MaxResults"] == 100
    assert request["Filters"] == [
        {"Name": "attachment-status", "Values": ["UPLOAD_FAILED", "UPLOAD_IN_PROGRESS"]}
    ]


def test_without_stuck_alerts_the_scan_lists_failed_uploads_only(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUCK_UPLOAD_MINUTES", "0")
    world.api.add("UPLOAD_FAILED")

    world.invoke({})

    [request] = world.api.calls
    assert request["Filters"] == [{"Name": "attachment-status", "Values": ["UPLOAD_FAILED"]}]


def test_the_full_inventory_lists_every_status(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FULL_INVENTORY", "true")
    world.api.seed({"UPLOAD_COMPLETE": 150, "UPLOAD_FAILED": 2, "DELETED": 3})

    result = world.invoke({})

    assert "Filters" not in world.api.calls[0]
    assert result["by_status"] == {
        "UPLOAD_IN_PROGRESS": 0,
        "UPLOAD_COMPLETE": 150,
        "UPLOAD_FAILED": 2,
        "DELETED": 3,
    }
    assert result["alerts_sent"] == 2


def test_uploads_stuck_in_progress_are_alerted_once_with_their_own_kind(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one upload in progress for three hours and one for ten minutes
    monkeypatch.setenv("STUCK_UPLOAD_MINUTES", "60")
    now = datetime.now(UTC)
    [stuck] = world.api.add("UPLOAD_IN_PROGRESS", created=now - timedelta(hours=3))
    world.api.add("UPLOAD_IN_PROGRESS", created=now - timedelta(minutes=10))

    result = world.invoke(SCHEDULER_EVENT)

    # Then only the old one is alerted, as stuck
    assert result["stuck_found"] == 1
    [alert] = world.alerts()
    assert alert["kind"] == "ATTACHMENT_UPLOAD_STUCK"
    assert alert["registrationAttachmentId"] == stuck.attachment_id
    assert alert["attachmentStatus"] == "UPLOAD_IN_PROGRESS"
    assert 179 <= alert["uploadAgeMinutes"] <= 181
    assert alert["_attributes"]["AlertKind"] == "ATTACHMENT_UPLOAD_STUCK"
    assert "stuck" in alert["_subject"]
    # And not again on the next run; if it then fails, that is a new alert of its own kind
    world.invoke(SCHEDULER_EVENT)
    assert world.alerts() == []
    world.api.set_status(stuck.attachment_id, "UPLOAD_FAILED", "INTERNAL_ERROR")
    world.invoke(SCHEDULER_EVENT)
    [failed_alert] = world.alerts()
    assert failed_alert["kind"] == "ATTACHMENT_UPLOAD_FAILED"


def test_hundreds_of_attachments_with_failures_across_pages(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 350 failures spread among 2,000 attachments (four pages of failures)
    monkeypatch.setenv("MAX_ALERTS_PER_RUN", "1000")
    world.api.seed({"UPLOAD_COMPLETE": 1500, "UPLOAD_FAILED": 350, "UPLOAD_IN_PROGRESS": 150})

    result = world.invoke(RULE_EVENT)

    assert result["failed_found"] == 350
    assert result["alerts_sent"] == 350
    assert world.api.call_count == 5  # ⌈(350 failed + 150 in progress)/100⌉ pages
    assert len(alert_ids(world.alerts())) == 350
    publisher = handler.runtime().publisher
    assert publisher.calls == 35  # ⌈350/10⌉ PublishBatch calls


def test_a_second_run_sends_nothing_and_a_new_failure_is_alerted(world: World) -> None:
    world.api.add("UPLOAD_FAILED", count=3)
    healthy = world.api.add("UPLOAD_IN_PROGRESS")
    world.invoke(SCHEDULER_EVENT)
    assert len(world.alerts()) == 3

    # When nothing changed, the next run is quiet
    second = world.invoke(SCHEDULER_EVENT)
    assert second["already_alerted"] == 3
    assert world.alerts() == []

    # When an upload fails between runs, only it is alerted
    world.api.set_status(healthy[0].attachment_id, "UPLOAD_FAILED", "INTERNAL_ERROR")
    third = world.invoke(SCHEDULER_EVENT)
    assert third["alerts_sent"] == 1
    assert alert_ids(world.alerts()) == [healthy[0].attachment_id]


def test_throttling_mid_scan_is_retried_and_nothing_is_missed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_ALERTS_PER_RUN", "1000")
    world.api.seed({"UPLOAD_FAILED": 250})
    world.api.fail_calls("ThrottlingException", call_numbers={2})

    result = world.invoke(SCHEDULER_EVENT)

    assert result["alerts_sent"] == 250
    assert world.api.call_count == 4  # three pages plus the throttled retry
    assert len(set(alert_ids(world.alerts()))) == 250


def test_access_denied_fails_the_run_after_sending_nothing_twice(world: World) -> None:
    world.api.add("UPLOAD_FAILED")
    world.api.deny_access()

    with pytest.raises(ScanIncompleteError, match="AccessDeniedException"):
        world.invoke(SCHEDULER_EVENT)
    assert world.api.call_count == 1  # not retried: the error is not transient


def test_the_flood_guard_sends_a_digest_for_the_rest(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given more failures than the individual-alert limit
    monkeypatch.setenv("MAX_ALERTS_PER_RUN", "5")
    world.api.seed({"UPLOAD_FAILED": 23, "UPLOAD_COMPLETE": 40})

    result = world.invoke(SCHEDULER_EVENT)

    # Then five individual alerts and one digest naming the other eighteen
    alerts = world.alerts()
    digests = [a for a in alerts if a["kind"] == "ATTACHMENT_ALERT_DIGEST"]
    assert len(alert_ids(alerts)) == 5
    assert len(digests) == 1
    assert digests[0]["count"] == 18
    assert len(digests[0]["registrationAttachmentIds"]) == 18
    assert digests[0]["_attributes"]["AlertKind"] == "ATTACHMENT_ALERT_DIGEST"
    assert result["alerts_sent"] == 5
    assert result["alerts_in_digest"] == 18
    # And the digested ones count as alerted: the next run is quiet
    world.invoke(SCHEDULER_EVENT)
    assert world.alerts() == []


def test_overlapping_runs_send_one_alert_each(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_ALERTS_PER_RUN", "1000")
    world.api.seed({"UPLOAD_FAILED": 120})
    world.api.latency_seconds = 0.05  # keep both runs in flight together
    handler.runtime()  # build the shared runtime once, as one execution environment would

    run_together(lambda: world.invoke(SCHEDULER_EVENT), lambda: world.invoke(SCHEDULER_EVENT))

    ids = alert_ids(world.alerts())
    assert len(ids) == 120
    assert len(set(ids)) == 120


def test_a_refused_publish_is_sent_by_a_later_run(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the topic is missing when the first run publishes
    [failed] = world.api.add("UPLOAD_FAILED")
    monkeypatch.setenv("ALERT_TOPIC_ARN", world.topic_arn + "-missing")
    with pytest.raises(ScanIncompleteError, match="SNS refused"):
        world.invoke(SCHEDULER_EVENT)

    # When the topic is back and the first run's claim has run out
    monkeypatch.setenv("ALERT_TOPIC_ARN", world.topic_arn)
    monkeypatch.setattr(handler, "_runtime", None)
    key = {"pk": {"S": f"alert#ATTACHMENT_UPLOAD_FAILED#{failed.attachment_id}"}}
    item = world.dynamodb.get_item(TableName=TABLE, Key=key)["Item"]
    assert item["state"]["S"] == "CLAIMED"
    world.dynamodb.update_item(
        TableName=TABLE,
        Key=key,
        UpdateExpression="SET lease_expires_at = :past",
        ExpressionAttributeValues={":past": {"N": "0"}},
    )
    result = world.invoke(SCHEDULER_EVENT)

    # Then the alert goes out, once
    assert result["alerts_sent"] == 1
    assert alert_ids(world.alerts()) == [failed.attachment_id]


def test_unreachable_state_table_sends_one_summary_and_fails_the_run(world: World) -> None:
    world.api.seed({"UPLOAD_FAILED": 30})
    world.dynamodb.delete_table(TableName=TABLE)

    with pytest.raises(ScanIncompleteError, match="state table"):
        world.invoke(SCHEDULER_EVENT)

    [summary] = world.alerts()
    assert summary["kind"] == "ATTACHMENT_ALERT_STATE_UNAVAILABLE"
    assert summary["count"] == 30
    assert len(summary["registrationAttachmentIds"]) == 30


def test_a_reminder_interval_re_alerts_once_due(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALERT_REMINDER_HOURS", "24")
    [failed] = world.api.add("UPLOAD_FAILED")
    world.invoke(SCHEDULER_EVENT)
    assert len(world.alerts()) == 1
    world.invoke(SCHEDULER_EVENT)
    assert world.alerts() == []  # not due yet

    key = {"pk": {"S": f"alert#ATTACHMENT_UPLOAD_FAILED#{failed.attachment_id}"}}
    world.dynamodb.update_item(
        TableName=TABLE,
        Key=key,
        UpdateExpression="SET sent_at = :long_ago",
        ExpressionAttributeValues={":long_ago": {"N": "1000"}},
    )
    world.invoke(SCHEDULER_EVENT)
    assert alert_ids(world.alerts()) == [failed.attachment_id]


def test_sent_items_carry_the_schema_version_and_a_ttl(world: World) -> None:
    [failed] = world.api.add("UPLOAD_FAILED")
    world.invoke(SCHEDULER_EVENT)

    key = {"pk": {"S": f"alert#ATTACHMENT_UPLOAD_FAILED#{failed.attachment_id}"}}
    item = world.dynamodb.get_item(TableName=TABLE, Key=key)["Item"]
    assert item["state"]["S"] == "SENT"
    assert item["schema_version"]["N"] == "1"
    assert int(item["expires_at"]["N"]) - int(item["sent_at"]["N"]) == 90 * 24 * 3600


@pytest.mark.parametrize("event", ["scan", ["scan"], 42, None])
def test_events_that_are_not_objects_fail_fast(world: World, event: Any) -> None:
    with pytest.raises(InvalidEventError, match="unsupported event"):
        world.invoke(event)
    assert world.api.call_count == 0


def test_cloudformation_looking_event_without_response_url_fails_fast(world: World) -> None:
    with pytest.raises(InvalidEventError, match="ResponseURL"):
        world.invoke({"RequestType": "Create", "StackId": "x"})
    assert world.api.call_count == 0
