"""The monitor Lambda: its role, log group, Powertools layer, configuration and permissions."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import lambda_defaults as defaults
from stacks.lambda_code import HANDLER, lambda_code
from stacks.nag import acknowledge, acknowledge_wildcard

# Asynchronous invocations (the schedule) that fail are retried, then sent to the queue.
ASYNC_RETRY_ATTEMPTS: Final = 2
ASYNC_MAX_EVENT_AGE: Final = Duration.hours(6)
DESCRIBE_ACTION: Final = "sms-voice:DescribeRegistrationAttachments"


class MonitorFunction(Construct):
    """One function for the scheduled scan and the custom resource.

    Least privilege: its own role (no managed policy) with
    `sms-voice:DescribeRegistrationAttachments`, write access to its own log group, X-Ray,
    the state table and the failure queue; publishing to the alert topic is granted by the
    caller (`stacks.alert_topic.AlertTopic.allow_publisher` or `ITopic.grant_publish`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alert_topic_arn: str,
        state_table: dynamodb.ITable,
        failure_queue: sqs.IQueue,
        max_alerts_per_run: int,
        alert_reminder_hours: int,
        monitor_name: str,
        stuck_upload_minutes: int,
        full_inventory: bool = False,
        memory_size: int = defaults.MEMORY_SIZE_MB,
        timeout: Duration = defaults.TIMEOUT,
        log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
        async_retry_attempts: int = ASYNC_RETRY_ATTEMPTS,
        async_max_event_age: Duration = ASYNC_MAX_EVENT_AGE,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "LogGroup", retention=log_retention)
        # An explicit role instead of the one Lambda would get with the
        # AWSLambdaBasicExecutionRole managed policy (logs on every log group): this one
        # writes to its own log group only.
        self.role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Registration attachment monitor function",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description="Watches AWS End User Messaging SMS registration attachments",
            runtime=defaults.RUNTIME,
            architecture=defaults.ARCHITECTURE,
            handler=HANDLER,
            code=lambda_code(),
            role=self.role,
            memory_size=memory_size,
            timeout=timeout,
            tracing=defaults.TRACING,
            logging_format=defaults.LOGGING_FORMAT,
            log_group=self.log_group,
            layers=[
                lambda_.LayerVersion.from_layer_version_arn(
                    self, "Powertools", defaults.powertools_layer_arn(self)
                )
            ],
            environment={
                "ALERT_TOPIC_ARN": alert_topic_arn,
                "STATE_TABLE_NAME": state_table.table_name,
                "MAX_ALERTS_PER_RUN": str(max_alerts_per_run),
                "ALERT_REMINDER_HOURS": str(alert_reminder_hours),
                "FULL_INVENTORY": "true" if full_inventory else "false",
                "STUCK_UPLOAD_MINUTES": str(stuck_upload_minutes),
                # The `Monitor` dimension of the function's metrics (the alarms read it).
                "MONITOR_NAME": monitor_name,
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
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=[DESCRIBE_ACTION], resources=["*"])
        )
        state_table.grant_read_write_data(self.role)

        function_resource = self.function.node.default_child
        assert function_resource is not None
        acknowledge(
            function_resource,
            "Serverless-LambdaDLQ",
            "Failed asynchronous invocations go to an on-failure destination (an encrypted SQS "
            "queue, AWS::Lambda::EventInvokeConfig), which records the request together with "
            "the error and response (a DLQ keeps the event only); a DLQ in addition would only "
            "hold a second copy of each failure.",
        )

    def acknowledge_policy_findings(self, *, key_grant: bool) -> None:
        """Acknowledge the wildcards of the role's policy, once every grant is in.

        `key_grant`: the policy holds CDK's grant on the alert topic's KMS key.
        """
        policy = self.role.node.try_find_child("DefaultPolicy")
        assert policy is not None, "the role's policy is created by the grants above"
        resource = policy.node.default_child
        assert resource is not None
        acknowledge_wildcard(
            resource,
            "Resource::*",
            f"Two actions need '*': {DESCRIBE_ACTION} lists every registration attachment of "
            "the account and region (a read-only call that names no single attachment ARN), "
            "and xray:PutTraceSegments / xray:PutTelemetryRecords (X-Ray has no resource-level "
            "permissions; CDK adds them for active tracing).",
        )
        if key_grant:
            acknowledge_wildcard(
                resource,
                "Action::kms:GenerateDataKey*",
                "CDK's grant to publish to the KMS-encrypted alert topic: kms:GenerateDataKey* "
                "(GenerateDataKey and GenerateDataKeyWithoutPlaintext) on the topic's key ARN "
                "only, which SNS needs to encrypt each published message.",
            )
