"""The SNS topic alerts are published to, encrypted with a customer-managed KMS key."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


class AlertTopic(Construct):
    """SNS topic + its KMS key (rotation on). The topic denies requests without TLS.

    The key policy lets CloudWatch alarms publish to the topic (they encrypt with the
    topic's key, as `cloudwatch.amazonaws.com`), so alarms can share the alert channel.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        display_name: str = "Registration attachment alerts",
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the registration attachment monitor's alert topic",
            enable_key_rotation=True,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublishToTheTopic",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
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
