"""The custom resource that reads registration attachment status at deploy time."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from aws_cdk import (
    CrossStackReferences,
    CustomResource,
    Duration,
    ReferenceStrength,
    Stack,
    Token,
)
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

RESOURCE_TYPE: Final = "Custom::RegistrationAttachmentStatus"
MAX_ATTACHMENT_IDS: Final = 30
ATTACHMENT_STATUSES: Final = (
    "UPLOAD_IN_PROGRESS",
    "UPLOAD_COMPLETE",
    "UPLOAD_FAILED",
    "DELETED",
)
# Attributes every answer carries (`Fn::GetAtt`); `Status.<id>` is added per requested id.
COUNT_ATTRIBUTES: Final = (
    "TotalCount",
    "UploadInProgressCount",
    "UploadCompleteCount",
    "UploadFailedCount",
    "DeletedCount",
)
FAILED_IDS_ATTRIBUTE: Final = "FailedAttachmentIds"
FAILED_IDS_TRUNCATED_ATTRIBUTE: Final = "FailedAttachmentIdsTruncated"
SCANNED_AT_ATTRIBUTE: Final = "ScannedAt"
SUMMARY_ATTRIBUTES: Final = (
    *COUNT_ATTRIBUTES,
    FAILED_IDS_ATTRIBUTE,
    FAILED_IDS_TRUNCATED_ATTRIBUTE,
    SCANNED_AT_ATTRIBUTE,
)
STATUS_ATTRIBUTE_PREFIX: Final = "Status."

# What the handler accepts (letters, digits, _ : / -, at most 256 characters), and the
# attachment id it keys `Status.<id>` by: the id itself, or the last path part of an ARN
# `arn:<partition>:sms-voice:<region>:<account>:registration-attachment/<id>`.
_MAX_ID_LENGTH: Final = 256
_ATTACHMENT_ID = re.compile(r"[A-Za-z0-9_-]+")
_ATTACHMENT_ARN = re.compile(
    r"arn:(?P<partition>[a-z-]+):sms-voice:(?P<region>[a-z0-9-]*):(?P<account>[0-9]*):"
    r"registration-attachment/(?P<id>[A-Za-z0-9_-]+)"
)


def attachment_id_of(id_or_arn: str) -> str:
    """The attachment id of an id or a registration-attachment ARN, as the handler keys
    `Status.<id>` (`lambda_src.custom_resource.attachment_id_of`): an ARN's last path part."""
    return id_or_arn.rsplit("/", 1)[-1] if id_or_arn.startswith("arn:") else id_or_arn


def status_attribute(id_or_arn: str) -> str:
    """`Status.<attachment id>`: the attribute name for an id or ARN."""
    return STATUS_ATTRIBUTE_PREFIX + attachment_id_of(id_or_arn)


class AttachmentStatus(Construct):
    """`Custom::RegistrationAttachmentStatus`, served directly by the monitor function.

    No Provider framework: the service token is the function's ARN. With a Lambda ARN as
    service token, CloudFormation invokes the function with the credentials of whoever runs
    the stack operation (the deploy role), so the function needs no resource policy for it.
    `ServiceTimeout` is the function timeout plus a minute (not CloudFormation's default
    hour), a second line of defence behind the handler's watchdog.

    The attributes change on every deploy, so another stack must never import them through
    an export (an imported export cannot change): the resource is marked to be referenced
    weakly (`Fn::GetStackOutput`) whatever the app's default cross-stack reference strength.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_function: lambda_.IFunction,
        function_timeout: Duration,
        refresh_token: str,
        registration_attachment_ids: Sequence[str] = (),
        attachment_statuses: Sequence[str] = (),
        fail_on_statuses: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        requested = check_properties(
            self,
            registration_attachment_ids=registration_attachment_ids,
            attachment_statuses=attachment_statuses,
            fail_on_statuses=fail_on_statuses,
            refresh_token=refresh_token,
        )
        # The values as given (ids or ARNs: the handler accepts both), one per attachment.
        self.requested_ids: tuple[str, ...] = tuple(requested.values())
        # The attachment ids the `Status.<id>` attributes are keyed by, in the same order.
        self.registration_attachment_ids: tuple[str, ...] = tuple(requested)

        properties: dict[str, Any] = {"RefreshToken": refresh_token}
        if self.requested_ids:
            properties["RegistrationAttachmentIds"] = list(self.requested_ids)
        if attachment_statuses:
            properties["AttachmentStatuses"] = list(dict.fromkeys(attachment_statuses))
        if fail_on_statuses:
            properties["FailOnStatuses"] = list(dict.fromkeys(fail_on_statuses))

        self.resource = CustomResource(
            self,
            "Resource",
            service_token=service_function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties=properties,
            service_timeout=function_timeout.plus(Duration.minutes(1)),
        )
        CrossStackReferences.of(self.resource).produce(ReferenceStrength.WEAK)

    def attribute(self, name: str) -> str:
        """`Fn::GetAtt` of one data attribute, e.g. `TotalCount` or `Status.<id>`."""
        return self.resource.get_att_string(name)

    def status_of(self, id_or_arn: str) -> str:
        """`Fn::GetAtt` of `Status.<id>` for a requested id (or its ARN)."""
        attachment_id = attachment_id_of(id_or_arn)
        if attachment_id not in self.registration_attachment_ids:
            raise ValueError(
                f"status_of: {id_or_arn!r} is not in registration_attachment_ids "
                f"{list(self.registration_attachment_ids)}: the custom resource reports "
                "Status.<id> only for the ids it was asked about"
            )
        return self.attribute(STATUS_ATTRIBUTE_PREFIX + attachment_id)


def check_properties(
    scope: Construct,
    *,
    registration_attachment_ids: Sequence[str],
    attachment_statuses: Sequence[str],
    fail_on_statuses: Sequence[str],
    refresh_token: str | None,
) -> dict[str, str]:
    """Checks the custom resource's properties (a ValueError names the bad prop) and
    returns the requested ids or ARNs keyed by attachment id. ``refresh_token`` None means
    "made at synth" and needs no check."""
    stack = Stack.of(scope)
    requested = check_attachment_ids(
        "registration_attachment_ids",
        registration_attachment_ids,
        region=stack.region,
        account=stack.account,
    )
    check_statuses("attachment_statuses", attachment_statuses)
    check_statuses("fail_on_statuses", fail_on_statuses)
    if refresh_token is not None:
        check_refresh_token(refresh_token)
    return requested


def check_attachment_ids(
    prop: str,
    values: Sequence[str],
    *,
    region: str | None = None,
    account: str | None = None,
) -> dict[str, str]:
    """Validates ids/ARNs; returns {attachment id: value as given}, duplicates dropped.

    Raises ValueError naming `prop`: more than 30 ids, a string instead of a list, empty
    or malformed values, an ARN of another service, or of another region or account than
    `region`/`account` (when known: tokens and None are not compared).
    """
    if isinstance(values, str):
        raise ValueError(f"{prop} must be a list of ids, not a string")
    by_id: dict[str, str] = {}
    for value in values:
        if not isinstance(value, str):
            raise ValueError(f"{prop}: ids must be strings, got {value!r}")
        if Token.is_unresolved(value):
            raise ValueError(
                f"{prop}: {value!r} is a token; the ids must be known at synth, since each "
                "one names an attribute, an output and an SSM parameter"
            )
        value = value.strip()
        if not value:
            raise ValueError(f"{prop}: ids must not be empty")
        by_id.setdefault(_attachment_id(prop, value, region, account), value)
    if len(by_id) > MAX_ATTACHMENT_IDS:
        raise ValueError(
            f"{prop}: at most {MAX_ATTACHMENT_IDS} ids (every Status.<id> attribute must fit "
            f"in the custom resource's 4096-byte answer), got {len(by_id)}; split them "
            "across several monitors"
        )
    return by_id


def _attachment_id(prop: str, value: str, region: str | None, account: str | None) -> str:
    if len(value) > _MAX_ID_LENGTH:
        raise ValueError(f"{prop}: {value[:40]!r}… is longer than {_MAX_ID_LENGTH} characters")
    if not value.startswith("arn:"):
        if not _ATTACHMENT_ID.fullmatch(value):
            raise ValueError(
                f"{prop}: {value!r} is not a registration attachment id (letters, digits, "
                "'_' and '-') nor an ARN arn:aws:sms-voice:<region>:<account>:"
                "registration-attachment/<id>"
            )
        return value
    arn = _ATTACHMENT_ARN.fullmatch(value)
    if arn is None:
        raise ValueError(
            f"{prop}: {value!r} is not a registration attachment ARN "
            "(arn:aws:sms-voice:<region>:<account>:registration-attachment/<id>)"
        )
    for part, expected in (("region", region), ("account", account)):
        given = arn.group(part)
        if given and expected and not Token.is_unresolved(expected) and given != expected:
            raise ValueError(
                f"{prop}: {value!r} is in {part} {given}, but the monitor is deployed to "
                f"{part} {expected}: the function reads attachments of its own account and region"
            )
    return arn.group("id")


def check_statuses(prop: str, statuses: Sequence[str]) -> None:
    """Raises ValueError naming `prop` for a string instead of a list or an unknown status."""
    if isinstance(statuses, str):
        raise ValueError(f"{prop} must be a list of statuses, not a string")
    unknown = [
        value
        for value in statuses
        if not (isinstance(value, str) and Token.is_unresolved(value))
        and value not in ATTACHMENT_STATUSES
    ]
    if unknown:
        raise ValueError(
            f"{prop}: unknown status(es) {unknown}; expected any of {list(ATTACHMENT_STATUSES)}"
        )


def check_refresh_token(token: str) -> None:
    if not isinstance(token, str) or not re.fullmatch(r"[0-9]+", token):
        raise ValueError(
            f"refresh_token must be epoch milliseconds (digits only), got {token!r}: a rollback "
            "is recognised by an older token"
        )
