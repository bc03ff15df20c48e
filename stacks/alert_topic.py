"""An SNS topic for alerts (or alarm notifications), encrypted with a customer-managed KMS key."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

CLOUDWATCH: str = "cloudwatch.amazonaws.com"


class AlertTopic(Construct):
    """SNS topic + its KMS key (rotation on). The topic denies requests without TLS.

    Used for the alert topic and for the operations topic the alarms notify
    (`display_name`, `key_description` tell them apart).

    CloudWatch alarms of this account may publish to the topic (topic policy, limited to
    alarms of this account and region by `aws:SourceArn`/`aws:SourceAccount`) and use its key
    (key policy), so alarms can share the alert channel. `allow_publisher` names a
    publishing role in the key policy as well (the function's role).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        display_name: str = "Registration attachment alerts",
        key_description: str = "Encrypts the registration attachment monitor's alert topic",
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.key = kms.Key(
            self,
            "Key",
            description=key_description,
            enable_key_rotation=True,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublishToTheTopic",
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=display_name,
            master_key=self.key,
            enforce_ssl=True,
        )
        # The topic policy CDK writes replaces SNS's default one, which let the account's
        # services publish; alarms need an explicit grant (confused-deputy safe).
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsOfThisAccountToPublish",
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )

    def allow_publisher(self, role: iam.IRole) -> None:
        """Publish permission for `role`: IAM (CDK's grant) and, explicitly, the key policy."""
        self.topic.grant_publish(role)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowTheMonitorFunctionToPublish",
                principals=[iam.ArnPrincipal(role.role_arn)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
            )
        )
