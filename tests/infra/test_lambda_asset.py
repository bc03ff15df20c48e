"""The deployment package as Lambda will see it: the synthesized asset folder, alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.infra.synth import (
    PINNED_REFRESH_TOKEN,
    REPOSITORY_ROOT,
    build_app,
    monitor_stack,
    only_resource,
)


@pytest.fixture(scope="module")
def function_resource() -> tuple[dict[str, Any], Path]:
    """The function's template definition and its staged asset folder."""
    app = build_app(
        # What `cdk synth` sets: the asset's staged folder is recorded in the template.
        {"refreshToken": PINNED_REFRESH_TOKEN, "aws:cdk:enable-asset-metadata": True}
    )
    template = Template.from_stack(monitor_stack(app))
    _, function = only_resource(template, "AWS::Lambda::Function")
    metadata = function["Metadata"]
    assert metadata["aws:asset:property"] == "Code"
    assert metadata["aws:asset:is-bundled"] is False
    asset = Path(app.outdir) / metadata["aws:asset:path"]
    assert asset.is_dir()
    return function, asset


def _asset_files(asset: Path) -> list[str]:
    return sorted(path.relative_to(asset).as_posix() for path in asset.rglob("*") if path.is_file())


def test_asset_holds_the_package_and_nothing_else(
    function_resource: tuple[dict[str, Any], Path],
) -> None:
    _, asset = function_resource
    files = _asset_files(asset)
    assert "lambda_src/handler.py" in files
    assert "lambda_src/__init__.py" in files
    assert [name for name in files if not name.startswith("lambda_src/")] == []
    assert [name for name in files if not name.endswith(".py")] == []
    assert [name for name in files if "__pycache__" in name or "/." in name] == []


def test_asset_has_every_module_of_the_package(
    function_resource: tuple[dict[str, Any], Path],
) -> None:
    _, asset = function_resource
    package = REPOSITORY_ROOT / "lambda_src"
    expected = sorted(
        path.relative_to(REPOSITORY_ROOT).as_posix()
        for path in package.rglob("*.py")
        if "__pycache__" not in path.parts
    )
    assert _asset_files(asset) == expected


def test_handler_imports_from_the_asset_folder_alone(
    function_resource: tuple[dict[str, Any], Path],
) -> None:
    """Import the handler named in the template as Lambda would: the asset folder first on
    sys.path, then only site-packages (boto3 and Powertools, as runtime and layer provide);
    never the repository root."""
    function, asset = function_resource
    properties = function["Properties"]
    module_name, _, attribute = str(properties["Handler"]).rpartition(".")
    check = "\n".join(
        [
            "import importlib, pathlib, sys, sysconfig",
            f"root = pathlib.Path({str(REPOSITORY_ROOT)!r}).resolve()",
            "assert all(pathlib.Path(p or '.').resolve() != root for p in sys.path), sys.path",
            # site-packages may live in the repository's .venv: that is the runtime's part.
            "paths = sysconfig.get_paths()",
            "libs = {pathlib.Path(paths[k]).resolve() for k in ('purelib', 'platlib')}",
            f"module = importlib.import_module({module_name!r})",
            "asset = pathlib.Path.cwd().resolve()",
            "assert pathlib.Path(module.__file__).resolve().is_relative_to(asset), module.__file__",
            f"assert callable(getattr(module, {attribute!r}))",
            "leaked = [m.__name__ for m in list(sys.modules.values())",
            "          if getattr(m, '__file__', None)",
            "          and pathlib.Path(m.__file__).resolve().is_relative_to(root)",
            "          and not any(pathlib.Path(m.__file__).resolve().is_relative_to(lib)",
            "                      for lib in (asset, *libs))]",
            "assert not leaked, leaked",
        ]
    )
    environment = {
        # No PYTHONPATH, no user site, no AWS profile: only what a Lambda sandbox has.
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": "registration-attachment-monitor",
        "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
        "STATE_TABLE_NAME": "state",
    }
    for name, value in properties["Environment"]["Variables"].items():
        if isinstance(value, str):
            environment[name] = value
    result = subprocess.run(
        # -E: ignore PYTHON* variables; -s: no user site-packages. Not -I: that would also
        # drop the working directory (the asset folder) from sys.path.
        [sys.executable, "-E", "-s", "-c", check],
        cwd=asset,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
