"""cdk-nag (v3: `AwsSolutionsChecks` and `ServerlessChecks` as CDK validation plugins) and
cfn-lint over every synthesized template: zero unacknowledged findings, errors and warnings
alike, and each acknowledgement on one resource with a reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct

from stacks.encrypted_queue import EncryptedQueue
from stacks.registration_attachment_monitor import RegistrationAttachmentMonitor
from tests.infra.synth import PINNED_REFRESH_TOKEN, build_app, lint_template

CENTRAL_TOPIC = "arn:aws:sns:us-east-1:999999999999:central-alerts"
CENTRAL_KEY = "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ACKNOWLEDGED = "aws:cdk:acknowledged-rules"


def _default_app() -> cdk.App:
    return build_app({"refreshToken": PINNED_REFRESH_TOKEN})


def _full_app() -> cdk.App:
    """Two regions, watched ids, the gate, email subscribers of both topics, a cron schedule
    (with its heartbeat window), every optional alarm and widget."""
    return build_app(
        {
            "refreshToken": PINNED_REFRESH_TOKEN,
            "scheduleExpression": "cron(0 8 * * ? *)",
            "scheduleTimeZone": "Europe/Berlin",
            "heartbeatWindowMinutes": 2 * 24 * 60,
            "fullInventory": True,
            "alarmOnNewFailures": True,
            "operationsEmails": ["oncall@example.com"],
            "failOnStatuses": ["UPLOAD_FAILED"],
            "alertEmails": ["ops@example.com"],
            "environments": [
                {
                    "account": "111111111111",
                    "region": "us-east-1",
                    "registrationAttachmentIds": [
                        "ra-0123",
                        "arn:aws:sms-voice:us-east-1:111111111111:registration-attachment/ra-4567",
                    ],
                },
                {"account": "222222222222", "region": "eu-west-1"},
            ],
        }
    )


def _central_topic_app() -> cdk.App:
    return build_app(
        {
            "refreshToken": PINNED_REFRESH_TOKEN,
            "alertTopicArn": CENTRAL_TOPIC,
            "alertTopicKeyArn": CENTRAL_KEY,
        }
    )


def _construct_app() -> cdk.App:
    """The construct in another project's app: no cdk.json context, subscribers of both kinds."""
    app = cdk.App()
    stack = cdk.Stack(app, "Platform")
    subscriber = sqs.Queue(
        stack,
        "Subscriber",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        dead_letter_queue=sqs.DeadLetterQueue(
            max_receive_count=5,
            queue=EncryptedQueue(
                stack, "SubscriberDeadLetters", dead_letter_for="the subscriber queue's DLQ"
            ).queue,
        ),
    )
    RegistrationAttachmentMonitor(
        stack,
        "Monitor",
        refresh_token=PINNED_REFRESH_TOKEN,
        alert_emails=["ops@example.com"],
        alert_queues=[subscriber],
        operations_emails=["oncall@example.com"],
        alarm_on_new_failures=True,
    )
    central = cdk.Stack(app, "PlatformCentral")
    RegistrationAttachmentMonitor(
        central,
        "Monitor",
        refresh_token=PINNED_REFRESH_TOKEN,
        alert_topic=sns.Topic.from_topic_arn(central, "Central", CENTRAL_TOPIC),
    )
    return app


APPS: dict[str, Callable[[], cdk.App]] = {
    "default": _default_app,
    "full": _full_app,
    "central-topic": _central_topic_app,
    "construct": _construct_app,
}


@pytest.fixture(scope="module", params=sorted(APPS))
def checked_app(request: pytest.FixtureRequest) -> tuple[cdk.App, cdk.CloudAssembly]:
    """The app with both packs registered the v3 way, synthesized (synth fails on any
    unacknowledged finding, error or warning)."""
    app = APPS[request.param]()
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    # Synthesis runs the plugins and raises on any violation; the test below reports them.
    try:
        assembly = app.synth()
    except RuntimeError as error:
        pytest.fail(f"cdk-nag findings in the {request.param!r} app:\n{error}")
    return app, assembly


@pytest.mark.parametrize("pack", [AwsSolutionsChecks, ServerlessChecks])
def test_no_unacknowledged_findings(
    checked_app: tuple[cdk.App, cdk.CloudAssembly], pack: Callable[[], Any]
) -> None:
    app, _ = checked_app
    report = pack().validate_scope(app)
    findings = [
        f"{violation.severity} {violation.rule_name} at "
        + ", ".join(r.construct_path or "?" for r in violation.violating_resources)
        for violation in report.violations
    ]
    assert findings == []
    assert report.success


def test_validation_report_is_empty(checked_app: tuple[cdk.App, cdk.CloudAssembly]) -> None:
    _, assembly = checked_app
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    assert report["pluginReports"] == []


def test_every_template_is_lint_clean(checked_app: tuple[cdk.App, cdk.CloudAssembly]) -> None:
    _, assembly = checked_app
    assert assembly.stacks
    for stack in assembly.stacks:
        assert (stack.stack_name, lint_template(stack.template)) == (stack.stack_name, [])


# --- the acknowledgements themselves ----------------------------------------------------


def _acknowledgements(root: IConstruct) -> list[tuple[IConstruct, str, str]]:
    found: list[tuple[IConstruct, str, str]] = []
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == ACKNOWLEDGED:
                for rule, reason in entry.data.items():
                    found.append((construct, rule.removeprefix("Annotation::"), reason))
    return found


def _relative(construct: IConstruct) -> str:
    stack = cdk.Stack.of(construct)
    return construct.node.path.removeprefix(stack.node.path + "/")


def test_acknowledgements_are_the_reviewed_ones_each_on_one_resource() -> None:
    app = _construct_app()  # subscribers too: every acknowledgement the construct makes
    stack = app.node.find_child("Platform")
    acknowledgements = _acknowledgements(stack.node.find_child("Monitor"))
    for construct, rule, reason in acknowledgements:
        assert isinstance(construct, cdk.CfnResource), (rule, construct.node.path)
        assert len(reason) >= 80, (rule, reason)
    monitor = stack.node.find_child("Monitor")
    assert isinstance(monitor, RegistrationAttachmentMonitor)
    function_resource = monitor.function.node.default_child
    assert isinstance(function_resource, cdk.CfnResource)
    function_id = cdk.Stack.of(stack).resolve(function_resource.logical_id)
    assert sorted(
        (rule, _relative(construct)) for construct, rule, _ in acknowledgements
    ) == sorted(
        [
            (
                "AwsSolutions-IAM5[Resource::*]",
                "Monitor/Monitor/ServiceRole/DefaultPolicy/Resource",
            ),
            (
                "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                "Monitor/Monitor/ServiceRole/DefaultPolicy/Resource",
            ),
            (
                f"AwsSolutions-IAM5[Resource::<{function_id}.Arn>:*]",
                "Monitor/Scan/Role/DefaultPolicy/Resource",
            ),
            ("Serverless-LambdaDLQ", "Monitor/Monitor/Function/Resource"),
            *[
                (rule, f"Monitor/{queue}/Queue/Resource")
                for queue in ("FunctionFailures", "ScheduleDeadLetters", "SubscriptionDeadLetters")
                for rule in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy")
            ],
        ]
    )


def test_a_new_wildcard_is_still_reported() -> None:
    """The acknowledgements are per finding: a wildcard someone adds later is not covered."""
    stack = cdk.Stack(cdk.App(), "Extended")
    monitor = RegistrationAttachmentMonitor(stack, "Monitor", refresh_token=PINNED_REFRESH_TOKEN)
    monitor.function.add_to_role_policy(iam.PolicyStatement(actions=["s3:Get*"], resources=["*"]))
    report = AwsSolutionsChecks().validate_scope(stack)
    assert [violation.rule_name for violation in report.violations] == [
        "AwsSolutions-IAM5[Action::s3:Get*]"
    ]
