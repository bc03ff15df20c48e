"""One botocore configuration for every client: explicit retry mode, bounded attempts
and timeouts, so a slow or failing service can never hold the function to its deadline."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config as BotocoreConfig

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_pinpoint_sms_voice_v2 import PinpointSMSVoiceV2Client
    from mypy_boto3_sns import SNSClient

#: Standard mode retries throttling and 5xx with backoff; the other errors fail fast.
BOTOCORE_CONFIG = BotocoreConfig(
    retries={"mode": "standard", "total_max_attempts": 5},  # attempts, not retries
    connect_timeout=3,
    read_timeout=10,
    tcp_keepalive=True,
)


def sms_client(region: str) -> PinpointSMSVoiceV2Client:
    return boto3.client("pinpoint-sms-voice-v2", region_name=region, config=BOTOCORE_CONFIG)


def sns_client(region: str) -> SNSClient:
    return boto3.client("sns", region_name=region, config=BOTOCORE_CONFIG)


def dynamodb_client(region: str) -> DynamoDBClient:
    return boto3.client("dynamodb", region_name=region, config=BOTOCORE_CONFIG)
