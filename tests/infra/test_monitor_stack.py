"""The synthesized monitor stack: each resource and, above all, how they are wired."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match, Template

from stacks import lambda_defaults
from stacks.attachment_status import COUNT_ATTRIBUTES, SUMMARY_ATTRIBUTES
from stacks.settings import DEFAULT_STACK_NAME
from tests.infra.synth import (
    PINNED_REFRESH_TOKEN,
    actions_on,
    allowed_resources,
    get_att,
    lint_template,
    only_resource,
    policy_statements,
    ref,
    synth_template,
)

PARAMETER_PATH = f"/registration-attachment-monitor/{DEFAULT_STACK_NAME}"


@pytest.fixture(scope="module")
def template() -> Template:
    return synth_template({"refreshToken": PINNED_REFRESH_TOKEN})


@pytest.fixture(scope="module")
def ids(template: Template) -> dict[str, str]:
    """Logical ids of the resources the assertions refer to."""
    schedule = template.find_resources("AWS::Scheduler::Schedule")
    invoke_config = template.find_resources("AWS::Lambda::EventInvokeConfig")
    assert len(schedule) == 1
    assert len(invoke_config) == 1
    ((_, schedule_resource),) = schedule.items()
    ((_, config_resource),) = invoke_config.items()
    dead_letter_arn = schedule_resource["Properties"]["Target"]["DeadLetterConfig"]["Arn"]
    failure_arn = config_resource["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    function_id, function = only_resource(template, "AWS::Lambda::Function")
    # Two topics, each with its key: the alert topic (the function's) and the operations one.
    topic_id = function["Properties"]["Environment"]["Variables"]["ALERT_TOPIC_ARN"]["Ref"]
    topics = template.find_resources("AWS::SNS::Topic")
    topic = topics[topic_id]
    (operations_topic_id,) = set(topics) - {topic_id}
    return {
        "operations_topic": operations_topic_id,
        "function": function_id,
        "role": function["Properties"]["Role"]["Fn::GetAtt"][0],
        "scheduler_role": schedule_resource["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0],
        "topic": topic_id,
        "key": topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0],
        "table": only_resource(template, "AWS::DynamoDB::Table")[0],
        "log_group": only_resource(template, "AWS::Logs::LogGroup")[0],
        "custom_resource": only_resource(template, "Custom::RegistrationAttachmentStatus")[0],
        "dead_letter_queue": dead_letter_arn["Fn::GetAtt"][0],
        "failure_queue": failure_arn["Fn::GetAtt"][0],
    }


@pytest.fixture(scope="module")
def function_statements(template: Template, ids: dict[str, str]) -> list[dict[str, Any]]:
    return policy_statements(template, ids["role"])


# --- the function ---------------------------------------------------------------------


def test_one_function_and_no_provider_framework(template: Template) -> None:
    template.resource_count_is("AWS::Lambda::Function", 1)


def test_function_configuration(template: Template, ids: dict[str, str]) -> None:
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Handler": "lambda_src.handler.lambda_handler",
            "Timeout": 120,
            "MemorySize": 256,
            "TracingConfig": {"Mode": "Active"},
            "LoggingConfig": {"LogFormat": "JSON", "LogGroup": ref(ids["log_group"])},
        },
    )


def test_function_uses_the_pinned_powertools_layer(template: Template) -> None:
    layers = Capture()
    template.has_resource_properties("AWS::Lambda::Function", {"Layers": layers})
    assert layers.as_array() == [
        {
            "Fn::Join": [
                "",
                [
                    "arn:aws:lambda:",
                    {"Ref": "AWS::Region"},
                    ":017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:"
                    f"{lambda_defaults.POWERTOOLS_LAYER_VERSION}",
                ],
            ]
        }
    ]


def test_the_layer_pin_follows_the_package_pin_the_tests_run_against() -> None:
    # The layer number is tied to one package version: bumping requirements.txt alone
    # would deploy a Powertools the tests never ran.
    requirements = (Path(__file__).resolve().parents[2] / "requirements.txt").read_text()
    [pin] = re.findall(r"^aws-lambda-powertools(?:\[[^\]]*\])?==(\S+)", requirements, re.M)
    assert pin == lambda_defaults.POWERTOOLS_PACKAGE_VERSION


def test_function_environment(template: Template, ids: dict[str, str]) -> None:
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_equals(
                    {
                        "ALERT_TOPIC_ARN": ref(ids["topic"]),
                        "STATE_TABLE_NAME": ref(ids["table"]),
                        "MAX_ALERTS_PER_RUN": "50",
                        "ALERT_REMINDER_HOURS": "0",
                        "FULL_INVENTORY": "false",
                        "STUCK_UPLOAD_MINUTES": "60",
                        "MONITOR_NAME": DEFAULT_STACK_NAME,
                        "POWERTOOLS_SERVICE_NAME": "registration-attachment-monitor",
                        "POWERTOOLS_METRICS_NAMESPACE": "RegistrationAttachmentMonitor",
                        "POWERTOOLS_LOG_LEVEL": "INFO",
                    }
                )
            }
        },
    )


def test_log_group_has_retention_and_is_the_functions(
    template: Template, ids: dict[str, str]
) -> None:
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 90})
    _, function = only_resource(template, "AWS::Lambda::Function")
    assert function["Properties"]["LoggingConfig"]["LogGroup"] == ref(ids["log_group"])


# --- permissions ----------------------------------------------------------------------


def test_function_may_describe_registration_attachments(
    function_statements: list[dict[str, Any]],
) -> None:
    assert allowed_resources(function_statements, "sms-voice:DescribeRegistrationAttachments") == [
        "*"
    ]


def test_function_role_is_its_own_without_managed_policies(
    template: Template, ids: dict[str, str]
) -> None:
    role = template.find_resources("AWS::IAM::Role")[ids["role"]]
    assert "ManagedPolicyArns" not in role["Properties"]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
        }
    ]


def test_function_may_write_to_its_own_log_group_only(
    function_statements: list[dict[str, Any]], ids: dict[str, str]
) -> None:
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert allowed_resources(function_statements, action) == [get_att(ids["log_group"])]
    assert allowed_resources(function_statements, "logs:CreateLogGroup") == []


def test_function_may_publish_to_the_topic_only(
    function_statements: list[dict[str, Any]], ids: dict[str, str]
) -> None:
    assert allowed_resources(function_statements, "sns:Publish") == [ref(ids["topic"])]


def test_function_may_use_the_topic_key(
    function_statements: list[dict[str, Any]], ids: dict[str, str]
) -> None:
    actions = actions_on(function_statements, get_att(ids["key"]))
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= actions


def test_function_may_read_and_write_the_table(
    function_statements: list[dict[str, Any]], ids: dict[str, str]
) -> None:
    actions = actions_on(function_statements, get_att(ids["table"]))
    needed = {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"}
    assert needed | {"dynamodb:UpdateItem"} <= actions


def test_function_may_send_to_its_failure_queue(
    function_statements: list[dict[str, Any]], ids: dict[str, str]
) -> None:
    assert "sqs:SendMessage" in actions_on(function_statements, get_att(ids["failure_queue"]))


def test_nothing_else_is_granted_on_every_resource(
    function_statements: list[dict[str, Any]],
) -> None:
    assert actions_on(function_statements, "*") == {
        "sms-voice:DescribeRegistrationAttachments",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }


def test_no_statement_denies_or_uses_wildcard_actions(
    function_statements: list[dict[str, Any]],
) -> None:
    for statement in function_statements:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert statement["Effect"] == "Allow"
        assert all(not action.endswith(":*") for action in actions), statement


# --- alert topic ----------------------------------------------------------------------


def test_topic_is_encrypted_with_the_rotating_customer_key(
    template: Template, ids: dict[str, str]
) -> None:
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": get_att(ids["key"])})
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_key_lets_cloudwatch_alarms_publish(template: Template) -> None:
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            }
                        )
                    ]
                )
            }
        },
    )


def test_key_lets_the_function_use_it(template: Template, ids: dict[str, str]) -> None:
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        {
                            "Sid": "AllowTheMonitorFunctionToPublish",
                            "Effect": "Allow",
                            "Principal": {"AWS": get_att(ids["role"])},
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            "Resource": "*",
                        }
                    ]
                )
            }
        },
    )


def test_topic_lets_cloudwatch_alarms_of_this_account_publish(
    template: Template, ids: dict[str, str]
) -> None:
    (policy,) = [
        policy
        for policy in template.find_resources("AWS::SNS::TopicPolicy").values()
        if policy["Properties"]["Topics"] == [ref(ids["topic"])]
    ]
    found = [
        statement
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
    ]
    assert found == [
        {
            "Sid": "AllowCloudWatchAlarmsOfThisAccountToPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": ref(ids["topic"]),
            "Condition": {
                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                "ArnLike": {
                    "aws:SourceArn": {
                        "Fn::Join": [
                            "",
                            [
                                "arn:",
                                {"Ref": "AWS::Partition"},
                                ":cloudwatch:",
                                {"Ref": "AWS::Region"},
                                ":",
                                {"Ref": "AWS::AccountId"},
                                ":alarm:*",
                            ],
                        ]
                    }
                },
            },
        }
    ]


def test_topic_denies_requests_without_tls(template: Template, ids: dict[str, str]) -> None:
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [ref(ids["topic"])],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Principal": "*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


# --- state table ----------------------------------------------------------------------


def test_state_table(template: Template) -> None:
    template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
                "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
        },
    )


# --- schedule, retries and failure queues ---------------------------------------------


def test_schedule_invokes_the_function_with_retries_and_a_dead_letter_queue(
    template: Template, ids: dict[str, str]
) -> None:
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "rate(1 hour)",
            "State": "ENABLED",
            "Target": {
                "Arn": get_att(ids["function"]),
                "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3},
                "DeadLetterConfig": {"Arn": get_att(ids["dead_letter_queue"])},
            },
        },
    )


def test_scheduler_role_may_invoke_the_function_and_use_the_dead_letter_queue(
    template: Template, ids: dict[str, str]
) -> None:
    _, schedule = only_resource(template, "AWS::Scheduler::Schedule")
    role_id = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
    statements = policy_statements(template, role_id)
    assert get_att(ids["function"]) in allowed_resources(statements, "lambda:InvokeFunction")
    assert allowed_resources(statements, "sqs:SendMessage") == [get_att(ids["dead_letter_queue"])]


def test_scheduler_role_trusts_scheduler_for_this_accounts_schedules_only(
    template: Template, ids: dict[str, str]
) -> None:
    role = template.find_resources("AWS::IAM::Role")[ids["scheduler_role"]]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Condition": {
                "StringEquals": {
                    "aws:SourceAccount": {"Ref": "AWS::AccountId"},
                    "aws:SourceArn": {
                        "Fn::Join": [
                            "",
                            [
                                "arn:",
                                {"Ref": "AWS::Partition"},
                                ":scheduler:",
                                {"Ref": "AWS::Region"},
                                ":",
                                {"Ref": "AWS::AccountId"},
                                ":schedule-group/default",
                            ],
                        ]
                    },
                }
            },
        }
    ]
    statements = policy_statements(template, ids["scheduler_role"])
    assert allowed_resources(statements, "lambda:InvokeFunction") == [
        get_att(ids["function"]),
        {"Fn::Join": ["", [get_att(ids["function"]), ":*"]]},
    ]
    assert {a for s in statements for a in _as_list(s["Action"])} == {
        "lambda:InvokeFunction",
        "sqs:SendMessage",
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_async_invoke_config_sends_failures_to_the_queue(
    template: Template, ids: dict[str, str]
) -> None:
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": ref(ids["function"]),
            "Qualifier": "$LATEST",
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 6 * 3600,
            "DestinationConfig": {"OnFailure": {"Destination": get_att(ids["failure_queue"])}},
        },
    )


@pytest.mark.parametrize("queue", ["dead_letter_queue", "failure_queue"])
def test_queues_are_encrypted_and_tls_only(
    template: Template, ids: dict[str, str], queue: str
) -> None:
    assert ids["dead_letter_queue"] != ids["failure_queue"]
    queue_id = ids[queue]
    queue_resource = template.find_resources("AWS::SQS::Queue")[queue_id]
    assert queue_resource["Properties"]["SqsManagedSseEnabled"] is True
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [ref(queue_id)],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Resource": get_att(queue_id),
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


# --- custom resource and outputs ------------------------------------------------------


def test_custom_resource_is_served_directly_by_the_function(
    template: Template, ids: dict[str, str]
) -> None:
    template.has_resource_properties(
        "Custom::RegistrationAttachmentStatus",
        Match.object_equals(
            {
                "ServiceToken": get_att(ids["function"]),
                "ServiceTimeout": "180",
                "RefreshToken": PINNED_REFRESH_TOKEN,
            }
        ),
    )


def test_custom_resource_waits_for_the_functions_permissions(
    template: Template, ids: dict[str, str]
) -> None:
    # ServiceToken -> function -> DependsOn its policy: granted before the first Create.
    _, function = only_resource(template, "AWS::Lambda::Function")
    policies = template.find_resources("AWS::IAM::Policy")
    role_policies = [i for i, p in policies.items() if ref(ids["role"]) in p["Properties"]["Roles"]]
    assert role_policies
    assert set(role_policies) <= set(function["DependsOn"])


@pytest.mark.parametrize("name", SUMMARY_ATTRIBUTES)
def test_status_outputs_read_the_custom_resource_and_are_not_exported(
    template: Template, ids: dict[str, str], name: str
) -> None:
    template.has_output(
        name, {"Value": get_att(ids["custom_resource"], name), "Export": Match.absent()}
    )


def test_outputs_are_exactly_the_documented_ones(template: Template) -> None:
    assert set(template.find_outputs("*")) == {
        "AlertTopicArn",
        "OperationsTopicArn",
        "FunctionArn",
        "StateTableName",
        "FunctionRoleArn",
        *SUMMARY_ATTRIBUTES,
    }
    assert set(SUMMARY_ATTRIBUTES) == {
        *COUNT_ATTRIBUTES,
        "FailedAttachmentIds",
        "FailedAttachmentIdsTruncated",
        "ScannedAt",
    }


def test_function_role_is_an_output_but_not_exported(
    template: Template, ids: dict[str, str]
) -> None:
    template.has_output(
        "FunctionRoleArn", {"Value": get_att(ids["role"]), "Export": Match.absent()}
    )


@pytest.mark.parametrize("name", SUMMARY_ATTRIBUTES)
def test_status_values_are_written_to_ssm_parameters(
    template: Template, ids: dict[str, str], name: str
) -> None:
    template.has_resource_properties(
        "AWS::SSM::Parameter",
        Match.object_equals(
            {
                "Name": f"{PARAMETER_PATH}/{name}",
                "Type": "String",
                "Value": get_att(ids["custom_resource"], name),
                "Description": Match.string_like_regexp("^Registration attachment monitor: "),
            }
        ),
    )


def test_one_parameter_per_status_value(template: Template) -> None:
    template.resource_count_is("AWS::SSM::Parameter", len(SUMMARY_ATTRIBUTES))


def test_only_stable_values_are_exported(template: Template, ids: dict[str, str]) -> None:
    exported = {
        name: (output["Value"], output["Export"]["Name"])
        for name, output in template.find_outputs("*").items()
        if "Export" in output
    }
    assert exported == {
        "AlertTopicArn": (ref(ids["topic"]), f"{DEFAULT_STACK_NAME}-AlertTopicArn"),
        "OperationsTopicArn": (
            ref(ids["operations_topic"]),
            f"{DEFAULT_STACK_NAME}-OperationsTopicArn",
        ),
        "FunctionArn": (get_att(ids["function"]), f"{DEFAULT_STACK_NAME}-FunctionArn"),
        "StateTableName": (ref(ids["table"]), f"{DEFAULT_STACK_NAME}-StateTableName"),
    }


# --- template linting -----------------------------------------------------------------


def test_cfn_lint_is_clean(template: Template) -> None:
    assert lint_template(template) == []
