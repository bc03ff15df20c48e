"""The registration attachment monitor stack: composes the constructs, adds the outputs."""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from stacks import lambda_defaults as defaults
from stacks.alert_topic import AlertTopic
from stacks.attachment_status import COUNT_ATTRIBUTES, AttachmentStatus
from stacks.encrypted_queue import EncryptedQueue
from stacks.monitor_function import MonitorFunction
from stacks.monitor_schedule import MonitorSchedule
from stacks.settings import MonitorSettings
from stacks.state_table import StateTable


class RegistrationAttachmentMonitorStack(Stack):
    """Alert topic, state table, function, schedule, custom resource and outputs.

    Outputs: the custom resource's counts and failed ids are outputs but never exports (an
    export another stack imports cannot change, and these change on every deploy). Only
    stable values are exported, as `<stack name>-<output name>`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: MonitorSettings,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)

        self.alerts = AlertTopic(self, "Alerts")
        self.state = StateTable(self, "State")
        self.function_failures = EncryptedQueue(self, "FunctionFailures")
        self.schedule_dead_letters = EncryptedQueue(self, "ScheduleDeadLetters")
        self.monitor = MonitorFunction(
            self,
            "Monitor",
            alert_topic=self.alerts.topic,
            state_table=self.state.table,
            failure_queue=self.function_failures.queue,
            max_alerts_per_run=settings.max_alerts_per_run,
            alert_reminder_hours=settings.alert_reminder_hours,
            full_inventory=settings.full_inventory,
        )
        self.schedule = MonitorSchedule(
            self,
            "Scan",
            target_function=self.monitor.function,
            schedule_expression=settings.schedule_expression,
            dead_letter_queue=self.schedule_dead_letters.queue,
        )
        self.attachment_status = AttachmentStatus(
            self,
            "AttachmentStatus",
            service_function=self.monitor.function,
            function_timeout=defaults.TIMEOUT,
            refresh_token=settings.refresh_token,
            registration_attachment_ids=settings.registration_attachment_ids,
            attachment_statuses=settings.attachment_statuses,
            fail_on_statuses=settings.fail_on_statuses,
        )
        self._add_outputs()

    def _add_outputs(self) -> None:
        self._export("AlertTopicArn", self.alerts.topic.topic_arn, "Alert topic ARN")
        self._export("FunctionArn", self.monitor.function.function_arn, "Monitor function ARN")
        self._export("StateTableName", self.state.table.table_name, "Alert state table name")

        status = self.attachment_status
        for name in COUNT_ATTRIBUTES:
            CfnOutput(self, name, value=status.attribute(name), description=f"{name} at deploy")
        CfnOutput(
            self,
            "FailedAttachmentIds",
            value=status.attribute("FailedAttachmentIds"),
            description="Comma-separated ids of failed uploads at deploy ('none' if none)",
        )
        CfnOutput(
            self,
            "FailedAttachmentIdsTruncated",
            value=status.attribute("FailedAttachmentIdsTruncated"),
            description="'true' if FailedAttachmentIds was cut to fit",
        )
        for attachment_id in status.registration_attachment_ids:
            CfnOutput(
                self,
                "AttachmentStatus" + re.sub(r"[^A-Za-z0-9]", "", attachment_id),
                value=status.attribute(f"Status.{attachment_id}"),
                description=f"Status of {attachment_id} at deploy",
            )

    def _export(self, name: str, value: str, description: str) -> None:
        CfnOutput(
            self,
            name,
            value=value,
            description=description,
            export_name=f"{self.stack_name}-{name}",
        )
