"""Helpers for the infrastructure tests: synthesize the real app, read the template."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from stacks.settings import DEFAULT_STACK_NAME

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
PINNED_REFRESH_TOKEN = "1700000000000"


@cache
def cdk_app_module() -> ModuleType:
    """`app.py`, loaded by path (it is a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("cdk_app_entrypoint", REPOSITORY_ROOT / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cdk_json_context() -> dict[str, Any]:
    """The context `cdk synth` passes from cdk.json (feature flags), so tests match it."""
    data = json.loads((REPOSITORY_ROOT / "cdk.json").read_text(encoding="utf-8"))
    context: dict[str, Any] = data.get("context", {})
    return context


def build_app(context: Mapping[str, Any] | None = None) -> cdk.App:
    """The real app (app.py's build_app) with cdk.json's context plus `context`."""
    builder = cdk_app_module().build_app
    app: cdk.App = builder({**cdk_json_context(), **(context or {})})
    return app


def monitor_stack(app: cdk.App, stack_name: str = DEFAULT_STACK_NAME) -> cdk.Stack:
    stack = app.node.find_child(stack_name)
    assert isinstance(stack, cdk.Stack)
    return stack


def synth_template(context: Mapping[str, Any] | None = None) -> Template:
    app = build_app(context)
    return Template.from_stack(monitor_stack(app, _stack_name(context)))


def _stack_name(context: Mapping[str, Any] | None) -> str:
    name = (context or {}).get("stackName", DEFAULT_STACK_NAME)
    assert isinstance(name, str)
    return name


def lint_template(template: Template | dict[str, Any]) -> list[str]:
    """cfn-lint findings (errors and warnings) for a synthesized template, as strings.

    W3005 is ignored: CDK puts the function's role in DependsOn next to the GetAtt of the
    role's ARN (redundant, harmless; the DependsOn on the role's *policy*, which matters for
    the custom resource's first Create, is not redundant and stays).
    """
    from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]

    body = template.to_json() if isinstance(template, Template) else template
    matches = lint(
        json.dumps(body),
        config=ManualArgs(
            regions=["us-east-1", "eu-west-1", "ap-southeast-2"], ignore_checks=["W3005"]
        ),
    )
    return [str(match) for match in matches]


def only_resource(template: Template, resource_type: str) -> tuple[str, dict[str, Any]]:
    """The logical id and definition of the single resource of `resource_type`."""
    found = template.find_resources(resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    ((logical_id, resource),) = found.items()
    return logical_id, dict(resource)


def get_att(logical_id: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def ref(logical_id: str) -> dict[str, Any]:
    return {"Ref": logical_id}


def policy_statements(template: Template, role_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of the inline policies (AWS::IAM::Policy) attached to a role."""
    statements: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        properties = policy["Properties"]
        if ref(role_logical_id) in properties["Roles"]:
            statements.extend(properties["PolicyDocument"]["Statement"])
    return statements


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowed_resources(statements: list[dict[str, Any]], action: str) -> list[Any]:
    """Resources the statements allow `action` on (exact action names, no wildcards)."""
    resources: list[Any] = []
    for statement in statements:
        if statement.get("Effect") == "Allow" and action in _as_list(statement["Action"]):
            resources.extend(_as_list(statement["Resource"]))
    return resources


def actions_on(statements: list[dict[str, Any]], resource: Any) -> set[str]:
    """Actions the statements allow on `resource` (compared structurally)."""
    actions: set[str] = set()
    for statement in statements:
        if statement.get("Effect") == "Allow" and resource in _as_list(statement["Resource"]):
            actions.update(_as_list(statement["Action"]))
    return actions
