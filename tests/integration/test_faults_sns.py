"""Fault suite, SNS: throttling, partly failed batches, a missing topic and a crash
between batches, injected at botocore's level on the publisher's own client (moto cannot
answer these). Each case checks that every failed attachment is alerted exactly once
across the runs it takes.
"""

from __future__ import annotations

import pytest

from lambda_src import handler
from lambda_src.scan import ScanIncompleteError
from tests.integration.conftest import TABLE, World
from tests.integration.test_scan import SCHEDULER_EVENT, alert_ids
from tests.support.alert_state import alert_states, expire_claims
from tests.support.botocore_faults import InstantBackoff, PublishBatchFaults

#: HTTP attempts botocore makes per PublishBatch call (standard mode).
BOTOCORE_ATTEMPTS = 5
#: PublishBatch calls the publisher makes per batch (README: 4 attempts).
PUBLISHER_ATTEMPTS = 4


@pytest.fixture
def failed(world: World, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """25 failed uploads among healthy ones: three batches (10, 10, 5); returns their ids."""
    monkeypatch.setenv("MAX_ALERTS_PER_RUN", "1000")
    world.api.add("UPLOAD_COMPLETE", count=5)
    return sorted(a.attachment_id for a in world.api.add("UPLOAD_FAILED", count=25))


@pytest.fixture
def sns_faults(world: World) -> PublishBatchFaults:
    """Faults on the publisher's client of this execution environment."""
    return PublishBatchFaults(handler.runtime().publisher.client)


def new_execution_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next invocation builds its configuration and clients afresh (no faults)."""
    monkeypatch.setattr(handler, "_runtime", None)


def test_throttling_bursts_are_retried_until_every_alert_is_delivered(
    world: World,
    failed: list[str],
    sns_faults: PublishBatchFaults,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given SNS answers 429 Throttled to the first seven attempts: more than botocore
    # retries on its own, so the publisher's own retry is needed too
    InstantBackoff(monkeypatch)
    sns_faults.throttle(range(1, 8))

    result = world.invoke(SCHEDULER_EVENT)

    # Then each throttled attempt was retried, and every alert went out once
    assert sns_faults.attempts == 3 + 7
    assert result["alerts_sent"] == 25
    assert result["alerts_failed"] == 0
    assert alert_ids(world.alerts()) == failed
    assert set(alert_states(world.dynamodb, TABLE).values()) == {"SENT"}


def test_throttling_that_never_stops_leaves_the_claims_for_a_later_run(
    world: World, sns_faults: PublishBatchFaults, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one batch of ten, and SNS throttling every attempt
    backoff = InstantBackoff(monkeypatch)
    ids = sorted(a.attachment_id for a in world.api.add("UPLOAD_FAILED", count=10))
    sns_faults.throttle(range(1, 1000))

    with pytest.raises(ScanIncompleteError, match="SNS refused 10 alert") as raised:
        world.invoke(SCHEDULER_EVENT)
    result = raised.value.summary.as_dict()

    # Then the run fails loudly, the attempts are bounded, the alerts are counted as
    # failed, and their claims stay
    assert sns_faults.attempts == PUBLISHER_ATTEMPTS * BOTOCORE_ATTEMPTS
    # botocore's throttling backoff within each call: full jitter under 1, 2, 4, 8 s
    caps = [1.0, 2.0, 4.0, 8.0] * PUBLISHER_ATTEMPTS
    assert len(backoff.delays) == len(caps)
    assert all(0 <= delay <= cap for delay, cap in zip(backoff.delays, caps, strict=True))
    assert result["alerts_sent"] == 0
    assert result["alerts_failed"] == 10
    assert world.alerts() == []
    assert set(alert_states(world.dynamodb, TABLE).values()) == {"CLAIMED"}

    # When the claims ran out and SNS is back, a later run sends them
    assert expire_claims(world.dynamodb, TABLE) == 10
    new_execution_environment(monkeypatch)
    later = world.invoke(SCHEDULER_EVENT)
    assert later["alerts_sent"] == 10
    assert alert_ids(world.alerts()) == ids


def test_failed_entries_without_sender_fault_are_retried_in_the_same_run(
    world: World, failed: list[str], sns_faults: PublishBatchFaults
) -> None:
    # Given the first batch answers 200 with two of its entries failed on SNS's side
    sns_faults.fail_entries(1, {"3", "7"}, sender_fault=False, code="InternalError")

    result = world.invoke(SCHEDULER_EVENT)

    # Then only those two were sent again, in one more call, and each alert arrived once
    assert sns_faults.attempts == 3 + 1
    assert result["alerts_sent"] == 25
    assert result["alerts_failed"] == 0
    assert alert_ids(world.alerts()) == failed


def test_sender_faults_are_counted_and_sent_by_a_run_after_the_claims_ran_out(
    world: World,
    failed: list[str],
    sns_faults: PublishBatchFaults,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given SNS refuses two entries of the second batch as the sender's fault
    sns_faults.fail_entries(2, {"0", "9"}, sender_fault=True, code="InvalidParameter")

    with pytest.raises(ScanIncompleteError, match="SNS refused 2 alert") as raised:
        world.invoke(SCHEDULER_EVENT)
    result = raised.value.summary.as_dict()

    # Then they are not retried in this run, counted, and the run fails loudly
    assert sns_faults.attempts == 3
    assert result["alerts_sent"] == 23
    assert result["alerts_failed"] == 2
    first = world.alerts()
    assert len(first) == 23

    # And a run while their claims hold leaves them alone
    second = world.invoke(SCHEDULER_EVENT)
    assert second["alerts_sent"] == 0
    assert second["claimed_elsewhere"] == 2
    assert world.alerts() == []

    # When the claims ran out, the next run sends exactly those two
    assert expire_claims(world.dynamodb, TABLE) == 2
    new_execution_environment(monkeypatch)
    third = world.invoke(SCHEDULER_EVENT)
    assert third["alerts_sent"] == 2
    assert third["already_alerted"] == 23
    assert alert_ids(first + world.alerts()) == failed


def test_a_missing_topic_fails_the_run_and_a_later_run_sends_everything(
    world: World, failed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the alert topic was deleted
    world.sns.delete_topic(TopicArn=world.topic_arn)

    with pytest.raises(ScanIncompleteError, match="SNS refused"):
        world.invoke(SCHEDULER_EVENT)

    # When the topic is back (and subscribed) and the claims ran out
    assert world.sns.create_topic(Name="attachment-alerts")["TopicArn"] == world.topic_arn
    queue_arn = world.sqs.get_queue_attributes(
        QueueUrl=world.queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    world.sns.subscribe(TopicArn=world.topic_arn, Protocol="sqs", Endpoint=queue_arn)
    assert expire_claims(world.dynamodb, TABLE) == 10  # the batch that was refused
    result = world.invoke(SCHEDULER_EVENT)

    # Then every alert goes out, once
    assert result["alerts_sent"] == 25
    assert alert_ids(world.alerts()) == failed


@pytest.mark.filterwarnings("ignore:No application metrics")  # a crash emits none
def test_a_crash_after_the_third_batch_is_followed_by_a_run_that_sends_only_the_rest(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given five batches of failures, and a process that dies during the fourth PublishBatch
    monkeypatch.setenv("MAX_ALERTS_PER_RUN", "1000")
    ids = sorted(a.attachment_id for a in world.api.add("UPLOAD_FAILED", count=50))
    crashing = PublishBatchFaults(handler.runtime().publisher.client)
    crashing.crash(4)

    with pytest.raises(RuntimeError, match="injected crash"):
        world.invoke(SCHEDULER_EVENT)

    # Then three batches went out, and the fourth batch's claims are left behind
    assert crashing.attempts == 4
    first = world.alerts()
    assert len(first) == 30
    states = list(alert_states(world.dynamodb, TABLE).values())
    assert sorted(states) == ["CLAIMED"] * 10 + ["SENT"] * 30

    # When a new execution environment runs after those claims ran out
    assert expire_claims(world.dynamodb, TABLE) == 10
    new_execution_environment(monkeypatch)
    result = world.invoke(SCHEDULER_EVENT)

    # Then it sends only the twenty not yet sent, in two batches
    assert result["already_alerted"] == 30
    assert result["alerts_sent"] == 20
    assert handler.runtime().publisher.calls == 2
    assert alert_ids(first + world.alerts()) == ids
