"""Lambda entry point: route the event, call one function, map the result.

Powertools gives structured JSON logs with the Lambda context, EMF metrics and X-Ray
traces (botocore only; see ``observability``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import custom_resource
from .alerts import AlertPublisher
from .config import Config, load_config
from .observability import tracer
from .routing import EventKind, InvalidEventError, classify, describe_invalid
from .scan import ScanIncompleteError, Scanner, ScanSummary
from .sms_api import AttachmentsApi
from .state import AlertState

logger = Logger()
metrics = Metrics()

#: An overlapping run must not take over a claim before this run could have finished.
_LEASE_MARGIN_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Runtime:
    """Configuration and adapters, built once per execution environment."""

    config: Config
    api: AttachmentsApi
    publisher: AlertPublisher
    state: AlertState


_runtime: Runtime | None = None


def runtime() -> Runtime:
    """Parses the configuration on first use — inside the caller's error boundary, so a
    bad value becomes a FAILED answer naming the variable, not an init crash."""
    global _runtime
    if _runtime is None:
        config = load_config(os.environ)
        _runtime = Runtime(
            config=config,
            api=AttachmentsApi(config.region),
            publisher=AlertPublisher(config.alert_topic_arn),
            state=AlertState(
                config.state_table_name, config.region, reminder_interval=config.reminder_interval
            ),
        )
    return _runtime


@logger.inject_lambda_context(log_event=False, clear_state=True)  # the event holds the ResponseURL
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    kind = classify(event)
    logger.append_keys(event_kind=kind.value)
    if kind is EventKind.CUSTOM_RESOURCE:
        logger.set_correlation_id(str(event.get("RequestId", context.aws_request_id)))
        logger.info("CloudFormation request", request_type=event.get("RequestType"))
        metrics.add_metric(name="CustomResourceRequests", unit=MetricUnit.Count, value=1)
        return custom_resource.handle(event, context, runtime)
    logger.set_correlation_id(context.aws_request_id)
    if kind is EventKind.INVALID:
        metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
        raise InvalidEventError(describe_invalid(event))
    return _scan(context)


def _scan(context: LambdaContext) -> dict[str, Any]:
    lease = math.ceil(context.get_remaining_time_in_millis() / 1000) + _LEASE_MARGIN_SECONDS
    current = runtime()
    metrics.set_default_dimensions(Monitor=current.config.monitor_name)
    scanner = Scanner(current.config, current.api, current.publisher, current.state)
    try:
        summary = scanner.run(lease_seconds=lease)
    except ScanIncompleteError as error:
        _record_metrics(error.summary, current.config, succeeded=False)
        logger.error("Scan incomplete", scan=error.summary.as_dict(), cause=str(error))
        raise
    _record_metrics(summary, current.config, succeeded=True)
    logger.info("Scan complete", scan=summary.as_dict())
    return summary.as_dict()


_STATUS_METRICS = {
    "UPLOAD_IN_PROGRESS": "AttachmentsUploadInProgress",
    "UPLOAD_COMPLETE": "AttachmentsUploadComplete",
    "UPLOAD_FAILED": "AttachmentsUploadFailed",
    "DELETED": "AttachmentsDeleted",
}


def _record_metrics(summary: ScanSummary, config: Config, *, succeeded: bool) -> None:
    """One EMF document per run; the stack's alarms and dashboard read these names."""
    count = MetricUnit.Count
    metrics.add_metric(name="AttachmentsSeen", unit=count, value=summary.attachments_seen)
    metrics.add_metric(name="FailedFound", unit=count, value=summary.failed_found)
    metrics.add_metric(name="StuckFound", unit=count, value=summary.stuck_found)
    metrics.add_metric(name="AlertsSent", unit=count, value=summary.alerts_sent)
    metrics.add_metric(name="AlertsInDigest", unit=count, value=summary.alerts_in_digest)
    metrics.add_metric(name="AlertsFailed", unit=count, value=summary.alerts_failed)
    metrics.add_metric(name="ScansSucceeded", unit=count, value=1 if succeeded else 0)
    metrics.add_metric(name="ScanDuration", unit=MetricUnit.Milliseconds, value=summary.duration_ms)
    if config.full_inventory:
        for status, name in _STATUS_METRICS.items():
            metrics.add_metric(name=name, unit=count, value=summary.by_status.get(status, 0))
