"""Alert-state decisions that need no table: is an attachment settled, and its key.
(The DynamoDB calls themselves are integration-tested.)"""

from __future__ import annotations

from datetime import timedelta

import pytest

from lambda_src.alerts import KIND_UPLOAD_FAILED
from lambda_src.state import CLAIMED, SENT, AlertRecord, AlertState, alert_key

NOW = 1_764_878_400
HOUR = 3_600
KEY = alert_key(KIND_UPLOAD_FAILED, "attachment-0123456789abcdef0123456789abcdef")


def state(reminder: timedelta | None = None) -> AlertState:
    # No client is created until a call is made: is_settled never touches DynamoDB.
    return AlertState("monitor-alert-state", "us-east-1", reminder_interval=reminder)


def record(
    status: str, *, sent_at: int = 0, lease_expires_at: int = 0, expires_at: int = 0
) -> AlertRecord:
    return AlertRecord(
        key=KEY,
        state=status,
        lease_expires_at=lease_expires_at,
        sent_at=sent_at,
        expires_at=expires_at or NOW + 90 * 24 * HOUR,
    )


def test_attachment_never_seen_needs_an_alert() -> None:
    assert state().is_settled(None, NOW) is False


def test_sent_without_reminders_stays_settled_forever() -> None:
    sent_long_ago = record(SENT, sent_at=NOW - 400 * 24 * HOUR)
    assert state().is_settled(sent_long_ago, NOW) is True


def test_sent_with_reminder_is_settled_until_the_reminder_is_due() -> None:
    # Given reminders every 24 hours, and an alert sent 23 hours ago
    reminding = state(timedelta(hours=24))
    # Then it needs nothing yet
    assert reminding.is_settled(record(SENT, sent_at=NOW - 23 * HOUR), NOW) is True
    assert reminding.is_settled(record(SENT, sent_at=NOW - 24 * HOUR + 1), NOW) is True


@pytest.mark.parametrize("age_hours", [24, 25, 1_000])
def test_sent_with_reminder_needs_a_new_alert_once_due(age_hours: int) -> None:
    reminding = state(timedelta(hours=24))
    assert reminding.is_settled(record(SENT, sent_at=NOW - age_hours * HOUR), NOW) is False


def test_claim_with_a_live_lease_is_settled() -> None:
    # Another run holds the attachment and may still publish: leave it alone
    assert state().is_settled(record(CLAIMED, lease_expires_at=NOW + 1), NOW) is True


@pytest.mark.parametrize("expired_by", [0, 1, 3_600])
def test_claim_with_an_expired_lease_needs_an_alert(expired_by: int) -> None:
    # The run that claimed it crashed or could not publish: the next run sends it
    claimed = record(CLAIMED, lease_expires_at=NOW - expired_by)
    assert state().is_settled(claimed, NOW) is False


def test_claim_lease_rule_ignores_the_reminder_interval() -> None:
    reminding = state(timedelta(hours=1))
    assert reminding.is_settled(record(CLAIMED, lease_expires_at=NOW + 10), NOW) is True
    assert reminding.is_settled(record(CLAIMED, lease_expires_at=NOW - 10), NOW) is False


@pytest.mark.parametrize("unknown", ["SENT_V2", "", "sent"])
def test_state_unknown_to_this_version_is_left_alone(unknown: str) -> None:
    # Written by a newer version (or damaged): never re-alert because of it
    assert state().is_settled(record(unknown), NOW) is True


def test_is_settled_makes_no_calls() -> None:
    checking = state(timedelta(hours=24))
    checking.is_settled(record(SENT, sent_at=NOW), NOW)
    checking.is_settled(None, NOW)
    assert checking.calls == 0


def test_alert_key_names_the_kind_and_the_attachment() -> None:
    assert alert_key("ATTACHMENT_UPLOAD_FAILED", "attachment-abc") == (
        "alert#ATTACHMENT_UPLOAD_FAILED#attachment-abc"
    )


def test_alert_keys_differ_by_kind_and_by_attachment() -> None:
    keys = {
        alert_key("ATTACHMENT_UPLOAD_FAILED", "attachment-1"),
        alert_key("ATTACHMENT_UPLOAD_FAILED", "attachment-2"),
        alert_key("ATTACHMENT_UPLOAD_STUCK", "attachment-1"),
    }
    assert len(keys) == 3
