"""The custom resource's optional properties, the per-id status values, and the synth-time
validation of the construct's props (a bad value raises, naming the prop)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from stacks.registration_attachment_monitor import RegistrationAttachmentMonitor
from tests.infra.synth import PINNED_REFRESH_TOKEN, cdk_json_context, get_att, only_resource

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PLAIN_ID = "registration-attachment-0123456789abcdef0123456789abcdef"
ARN_ID = "registration-attachment-fedcba9876543210fedcba9876543210"
ARN = f"arn:aws:sms-voice:{REGION}:{ACCOUNT}:registration-attachment/{ARN_ID}"
PARAMETER_PATH = "/registration-attachment-monitor/Scoped"


def _monitor(
    *, env: cdk.Environment | None = None, **props: Any
) -> tuple[cdk.Stack, RegistrationAttachmentMonitor]:
    app = cdk.App(context=cdk_json_context())
    stack = cdk.Stack(app, "Scoped", env=env)
    monitor = RegistrationAttachmentMonitor(
        stack, "Monitor", **{"refresh_token": PINNED_REFRESH_TOKEN, **props}
    )
    return stack, monitor


@pytest.fixture(scope="module")
def scoped() -> tuple[RegistrationAttachmentMonitor, Template]:
    stack, monitor = _monitor(
        env=cdk.Environment(account=ACCOUNT, region=REGION),
        # The same attachment twice (as id and as ARN) is requested once.
        registration_attachment_ids=[PLAIN_ID, ARN, ARN_ID],
        attachment_statuses=["UPLOAD_FAILED", "UPLOAD_COMPLETE"],
        fail_on_statuses=["UPLOAD_FAILED"],
    )
    return monitor, Template.from_stack(stack)


@pytest.fixture(scope="module")
def template(scoped: tuple[RegistrationAttachmentMonitor, Template]) -> Template:
    return scoped[1]


def _resource_id(template: Template) -> str:
    return only_resource(template, "Custom::RegistrationAttachmentStatus")[0]


def test_optional_properties_are_passed_as_lists(template: Template) -> None:
    function_id, _ = only_resource(template, "AWS::Lambda::Function")
    template.has_resource_properties(
        "Custom::RegistrationAttachmentStatus",
        Match.object_equals(
            {
                "ServiceToken": get_att(function_id),
                "ServiceTimeout": "180",
                "RefreshToken": PINNED_REFRESH_TOKEN,
                "RegistrationAttachmentIds": [PLAIN_ID, ARN],
                "AttachmentStatuses": ["UPLOAD_FAILED", "UPLOAD_COMPLETE"],
                "FailOnStatuses": ["UPLOAD_FAILED"],
            }
        ),
    )


@pytest.mark.parametrize("attachment_id", [PLAIN_ID, ARN_ID])
def test_each_requested_id_gets_a_status_output_keyed_by_attachment_id(
    template: Template, attachment_id: str
) -> None:
    """The handler answers `Status.<attachment id>`, also for an id requested as an ARN."""
    template.has_output(
        "AttachmentStatus" + attachment_id.replace("-", ""),
        {
            "Value": get_att(_resource_id(template), f"Status.{attachment_id}"),
            "Export": Match.absent(),
        },
    )


@pytest.mark.parametrize("attachment_id", [PLAIN_ID, ARN_ID])
def test_each_requested_id_gets_a_status_parameter(template: Template, attachment_id: str) -> None:
    template.has_resource_properties(
        "AWS::SSM::Parameter",
        {
            "Name": f"{PARAMETER_PATH}/Status/{attachment_id}",
            "Type": "String",
            "Value": get_att(_resource_id(template), f"Status.{attachment_id}"),
        },
    )


def test_no_status_value_is_keyed_by_an_arn(template: Template) -> None:
    outputs = template.to_json()["Outputs"]
    parameters = template.find_resources("AWS::SSM::Parameter")
    rendered = repr(outputs) + repr(parameters)
    assert "Status.arn:" not in rendered
    assert "/Status/arn" not in rendered
    assert len([name for name in outputs if name.startswith("AttachmentStatus")]) == 2


def test_typed_accessors_are_the_get_att_tokens(
    scoped: tuple[RegistrationAttachmentMonitor, Template],
) -> None:
    monitor, template = scoped
    stack = cdk.Stack.of(monitor)
    resource_id = _resource_id(template)
    expected = {
        "total_count": "TotalCount",
        "upload_in_progress_count": "UploadInProgressCount",
        "upload_complete_count": "UploadCompleteCount",
        "upload_failed_count": "UploadFailedCount",
        "deleted_count": "DeletedCount",
        "failed_attachment_ids": "FailedAttachmentIds",
        "failed_attachment_ids_truncated": "FailedAttachmentIdsTruncated",
        "scanned_at": "ScannedAt",
    }
    for accessor, attribute in expected.items():
        assert stack.resolve(getattr(monitor, accessor)) == get_att(resource_id, attribute)
    for requested in (PLAIN_ID, ARN_ID, ARN):
        attachment_id = requested.rsplit("/", 1)[-1]
        assert stack.resolve(monitor.status_of(requested)) == get_att(
            resource_id, f"Status.{attachment_id}"
        )
    assert monitor.registration_attachment_ids == (PLAIN_ID, ARN_ID)


def test_names_of_parameters_and_exports(
    scoped: tuple[RegistrationAttachmentMonitor, Template],
) -> None:
    monitor, _ = scoped
    assert monitor.parameter_name("UploadFailedCount") == f"{PARAMETER_PATH}/UploadFailedCount"
    assert monitor.parameter_name(f"Status.{ARN}") == f"{PARAMETER_PATH}/Status/{ARN_ID}"
    assert monitor.export_name("AlertTopicArn") == "Scoped-AlertTopicArn"
    with pytest.raises(ValueError, match="export_name: only"):
        monitor.export_name("UploadFailedCount")
    with pytest.raises(ValueError, match="parameter_name: unknown attribute"):
        monitor.parameter_name("Nope")
    with pytest.raises(ValueError, match="not in registration_attachment_ids"):
        monitor.parameter_name("Status.registration-attachment-other")


def test_status_of_an_unwatched_id_fails(
    scoped: tuple[RegistrationAttachmentMonitor, Template],
) -> None:
    monitor, _ = scoped
    with pytest.raises(ValueError, match="status_of: 'ra-other' is not in"):
        monitor.status_of("ra-other")


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"registration_attachment_ids": [f"ra-{n}" for n in range(31)]},
            "registration_attachment_ids: at most 30 ids",
        ),
        ({"registration_attachment_ids": "ra-1"}, "registration_attachment_ids must be a list"),
        ({"registration_attachment_ids": [" "]}, "registration_attachment_ids: ids must not be"),
        ({"registration_attachment_ids": ["ra 1"]}, "registration_attachment_ids: 'ra 1' is not"),
        (
            {"registration_attachment_ids": ["arn:aws:sns:eu-west-1:123456789012:topic"]},
            "registration_attachment_ids: .* is not a registration attachment ARN",
        ),
        (
            {"registration_attachment_ids": [ARN.replace(REGION, "us-east-1")]},
            "registration_attachment_ids: .* is in region us-east-1, but the monitor is "
            "deployed to region eu-west-1",
        ),
        (
            {"registration_attachment_ids": [ARN.replace(ACCOUNT, "999999999999")]},
            "registration_attachment_ids: .* is in account 999999999999",
        ),
        ({"attachment_statuses": ["FAILED"]}, "attachment_statuses: unknown status"),
        ({"attachment_statuses": "UPLOAD_FAILED"}, "attachment_statuses must be a list"),
        ({"fail_on_statuses": ["upload_failed"]}, "fail_on_statuses: unknown status"),
        ({"refresh_token": "yesterday"}, "refresh_token must be epoch milliseconds"),
    ],
)
def test_invalid_status_props_fail_at_synth_naming_the_prop(
    props: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _monitor(env=cdk.Environment(account=ACCOUNT, region=REGION), **props)


def test_thirty_ids_are_accepted_and_duplicates_count_once() -> None:
    ids = [f"ra-{n}" for n in range(30)]
    _, monitor = _monitor(
        registration_attachment_ids=[
            *ids,
            f"arn:aws:sms-voice:{REGION}:{ACCOUNT}:registration-attachment/ra-0",
        ]
    )
    assert monitor.registration_attachment_ids == tuple(ids)


def test_an_arn_of_any_region_is_accepted_by_an_environment_agnostic_stack() -> None:
    _, monitor = _monitor(registration_attachment_ids=[ARN.replace(REGION, "us-east-1")])
    assert monitor.registration_attachment_ids == (ARN_ID,)
