"""Alert messages (pure) and the SNS publisher (adapter).

One message serves every kind of subscriber: ``MessageStructure=json`` carries readable
text for email and ``default``, and JSON for machines (``sqs``, ``lambda``, ``http(s)``);
message attributes let subscribers filter. ``AttachmentUrl`` is never included.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from . import aws_clients
from .model import UPLOAD_FAILED, UPLOAD_IN_PROGRESS, Attachment

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import PublishBatchRequestEntryTypeDef

KIND_UPLOAD_FAILED = "ATTACHMENT_UPLOAD_FAILED"
KIND_UPLOAD_STUCK = "ATTACHMENT_UPLOAD_STUCK"
KIND_DIGEST = "ATTACHMENT_ALERT_DIGEST"
KIND_STATE_UNAVAILABLE = "ATTACHMENT_ALERT_STATE_UNAVAILABLE"

SUBJECT_LIMIT = 100  # SNS rejects longer subjects
BATCH_SIZE = 10  # PublishBatch takes at most ten entries
#: Digest and summary bodies stay far below SNS's 256 KiB message limit, even though the
#: text appears twice (default/email) and the JSON three times in a structured message.
LISTING_BUDGET_BYTES = 30_000
FIX = (
    "Upload the document again as a new registration attachment, then point the "
    "registration at the new attachment (a failed upload cannot be retried)."
)
STUCK_FIX = (
    "Check the document and the registration in the console; if the upload does not "
    "complete, upload the document again as a new registration attachment and point "
    "the registration at the new attachment."
)
_MACHINE_PROTOCOLS = ("sqs", "lambda", "http", "https")
#: How a listing names its attachments, by their status (anything else: a mix of both).
_STATUS_WORDS = {UPLOAD_FAILED: "failed", UPLOAD_IN_PROGRESS: "stuck"}
_MIXED_WORDS = "failed or stuck"
_THROTTLING_CODES = frozenset(
    {"Throttled", "Throttling", "ThrottlingException", "ThrottledException"}
)


@dataclass(frozen=True, slots=True)
class Alert:
    """One message ready for SNS."""

    kind: str
    subject: str
    message: str  # the MessageStructure=json document
    attributes: dict[str, str]
    attachment_ids: tuple[str, ...] = ()


def console_url(region: str) -> str:
    return f"https://{region}.console.aws.amazon.com/sms-voice/home?region={region}#/registrations"


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class _Wording:
    headline: str
    subject: str
    fix: str
    status: str


_WORDING = {
    KIND_UPLOAD_FAILED: _Wording(
        headline="An AWS End User Messaging SMS registration attachment failed to upload.",
        subject="SMS registration attachment upload failed: {id}",
        fix=FIX,
        status=UPLOAD_FAILED,
    ),
    KIND_UPLOAD_STUCK: _Wording(
        headline=(
            "An AWS End User Messaging SMS registration attachment has been uploading "
            "for {age} and has not completed."
        ),
        subject="SMS registration attachment upload stuck: {id}",
        fix=STUCK_FIX,
        status=UPLOAD_IN_PROGRESS,
    ),
}


def failure_alert(attachment: Attachment, *, region: str, detected_at: datetime) -> Alert:
    """The alert for one attachment whose upload failed."""
    return attachment_alert(KIND_UPLOAD_FAILED, attachment, region=region, detected_at=detected_at)


def attachment_alert(
    kind: str, attachment: Attachment, *, region: str, detected_at: datetime
) -> Alert:
    """The alert for one attachment: its upload failed, or is stuck in progress."""
    wording = _WORDING[kind]
    age_minutes = max(int((detected_at - attachment.created).total_seconds() // 60), 0)
    details: dict[str, Any] = {
        "kind": kind,
        "registrationAttachmentId": attachment.attachment_id,
        "registrationAttachmentArn": attachment.arn,
        "attachmentStatus": attachment.status,
        "attachmentUploadErrorReason": attachment.error_reason,
        "createdTimestamp": iso_utc(attachment.created),
        "region": region,
        "account": attachment.account,
        "detectedAt": iso_utc(detected_at),
        "consoleUrl": console_url(region),
        "fix": wording.fix,
    }
    if kind == KIND_UPLOAD_STUCK:
        details["uploadAgeMinutes"] = age_minutes
    text = "\n".join(
        [
            wording.headline.format(age=describe_age(detected_at - attachment.created)),
            "",
            f"Attachment:    {attachment.attachment_id}",
            f"ARN:           {attachment.arn}",
            f"Status:        {attachment.status}",
            f"Error reason:  {attachment.error_reason or 'not given'}",
            f"Created:       {details['createdTimestamp']}",
            f"Region:        {region}",
            f"Account:       {attachment.account}",
            f"Detected at:   {details['detectedAt']}",
            "",
            f"Fix: {wording.fix}",
            f"Console: {details['consoleUrl']}",
        ]
    )
    return Alert(
        kind=kind,
        subject=_subject(wording.subject.format(id=attachment.attachment_id)),
        message=_structured(text, details),
        attributes={
            "AlertKind": kind,
            "AttachmentStatus": attachment.status,
            "AttachmentUploadErrorReason": attachment.error_reason or "NONE",
        },
        attachment_ids=(attachment.attachment_id,),
    )


def describe_age(age: timedelta) -> str:
    """A person's reading of an age: minutes, then hours, then days."""
    minutes = max(int(age.total_seconds() // 60), 0)
    if minutes < 120:
        return f"{minutes} minutes"
    if minutes < 48 * 60:
        return f"{minutes // 60} hours"
    return f"{minutes // (24 * 60)} days"


def listing_alert(
    kind: str,
    attachment_ids: Sequence[str],
    *,
    total: int,
    headline: str,
    region: str,
    account: str,
    detected_at: datetime,
    status: str = UPLOAD_FAILED,
) -> Alert:
    """One alert naming many attachments: the flood-guard digest of one kind, or the
    summary sent when the alert state is unreachable (``status`` MULTIPLE when it names
    failed and stuck uploads). The id list is trimmed to a byte budget; ``total`` says
    how many there were in all."""
    listed = _fit(attachment_ids, LISTING_BUDGET_BYTES)
    not_listed = total - len(listed)
    details = {
        "kind": kind,
        "attachmentStatus": status,
        "count": total,
        "registrationAttachmentIds": listed,
        "notListed": not_listed,
        "region": region,
        "account": account,
        "detectedAt": iso_utc(detected_at),
        "consoleUrl": console_url(region),
        "fix": FIX,
    }
    words = _STATUS_WORDS.get(status, _MIXED_WORDS)
    lines = [
        headline,
        "",
        f"{words.capitalize()} attachments ({total}):",
        *(f"  {i}" for i in listed),
    ]
    if not_listed:
        lines.append(f"  … and {not_listed} more (see the console)")
    lines += [
        "",
        f"Region: {region}",
        f"Account: {account}",
        f"Detected at: {details['detectedAt']}",
    ]
    lines += ["", f"Fix: {FIX}", f"Console: {details['consoleUrl']}"]
    return Alert(
        kind=kind,
        subject=_subject(f"{total} SMS registration attachment uploads {words} ({region})"),
        message=_structured("\n".join(lines), details),
        attributes={
            "AlertKind": kind,
            "AttachmentStatus": status,
            "AttachmentUploadErrorReason": "MULTIPLE",
        },
        attachment_ids=tuple(attachment_ids),
    )


def digest_alert(
    kind: str,
    attachment_ids: Sequence[str],
    *,
    limit: int,
    region: str,
    account: str,
    detected_at: datetime,
) -> Alert:
    """The flood-guard digest of one alert kind: the attachments found beyond the
    ``limit`` of individual alerts per run."""
    status = _WORDING[kind].status
    return listing_alert(
        KIND_DIGEST,
        attachment_ids,
        total=len(attachment_ids),
        headline=(
            f"More SMS registration attachment uploads {_STATUS_WORDS[status]} than the "
            f"{limit} individual alerts sent per run: the rest are listed here and will not "
            "be alerted one by one."
        ),
        region=region,
        account=account,
        detected_at=detected_at,
        status=status,
    )


def _subject(text: str) -> str:
    # SNS subjects: printable ASCII, no line breaks, at most 100 characters.
    ascii_text = text.encode("ascii", "replace").decode("ascii").replace("\n", " ")
    if len(ascii_text) <= SUBJECT_LIMIT:
        return ascii_text
    return ascii_text[: SUBJECT_LIMIT - 3] + "..."


def _structured(text: str, details: dict[str, Any]) -> str:
    machine = json.dumps(details, separators=(",", ":"))
    document = {"default": text, "email": text} | dict.fromkeys(_MACHINE_PROTOCOLS, machine)
    return json.dumps(document, ensure_ascii=False)


def _fit(ids: Sequence[str], budget: int) -> list[str]:
    listed: list[str] = []
    used = 0
    for attachment_id in ids:
        used += len(attachment_id.encode()) + 4
        if used > budget:
            break
        listed.append(attachment_id)
    return listed


class PublishError(RuntimeError):
    """SNS refused the request as a whole (missing topic, no permission, key disabled…)."""


@dataclass(slots=True)
class BatchOutcome:
    delivered: list[Alert] = field(default_factory=list)
    #: (alert, error code, sender fault) for entries SNS refused after the retries.
    refused: list[tuple[Alert, str, bool]] = field(default_factory=list)


class AlertPublisher:
    """Publishes through ``PublishBatch``.

    Entries SNS marks ``Failed`` without ``SenderFault`` are retried (bounded), and so
    is SNS throttling (``Throttled`` / 429), which botocore's standard retry mode does
    not retry for SNS in every runtime version.
    """

    def __init__(
        self,
        topic_arn: str,
        client: SNSClient | None = None,
        *,
        max_attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.topic_arn = topic_arn
        self._client = client
        self._max_attempts = max_attempts
        self._sleep = sleep
        self.calls = 0

    @property
    def client(self) -> SNSClient:
        if self._client is None:
            # The topic may live in another region (a central topic): call that region.
            self._client = aws_clients.sns_client(self.topic_arn.split(":")[3])
        return self._client

    def publish(self, alerts: Sequence[Alert]) -> BatchOutcome:
        """Publishes up to ten alerts in one call (more only after retries)."""
        if len(alerts) > BATCH_SIZE:
            raise ValueError(f"PublishBatch takes at most {BATCH_SIZE} entries, got {len(alerts)}")
        outcome = BatchOutcome()
        pending = {str(index): alert for index, alert in enumerate(alerts)}
        for attempt in range(1, self._max_attempts + 1):
            answer = self._publish_batch([_entry(key, alert) for key, alert in pending.items()])
            if answer is None:  # throttled as a whole
                if attempt < self._max_attempts:
                    self._backoff(attempt)
                continue
            for success in answer.get("Successful", []):
                outcome.delivered.append(pending.pop(success["Id"]))
            retry: dict[str, Alert] = {}
            for failure in answer.get("Failed", []):
                alert = pending.pop(failure["Id"])
                if failure["SenderFault"] or attempt == self._max_attempts:
                    outcome.refused.append((alert, failure["Code"], failure["SenderFault"]))
                else:
                    retry[failure["Id"]] = alert
            pending = retry
            if not pending:
                return outcome
            if attempt < self._max_attempts:
                self._backoff(attempt)
        outcome.refused.extend((alert, "Throttled", False) for alert in pending.values())
        return outcome

    def _publish_batch(self, entries: list[PublishBatchRequestEntryTypeDef]) -> Any:
        self.calls += 1
        try:
            return self.client.publish_batch(
                TopicArn=self.topic_arn, PublishBatchRequestEntries=entries
            )
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if error.response.get("Error", {}).get("Code") in _THROTTLING_CODES or status == 429:
                return None
            raise PublishError(f"SNS refused PublishBatch to {self.topic_arn}: {error}") from error
        except BotoCoreError as error:
            raise PublishError(f"SNS could not be reached for {self.topic_arn}: {error}") from error

    def _backoff(self, attempt: int) -> None:
        # Full jitter, capped: at most a few seconds in all.
        self._sleep(random.uniform(0, min(2.0, 0.1 * 2**attempt)))


def _entry(entry_id: str, alert: Alert) -> PublishBatchRequestEntryTypeDef:
    return {
        "Id": entry_id,
        "Subject": alert.subject,
        "Message": alert.message,
        "MessageStructure": "json",
        "MessageAttributes": {
            name: {"DataType": "String", "StringValue": value}
            for name, value in alert.attributes.items()
        },
    }
