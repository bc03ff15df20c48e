"""Acknowledging cdk-nag findings (cdk-nag v3: CDK's own `Validations.of(...).acknowledge`).

Each acknowledgement is recorded on one construct: the resource the finding is about (or
the L2 that wraps only that resource), never on a stack or on a whole construct tree, so
a new finding anywhere else still fails the check. cdk-nag matches an acknowledgement on
the resource or any of its ancestors, by rule id; rules that report several findings per
resource (IAM wildcards) are acknowledged finding by finding: `AwsSolutions-IAM5[<finding>]`.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge `rule_id` (e.g. `AwsSolutions-SQS3`) on `construct`, with the reason."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def acknowledge_wildcard(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one `AwsSolutions-IAM5` finding, e.g. `Resource::*` or `Action::kms:Get*`."""
    acknowledge(construct, f"AwsSolutions-IAM5[{finding}]", reason)


def nag_reference(scope: IConstruct, value: str) -> str:
    """How cdk-nag spells a (tokenized) value in a finding: `<LogicalId.Arn>` for a GetAtt,
    `<LogicalId>` for a Ref, joins flattened (cdk-nag's `flattenCfnReference`)."""
    return _flatten(Stack.of(scope).resolve(value))


def _flatten(node: Any) -> str:
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten(item) for item in items)
        if "Fn::Sub" in node:
            return _flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return _flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{_flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))
