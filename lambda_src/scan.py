"""The scheduled scan: find failed and stuck uploads, alert each one once.

Streaming: one API page (≤100 attachments), at most 100 findings waiting for their state
and ten pending alerts are held at a time, so memory does not grow with the number of
attachments. Findings are read from the state table a hundred at a time (one
``BatchGetItem``, filled across pages); each new one is *claimed* with a conditional
write (so an overlapping run skips it), published, then marked SENT. A crash or a
refused publish leaves the claim to expire and a later run sends it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from .alerts import (
    BATCH_SIZE,
    KIND_STATE_UNAVAILABLE,
    KIND_UPLOAD_FAILED,
    KIND_UPLOAD_STUCK,
    Alert,
    AlertPublisher,
    PublishError,
    attachment_alert,
    digest_alert,
    listing_alert,
)
from .config import Config
from .model import ALL_STATUSES, UPLOAD_FAILED, UPLOAD_IN_PROGRESS, Attachment
from .sms_api import AttachmentsApi
from .state import BATCH_GET_LIMIT, CLAIMED, AlertState, StateUnavailableError, alert_key

logger = Logger(child=True)

#: Enough ids to name in a summary; beyond this only the count grows.
_SUMMARY_ID_LIMIT = 1_000
#: Errors after which the run still sends what it found; anything else is a crash, and
#: the claims it leaves expire and a later run sends the rest.
_SERVICE_ERRORS = (ClientError, BotoCoreError, PublishError)


@dataclass(slots=True)
class ScanSummary:
    attachments_seen: int = 0
    failed_found: int = 0
    stuck_found: int = 0
    already_alerted: int = 0
    claimed_elsewhere: int = 0
    alerts_sent: int = 0
    alerts_in_digest: int = 0
    alerts_failed: int = 0
    state_unavailable: bool = False
    duration_ms: int = 0
    #: Attachments per status; filled for every status only with the full inventory.
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ALL_STATUSES, 0))

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class ScanIncompleteError(RuntimeError):
    """The scan could not finish; ``summary`` tells what it did before it stopped."""

    def __init__(self, message: str, summary: ScanSummary) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    attachment: Attachment

    @property
    def key(self) -> str:
        return alert_key(self.kind, self.attachment.attachment_id)


@dataclass(slots=True)
class _Run:
    """What one run holds besides the summary: bounded by the batch size, the flood
    guard's overflow (ids only) and the summary's id limit."""

    summary: ScanSummary = field(default_factory=ScanSummary)
    findings: list[Finding] = field(default_factory=list)
    pending: list[tuple[str, Alert]] = field(default_factory=list)
    digests: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    unrecorded: list[str] = field(default_factory=list)
    account: str = "unknown"


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

    @property
    def listed_statuses(self) -> set[str] | None:
        """The server-side filter: only what can alert (None = every status)."""
        if self._config.full_inventory:
            return None
        return {UPLOAD_FAILED} | ({UPLOAD_IN_PROGRESS} if self._config.stuck_after else set())

    def run(self, *, lease_seconds: int) -> ScanSummary:
        """Scans every page; raises ScanIncompleteError after sending what it could when
        the listing, the topic or the state table fails."""
        started = time.monotonic()
        run = _Run()
        failure: Exception | None = None
        try:
            for page in self._api.pages(self.listed_statuses):
                run.findings.extend(self._findings(page, run.summary))
                while len(run.findings) >= BATCH_GET_LIMIT:
                    self._handle(run, lease_seconds)
        except _SERVICE_ERRORS as error:  # the listing stopped: still alert what was found
            failure = error
        try:
            while run.findings:
                self._handle(run, lease_seconds)
        except _SERVICE_ERRORS as error:
            failure = failure or error
        failure = self._finish(run) or failure
        summary = run.summary
        summary.duration_ms = int((time.monotonic() - started) * 1000)
        if failure is not None:
            raise ScanIncompleteError(f"scan incomplete: {failure}", summary) from failure
        if summary.state_unavailable:
            raise ScanIncompleteError(
                f"alert state table {self._state.table_name} unavailable: sent one summary "
                f"naming {summary.failed_found + summary.stuck_found} attachment(s)",
                summary,
            )
        if summary.alerts_failed:
            raise ScanIncompleteError(
                f"SNS refused {summary.alerts_failed} alert(s) after retries: their claims "
                "expire and a later run sends them",
                summary,
            )
        return summary

    def _findings(self, page: list[Attachment], summary: ScanSummary) -> Iterator[Finding]:
        summary.attachments_seen += len(page)
        stuck_before = (
            self._clock() - self._config.stuck_after if self._config.stuck_after else None
        )
        for attachment in page:
            summary.by_status[attachment.status] = summary.by_status.get(attachment.status, 0) + 1
            if attachment.status == UPLOAD_FAILED:
                summary.failed_found += 1
                yield Finding(KIND_UPLOAD_FAILED, attachment)
            elif (
                attachment.status == UPLOAD_IN_PROGRESS
                and stuck_before is not None
                and attachment.created <= stuck_before
            ):
                summary.stuck_found += 1
                yield Finding(KIND_UPLOAD_STUCK, attachment)

    def _handle(self, run: _Run, lease_seconds: int) -> None:
        """Alerts the first hundred waiting findings (one state read)."""
        findings = run.findings[:BATCH_GET_LIMIT]
        del run.findings[:BATCH_GET_LIMIT]
        run.account = findings[0].attachment.account
        if run.summary.state_unavailable:
            _remember(run.unrecorded, findings)
            return
        try:
            self._alert_new(findings, run, lease_seconds)
        except StateUnavailableError as error:
            logger.error("Alert state unavailable; sending one summary", error=str(error))
            run.summary.state_unavailable = True
            _remember(run.unrecorded, findings)

    def _alert_new(self, findings: list[Finding], run: _Run, lease_seconds: int) -> None:
        summary = run.summary
        now = self._now()
        records = self._state.records([finding.key for finding in findings])
        self._state.keep_alive(records.values(), now=now)
        for finding in findings:
            record = records.get(finding.key)
            if self._state.is_settled(record, now):
                if record is not None and record.state == CLAIMED:
                    summary.claimed_elsewhere += 1
                else:
                    summary.already_alerted += 1
                continue
            if not self._state.claim(finding.key, now=now, lease_seconds=lease_seconds):
                summary.claimed_elsewhere += 1
                continue
            individual = summary.alerts_sent + len(run.pending) + summary.alerts_failed
            if individual >= self._config.max_alerts_per_run:
                overflow = run.digests.setdefault(finding.kind, [])
                overflow.append((finding.key, finding.attachment.attachment_id))
                continue
            alert = attachment_alert(
                finding.kind,
                finding.attachment,
                region=self._config.region,
                detected_at=self._clock(),
            )
            run.pending.append((finding.key, alert))
            if len(run.pending) == BATCH_SIZE:
                self._flush(run)

    def _flush(self, run: _Run) -> None:
        if not run.pending:
            return
        keys = {id(alert): key for key, alert in run.pending}
        outcome = self._publisher.publish([alert for _, alert in run.pending])
        run.pending.clear()
        run.summary.alerts_sent += len(outcome.delivered)
        run.summary.alerts_failed += len(outcome.refused)
        for alert, code, sender_fault in outcome.refused:
            logger.error(
                "SNS refused an alert; the claim expires and a later run retries it",
                attachment_id=alert.attachment_ids[0],
                error_code=code,
                sender_fault=sender_fault,
            )
        now = self._now()
        for alert in outcome.delivered:
            self._state.mark_sent(keys[id(alert)], now=now)

    def _finish(self, run: _Run) -> Exception | None:
        """Sends what is pending (batch, digests, summary); returns the first error."""
        failure: Exception | None = None
        try:
            self._flush(run)
        except (StateUnavailableError, PublishError) as error:
            failure = error
        for kind, overflow in run.digests.items():
            digest_failure = self._send_digest(run, kind, overflow)
            failure = failure or digest_failure
        if run.unrecorded:
            try:
                self._publish_single(self._state_summary(run))
            except PublishError as error:
                failure = failure or error
        return failure

    def _send_digest(
        self, run: _Run, kind: str, overflow: list[tuple[str, str]]
    ) -> Exception | None:
        digest = digest_alert(
            kind,
            [attachment_id for _, attachment_id in overflow],
            limit=self._config.max_alerts_per_run,
            region=self._config.region,
            account=run.account,
            detected_at=self._clock(),
        )
        try:
            self._publish_single(digest)
            now = self._now()
            for key, _ in overflow:
                self._state.mark_sent(key, now=now)
        except (PublishError, StateUnavailableError) as error:
            return error
        run.summary.alerts_in_digest += len(overflow)
        return None

    def _state_summary(self, run: _Run) -> Alert:
        summary = run.summary
        mixed = summary.stuck_found > 0
        return listing_alert(
            KIND_STATE_UNAVAILABLE,
            run.unrecorded,
            total=summary.failed_found + summary.stuck_found,
            headline=(
                "SMS registration attachment uploads failed or are stuck, and the monitor's "
                "alert state is unreachable: this summary names them; individual alerts "
                "follow once the state table is back."
            ),
            region=self._config.region,
            account=run.account,
            detected_at=self._clock(),
            status="MULTIPLE" if mixed else UPLOAD_FAILED,
        )

    def _publish_single(self, alert: Alert) -> None:
        outcome = self._publisher.publish([alert])
        if outcome.refused:
            _, code, _ = outcome.refused[0]
            raise PublishError(f"SNS refused the {alert.kind} alert: {code}")

    def _now(self) -> int:
        return int(self._clock().timestamp())


def _remember(unrecorded: list[str], findings: list[Finding]) -> None:
    room = max(_SUMMARY_ID_LIMIT - len(unrecorded), 0)
    unrecorded.extend(finding.attachment.attachment_id for finding in findings[:room])
