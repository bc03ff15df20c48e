"""An SQS queue for failed deliveries: encrypted at rest, TLS-only, messages kept 14 days."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_sqs as sqs
from constructs import Construct

DEFAULT_RETENTION: Final = Duration.days(14)  # the SQS maximum


class EncryptedQueue(Construct):
    """A dead-letter style queue (scheduler DLQ, Lambda on-failure destination).

    SQS-managed SSE rather than a KMS key: the senders (EventBridge Scheduler's role, the
    function's role) then need no key grants.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
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
