"""The CloudFormation custom resource: report attachment status, gate a deployment.

Every request gets exactly one answer — on success, on bad properties, on any exception,
and from a watchdog shortly before the Lambda deadline — and nothing is raised out of
this path, so Lambda's async retries never see it. Delete never calls the SMS API, and a
rollback Update never fails (otherwise the stack would end in UPDATE_ROLLBACK_FAILED).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from .alerts import iso_utc
from .cfn_response import (
    FAILED,
    FAILED_IDS_KEY,
    SUCCESS,
    HttpPut,
    Responder,
    Watchdog,
    encode_response,
    http_put,
)
from .model import ALL_STATUSES, UPLOAD_FAILED, Attachment
from .sms_api import AttachmentsApi
from .state import AlertState

logger = Logger(child=True)

MAX_REQUESTED_IDS = 30  # every Status.<id> key fits in the 4096-byte answer
WATCHDOG_MARGIN_SECONDS = 5.0
ACCESS_DENIED_GRACE_SECONDS = 30.0  # a role created in the same deployment can take this long
UNKNOWN = "UNKNOWN"
NO_FAILED_IDS = "none"
_FAILED_IDS_BUDGET = 4096  # collect no more ids than could ever be answered
_ID_PATTERN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:/-")
_COUNT_KEYS = {
    "UPLOAD_IN_PROGRESS": "UploadInProgressCount",
    "UPLOAD_COMPLETE": "UploadCompleteCount",
    "UPLOAD_FAILED": "UploadFailedCount",
    "DELETED": "DeletedCount",
}


class PropertyError(ValueError):
    """A resource property is malformed; the message names it and the fix."""


class Context(Protocol):
    @property
    def log_stream_name(self) -> str: ...

    def get_remaining_time_in_millis(self) -> int: ...


class Services(Protocol):
    """What the custom resource needs from the runtime (built from configuration)."""

    @property
    def api(self) -> AttachmentsApi: ...

    @property
    def state(self) -> AlertState: ...


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """The validated properties."""

    ids: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ALL_STATUSES
    fail_on: tuple[str, ...] = ()


@dataclass(slots=True)
class StatusReport:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ALL_STATUSES, 0))
    failed_ids: list[str] = field(default_factory=list)
    failed_ids_truncated: bool = False
    status_by_id: dict[str, str] = field(default_factory=dict)
    gate_hits: dict[str, list[str]] = field(default_factory=dict)
    gate_counts: dict[str, int] = field(default_factory=dict)
    scanned_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def data(self) -> dict[str, str]:
        data = {"TotalCount": str(sum(self.counts.values()))}
        data |= {_COUNT_KEYS[status]: str(count) for status, count in self.counts.items()}
        data["FailedAttachmentIds"] = ",".join(self.failed_ids) or NO_FAILED_IDS
        data[FAILED_IDS_KEY] = str(self.failed_ids_truncated).lower()
        data |= {f"Status.{i}": status for i, status in self.status_by_id.items()}
        data["ScannedAt"] = iso_utc(self.scanned_at)
        return data


def unknown_data(ids: Iterable[str] = ()) -> dict[str, str]:
    """Every attribute, valued UNKNOWN: a rollback answers this when it cannot read."""
    data = dict.fromkeys(["TotalCount", *_COUNT_KEYS.values(), "FailedAttachmentIds"], UNKNOWN)
    data[FAILED_IDS_KEY] = "false"
    data |= {f"Status.{attachment_id_of(i)}": UNKNOWN for i in ids}
    data["ScannedAt"] = iso_utc(datetime.now(UTC))
    return data


def attachment_id_of(id_or_arn: str) -> str:
    """The attachment id of an id or ARN (``…:registration-attachment/<id>``): the
    ``Status.<id>`` attributes are keyed by id whichever form was requested."""
    return id_or_arn.rsplit("/", 1)[-1] if id_or_arn.startswith("arn:") else id_or_arn


# -- properties --------------------------------------------------------------------------


def parse_properties(properties: Mapping[str, Any]) -> ReportRequest:
    """Validates the resource properties; CloudFormation passes scalars as strings, and a
    comma-separated string is accepted where a list is expected."""
    if not isinstance(properties, Mapping):
        raise PropertyError("ResourceProperties must be an object of properties")
    ids = _string_list(properties, "RegistrationAttachmentIds")
    for attachment_id in ids or ():
        if len(attachment_id) > 256 or not set(attachment_id) <= _ID_PATTERN_CHARS:
            raise PropertyError(
                f"RegistrationAttachmentIds: {attachment_id[:80]!r} is not an attachment id or "
                "ARN (letters, digits, _ : / - only, at most 256 characters)"
            )
    if ids is not None and len(ids) > MAX_REQUESTED_IDS:
        raise PropertyError(
            f"RegistrationAttachmentIds: {len(ids)} ids given, at most {MAX_REQUESTED_IDS} "
            "are allowed (each becomes an attribute of a 4096-byte answer); split them "
            "across several resources"
        )
    statuses = _status_list(properties, "AttachmentStatuses")
    fail_on = _status_list(properties, "FailOnStatuses")
    return ReportRequest(
        ids=tuple(dict.fromkeys(ids or ())),
        statuses=statuses or ALL_STATUSES,
        fail_on=fail_on or (),
    )


def _string_list(properties: Mapping[str, Any], name: str) -> tuple[str, ...] | None:
    if name not in properties:
        return None
    raw = properties[name]
    if isinstance(raw, str):
        raw = [part.strip() for part in raw.split(",")] if raw.strip() else []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise PropertyError(f"{name}: expected a list of strings, got {type(raw).__name__}")
    values = tuple(item.strip() for item in raw)
    if not values or any(not value for value in values):
        raise PropertyError(f"{name}: empty values are not allowed; omit the property instead")
    return values


def _status_list(properties: Mapping[str, Any], name: str) -> tuple[str, ...] | None:
    values = _string_list(properties, name)
    if values is None:
        return None
    unknown = [value for value in values if value not in ALL_STATUSES]
    if unknown:
        raise PropertyError(
            f"{name}: unknown status {unknown[0][:40]!r}; use any of {', '.join(ALL_STATUSES)}"
        )
    return tuple(dict.fromkeys(values))


# -- reading status ------------------------------------------------------------------------


class ReportError(RuntimeError):
    """The status could not be read; the message is the answer's reason."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def read_status(
    api: AttachmentsApi,
    request: ReportRequest,
    observe: Callable[[Attachment], None] | None = None,
) -> StatusReport:
    """Counts the attachments selected by ``request``, streaming page by page;
    ``observe`` sees each one (the operator CLI prints them)."""
    report = StatusReport()
    counted = set(request.statuses)
    gate = set(request.fail_on)
    ids_budget = _FAILED_IDS_BUDGET
    listed = counted | gate
    pages = (
        api.by_ids(request.ids)
        if request.ids
        else api.pages(None if listed == set(ALL_STATUSES) else listed)
    )
    try:
        for page in pages:
            for attachment in page:
                if observe is not None:
                    observe(attachment)
                status = attachment.status
                if request.ids:
                    report.status_by_id[attachment.attachment_id] = status
                if status in gate:
                    report.gate_counts[status] = report.gate_counts.get(status, 0) + 1
                    hits = report.gate_hits.setdefault(status, [])
                    if len(hits) < 20:  # enough to name in a reason
                        hits.append(attachment.attachment_id)
                if status not in counted:
                    continue
                report.counts[status] = report.counts.get(status, 0) + 1
                if status == UPLOAD_FAILED:
                    ids_budget -= len(attachment.attachment_id) + 1
                    if ids_budget >= 0:
                        report.failed_ids.append(attachment.attachment_id)
                    else:
                        report.failed_ids_truncated = True
    except ClientError as error:
        raise _report_error(error, request.ids) from error
    except BotoCoreError as error:
        raise ReportError(f"the SMS API could not be reached: {error}", "Unreachable") from error
    report.scanned_at = datetime.now(UTC)
    return report


def _report_error(error: ClientError, ids: Sequence[str]) -> ReportError:
    details = error.response.get("Error", {})
    code = details.get("Code", "Unknown")
    message = details.get("Message", "")
    if code == "ResourceNotFoundException":
        missing = error.response.get("ResourceId") or details.get("ResourceId")
        named = f"{missing!r} was" if missing else f"one of {', '.join(ids)} was"
        return ReportError(
            f"RegistrationAttachmentIds: attachment {named} not found "
            f"(ResourceNotFoundException); check the id and the stack's region",
            code,
        )
    return ReportError(
        f"DescribeRegistrationAttachments failed with {code}: {message}".strip(), code
    )


def gate_reason(report: StatusReport) -> str | None:
    """The failure reason when any reported attachment has a FailOnStatuses status."""
    if not report.gate_hits:
        return None
    parts = []
    for status, ids in report.gate_hits.items():
        count = report.gate_counts.get(status) or len(ids)
        parts.append(f"{status}: {', '.join(ids)}{' …' if count > len(ids) else ''}")
    return "FailOnStatuses: attachments in a gated status — " + "; ".join(parts)


# -- the request ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    reason: str
    data: dict[str, str] = field(default_factory=dict)


def physical_id_for(event: Mapping[str, Any]) -> str:
    """Made on Create from the stack and logical id (stable across duplicate deliveries),
    echoed on Update and Delete: a changed id would mean replacement."""
    existing = event.get("PhysicalResourceId")
    if isinstance(existing, str) and existing:
        return existing
    seed = f"{event.get('StackId', '')}/{event.get('LogicalResourceId', '')}"
    digest = hashlib.sha256(seed.encode()).hexdigest()[:16]
    return f"registration-attachment-status-{digest}"


def is_rollback(event: Mapping[str, Any]) -> bool:
    """A rollback Update carries an older refresh token than the properties it replaces."""
    if event.get("RequestType") != "Update":
        return False
    new = _token(event.get("ResourceProperties"))
    old = _token(event.get("OldResourceProperties"))
    return new is not None and old is not None and new < old


def _token(properties: Any) -> int | None:
    if not isinstance(properties, Mapping):
        return None
    try:
        return int(str(properties.get("RefreshToken", "")))
    except ValueError:
        return None


def handle(
    event: Mapping[str, Any],
    context: Context,
    services: Callable[[], Services],
    *,
    put: HttpPut = http_put,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, str]:
    """Answers the request exactly once and returns a short summary; never raises."""
    started = time.monotonic()

    def seconds_left() -> float:
        return context.get_remaining_time_in_millis() / 1000

    deadline = started + seconds_left() - 0.5
    responder = Responder(str(event["ResponseURL"]), put=put)
    physical_id = physical_id_for(event)
    log_hint = f" (log stream {getattr(context, 'log_stream_name', 'unknown')})"

    def answer(outcome: Outcome) -> bool:
        body = encode_response(
            status=outcome.status,
            reason=outcome.reason + (log_hint if outcome.status == FAILED else ""),
            request=event,
            physical_id=physical_id,
            data=outcome.data,
        )
        sent = responder.answer(body, deadline=deadline)
        if sent and responder.delivered:
            # Recorded by whoever answered (the watchdog too): the invocation may be
            # killed right after, and Lambda's retry must find the answer recorded.
            _record_answer(services, event, outcome.status)
        return sent

    def on_deadline() -> None:
        logger.error("Deadline near: answering before Lambda times out")
        answer(_on_deadline_outcome(event))

    watchdog = Watchdog(seconds_left, on_deadline, margin=WATCHDOG_MARGIN_SECONDS)
    watchdog.start()
    duplicate = False
    try:
        outcome, duplicate = _process(event, services, seconds_left, sleep)
    except Exception as error:  # the boundary: CloudFormation must still get an answer
        logger.exception("Custom resource request failed")
        outcome = _on_error(event, f"{type(error).__name__}: {error}")
    finally:
        watchdog.cancel()
    if duplicate:
        logger.info("Request already answered; not answering again")
        return {"Status": "DUPLICATE", "PhysicalResourceId": physical_id}
    try:
        answered_here = answer(outcome)
    except Exception as error:  # the responder's own retries failed in an unforeseen way
        logger.error("Could not answer CloudFormation", error_type=type(error).__name__)
        answered_here = False
    responder.wait(max(seconds_left() - 0.5, 0.0))
    return {
        "Status": outcome.status if answered_here else FAILED,
        "PhysicalResourceId": physical_id,
    }


def _process(
    event: Mapping[str, Any],
    services: Callable[[], Services],
    seconds_left: Callable[[], float],
    sleep: Callable[[float], None],
) -> tuple[Outcome, bool]:
    request_type = event.get("RequestType")
    rollback = is_rollback(event)
    if request_type == "Delete":
        # Nothing to clean up, and the SMS API is never called: Delete always succeeds,
        # also after a failed Create and with the state table or the configuration gone.
        state = _state_or_none(services) if _request_problem(event) is None else None
        return Outcome(SUCCESS, "nothing to delete"), _answered_before(state, event)
    problem = _request_problem(event)
    if problem:
        return Outcome(FAILED, problem), False
    if request_type not in ("Create", "Update"):
        return (
            Outcome(FAILED, f"RequestType {request_type!r} is not Create, Update or Delete"),
            False,
        )
    if seconds_left() <= WATCHDOG_MARGIN_SECONDS:
        # A rollback never fails, even with no time left.
        return _on_error(event, "too little time left to read status; retry the deployment"), False
    runtime = services()  # a bad configuration is answered by handle's boundary
    if _answered_before(runtime.state, event):
        return Outcome(SUCCESS, ""), True
    try:
        properties = event.get("ResourceProperties")
        request = parse_properties({} if properties is None else properties)
        report = _read_with_grace(
            runtime.api, request, request_type == "Create", seconds_left, sleep
        )
    except (PropertyError, ReportError) as error:
        return _on_error(event, str(error)), False
    reason = None if rollback else gate_reason(report)
    if reason:
        return Outcome(FAILED, reason, report.data()), False
    note = "rollback: gate skipped" if rollback else "status read"
    return Outcome(SUCCESS, note, report.data()), False


_REQUEST_FIELDS = ("StackId", "RequestId", "LogicalResourceId")


def _request_problem(event: Mapping[str, Any]) -> str | None:
    """What makes the request unlike any CloudFormation sends (its answer could not be
    matched, nor its duplicates recognized), or None."""
    for name in _REQUEST_FIELDS:
        value = event.get(name)
        if not isinstance(value, str) or not value.strip():
            return (
                f"{name} is missing or not a non-empty string: "
                "send the request CloudFormation built"
            )
    return None


def _on_deadline_outcome(event: Mapping[str, Any]) -> Outcome:
    """The watchdog's answer: Delete still succeeds, a rollback still never fails."""
    if event.get("RequestType") == "Delete":
        return Outcome(SUCCESS, "nothing to delete")
    return _on_error(event, "timed out reading registration attachment status")


def _read_with_grace(
    api: AttachmentsApi,
    request: ReportRequest,
    creating: bool,
    seconds_left: Callable[[], float],
    sleep: Callable[[float], None],
) -> StatusReport:
    """On Create, AccessDenied is retried for a while: the function's new role may not
    have propagated yet."""
    waited = 0.0
    delay = 1.0
    while True:
        try:
            return read_status(api, request)
        except ReportError as error:
            retry = creating and error.code == "AccessDeniedException"
            if not retry or waited + delay > ACCESS_DENIED_GRACE_SECONDS:
                raise
            if seconds_left() - delay <= WATCHDOG_MARGIN_SECONDS + 1:
                raise
            logger.warning("Access denied on Create; retrying while the role propagates")
            sleep(delay)
            waited += delay
            delay = min(delay * 2, 8.0)


def _on_error(event: Mapping[str, Any], reason: str) -> Outcome:
    """FAILED, except for a rollback Update, which must never fail."""
    return _unknown(event, reason) if is_rollback(event) else Outcome(FAILED, reason)


def _unknown(event: Mapping[str, Any], reason: str) -> Outcome:
    properties = event.get("ResourceProperties")
    try:
        ids = parse_properties(properties if isinstance(properties, Mapping) else {}).ids
    except PropertyError:
        ids = ()
    logger.warning("Rollback Update answered SUCCESS with UNKNOWN values", reason=reason)
    return Outcome(SUCCESS, f"rollback answered without reading: {reason}", unknown_data(ids))


def _state_or_none(services: Callable[[], Services]) -> AlertState | None:
    try:
        return services().state
    except Exception:  # configuration broken: Delete still succeeds
        logger.warning("Configuration unavailable during Delete; answering anyway")
        return None


def _answered_before(state: AlertState | None, event: Mapping[str, Any]) -> bool:
    if state is None:
        return False
    try:
        return state.was_answered(str(event.get("StackId")), str(event.get("RequestId")))
    except Exception as error:  # best effort: an unreachable table must not block the answer
        logger.warning("Could not check for a duplicate delivery", error=str(error))
        return False


def _record_answer(services: Callable[[], Services], event: Mapping[str, Any], status: str) -> None:
    if _request_problem(event) is not None:
        return  # no key to record it under
    try:
        state = services().state
        state.record_answer(
            str(event.get("StackId")), str(event.get("RequestId")), status, now=int(time.time())
        )
    except Exception as error:  # best effort, as above
        logger.warning("Could not record the answer", error=str(error))
