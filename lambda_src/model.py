"""The domain vocabulary: attachment statuses and the attachment record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

UPLOAD_IN_PROGRESS: Final = "UPLOAD_IN_PROGRESS"
UPLOAD_COMPLETE: Final = "UPLOAD_COMPLETE"
UPLOAD_FAILED: Final = "UPLOAD_FAILED"
DELETED: Final = "DELETED"

#: Every status the API knows, in the order reports list them.
ALL_STATUSES: Final[tuple[str, ...]] = (UPLOAD_IN_PROGRESS, UPLOAD_COMPLETE, UPLOAD_FAILED, DELETED)


@dataclass(frozen=True, slots=True)
class Attachment:
    """One registration attachment, without its ``AttachmentUrl`` (a credential-like link
    that must never reach alerts, logs, traces or outputs)."""

    attachment_id: str
    arn: str
    status: str
    created: datetime
    error_reason: str | None = None

    @classmethod
    def from_api(cls, item: Any) -> Attachment:
        """Builds the record from one ``RegistrationAttachments`` entry of the API answer."""
        return cls(
            attachment_id=item["RegistrationAttachmentId"],
            arn=item["RegistrationAttachmentArn"],
            status=item["AttachmentStatus"],
            created=item["CreatedTimestamp"],
            error_reason=item.get("AttachmentUploadErrorReason"),
        )

    @property
    def account(self) -> str:
        """The account id taken from the ARN (``arn:aws:sms-voice:region:account:...``)."""
        parts = self.arn.split(":")
        return parts[4] if len(parts) > 5 else "unknown"
