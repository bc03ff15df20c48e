"""Monitor settings, and their parsing from CDK context (`cdk.json` or `cdk synth -c key=value`).

Every setting has a default, so `cdk synth` works with no context at all. Context values
come from JSON (`cdk.json`) or as strings (`-c maxAlertsPerRun=10`): both are accepted.
Errors name the context key.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from constructs import Node

DEFAULT_STACK_NAME: Final = "RegistrationAttachmentMonitor"
DEFAULT_SCHEDULE_EXPRESSION: Final = "rate(1 hour)"
DEFAULT_MAX_ALERTS_PER_RUN: Final = 50
DEFAULT_ALERT_REMINDER_HOURS: Final = 0

# CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128.
_STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
_SCHEDULE_EXPRESSION = re.compile(r"(rate|cron|at)\(.+\)")
_DIGITS = re.compile(r"[0-9]+")


def new_refresh_token() -> str:
    """Epoch milliseconds now, as a string: orders in time, so rollbacks are recognisable."""
    return str(int(time.time() * 1000))


class ContextError(ValueError):
    """A context value is invalid; the message names the key."""


@dataclass(frozen=True, kw_only=True)
class MonitorSettings:
    """What one monitor stack is built from."""

    stack_name: str = DEFAULT_STACK_NAME
    schedule_expression: str = DEFAULT_SCHEDULE_EXPRESSION
    max_alerts_per_run: int = DEFAULT_MAX_ALERTS_PER_RUN
    alert_reminder_hours: int = DEFAULT_ALERT_REMINDER_HOURS
    full_inventory: bool = False
    # Epoch milliseconds; changes on every synth so status is re-read on every deploy.
    refresh_token: str = field(default_factory=new_refresh_token)
    # Custom resource scope (optional); not read from context yet.
    registration_attachment_ids: Sequence[str] = ()
    attachment_statuses: Sequence[str] = ()
    fail_on_statuses: Sequence[str] = ()


def settings_from_context(node: Node) -> MonitorSettings:
    """Build the settings from the app's context; absent keys take their defaults."""
    refresh = node.try_get_context("refreshToken")
    return MonitorSettings(
        stack_name=_stack_name(node.try_get_context("stackName")),
        schedule_expression=_schedule_expression(node.try_get_context("scheduleExpression")),
        max_alerts_per_run=_integer(
            "maxAlertsPerRun",
            node.try_get_context("maxAlertsPerRun"),
            default=DEFAULT_MAX_ALERTS_PER_RUN,
            minimum=1,
        ),
        alert_reminder_hours=_integer(
            "alertReminderHours",
            node.try_get_context("alertReminderHours"),
            default=DEFAULT_ALERT_REMINDER_HOURS,
            minimum=0,
        ),
        refresh_token=new_refresh_token() if refresh is None else _refresh_token(refresh),
    )


def _stack_name(value: object) -> str:
    if value is None:
        return DEFAULT_STACK_NAME
    if not isinstance(value, str) or not _STACK_NAME.fullmatch(value):
        raise ContextError(
            f"context key 'stackName' must be a CloudFormation stack name (a letter, then "
            f"letters, digits or hyphens, at most 128 characters), got {value!r}"
        )
    return value


def _schedule_expression(value: object) -> str:
    if value is None:
        return DEFAULT_SCHEDULE_EXPRESSION
    if not isinstance(value, str) or not _SCHEDULE_EXPRESSION.fullmatch(value.strip()):
        raise ContextError(
            "context key 'scheduleExpression' must be an EventBridge Scheduler expression "
            f"such as 'rate(1 hour)' or 'cron(0 * * * ? *)', got {value!r}"
        )
    return value.strip()


def _integer(key: str, value: object, *, default: int, minimum: int) -> int:
    if value is None:
        return default
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None or number < minimum:
        raise ContextError(f"context key {key!r} must be an integer >= {minimum}, got {value!r}")
    return number


def _refresh_token(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return value
    raise ContextError(
        f"context key 'refreshToken' must be epoch milliseconds (digits only), got {value!r}"
    )
