"""The operator CLI against the fake SMS API and moto: same code as the Lambda."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lambda_src.cli import main
from tests.integration.conftest import TABLE, World

REPO = Path(__file__).resolve().parents[2]


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out)
    return code, out.getvalue()


def test_status_prints_a_table_and_the_counts_the_custom_resource_reports(world: World) -> None:
    # Given a failed upload two days old among healthy ones
    old = datetime.now(UTC) - timedelta(days=2)
    [failed] = world.api.add("UPLOAD_FAILED", created=old)
    world.api.add("UPLOAD_COMPLETE", count=2)

    code, output = run("status", "--region", "us-east-1")

    assert code == 0
    row = next(line for line in output.splitlines() if failed.attachment_id in line)
    assert row.split()[1:] == ["UPLOAD_FAILED", "INTERNAL_ERROR", "2", "days"]
    assert "TotalCount" in output
    counts = dict(line.split() for line in output.splitlines()[-9:] if line.strip())
    assert counts["UploadFailedCount"] == "1"
    assert counts["UploadCompleteCount"] == "2"
    assert counts["FailedAttachmentIds"] == failed.attachment_id


def test_status_json_lists_requested_ids(world: World) -> None:
    attachments = world.api.add("UPLOAD_COMPLETE", count=7)
    ids = [a.attachment_id for a in attachments]

    code, output = run("status", "--ids", *ids, "--json")

    assert code == 0
    document = json.loads(output)
    assert [a["registrationAttachmentId"] for a in document["attachments"]] == ids
    assert document["counts"]["TotalCount"] == "7"
    assert document["counts"][f"Status.{ids[0]}"] == "UPLOAD_COMPLETE"
    assert world.api.call_count == 2  # five ids per request


def test_status_with_an_unknown_id_exits_4_naming_it(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run("status", "--ids", "attachment-doesnotexist")

    assert code == 4
    assert "attachment-doesnotexist" in capsys.readouterr().err


def test_status_with_an_unknown_status_exits_2(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run("status", "--statuses", "UPLOAD_BROKEN")

    assert code == 2
    assert "UPLOAD_BROKEN" in capsys.readouterr().err
    assert world.api.call_count == 0


def test_access_denied_exits_4(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.api.deny_access()

    assert run("status")[0] == 4
    assert "AccessDeniedException" in capsys.readouterr().err
    assert run("scan", "--dry-run")[0] == 4


def test_scan_dry_run_prints_alerts_and_changes_nothing(world: World) -> None:
    [failed] = world.api.add("UPLOAD_FAILED")

    code, output = run("scan", "--dry-run", "--table-name", TABLE)

    assert code == 0
    assert f"--- SMS registration attachment upload failed: {failed.attachment_id}" in output
    assert "Fix: Upload the document again" in output
    assert world.alerts() == []  # nothing published
    assert world.dynamodb.scan(TableName=TABLE)["Count"] == 0  # nothing claimed


def test_scan_publishes_once_through_the_given_topic_and_table(world: World) -> None:
    [failed] = world.api.add("UPLOAD_FAILED")

    code, output = run("scan", "--topic-arn", world.topic_arn, "--table-name", TABLE)

    assert code == 0
    assert json.loads(output)["alerts_sent"] == 1
    assert [a["registrationAttachmentId"] for a in world.alerts()] == [failed.attachment_id]
    assert (
        json.loads(run("scan", "--topic-arn", world.topic_arn, "--table-name", TABLE)[1])[
            "already_alerted"
        ]
        == 1
    )


def test_scan_without_a_topic_exits_2_naming_the_setting(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ALERT_TOPIC_ARN")

    assert run("scan", "--table-name", TABLE)[0] == 2
    assert "ALERT_TOPIC_ARN" in capsys.readouterr().err


def test_no_region_exits_3(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")

    assert run("status")[0] == 3
    assert "--region" in capsys.readouterr().err


def test_no_credentials_exits_3(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")

    assert run("status", "--region", "us-east-1")[0] == 3
    assert "credentials" in capsys.readouterr().err
    assert world.api.call_count == 0


def test_python_dash_m_runs_the_cli() -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "lambda_src", "--help"], cwd=REPO, capture_output=True, text=True
    )

    assert answer.returncode == 0
    assert "status" in answer.stdout
    assert "Exit codes" in answer.stdout
