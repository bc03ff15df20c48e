"""`RegistrationAttachmentMonitor`: the whole monitor as one reusable construct.

```python
from stacks.registration_attachment_monitor import RegistrationAttachmentMonitor

monitor = RegistrationAttachmentMonitor(self, "Monitor", alert_emails=["ops@example.com"])
monitor.topic                 # sns.ITopic alerts go to
monitor.operations_topic      # sns.Topic the alarms notify
monitor.upload_failed_count   # Fn::GetAtt token of the custom resource
monitor.parameter_name("UploadFailedCount")  # SSM parameter other stacks read
```

Every prop has a default, and every prop is validated when the construct is built: a bad
value raises `ValueError` naming the prop. The construct needs nothing from `app.py` or
`cdk.json`; its cdk-nag findings are acknowledged where they arise, so an app that runs
`AwsSolutionsChecks` and `ServerlessChecks` over it gets a clean report.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Final

from aws_cdk import CfnOutput, CustomResource, Duration, RemovalPolicy, Stack, TimeZone, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from stacks import lambda_defaults as defaults
from stacks.alert_topic import AlertTopic
from stacks.attachment_status import (
    COUNT_ATTRIBUTES,
    FAILED_IDS_ATTRIBUTE,
    FAILED_IDS_TRUNCATED_ATTRIBUTE,
    SCANNED_AT_ATTRIBUTE,
    STATUS_ATTRIBUTE_PREFIX,
    SUMMARY_ATTRIBUTES,
    AttachmentStatus,
    attachment_id_of,
    check_properties,
)
from stacks.encrypted_queue import EncryptedQueue
from stacks.monitor_alarms import MonitorAlarms, heartbeat_of
from stacks.monitor_dashboard import MonitorDashboard
from stacks.monitor_function import MonitorFunction
from stacks.monitor_metrics import MonitorMetrics
from stacks.monitor_schedule import MonitorSchedule, is_schedule_expression
from stacks.state_table import StateTable

DEFAULT_SCHEDULE_EXPRESSION: Final = "rate(1 hour)"
DEFAULT_MAX_ALERTS_PER_RUN: Final = 50
DEFAULT_ALERT_REMINDER_HOURS: Final = 0
MAX_ALERT_REMINDER_HOURS: Final = 24 * 366 * 10  # the function's own bound (config.py)
DEFAULT_STUCK_UPLOAD_MINUTES: Final = 60
MAX_STUCK_UPLOAD_MINUTES: Final = MAX_ALERT_REMINDER_HOURS * 60  # config.py's bound
DEFAULT_STUCK_UPLOAD_AFTER: Final = Duration.minutes(DEFAULT_STUCK_UPLOAD_MINUTES)
PARAMETER_ROOT: Final = "/registration-attachment-monitor"

# Outputs exported under `<export prefix>-<name>`: stable values only (an export another
# stack imports can never change; the status attributes change on every deploy).
EXPORTED_OUTPUTS: Final = (
    "AlertTopicArn",
    "OperationsTopicArn",
    "FunctionArn",
    "StateTableName",
)
STATUS_OUTPUT_PREFIX: Final = "AttachmentStatus"
STATUS_PARAMETER_FOLDER: Final = "Status"

#: An email address SNS can subscribe (no commas: context lists are comma-separated).
EMAIL_ADDRESS = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")
_OUTPUT_PREFIX = re.compile(r"[A-Za-z0-9]*")
_EXPORT_PREFIX = re.compile(r"[A-Za-z0-9:-]+")
_PARAMETER_PATH = re.compile(r"(/[A-Za-z0-9_.-]+)+")
# A metrics dimension value, and the start of alarm and dashboard names (which allow these).
_MONITOR_NAME = re.compile(r"[A-Za-z0-9_-]{1,200}")
_DASHBOARD_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
_MIN_TIMEOUT: Final = Duration.seconds(30)  # the watchdog answers 5 s before the deadline
_MAX_TIMEOUT: Final = Duration.minutes(15)


def new_refresh_token() -> str:
    """Epoch milliseconds now: changes per synth and orders in time (rollbacks are older)."""
    return str(int(time.time() * 1000))


class RegistrationAttachmentMonitor(Construct):
    """Function + log group, alert topic (+ KMS key), state table, schedule + DLQ, async
    failure queue, the status custom resource, the operations topic (+ KMS key) with the
    alarms that notify it, a dashboard, and (optionally) outputs and SSM parameters.

    Keyword-only props, each with a default:

    * `schedule_expression` — EventBridge Scheduler `rate(...)` or `cron(...)`;
      `schedule_time_zone` — IANA time zone for cron (default UTC).
    * `max_alerts_per_run` — individual alerts per run before one digest (flood guard, ≥ 1);
      `alert_reminder_hours` — re-alert a still failed attachment (0 = never);
      `full_inventory` — list every status on scans (per-status metrics);
      `stuck_upload_after` — alert on uploads still in progress this long after creation
      (whole minutes, default 60 minutes; None or zero: off).
    * `registration_attachment_ids` — up to 30 ids or ARNs reported one by one
      (`Status.<id>`: ARNs are reported under their attachment id); with ids, counts and
      the gate cover only them. `attachment_statuses` — statuses to count (default all).
      `fail_on_statuses` — the deployment gate: Create/Update fails if a reported
      attachment has one of them.
    * `refresh_token` — epoch milliseconds; default: now, so every deploy re-reads status.
    * `log_retention`, `memory_size` (MB), `timeout` (30 s to 15 min) of the function.
    * `alert_topic` — an existing topic (e.g. a central one in another account) instead of
      creating topic and key; the function is granted `sns:Publish` on it (and the KMS
      actions on its key when the topic was imported with `key_arn`).
    * `alert_emails`, `alert_queues` — subscribers (each subscription with a dead-letter
      queue).
    * `table_removal_policy` — of the state table (default RETAIN: losing it re-alerts).
    * `operations_emails` — subscribers of the operations topic, which the alarms notify
      (function errors, a message in a dead-letter queue, no successful scan).
    * `heartbeat_window` — the NoSuccessfulScan alarm fires when no scan completed for this
      long: default twice a `rate(...)`; required with a `cron(...)` schedule; whole minutes,
      at most 7 days (CloudWatch's limit).
    * `alarm_on_new_failures` — also alarm when a scan finds failed uploads (default off:
      the alerts already go out).
    * `monitor_name` — the function's `MONITOR_NAME`, the `Monitor` dimension of its metrics
      and the start of the alarm names (default: the stack name, `-<output_prefix>` added
      when there is one); `dashboard_name` — default: the monitor name and the region
      (dashboards are global to the account), unless the monitor name already has it.
    * `create_outputs` — stack outputs (exports for stable values only); `create_parameters`
      — SSM String parameters with the status values; `output_prefix`, `export_prefix`,
      `parameter_path` — names, for more than one monitor per stack.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        schedule_expression: str = DEFAULT_SCHEDULE_EXPRESSION,
        schedule_time_zone: TimeZone | None = None,
        max_alerts_per_run: int = DEFAULT_MAX_ALERTS_PER_RUN,
        alert_reminder_hours: int = DEFAULT_ALERT_REMINDER_HOURS,
        full_inventory: bool = False,
        stuck_upload_after: Duration | None = DEFAULT_STUCK_UPLOAD_AFTER,
        registration_attachment_ids: Sequence[str] = (),
        attachment_statuses: Sequence[str] = (),
        fail_on_statuses: Sequence[str] = (),
        refresh_token: str | None = None,
        log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
        memory_size: int = defaults.MEMORY_SIZE_MB,
        timeout: Duration = defaults.TIMEOUT,
        alert_topic: sns.ITopic | None = None,
        alert_emails: Sequence[str] = (),
        alert_queues: Sequence[sqs.IQueue] = (),
        table_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        operations_emails: Sequence[str] = (),
        heartbeat_window: Duration | None = None,
        alarm_on_new_failures: bool = False,
        monitor_name: str | None = None,
        dashboard_name: str | None = None,
        create_outputs: bool = True,
        create_parameters: bool = True,
        output_prefix: str = "",
        export_prefix: str | None = None,
        parameter_path: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        _check_schedule_expression(schedule_expression)
        _check_int("max_alerts_per_run", max_alerts_per_run, minimum=1)
        _check_int(
            "alert_reminder_hours",
            alert_reminder_hours,
            minimum=0,
            maximum=MAX_ALERT_REMINDER_HOURS,
        )
        _check_int("memory_size", memory_size, minimum=128, maximum=10240)
        _check_timeout(timeout)
        if log_retention == logs.RetentionDays.INFINITE:
            raise ValueError("log_retention: set a retention period; INFINITE keeps logs forever")
        emails = _check_emails("alert_emails", alert_emails)
        operations_subscribers = _check_emails("operations_emails", operations_emails)
        stuck_upload_minutes = _stuck_upload_minutes(stuck_upload_after)
        heartbeat = heartbeat_of(schedule_expression, heartbeat_window)
        # Checked again by AttachmentStatus; here so that a bad value fails before anything
        # is built.
        check_properties(
            self,
            registration_attachment_ids=registration_attachment_ids,
            attachment_statuses=attachment_statuses,
            fail_on_statuses=fail_on_statuses,
            refresh_token=refresh_token,
        )
        if isinstance(alert_queues, str):
            raise ValueError("alert_queues must be a list of SQS queues (sqs.IQueue)")
        if not _OUTPUT_PREFIX.fullmatch(output_prefix):
            raise ValueError(f"output_prefix: letters and digits only, got {output_prefix!r}")
        self.output_prefix = output_prefix
        self.monitor_name = _monitor_name(self, monitor_name, output_prefix)
        self.dashboard_name = _dashboard_name(self, self.monitor_name, dashboard_name)
        self.export_prefix = stack.stack_name if export_prefix is None else export_prefix
        if not Token.is_unresolved(self.export_prefix) and not _EXPORT_PREFIX.fullmatch(
            self.export_prefix
        ):
            raise ValueError(
                f"export_prefix: letters, digits, ':' and '-' only, got {self.export_prefix!r}"
            )
        default_path = f"{PARAMETER_ROOT}/{stack.stack_name}" + (
            f"/{output_prefix}" if output_prefix else ""
        )
        self.parameter_path = default_path if parameter_path is None else parameter_path
        if not Token.is_unresolved(self.parameter_path) and not _PARAMETER_PATH.fullmatch(
            self.parameter_path
        ):
            raise ValueError(
                "parameter_path: an SSM path such as /registration-attachment-monitor/prod "
                f"(letters, digits, _ . - between slashes, no trailing slash), got "
                f"{self.parameter_path!r}"
            )

        # -- state, failure queues ---------------------------------------------------------
        self.table: dynamodb.Table = StateTable(
            self, "State", removal_policy=table_removal_policy
        ).table
        self.failure_queue: sqs.Queue = EncryptedQueue(
            self,
            "FunctionFailures",
            dead_letter_for="the monitor function's on-failure destination for failed "
            "asynchronous (scheduled) invocations",
        ).queue
        self.schedule_dead_letter_queue: sqs.Queue = EncryptedQueue(
            self,
            "ScheduleDeadLetters",
            dead_letter_for="the EventBridge Scheduler target's dead-letter queue for "
            "invocations Scheduler could not deliver",
        ).queue

        # -- alert topic ---------------------------------------------------------------------
        self.key: kms.IKey | None
        alerts: AlertTopic | None = None
        if alert_topic is None:
            alerts = AlertTopic(self, "Alerts")
            self.topic: sns.ITopic = alerts.topic
            self.key = alerts.key
        else:
            self.topic = alert_topic
            self.key = alert_topic.master_key

        # -- function ------------------------------------------------------------------------
        monitor = MonitorFunction(
            self,
            "Monitor",
            alert_topic_arn=self.topic.topic_arn,
            state_table=self.table,
            failure_queue=self.failure_queue,
            max_alerts_per_run=max_alerts_per_run,
            alert_reminder_hours=alert_reminder_hours,
            monitor_name=self.monitor_name,
            stuck_upload_minutes=stuck_upload_minutes,
            full_inventory=full_inventory,
            memory_size=memory_size,
            timeout=timeout,
            log_retention=log_retention,
        )
        self.function: lambda_.Function = monitor.function
        self.role: iam.Role = monitor.role
        self.log_group: logs.LogGroup = monitor.log_group
        if alerts is not None:
            alerts.allow_publisher(self.role)
        else:
            self.topic.grant_publish(self.role)
        monitor.acknowledge_policy_findings(key_grant=self.key is not None)

        # -- operations topic (the alarms notify it) ---------------------------------------
        operations = AlertTopic(
            self,
            "Operations",
            display_name="Registration attachment monitor operations",
            key_description="Encrypts the registration attachment monitor's operations topic "
            "(CloudWatch alarm notifications)",
        )
        self.operations_topic: sns.Topic = operations.topic
        self.operations_key: kms.Key = operations.key

        # -- subscribers ---------------------------------------------------------------------
        self.subscription_dead_letter_queue: sqs.Queue | None = None
        if emails or alert_queues or operations_subscribers:
            self.subscription_dead_letter_queue = EncryptedQueue(
                self,
                "SubscriptionDeadLetters",
                dead_letter_for="the SNS subscriptions' dead-letter queue for alerts and "
                "operations notifications SNS could not deliver to a subscriber",
            ).queue
            for email in emails:
                self.topic.add_subscription(
                    subscriptions.EmailSubscription(
                        email, dead_letter_queue=self.subscription_dead_letter_queue
                    )
                )
            for queue in alert_queues:
                self.topic.add_subscription(
                    subscriptions.SqsSubscription(
                        queue, dead_letter_queue=self.subscription_dead_letter_queue
                    )
                )
            for email in operations_subscribers:
                self.operations_topic.add_subscription(
                    subscriptions.EmailSubscription(
                        email, dead_letter_queue=self.subscription_dead_letter_queue
                    )
                )

        # -- schedule ------------------------------------------------------------------------
        self.schedule: scheduler.Schedule = MonitorSchedule(
            self,
            "Scan",
            target_function=self.function,
            schedule_expression=schedule_expression,
            time_zone=schedule_time_zone,
            dead_letter_queue=self.schedule_dead_letter_queue,
        ).schedule

        # -- alarms and dashboard ----------------------------------------------------------
        metrics = MonitorMetrics(self.monitor_name)
        self.alarms: dict[str, cloudwatch.Alarm] = MonitorAlarms(
            self,
            "Alarms",
            topic=self.operations_topic,
            metrics=metrics,
            function=self.function,
            function_failure_queue=self.failure_queue,
            schedule_dead_letter_queue=self.schedule_dead_letter_queue,
            subscription_dead_letter_queue=self.subscription_dead_letter_queue,
            heartbeat=heartbeat,
            alarm_on_new_failures=alarm_on_new_failures,
        ).alarms
        queues = [
            ("Function failures", self.failure_queue),
            ("Schedule dead letters", self.schedule_dead_letter_queue),
        ]
        if self.subscription_dead_letter_queue is not None:
            queues.append(("Subscription dead letters", self.subscription_dead_letter_queue))
        self.dashboard: cloudwatch.Dashboard = MonitorDashboard(
            self,
            "Dashboard",
            dashboard_name=self.dashboard_name,
            metrics=metrics,
            function=self.function,
            queues=queues,
            alarms=list(self.alarms.values()),
            full_inventory=full_inventory,
        ).dashboard

        # -- status at deploy time -----------------------------------------------------------
        self._status = AttachmentStatus(
            self,
            "AttachmentStatus",
            service_function=self.function,
            function_timeout=timeout,
            refresh_token=new_refresh_token() if refresh_token is None else refresh_token,
            registration_attachment_ids=registration_attachment_ids,
            attachment_statuses=attachment_statuses,
            fail_on_statuses=fail_on_statuses,
        )
        self.status: CustomResource = self._status.resource
        # The attachment ids reported one by one (ARNs given are reduced to their id).
        self.registration_attachment_ids: tuple[str, ...] = self._status.registration_attachment_ids
        _check_status_output_names(self.registration_attachment_ids)

        self.parameters: dict[str, ssm.StringParameter] = {}
        if create_parameters:
            self._add_parameters()
        if create_outputs:
            self._add_outputs()

    # -- the status attributes (Fn::GetAtt tokens) -------------------------------------------

    @property
    def total_count(self) -> str:
        """Attachments counted (only the watched ids when ids are given)."""
        return self._status.attribute("TotalCount")

    @property
    def upload_in_progress_count(self) -> str:
        return self._status.attribute("UploadInProgressCount")

    @property
    def upload_complete_count(self) -> str:
        return self._status.attribute("UploadCompleteCount")

    @property
    def upload_failed_count(self) -> str:
        return self._status.attribute("UploadFailedCount")

    @property
    def deleted_count(self) -> str:
        return self._status.attribute("DeletedCount")

    @property
    def failed_attachment_ids(self) -> str:
        """Comma-separated ids of failed uploads; `none` when there are none (never empty)."""
        return self._status.attribute(FAILED_IDS_ATTRIBUTE)

    @property
    def failed_attachment_ids_truncated(self) -> str:
        """`true` when FailedAttachmentIds was cut to fit the custom resource's answer."""
        return self._status.attribute(FAILED_IDS_TRUNCATED_ATTRIBUTE)

    @property
    def scanned_at(self) -> str:
        """When the status was read (ISO 8601 UTC)."""
        return self._status.attribute(SCANNED_AT_ATTRIBUTE)

    def status_of(self, id_or_arn: str) -> str:
        """Status of one watched attachment (id or ARN); ValueError if it is not watched."""
        return self._status.status_of(id_or_arn)

    # -- names other stacks use -------------------------------------------------------------

    def export_name(self, output: str) -> str:
        """Export name of a stable output: `AlertTopicArn`, `OperationsTopicArn`,
        `FunctionArn`, `StateTableName`."""
        if output not in EXPORTED_OUTPUTS:
            raise ValueError(
                f"export_name: only {list(EXPORTED_OUTPUTS)} are exported (stable values), "
                f"not {output!r}; read status values through parameter_name() instead"
            )
        return f"{self.export_prefix}-{self.output_prefix}{output}"

    def parameter_name(self, attribute: str) -> str:
        """SSM parameter holding an attribute: `UploadFailedCount`, ..., or `Status.<id>`
        (an ARN works too). Exists when `create_parameters` is on."""
        if attribute.startswith(STATUS_ATTRIBUTE_PREFIX):
            attachment_id = attachment_id_of(attribute[len(STATUS_ATTRIBUTE_PREFIX) :])
            if attachment_id not in self.registration_attachment_ids:
                raise ValueError(
                    f"parameter_name: {attachment_id!r} is not in registration_attachment_ids"
                )
            return f"{self.parameter_path}/{STATUS_PARAMETER_FOLDER}/{attachment_id}"
        if attribute not in SUMMARY_ATTRIBUTES:
            raise ValueError(
                f"parameter_name: unknown attribute {attribute!r}; expected one of "
                f"{list(SUMMARY_ATTRIBUTES)} or Status.<id>"
            )
        return f"{self.parameter_path}/{attribute}"

    # -- outputs and parameters -------------------------------------------------------------

    def _status_values(self) -> list[tuple[str, str, str]]:
        """(attribute, construct-safe name, description) of every status value."""
        values = [(name, name, f"{name} at the last deploy") for name in COUNT_ATTRIBUTES] + [
            (
                FAILED_IDS_ATTRIBUTE,
                FAILED_IDS_ATTRIBUTE,
                "Comma-separated ids of failed uploads at the last deploy ('none' if none)",
            ),
            (
                FAILED_IDS_TRUNCATED_ATTRIBUTE,
                FAILED_IDS_TRUNCATED_ATTRIBUTE,
                "'true' if FailedAttachmentIds was cut to fit",
            ),
            (SCANNED_AT_ATTRIBUTE, SCANNED_AT_ATTRIBUTE, "When the status was read (UTC)"),
        ]
        for attachment_id in self.registration_attachment_ids:
            values.append(
                (
                    STATUS_ATTRIBUTE_PREFIX + attachment_id,
                    STATUS_OUTPUT_PREFIX + _alphanumeric(attachment_id),
                    f"Status of {attachment_id} at the last deploy",
                )
            )
        return values

    def _add_parameters(self) -> None:
        for attribute, name, description in self._status_values():
            self.parameters[attribute] = ssm.StringParameter(
                self,
                f"{name}Parameter",
                parameter_name=self.parameter_name(attribute),
                string_value=self._status.attribute(attribute),
                description=f"Registration attachment monitor: {description}",
            )

    def _add_outputs(self) -> None:
        stable = {
            "AlertTopicArn": (self.topic.topic_arn, "SNS topic the alerts are published to"),
            "OperationsTopicArn": (
                self.operations_topic.topic_arn,
                "SNS topic the monitor's CloudWatch alarms notify",
            ),
            "FunctionArn": (self.function.function_arn, "Monitor function ARN"),
            "StateTableName": (self.table.table_name, "Alert state table name"),
        }
        for name, (value, description) in stable.items():
            self._output(name, value, description, export=True)
        self._output(
            "FunctionRoleArn",
            self.role.role_arn,
            "Role of the monitor function (the principal a central topic must allow)",
        )
        for attribute, name, description in self._status_values():
            self._output(name, self._status.attribute(attribute), description)

    def _output(self, name: str, value: str, description: str, *, export: bool = False) -> None:
        output = CfnOutput(
            self,
            f"{name}Output",
            value=value,
            description=description,
            export_name=self.export_name(name) if export else None,
        )
        # Documented, stable output names: `<output_prefix><name>` in the stack's Outputs.
        output.override_logical_id(self.output_prefix + name)


def _alphanumeric(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", value)


def _check_status_output_names(ids: Sequence[str]) -> None:
    seen: dict[str, str] = {}
    for attachment_id in ids:
        name = _alphanumeric(attachment_id)
        if name in seen:
            raise ValueError(
                f"registration_attachment_ids: {seen[name]!r} and {attachment_id!r} would share "
                f"the output name {STATUS_OUTPUT_PREFIX}{name}"
            )
        seen[name] = attachment_id


def _check_schedule_expression(expression: str) -> None:
    if not is_schedule_expression(expression):
        raise ValueError(
            "schedule_expression must be an EventBridge Scheduler rate or cron expression, "
            f"e.g. 'rate(1 hour)' or 'cron(0 8 * * ? *)', got {expression!r}"
        )


def _check_int(prop: str, value: int, *, minimum: int, maximum: int | None = None) -> None:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ValueError(f"{prop} must be an integer {bounds}, got {value!r}")


def _check_timeout(timeout: Duration) -> None:
    seconds = timeout.to_seconds()
    if not _MIN_TIMEOUT.to_seconds() <= seconds <= _MAX_TIMEOUT.to_seconds():
        raise ValueError(
            f"timeout must be from 30 seconds to 15 minutes, got {seconds} s (the custom "
            "resource's watchdog answers 5 s before it)"
        )


def _check_emails(prop: str, emails: Sequence[str]) -> tuple[str, ...]:
    if isinstance(emails, str):
        raise ValueError(f"{prop} must be a list of addresses, not a string")
    for email in emails:
        if not isinstance(email, str) or not (
            Token.is_unresolved(email) or EMAIL_ADDRESS.fullmatch(email)
        ):
            raise ValueError(f"{prop}: {email!r} is not an email address")
    return tuple(dict.fromkeys(emails))


def _stuck_upload_minutes(after: Duration | None) -> int:
    """STUCK_UPLOAD_MINUTES: whole minutes, 0 = off."""
    if after is None:
        return 0
    if not isinstance(after, Duration):
        raise ValueError(f"stuck_upload_after must be a Duration or None, got {after!r}")
    seconds = after.to_seconds()
    if seconds < 0 or seconds % 60 or seconds / 60 > MAX_STUCK_UPLOAD_MINUTES:
        raise ValueError(
            f"stuck_upload_after must be whole minutes from 0 (off) to "
            f"{MAX_STUCK_UPLOAD_MINUTES} minutes, got {seconds:g} s"
        )
    return int(seconds // 60)


def _monitor_name(monitor: Construct, name: str | None, output_prefix: str) -> str:
    """The given name, or the stack name (`-<output_prefix>` added); unique in the stack."""
    stack = Stack.of(monitor)
    if name is None:
        name = stack.stack_name + (f"-{output_prefix}" if output_prefix else "")
    if not Token.is_unresolved(name) and not _MONITOR_NAME.fullmatch(name):
        raise ValueError(
            "monitor_name: 1 to 200 letters, digits, '-' or '_' (it starts the alarm and "
            f"dashboard names), got {name!r}"
        )
    for other in stack.node.find_all():
        if (
            isinstance(other, RegistrationAttachmentMonitor)
            and other is not monitor
            and getattr(other, "monitor_name", None) == name
        ):
            raise ValueError(
                f"monitor_name {name!r} is already used by {other.node.path}: two monitors in "
                "one stack need their own output_prefix (or monitor_name), or their metrics, "
                "alarms and dashboards would be the same"
            )
    return name


def _dashboard_name(monitor: Construct, monitor_name: str, name: str | None) -> str:
    """The given name, or the monitor name and the region: dashboards are global to the
    account, so a stack deployed to two regions must not name two the same. A monitor name
    that already holds the stack's (known) region, as `<stackName>-<region>` stacks do,
    is used as it is."""
    if name is None:
        region = Stack.of(monitor).region
        if not Token.is_unresolved(region) and region in monitor_name:
            return monitor_name
        return f"{monitor_name}-{region}"
    if not Token.is_unresolved(name) and not _DASHBOARD_NAME.fullmatch(name):
        raise ValueError(f"dashboard_name: 1 to 255 letters, digits, '-' or '_', got {name!r}")
    return name


# Exported for callers that want the names without building the construct.
__all__ = [
    "DEFAULT_ALERT_REMINDER_HOURS",
    "DEFAULT_MAX_ALERTS_PER_RUN",
    "DEFAULT_SCHEDULE_EXPRESSION",
    "DEFAULT_STUCK_UPLOAD_MINUTES",
    "EXPORTED_OUTPUTS",
    "PARAMETER_ROOT",
    "RegistrationAttachmentMonitor",
    "is_schedule_expression",
    "new_refresh_token",
]
