"""Operator CLI: the Lambda's own code, run by a person with AWS credentials.

    python -m lambda_src status [--region R] [--ids ID ...] [--statuses S ...] [--json]
    python -m lambda_src scan   [--region R] [--dry-run] [--topic-arn ARN] [--table-name T]

Exit codes: 0 done · 2 bad arguments · 3 no credentials or no region · 4 AWS refused the
request (access denied, unknown id, …) · 5 the scan ran but could not finish.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

import boto3
from botocore.exceptions import ClientError, NoCredentialsError

from .alerts import Alert, AlertPublisher, BatchOutcome, describe_age
from .config import ConfigError, load_config
from .custom_resource import PropertyError, ReportError, parse_properties, read_status
from .model import Attachment
from .scan import ScanIncompleteError, Scanner
from .sms_api import AttachmentsApi
from .state import AlertRecord, AlertState

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_NO_CREDENTIALS = 3
EXIT_AWS_REFUSED = 4
EXIT_SCAN_INCOMPLETE = 5


class _Refused(Exception):
    """AWS said no; the message says what and why."""


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = _parser().parse_args(argv)
    region = args.region or boto3.session.Session().region_name
    if not region:
        return _fail(EXIT_NO_CREDENTIALS, "no region: pass --region or set AWS_REGION")
    if boto3.session.Session().get_credentials() is None:
        return _fail(
            EXIT_NO_CREDENTIALS,
            "no AWS credentials found: set AWS_PROFILE, run `aws sso login`, or export keys",
        )
    try:
        if args.command == "status":
            return _status(args, region, out)
        return _scan(args, region, out)
    except (PropertyError, ConfigError) as error:
        return _fail(EXIT_USAGE, str(error))
    except NoCredentialsError:
        return _fail(EXIT_NO_CREDENTIALS, "no AWS credentials found")
    except (_Refused, ReportError) as error:
        return _fail(EXIT_AWS_REFUSED, str(error))
    except ScanIncompleteError as error:
        print(json.dumps(error.summary.as_dict()), file=out)
        return _fail(EXIT_SCAN_INCOMPLETE, str(error))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lambda_src",
        description="Registration attachment monitor: look at attachments, run a scan.",
        epilog="Exit codes: 0 ok, 2 bad arguments, 3 no credentials/region, "
        "4 AWS refused, 5 scan incomplete.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser("status", help="list attachments and the counts reported")
    status.add_argument("--region", help="AWS region (default: your AWS configuration)")
    status.add_argument("--ids", nargs="+", metavar="ID", help="only these ids or ARNs (≤30)")
    status.add_argument("--statuses", nargs="+", metavar="STATUS", help="statuses to count")
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    scan = commands.add_parser("scan", help="run the alert path once")
    scan.add_argument("--region", help="AWS region (default: your AWS configuration)")
    scan.add_argument("--dry-run", action="store_true", help="print alerts, publish nothing")
    scan.add_argument("--topic-arn", help="alert topic (default: $ALERT_TOPIC_ARN)")
    scan.add_argument("--table-name", help="alert state table (default: $STATE_TABLE_NAME)")
    return parser


def _status(args: argparse.Namespace, region: str, out: TextIO) -> int:
    properties: dict[str, Any] = {}
    if args.ids:
        properties["RegistrationAttachmentIds"] = args.ids
    if args.statuses:
        properties["AttachmentStatuses"] = args.statuses
    request = parse_properties(properties)
    now = datetime.now(UTC)
    rows: list[Attachment] = []
    if not args.json:
        print(f"{'ATTACHMENT':<45} {'STATUS':<19} {'REASON':<15} AGE", file=out)

    def show(attachment: Attachment) -> None:
        if attachment.status not in request.statuses:
            return
        if args.json:
            rows.append(attachment)
            return
        reason = attachment.error_reason or "-"
        age = describe_age(now - attachment.created)
        print(
            f"{attachment.attachment_id:<45} {attachment.status:<19} {reason:<15} {age}", file=out
        )

    report = read_status(AttachmentsApi(region), request, observe=show)
    data = report.data()
    if args.json:
        listing = [
            {
                "registrationAttachmentId": a.attachment_id,
                "attachmentStatus": a.status,
                "attachmentUploadErrorReason": a.error_reason,
                "ageSeconds": int((now - a.created).total_seconds()),
            }
            for a in rows
        ]
        print(json.dumps({"attachments": listing, "counts": data}, indent=2), file=out)
    else:
        print("", file=out)
        for key, value in data.items():
            print(f"{key:<40} {value}", file=out)
    return EXIT_OK


def _scan(args: argparse.Namespace, region: str, out: TextIO) -> int:
    topic = args.topic_arn or os.environ.get("ALERT_TOPIC_ARN", "")
    table = args.table_name or os.environ.get("STATE_TABLE_NAME", "")
    publisher: AlertPublisher
    state: AlertState
    if args.dry_run:
        # Neither is needed to preview: alerts are printed, and state is only read.
        topic = topic or f"arn:aws:sns:{region}:000000000000:dry-run"
        publisher, state = _PrintingPublisher(out), _PreviewState(table, region)
    environ = dict(os.environ) | {
        "AWS_REGION": region,
        "ALERT_TOPIC_ARN": topic,
        "STATE_TABLE_NAME": table or ("(none)" if args.dry_run else ""),
    }
    config = load_config(environ)
    if not args.dry_run:
        publisher = AlertPublisher(config.alert_topic_arn)
        state = AlertState(table, region, reminder_interval=config.reminder_interval)
    try:
        summary = Scanner(config, AttachmentsApi(region), publisher, state).run(
            lease_seconds=15 * 60
        )
    except ScanIncompleteError as error:
        cause = error.__cause__
        if isinstance(cause, ClientError) and _is_refusal(cause):
            raise _Refused(_describe(cause)) from cause
        raise
    print(json.dumps(summary.as_dict()), file=out)
    return EXIT_OK


class _PrintingPublisher(AlertPublisher):
    """--dry-run: prints each alert as an email subscriber would read it."""

    def __init__(self, out: TextIO) -> None:
        super().__init__("arn:aws:sns:dry-run:000000000000:dry-run")
        self._out = out

    def publish(self, alerts: Sequence[Alert]) -> BatchOutcome:
        for alert in alerts:
            print(f"--- {alert.subject}", file=self._out)
            print(json.loads(alert.message)["email"], file=self._out)
        return BatchOutcome(delivered=list(alerts))


class _PreviewState(AlertState):
    """--dry-run: reads what was already alerted when a table is given; writes nothing."""

    def records(self, keys: Sequence[str]) -> dict[str, AlertRecord]:
        return super().records(keys) if self.table_name else {}

    def claim(self, key: str, *, now: int, lease_seconds: int) -> bool:
        return True

    def mark_sent(self, key: str, *, now: int) -> None:
        return None

    def keep_alive(self, records: Any, *, now: int) -> int:
        return 0


def _is_refusal(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    return code in {"AccessDeniedException", "AccessDenied", "ResourceNotFoundException"} or (
        "NotFound" in code
    )


def _describe(error: ClientError) -> str:
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'Error')}: {details.get('Message', '')}".strip()


def _fail(code: int, message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code
