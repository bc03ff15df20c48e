"""The EventBridge Scheduler schedule that starts a scan."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, TimeZone
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

# Delivery retries (EventBridge Scheduler -> Lambda); the next run is due within the hour.
DELIVERY_MAX_EVENT_AGE: Final = Duration.hours(1)
DELIVERY_RETRY_ATTEMPTS: Final = 3


class MonitorSchedule(Construct):
    """Invokes the function on `schedule_expression` (rate, cron or at).

    The retry policy and the dead-letter queue cover *delivery* to Lambda only; a scan that
    fails after delivery goes through Lambda's async retries to its failure destination.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        target_function: lambda_.IFunction,
        schedule_expression: str,
        dead_letter_queue: sqs.IQueue,
        time_zone: TimeZone | None = None,
        max_event_age: Duration = DELIVERY_MAX_EVENT_AGE,
        retry_attempts: int = DELIVERY_RETRY_ATTEMPTS,
    ) -> None:
        super().__init__(scope, construct_id)
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            description="Scans registration attachments for failed uploads",
            schedule=scheduler.ScheduleExpression.expression(schedule_expression, time_zone),
            target=targets.LambdaInvoke(
                target_function,
                dead_letter_queue=dead_letter_queue,
                max_event_age=max_event_age,
                retry_attempts=retry_attempts,
            ),
        )
