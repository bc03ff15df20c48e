"""The SMS API fake, driven by a real boto3 client over loopback HTTP."""

from __future__ import annotations

import json
import re
import select
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import boto3
import botocore.config
import botocore.exceptions
import pytest

from tests.fakes.fake_sms_api import TARGET, FakeSmsApi

pytestmark = pytest.mark.network

REPO_ROOT = Path(__file__).resolve().parents[2]
FAILED_FILTER = [{"Name": "attachment-status", "Values": ["UPLOAD_FAILED"]}]
# Config's retries "max_attempts" counts retries, not attempts: 3 means 4 calls in all.
# "total_max_attempts" counts attempts.
NO_RETRIES = {"mode": "standard", "total_max_attempts": 1}


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and no profile, so nothing can ever reach AWS."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def fake() -> Iterator[FakeSmsApi]:
    with FakeSmsApi() as api:
        yield api


def make_client(endpoint_url: str, **config: Any) -> Any:
    settings: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 3}} | config
    return boto3.client(
        "pinpoint-sms-voice-v2",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(**settings),
    )


@pytest.fixture
def client(fake: FakeSmsApi) -> Any:
    return make_client(fake.endpoint_url)


@pytest.fixture
def unvalidated_client(fake: FakeSmsApi) -> Any:
    """Skips botocore's client-side checks, so the server's own validation is what runs."""
    return make_client(fake.endpoint_url, parameter_validation=False)


def error_of(excinfo: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> dict[str, Any]:
    """The parsed error answer, modeled fields (Reason, ResourceId…) at its top level."""
    return cast(dict[str, Any], excinfo.value.response)


def ids_of(page: dict[str, Any]) -> list[str]:
    return [item["RegistrationAttachmentId"] for item in page["RegistrationAttachments"]]


def raw_call(fake: FakeSmsApi, body: dict[str, Any], target: str = TARGET) -> tuple[Any, Any]:
    """One request without botocore: (response, parsed JSON body)."""
    request = urllib.request.Request(
        fake.endpoint_url + "/",
        data=json.dumps(body).encode(),
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error, json.loads(error.read())


# Listing and pagination


def test_paginator_walks_every_page_of_a_status_filter(fake: FakeSmsApi, client: Any) -> None:
    fake.seed({"UPLOAD_FAILED": 250, "UPLOAD_COMPLETE": 500})
    paginator = client.get_paginator("describe_registration_attachments")

    pages = list(paginator.paginate(Filters=FAILED_FILTER, PaginationConfig={"PageSize": 100}))

    assert [len(page["RegistrationAttachments"]) for page in pages] == [100, 100, 50]
    assert fake.call_count == 3
    assert all(call["MaxResults"] == 100 for call in fake.calls)
    everything = paginator.paginate(PaginationConfig={"PageSize": 100}).build_full_result()
    failed_in_creation_order = [
        item["RegistrationAttachmentId"]
        for item in everything["RegistrationAttachments"]
        if item["AttachmentStatus"] == "UPLOAD_FAILED"
    ]
    assert [i for page in pages for i in ids_of(page)] == failed_in_creation_order


def test_manual_next_token_loop_matches_the_paginator(fake: FakeSmsApi, client: Any) -> None:
    fake.seed({"UPLOAD_FAILED": 250, "UPLOAD_IN_PROGRESS": 100})
    seen: list[str] = []
    request: dict[str, Any] = {"Filters": FAILED_FILTER, "MaxResults": 100}
    while True:
        page = client.describe_registration_attachments(**request)
        seen += ids_of(page)
        if "NextToken" not in page:
            break
        request["NextToken"] = page["NextToken"]

    assert len(seen) == len(set(seen)) == 250
    assert fake.call_count == 3


def test_default_page_size_is_20(fake: FakeSmsApi, client: Any) -> None:
    fake.add("UPLOAD_COMPLETE", count=45)
    pages = list(client.get_paginator("describe_registration_attachments").paginate())
    assert [len(page["RegistrationAttachments"]) for page in pages] == [20, 20, 5]


def test_no_next_token_when_the_last_page_is_exactly_full(fake: FakeSmsApi, client: Any) -> None:
    fake.add("UPLOAD_FAILED", count=100)
    fake.add("UPLOAD_COMPLETE", count=5)
    page = client.describe_registration_attachments(Filters=FAILED_FILTER, MaxResults=100)
    assert len(page["RegistrationAttachments"]) == 100
    assert "NextToken" not in page


def test_seed_spreads_statuses_over_the_listing(fake: FakeSmsApi, client: Any) -> None:
    fake.seed({"UPLOAD_FAILED": 10, "UPLOAD_COMPLETE": 990})
    pages = client.get_paginator("describe_registration_attachments").paginate(
        PaginationConfig={"PageSize": 100}
    )
    failed_per_page = [
        sum(item["AttachmentStatus"] == "UPLOAD_FAILED" for item in page["RegistrationAttachments"])
        for page in pages
    ]
    assert failed_per_page == [1] * 10


def test_a_next_token_only_continues_its_own_query(fake: FakeSmsApi, client: Any) -> None:
    fake.seed({"UPLOAD_FAILED": 30, "UPLOAD_COMPLETE": 30})
    token = client.describe_registration_attachments(Filters=FAILED_FILTER, MaxResults=10)[
        "NextToken"
    ]

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.describe_registration_attachments(MaxResults=10, NextToken=token)

    error = error_of(excinfo)
    assert error["Error"]["Code"] == "ValidationException"
    assert error["Reason"] == "INVALID_NEXT_TOKEN"
    assert error["Fields"][0]["Name"] == "NextToken"


@pytest.mark.parametrize("token", ["garbage!", "bm90IGpzb24=", "e30="])
def test_a_malformed_next_token_is_rejected(client: Any, token: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.describe_registration_attachments(NextToken=token)
    assert error_of(excinfo)["Error"]["Code"] == "ValidationException"


def test_reset_invalidates_next_tokens_and_empties_everything(
    fake: FakeSmsApi, client: Any
) -> None:
    fake.add("UPLOAD_FAILED", count=3)
    token = client.describe_registration_attachments(MaxResults=1)["NextToken"]
    fake.fail_next("ThrottlingException")
    fake.latency_seconds = 1.0

    fake.reset()

    assert fake.call_count == 0
    assert fake.latency_seconds == 0
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.describe_registration_attachments(NextToken=token)
    assert error_of(excinfo)["Error"]["Code"] == "ValidationException"
    assert client.describe_registration_attachments()["RegistrationAttachments"] == []
    assert fake.call_count == 2  # no injected throttle left


def test_one_hundred_thousand_attachments(fake: FakeSmsApi, client: Any) -> None:
    fake.seed({"UPLOAD_FAILED": 1_000, "UPLOAD_COMPLETE": 98_900, "UPLOAD_IN_PROGRESS": 100})

    failed = [
        i
        for page in client.get_paginator("describe_registration_attachments").paginate(
            Filters=FAILED_FILTER, PaginationConfig={"PageSize": 100}
        )
        for i in ids_of(page)
    ]
    deleted = client.describe_registration_attachments(
        Filters=[{"Name": "attachment-status", "Values": ["DELETED"]}], MaxResults=100
    )

    assert len(failed) == len(set(failed)) == 1_000
    assert fake.call_count == 11
    assert deleted["RegistrationAttachments"] == []
    assert "NextToken" not in deleted


# Lookup by id


def test_ids_and_arns_come_back_in_request_order_once_each(fake: FakeSmsApi, client: Any) -> None:
    a, b, c = fake.add("UPLOAD_COMPLETE", count=3)
    page = client.describe_registration_attachments(
        RegistrationAttachmentIds=[c.attachment_id, a.arn, b.attachment_id, a.attachment_id]
    )
    assert ids_of(page) == [c.attachment_id, a.attachment_id, b.attachment_id]
    assert page["RegistrationAttachments"][1]["RegistrationAttachmentArn"] == a.arn


def test_a_filter_applies_to_the_requested_ids(fake: FakeSmsApi, client: Any) -> None:
    (done,) = fake.add("UPLOAD_COMPLETE")
    (broken,) = fake.add("UPLOAD_FAILED")
    page = client.describe_registration_attachments(
        RegistrationAttachmentIds=[done.attachment_id, broken.attachment_id],
        Filters=FAILED_FILTER,
    )
    assert ids_of(page) == [broken.attachment_id]
    assert page["RegistrationAttachments"][0]["AttachmentUploadErrorReason"] == "INTERNAL_ERROR"


@pytest.mark.parametrize(
    "unknown",
    [
        "attachment-00000000000000000000000000000000",
        "arn:aws:sms-voice:us-east-1:999999999999:registration-attachment/{known}",
    ],
)
def test_an_unknown_id_fails_the_whole_request(fake: FakeSmsApi, client: Any, unknown: str) -> None:
    (known,) = fake.add("UPLOAD_COMPLETE")
    unknown = unknown.format(known=known.attachment_id)

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.describe_registration_attachments(
            RegistrationAttachmentIds=[known.attachment_id, unknown]
        )

    error = error_of(excinfo)
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["ResourceType"] == "registration-attachment"
    assert error["ResourceId"] == unknown
    assert unknown in error["Error"]["Message"]


def test_set_status_shows_in_the_next_listing(fake: FakeSmsApi, client: Any) -> None:
    (attachment,) = fake.add("UPLOAD_IN_PROGRESS")
    fake.set_status(attachment.attachment_id, "UPLOAD_FAILED")
    (item,) = client.describe_registration_attachments()["RegistrationAttachments"]
    assert item["AttachmentStatus"] == "UPLOAD_FAILED"
    assert item["AttachmentUploadErrorReason"] == "INTERNAL_ERROR"


# Server-side validation


@pytest.mark.parametrize(
    ("request_params", "field"),
    [
        ({"RegistrationAttachmentIds": [f"attachment-{i}" for i in range(6)]}, "Registration"),
        ({"RegistrationAttachmentIds": ["not an id!"]}, "RegistrationAttachmentIds"),
        ({"MaxResults": 0}, "MaxResults"),
        ({"MaxResults": 101}, "MaxResults"),
        ({"Filters": [{"Name": "status", "Values": ["UPLOAD_FAILED"]}]}, "Filters"),
        ({"Filters": [{"Name": "attachment-status", "Values": ["BROKEN"]}]}, "Filters"),
        ({"Filters": [{"Name": "attachment-status", "Values": []}]}, "Filters"),
    ],
)
def test_invalid_requests_get_a_validation_exception(
    fake: FakeSmsApi, unvalidated_client: Any, request_params: dict[str, Any], field: str
) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        unvalidated_client.describe_registration_attachments(**request_params)

    error = error_of(excinfo)
    assert error["Error"]["Code"] == "ValidationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Fields"][0]["Name"].startswith(field)
    assert error["Reason"] in {"FIELD_VALIDATION_FAILED", "INVALID_FILTER_VALUES"}
    assert fake.call_count == 1  # not retried


def test_five_ids_are_allowed(fake: FakeSmsApi, client: Any) -> None:
    added = fake.add("UPLOAD_COMPLETE", count=5)
    page = client.describe_registration_attachments(
        RegistrationAttachmentIds=[a.attachment_id for a in added]
    )
    assert len(page["RegistrationAttachments"]) == 5


def test_an_unknown_operation_is_an_error(client: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.describe_registrations()
    assert error_of(excinfo)["Error"]["Code"] == "UnknownOperationException"


# Errors, faults and retries


@pytest.mark.parametrize(
    ("code", "http_status", "fields"),
    [
        ("ThrottlingException", 400, set()),
        ("InternalServerException", 500, {"RequestId"}),
        ("AccessDeniedException", 400, {"Reason"}),
        ("ValidationException", 400, {"Reason", "Fields"}),
        ("ResourceNotFoundException", 404, {"ResourceType", "ResourceId"}),
    ],
)
def test_each_injected_error_parses_into_its_client_error(
    fake: FakeSmsApi, code: str, http_status: int, fields: set[str]
) -> None:
    client = make_client(fake.endpoint_url, retries=NO_RETRIES)
    fake.fail_next(code)

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.describe_registration_attachments()

    error = error_of(excinfo)
    assert error["Error"]["Code"] == code
    assert error["Error"]["Message"] == f"Injected {code}"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == http_status
    assert fields <= error.keys()
    # The modeled exception class, so product code can catch client.exceptions.<Code>.
    assert isinstance(excinfo.value, getattr(client.exceptions, code))


def test_throttling_is_retried_transparently(fake: FakeSmsApi, client: Any) -> None:
    fake.add("UPLOAD_FAILED")
    fake.fail_next("ThrottlingException")

    page = client.describe_registration_attachments()

    assert len(page["RegistrationAttachments"]) == 1
    assert page["ResponseMetadata"]["RetryAttempts"] == 1
    assert fake.call_count == 2


def test_internal_errors_are_retried_until_attempts_run_out(fake: FakeSmsApi, client: Any) -> None:
    fake.fail_next("InternalServerException", times=4)

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.describe_registration_attachments()

    error = error_of(excinfo)
    assert error["Error"]["Code"] == "InternalServerException"
    assert error["RequestId"] == error["ResponseMetadata"]["RequestId"]
    # Config(retries={"max_attempts": 3}) is 3 *retries*: 4 calls in all.
    assert error["ResponseMetadata"]["RetryAttempts"] == 3
    assert fake.call_count == 4


def test_access_denied_is_not_retried_and_lasts_until_undone(fake: FakeSmsApi, client: Any) -> None:
    fake.deny_access()
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            client.describe_registration_attachments()
        assert error_of(excinfo)["Error"]["Code"] == "AccessDeniedException"
        assert error_of(excinfo)["Reason"] == "ACCOUNT_DISABLED"
    assert fake.call_count == 2

    fake.deny_access(False)
    assert client.describe_registration_attachments()["RegistrationAttachments"] == []


def test_fail_calls_counts_from_now(fake: FakeSmsApi) -> None:
    client = make_client(fake.endpoint_url, retries=NO_RETRIES)
    client.describe_registration_attachments()
    fake.fail_calls("InternalServerException", call_numbers={2})

    outcomes = []
    for _ in range(3):
        try:
            client.describe_registration_attachments()
            outcomes.append("ok")
        except botocore.exceptions.ClientError as error:
            outcomes.append(error.response["Error"]["Code"])

    assert outcomes == ["ok", "InternalServerException", "ok"]


def test_the_call_log_keeps_every_request_body(fake: FakeSmsApi, client: Any) -> None:
    fake.fail_next("ThrottlingException")
    client.describe_registration_attachments(Filters=FAILED_FILTER, MaxResults=7)
    expected = {"Filters": FAILED_FILTER, "MaxResults": 7}
    assert fake.calls == [expected, expected]


def test_latency_is_added_before_answers(fake: FakeSmsApi, client: Any) -> None:
    fake.latency_seconds = 0.05
    started = time.perf_counter()
    client.describe_registration_attachments()
    assert time.perf_counter() - started >= 0.05


def test_concurrent_clients_each_get_consistent_pages(fake: FakeSmsApi) -> None:
    fake.seed({"UPLOAD_FAILED": 120, "UPLOAD_COMPLETE": 380})

    def list_failed() -> list[str]:
        paginator = make_client(fake.endpoint_url).get_paginator(
            "describe_registration_attachments"
        )
        pages = paginator.paginate(Filters=FAILED_FILTER, PaginationConfig={"PageSize": 50})
        return [i for page in pages for i in ids_of(page)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: list_failed(), range(4)))

    assert all(result == results[0] and len(set(result)) == 120 for result in results)
    assert fake.call_count == 4 * 3


def test_a_stopped_fake_refuses_even_pooled_connections(fake: FakeSmsApi) -> None:
    client = make_client(fake.endpoint_url, retries=NO_RETRIES)
    client.describe_registration_attachments()  # leaves a keep-alive connection in the pool
    fake.stop()
    with pytest.raises(botocore.exceptions.ConnectionError):
        client.describe_registration_attachments()


# Wire format


def test_raw_response_is_aws_json_with_url_and_epoch_timestamps(fake: FakeSmsApi) -> None:
    created = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    (attachment,) = fake.add("UPLOAD_FAILED", created=created)

    response, body = raw_call(fake, {"MaxResults": 10})

    assert response.status == 200
    assert response.headers["Content-Type"] == "application/x-amz-json-1.0"
    assert response.headers["x-amzn-RequestId"]
    assert body == {
        "RegistrationAttachments": [
            {
                "RegistrationAttachmentArn": attachment.arn,
                "RegistrationAttachmentId": attachment.attachment_id,
                "AttachmentStatus": "UPLOAD_FAILED",
                "AttachmentUploadErrorReason": "INTERNAL_ERROR",
                "CreatedTimestamp": created.timestamp(),
                "AttachmentUrl": f"https://fake-attachments.example/{attachment.attachment_id}"
                "?X-Amz-Signature=secret",
            }
        ]
    }


def test_raw_unknown_target_is_a_400(fake: FakeSmsApi) -> None:
    response, body = raw_call(fake, {}, target="PinpointSMSVoiceV2.SendTextMessage")
    assert response.status == 400
    assert body["__type"] == "UnknownOperationException"


def test_timestamps_parse_to_aware_datetimes(fake: FakeSmsApi, client: Any) -> None:
    created = datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=UTC)
    fake.add("UPLOAD_COMPLETE", created=created)
    (item,) = client.describe_registration_attachments()["RegistrationAttachments"]
    parsed = item["CreatedTimestamp"]
    assert isinstance(parsed, datetime)
    # botocore gives tzlocal(), not UTC: equal instants, so convert before formatting.
    assert parsed == created
    assert parsed.astimezone(UTC).isoformat() == "2024-05-01T12:30:15.250000+00:00"


def test_ids_are_deterministic_and_well_formed() -> None:
    first = [a.attachment_id for a in FakeSmsApi().add("UPLOAD_COMPLETE", count=50)]
    again = [a.attachment_id for a in FakeSmsApi().add("UPLOAD_COMPLETE", count=50)]
    assert first == again
    assert len(set(first)) == 50
    assert all(re.fullmatch(r"attachment-[0-9a-f]{32}", i) for i in first)


# Subprocess mode


def control(endpoint: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    with urllib.request.urlopen(endpoint + path, data=data, timeout=5) as response:
        return json.loads(response.read())


def test_subprocess_mode_prints_ready_and_serves() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.fake_sms_api",
            "--port",
            "0",
            "--seed",
            "UPLOAD_FAILED=3,UPLOAD_COMPLETE=7",
            "--latency-ms",
            "1",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        readable, _, _ = select.select([process.stdout], [], [], 10)
        assert readable, "no READY line within 10 s"
        word, endpoint = process.stdout.readline().split()
        assert word == "READY"
        assert endpoint.startswith("http://127.0.0.1:")

        client = make_client(endpoint)
        failed = client.describe_registration_attachments(Filters=FAILED_FILTER)
        assert len(failed["RegistrationAttachments"]) == 3
        assert control(endpoint, "/_fake/calls") == {"count": 1}

        control(endpoint, "/_fake/fail-next", {"code": "AccessDeniedException", "times": 1})
        with pytest.raises(botocore.exceptions.ClientError):
            client.describe_registration_attachments()

        control(endpoint, "/_fake/reset", {})
        control(endpoint, "/_fake/seed", {"UPLOAD_FAILED": 2})
        control(endpoint, "/_fake/latency", {"seconds": 0})
        listed = client.describe_registration_attachments()
        assert len(listed["RegistrationAttachments"]) == 2
        assert control(endpoint, "/_fake/calls") == {"count": 1}
    finally:
        process.kill()
        process.wait()
