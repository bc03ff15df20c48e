"""Fault suite, alert-state table: unreachable, and shared by two runs at once."""

from __future__ import annotations

import os

import pytest

from lambda_src import handler
from lambda_src.alerts import AlertPublisher
from lambda_src.config import load_config
from lambda_src.scan import ScanIncompleteError, Scanner, ScanSummary
from lambda_src.sms_api import AttachmentsApi
from lambda_src.state import AlertState
from tests.integration.conftest import REGION, TABLE, World
from tests.integration.test_custom_resource import only_answer
from tests.integration.test_scan import SCHEDULER_EVENT, alert_ids
from tests.support.concurrency import run_together
from tests.support.network import closed_loopback_url


def test_an_unreachable_table_sends_one_summary_then_individual_alerts_once_it_is_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 15 failed uploads, and a state table endpoint that refuses connections
    ids = sorted(a.attachment_id for a in world.api.add("UPLOAD_FAILED", count=15))
    moto_url = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", closed_loopback_url())

    # When the scan runs, it says the table is unavailable and fails
    with pytest.raises(ScanIncompleteError, match=f"state table {TABLE} unavailable"):
        world.invoke(SCHEDULER_EVENT)

    # Then one summary alert names every failed upload, instead of a flood of repeats
    [summary] = world.alerts()
    assert summary["kind"] == "ATTACHMENT_ALERT_STATE_UNAVAILABLE"
    assert summary["count"] == 15
    assert sorted(summary["registrationAttachmentIds"]) == ids
    assert summary["_attributes"]["AlertKind"] == "ATTACHMENT_ALERT_STATE_UNAVAILABLE"

    # When the table is reachable again
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_url)
    monkeypatch.setattr(handler, "_runtime", None)
    result = world.invoke(SCHEDULER_EVENT)

    # Then each upload is alerted individually, once, and the run after that is quiet
    assert result["alerts_sent"] == 15
    alerts = world.alerts()
    assert {a["kind"] for a in alerts} == {"ATTACHMENT_UPLOAD_FAILED"}
    assert alert_ids(alerts) == ids
    world.invoke(SCHEDULER_EVENT)
    assert world.alerts() == []


def test_a_custom_resource_is_answered_while_the_table_is_unreachable(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.api.add("UPLOAD_FAILED", count=2)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", closed_loopback_url())

    result = world.invoke(world.cfn_event("Create"))

    # The duplicate check is best effort: the request is answered anyway
    answer = only_answer(world).document
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["UploadFailedCount"] == "2"
    assert result["Status"] == "SUCCESS"


def test_two_execution_environments_scanning_at_once_alert_each_upload_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 60 failed uploads and two execution environments, each with its own clients
    monkeypatch.setenv("MAX_ALERTS_PER_RUN", "1000")
    ids = sorted(a.attachment_id for a in world.api.add("UPLOAD_FAILED", count=60))
    world.api.latency_seconds = 0.02  # both listings in flight together
    config = load_config(os.environ)

    def run() -> ScanSummary:
        scanner = Scanner(
            config,
            AttachmentsApi(REGION),
            AlertPublisher(config.alert_topic_arn),
            AlertState(TABLE, REGION),
        )
        return scanner.run(lease_seconds=180)

    # When both scan at the same time
    summaries = run_together(run, run)

    # Then every upload was alerted by exactly one of them
    assert alert_ids(world.alerts()) == ids
    assert sum(s.alerts_sent for s in summaries) == 60
    for summary in summaries:
        assert summary.alerts_sent + summary.claimed_elsewhere + summary.already_alerted == 60
