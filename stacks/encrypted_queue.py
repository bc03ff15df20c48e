"""An SQS queue for failed deliveries: encrypted at rest, TLS-only, messages kept 14 days."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.nag import acknowledge

DEFAULT_RETENTION: Final = Duration.days(14)  # the SQS maximum


class EncryptedQueue(Construct):
    """A dead-letter style queue (scheduler DLQ, Lambda on-failure destination, SNS
    subscription DLQ): the last stop of a failed delivery, read by people.

    SQS-managed SSE rather than a KMS key: the senders (EventBridge Scheduler's role, the
    function's role, SNS) then need no key grants.

    `dead_letter_for` says who sends here; it goes into the reasons of the two cdk-nag
    findings every such queue raises (cdk-nag only recognises a queue as a dead-letter queue
    when another queue's redrive policy or a function's DeadLetterConfig names it).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dead_letter_for: str,
        retention_period: Duration = DEFAULT_RETENTION,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=retention_period,
            removal_policy=removal_policy,
        )
        resource = self.queue.node.default_child
        assert resource is not None
        acknowledge(
            resource,
            "AwsSolutions-SQS3",
            f"This queue is itself a dead-letter queue: {dead_letter_for}. cdk-nag recognises "
            "only redrive policies and function DeadLetterConfigs as DLQ use.",
        )
        acknowledge(
            resource,
            "Serverless-SQSRedrivePolicy",
            f"This queue is the last stop of failed deliveries ({dead_letter_for}); a redrive "
            "policy would move them out of sight. Messages are kept 14 days (the SQS maximum) "
            "for inspection and redrive.",
        )
