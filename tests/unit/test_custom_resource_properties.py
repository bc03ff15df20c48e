"""Custom resource properties, rollback detection, ids and the reported Data
(DESIGN.md §2.2)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from lambda_src.custom_resource import (
    MAX_REQUESTED_IDS,
    UNKNOWN,
    PropertyError,
    ReportRequest,
    StatusReport,
    gate_reason,
    is_rollback,
    parse_properties,
    physical_id_for,
    read_status,
    unknown_data,
)
from lambda_src.model import ALL_STATUSES, Attachment

STACK_ID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/monitor/"
    "0f2b1c00-b1a2-11ee-9d3c-0a1b2c3d4e5f"
)
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
COUNT_KEYS = {
    "TotalCount",
    "UploadInProgressCount",
    "UploadCompleteCount",
    "UploadFailedCount",
    "DeletedCount",
}


def attachment_id(index: int) -> str:
    return f"attachment-{index:032x}"


def attachment_arn(index: int) -> str:
    return (
        f"arn:aws:sms-voice:us-east-1:123456789012:registration-attachment/{attachment_id(index)}"
    )


# -- parse_properties ------------------------------------------------------------------------


def test_no_properties_means_every_status_and_no_gate() -> None:
    # CloudFormation always passes the ServiceToken; other keys are ignored.
    request = parse_properties({"ServiceToken": "arn:aws:lambda:...", "RefreshToken": "1"})
    assert request == ReportRequest(ids=(), statuses=ALL_STATUSES, fail_on=())


def test_lists_are_accepted() -> None:
    request = parse_properties(
        {
            "RegistrationAttachmentIds": [attachment_id(1), attachment_arn(2)],
            "AttachmentStatuses": ["UPLOAD_FAILED", "UPLOAD_COMPLETE"],
            "FailOnStatuses": ["UPLOAD_FAILED"],
        }
    )
    assert request.ids == (attachment_id(1), attachment_arn(2))
    assert request.statuses == ("UPLOAD_FAILED", "UPLOAD_COMPLETE")
    assert request.fail_on == ("UPLOAD_FAILED",)


def test_comma_separated_strings_are_accepted_and_trimmed() -> None:
    request = parse_properties(
        {
            "RegistrationAttachmentIds": f"{attachment_id(1)}, {attachment_id(2)}",
            "AttachmentStatuses": "UPLOAD_FAILED ,DELETED",
            "FailOnStatuses": "UPLOAD_FAILED",
        }
    )
    assert request.ids == (attachment_id(1), attachment_id(2))
    assert request.statuses == ("UPLOAD_FAILED", "DELETED")
    assert request.fail_on == ("UPLOAD_FAILED",)


def test_duplicates_are_removed_keeping_the_first_order() -> None:
    request = parse_properties(
        {
            "RegistrationAttachmentIds": [attachment_id(2), attachment_id(1), attachment_id(2)],
            "AttachmentStatuses": ["DELETED", "UPLOAD_FAILED", "DELETED"],
            "FailOnStatuses": "UPLOAD_FAILED,UPLOAD_FAILED",
        }
    )
    assert request.ids == (attachment_id(2), attachment_id(1))
    assert request.statuses == ("DELETED", "UPLOAD_FAILED")
    assert request.fail_on == ("UPLOAD_FAILED",)


def test_thirty_ids_are_accepted() -> None:
    ids = [attachment_id(i) for i in range(MAX_REQUESTED_IDS)]
    assert parse_properties({"RegistrationAttachmentIds": ids}).ids == tuple(ids)


def test_thirty_one_ids_are_rejected_naming_the_field_and_the_limit() -> None:
    ids = [attachment_id(i) for i in range(MAX_REQUESTED_IDS + 1)]
    with pytest.raises(PropertyError) as raised:
        parse_properties({"RegistrationAttachmentIds": ids})
    message = str(raised.value)
    assert message.startswith("RegistrationAttachmentIds:")
    assert "31 ids given" in message
    assert "at most 30" in message
    assert "split them" in message


@pytest.mark.parametrize(
    "name", ["RegistrationAttachmentIds", "AttachmentStatuses", "FailOnStatuses"]
)
@pytest.mark.parametrize(
    "value", [[], "", "  ", ["UPLOAD_FAILED", ""], "UPLOAD_FAILED,,DELETED", [" "]]
)
def test_empty_lists_and_empty_items_are_rejected_naming_the_field(name: str, value: Any) -> None:
    with pytest.raises(PropertyError) as raised:
        parse_properties({name: value})
    message = str(raised.value)
    assert message.startswith(f"{name}:")
    assert "empty values are not allowed" in message
    assert "omit the property" in message


@pytest.mark.parametrize(
    "name", ["RegistrationAttachmentIds", "AttachmentStatuses", "FailOnStatuses"]
)
@pytest.mark.parametrize(
    ("value", "type_name"),
    [(5, "int"), ({"a": "b"}, "dict"), (["UPLOAD_FAILED", 3], "list"), (None, "NoneType")],
)
def test_wrong_types_are_rejected_naming_the_field(name: str, value: Any, type_name: str) -> None:
    with pytest.raises(PropertyError) as raised:
        parse_properties({name: value})
    assert str(raised.value) == f"{name}: expected a list of strings, got {type_name}"


@pytest.mark.parametrize(
    "bad_id",
    ["attachment-1 2", "attachment-1;drop", "attachment-é", "a" * 257, "attachment.1"],
    ids=["space", "semicolon", "non-ascii", "too-long", "dot"],
)
def test_ids_with_bad_characters_are_rejected_naming_the_field(bad_id: str) -> None:
    with pytest.raises(PropertyError) as raised:
        parse_properties({"RegistrationAttachmentIds": [attachment_id(1), bad_id]})
    message = str(raised.value)
    assert message.startswith("RegistrationAttachmentIds:")
    assert "is not an attachment id or ARN" in message
    # a very long value is cut in the message
    assert len(message) < 250


@pytest.mark.parametrize("name", ["AttachmentStatuses", "FailOnStatuses"])
@pytest.mark.parametrize("status", ["FAILED", "upload_failed", "UPLOAD-FAILED"])
def test_unknown_status_is_rejected_naming_the_field_and_the_valid_values(
    name: str, status: str
) -> None:
    with pytest.raises(PropertyError) as raised:
        parse_properties({name: ["UPLOAD_FAILED", status]})
    message = str(raised.value)
    assert message.startswith(f"{name}: unknown status {status!r}")
    for valid in ALL_STATUSES:
        assert valid in message


@pytest.mark.parametrize("properties", [["RegistrationAttachmentIds"], "ids", None, 3])
def test_properties_that_are_not_an_object_are_rejected(properties: Any) -> None:
    with pytest.raises(PropertyError, match="ResourceProperties must be an object"):
        parse_properties(properties)


# -- is_rollback -----------------------------------------------------------------------------


def update(new: Any, old: Any, request_type: str = "Update") -> dict[str, Any]:
    event: dict[str, Any] = {"RequestType": request_type, "ResourceProperties": {}}
    if new is not None:
        event["ResourceProperties"] = {"RefreshToken": new}
    if old is not None:
        event["OldResourceProperties"] = {"RefreshToken": old}
    return event


def test_update_with_an_older_refresh_token_is_a_rollback() -> None:
    # Given the failed Update had token 1764878400000 and CloudFormation rolls back
    event = update(new="1764874800000", old="1764878400000")
    assert is_rollback(event) is True


@pytest.mark.parametrize(
    ("new", "old"),
    [
        ("1764878400000", "1764874800000"),  # newer: a normal Update
        ("1764878400000", "1764878400000"),  # equal: a pinned token
        ("pinned", "1764878400000"),  # not a number
        ("1764874800000", "pinned"),
        (None, "1764878400000"),  # missing
        ("1764874800000", None),
    ],
    ids=["newer", "equal", "new-not-numeric", "old-not-numeric", "new-missing", "old-missing"],
)
def test_update_that_is_not_provably_older_is_not_a_rollback(new: Any, old: Any) -> None:
    assert is_rollback(update(new=new, old=old)) is False


def test_numeric_tokens_are_compared_as_numbers_not_strings() -> None:
    # "9" > "10" as strings; as epoch-like numbers 9 is older
    assert is_rollback(update(new="9", old="10")) is True
    assert is_rollback(update(new=10, old=9)) is False


@pytest.mark.parametrize("request_type", ["Create", "Delete"])
def test_only_updates_can_be_rollbacks(request_type: str) -> None:
    assert is_rollback(update(new="1", old="2", request_type=request_type)) is False


def test_old_properties_that_are_not_an_object_mean_no_rollback() -> None:
    event = {
        "RequestType": "Update",
        "ResourceProperties": {"RefreshToken": "1"},
        "OldResourceProperties": "garbage",
    }
    assert is_rollback(event) is False


# -- physical_id_for -------------------------------------------------------------------------


def test_physical_id_is_stable_for_the_same_stack_and_logical_id() -> None:
    create = {"StackId": STACK_ID, "LogicalResourceId": "AttachmentStatus", "RequestId": "r1"}
    again = create | {"RequestId": "r2"}  # a duplicate delivery / retried Create
    physical_id = physical_id_for(create)
    assert physical_id == physical_id_for(again)
    assert re.fullmatch(r"registration-attachment-status-[0-9a-f]{16}", physical_id)


def test_physical_id_differs_between_resources_and_stacks() -> None:
    first = physical_id_for({"StackId": STACK_ID, "LogicalResourceId": "A"})
    other_resource = physical_id_for({"StackId": STACK_ID, "LogicalResourceId": "B"})
    other_stack = physical_id_for({"StackId": STACK_ID + "x", "LogicalResourceId": "A"})
    assert len({first, other_resource, other_stack}) == 3


@pytest.mark.parametrize("request_type", ["Update", "Delete"])
def test_existing_physical_id_is_echoed(request_type: str) -> None:
    event = {
        "RequestType": request_type,
        "StackId": STACK_ID,
        "LogicalResourceId": "AttachmentStatus",
        "PhysicalResourceId": "made-by-an-older-version",
    }
    assert physical_id_for(event) == "made-by-an-older-version"


# -- StatusReport.data / unknown_data --------------------------------------------------------


def test_data_has_exactly_the_documented_keys() -> None:
    report = StatusReport(
        counts={"UPLOAD_IN_PROGRESS": 1, "UPLOAD_COMPLETE": 5, "UPLOAD_FAILED": 2, "DELETED": 3},
        failed_ids=[attachment_id(1), attachment_id(2)],
        status_by_id={attachment_id(1): "UPLOAD_FAILED", attachment_id(9): "UPLOAD_COMPLETE"},
        scanned_at=datetime(2026, 12, 4, 20, 0, 1, 999, tzinfo=UTC),
    )
    assert report.data() == {
        "TotalCount": "11",
        "UploadInProgressCount": "1",
        "UploadCompleteCount": "5",
        "UploadFailedCount": "2",
        "DeletedCount": "3",
        "FailedAttachmentIds": f"{attachment_id(1)},{attachment_id(2)}",
        "FailedAttachmentIdsTruncated": "false",
        f"Status.{attachment_id(1)}": "UPLOAD_FAILED",
        f"Status.{attachment_id(9)}": "UPLOAD_COMPLETE",
        "ScannedAt": "2026-12-04T20:00:01Z",
    }


def test_data_with_nothing_failed_says_none_never_empty() -> None:
    data = StatusReport().data()
    assert data["FailedAttachmentIds"] == "none"
    assert data["FailedAttachmentIdsTruncated"] == "false"
    assert {data[key] for key in COUNT_KEYS} == {"0"}
    assert ISO_UTC.match(data["ScannedAt"])
    assert all(value != "" for value in data.values())


def test_data_marks_a_truncated_failed_id_list() -> None:
    report = StatusReport(failed_ids=[attachment_id(1)], failed_ids_truncated=True)
    assert report.data()["FailedAttachmentIdsTruncated"] == "true"


def test_unknown_data_has_every_key_valued_unknown() -> None:
    ids = [attachment_id(1), attachment_id(2)]
    data = unknown_data(ids)
    expected_keys = set(StatusReport(status_by_id=dict.fromkeys(ids, "X")).data())
    assert set(data) == expected_keys
    for key in COUNT_KEYS | {"FailedAttachmentIds", *(f"Status.{i}" for i in ids)}:
        assert data[key] == UNKNOWN
    assert data["FailedAttachmentIdsTruncated"] == "false"
    assert ISO_UTC.match(data["ScannedAt"])


def test_unknown_data_for_requested_arns_uses_the_same_status_keys_as_a_read() -> None:
    # Given ids requested as ARNs (allowed by RegistrationAttachmentIds)
    request = parse_properties({"RegistrationAttachmentIds": [attachment_arn(1)]})
    # When a normal read reports them, the API answers with the attachment id ...
    report = read_status(FakeApi([[attachment("UPLOAD_COMPLETE", 1)]]), request)
    # ... so the rollback answer must offer the same Status.<RegistrationAttachmentId> key
    assert set(unknown_data(request.ids)) == set(report.data())


# -- gate_reason (with read_status over a fake API) ------------------------------------------


def attachment(status: str, index: int) -> Attachment:
    return Attachment(
        attachment_id=attachment_id(index),
        arn=attachment_arn(index),
        status=status,
        created=datetime(2026, 12, 1, tzinfo=UTC),
    )


class FakeApi:
    """Serves pages of attachments, recording what was asked."""

    def __init__(self, pages: list[list[Attachment]]) -> None:
        self._pages = pages
        self.asked: list[tuple[str, Any]] = []

    def pages(self, statuses: Any = None) -> Iterator[list[Attachment]]:
        self.asked.append(("pages", statuses))
        yield from self._pages

    def by_ids(self, ids: Sequence[str]) -> Iterator[list[Attachment]]:
        self.asked.append(("by_ids", tuple(ids)))
        yield from self._pages


def test_no_gate_hits_means_no_reason() -> None:
    assert gate_reason(StatusReport()) is None
    report = read_status(
        FakeApi([[attachment("UPLOAD_COMPLETE", 1)]]),
        ReportRequest(fail_on=("UPLOAD_FAILED",)),
    )
    assert gate_reason(report) is None


def test_gate_reason_names_the_gated_status_and_ids() -> None:
    # Given two failed attachments and FailOnStatuses UPLOAD_FAILED
    api = FakeApi([[attachment("UPLOAD_FAILED", 1), attachment("UPLOAD_COMPLETE", 2)]])
    report = read_status(api, ReportRequest(fail_on=("UPLOAD_FAILED",)))
    # Then the reason names the status and the failed id, not the healthy one
    reason = gate_reason(report)
    assert reason == (
        f"FailOnStatuses: attachments in a gated status — UPLOAD_FAILED: {attachment_id(1)}"
    )


def test_gate_reason_lists_at_most_twenty_ids_and_marks_the_rest() -> None:
    api = FakeApi([[attachment("UPLOAD_FAILED", i) for i in range(25)]])
    report = read_status(api, ReportRequest(fail_on=("UPLOAD_FAILED",)))
    reason = gate_reason(report)
    assert reason is not None
    assert reason.count("attachment-") == 20
    assert reason.endswith(" …")


def test_gate_reason_marks_more_ids_even_when_the_gated_status_is_not_counted() -> None:
    # Given FailOnStatuses UPLOAD_FAILED while AttachmentStatuses counts only UPLOAD_COMPLETE
    api = FakeApi([[attachment("UPLOAD_FAILED", i) for i in range(25)]])
    request = ReportRequest(statuses=("UPLOAD_COMPLETE",), fail_on=("UPLOAD_FAILED",))
    report = read_status(api, request)
    # Then the reason still says that more than the twenty named ids are gated
    reason = gate_reason(report)
    assert reason is not None
    assert reason.count("attachment-") == 20
    assert reason.endswith(" …")


def test_gate_reason_covers_each_gated_status() -> None:
    api = FakeApi([[attachment("UPLOAD_FAILED", 1), attachment("UPLOAD_IN_PROGRESS", 2)]])
    request = ReportRequest(fail_on=("UPLOAD_FAILED", "UPLOAD_IN_PROGRESS"))
    reason = gate_reason(read_status(api, request))
    assert reason is not None
    assert f"UPLOAD_FAILED: {attachment_id(1)}" in reason
    assert f"UPLOAD_IN_PROGRESS: {attachment_id(2)}" in reason
