"""The custom resource that reads registration attachment status at deploy time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from aws_cdk import CustomResource, Duration, Token
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

RESOURCE_TYPE: Final = "Custom::RegistrationAttachmentStatus"
MAX_ATTACHMENT_IDS: Final = 30
ATTACHMENT_STATUSES: Final = frozenset(
    {"UPLOAD_IN_PROGRESS", "UPLOAD_COMPLETE", "UPLOAD_FAILED", "DELETED"}
)
# Attributes every answer carries (`Fn::GetAtt`); `Status.<id>` is added per requested id.
COUNT_ATTRIBUTES: Final = (
    "TotalCount",
    "UploadInProgressCount",
    "UploadCompleteCount",
    "UploadFailedCount",
    "DeletedCount",
)


class AttachmentStatus(Construct):
    """`Custom::RegistrationAttachmentStatus`, served directly by the monitor function.

    No Provider framework: the service token is the function's ARN. With a Lambda ARN as
    service token, CloudFormation invokes the function with the credentials of whoever runs
    the stack operation (the deploy role), so the function needs no resource policy for it.
    `ServiceTimeout` is the function timeout plus a minute (not CloudFormation's default
    hour), a second line of defence behind the handler's watchdog.
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
        _check_ids(registration_attachment_ids)
        _check_statuses("attachment_statuses", attachment_statuses)
        _check_statuses("fail_on_statuses", fail_on_statuses)
        self.registration_attachment_ids = tuple(registration_attachment_ids)

        properties: dict[str, Any] = {"RefreshToken": refresh_token}
        if registration_attachment_ids:
            properties["RegistrationAttachmentIds"] = list(registration_attachment_ids)
        if attachment_statuses:
            properties["AttachmentStatuses"] = list(attachment_statuses)
        if fail_on_statuses:
            properties["FailOnStatuses"] = list(fail_on_statuses)

        self.resource = CustomResource(
            self,
            "Resource",
            service_token=service_function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties=properties,
            service_timeout=function_timeout.plus(Duration.minutes(1)),
        )

    def attribute(self, name: str) -> str:
        """`Fn::GetAtt` of one data attribute, e.g. `TotalCount` or `Status.<id>`."""
        return self.resource.get_att_string(name)


def _check_ids(ids: Sequence[str]) -> None:
    if isinstance(ids, str):
        raise ValueError("registration_attachment_ids must be a list of ids, not a string")
    if len(ids) > MAX_ATTACHMENT_IDS:
        raise ValueError(
            f"registration_attachment_ids: at most {MAX_ATTACHMENT_IDS} ids, got {len(ids)}"
        )
    for value in ids:
        if not Token.is_unresolved(value) and not value.strip():
            raise ValueError("registration_attachment_ids: ids must not be empty")


def _check_statuses(name: str, statuses: Sequence[str]) -> None:
    if isinstance(statuses, str):
        raise ValueError(f"{name} must be a list of statuses, not a string")
    unknown = [
        value
        for value in statuses
        if not Token.is_unresolved(value) and value not in ATTACHMENT_STATUSES
    ]
    if unknown:
        raise ValueError(
            f"{name}: unknown status(es) {unknown}; expected {sorted(ATTACHMENT_STATUSES)}"
        )
