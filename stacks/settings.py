"""Monitor settings, and their parsing from CDK context (`cdk.json` or `cdk synth -c key=value`).

Every setting has a default, so `cdk synth` works with no context at all. Context values
come from JSON (`cdk.json`) or as strings (`-c maxAlertsPerRun=10`, `-c alertEmails=a@x,b@y`,
`-c 'environments=[{"region":"eu-west-1"}]'`): both are accepted. Errors name the context
key (`environments[1].region` for a key of one environment).

`environments` lists the accounts/regions to deploy to, one stack each; an entry may also
override any other key for its stack (e.g. `registrationAttachmentIds`, which are regional).
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from aws_cdk import Duration
from constructs import Node

from stacks.attachment_status import ATTACHMENT_STATUSES, check_attachment_ids
from stacks.monitor_alarms import heartbeat_of
from stacks.registration_attachment_monitor import (
    DEFAULT_ALERT_REMINDER_HOURS,
    DEFAULT_MAX_ALERTS_PER_RUN,
    DEFAULT_SCHEDULE_EXPRESSION,
    DEFAULT_STUCK_UPLOAD_MINUTES,
    EMAIL_ADDRESS,
    MAX_ALERT_REMINDER_HOURS,
    MAX_STUCK_UPLOAD_MINUTES,
    is_schedule_expression,
    new_refresh_token,
)

DEFAULT_STACK_NAME: Final = "RegistrationAttachmentMonitor"
DEFAULT_LOG_RETENTION_DAYS: Final = 90
# CloudWatch Logs retention periods (days); "never expire" is not offered.
LOG_RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
REMOVAL_POLICIES: Final = ("retain", "destroy")

# Keys an `environments` entry may carry: its account and region, and overrides.
ENVIRONMENT_KEYS: Final = ("account", "region")
OVERRIDABLE_KEYS: Final = (
    "stackName",
    "scheduleExpression",
    "scheduleTimeZone",
    "maxAlertsPerRun",
    "alertReminderHours",
    "fullInventory",
    "stuckUploadMinutes",
    "registrationAttachmentIds",
    "attachmentStatuses",
    "failOnStatuses",
    "logRetentionDays",
    "alertTopicArn",
    "alertTopicKeyArn",
    "alertEmails",
    "stateTableRemovalPolicy",
    "operationsEmails",
    "heartbeatWindowMinutes",
    "alarmOnNewFailures",
)

# CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128.
_STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
_DIGITS = re.compile(r"[0-9]+")
_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
_TIME_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*")
_TOPIC_ARN = re.compile(r"arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}")
_KEY_ARN = re.compile(r"arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+")


class ContextError(ValueError):
    """A context value is invalid; the message names the key."""


@dataclass(frozen=True, kw_only=True)
class MonitorSettings:
    """What one monitor stack is built from."""

    stack_name: str = DEFAULT_STACK_NAME
    # None: environment-agnostic (resolved by the CLI's credentials at deploy time).
    account: str | None = None
    region: str | None = None
    schedule_expression: str = DEFAULT_SCHEDULE_EXPRESSION
    schedule_time_zone: str | None = None  # None: UTC
    max_alerts_per_run: int = DEFAULT_MAX_ALERTS_PER_RUN
    alert_reminder_hours: int = DEFAULT_ALERT_REMINDER_HOURS
    full_inventory: bool = False
    stuck_upload_minutes: int = DEFAULT_STUCK_UPLOAD_MINUTES  # 0: off
    registration_attachment_ids: Sequence[str] = ()
    attachment_statuses: Sequence[str] = ()
    fail_on_statuses: Sequence[str] = ()
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    alert_topic_arn: str | None = None
    alert_topic_key_arn: str | None = None
    alert_emails: Sequence[str] = ()
    state_table_removal_policy: str = "retain"
    operations_emails: Sequence[str] = ()
    # None: twice the rate of a rate(...) schedule (a cron(...) schedule needs a value).
    heartbeat_window_minutes: int | None = None
    alarm_on_new_failures: bool = False
    # Epoch milliseconds; changes on every synth so status is re-read on every deploy.
    refresh_token: str = field(default_factory=new_refresh_token)


def settings_from_context(node: Node) -> MonitorSettings:
    """The settings of the top-level context keys (the single, environment-agnostic stack)."""
    return _settings(_Source(node.try_get_context), refresh_token=_refresh(node))


def all_settings_from_context(node: Node) -> tuple[MonitorSettings, ...]:
    """One MonitorSettings per stack: one per `environments` entry, or a single
    environment-agnostic one when `environments` is absent or empty."""
    refresh_token = _refresh(node)
    top = _Source(node.try_get_context)
    entries = _environments(node.try_get_context("environments"))
    if not entries:
        return (_settings(top, refresh_token=refresh_token),)
    regions = [entry.get("region") for entry in entries]
    result: list[MonitorSettings] = []
    for index, entry in enumerate(entries):
        where = f"environments[{index}]"
        region = _region(f"{where}.region", entry.get("region"))
        account = _account(f"{where}.account", entry.get("account"))
        source = _Source(node.try_get_context, entry, where)
        settings = _settings(source, refresh_token=refresh_token, region=region, account=account)
        if "stackName" not in entry:
            suffix = region if regions.count(region) == 1 else f"{region}-{account}"
            stack_name = _stack_name("stackName", f"{settings.stack_name}-{suffix}")
            settings = replace(settings, stack_name=stack_name)
        result.append(settings)
    names = [settings.stack_name for settings in result]
    for index, settings in enumerate(result):
        if names.count(settings.stack_name) > 1:
            raise ContextError(
                f"context key 'environments[{index}]': stack name {settings.stack_name!r} is "
                "used twice (the same account and region listed twice, or the same region "
                "without accounts); give each entry its own account, region or stackName"
            )
    return tuple(result)


# -- parsing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """Where a key's value comes from: an environment entry's override, else the top level."""

    top: Callable[[str], Any]
    entry: Mapping[str, Any] = field(default_factory=dict)
    where: str = ""

    def get(self, key: str) -> tuple[str, Any]:
        if key in self.entry:
            return f"{self.where}.{key}", self.entry[key]
        return key, self.top(key)


def _settings(
    source: _Source,
    *,
    refresh_token: str,
    region: str | None = None,
    account: str | None = None,
) -> MonitorSettings:
    topic_key, topic_arn = source.get("alertTopicArn")
    key_key, key_arn = source.get("alertTopicKeyArn")
    alert_topic_arn = _optional_arn(topic_key, topic_arn, _TOPIC_ARN, "an SNS topic ARN")
    alert_topic_key_arn = _optional_arn(key_key, key_arn, _KEY_ARN, "a KMS key ARN")
    if alert_topic_key_arn is not None and alert_topic_arn is None:
        raise ContextError(
            f"context key {key_key!r} is the key of an existing topic: set 'alertTopicArn' too"
        )
    schedule_expression = _schedule_expression(*source.get("scheduleExpression"))
    return MonitorSettings(
        stack_name=_stack_name(*source.get("stackName")),
        account=account,
        region=region,
        schedule_expression=schedule_expression,
        schedule_time_zone=_time_zone(*source.get("scheduleTimeZone")),
        max_alerts_per_run=_integer(
            *source.get("maxAlertsPerRun"), default=DEFAULT_MAX_ALERTS_PER_RUN, minimum=1
        ),
        alert_reminder_hours=_integer(
            *source.get("alertReminderHours"),
            default=DEFAULT_ALERT_REMINDER_HOURS,
            minimum=0,
            maximum=MAX_ALERT_REMINDER_HOURS,
        ),
        full_inventory=_boolean(*source.get("fullInventory"), default=False),
        stuck_upload_minutes=_integer(
            *source.get("stuckUploadMinutes"),
            default=DEFAULT_STUCK_UPLOAD_MINUTES,
            minimum=0,
            maximum=MAX_STUCK_UPLOAD_MINUTES,
        ),
        registration_attachment_ids=_attachment_ids(
            *source.get("registrationAttachmentIds"), region=region, account=account
        ),
        attachment_statuses=_statuses(*source.get("attachmentStatuses")),
        fail_on_statuses=_statuses(*source.get("failOnStatuses")),
        log_retention_days=_log_retention(*source.get("logRetentionDays")),
        alert_topic_arn=alert_topic_arn,
        alert_topic_key_arn=alert_topic_key_arn,
        alert_emails=_emails(*source.get("alertEmails")),
        state_table_removal_policy=_removal_policy(*source.get("stateTableRemovalPolicy")),
        operations_emails=_emails(*source.get("operationsEmails")),
        heartbeat_window_minutes=_heartbeat_window(
            *source.get("heartbeatWindowMinutes"), schedule_expression=schedule_expression
        ),
        alarm_on_new_failures=_boolean(*source.get("alarmOnNewFailures"), default=False),
        refresh_token=refresh_token,
    )


def _refresh(node: Node) -> str:
    value = node.try_get_context("refreshToken")
    return new_refresh_token() if value is None else _refresh_token(value)


def _environments(value: object) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except json.JSONDecodeError as error:
            raise ContextError(
                f"context key 'environments' must be a JSON list, got {value!r}: {error}"
            ) from None
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise ContextError(
            "context key 'environments' must be a list of objects such as "
            '{"account": "111111111111", "region": "us-east-1"}, '
            f"got {value!r}"
        )
    for index, entry in enumerate(value):
        unknown = sorted(set(entry) - set(ENVIRONMENT_KEYS) - set(OVERRIDABLE_KEYS))
        if unknown:
            raise ContextError(
                f"context key 'environments[{index}]': unknown key(s) {unknown}; an entry "
                f"takes {list(ENVIRONMENT_KEYS)} and may override {list(OVERRIDABLE_KEYS)}"
            )
    return value


def _region(key: str, value: object) -> str:
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        raise ContextError(
            f"context key {key!r} must be an AWS region such as 'us-east-1', got {value!r}"
        )
    return value


def _account(key: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:012d}"
    if not isinstance(value, str) or not _ACCOUNT.fullmatch(value):
        raise ContextError(f"context key {key!r} must be a 12-digit AWS account id, got {value!r}")
    return value


def _stack_name(key: str, value: object) -> str:
    if value is None:
        return DEFAULT_STACK_NAME
    if not isinstance(value, str) or not _STACK_NAME.fullmatch(value):
        raise ContextError(
            f"context key {key!r} must be a CloudFormation stack name (a letter, then "
            f"letters, digits or hyphens, at most 128 characters), got {value!r}"
        )
    return value


def _schedule_expression(key: str, value: object) -> str:
    if value is None:
        return DEFAULT_SCHEDULE_EXPRESSION
    if not isinstance(value, str) or not is_schedule_expression(value.strip()):
        raise ContextError(
            f"context key {key!r} must be an EventBridge Scheduler rate or cron expression "
            f"such as 'rate(1 hour)' or 'cron(0 8 * * ? *)', got {value!r}"
        )
    return value.strip()


def _time_zone(key: str, value: object) -> str | None:
    if value is None:
        return None
    known = zoneinfo.available_timezones()
    if (
        not isinstance(value, str)
        or not _TIME_ZONE.fullmatch(value)
        or (known and value not in known and value != "UTC")
    ):
        raise ContextError(
            f"context key {key!r} must be an IANA time zone such as 'Europe/Berlin' or 'UTC', "
            f"got {value!r}"
        )
    return value


def _integer(
    key: str, value: object, *, default: int, minimum: int, maximum: int | None = None
) -> int:
    if value is None:
        return default
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None or number < minimum or (maximum is not None and number > maximum):
        bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ContextError(f"context key {key!r} must be an integer {bounds}, got {value!r}")
    return number


def _boolean(key: str, value: object, *, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ContextError(f"context key {key!r} must be true or false, got {value!r}")


def _string_list(key: str, value: object) -> tuple[str, ...]:
    """A JSON list of strings, or a comma-separated string (`-c key=a,b`)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")] if value.strip() else []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ContextError(
            f"context key {key!r} must be a list of strings (or a comma-separated string), "
            f"got {value!r}"
        )
    items = tuple(item.strip() for item in value)
    if any(not item for item in items):
        raise ContextError(f"context key {key!r} must not contain empty values, got {value!r}")
    return items


def _attachment_ids(
    key: str, value: object, *, region: str | None, account: str | None
) -> tuple[str, ...]:
    """Validated like the construct does (at most 30, ids or ARNs of the stack's region and
    account); an id given twice (also as id and ARN) is kept once."""
    ids = _string_list(key, value)
    try:
        checked = check_attachment_ids(f"context key {key!r}", ids, region=region, account=account)
    except ValueError as error:
        raise ContextError(str(error)) from None
    return tuple(checked.values())


def _statuses(key: str, value: object) -> tuple[str, ...]:
    statuses = _string_list(key, value)
    unknown = [status for status in statuses if status not in ATTACHMENT_STATUSES]
    if unknown:
        raise ContextError(
            f"context key {key!r}: unknown status(es) {unknown}; expected any of "
            f"{list(ATTACHMENT_STATUSES)}"
        )
    return tuple(dict.fromkeys(statuses))


def _heartbeat_window(key: str, value: object, *, schedule_expression: str) -> int | None:
    """Minutes, or None for twice the rate; checked against the schedule as the construct
    checks `heartbeat_window` (required with cron, at most 7 days), naming the key."""
    minutes = None if value is None else _integer(key, value, default=0, minimum=1)
    window = None if minutes is None else Duration.minutes(minutes)
    try:
        heartbeat_of(schedule_expression, window, prop=f"context key {key!r}")
    except ValueError as error:
        raise ContextError(str(error)) from None
    return minutes


def _log_retention(key: str, value: object) -> int:
    days = _integer(key, value, default=DEFAULT_LOG_RETENTION_DAYS, minimum=1)
    if days not in LOG_RETENTION_DAYS:
        raise ContextError(
            f"context key {key!r} must be a CloudWatch Logs retention period in days, one of "
            f"{list(LOG_RETENTION_DAYS)}, got {value!r}"
        )
    return days


def _optional_arn(key: str, value: object, pattern: re.Pattern[str], what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ContextError(f"context key {key!r} must be {what}, got {value!r}")
    return value


def _emails(key: str, value: object) -> tuple[str, ...]:
    emails = _string_list(key, value)
    bad = [email for email in emails if not EMAIL_ADDRESS.fullmatch(email)]
    if bad:
        raise ContextError(f"context key {key!r}: not an email address: {bad}")
    return tuple(dict.fromkeys(emails))


def _removal_policy(key: str, value: object) -> str:
    if value is None:
        return "retain"
    if not isinstance(value, str) or value.strip().lower() not in REMOVAL_POLICIES:
        raise ContextError(
            f"context key {key!r} must be one of {list(REMOVAL_POLICIES)}, got {value!r}"
        )
    return value.strip().lower()


def _refresh_token(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return value
    raise ContextError(
        f"context key 'refreshToken' must be epoch milliseconds (digits only), got {value!r}"
    )
