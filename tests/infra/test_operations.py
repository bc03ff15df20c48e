"""Watching the watcher: the operations topic, the alarms that notify it, the dashboard, and
the function settings they depend on (MONITOR_NAME, STUCK_UPLOAD_MINUTES).

The alarms must read the metrics the function writes: the namespace and the `Monitor` and
`service` dimensions are captured from the function's own environment, not restated.
Three apps, each synthesized once: the defaults, everything optional on, and one stack per
heartbeat case (environments overriding the schedule).
"""

from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk.assertions import Capture, Match, Template

from stacks.monitor_alarms import heartbeat_of
from stacks.monitor_metrics import STATUS_METRICS
from stacks.settings import DEFAULT_STACK_NAME, ContextError, all_settings_from_context
from tests.infra.synth import (
    PINNED_REFRESH_TOKEN,
    build_app,
    get_att,
    lint_template,
    monitor_stack,
    only_resource,
    ref,
    synth_template,
)

SCAN_METRICS = (
    "FailedFound",
    "StuckFound",
    "AlertsSent",
    "AlertsInDigest",
    "AlertsFailed",
    "ScanDuration",
    "ScansSucceeded",
)
DEFAULT_ALARMS = {
    "FunctionErrors",
    "FunctionFailureQueue",
    "ScheduleDeadLetterQueue",
    "NoSuccessfulScan",
}


@pytest.fixture(scope="module")
def template() -> Template:
    return synth_template({"refreshToken": PINNED_REFRESH_TOKEN})


@pytest.fixture(scope="module")
def full() -> Template:
    """Every optional part on: per-status metrics, the failed-uploads alarm, subscribers of
    both topics (so the subscription dead-letter queue and its alarm exist), stuck alerts off."""
    return synth_template(
        {
            "refreshToken": PINNED_REFRESH_TOKEN,
            "fullInventory": True,
            "alarmOnNewFailures": True,
            "stuckUploadMinutes": 0,
            "alertEmails": ["alerts@example.com"],
            "operationsEmails": ["oncall@example.com", "lead@example.com"],
        }
    )


# One stack per heartbeat case: (region, overrides, expected period s, evaluation periods).
HEARTBEATS: dict[str, tuple[dict[str, Any], int, int]] = {
    "us-east-1": ({"scheduleExpression": "rate(30 minutes)"}, 3600, 1),
    "eu-west-1": ({"scheduleExpression": "rate(1 day)"}, 86400, 2),  # 2 days = 2 x 1 day
    "eu-central-1": ({"scheduleExpression": "rate(3 days)"}, 86400, 6),
    "ap-southeast-2": (
        {"scheduleExpression": "cron(0 8 * * ? *)", "heartbeatWindowMinutes": 1500},
        45000,  # 25 hours = 2 x 12.5 hours
        2,
    ),
    "us-west-2": (
        {"scheduleExpression": "cron(0/10 * * * ? *)", "heartbeatWindowMinutes": 45},
        2700,
        1,
    ),
    "sa-east-1": (  # an explicit window overrides twice the rate
        {"scheduleExpression": "rate(2 hours)", "heartbeatWindowMinutes": 300},
        18000,
        1,
    ),
}


@pytest.fixture(scope="module")
def heartbeat_app() -> cdk.App:
    return build_app(
        {
            "refreshToken": PINNED_REFRESH_TOKEN,
            "environments": [
                {"account": "111111111111", "region": region, **overrides}
                for region, (overrides, _, _) in HEARTBEATS.items()
            ],
        }
    )


# --- helpers -------------------------------------------------------------------------------


def _emitted(template: Template) -> dict[str, Capture]:
    """The function's MONITOR_NAME, POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE."""
    captures = {
        name: Capture()
        for name in ("MONITOR_NAME", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE")
    }
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like(captures)}}
    )
    return captures


def _alarms(template: Template) -> dict[str, dict[str, Any]]:
    """Alarm properties by the part of the alarm name after `<monitor name>-`."""
    monitor = _emitted(template)["MONITOR_NAME"].as_string()
    found: dict[str, dict[str, Any]] = {}
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        name = alarm["Properties"]["AlarmName"]
        assert name.startswith(f"{monitor}-"), name
        found[name.removeprefix(f"{monitor}-")] = alarm["Properties"]
    return found


def _operations_topic(template: Template) -> str:
    value = template.find_outputs("OperationsTopicArn")["OperationsTopicArn"]["Value"]
    topic_id = value["Ref"]
    assert isinstance(topic_id, str)
    return topic_id


def _monitor_metric_alarm(template: Template, metric_name: str, expected: dict[str, Any]) -> None:
    """An alarm on one of the function's EMF metrics: its namespace and exactly the
    dimensions Monitor and service, with the values the function's environment sets."""
    emitted = _emitted(template)
    dimensions = Capture()
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": emitted["POWERTOOLS_METRICS_NAMESPACE"].as_string(),
            "MetricName": metric_name,
            "Dimensions": dimensions,
            **expected,
        },
    )
    assert sorted((d["Name"], d["Value"]) for d in dimensions.as_array()) == [
        ("Monitor", emitted["MONITOR_NAME"].as_string()),
        ("service", emitted["POWERTOOLS_SERVICE_NAME"].as_string()),
    ]


def _dashboard_body(template: Template) -> str:
    """The DashboardBody (an Fn::Join of strings and references), references as `<ref>`."""
    body = Capture()
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardBody": body})
    joined = body.as_object()["Fn::Join"]
    assert joined[0] == ""
    return "".join(part if isinstance(part, str) else json.dumps(part) for part in joined[1])


def _dashboard_metrics(body: str, namespace: str) -> set[str]:
    """Names of the metrics graphed from `namespace` (`["<namespace>","<name>",...]`)."""
    return set(re.findall(rf'\["{re.escape(namespace)}","(\w+)"', body))


# --- function settings ---------------------------------------------------------------------


def test_function_gets_its_monitor_name_and_stuck_upload_minutes(template: Template) -> None:
    emitted = _emitted(template)
    assert emitted["MONITOR_NAME"].as_string() == DEFAULT_STACK_NAME
    assert emitted["POWERTOOLS_SERVICE_NAME"].as_string() == "registration-attachment-monitor"
    assert emitted["POWERTOOLS_METRICS_NAMESPACE"].as_string() == "RegistrationAttachmentMonitor"
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"STUCK_UPLOAD_MINUTES": "60"})}},
    )


def test_stuck_upload_minutes_zero_turns_stuck_alerts_off(full: Template) -> None:
    full.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {"STUCK_UPLOAD_MINUTES": "0", "FULL_INVENTORY": "true"}
                )
            }
        },
    )


def test_each_environment_has_its_own_monitor_name(heartbeat_app: cdk.App) -> None:
    for region in HEARTBEATS:
        name = f"{DEFAULT_STACK_NAME}-{region}"
        template = Template.from_stack(monitor_stack(heartbeat_app, name))
        assert _emitted(template)["MONITOR_NAME"].as_string() == name


# --- operations topic ----------------------------------------------------------------------


def test_operations_topic_is_exported(template: Template) -> None:
    template.has_output(
        "OperationsTopicArn",
        {
            "Value": ref(_operations_topic(template)),
            "Export": {"Name": f"{DEFAULT_STACK_NAME}-OperationsTopicArn"},
        },
    )


def test_operations_topic_is_not_the_alert_topic_and_has_its_own_rotating_key(
    template: Template,
) -> None:
    topic_id = _operations_topic(template)
    _, function = only_resource(template, "AWS::Lambda::Function")
    assert function["Properties"]["Environment"]["Variables"]["ALERT_TOPIC_ARN"] != ref(topic_id)
    topic = template.find_resources("AWS::SNS::Topic")[topic_id]["Properties"]
    key_id = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    keys = template.find_resources("AWS::KMS::Key")
    assert len(keys) == 2
    key = keys[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    assert "operations topic" in key["Description"]
    assert {
        "Sid": "AllowCloudWatchAlarmsToPublishToTheTopic",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    } in key["KeyPolicy"]["Statement"]


def test_only_alarms_of_this_account_may_publish_and_only_over_tls(template: Template) -> None:
    topic_id = _operations_topic(template)
    (policy,) = [
        policy["Properties"]["PolicyDocument"]["Statement"]
        for policy in template.find_resources("AWS::SNS::TopicPolicy").values()
        if policy["Properties"]["Topics"] == [ref(topic_id)]
    ]
    allows = [statement for statement in policy if statement["Effect"] == "Allow"]
    assert len(allows) == 1
    assert allows[0]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allows[0]["Action"] == "sns:Publish"
    assert allows[0]["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"}
    }
    assert "aws:SourceArn" in allows[0]["Condition"]["ArnLike"]
    denies = [statement for statement in policy if statement["Effect"] == "Deny"]
    assert [d["Condition"] for d in denies] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_no_subscribers_by_default(template: Template) -> None:
    template.resource_count_is("AWS::SNS::Subscription", 0)


def test_operations_emails_subscribe_with_a_dead_letter_queue(full: Template) -> None:
    topic_id = _operations_topic(full)
    subscriptions = [
        s["Properties"]
        for s in full.find_resources("AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == ref(topic_id)
    ]
    assert sorted(s["Endpoint"] for s in subscriptions) == [
        "lead@example.com",
        "oncall@example.com",
    ]
    assert {s["Protocol"] for s in subscriptions} == {"email"}
    assert all("deadLetterTargetArn" in s["RedrivePolicy"] for s in subscriptions)


# --- alarms --------------------------------------------------------------------------------


def test_default_alarms(template: Template) -> None:
    assert set(_alarms(template)) == DEFAULT_ALARMS


@pytest.mark.parametrize("app", ["template", "full"])
def test_every_alarm_notifies_the_operations_topic_on_alarm_and_on_ok(
    app: str, request: pytest.FixtureRequest
) -> None:
    chosen: Template = request.getfixturevalue(app)
    topic = ref(_operations_topic(chosen))
    for name, alarm in _alarms(chosen).items():
        assert alarm["AlarmActions"] == [topic], name
        assert alarm["OKActions"] == [topic], name
        assert "InsufficientDataActions" not in alarm, name
        assert len(alarm["AlarmDescription"]) >= 100, name


def test_function_errors_alarm(template: Template) -> None:
    function_id, _ = only_resource(template, "AWS::Lambda::Function")
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        Match.object_like(
            {
                "AlarmName": f"{DEFAULT_STACK_NAME}-FunctionErrors",
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": ref(function_id)}],
                "Statistic": "Sum",
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "Period": 300,
                "EvaluationPeriods": 1,
                "DatapointsToAlarm": 1,
                "TreatMissingData": "notBreaching",
            }
        ),
    )


def _queue_ids(template: Template) -> dict[str, str]:
    _, schedule = only_resource(template, "AWS::Scheduler::Schedule")
    _, invoke_config = only_resource(template, "AWS::Lambda::EventInvokeConfig")
    failure = invoke_config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    ids = {
        "ScheduleDeadLetterQueue": schedule["Properties"]["Target"]["DeadLetterConfig"]["Arn"],
        "FunctionFailureQueue": failure,
    }
    return {name: arn["Fn::GetAtt"][0] for name, arn in ids.items()}


@pytest.mark.parametrize("alarm", ["FunctionFailureQueue", "ScheduleDeadLetterQueue"])
def test_a_message_in_a_dead_letter_queue_raises_an_alarm(template: Template, alarm: str) -> None:
    queue_id = _queue_ids(template)[alarm]
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": f"{DEFAULT_STACK_NAME}-{alarm}",
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": get_att(queue_id, "QueueName")}],
            "Statistic": "Maximum",
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Period": 300,
            "EvaluationPeriods": 1,
            "TreatMissingData": "notBreaching",
        },
    )


def test_the_subscription_dead_letter_queue_has_an_alarm_when_it_exists(full: Template) -> None:
    subscription = next(iter(full.find_resources("AWS::SNS::Subscription").values()))
    queue_arn = subscription["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]
    alarm = _alarms(full)["SubscriptionDeadLetterQueue"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": get_att(queue_arn["Fn::GetAtt"][0], "QueueName")}
    ]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
    )


def test_no_successful_scan_alarm_reads_the_functions_own_metric(template: Template) -> None:
    """Default rate(1 hour): a window of 2 hours, one period; no data is breaching."""
    _monitor_metric_alarm(
        template,
        "ScansSucceeded",
        {
            "AlarmName": f"{DEFAULT_STACK_NAME}-NoSuccessfulScan",
            "Statistic": "Sum",
            "Threshold": 1,
            "ComparisonOperator": "LessThanThreshold",
            "Period": 7200,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "TreatMissingData": "breaching",
        },
    )


@pytest.mark.parametrize("region", sorted(HEARTBEATS))
def test_heartbeat_window(heartbeat_app: cdk.App, region: str) -> None:
    _, period, evaluation_periods = HEARTBEATS[region]
    template = Template.from_stack(monitor_stack(heartbeat_app, f"{DEFAULT_STACK_NAME}-{region}"))
    _monitor_metric_alarm(
        template,
        "ScansSucceeded",
        {
            "Statistic": "Sum",
            "Threshold": 1,
            "ComparisonOperator": "LessThanThreshold",
            "Period": period,
            "EvaluationPeriods": evaluation_periods,
            "DatapointsToAlarm": evaluation_periods,  # every period without a success
            "TreatMissingData": "breaching",
        },
    )
    assert period % 60 == 0
    assert period <= 86400
    assert period * evaluation_periods <= 7 * 86400


def test_failed_uploads_alarm_is_off_by_default(template: Template) -> None:
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"].get("MetricName") != "FailedFound"


def test_failed_uploads_alarm_when_on(full: Template) -> None:
    _monitor_metric_alarm(
        full,
        "FailedFound",
        {
            "AlarmName": f"{DEFAULT_STACK_NAME}-FailedUploadsFound",
            "Statistic": "Maximum",
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Period": 300,
            "EvaluationPeriods": 1,
            "TreatMissingData": "ignore",
        },
    )
    assert set(_alarms(full)) == DEFAULT_ALARMS | {
        "SubscriptionDeadLetterQueue",
        "FailedUploadsFound",
    }


# --- heartbeat window: the rules -----------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "window", "expected"),
    [
        ("rate(1 minute)", None, (2, 120, 1)),
        ("rate(30 minutes)", None, (60, 3600, 1)),
        ("rate(12 hours)", None, (1440, 86400, 1)),
        ("rate(1 day)", None, (2880, 86400, 2)),
        ("rate(3 days)", None, (8640, 86400, 6)),
        ("rate(7 days)", Duration.days(7), (10080, 86400, 7)),
        ("cron(0 8 * * ? *)", Duration.minutes(2894), (2894, 965 * 60, 3)),  # rounded up
        ("cron(0 8 * * ? *)", Duration.days(7), (10080, 86400, 7)),
        ("cron(0 8 * * ? *)", Duration.minutes(1), (1, 60, 1)),
    ],
)
def test_heartbeat_windows(
    expression: str, window: Duration | None, expected: tuple[int, int, int]
) -> None:
    heartbeat = heartbeat_of(expression, window)
    minutes, period, periods = expected
    assert (
        heartbeat.window_minutes,
        heartbeat.period.to_seconds(),
        heartbeat.evaluation_periods,
    ) == (minutes, period, periods)
    total = heartbeat.period.to_seconds() * heartbeat.evaluation_periods
    assert minutes * 60 <= total < (minutes + periods) * 60
    assert total <= 7 * 86400


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"scheduleExpression": "cron(0 8 * * ? *)"}, "is required with the cron schedule"),
        (
            {"scheduleExpression": "cron(0 8 * * ? *)", "heartbeatWindowMinutes": 10081},
            "must be whole minutes from 1 minute to 7 days",
        ),
        ({"scheduleExpression": "rate(4 days)"}, "twice the rate is 11520 minutes"),
        (
            {"scheduleExpression": "rate(2 hours)", "heartbeatWindowMinutes": 60},
            "is shorter than the schedule's rate",
        ),
    ],
)
def test_bad_heartbeat_window_fails_naming_the_context_key(
    context: dict[str, Any], message: str
) -> None:
    with pytest.raises(ContextError, match=f"context key 'heartbeatWindowMinutes'.*{message}"):
        all_settings_from_context(cdk.App(context=context).node)


def test_an_environment_with_a_cron_schedule_needs_its_window() -> None:
    cron = {"region": "eu-west-1", "scheduleExpression": "cron(0 8 * * ? *)"}
    missing = {"environments": [{"region": "us-east-1"}, cron]}
    with pytest.raises(ContextError, match="context key 'heartbeatWindowMinutes' is required"):
        all_settings_from_context(cdk.App(context=missing).node)
    given = {"environments": [{"region": "us-east-1"}, {**cron, "heartbeatWindowMinutes": 1500}]}
    settings = all_settings_from_context(cdk.App(context=given).node)
    assert [s.heartbeat_window_minutes for s in settings] == [None, 1500]


# --- dashboard -----------------------------------------------------------------------------


def test_dashboard_is_named_after_the_stack_and_its_region(template: Template) -> None:
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    template.has_resource_properties(
        "AWS::CloudWatch::Dashboard",
        {"DashboardName": {"Fn::Join": ["", [f"{DEFAULT_STACK_NAME}-", {"Ref": "AWS::Region"}]]}},
    )


def test_a_regional_stack_dashboard_is_named_after_the_stack(heartbeat_app: cdk.App) -> None:
    name = f"{DEFAULT_STACK_NAME}-us-east-1"
    Template.from_stack(monitor_stack(heartbeat_app, name)).has_resource_properties(
        "AWS::CloudWatch::Dashboard", {"DashboardName": name}
    )


def test_dashboard_graphs_the_functions_metrics(template: Template) -> None:
    body = _dashboard_body(template)
    emitted = _emitted(template)
    namespace = emitted["POWERTOOLS_METRICS_NAMESPACE"].as_string()
    graphed = _dashboard_metrics(body, namespace)
    assert graphed == set(SCAN_METRICS) | {"AttachmentsSeen"}
    # Every one of them with the function's own dimensions.
    monitor, service = (
        emitted["MONITOR_NAME"].as_string(),
        emitted["POWERTOOLS_SERVICE_NAME"].as_string(),
    )
    for name in graphed:
        assert f'"{namespace}","{name}","Monitor","{monitor}","service","{service}"' in body
    # Scan duration as average (the dashboard's default statistic, left out) and maximum.
    options = re.findall(rf'\["{namespace}","ScanDuration",[^{{\]]*(\{{[^}}]*\}})\]', body)
    assert sorted(json.loads(option).get("stat", "Average") for option in options) == [
        "Average",
        "Maximum",
    ]


def test_dashboard_graphs_function_errors_invocations_and_queue_depth(template: Template) -> None:
    body = _dashboard_body(template)
    function_id, _ = only_resource(template, "AWS::Lambda::Function")
    for metric in ("Errors", "Invocations"):
        assert f'"AWS/Lambda","{metric}","FunctionName","{json.dumps(ref(function_id))}"' in body
    for queue_id in _queue_ids(template).values():
        queue_name = json.dumps(get_att(queue_id, "QueueName"))
        assert f'"AWS/SQS","ApproximateNumberOfMessagesVisible","QueueName","{queue_name}"' in body


def test_dashboard_shows_every_alarm(full: Template) -> None:
    body = _dashboard_body(full)
    for logical_id in full.find_resources("AWS::CloudWatch::Alarm"):
        assert json.dumps(get_att(logical_id)) in body


def test_per_status_widget_only_with_full_inventory(template: Template, full: Template) -> None:
    for name in STATUS_METRICS:
        assert f'"{name}"' not in _dashboard_body(template)
        assert f'"{name}"' in _dashboard_body(full)
    assert "Attachments per status" in _dashboard_body(full)
    assert "Attachments per status" not in _dashboard_body(template)


# --- templates stay lint clean ---------------------------------------------------------------


def test_templates_are_lint_clean(
    template: Template, full: Template, heartbeat_app: cdk.App
) -> None:
    assert lint_template(template) == []
    assert lint_template(full) == []
    stack = monitor_stack(heartbeat_app, f"{DEFAULT_STACK_NAME}-ap-southeast-2")
    assert lint_template(Template.from_stack(stack)) == []
