"""The CloudWatch dashboard of one monitor: what the scans found, what was sent, how the
function and its queues are doing, and the alarms' states."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import monitor_metrics as names
from stacks.monitor_metrics import MonitorMetrics

# Scans run on the schedule (hourly by default): one point per hour reads best.
SCAN_PERIOD: Final = Duration.hours(1)
FUNCTION_PERIOD: Final = Duration.minutes(5)
DEFAULT_INTERVAL: Final = Duration.days(7)
_FULL: Final = 24
_HALF: Final = 12
_THIRD: Final = 8
_HEIGHT: Final = 6


class MonitorDashboard(Construct):
    """`dashboard_name` (alphanumerics, `-` and `_`; dashboards are global to the account, so
    the name must differ between regions). `queues` are (label, queue) pairs; the per-status
    widget is shown with `full_inventory` only (the metrics exist only then)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        metrics: MonitorMetrics,
        function: lambda_.IFunction,
        queues: Sequence[tuple[str, sqs.IQueue]],
        alarms: Sequence[cloudwatch.IAlarm],
        full_inventory: bool,
    ) -> None:
        super().__init__(scope, construct_id)

        def scan(name: str, statistic: str, label: str | None = None) -> cloudwatch.Metric:
            return metrics.metric(name, statistic=statistic, period=SCAN_PERIOD, label=label)

        maximum, total = cloudwatch.Stats.MAXIMUM, cloudwatch.Stats.SUM
        rows: list[list[cloudwatch.IWidget]] = [
            [cloudwatch.AlarmStatusWidget(title="Alarms", alarms=alarms, width=_FULL, height=3)],
            [
                cloudwatch.GraphWidget(
                    title="Failed and stuck uploads found (per scan, max per hour)",
                    left=[scan(names.FAILED_FOUND, maximum), scan(names.STUCK_FOUND, maximum)],
                    width=_HALF,
                    height=_HEIGHT,
                ),
                cloudwatch.GraphWidget(
                    title="Alerts (sum per hour)",
                    left=[
                        scan(names.ALERTS_SENT, total),
                        scan(names.ALERTS_IN_DIGEST, total),
                        scan(names.ALERTS_FAILED, total),
                    ],
                    width=_HALF,
                    height=_HEIGHT,
                ),
            ],
            [
                cloudwatch.GraphWidget(
                    title="Function invocations and errors (sum per 5 minutes)",
                    left=[
                        function.metric_invocations(period=FUNCTION_PERIOD, statistic=total),
                        function.metric_errors(period=FUNCTION_PERIOD, statistic=total),
                    ],
                    width=_THIRD,
                    height=_HEIGHT,
                ),
                cloudwatch.GraphWidget(
                    title="Scan duration (ms)",
                    left=[
                        scan(names.SCAN_DURATION, cloudwatch.Stats.AVERAGE, "ScanDuration avg"),
                        scan(names.SCAN_DURATION, maximum, "ScanDuration max"),
                    ],
                    width=_THIRD,
                    height=_HEIGHT,
                ),
                cloudwatch.GraphWidget(
                    title="Scans: succeeded (sum per hour) and attachments listed",
                    left=[scan(names.SCANS_SUCCEEDED, total)],
                    right=[scan(names.ATTACHMENTS_SEEN, maximum)],
                    width=_THIRD,
                    height=_HEIGHT,
                ),
            ],
        ]
        last_row: list[cloudwatch.IWidget] = [
            cloudwatch.GraphWidget(
                title="Dead-letter queues: messages waiting",
                left=[
                    queue.metric_approximate_number_of_messages_visible(
                        period=FUNCTION_PERIOD, statistic=maximum, label=label
                    )
                    for label, queue in queues
                ],
                width=_HALF,
                height=_HEIGHT,
            )
        ]
        if full_inventory:
            last_row.append(
                cloudwatch.GraphWidget(
                    title="Attachments per status (per scan, max per hour)",
                    left=[scan(name, maximum) for name in names.STATUS_METRICS],
                    width=_HALF,
                    height=_HEIGHT,
                )
            )
        rows.append(last_row)
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            default_interval=DEFAULT_INTERVAL,
            widgets=rows,
        )
