"""The custom resource end to end: each request answered exactly once on a local
ResponseURL server, whatever happens."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambda_src import custom_resource
from tests.integration.conftest import TABLE, World
from tests.support.response_url import RecordedPut

COUNT_KEYS = {
    "TotalCount",
    "UploadInProgressCount",
    "UploadCompleteCount",
    "UploadFailedCount",
    "DeletedCount",
    "FailedAttachmentIds",
    "FailedAttachmentIdsTruncated",
    "ScannedAt",
}


def only_answer(world: World) -> RecordedPut:
    """The single accepted answer, checked for the protocol's fixed parts."""
    [put] = world.responses.accepted
    assert len(put.body) <= 4096
    assert put.headers.get("content-type") == ""  # present and empty
    return put


def test_create_reports_counts_per_status(world: World) -> None:
    world.api.seed(
        {"UPLOAD_COMPLETE": 7, "UPLOAD_FAILED": 2, "UPLOAD_IN_PROGRESS": 3, "DELETED": 1}
    )
    event = world.cfn_event("Create")

    result = world.invoke(event)

    answer = only_answer(world).document
    assert answer["Status"] == "SUCCESS"
    assert result["Status"] == "SUCCESS"
    data = answer["Data"]
    assert set(data) == COUNT_KEYS
    assert data["TotalCount"] == "13"
    assert data["UploadCompleteCount"] == "7"
    assert data["UploadFailedCount"] == "2"
    assert data["UploadInProgressCount"] == "3"
    assert data["DeletedCount"] == "1"
    assert len(data["FailedAttachmentIds"].split(",")) == 2
    assert data["FailedAttachmentIdsTruncated"] == "false"
    assert data["ScannedAt"].endswith("Z")
    for key in ("StackId", "RequestId", "LogicalResourceId"):
        assert answer[key] == event[key]
    assert answer["PhysicalResourceId"].startswith("registration-attachment-status-")
    # all statuses counted: one unfiltered listing with full pages
    assert world.api.calls == [{"MaxResults": 100}]


def test_create_with_no_attachments_says_none_failed(world: World) -> None:
    world.invoke(world.cfn_event("Create"))

    data = only_answer(world).document["Data"]
    assert data["TotalCount"] == "0"
    assert data["FailedAttachmentIds"] == "none"


def test_update_echoes_the_physical_id_and_delete_succeeds_without_the_api(
    world: World,
) -> None:
    world.api.add("UPLOAD_FAILED")
    world.invoke(world.cfn_event("Create"))
    physical_id = only_answer(world).document["PhysicalResourceId"]
    world.responses.reset()

    world.invoke(
        world.cfn_event(
            "Update",
            {"AttachmentStatuses": ["UPLOAD_FAILED"], "RefreshToken": "1764806500000"},
            old_properties={"RefreshToken": "1764806400000"},
            physical_id=physical_id,
            request_id="update-1",
        )
    )
    update = only_answer(world).document
    assert update["Status"] == "SUCCESS"
    assert update["PhysicalResourceId"] == physical_id
    assert update["Data"]["TotalCount"] == "1"
    world.responses.reset()
    calls_before_delete = world.api.call_count

    world.invoke(world.cfn_event("Delete", physical_id=physical_id, request_id="delete-1"))

    delete = only_answer(world).document
    assert delete["Status"] == "SUCCESS"
    assert delete["PhysicalResourceId"] == physical_id
    assert world.api.call_count == calls_before_delete


def test_delete_succeeds_while_the_api_denies_access_and_the_table_is_gone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.api.deny_access()
    world.dynamodb.delete_table(TableName=TABLE)
    monkeypatch.setenv("MAX_ALERTS_PER_RUN", "broken")  # even the configuration is bad

    world.invoke(world.cfn_event("Delete", physical_id="registration-attachment-status-x"))

    answer = only_answer(world).document
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "registration-attachment-status-x"
    assert world.api.call_count == 0


def test_requested_ids_are_reported_one_by_one_in_chunks_of_five(world: World) -> None:
    attachments = world.api.add("UPLOAD_COMPLETE", count=10) + world.api.add(
        "UPLOAD_FAILED", count=2
    )
    ids = [a.attachment_id for a in attachments]
    ids[3] = attachments[3].arn  # ARNs are accepted too

    world.invoke(world.cfn_event("Create", {"RegistrationAttachmentIds": ids}))

    data = only_answer(world).document["Data"]
    assert data["TotalCount"] == "12"
    assert data["UploadFailedCount"] == "2"
    for attachment in attachments:
        assert data[f"Status.{attachment.attachment_id}"] == attachment.status
    assert [len(call["RegistrationAttachmentIds"]) for call in world.api.calls] == [5, 5, 2]


def test_requested_ids_cover_only_those_ids(world: World) -> None:
    [mine] = world.api.add("UPLOAD_COMPLETE")
    world.api.add("UPLOAD_FAILED", count=4)  # not requested: neither counted nor gated

    world.invoke(
        world.cfn_event(
            "Create",
            {
                "RegistrationAttachmentIds": [mine.attachment_id],
                "FailOnStatuses": ["UPLOAD_FAILED"],
            },
        )
    )

    answer = only_answer(world).document
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["TotalCount"] == "1"
    assert answer["Data"]["FailedAttachmentIds"] == "none"


def test_an_unknown_id_fails_naming_it(world: World) -> None:
    [known] = world.api.add("UPLOAD_COMPLETE")
    unknown = "attachment-00000000000000000000000000000bad"

    world.invoke(
        world.cfn_event("Create", {"RegistrationAttachmentIds": [known.attachment_id, unknown]})
    )

    answer = only_answer(world).document
    assert answer["Status"] == "FAILED"
    assert unknown in answer["Reason"]
    assert "RegistrationAttachmentIds" in answer["Reason"]


def test_thousands_failed_still_fit_in_4096_bytes(world: World) -> None:
    world.api.seed({"UPLOAD_FAILED": 3000, "UPLOAD_COMPLETE": 2000})

    world.invoke(world.cfn_event("Create"))

    answer = only_answer(world).document
    data = answer["Data"]
    assert answer["Status"] == "SUCCESS"
    assert data["UploadFailedCount"] == "3000"
    assert data["TotalCount"] == "5000"
    assert data["FailedAttachmentIdsTruncated"] == "true"
    assert 10 < len(data["FailedAttachmentIds"].split(",")) < 3000
    assert world.api.call_count == 50  # ⌈5000/100⌉


def test_the_gate_fails_a_deployment_naming_the_attachments(world: World) -> None:
    failed = world.api.add("UPLOAD_FAILED", count=2)
    world.api.add("UPLOAD_COMPLETE", count=5)

    world.invoke(world.cfn_event("Create", {"FailOnStatuses": "UPLOAD_FAILED"}))

    answer = only_answer(world).document
    assert answer["Status"] == "FAILED"
    assert "FailOnStatuses" in answer["Reason"]
    for attachment in failed:
        assert attachment.attachment_id in answer["Reason"]


def test_the_gate_passes_when_nothing_is_in_a_gated_status(world: World) -> None:
    world.api.add("UPLOAD_COMPLETE", count=5)

    world.invoke(world.cfn_event("Create", {"FailOnStatuses": ["UPLOAD_FAILED", "DELETED"]}))

    assert only_answer(world).document["Status"] == "SUCCESS"


def rollback_event(world: World, properties: dict[str, Any]) -> dict[str, Any]:
    return world.cfn_event(
        "Update",
        {**properties, "RefreshToken": "1764806400000"},
        old_properties={**properties, "RefreshToken": "1764806999999"},
        physical_id="registration-attachment-status-abc",
        request_id="rollback-1",
    )


def test_a_rollback_update_skips_the_gate(world: World) -> None:
    world.api.add("UPLOAD_FAILED")

    world.invoke(rollback_event(world, {"FailOnStatuses": ["UPLOAD_FAILED"]}))

    answer = only_answer(world).document
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["UploadFailedCount"] == "1"


def test_a_rollback_update_succeeds_with_unknown_values_while_the_api_is_down(
    world: World,
) -> None:
    world.api.deny_access()

    world.invoke(rollback_event(world, {"RegistrationAttachmentIds": ["attachment-1"]}))

    answer = only_answer(world).document
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["TotalCount"] == "UNKNOWN"
    assert answer["Data"]["Status.attachment-1"] == "UNKNOWN"
    assert answer["PhysicalResourceId"] == "registration-attachment-status-abc"


def test_a_forward_update_fails_when_the_api_denies_access(world: World) -> None:
    world.api.deny_access()

    world.invoke(
        world.cfn_event(
            "Update",
            {"RefreshToken": "1764806999999"},
            old_properties={"RefreshToken": "1764806400000"},
            physical_id="registration-attachment-status-abc",
        )
    )

    answer = only_answer(world).document
    assert answer["Status"] == "FAILED"
    assert "AccessDeniedException" in answer["Reason"]
    assert world.api.call_count == 1  # only Create waits for a new role


def test_access_denied_on_create_is_retried_while_the_role_propagates(world: World) -> None:
    world.api.add("UPLOAD_COMPLETE")
    world.api.fail_next("AccessDeniedException", times=1)

    world.invoke(world.cfn_event("Create"))

    assert only_answer(world).document["Status"] == "SUCCESS"
    assert world.api.call_count == 2


def test_the_same_request_delivered_twice_is_answered_once(world: World) -> None:
    world.api.add("UPLOAD_COMPLETE")
    event = world.cfn_event("Create")

    world.invoke(event)
    second = world.invoke(event)

    assert len(world.responses.puts) == 1
    assert second["Status"] == "DUPLICATE"


def test_a_malformed_environment_variable_fails_a_create_naming_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_ALERTS_PER_RUN", "lots")

    result = world.invoke(world.cfn_event("Create"))

    answer = only_answer(world).document
    assert answer["Status"] == "FAILED"
    assert "MAX_ALERTS_PER_RUN" in answer["Reason"]
    assert result["Status"] == "FAILED"  # returned, not raised
    assert answer["PhysicalResourceId"]  # CloudFormation needs one even on failure


@pytest.mark.parametrize(
    ("properties", "named"),
    [
        ({"AttachmentStatuses": ["UPLOAD_BROKEN"]}, "AttachmentStatuses"),
        ({"FailOnStatuses": [1, 2]}, "FailOnStatuses"),
        ({"RegistrationAttachmentIds": []}, "RegistrationAttachmentIds"),
        ({"RegistrationAttachmentIds": [f"attachment-{n}" for n in range(31)]}, "at most 30"),
        ({"RegistrationAttachmentIds": ["not valid!"]}, "RegistrationAttachmentIds"),
    ],
)
def test_bad_properties_fail_naming_the_field(
    world: World, properties: dict[str, Any], named: str
) -> None:
    world.invoke(world.cfn_event("Create", properties))

    answer = only_answer(world).document
    assert answer["Status"] == "FAILED"
    assert named in answer["Reason"]
    assert world.api.call_count == 0


def test_an_unknown_request_type_is_answered_failed(world: World) -> None:
    world.invoke(world.cfn_event("Replace"))

    answer = only_answer(world).document
    assert answer["Status"] == "FAILED"
    assert "Replace" in answer["Reason"]


def test_a_response_url_answering_500_once_is_retried(world: World) -> None:
    world.responses.fail_next(500)

    world.invoke(world.cfn_event("Create"))

    assert [put.answered_status for put in world.responses.puts] == [500, 200]
    assert only_answer(world).document["Status"] == "SUCCESS"


def test_the_watchdog_answers_before_the_deadline_when_the_api_is_slow(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an API slower than the time the function has left
    monkeypatch.setattr(custom_resource, "WATCHDOG_MARGIN_SECONDS", 5.0)
    world.api.add("UPLOAD_COMPLETE")
    world.api.latency_seconds = 2.5

    # When a Create arrives with 6.5 s left (the watchdog fires at 1.5 s)
    world.invoke(world.cfn_event("Create"), seconds=6.5)

    # Then CloudFormation got one FAILED answer that says why, and no second one
    answer = only_answer(world).document
    assert answer["Status"] == "FAILED"
    assert "timed out" in answer["Reason"]
    assert len(world.responses.puts) == 1


def test_too_little_time_left_is_answered_at_once(world: World) -> None:
    world.invoke(world.cfn_event("Create"), seconds=3)

    answer = only_answer(world).document
    assert answer["Status"] == "FAILED"
    assert world.api.call_count == 0


def test_the_response_url_is_never_logged(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.api.deny_access()
    world.responses.fail_next(500)

    world.invoke(world.cfn_event("Create"))

    output = capsys.readouterr()
    assert "secret-signature-value" not in output.out + output.err
    assert json.loads(world.responses.accepted[0].body)["Status"] == "FAILED"
