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
    from tests.support.alert_account import AlertAccount
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
            account = AlertAccount.create(region=REGION, table_name=os.environ["STATE_TABLE_NAME"])
            os.environ["ALERT_TOPIC_ARN"] = account.topic_arn
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
            for alert in sorted(account.received_alerts(), key=_by_kind_and_id):
                print(f"  alert  {alert['kind']:<26} {alert['registrationAttachmentId']}")
            print(f"  SMS API calls: {api.call_count} (server-side filter, 100 per page)\n")

            print("== Scheduled scan, second run (nothing new)")
            _print_summary(_invoke(handler, SCHEDULER_EVENT))
            print(f"  alerts published: {len(account.received_alerts())}\n")

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


def _by_kind_and_id(alert: dict[str, Any]) -> tuple[str, str]:
    return alert["kind"], alert["registrationAttachmentId"]


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
