"""CloudWatch alarms that watch the watcher, each notifying the operations topic.

* `FunctionErrors` — the function raised (Lambda `Errors` ≥ 1 in 5 minutes).
* `FunctionFailureQueue`, `ScheduleDeadLetterQueue` (and `SubscriptionDeadLetterQueue` when
  the topics have subscribers) — a message waits in a dead-letter queue.
* `NoSuccessfulScan` — no complete scan within the heartbeat window (`ScansSucceeded` summed
  over the window < 1; no data counts as breaching: a schedule that stopped firing sends none).
* `FailedUploadsFound` (optional) — the latest scan found failed uploads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import monitor_metrics as names
from stacks.monitor_metrics import MonitorMetrics
from stacks.monitor_schedule import schedule_rate

# CloudWatch: period x evaluation periods at most 7 days (and at most 1 day for periods
# shorter than an hour); periods are whole minutes here, at most a day each.
MAX_HEARTBEAT_WINDOW: Final = Duration.days(7)
_MAX_WINDOW_MINUTES: Final = 7 * 24 * 60
_MAX_PERIOD_MINUTES: Final = 24 * 60
DEFAULT_ALARM_PERIOD: Final = Duration.minutes(5)


@dataclass(frozen=True)
class Heartbeat:
    """The `NoSuccessfulScan` alarm's window, as CloudWatch evaluates it: `evaluation_periods`
    periods of `period`, every one of them without a successful scan."""

    window_minutes: int
    period: Duration
    evaluation_periods: int


def heartbeat_of(
    schedule_expression: str,
    window: Duration | None,
    *,
    prop: str = "heartbeat_window",
) -> Heartbeat:
    """The heartbeat for a schedule: by default twice a `rate(...)`; a `cron(...)` schedule
    needs `window`. Raises ValueError starting with `prop` (a prop or a context key).

    A window up to a day is one period; a longer one is split into N = ceil(window / 1 day)
    equal periods of whole minutes (rounded up, so by less than N minutes) that must all be
    breaching: "no successful scan in any of them" is "none in the whole window".
    """
    rate = schedule_rate(schedule_expression)
    if window is None:
        if rate is None:
            raise ValueError(
                f"{prop} is required with the cron schedule {schedule_expression!r}: set how "
                "long without a successful scan raises the NoSuccessfulScan alarm (at most 7 "
                "days, CloudWatch's limit; e.g. a little more than the longest gap between "
                "two runs)"
            )
        minutes = 2 * round(rate.to_minutes())
        if minutes > _MAX_WINDOW_MINUTES:
            raise ValueError(
                f"{prop} is required with {schedule_expression!r}: twice the rate is "
                f"{minutes} minutes, longer than the 7 days ({_MAX_WINDOW_MINUTES} minutes) "
                "CloudWatch can evaluate; set it to at most 7 days"
            )
    else:
        seconds = window.to_seconds()
        if seconds <= 0 or seconds % 60 or seconds > MAX_HEARTBEAT_WINDOW.to_seconds():
            raise ValueError(
                f"{prop} must be whole minutes from 1 minute to 7 days ({_MAX_WINDOW_MINUTES} "
                "minutes, CloudWatch's limit for an alarm's evaluation), got "
                f"{seconds / 60:g} minutes"
            )
        minutes = int(seconds // 60)
        if rate is not None and minutes < rate.to_minutes():
            raise ValueError(
                f"{prop} ({minutes} minutes) is shorter than the schedule's rate "
                f"({schedule_expression}): the alarm would fire between two runs"
            )
    if minutes <= _MAX_PERIOD_MINUTES:
        return Heartbeat(minutes, Duration.minutes(minutes), 1)
    periods = math.ceil(minutes / _MAX_PERIOD_MINUTES)
    return Heartbeat(minutes, Duration.minutes(math.ceil(minutes / periods)), periods)


class MonitorAlarms(Construct):
    """The monitor's alarms; each notifies `topic` on ALARM and again on OK.

    Alarm names are `<monitor_name>-<alarm>`; `alarms` maps `<alarm>` to the alarm.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        metrics: MonitorMetrics,
        function: lambda_.IFunction,
        function_failure_queue: sqs.IQueue,
        schedule_dead_letter_queue: sqs.IQueue,
        subscription_dead_letter_queue: sqs.IQueue | None,
        heartbeat: Heartbeat,
        alarm_on_new_failures: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self._topic = topic
        self._prefix = metrics.monitor_name
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        self._alarm(
            "FunctionErrors",
            function.metric_errors(period=DEFAULT_ALARM_PERIOD, statistic=cloudwatch.Stats.SUM),
            "The monitor function failed (Lambda Errors >= 1 in 5 minutes): a scan could not "
            "finish (access denied, API retries exhausted, alert topic refused, state table "
            "unreachable) or the function got an invalid event. Read the function's log group "
            "(level ERROR) for the cause. Lambda retries scheduled runs twice, then the event "
            "lands in the function's failure queue.",
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            threshold=1,
        )
        queues: list[tuple[str, sqs.IQueue, str]] = [
            (
                "FunctionFailureQueue",
                function_failure_queue,
                "A scheduled scan failed after Lambda's retries; the message holds the request "
                "and the error. Fix the cause (see the FunctionErrors alarm and the function's "
                "logs), then delete the message: the next scheduled scan catches up, since "
                "alerts not sent stay pending.",
            ),
            (
                "ScheduleDeadLetterQueue",
                schedule_dead_letter_queue,
                "EventBridge Scheduler could not invoke the function (it was deleted, "
                "throttled, or the scheduler role lost lambda:InvokeFunction), so a scan did "
                "not run. The message attributes carry the error; fix it, then delete the "
                "message.",
            ),
        ]
        if subscription_dead_letter_queue is not None:
            queues.append(
                (
                    "SubscriptionDeadLetterQueue",
                    subscription_dead_letter_queue,
                    "SNS could not deliver an alert or an operations notification to a "
                    "subscriber (an unconfirmed or removed endpoint, a queue policy or key "
                    "that refuses SNS). The message is the undelivered notification: read it, "
                    "fix the subscription, then delete it.",
                )
            )
        for alarm_id, queue, meaning in queues:
            self._alarm(
                alarm_id,
                queue.metric_approximate_number_of_messages_visible(
                    period=DEFAULT_ALARM_PERIOD, statistic=cloudwatch.Stats.MAXIMUM
                ),
                f"A message waits in a dead-letter queue ({alarm_id}). {meaning}",
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                threshold=1,
            )

        self._alarm(
            "NoSuccessfulScan",
            metrics.metric(
                names.SCANS_SUCCEEDED,
                statistic=cloudwatch.Stats.SUM,
                period=heartbeat.period,
            ),
            f"No scan completed in {heartbeat.window_minutes} minutes (the heartbeat window): "
            "the schedule stopped firing (disabled or deleted) or every scan fails. Check the "
            "schedule is ENABLED, then the FunctionErrors alarm and the function's logs. "
            "Failed uploads go unnoticed until a scan completes again.",
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            threshold=1,
            evaluation_periods=heartbeat.evaluation_periods,
            missing=cloudwatch.TreatMissingData.BREACHING,
        )

        if alarm_on_new_failures:
            self._alarm(
                "FailedUploadsFound",
                metrics.metric(
                    names.FAILED_FOUND,
                    statistic=cloudwatch.Stats.MAXIMUM,
                    period=DEFAULT_ALARM_PERIOD,
                ),
                "The latest scan found registration attachments whose upload failed "
                "(FailedFound >= 1). Each one was alerted on the alert topic once, with the "
                "fix: upload the document again and point the registration at the new "
                "attachment. The alarm returns to OK after a scan finds none.",
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                threshold=1,
                # Scans are periodic: between two scans there is no data, and the alarm keeps
                # the state of the last scan instead of flapping back to OK.
                missing=cloudwatch.TreatMissingData.IGNORE,
            )

    def _alarm(
        self,
        alarm_id: str,
        metric: cloudwatch.IMetric,
        description: str,
        *,
        comparison: cloudwatch.ComparisonOperator,
        threshold: float,
        evaluation_periods: int = 1,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            alarm_id,
            alarm_name=f"{self._prefix}-{alarm_id}",
            alarm_description=description,
            metric=metric,
            comparison_operator=comparison,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=evaluation_periods,
            treat_missing_data=missing,
        )
        action = actions.SnsAction(self._topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        self.alarms[alarm_id] = alarm
