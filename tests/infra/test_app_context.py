"""app.py and its context: defaults, validation, the refresh token, the real entry point."""

from __future__ import annotations

import json
import os
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
    settings_from_context,
)
from tests.infra.synth import REPOSITORY_ROOT, only_resource, synth_template


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
    assert settings.refresh_token.isdigit()
    assert before <= int(settings.refresh_token) <= after


def test_values_from_cdk_json_or_from_the_command_line() -> None:
    from_json = _settings(
        {
            "stackName": "Monitor-eu",
            "scheduleExpression": "cron(0 8 * * ? *)",
            "maxAlertsPerRun": 10,
            "alertReminderHours": 24,
            "refreshToken": 1700000000000,
        }
    )
    from_cli = _settings(  # `cdk synth -c key=value` passes strings
        {"maxAlertsPerRun": "10", "alertReminderHours": "24", "refreshToken": "1700000000000"}
    )
    assert from_json.stack_name == "Monitor-eu"
    assert from_json.schedule_expression == "cron(0 8 * * ? *)"
    for settings in (from_json, from_cli):
        assert settings.max_alerts_per_run == 10
        assert settings.alert_reminder_hours == 24
        assert settings.refresh_token == "1700000000000"


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
    ],
)
def test_bad_values_fail_naming_the_key(key: str, value: object) -> None:
    with pytest.raises(ContextError, match=f"context key '{key}'"):
        _settings({key: value})


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
            "refreshToken": "1234",
        }
    )
    template.has_resource_properties(
        "AWS::Scheduler::Schedule", {"ScheduleExpression": "rate(15 minutes)"}
    )
    _, function = only_resource(template, "AWS::Lambda::Function")
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["MAX_ALERTS_PER_RUN"] == "7"
    assert variables["ALERT_REMINDER_HOURS"] == "48"
    assert _refresh_token(template) == "1234"
    exports = {o["Export"]["Name"] for o in template.find_outputs("*").values() if "Export" in o}
    assert exports == {
        "Monitor-test-AlertTopicArn",
        "Monitor-test-FunctionArn",
        "Monitor-test-StateTableName",
    }


def test_app_py_synthesizes_with_no_context_and_no_credentials(tmp_path: Path) -> None:
    """The real entry point, as `cdk synth` runs it, minus the CLI: no context, no AWS."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "CDK_", "PYTHON"))
    }
    environment |= {
        "CDK_OUTDIR": str(tmp_path),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    before = int(time.time() * 1000)
    result = subprocess.run(
        [sys.executable, str(REPOSITORY_ROOT / "app.py")],
        cwd=REPOSITORY_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    template_file = tmp_path / f"{DEFAULT_STACK_NAME}.template.json"
    template = Template.from_json(json.loads(template_file.read_text(encoding="utf-8")))
    token = _refresh_token(template)
    assert token.isdigit()
    assert before <= int(token) <= int(time.time() * 1000)
