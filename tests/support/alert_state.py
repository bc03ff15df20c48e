"""Reading and aging the alert-state table from tests (through the test's own client)."""

from __future__ import annotations

from typing import Any

_ALERT_PREFIX = "alert#"


def alert_states(dynamodb: Any, table: str) -> dict[str, str]:
    """``pk`` → ``state`` (CLAIMED, SENT) of every alert item."""
    states: dict[str, str] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            if item["pk"]["S"].startswith(_ALERT_PREFIX):
                states[item["pk"]["S"]] = item.get("state", {}).get("S", "")
    return states


def expire_claims(dynamodb: Any, table: str) -> int:
    """Lets every CLAIMED lease run out, as the passing of the function's timeout would;
    returns how many claims there were."""
    claimed = [key for key, state in alert_states(dynamodb, table).items() if state == "CLAIMED"]
    for key in claimed:
        dynamodb.update_item(
            TableName=table,
            Key={"pk": {"S": key}},
            UpdateExpression="SET lease_expires_at = :past",
            ExpressionAttributeValues={":past": {"N": "0"}},
        )
    return len(claimed)
