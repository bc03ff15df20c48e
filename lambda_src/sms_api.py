"""Adapter for ``DescribeRegistrationAttachments``: pages lazily, one page in memory."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from . import aws_clients
from .model import Attachment
from .observability import tracer

if TYPE_CHECKING:
    from mypy_boto3_pinpoint_sms_voice_v2 import PinpointSMSVoiceV2Client

#: API limits (DESIGN.md §1).
MAX_RESULTS = 100
MAX_IDS_PER_REQUEST = 5


class AttachmentsApi:
    """Lists registration attachments, a page (≤100) at a time.

    The client is created on first use so that importing the module costs nothing and
    tests can inject a client pointed at the in-repo fake.
    """

    def __init__(self, region: str, client: PinpointSMSVoiceV2Client | None = None) -> None:
        self._region = region
        self._client = client
        self.calls = 0

    @property
    def client(self) -> PinpointSMSVoiceV2Client:
        if self._client is None:
            self._client = aws_clients.sms_client(self._region)
        return self._client

    # Pages are yielded, not returned: capture_response=False keeps attachments
    # (and their AttachmentUrl) out of traces.
    @tracer.capture_method(capture_response=False)
    def pages(self, statuses: Collection[str] | None = None) -> Iterator[list[Attachment]]:
        """Every attachment, filtered server-side by ``statuses`` when given, page by page."""
        request: dict[str, Any] = {"MaxResults": MAX_RESULTS}
        if statuses:
            request["Filters"] = [{"Name": "attachment-status", "Values": sorted(statuses)}]
        while True:
            answer = self._describe(request)
            yield [Attachment.from_api(item) for item in answer["RegistrationAttachments"]]
            next_token = answer.get("NextToken")
            if not next_token:
                return
            request["NextToken"] = next_token

    @tracer.capture_method(capture_response=False)
    def by_ids(self, ids: Sequence[str]) -> Iterator[list[Attachment]]:
        """The given ids or ARNs, five per request; an unknown one raises
        ``ResourceNotFoundException`` for its whole request."""
        for start in range(0, len(ids), MAX_IDS_PER_REQUEST):
            chunk = list(ids[start : start + MAX_IDS_PER_REQUEST])
            answer = self._describe({"RegistrationAttachmentIds": chunk})
            yield [Attachment.from_api(item) for item in answer["RegistrationAttachments"]]

    def _describe(self, request: dict[str, Any]) -> Any:
        self.calls += 1
        return self.client.describe_registration_attachments(**request)
