"""Configuration: parsed once from environment variables into a typed object.

Only this module reads the environment. A missing or malformed value raises
``ConfigError`` naming the variable and the fix; the handler parses on the first
invocation, inside its error boundary, so a CloudFormation request still gets a
FAILED answer that says what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

DEFAULT_MAX_ALERTS_PER_RUN = 50
DEFAULT_STUCK_UPLOAD_MINUTES = 60
DEFAULT_MONITOR_NAME = "registration-attachment-monitor"
MAX_REMINDER_HOURS = 24 * 366 * 10  # ten years: anything longer is a typo
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Config:
    alert_topic_arn: str
    state_table_name: str
    region: str
    max_alerts_per_run: int = DEFAULT_MAX_ALERTS_PER_RUN
    #: Re-alert an attachment still failed this long after its last alert; None = never.
    reminder_interval: timedelta | None = None
    #: List every status (for per-status metrics) instead of only the alerted ones.
    full_inventory: bool = False
    #: Alert on uploads still in progress this long after creation; None = off.
    stuck_after: timedelta | None = timedelta(minutes=DEFAULT_STUCK_UPLOAD_MINUTES)
    #: The metrics dimension that tells monitors (one per stack) apart.
    monitor_name: str = DEFAULT_MONITOR_NAME


def load_config(environ: Mapping[str, str]) -> Config:
    """Parses the environment; raises ConfigError naming the first bad variable."""
    reminder_hours = _integer(
        environ, "ALERT_REMINDER_HOURS", default=0, minimum=0, maximum=MAX_REMINDER_HOURS
    )
    stuck_minutes = _integer(
        environ,
        "STUCK_UPLOAD_MINUTES",
        default=DEFAULT_STUCK_UPLOAD_MINUTES,
        minimum=0,
        maximum=MAX_REMINDER_HOURS * 60,
    )
    return Config(
        alert_topic_arn=_arn(environ, "ALERT_TOPIC_ARN", service="sns"),
        state_table_name=_required(environ, "STATE_TABLE_NAME"),
        region=_required(environ, "AWS_REGION"),
        max_alerts_per_run=_integer(
            environ, "MAX_ALERTS_PER_RUN", default=DEFAULT_MAX_ALERTS_PER_RUN, minimum=1
        ),
        reminder_interval=timedelta(hours=reminder_hours) if reminder_hours else None,
        full_inventory=_boolean(environ, "FULL_INVENTORY", default=False),
        stuck_after=timedelta(minutes=stuck_minutes) if stuck_minutes else None,
        monitor_name=environ.get("MONITOR_NAME", "").strip() or DEFAULT_MONITOR_NAME,
    )


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: the stack sets it; set it to a non-empty value")
    return value


def _arn(environ: Mapping[str, str], name: str, *, service: str) -> str:
    value = _required(environ, name)
    parts = value.split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[2] != service:
        raise ConfigError(
            f"{name}={value!r} is not an {service.upper()} ARN: "
            f"expected arn:<partition>:{service}:<region>:<account>:<name>"
        )
    return value


def _integer(
    environ: Mapping[str, str],
    name: str,
    *,
    default: int,
    minimum: int,
    maximum: int | None = None,
) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number: use e.g. {default}") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} is below {minimum}: use a value of {minimum} or more")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name}={raw!r} is above {maximum}: use a value of {maximum} or less")
    return value


def _boolean(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: use true or false")
