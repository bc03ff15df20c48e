"""`RegistrationAttachmentMonitor` as another CDK app uses it: in a plain stack, without
app.py or cdk.json; its props, its existing-topic mode, its subscribers and its checks."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template

from stacks.registration_attachment_monitor import RegistrationAttachmentMonitor
from tests.infra.synth import (
    allowed_resources,
    get_att,
    lint_template,
    only_resource,
    policy_statements,
    ref,
)

CENTRAL_TOPIC = "arn:aws:sns:us-east-1:999999999999:central-alerts"
CENTRAL_KEY = "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _stack(name: str = "Consumer") -> cdk.Stack:
    """A stack of a bare app: no cdk.json context, as in another project."""
    return cdk.Stack(cdk.App(), name)


def _function_role(template: Template) -> str:
    _, function = only_resource(template, "AWS::Lambda::Function")
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    assert isinstance(role, str)
    return role


# --- existing (central) topic ---------------------------------------------------------


@pytest.fixture(scope="module")
def central() -> tuple[RegistrationAttachmentMonitor, Template]:
    stack = _stack()
    topic = sns.Topic.from_topic_attributes(
        stack, "Central", topic_arn=CENTRAL_TOPIC, key_arn=CENTRAL_KEY
    )
    monitor = RegistrationAttachmentMonitor(stack, "Monitor", alert_topic=topic)
    return monitor, Template.from_stack(stack)


def test_existing_topic_mode_creates_no_topic_and_no_key(
    central: tuple[RegistrationAttachmentMonitor, Template],
) -> None:
    monitor, template = central
    # Only the operations topic (and its key) the alarms notify.
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.resource_count_is("AWS::SNS::TopicPolicy", 1)
    template.resource_count_is("AWS::KMS::Key", 1)
    stack = cdk.Stack.of(monitor)
    assert stack.resolve(monitor.operations_topic.topic_arn) == ref(
        only_resource(template, "AWS::SNS::Topic")[0]
    )
    assert monitor.topic.topic_arn == CENTRAL_TOPIC


def test_existing_topic_mode_grants_publish_on_the_given_arn(
    central: tuple[RegistrationAttachmentMonitor, Template],
) -> None:
    _, template = central
    statements = policy_statements(template, _function_role(template))
    assert allowed_resources(statements, "sns:Publish") == [CENTRAL_TOPIC]
    assert allowed_resources(statements, "kms:GenerateDataKey*") == [CENTRAL_KEY]
    assert allowed_resources(statements, "kms:Decrypt") == [CENTRAL_KEY]
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"ALERT_TOPIC_ARN": CENTRAL_TOPIC})}},
    )
    template.has_output(
        "AlertTopicArn",
        {"Value": CENTRAL_TOPIC, "Export": {"Name": "Consumer-AlertTopicArn"}},
    )


def test_existing_topic_without_a_key_gets_no_kms_grant() -> None:
    stack = _stack()
    topic = sns.Topic.from_topic_arn(stack, "Central", CENTRAL_TOPIC)
    RegistrationAttachmentMonitor(stack, "Monitor", alert_topic=topic, refresh_token="1")
    template = Template.from_stack(stack)
    statements = policy_statements(template, _function_role(template))
    assert allowed_resources(statements, "sns:Publish") == [CENTRAL_TOPIC]
    assert not [s for s in statements if "kms" in repr(s["Action"])]


def test_existing_topic_template_is_lint_clean(
    central: tuple[RegistrationAttachmentMonitor, Template],
) -> None:
    assert lint_template(central[1]) == []


# --- props reach the template ---------------------------------------------------------


@pytest.fixture(scope="module")
def custom() -> tuple[RegistrationAttachmentMonitor, Template]:
    stack = _stack()
    subscriber = sqs.Queue(stack, "Subscriber", enforce_ssl=True)
    monitor = RegistrationAttachmentMonitor(
        stack,
        "Monitor",
        schedule_expression="cron(0 8 * * ? *)",
        schedule_time_zone=cdk.TimeZone.EUROPE_BERLIN,
        heartbeat_window=cdk.Duration.hours(25),
        max_alerts_per_run=7,
        alert_reminder_hours=24,
        full_inventory=True,
        log_retention=logs.RetentionDays.ONE_YEAR,
        memory_size=512,
        timeout=cdk.Duration.minutes(5),
        alert_emails=["ops@example.com", "ops@example.com", "oncall@example.com"],
        alert_queues=[subscriber],
        table_removal_policy=cdk.RemovalPolicy.DESTROY,
        stuck_upload_after=cdk.Duration.hours(2),
        operations_emails=["oncall@example.com"],
        alarm_on_new_failures=True,
        monitor_name="Platform-eu",
        dashboard_name="PlatformMonitor",
        refresh_token="42",
    )
    return monitor, Template.from_stack(stack)


def test_props_reach_the_function(custom: tuple[RegistrationAttachmentMonitor, Template]) -> None:
    _, template = custom
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "MemorySize": 512,
            "Timeout": 300,
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "MAX_ALERTS_PER_RUN": "7",
                        "ALERT_REMINDER_HOURS": "24",
                        "FULL_INVENTORY": "true",
                        "STUCK_UPLOAD_MINUTES": "120",
                        "MONITOR_NAME": "Platform-eu",
                    }
                )
            },
        },
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 365})


def test_service_timeout_follows_the_function_timeout(
    custom: tuple[RegistrationAttachmentMonitor, Template],
) -> None:
    _, template = custom
    template.has_resource_properties(
        "Custom::RegistrationAttachmentStatus",
        {"ServiceTimeout": "360", "RefreshToken": "42"},
    )


def test_cron_schedule_in_a_time_zone(
    custom: tuple[RegistrationAttachmentMonitor, Template],
) -> None:
    _, template = custom
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {"ScheduleExpression": "cron(0 8 * * ? *)", "ScheduleExpressionTimezone": "Europe/Berlin"},
    )


def test_props_reach_the_alarms_and_the_dashboard(
    custom: tuple[RegistrationAttachmentMonitor, Template],
) -> None:
    monitor, template = custom
    # A 25-hour heartbeat: two periods of 12.5 hours, both without a successful scan.
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "Platform-eu-NoSuccessfulScan",
            "MetricName": "ScansSucceeded",
            "Period": 45000,
            "EvaluationPeriods": 2,
            "DatapointsToAlarm": 2,
        },
    )
    assert set(monitor.alarms) == {
        "FunctionErrors",
        "FunctionFailureQueue",
        "ScheduleDeadLetterQueue",
        "SubscriptionDeadLetterQueue",
        "NoSuccessfulScan",
        "FailedUploadsFound",
    }
    template.has_resource_properties(
        "AWS::CloudWatch::Dashboard", {"DashboardName": "PlatformMonitor"}
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "email",
            "Endpoint": "oncall@example.com",
            "TopicArn": cdk.Stack.of(monitor).resolve(monitor.operations_topic.topic_arn),
        },
    )


def test_stuck_upload_alerts_can_be_turned_off() -> None:
    for after in (None, cdk.Duration.minutes(0)):
        stack = _stack()
        RegistrationAttachmentMonitor(stack, "Monitor", refresh_token="1", stuck_upload_after=after)
        Template.from_stack(stack).has_resource_properties(
            "AWS::Lambda::Function",
            {"Environment": {"Variables": Match.object_like({"STUCK_UPLOAD_MINUTES": "0"})}},
        )


def test_table_removal_policy(custom: tuple[RegistrationAttachmentMonitor, Template]) -> None:
    _, template = custom
    template.has_resource(
        "AWS::DynamoDB::Table", {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}
    )


def test_subscribers_each_with_the_subscription_dead_letter_queue(
    custom: tuple[RegistrationAttachmentMonitor, Template],
) -> None:
    monitor, template = custom
    assert monitor.subscription_dead_letter_queue is not None
    stack = cdk.Stack.of(monitor)
    dead_letters = stack.resolve(monitor.subscription_dead_letter_queue.queue_arn)
    topic = stack.resolve(monitor.topic.topic_arn)
    subscriptions = template.find_resources("AWS::SNS::Subscription")
    endpoints = sorted(
        (s["Properties"]["Protocol"], repr(s["Properties"]["Endpoint"]))
        for s in subscriptions.values()
    )
    assert [protocol for protocol, _ in endpoints] == ["email", "email", "email", "sqs"]
    operations = stack.resolve(monitor.operations_topic.topic_arn)
    for subscription in subscriptions.values():
        assert subscription["Properties"]["TopicArn"] in (topic, operations)
        assert subscription["Properties"]["RedrivePolicy"] == {"deadLetterTargetArn": dead_letters}
    # SNS may send to the dead-letter queue, for this topic only.
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "sqs:SendMessage",
                                "Effect": "Allow",
                                "Principal": {"Service": "sns.amazonaws.com"},
                                "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_no_subscription_dead_letter_queue_without_subscribers() -> None:
    stack = _stack()
    monitor = RegistrationAttachmentMonitor(stack, "Monitor", refresh_token="1")
    assert monitor.subscription_dead_letter_queue is None
    Template.from_stack(stack).resource_count_is("AWS::SQS::Queue", 2)


# --- several monitors, no outputs -----------------------------------------------------


def test_a_second_monitor_in_one_stack_uses_its_own_names() -> None:
    stack = _stack()
    first = RegistrationAttachmentMonitor(stack, "First", refresh_token="1")
    second = RegistrationAttachmentMonitor(stack, "Second", refresh_token="1", output_prefix="B")
    template = Template.from_stack(stack)
    assert first.export_name("FunctionArn") == "Consumer-FunctionArn"
    assert second.export_name("FunctionArn") == "Consumer-BFunctionArn"
    assert second.parameter_name("TotalCount") == (
        "/registration-attachment-monitor/Consumer/B/TotalCount"
    )
    outputs = template.find_outputs("*")
    assert {"TotalCount", "BTotalCount", "FunctionArn", "BFunctionArn"} <= set(outputs)
    template.resource_count_is("AWS::SSM::Parameter", 16)


def test_two_monitors_with_the_same_names_fail_at_synth() -> None:
    stack = _stack()
    RegistrationAttachmentMonitor(stack, "First", refresh_token="1")
    with pytest.raises(
        ValueError, match="monitor_name 'Consumer' is already used by Consumer/First"
    ):
        RegistrationAttachmentMonitor(stack, "Second", refresh_token="1")


def test_two_monitors_without_outputs_still_need_their_own_names() -> None:
    """Metrics, alarm and dashboard names would collide even where outputs do not."""
    stack = _stack()
    RegistrationAttachmentMonitor(stack, "First", refresh_token="1", create_outputs=False)
    with pytest.raises(ValueError, match="monitor_name 'Consumer' is already used"):
        RegistrationAttachmentMonitor(stack, "Second", refresh_token="1", create_outputs=False)
    RegistrationAttachmentMonitor(
        stack, "Third", refresh_token="1", create_outputs=False, monitor_name="Consumer-third"
    )


def test_outputs_and_parameters_can_be_left_out() -> None:
    stack = _stack()
    monitor = RegistrationAttachmentMonitor(
        stack, "Monitor", refresh_token="1", create_outputs=False, create_parameters=False
    )
    template = Template.from_stack(stack)
    assert template.find_outputs("*") == {}
    template.resource_count_is("AWS::SSM::Parameter", 0)
    template.resource_count_is("Custom::RegistrationAttachmentStatus", 1)
    assert monitor.parameters == {}


def test_exposed_resources() -> None:
    stack = _stack()
    monitor = RegistrationAttachmentMonitor(stack, "Monitor", refresh_token="1")
    template = Template.from_stack(stack)
    resolve = stack.resolve
    assert resolve(monitor.function.function_arn) == get_att(
        only_resource(template, "AWS::Lambda::Function")[0]
    )
    topics = template.find_resources("AWS::SNS::Topic")
    assert sorted(
        [resolve(monitor.topic.topic_arn), resolve(monitor.operations_topic.topic_arn)],
        key=repr,
    ) == sorted((ref(topic_id) for topic_id in topics), key=repr)
    assert resolve(monitor.topic.topic_arn) != resolve(monitor.operations_topic.topic_arn)
    assert resolve(monitor.dashboard.dashboard_name) == ref(
        only_resource(template, "AWS::CloudWatch::Dashboard")[0]
    )
    assert set(monitor.alarms) == {
        "FunctionErrors",
        "FunctionFailureQueue",
        "ScheduleDeadLetterQueue",
        "NoSuccessfulScan",
    }
    assert resolve(monitor.table.table_name) == ref(
        only_resource(template, "AWS::DynamoDB::Table")[0]
    )
    assert resolve(monitor.schedule.schedule_arn) == get_att(
        only_resource(template, "AWS::Scheduler::Schedule")[0]
    )
    assert resolve(monitor.status.ref) == ref(
        only_resource(template, "Custom::RegistrationAttachmentStatus")[0]
    )
    assert monitor.key is not None
    assert set(monitor.parameters) == {
        "TotalCount",
        "UploadInProgressCount",
        "UploadCompleteCount",
        "UploadFailedCount",
        "DeletedCount",
        "FailedAttachmentIds",
        "FailedAttachmentIdsTruncated",
        "ScannedAt",
    }


# --- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"schedule_expression": "every hour"}, "schedule_expression must be"),
        ({"schedule_expression": "rate(0 hours)"}, "schedule_expression must be"),
        ({"schedule_expression": "rate(1 hours)"}, "schedule_expression must be"),
        ({"schedule_expression": "rate(5 minute)"}, "schedule_expression must be"),
        ({"schedule_expression": "cron(0 8 * *)"}, "schedule_expression must be"),
        ({"schedule_expression": "at(2030-01-01T00:00:00)"}, "schedule_expression must be"),
        ({"max_alerts_per_run": 0}, "max_alerts_per_run must be an integer >= 1"),
        ({"max_alerts_per_run": True}, "max_alerts_per_run must be an integer"),
        ({"alert_reminder_hours": -1}, "alert_reminder_hours must be an integer from 0"),
        ({"memory_size": 64}, "memory_size must be an integer from 128 to 10240"),
        ({"timeout": cdk.Duration.seconds(10)}, "timeout must be from 30 seconds"),
        ({"timeout": cdk.Duration.minutes(16)}, "timeout must be from 30 seconds"),
        ({"log_retention": logs.RetentionDays.INFINITE}, "log_retention: set a retention"),
        ({"alert_emails": "ops@example.com"}, "alert_emails must be a list"),
        ({"alert_emails": ["not-an-address"]}, "alert_emails: 'not-an-address'"),
        ({"alert_queues": "queue"}, "alert_queues must be a list"),
        ({"operations_emails": "ops@example.com"}, "operations_emails must be a list"),
        ({"operations_emails": ["ops"]}, "operations_emails: 'ops' is not an email"),
        ({"schedule_expression": "cron(0 8 * * ? *)"}, "heartbeat_window is required with"),
        ({"schedule_expression": "rate(4 days)"}, "heartbeat_window is required with"),
        ({"heartbeat_window": cdk.Duration.days(8)}, "heartbeat_window must be whole minutes"),
        ({"heartbeat_window": cdk.Duration.seconds(90)}, "heartbeat_window must be whole"),
        ({"heartbeat_window": cdk.Duration.minutes(30)}, r"heartbeat_window \(30 minutes\) is"),
        ({"stuck_upload_after": cdk.Duration.seconds(30)}, "stuck_upload_after must be whole"),
        ({"stuck_upload_after": 60}, "stuck_upload_after must be a Duration"),
        ({"monitor_name": "a b"}, "monitor_name: 1 to 200 letters"),
        ({"dashboard_name": "a/b"}, "dashboard_name: 1 to 255 letters"),
        ({"output_prefix": "B-1"}, "output_prefix: letters and digits only"),
        ({"export_prefix": "a b"}, "export_prefix: letters, digits"),
        ({"parameter_path": "no-leading-slash"}, "parameter_path: an SSM path"),
        ({"parameter_path": "/trailing/"}, "parameter_path: an SSM path"),
    ],
)
def test_invalid_props_fail_at_synth_naming_the_prop(props: dict[str, Any], message: str) -> None:
    stack = _stack()
    with pytest.raises(ValueError, match=message):
        RegistrationAttachmentMonitor(stack, "Monitor", **props)
    # Nothing was built before the check failed.
    assert stack.node.try_find_child("Monitor") is None or not [
        child
        for child in stack.node.find_child("Monitor").node.children
        if isinstance(child, cdk.CfnResource)
    ]
