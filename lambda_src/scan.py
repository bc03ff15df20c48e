"""The scheduled scan: find failed uploads, alert each one once.

Streaming: one API page (≤100 attachments) and at most ten pending alerts are held at a
time, so memory does not grow with the number of attachments. Per page the candidates
are read from the state table in one ``BatchGetItem``; each new one is *claimed* with a
conditional write (so an overlapping run skips it), published, then marked SENT. A crash
or a refused publish leaves the claim to expire and a later run sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from .alerts import (
    BATCH_SIZE,
    KIND_DIGEST,
    KIND_STATE_UNAVAILABLE,
    KIND_UPLOAD_FAILED,
    Alert,
    AlertPublisher,
    PublishError,
    failure_alert,
    listing_alert,
)
from .config import Config
from .model import UPLOAD_FAILED, Attachment
from .sms_api import AttachmentsApi
from .state import AlertState, StateUnavailableError, alert_key

logger = Logger(child=True)

#: Enough ids to name in a summary; beyond this only the count grows.
_SUMMARY_ID_LIMIT = 1_000


@dataclass(slots=True)
class ScanSummary:
    attachments_seen: int = 0
    failed_found: int = 0
    already_alerted: int = 0
    claimed_elsewhere: int = 0
    alerts_sent: int = 0
    alerts_in_digest: int = 0
    alerts_failed: int = 0
    state_unavailable: bool = False

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


class ScanIncompleteError(RuntimeError):
    """The scan could not finish; ``summary`` tells what it did before it stopped."""

    def __init__(self, message: str, summary: ScanSummary) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass(slots=True)
class _Outbox:
    """Individual alerts waiting for a full batch of ten."""

    pending: list[tuple[str, Alert]] = field(default_factory=list)


class Scanner:
    def __init__(
        self,
        config: Config,
        api: AttachmentsApi,
        publisher: AlertPublisher,
        state: AlertState,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._api = api
        self._publisher = publisher
        self._state = state
        self._clock = clock

    def run(self, *, lease_seconds: int) -> ScanSummary:
        """Scans every page; raises ScanIncompleteError after sending what it could when
        the listing, the topic or the state table fails."""
        summary = ScanSummary()
        outbox = _Outbox()
        digest_keys: list[tuple[str, str]] = []  # (state key, attachment id)
        unrecorded: list[str] = []  # failed ids seen while the state table is down
        account = "unknown"
        failure: Exception | None = None
        statuses = None if self._config.full_inventory else {UPLOAD_FAILED}
        try:
            for page in self._api.pages(statuses):
                summary.attachments_seen += len(page)
                failed = [a for a in page if a.status == UPLOAD_FAILED]
                summary.failed_found += len(failed)
                if not failed:
                    continue
                account = failed[0].account
                if summary.state_unavailable:
                    _remember(unrecorded, failed)
                    continue
                try:
                    self._handle_page(failed, summary, outbox, digest_keys, lease_seconds)
                except StateUnavailableError as error:
                    logger.error("Alert state unavailable; sending one summary", error=str(error))
                    summary.state_unavailable = True
                    _remember(unrecorded, failed)
        except (ClientError, BotoCoreError, PublishError) as error:
            failure = error
        failure = self._finish(summary, outbox, digest_keys, unrecorded, account) or failure
        if failure is not None:
            raise ScanIncompleteError(f"scan incomplete: {failure}", summary) from failure
        if summary.state_unavailable:
            raise ScanIncompleteError(
                f"alert state table {self._state.table_name} unavailable: "
                f"sent one summary naming {summary.failed_found} failed attachment(s)",
                summary,
            )
        return summary

    def _handle_page(
        self,
        failed: list[Attachment],
        summary: ScanSummary,
        outbox: _Outbox,
        digest_keys: list[tuple[str, str]],
        lease_seconds: int,
    ) -> None:
        now = self._now()
        keys = [alert_key(KIND_UPLOAD_FAILED, a.attachment_id) for a in failed]
        records = self._state.records(keys)
        self._state.keep_alive(records.values(), now=now)
        for key, attachment in zip(keys, failed, strict=True):
            if self._state.is_settled(records.get(key), now):
                summary.already_alerted += 1
                continue
            if not self._state.claim(key, now=now, lease_seconds=lease_seconds):
                summary.claimed_elsewhere += 1
                continue
            individual = summary.alerts_sent + len(outbox.pending) + summary.alerts_failed
            if individual < self._config.max_alerts_per_run:
                alert = failure_alert(
                    attachment, region=self._config.region, detected_at=self._clock()
                )
                outbox.pending.append((key, alert))
                if len(outbox.pending) == BATCH_SIZE:
                    self._flush(outbox, summary)
            else:
                digest_keys.append((key, attachment.attachment_id))

    def _flush(self, outbox: _Outbox, summary: ScanSummary) -> None:
        if not outbox.pending:
            return
        keys = {alert.attachment_ids[0]: key for key, alert in outbox.pending}
        outcome = self._publisher.publish([alert for _, alert in outbox.pending])
        outbox.pending.clear()
        summary.alerts_sent += len(outcome.delivered)
        summary.alerts_failed += len(outcome.refused)
        for alert, code, sender_fault in outcome.refused:
            logger.error(
                "SNS refused an alert; the claim expires and a later run retries it",
                attachment_id=alert.attachment_ids[0],
                error_code=code,
                sender_fault=sender_fault,
            )
        now = self._now()
        for alert in outcome.delivered:
            self._state.mark_sent(keys[alert.attachment_ids[0]], now=now)

    def _finish(
        self,
        summary: ScanSummary,
        outbox: _Outbox,
        digest_keys: list[tuple[str, str]],
        unrecorded: list[str],
        account: str,
    ) -> Exception | None:
        """Sends what is pending (batch, digest, summary); returns the first error."""
        failure: Exception | None = None
        try:
            self._flush(outbox, summary)
        except (StateUnavailableError, PublishError) as error:
            failure = error
        if digest_keys:
            failure = self._send_digest(summary, digest_keys, account) or failure
        if unrecorded:
            summary_alert = listing_alert(
                KIND_STATE_UNAVAILABLE,
                unrecorded,
                total=summary.failed_found,
                headline=(
                    "SMS registration attachment uploads failed, and the monitor's alert "
                    "state is unreachable: this summary names them; individual alerts "
                    "follow once the state table is back."
                ),
                region=self._config.region,
                account=account,
                detected_at=self._clock(),
            )
            try:
                self._publish_single(summary_alert)
            except PublishError as error:
                failure = failure or error
        return failure

    def _send_digest(
        self, summary: ScanSummary, digest_keys: list[tuple[str, str]], account: str
    ) -> Exception | None:
        digest = listing_alert(
            KIND_DIGEST,
            [attachment_id for _, attachment_id in digest_keys],
            total=len(digest_keys),
            headline=(
                f"More SMS registration attachment uploads failed than the "
                f"{self._config.max_alerts_per_run} individual alerts sent per run: "
                "the rest are listed here and will not be alerted one by one."
            ),
            region=self._config.region,
            account=account,
            detected_at=self._clock(),
        )
        try:
            self._publish_single(digest)
            now = self._now()
            for key, _ in digest_keys:
                self._state.mark_sent(key, now=now)
        except (PublishError, StateUnavailableError) as error:
            return error
        summary.alerts_in_digest = len(digest_keys)
        return None

    def _publish_single(self, alert: Alert) -> None:
        outcome = self._publisher.publish([alert])
        if outcome.refused:
            _, code, _ = outcome.refused[0]
            raise PublishError(f"SNS refused the {alert.kind} alert: {code}")

    def _now(self) -> int:
        return int(self._clock().timestamp())


def _remember(unrecorded: list[str], failed: list[Attachment]) -> None:
    room = _SUMMARY_ID_LIMIT - len(unrecorded)
    unrecorded.extend(a.attachment_id for a in failed[: max(room, 0)])
