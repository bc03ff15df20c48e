"""The EventBridge Scheduler schedule that starts a scan."""

from __future__ import annotations

import re
from typing import Final

from aws_cdk import ArnFormat, Duration, Stack, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.nag import acknowledge_wildcard, nag_reference

# Delivery retries (EventBridge Scheduler -> Lambda); the next run is due within the hour.
DELIVERY_MAX_EVENT_AGE: Final = Duration.hours(1)
DELIVERY_RETRY_ATTEMPTS: Final = 3
SCHEDULE_GROUP: Final = "default"

# `rate(1 hour)`, `rate(5 minutes)` (singular unit for 1, plural otherwise, as Scheduler
# requires) and six-field `cron(...)`; one-time `at(...)` schedules make no monitor.
_RATE = re.compile(
    r"rate\(\s*(?P<value>1\s+(minute|hour|day)|([2-9]|[1-9][0-9]+)\s+(minutes|hours|days))\s*\)"
)
_CRON = re.compile(r"cron\(\s*\S+(\s+\S+){5}\s*\)")
_UNIT_MINUTES: Final = {"minute": 1, "hour": 60, "day": 24 * 60}


def is_schedule_expression(expression: object) -> bool:
    """A `rate(...)` or `cron(...)` expression EventBridge Scheduler accepts (in form)."""
    return isinstance(expression, str) and bool(
        _RATE.fullmatch(expression) or _CRON.fullmatch(expression)
    )


def schedule_rate(expression: str) -> Duration | None:
    """The interval of a `rate(...)` expression; None for `cron(...)` (or anything else)."""
    rate = _RATE.fullmatch(expression)
    if rate is None:
        return None
    amount, unit = rate.group("value").split()
    return Duration.minutes(int(amount) * _UNIT_MINUTES[unit.removesuffix("s")])


class MonitorSchedule(Construct):
    """Invokes the function on `schedule_expression` (rate or cron, in `time_zone`).

    The retry policy and the dead-letter queue cover *delivery* to Lambda only; a scan that
    fails after delivery goes through Lambda's async retries to its failure destination.

    The schedule gets its own role (CDK's default is one role per target shared at stack
    level): Scheduler may assume it only for schedules of this account's default group.
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
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            description="EventBridge Scheduler: starts registration attachment scans",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "aws:SourceArn": stack.format_arn(
                            service="scheduler",
                            resource="schedule-group",
                            resource_name=SCHEDULE_GROUP,
                            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                        ),
                    }
                },
            ),
        )
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            description="Scans registration attachments for failed uploads",
            schedule=scheduler.ScheduleExpression.expression(schedule_expression, time_zone),
            target=targets.LambdaInvoke(
                target_function,
                role=self.role,
                dead_letter_queue=dead_letter_queue,
                max_event_age=max_event_age,
                retry_attempts=retry_attempts,
            ),
        )
        policy = self.role.node.try_find_child("DefaultPolicy")
        assert policy is not None, "LambdaInvoke grants the role lambda:InvokeFunction"
        resource = policy.node.default_child
        assert resource is not None
        function_arn = nag_reference(self, target_function.function_arn)
        acknowledge_wildcard(
            resource,
            f"Resource::{function_arn}:*",
            "CDK's grantInvoke for the scan function: lambda:InvokeFunction on the function "
            "and its qualified ARNs (versions and aliases of this one function, '<arn>:*'), "
            "nothing else.",
        )
