"""app.py and its context: defaults, validation, the refresh token, the real entry point."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from stacks.settings import (
    DEFAULT_SCHEDULE_EXPRESSION,
    DEFAULT_STACK_NAME,
    ContextError,
    MonitorSettings,
    all_settings_from_context,
    settings_from_context,
)
from tests.infra.synth import (
    PINNED_REFRESH_TOKEN,
    REPOSITORY_ROOT,
    build_app,
    only_resource,
    synth_template,
)

TOPIC_ARN = "arn:aws:sns:us-east-1:999999999999:central-alerts"
KEY_ARN = "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _settings(context: dict[str, Any]) -> MonitorSettings:
    return settings_from_context(cdk.App(context=context).node)


def _refresh_token(template: Template) -> str:
    _, resource = only_resource(template, "Custom::RegistrationAttachmentStatus")
    token = resource["Properties"]["RefreshToken"]
    assert isinstance(token, str)
    return token


# --- parsing --------------------------------------------------------------------------


def test_defaults_without_context() -> None:
    before = int(time.time() * 1000)
    settings = _settings({})
    after = int(time.time() * 1000)
    assert settings.stack_name == DEFAULT_STACK_NAME == "RegistrationAttachmentMonitor"
    assert settings.schedule_expression == DEFAULT_SCHEDULE_EXPRESSION == "rate(1 hour)"
    assert settings.max_alerts_per_run == 50
    assert settings.alert_reminder_hours == 0
    assert settings.full_inventory is False
    assert settings.schedule_time_zone is None
    assert settings.registration_attachment_ids == ()
    assert settings.attachment_statuses == ()
    assert settings.fail_on_statuses == ()
    assert settings.log_retention_days == 90
    assert settings.alert_topic_arn is None
    assert settings.alert_topic_key_arn is None
    assert settings.alert_emails == ()
    assert settings.state_table_removal_policy == "retain"
    assert settings.stuck_upload_minutes == 60
    assert settings.heartbeat_window_minutes is None  # twice the rate
    assert settings.operations_emails == ()
    assert settings.alarm_on_new_failures is False
    assert (settings.account, settings.region) == (None, None)
    assert settings.refresh_token.isdigit()
    assert before <= int(settings.refresh_token) <= after


def test_values_from_cdk_json_or_from_the_command_line() -> None:
    from_json = _settings(
        {
            "stackName": "Monitor-eu",
            "scheduleExpression": "cron(0 8 * * ? *)",
            "scheduleTimeZone": "Europe/Berlin",
            "heartbeatWindowMinutes": 1500,
            "stuckUploadMinutes": 30,
            "operationsEmails": ["oncall@example.com"],
            "alarmOnNewFailures": True,
            "maxAlertsPerRun": 10,
            "alertReminderHours": 24,
            "fullInventory": True,
            "registrationAttachmentIds": ["ra-1", "ra-2"],
            "attachmentStatuses": ["UPLOAD_FAILED", "UPLOAD_COMPLETE"],
            "failOnStatuses": ["UPLOAD_FAILED"],
            "logRetentionDays": 365,
            "alertTopicArn": TOPIC_ARN,
            "alertTopicKeyArn": KEY_ARN,
            "alertEmails": ["ops@example.com", "oncall@example.com"],
            "stateTableRemovalPolicy": "destroy",
            "refreshToken": 1700000000000,
        }
    )
    from_cli = _settings(  # `cdk synth -c key=value` passes strings
        {
            "scheduleExpression": "cron(0 8 * * ? *)",
            "heartbeatWindowMinutes": "1500",
            "stuckUploadMinutes": "30",
            "operationsEmails": "oncall@example.com",
            "alarmOnNewFailures": "true",
            "maxAlertsPerRun": "10",
            "alertReminderHours": "24",
            "fullInventory": "true",
            "registrationAttachmentIds": "ra-1, ra-2",
            "attachmentStatuses": "UPLOAD_FAILED,UPLOAD_COMPLETE",
            "failOnStatuses": "UPLOAD_FAILED",
            "logRetentionDays": "365",
            "alertEmails": "ops@example.com,oncall@example.com",
            "stateTableRemovalPolicy": "DESTROY",
            "refreshToken": "1700000000000",
        }
    )
    assert from_json.stack_name == "Monitor-eu"
    assert from_json.schedule_expression == "cron(0 8 * * ? *)"
    assert from_json.schedule_time_zone == "Europe/Berlin"
    assert from_json.alert_topic_arn == TOPIC_ARN
    assert from_json.alert_topic_key_arn == KEY_ARN
    for settings in (from_json, from_cli):
        assert settings.max_alerts_per_run == 10
        assert settings.alert_reminder_hours == 24
        assert settings.full_inventory is True
        assert settings.registration_attachment_ids == ("ra-1", "ra-2")
        assert settings.attachment_statuses == ("UPLOAD_FAILED", "UPLOAD_COMPLETE")
        assert settings.fail_on_statuses == ("UPLOAD_FAILED",)
        assert settings.log_retention_days == 365
        assert settings.alert_emails == ("ops@example.com", "oncall@example.com")
        assert settings.state_table_removal_policy == "destroy"
        assert settings.refresh_token == "1700000000000"
        assert settings.heartbeat_window_minutes == 1500
        assert settings.stuck_upload_minutes == 30
        assert settings.operations_emails == ("oncall@example.com",)
        assert settings.alarm_on_new_failures is True


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("stackName", "1starts-with-a-digit"),
        ("stackName", "under_score"),
        ("stackName", 42),
        ("scheduleExpression", "every hour"),
        ("scheduleExpression", ""),
        ("maxAlertsPerRun", 0),
        ("maxAlertsPerRun", "-1"),
        ("maxAlertsPerRun", "ten"),
        ("maxAlertsPerRun", True),
        ("maxAlertsPerRun", 2.5),
        ("alertReminderHours", -1),
        ("alertReminderHours", "1.5"),
        ("refreshToken", "yesterday"),
        ("refreshToken", ""),
        ("refreshToken", -5),
        ("scheduleExpression", "at(2030-01-01T00:00:00)"),
        ("scheduleExpression", "rate(2 hour)"),
        ("scheduleTimeZone", "Mars/Olympus_Mons"),
        ("scheduleTimeZone", 1),
        ("alertReminderHours", 24 * 366 * 10 + 1),
        ("fullInventory", "yes"),
        ("registrationAttachmentIds", [f"ra-{n}" for n in range(31)]),
        ("registrationAttachmentIds", ["ra 1"]),
        ("registrationAttachmentIds", {"id": "ra-1"}),
        ("registrationAttachmentIds", "ra-1,,ra-2"),
        ("attachmentStatuses", ["FAILED"]),
        ("failOnStatuses", "upload_failed"),
        ("logRetentionDays", 2),
        ("logRetentionDays", "forever"),
        ("alertTopicArn", "arn:aws:sqs:us-east-1:999999999999:queue"),
        ("alertTopicKeyArn", KEY_ARN),  # without alertTopicArn
        ("alertEmails", ["ops@example.com", "nobody"]),
        ("stateTableRemovalPolicy", "snapshot"),
        ("environments", "not json"),
        ("environments", {"region": "us-east-1"}),
        ("environments", ["us-east-1"]),
        ("stuckUploadMinutes", -1),
        ("stuckUploadMinutes", "an hour"),
        ("heartbeatWindowMinutes", 0),
        ("heartbeatWindowMinutes", 7 * 24 * 60 + 1),
        ("heartbeatWindowMinutes", 30),  # shorter than the default rate(1 hour)
        ("alarmOnNewFailures", "sometimes"),
        ("operationsEmails", ["oncall"]),
    ],
)
def test_bad_values_fail_naming_the_key(key: str, value: object) -> None:
    with pytest.raises(ContextError, match=f"context key '{key}'"):
        all_settings_from_context(cdk.App(context={key: value}).node)


@pytest.mark.parametrize(
    ("environments", "key"),
    [
        ([{"account": "111111111111"}], "environments[0].region"),
        ([{"region": "mars-1"}], "environments[0].region"),
        ([{"region": "us-east-1", "account": "1234"}], "environments[0].account"),
        ([{"region": "us-east-1"}, {"region": "eu-west-1", "acount": "1"}], "environments[1]"),
        ([{"region": "us-east-1", "maxAlertsPerRun": 0}], "environments[0].maxAlertsPerRun"),
        (
            [
                {
                    "region": "us-east-1",
                    "account": "111111111111",
                    "registrationAttachmentIds": [
                        "arn:aws:sms-voice:eu-west-1:111111111111:registration-attachment/ra-1"
                    ],
                }
            ],
            "environments[0].registrationAttachmentIds",
        ),
        ([{"region": "us-east-1"}, {"region": "us-east-1"}], "environments[0]"),
        (
            [
                {"region": "us-east-1", "account": "111111111111"},
                {"region": "us-east-1", "account": "111111111111"},
            ],
            "environments[0]",
        ),
    ],
)
def test_bad_environments_fail_naming_the_entry(
    environments: list[dict[str, Any]], key: str
) -> None:
    with pytest.raises(ContextError, match=re.escape(f"context key '{key}'")):
        all_settings_from_context(cdk.App(context={"environments": environments}).node)


def test_one_environment_agnostic_stack_without_environments() -> None:
    for context in ({}, {"environments": []}, {"environments": "[]"}):
        (settings,) = all_settings_from_context(cdk.App(context=context).node)
        assert settings.stack_name == DEFAULT_STACK_NAME
        assert (settings.account, settings.region) == (None, None)


def test_environments_name_stacks_by_region_and_override_settings() -> None:
    context = {
        "stackName": "Monitor",
        "maxAlertsPerRun": 5,
        "environments": [
            {
                "account": "111111111111",
                "region": "us-east-1",
                "registrationAttachmentIds": ["ra-1"],
            },
            {"account": "222222222222", "region": "eu-west-1", "maxAlertsPerRun": 9},
            {"account": "333333333333", "region": "eu-west-1"},
            {"region": "ap-southeast-2", "stackName": "Sydney"},
        ],
    }
    result = all_settings_from_context(cdk.App(context=context).node)
    assert [(s.stack_name, s.account, s.region) for s in result] == [
        ("Monitor-us-east-1", "111111111111", "us-east-1"),
        ("Monitor-eu-west-1-222222222222", "222222222222", "eu-west-1"),
        ("Monitor-eu-west-1-333333333333", "333333333333", "eu-west-1"),
        ("Sydney", None, "ap-southeast-2"),
    ]
    assert [s.max_alerts_per_run for s in result] == [5, 9, 5, 5]
    assert [s.registration_attachment_ids for s in result] == [("ra-1",), (), (), ()]
    assert len({s.refresh_token for s in result}) == 1


# --- synthesis ------------------------------------------------------------------------


def test_two_synths_give_increasing_refresh_tokens() -> None:
    first = _refresh_token(synth_template())
    second = _refresh_token(synth_template())
    assert first.isdigit()
    assert second.isdigit()
    assert int(second) > int(first)


def test_context_reaches_the_template() -> None:
    template = synth_template(
        {
            "stackName": "Monitor-test",
            "scheduleExpression": "rate(15 minutes)",
            "maxAlertsPerRun": "7",
            "alertReminderHours": "48",
            "fullInventory": "true",
            "scheduleTimeZone": "America/New_York",
            "logRetentionDays": 30,
            "registrationAttachmentIds": ["ra-1"],
            "attachmentStatuses": ["UPLOAD_FAILED"],
            "failOnStatuses": ["UPLOAD_FAILED"],
            "alertEmails": ["ops@example.com"],
            "stateTableRemovalPolicy": "destroy",
            "refreshToken": "1234",
        }
    )
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "rate(15 minutes)",
            "ScheduleExpressionTimezone": "America/New_York",
        },
    )
    _, function = only_resource(template, "AWS::Lambda::Function")
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["MAX_ALERTS_PER_RUN"] == "7"
    assert variables["ALERT_REMINDER_HOURS"] == "48"
    assert variables["FULL_INVENTORY"] == "true"
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    template.has_resource_properties(
        "Custom::RegistrationAttachmentStatus",
        {
            "RegistrationAttachmentIds": ["ra-1"],
            "AttachmentStatuses": ["UPLOAD_FAILED"],
            "FailOnStatuses": ["UPLOAD_FAILED"],
        },
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    template.has_resource("AWS::DynamoDB::Table", {"DeletionPolicy": "Delete"})
    template.has_output("AttachmentStatusra1", {})
    assert _refresh_token(template) == "1234"
    exports = {o["Export"]["Name"] for o in template.find_outputs("*").values() if "Export" in o}
    assert exports == {
        "Monitor-test-AlertTopicArn",
        "Monitor-test-OperationsTopicArn",
        "Monitor-test-FunctionArn",
        "Monitor-test-StateTableName",
    }


@pytest.fixture(scope="module")
def two_regions() -> cdk.App:
    return build_app(
        {
            "refreshToken": PINNED_REFRESH_TOKEN,
            "environments": [
                {"account": "111111111111", "region": "us-east-1"},
                {"account": "222222222222", "region": "eu-west-1"},
            ],
        }
    )


def test_two_regions_yield_two_stacks(two_regions: cdk.App) -> None:
    stacks = {
        child.stack_name: child
        for child in two_regions.node.children
        if isinstance(child, cdk.Stack)
    }
    assert set(stacks) == {
        f"{DEFAULT_STACK_NAME}-us-east-1",
        f"{DEFAULT_STACK_NAME}-eu-west-1",
    }
    for name, account, region in (
        (f"{DEFAULT_STACK_NAME}-us-east-1", "111111111111", "us-east-1"),
        (f"{DEFAULT_STACK_NAME}-eu-west-1", "222222222222", "eu-west-1"),
    ):
        stack = stacks[name]
        assert (stack.account, stack.region) == (account, region)
        template = Template.from_stack(stack)
        exports = {
            o["Export"]["Name"] for o in template.find_outputs("*").values() if "Export" in o
        }
        assert exports == {
            f"{name}-AlertTopicArn",
            f"{name}-OperationsTopicArn",
            f"{name}-FunctionArn",
            f"{name}-StateTableName",
        }
        template.has_resource_properties(
            "AWS::SSM::Parameter",
            {"Name": f"/registration-attachment-monitor/{name}/UploadFailedCount"},
        )
        # The Powertools layer of the stack's own region.
        template.has_resource_properties(
            "AWS::Lambda::Function",
            {
                "Layers": [
                    f"arn:aws:lambda:{region}:017000801446:layer:"
                    "AWSLambdaPowertoolsPythonV3-python314-arm64:40"
                ]
            },
        )


def test_existing_topic_from_context() -> None:
    template = synth_template(
        {"refreshToken": "1", "alertTopicArn": TOPIC_ARN, "alertTopicKeyArn": KEY_ARN}
    )
    # Only the operations topic and its key.
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.resource_count_is("AWS::KMS::Key", 1)
    template.has_output("AlertTopicArn", {"Value": TOPIC_ARN})


def run_app_py(**environment: str) -> subprocess.CompletedProcess[str]:
    """Runs app.py as the CDK CLI would, with none of this process's AWS, CDK or Python
    settings, plus ``environment``."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "CDK_", "PYTHON"))
    }
    return subprocess.run(
        [sys.executable, str(REPOSITORY_ROOT / "app.py")],
        cwd=REPOSITORY_ROOT,
        env=inherited | environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_app_py_synthesizes_with_no_context_and_no_credentials(tmp_path: Path) -> None:
    """The real entry point, as `cdk synth` runs it, minus the CLI: no context, no AWS."""
    before = int(time.time() * 1000)
    result = run_app_py(
        CDK_OUTDIR=str(tmp_path),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    )
    assert result.returncode == 0, result.stderr
    template_file = tmp_path / f"{DEFAULT_STACK_NAME}.template.json"
    template = Template.from_json(json.loads(template_file.read_text(encoding="utf-8")))
    token = _refresh_token(template)
    assert token.isdigit()
    assert before <= int(token) <= int(time.time() * 1000)


def test_app_py_names_a_bad_context_key_without_a_traceback(tmp_path: Path) -> None:
    result = run_app_py(
        CDK_OUTDIR=str(tmp_path),
        # How the CLI hands `-c maxAlertsPerRun=0` to the app.
        CDK_CONTEXT_JSON=json.dumps({"maxAlertsPerRun": "0"}),
    )
    assert result.returncode == 1
    assert "context key 'maxAlertsPerRun' must be an integer >= 1" in result.stderr
    assert "Traceback" not in result.stderr
