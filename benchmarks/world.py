"""The simulated account the measured handler runs against.

* The in-repo fake SMS API (``python -m tests.fakes.fake_sms_api``) and moto's server
  (SNS, DynamoDB) each run in a process of their own; the handler finds them through
  ``AWS_ENDPOINT_URL_<SERVICE>``, as in the integration tests.
* CloudFormation's ResponseURL is the tests' ResponseUrlServer, in this process.
* Every invocation runs in a fresh process (``benchmarks.probe_invoke``), so what it
  measures is the handler alone, and its outcome is checked before any figure is used.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import uuid
from collections.abc import Collection, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import boto3

from benchmarks.probe_invoke import ProbeResult
from benchmarks.processes import (
    PYTHON,
    BenchmarkError,
    clean_env,
    free_port,
    http,
    log_tail,
    read_ready_line,
    run,
    start_server,
    wait_for_http,
)
from tests.fakes.fake_sms_api import STATUSES
from tests.support.response_url import ResponseUrlServer

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
TOPIC_NAME = "bench-alerts"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC_NAME}"
TABLE = "bench-alert-state"
_FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:registration-attachment-monitor"
#: Above the individual alerts of every population but the largest, which also gets a digest.
MAX_ALERTS_PER_RUN = 500
FAKE_CREDENTIAL = "testing"  # nothing here can authenticate against a real account
LAMBDA_TIMEOUT_SECONDS = 120  # the stack's function timeout
#: Population mix: 1% failed (rounded up, at most 1,000: the alerting part stays bounded),
#: 1% uploads in progress (created now: listed by the scan, not stuck), 1% deleted.
FAILED_SHARE = 0.01
FAILED_CAP = 1_000
IN_PROGRESS_SHARE = 0.01
DELETED_SHARE = 0.01
_PROBE_TIMEOUT_SECONDS = 600
SCHEDULER_EVENT: dict[str, Any] = {  # EventBridge Scheduler's default payload: detail a string
    "version": "0",
    "id": "7f1b5bc4-0000-0000-0000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.scheduler",
    "account": ACCOUNT,
    "time": "2026-12-04T10:00:00Z",
    "region": REGION,
    "resources": [f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/monitor"],
    "detail": "{}",
}


class Entry(Enum):
    """The ways into the handler that the benchmarks drive."""

    SCAN = "scan"
    CREATE = "custom resource"


@dataclass(frozen=True, slots=True)
class Population:
    """How many attachments of each status the fake API holds."""

    counts: Mapping[str, int]

    @classmethod
    def mix(cls, total: int) -> Population:
        failed = min(math.ceil(total * FAILED_SHARE), FAILED_CAP, total)
        in_progress = min(math.floor(total * IN_PROGRESS_SHARE), total - failed)
        deleted = min(math.floor(total * DELETED_SHARE), total - failed - in_progress)
        complete = total - failed - in_progress - deleted
        counts = {
            "UPLOAD_FAILED": failed,
            "UPLOAD_IN_PROGRESS": in_progress,
            "DELETED": deleted,
            "UPLOAD_COMPLETE": complete,
        }
        return cls({status: n for status, n in counts.items() if n})

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def failed(self) -> int:
        return self.counts.get("UPLOAD_FAILED", 0)

    def within(self, statuses: Collection[str]) -> int:
        return sum(n for status, n in self.counts.items() if status in statuses)


@dataclass(frozen=True, slots=True)
class Invocation:
    """One checked invocation: the probe's figures plus what the fake API saw."""

    probe: ProbeResult
    fake_calls: int  # requests the fake SMS API served during the invocation

    @property
    def listed_statuses(self) -> frozenset[str]:
        """What the first listing asked for: AND across filters, OR within one."""
        listed = frozenset(STATUSES)
        for item in self.probe.sms_filters or ():
            listed &= frozenset(item.get("Values", ()))
        return listed


def expected_alerts(failed: int) -> tuple[int, int]:
    """(individual alerts, alerts in the digest) a fresh state table gives ``failed``."""
    individual = min(failed, MAX_ALERTS_PER_RUN)
    return individual, failed - individual


class Backends:
    """The fake SMS API and moto, both in processes of their own, and the ResponseURL."""

    def __init__(self, stack: ExitStack) -> None:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        self._workdir = workdir
        self.fake_url = _start_fake_api(stack, workdir / "fake-sms-api.log")
        self.moto_url = _start_moto(stack, workdir / "moto.log")
        self.responses = ResponseUrlServer().start()
        stack.callback(self.responses.stop)
        session = boto3.session.Session(
            aws_access_key_id=FAKE_CREDENTIAL,
            aws_secret_access_key=FAKE_CREDENTIAL,
            region_name=REGION,
        )
        self._sns = session.client("sns", endpoint_url=self.moto_url)
        self._dynamodb = session.client("dynamodb", endpoint_url=self.moto_url)
        self._sms = session.client("pinpoint-sms-voice-v2", endpoint_url=self.fake_url)
        self._population = Population({})
        self._scanned = False

    # -- the world ------------------------------------------------------------------------

    def prepare(self, population: Population, *, latency_ms: float = 0.0) -> None:
        """A fresh account: empty state table and topic, the fake holding ``population``."""
        http("POST", f"{self.moto_url}/moto-api/reset")
        if self._sns.create_topic(Name=TOPIC_NAME)["TopicArn"] != TOPIC_ARN:
            raise BenchmarkError("moto made the topic under an unexpected ARN")
        self._dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self._control("reset", {})
        self._control("seed", dict(population.counts))
        self._control("latency", {"seconds": latency_ms / 1000})
        self._population = population
        self._scanned = False

    def attachment_ids(self, count: int) -> list[str]:
        """The first ``count`` (≤ 100) attachment ids the fake lists."""
        answer = self._sms.describe_registration_attachments(MaxResults=count)
        return [item["RegistrationAttachmentId"] for item in answer["RegistrationAttachments"]]

    # -- invocations ----------------------------------------------------------------------

    def invoke(self, entry: Entry, *, trace_memory: bool = False) -> Invocation:
        if entry is Entry.SCAN:
            return self.scan(trace_memory=trace_memory)
        return self.create(trace_memory=trace_memory)

    def scan(self, *, trace_memory: bool = False) -> Invocation:
        """One scheduled scan; checks it alerted every failed attachment once."""
        if self._scanned:
            raise BenchmarkError("a scan needs a fresh state table: call prepare() first")
        self._scanned = True
        invocation = self._run(SCHEDULER_EVENT, trace_memory=trace_memory)
        _check_scan(invocation, self._population)
        return invocation

    def create(self, ids: Sequence[str] = (), *, trace_memory: bool = False) -> Invocation:
        """One custom-resource Create; checks it was answered once, with the right total."""
        self.responses.reset()
        invocation = self._run(self._create_event(ids), trace_memory=trace_memory)
        accepted = self.responses.accepted
        if len(accepted) != 1:
            raise BenchmarkError(f"custom resource answered {len(accepted)} times, not once")
        answer = accepted[0].document
        expected = len(ids) if ids else self._population.total
        total = answer.get("Data", {}).get("TotalCount")
        if answer.get("Status") != "SUCCESS" or total != str(expected):
            raise BenchmarkError(
                f"custom resource answered {answer.get('Status')} with TotalCount {total}, "
                f"expected SUCCESS with {expected}: {answer.get('Reason')}"
            )
        if invocation.probe.calls["sns"]:
            raise BenchmarkError("the custom resource published to SNS")
        return invocation

    def _run(self, event: Mapping[str, Any], *, trace_memory: bool) -> Invocation:
        event_file = self._workdir / "event.json"
        result_file = self._workdir / "result.json"
        event_file.write_text(json.dumps(event))
        result_file.unlink(missing_ok=True)
        command = [PYTHON, "-m", "benchmarks.probe_invoke", "--event", str(event_file)]
        command += ["--result", str(result_file), "--timeout", str(LAMBDA_TIMEOUT_SECONDS)]
        if trace_memory:
            command.append("--tracemalloc")
        before = self._fake_calls()
        output = run(command, env=self._handler_env(), timeout=_PROBE_TIMEOUT_SECONDS)
        fake_calls = self._fake_calls() - before
        probe = ProbeResult.load(result_file)
        if probe.error is not None:
            tail = "\n".join((output.stdout + output.stderr).splitlines()[-15:])
            raise BenchmarkError(f"the handler raised {probe.error}\n{tail}")
        return Invocation(probe, fake_calls)

    def _create_event(self, ids: Sequence[str]) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "ServiceToken": _FUNCTION_ARN,
            "RefreshToken": "1764806400000",
        }
        if ids:
            properties["RegistrationAttachmentIds"] = list(ids)
        return {
            "RequestType": "Create",
            "ServiceToken": _FUNCTION_ARN,
            "ResponseURL": self.responses.url(),
            "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/bench/{uuid.uuid4()}",
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": "AttachmentStatus",
            "ResourceType": "Custom::RegistrationAttachmentStatus",
            "ResourceProperties": properties,
        }

    def _handler_env(self) -> dict[str, str]:
        return lambda_environment(
            {
                "AWS_ENDPOINT_URL_SNS": self.moto_url,
                "AWS_ENDPOINT_URL_DYNAMODB": self.moto_url,
                "AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2": self.fake_url,
                "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
            }
        )

    def _control(self, name: str, payload: Mapping[str, Any]) -> None:
        http("POST", f"{self.fake_url}/_fake/{name}", json.dumps(payload).encode())

    def _fake_calls(self) -> int:
        count: int = json.loads(http("GET", f"{self.fake_url}/_fake/calls"))["count"]
        return count


def lambda_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """What the stack gives the function (fake credentials, no profile), plus ``extra``."""
    return clean_env(
        {
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIAL,
            "AWS_SESSION_TOKEN": FAKE_CREDENTIAL,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "ALERT_TOPIC_ARN": TOPIC_ARN,
            "STATE_TABLE_NAME": TABLE,
            "MAX_ALERTS_PER_RUN": str(MAX_ALERTS_PER_RUN),
            "POWERTOOLS_SERVICE_NAME": "registration-attachment-monitor",
            "POWERTOOLS_METRICS_NAMESPACE": "RegistrationAttachmentMonitorBench",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            **extra,
        }
    )


def _check_scan(invocation: Invocation, population: Population) -> None:
    """Every failed attachment alerted once (individually or in the digest), nothing else."""
    response = invocation.probe.response
    individual, in_digest = expected_alerts(population.failed)
    expected = {
        "attachments_seen": population.within(invocation.listed_statuses),
        "failed_found": population.failed,
        "alerts_sent": individual,
        "alerts_in_digest": in_digest,
        "alerts_failed": 0,
    }
    wrong = {
        key: response.get(key) for key, value in expected.items() if response.get(key) != value
    }
    if wrong:
        raise BenchmarkError(f"scan of {population.total:,}: expected {expected}, got {wrong}")


def _start_fake_api(stack: ExitStack, log: Path) -> str:
    command = [PYTHON, "-m", "tests.fakes.fake_sms_api", "--port", "0"]
    process = start_server(stack, command, env=clean_env({}), log=log, pipe_stdout=True)
    try:
        return read_ready_line(process, prefix="READY ", timeout=60)
    except BenchmarkError as error:
        raise BenchmarkError(f"{error}\n{log_tail(log)}") from None


def _start_moto(stack: ExitStack, log: Path) -> str:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = start_server(stack, command, env=clean_env({}), log=log)
    try:
        wait_for_http(f"{url}/moto-api/reset", process=process, what="moto server")
    except BenchmarkError as error:
        raise BenchmarkError(f"{error}\n{log_tail(log)}") from None
    return url
