"""Adapter for the alert-state table (DynamoDB): which attachments were alerted, who is
alerting one right now, and which CloudFormation requests were answered.

Item layout (partition key ``pk``; ``expires_at`` is the table's TTL attribute):

* ``alert#<kind>#<attachment id>``: ``state`` CLAIMED (with ``lease_expires_at``) or
  SENT (with ``sent_at``), ``schema_version``, ``expires_at``.
* ``cfn#<stack id>#<request id>``: a CloudFormation request already answered.

SENT items do not expire while the attachment is still seen: ``expires_at`` is pushed
forward when it comes within ``TTL_REFRESH_WINDOW`` of now, so TTL only removes entries
of attachments not seen for ``TTL_AFTER_LAST_SEEN``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from . import aws_clients

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SCHEMA_VERSION = 1
CLAIMED = "CLAIMED"
SENT = "SENT"
TTL_AFTER_LAST_SEEN = timedelta(days=90)
TTL_REFRESH_WINDOW = timedelta(days=60)
ANSWERED_REQUEST_TTL = timedelta(days=7)
BATCH_GET_LIMIT = 100
_UNPROCESSED_RETRIES = 5


class StateUnavailableError(RuntimeError):
    """The table could not be read or written (missing, throttled past retries, no access)."""


@dataclass(frozen=True, slots=True)
class AlertRecord:
    key: str
    state: str
    lease_expires_at: int
    sent_at: int
    expires_at: int


def alert_key(kind: str, attachment_id: str) -> str:
    return f"alert#{kind}#{attachment_id}"


class AlertState:
    def __init__(
        self,
        table_name: str,
        region: str,
        client: DynamoDBClient | None = None,
        *,
        reminder_interval: timedelta | None = None,
    ) -> None:
        self.table_name = table_name
        self._region = region
        self._client = client
        self._reminder_seconds = int(reminder_interval.total_seconds()) if reminder_interval else 0
        self.calls = 0

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            self._client = aws_clients.dynamodb_client(self._region)
        return self._client

    # -- alerts ---------------------------------------------------------------------

    def records(self, keys: Sequence[str]) -> dict[str, AlertRecord]:
        """The stored records of ``keys`` (at most 100 per call), read consistently."""
        found: dict[str, AlertRecord] = {}
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            request: Any = {
                self.table_name: {
                    "Keys": [{"pk": {"S": key}} for key in keys[start : start + BATCH_GET_LIMIT]],
                    "ConsistentRead": True,
                }
            }
            for attempt in range(_UNPROCESSED_RETRIES + 1):
                answer = self._call("batch_get_item", RequestItems=request)
                for item in answer.get("Responses", {}).get(self.table_name, []):
                    record = _record(item)
                    found[record.key] = record
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.05 * 2**attempt)
            if request:
                raise StateUnavailableError("DynamoDB left keys unprocessed after retries")
        return found

    def is_settled(self, record: AlertRecord | None, now: int) -> bool:
        """True when the attachment needs no alert now: sent (and no reminder due), or
        claimed by a run whose lease has not run out."""
        if record is None:
            return False
        if record.state == SENT:
            return not (self._reminder_seconds and record.sent_at <= now - self._reminder_seconds)
        if record.state == CLAIMED:
            return record.lease_expires_at > now
        # A state this version does not know was written by a newer one: leave it alone.
        return True

    def claim(self, key: str, *, now: int, lease_seconds: int) -> bool:
        """Takes the attachment for this run; False when another run holds or sent it."""
        condition = "attribute_not_exists(pk) OR (#state = :claimed AND lease_expires_at <= :now)"
        values: dict[str, Any] = {":claimed": {"S": CLAIMED}, ":now": {"N": str(now)}}
        if self._reminder_seconds:
            condition += " OR (#state = :sent AND sent_at <= :remind_before)"
            values[":sent"] = {"S": SENT}
            values[":remind_before"] = {"N": str(now - self._reminder_seconds)}
        try:
            self._call(
                "put_item",
                TableName=self.table_name,
                Item=_item(key, CLAIMED, now, lease_expires_at=now + lease_seconds),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=values,
            )
        except _ConditionFailed:
            return False
        return True

    def mark_sent(self, key: str, *, now: int) -> None:
        self._call("put_item", TableName=self.table_name, Item=_item(key, SENT, now, sent_at=now))

    def keep_alive(self, records: Iterable[AlertRecord], *, now: int) -> int:
        """Pushes ``expires_at`` forward for sent records close to expiry; returns how many."""
        refreshed = 0
        for record in records:
            if record.state != SENT or record.expires_at - now > TTL_REFRESH_WINDOW.total_seconds():
                continue
            self._call(
                "update_item",
                TableName=self.table_name,
                Key={"pk": {"S": record.key}},
                UpdateExpression="SET expires_at = :expires",
                ExpressionAttributeValues={":expires": {"N": str(now + _ttl_seconds())}},
            )
            refreshed += 1
        return refreshed

    # -- CloudFormation requests -----------------------------------------------------

    def was_answered(self, stack_id: str, request_id: str) -> bool:
        answer = self._call(
            "get_item",
            TableName=self.table_name,
            Key={"pk": {"S": _request_key(stack_id, request_id)}},
            ConsistentRead=True,
        )
        return "Item" in answer

    def record_answer(self, stack_id: str, request_id: str, status: str, *, now: int) -> None:
        expires = now + int(ANSWERED_REQUEST_TTL.total_seconds())
        self._call(
            "put_item",
            TableName=self.table_name,
            Item={
                "pk": {"S": _request_key(stack_id, request_id)},
                "status": {"S": status},
                "answered_at": {"N": str(now)},
                "schema_version": {"N": str(SCHEMA_VERSION)},
                "expires_at": {"N": str(expires)},
            },
        )

    # -- plumbing ---------------------------------------------------------------------

    def _call(self, operation: str, **request: Any) -> Any:
        self.calls += 1
        try:
            return getattr(self.client, operation)(**request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise _ConditionFailed from error
            raise StateUnavailableError(f"{operation} on {self.table_name}: {error}") from error
        except BotoCoreError as error:
            raise StateUnavailableError(f"{operation} on {self.table_name}: {error}") from error


class _ConditionFailed(Exception):
    pass


def _ttl_seconds() -> int:
    return int(TTL_AFTER_LAST_SEEN.total_seconds())


def _request_key(stack_id: str, request_id: str) -> str:
    return f"cfn#{stack_id}#{request_id}"


def _item(key: str, state: str, now: int, *, lease_expires_at: int = 0, sent_at: int = 0) -> Any:
    return {
        "pk": {"S": key},
        "state": {"S": state},
        "schema_version": {"N": str(SCHEMA_VERSION)},
        "lease_expires_at": {"N": str(lease_expires_at)},
        "sent_at": {"N": str(sent_at)},
        "expires_at": {"N": str(now + _ttl_seconds())},
    }


def _record(item: dict[str, Any]) -> AlertRecord:
    def number(name: str) -> int:
        return int(item.get(name, {}).get("N", "0"))

    return AlertRecord(
        key=item["pk"]["S"],
        state=item.get("state", {}).get("S", ""),
        lease_expires_at=number("lease_expires_at"),
        sent_at=number("sent_at"),
        expires_at=number("expires_at"),
    )
