"""Another stack of the same app uses the monitor: it subscribes a queue to the alert topic
through a cross-stack reference and reads UploadFailedCount through its SSM parameter.

Nothing volatile may cross the stack boundary as an export: CloudFormation refuses to
change an exported value that another stack imports, so an exported count would lock the
monitor stack on its next deploy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from aws_cdk.assertions import Match, Template

from stacks.monitor_stack import RegistrationAttachmentMonitorStack
from stacks.settings import DEFAULT_STACK_NAME
from tests.infra.synth import PINNED_REFRESH_TOKEN, build_app, get_att, lint_template

UPLOAD_FAILED_PARAMETER = f"/registration-attachment-monitor/{DEFAULT_STACK_NAME}/UploadFailedCount"
STABLE_EXPORT_SOURCES = {"AWS::SNS::Topic", "AWS::Lambda::Function", "AWS::DynamoDB::Table"}


def _consumer(app: cdk.App, name: str) -> tuple[RegistrationAttachmentMonitorStack, cdk.Stack]:
    producer = app.node.find_child(DEFAULT_STACK_NAME)
    assert isinstance(producer, RegistrationAttachmentMonitorStack)
    consumer = cdk.Stack(app, name)
    consumer.add_dependency(producer)  # the SSM parameter exists once the monitor is deployed
    return producer, consumer


def _queue(scope: cdk.Stack) -> sqs.Queue:
    return sqs.Queue(
        scope, "AlertQueue", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True
    )


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _imports(template: dict[str, Any]) -> set[str]:
    return {node["Fn::ImportValue"] for node in _walk(template) if "Fn::ImportValue" in node}


def _assert_nothing_volatile_crosses(producer: Template, consumer: Template) -> None:
    producer_json = producer.to_json()
    resources = producer_json["Resources"]
    exports = {
        output["Export"]["Name"]: output["Value"]
        for output in producer_json.get("Outputs", {}).values()
        if "Export" in output
    }
    # 1. Every export of the monitor is a stable value: a topic, function or table reference.
    for name, value in exports.items():
        referenced = value.get("Ref") or value.get("Fn::GetAtt", [None])[0]
        if referenced is None:  # a literal (e.g. an existing topic's ARN)
            assert isinstance(value, str), (name, value)
            continue
        assert resources[referenced]["Type"] in STABLE_EXPORT_SOURCES, (name, value)
    # 2. No export reads the custom resource (directly or inside a join).
    status_ids = {
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] == "Custom::RegistrationAttachmentStatus"
    }
    assert status_ids
    for value in exports.values():
        for node in _walk(value):
            assert node.get("Fn::GetAtt", [None])[0] not in status_ids
            assert node.get("Ref") not in status_ids
    # 3. The consumer imports nothing but those exports.
    for imported in _imports(consumer.to_json()):
        assert imported in exports, imported


# --- the documented way: export names and SSM parameter names ----------------------------


@pytest.fixture(scope="module")
def documented() -> tuple[Template, Template, RegistrationAttachmentMonitorStack]:
    app = build_app({"refreshToken": PINNED_REFRESH_TOKEN})
    producer, consumer = _consumer(app, "MonitorConsumer")
    monitor = producer.monitor
    topic = sns.Topic.from_topic_arn(
        consumer, "MonitorAlerts", cdk.Fn.import_value(monitor.export_name("AlertTopicArn"))
    )
    topic.add_subscription(subscriptions.SqsSubscription(_queue(consumer)))
    failed = ssm.StringParameter.value_for_string_parameter(
        consumer, monitor.parameter_name("UploadFailedCount")
    )
    cdk.CfnOutput(consumer, "MonitorUploadFailedCount", value=failed)
    return Template.from_stack(producer), Template.from_stack(consumer), producer


def test_consumer_subscribes_its_queue_through_the_topic_export(
    documented: tuple[Template, Template, RegistrationAttachmentMonitorStack],
) -> None:
    _, consumer, _ = documented
    queue_id = next(iter(consumer.find_resources("AWS::SQS::Queue")))
    consumer.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "sqs",
            "TopicArn": {"Fn::ImportValue": f"{DEFAULT_STACK_NAME}-AlertTopicArn"},
            "Endpoint": get_att(queue_id),
        },
    )


def test_consumer_reads_the_count_from_the_monitors_ssm_parameter(
    documented: tuple[Template, Template, RegistrationAttachmentMonitorStack],
) -> None:
    producer, consumer, _ = documented
    parameters = consumer.to_json()["Parameters"]
    (parameter_id,) = [
        name
        for name, parameter in parameters.items()
        if parameter.get("Default") == UPLOAD_FAILED_PARAMETER
    ]
    assert parameters[parameter_id]["Type"] == "AWS::SSM::Parameter::Value<String>"
    consumer.has_output("MonitorUploadFailedCount", {"Value": {"Ref": parameter_id}})
    (status_id,) = producer.find_resources("Custom::RegistrationAttachmentStatus")
    producer.has_resource_properties(
        "AWS::SSM::Parameter",
        {
            "Name": UPLOAD_FAILED_PARAMETER,
            "Type": "String",
            "Value": get_att(status_id, "UploadFailedCount"),
        },
    )


def test_the_only_imports_are_stable_exports(
    documented: tuple[Template, Template, RegistrationAttachmentMonitorStack],
) -> None:
    producer, consumer, _ = documented
    assert _imports(consumer.to_json()) == {f"{DEFAULT_STACK_NAME}-AlertTopicArn"}
    _assert_nothing_volatile_crosses(producer, consumer)


def test_consumer_template_is_lint_clean(
    documented: tuple[Template, Template, RegistrationAttachmentMonitorStack],
) -> None:
    assert lint_template(documented[1]) == []


# --- object references, whatever the app's default reference strength ------------------


@pytest.mark.parametrize("strength", ["weak", "strong"])
def test_object_references_never_export_a_status_value(strength: str) -> None:
    """Passing the construct's attributes between stacks: the topic may be exported (a
    stable value), but the custom resource's values are read with Fn::GetStackOutput, also
    in an app whose default is strong references (Export/ImportValue)."""
    app = build_app(
        {
            "refreshToken": PINNED_REFRESH_TOKEN,
            "@aws-cdk/core:defaultCrossStackReferences": strength,
        }
    )
    producer, consumer = _consumer(app, "ObjectConsumer")
    monitor = producer.monitor
    monitor.topic.add_subscription(subscriptions.SqsSubscription(_queue(consumer)))
    cdk.CfnOutput(consumer, "Failed", value=monitor.upload_failed_count)
    producer_template = Template.from_stack(producer)
    consumer_template = Template.from_stack(consumer)

    _assert_nothing_volatile_crosses(producer_template, consumer_template)
    consumer_template.has_output(
        "Failed",
        {
            "Value": {
                "Fn::GetStackOutput": Match.object_like(
                    {"StackName": DEFAULT_STACK_NAME, "OutputName": Match.any_value()}
                )
            }
        },
    )
    assert lint_template(consumer_template) == []
    if strength == "strong":
        assert len(_imports(consumer_template.to_json())) == 1  # the topic ARN
    else:
        assert _imports(consumer_template.to_json()) == set()
