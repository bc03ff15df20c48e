"""The AWS side of a simulated account, on moto: the alert topic, an SQS queue subscribed
to it (how tests and the demo read what was published) and the alert-state table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3


@dataclass(frozen=True)
class AlertAccount:
    sns: Any
    sqs: Any
    dynamodb: Any
    topic_arn: str
    queue_url: str
    table_name: str

    @classmethod
    def create(cls, *, region: str, table_name: str) -> AlertAccount:
        sns = boto3.client("sns", region_name=region)
        sqs = boto3.client("sqs", region_name=region)
        dynamodb = boto3.client("dynamodb", region_name=region)
        topic_arn = sns.create_topic(Name="attachment-alerts")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="alert-reader")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        dynamodb.create_table(
            TableName=table_name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        return cls(sns, sqs, dynamodb, topic_arn, queue_url, table_name)

    def received_alerts(self) -> list[dict[str, Any]]:
        """Drains the queue: each alert's machine JSON, plus ``_subject`` and
        ``_attributes`` (the SNS subject and message attributes)."""
        received: list[dict[str, Any]] = []
        while messages := self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", []):
            for message in messages:
                envelope = json.loads(message["Body"])
                alert = json.loads(envelope["Message"])
                alert["_subject"] = envelope.get("Subject")
                alert["_attributes"] = {
                    name: value["Value"]
                    for name, value in envelope.get("MessageAttributes", {}).items()
                }
                received.append(alert)
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return received
