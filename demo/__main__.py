"""Runs the real handler against a simulated account, entirely on loopback.

The in-repo fake SMS API is seeded with a few hundred attachments (some failed, some
stuck uploading); moto's server plays SNS, SQS and DynamoDB; a local server plays
CloudFormation's ResponseURL. No AWS account, no network beyond 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

REGION = "us-east-1"
SEED = {"UPLOAD_COMPLETE": 240, "UPLOAD_FAILED": 12, "UPLOAD_IN_PROGRESS": 30, "DELETED": 13}
STUCK = 5
SCHEDULER_EVENT = {"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": "{}"}


def main() -> int:
    # Powertools reads its settings at import: set them before the handler is imported.
    os.environ |= {
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "registration-attachment-monitor",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_NAMESPACE": "RegistrationAttachmentMonitorDemo",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "STATE_TABLE_NAME": "demo-alert-state",
    }
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log

    from lambda_src import handler
    from tests.fakes.fake_sms_api import FakeSmsApi
    from tests.support.response_url import ResponseUrlServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    with FakeSmsApi(region=REGION) as api:
        responses = ResponseUrlServer().start()
        try:
            os.environ |= {
                f"AWS_ENDPOINT_URL_{service}": f"http://{host}:{port}"
                for service in ("SNS", "SQS", "DYNAMODB")
            }
            os.environ["AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2"] = api.endpoint_url
            read_alerts = _account()
            api.seed(SEED)
            api.add(
                "UPLOAD_IN_PROGRESS",
                count=STUCK,
                created=datetime.now(UTC) - timedelta(hours=3),
            )
            total = sum(SEED.values()) + STUCK
            print(f"Simulated account: {total} registration attachments {_counts(SEED)}")
            print(f"  plus {STUCK} uploads in progress for 3 hours (stuck)\n")

            print("== Scheduled scan, first run")
            _print_summary(_invoke(handler, SCHEDULER_EVENT))
            for alert in read_alerts():
                print(f"  alert  {alert['kind']:<26} {alert['registrationAttachmentId']}")
            print(f"  SMS API calls: {api.call_count} (server-side filter, 100 per page)\n")

            print("== Scheduled scan, second run (nothing new)")
            _print_summary(_invoke(handler, SCHEDULER_EVENT))
            print(f"  alerts published: {len(read_alerts())}\n")

            print("== CloudFormation Create of the custom resource")
            event = _create_event(responses.url())
            _invoke(handler, event)
            [put] = responses.puts
            content_type = put.headers["content-type"]
            print(f"  PUT to ResponseURL: {len(put.body)} bytes, Content-Type {content_type!r}")
            answer = put.document
            answer["Data"]["FailedAttachmentIds"] = _shorten(answer["Data"]["FailedAttachmentIds"])
            print(json.dumps(answer, indent=2, ensure_ascii=False))
        finally:
            responses.stop()
            moto.stop()
    return 0


def _invoke(handler: Any, event: dict[str, Any]) -> Any:
    """Calls the handler as Lambda would, keeping its EMF metric lines off the screen."""
    from tests.support.lambda_context import FakeLambdaContext

    with contextlib.redirect_stdout(io.StringIO()):
        return handler.lambda_handler(event, FakeLambdaContext())


def _account() -> Any:
    """Creates the topic, the subscribed queue and the table; returns a queue reader."""
    import boto3

    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    topic_arn = sns.create_topic(Name="attachment-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="alert-subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    dynamodb.create_table(
        TableName=os.environ["STATE_TABLE_NAME"],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    os.environ["ALERT_TOPIC_ARN"] = topic_arn

    def read_alerts() -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = []
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                alerts.append(json.loads(json.loads(message["Body"])["Message"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return sorted(alerts, key=lambda a: (a["kind"], a["registrationAttachmentId"]))

    return read_alerts


def _create_event(response_url: str) -> dict[str, Any]:
    return {
        "RequestType": "Create",
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/demo/1",
        "RequestId": "demo-request-1",
        "LogicalResourceId": "AttachmentStatus",
        "ResourceType": "Custom::RegistrationAttachmentStatus",
        "ResourceProperties": {"RefreshToken": "1764806400000"},
    }


def _print_summary(summary: dict[str, Any]) -> None:
    keys = ("attachments_seen", "failed_found", "stuck_found", "already_alerted", "alerts_sent")
    print("  " + ", ".join(f"{key}={summary[key]}" for key in keys))


def _counts(seed: dict[str, int]) -> str:
    return "(" + ", ".join(f"{count} {status}" for status, count in seed.items()) + ")"


def _shorten(ids: str) -> str:
    parts = ids.split(",")
    return ",".join(parts[:2]) + (f",… ({len(parts)} ids)" if len(parts) > 2 else "")


if __name__ == "__main__":
    sys.exit(main())
