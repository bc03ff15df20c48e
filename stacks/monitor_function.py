"""The monitor Lambda: its log group, Powertools layer, configuration and permissions."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import lambda_defaults as defaults
from stacks.lambda_code import HANDLER, lambda_code

# Asynchronous invocations (the schedule) that fail are retried, then sent to the queue.
ASYNC_RETRY_ATTEMPTS: Final = 2
ASYNC_MAX_EVENT_AGE: Final = Duration.hours(6)


class MonitorFunction(Construct):
    """One function for the scheduled scan and the custom resource.

    Least privilege: `sms-voice:DescribeRegistrationAttachments`, plus what CDK grants for
    the alert topic (and its key), the state table, the failure queue, logs and X-Ray.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alert_topic: sns.ITopic,
        state_table: dynamodb.ITable,
        failure_queue: sqs.IQueue,
        max_alerts_per_run: int,
        alert_reminder_hours: int,
        full_inventory: bool = False,
        async_retry_attempts: int = ASYNC_RETRY_ATTEMPTS,
        async_max_event_age: Duration = ASYNC_MAX_EVENT_AGE,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "LogGroup", retention=defaults.LOG_RETENTION)
        self.function = lambda_.Function(
            self,
            "Function",
            description="Watches AWS End User Messaging SMS registration attachments",
            runtime=defaults.RUNTIME,
            architecture=defaults.ARCHITECTURE,
            handler=HANDLER,
            code=lambda_code(),
            memory_size=defaults.MEMORY_SIZE_MB,
            timeout=defaults.TIMEOUT,
            tracing=defaults.TRACING,
            logging_format=defaults.LOGGING_FORMAT,
            log_group=self.log_group,
            layers=[
                lambda_.LayerVersion.from_layer_version_arn(
                    self, "Powertools", defaults.powertools_layer_arn(self)
                )
            ],
            environment={
                "ALERT_TOPIC_ARN": alert_topic.topic_arn,
                "STATE_TABLE_NAME": state_table.table_name,
                "MAX_ALERTS_PER_RUN": str(max_alerts_per_run),
                "ALERT_REMINDER_HOURS": str(alert_reminder_hours),
                "FULL_INVENTORY": "true" if full_inventory else "false",
                **defaults.powertools_environment(),
            },
            # Asynchronous invocations (the schedule): a scan that fails after delivery is
            # retried by Lambda, then lands in the failure queue. The custom resource path
            # never raises, so it never reaches this queue.
            retry_attempts=async_retry_attempts,
            max_event_age=async_max_event_age,
            on_failure=destinations.SqsDestination(failure_queue),
        )
        # Listing attachments is not narrowed by resource: without ids, the call is not
        # about any one registration-attachment ARN, so the resource is "*".
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sms-voice:DescribeRegistrationAttachments"],
                resources=["*"],
            )
        )
        alert_topic.grant_publish(self.function)  # sns:Publish (+ the key if encrypted)
        state_table.grant_read_write_data(self.function)
