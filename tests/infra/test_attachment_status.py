"""The custom resource's optional properties and their synth-time validation."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from stacks.monitor_stack import RegistrationAttachmentMonitorStack
from stacks.settings import MonitorSettings
from tests.infra.synth import PINNED_REFRESH_TOKEN, cdk_json_context, get_att, only_resource

IDS = ("ra-0123456789abcdef0123456789abcdef", "ra-fedcba9876543210fedcba9876543210")


def _stack(**settings: Any) -> RegistrationAttachmentMonitorStack:
    app = cdk.App(context=cdk_json_context())
    return RegistrationAttachmentMonitorStack(
        app,
        "Scoped",
        settings=MonitorSettings(refresh_token=PINNED_REFRESH_TOKEN, **settings),
    )


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.from_stack(
        _stack(
            registration_attachment_ids=IDS,
            attachment_statuses=["UPLOAD_FAILED", "UPLOAD_COMPLETE"],
            fail_on_statuses=["UPLOAD_FAILED"],
        )
    )


def test_optional_properties_are_passed_as_lists(template: Template) -> None:
    function_id, _ = only_resource(template, "AWS::Lambda::Function")
    template.has_resource_properties(
        "Custom::RegistrationAttachmentStatus",
        Match.object_equals(
            {
                "ServiceToken": get_att(function_id),
                "ServiceTimeout": "180",
                "RefreshToken": PINNED_REFRESH_TOKEN,
                "RegistrationAttachmentIds": list(IDS),
                "AttachmentStatuses": ["UPLOAD_FAILED", "UPLOAD_COMPLETE"],
                "FailOnStatuses": ["UPLOAD_FAILED"],
            }
        ),
    )


def test_each_requested_id_gets_a_status_output(template: Template) -> None:
    resource_id, _ = only_resource(template, "Custom::RegistrationAttachmentStatus")
    for attachment_id in IDS:
        name = "AttachmentStatus" + attachment_id.replace("-", "")
        template.has_output(
            name,
            {"Value": get_att(resource_id, f"Status.{attachment_id}"), "Export": Match.absent()},
        )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"registration_attachment_ids": [f"ra-{n}" for n in range(31)]}, "at most 30"),
        ({"registration_attachment_ids": "ra-1"}, "not a string"),
        ({"registration_attachment_ids": [" "]}, "must not be empty"),
        ({"attachment_statuses": ["FAILED"]}, "unknown status"),
        ({"fail_on_statuses": ["upload_failed"]}, "unknown status"),
    ],
)
def test_invalid_properties_fail_at_synth(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _stack(**settings)


def test_thirty_ids_are_accepted() -> None:
    _stack(registration_attachment_ids=[f"ra-{n}" for n in range(30)])
