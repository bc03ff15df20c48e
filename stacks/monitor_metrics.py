"""The monitor's own CloudWatch metrics, as the function writes them (EMF, `lambda_src/handler.py`).

One EMF document per scan, in the namespace `POWERTOOLS_METRICS_NAMESPACE`, with exactly
the dimensions `Monitor` (the function's `MONITOR_NAME`) and `service` (Powertools adds it
from `POWERTOOLS_SERVICE_NAME`). Both come from `stacks.lambda_defaults`, the same values
the function's environment gets, so the alarms and the dashboard read what the function
writes. A metric with other dimensions is another metric: the names here must match the
handler's letter for letter (the infra tests check them against the function's environment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from stacks import lambda_defaults as defaults

NAMESPACE: Final = defaults.POWERTOOLS_METRICS_NAMESPACE
SERVICE: Final = defaults.POWERTOOLS_SERVICE_NAME
MONITOR_DIMENSION: Final = "Monitor"
SERVICE_DIMENSION: Final = "service"  # Powertools' own name for it

# Per scan (Count unless noted).
ATTACHMENTS_SEEN: Final = "AttachmentsSeen"
FAILED_FOUND: Final = "FailedFound"
STUCK_FOUND: Final = "StuckFound"
ALERTS_SENT: Final = "AlertsSent"
ALERTS_IN_DIGEST: Final = "AlertsInDigest"
ALERTS_FAILED: Final = "AlertsFailed"
SCANS_SUCCEEDED: Final = "ScansSucceeded"  # 1 on a complete scan, 0 when the scan raised
SCAN_DURATION: Final = "ScanDuration"  # Milliseconds
# Only with FULL_INVENTORY=true: attachments per status.
STATUS_METRICS: Final = (
    "AttachmentsUploadInProgress",
    "AttachmentsUploadComplete",
    "AttachmentsUploadFailed",
    "AttachmentsDeleted",
)


@dataclass(frozen=True)
class MonitorMetrics:
    """Metric objects of one monitor (one `MONITOR_NAME`)."""

    monitor_name: str

    @property
    def dimensions(self) -> dict[str, str]:
        return {MONITOR_DIMENSION: self.monitor_name, SERVICE_DIMENSION: SERVICE}

    def metric(
        self, name: str, *, statistic: str, period: Duration, label: str | None = None
    ) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=name,
            dimensions_map=self.dimensions,
            statistic=statistic,
            period=period,
            label=label,
        )
