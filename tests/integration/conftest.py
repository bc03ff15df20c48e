"""Integration fixtures: the real handler against loopback services only.

* the in-repo fake of the SMS API (real HTTP, so botocore serialization, pagination and
  retries run for real),
* moto's server for SNS, SQS and DynamoDB (an SQS queue subscribed to the alert topic is
  how tests read what was sent),
* a local ResponseURL server recording CloudFormation answers.

Clients find them through ``AWS_ENDPOINT_URL_<SERVICE>``, so the Lambda code has no
test-only switches.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from lambda_src import handler
from tests.fakes.fake_sms_api import FakeSmsApi
from tests.support.alert_account import AlertAccount
from tests.support.lambda_context import FakeLambdaContext
from tests.support.response_url import ResponseUrlServer

REGION = "us-east-1"
TABLE = "attachment-alert-state"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def fake_api_server() -> Iterator[FakeSmsApi]:
    with FakeSmsApi(region=REGION) as fake:
        yield fake


@pytest.fixture(scope="session")
def response_server() -> Iterator[ResponseUrlServer]:
    server = ResponseUrlServer().start()
    yield server
    server.stop()


@dataclass
class World:
    """The simulated account one test runs against."""

    api: FakeSmsApi
    responses: ResponseUrlServer
    account: AlertAccount
    topic_arn: str
    queue_url: str
    sqs: Any
    dynamodb: Any
    sns: Any

    def invoke(self, event: Any, *, seconds: float = 120.0) -> Any:
        return handler.lambda_handler(event, FakeLambdaContext(seconds))

    def alerts(self) -> list[dict[str, Any]]:
        """Drains the subscribed queue: each alert's machine JSON plus its attributes."""
        return self.account.received_alerts()

    def cfn_event(
        self,
        request_type: str,
        properties: dict[str, Any] | None = None,
        *,
        old_properties: dict[str, Any] | None = None,
        physical_id: str | None = None,
        request_id: str = "11111111-2222-3333-4444-555555555555",
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:monitor",
            "ResponseURL": self.responses.url(),
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/monitor/guid-1",
            "RequestId": request_id,
            "LogicalResourceId": "AttachmentStatus",
            "ResourceType": "Custom::RegistrationAttachmentStatus",
            "ResourceProperties": {
                "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:monitor",
                "RefreshToken": "1764806400000",
                **(properties or {}),
            },
        }
        if old_properties is not None:
            event["OldResourceProperties"] = old_properties
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        return event


@pytest.fixture
def world(
    monkeypatch: pytest.MonkeyPatch,
    moto_url: str,
    fake_api_server: FakeSmsApi,
    response_server: ResponseUrlServer,
) -> World:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL_SNS": moto_url,
        "AWS_ENDPOINT_URL_SQS": moto_url,
        "AWS_ENDPOINT_URL_DYNAMODB": moto_url,
        "AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2": fake_api_server.endpoint_url,
        "STATE_TABLE_NAME": TABLE,
    }.items():
        monkeypatch.setenv(name, value)
    for name in (
        "MAX_ALERTS_PER_RUN",
        "ALERT_REMINDER_HOURS",
        "FULL_INVENTORY",
        "STUCK_UPLOAD_MINUTES",
        "MONITOR_NAME",
    ):
        monkeypatch.delenv(name, raising=False)
    urllib.request.urlopen(
        urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    ).close()
    fake_api_server.reset()
    response_server.reset()

    account = AlertAccount.create(region=REGION, table_name=TABLE)
    monkeypatch.setenv("ALERT_TOPIC_ARN", account.topic_arn)
    # Configuration and clients are built once per execution environment: start afresh.
    monkeypatch.setattr(handler, "_runtime", None)
    return World(
        api=fake_api_server,
        responses=response_server,
        account=account,
        topic_arn=account.topic_arn,
        queue_url=account.queue_url,
        sqs=account.sqs,
        dynamodb=account.dynamodb,
        sns=account.sns,
    )
