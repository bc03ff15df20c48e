"""Which of the three ways in an event came by (DESIGN.md §2)."""

from __future__ import annotations

from enum import Enum
from typing import Any


class EventKind(Enum):
    CUSTOM_RESOURCE = "custom-resource"
    SCHEDULED_SCAN = "scheduled-scan"
    INVALID = "invalid"


class InvalidEventError(ValueError):
    """The event is neither a CloudFormation request nor a scan trigger."""


def classify(event: Any) -> EventKind:
    """A CloudFormation request has ``RequestType`` and ``ResponseURL``; any other object
    (EventBridge Scheduler's default payload, a rule's Scheduled Event, ``{}``) is a scan.
    Non-objects, and objects that look like CloudFormation but cannot be answered, are
    invalid: fail fast rather than leave anyone waiting."""
    if not isinstance(event, dict):
        return EventKind.INVALID
    if "ResponseURL" in event:
        url = event["ResponseURL"]
        if (
            "RequestType" in event
            and isinstance(url, str)
            and url.startswith(("https://", "http://"))
        ):
            return EventKind.CUSTOM_RESOURCE
        return EventKind.INVALID
    if "RequestType" in event:
        return EventKind.INVALID
    return EventKind.SCHEDULED_SCAN


def describe_invalid(event: Any) -> str:
    """The error message for an invalid event (never includes the event's values)."""
    if not isinstance(event, dict):
        return (
            f"unsupported event of type {type(event).__name__}: send a JSON object "
            "(a scheduled scan) or a CloudFormation custom-resource request"
        )
    if "RequestType" in event:
        return (
            "CloudFormation-looking event without a usable ResponseURL: it cannot be "
            "answered; send the request CloudFormation built, or an object without "
            "RequestType to run a scan"
        )
    return "CloudFormation-looking event without RequestType: cannot tell what to do"
