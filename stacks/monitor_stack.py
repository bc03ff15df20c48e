"""The registration attachment monitor stack: one `RegistrationAttachmentMonitor`, from settings."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.registration_attachment_monitor import RegistrationAttachmentMonitor
from stacks.settings import MonitorSettings

# CloudWatch Logs retention in days -> the CDK enum member (settings.LOG_RETENTION_DAYS).
_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}
_REMOVAL = {"retain": RemovalPolicy.RETAIN, "destroy": RemovalPolicy.DESTROY}


class RegistrationAttachmentMonitorStack(Stack):
    """Composes one `RegistrationAttachmentMonitor` (outputs, exports and SSM parameters
    included) from `MonitorSettings`; pass `env` for an account/region-specific stack."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: MonitorSettings,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alert_topic: sns.ITopic | None = None
        if settings.alert_topic_arn is not None:
            alert_topic = sns.Topic.from_topic_attributes(
                self,
                "ExistingAlertTopic",
                topic_arn=settings.alert_topic_arn,
                key_arn=settings.alert_topic_key_arn,
            )
        self.monitor = RegistrationAttachmentMonitor(
            self,
            "Monitor",
            schedule_expression=settings.schedule_expression,
            schedule_time_zone=(
                TimeZone.of(settings.schedule_time_zone) if settings.schedule_time_zone else None
            ),
            max_alerts_per_run=settings.max_alerts_per_run,
            alert_reminder_hours=settings.alert_reminder_hours,
            full_inventory=settings.full_inventory,
            stuck_upload_after=(
                Duration.minutes(settings.stuck_upload_minutes)
                if settings.stuck_upload_minutes
                else None
            ),
            registration_attachment_ids=settings.registration_attachment_ids,
            attachment_statuses=settings.attachment_statuses,
            fail_on_statuses=settings.fail_on_statuses,
            refresh_token=settings.refresh_token,
            log_retention=_RETENTION[settings.log_retention_days],
            alert_topic=alert_topic,
            alert_emails=settings.alert_emails,
            table_removal_policy=_REMOVAL[settings.state_table_removal_policy],
            operations_emails=settings.operations_emails,
            heartbeat_window=(
                None
                if settings.heartbeat_window_minutes is None
                else Duration.minutes(settings.heartbeat_window_minutes)
            ),
            alarm_on_new_failures=settings.alarm_on_new_failures,
        )
