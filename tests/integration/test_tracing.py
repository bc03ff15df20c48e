"""Tracing never sees the ResponseURL: only botocore is patched, even with every module of
the package imported and tracing enabled as in Lambda."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import json
import lambda_src.handler  # imports every module of the package
from aws_xray_sdk.core import patcher
print(json.dumps(sorted(patcher._PATCHED_MODULES)))
"""


def test_only_botocore_is_patched_when_tracing_is_on() -> None:
    # Given a Lambda-like environment with tracing enabled (no daemon is contacted on import)
    env = {k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"}
    env |= {"LAMBDA_TASK_ROOT": str(REPO), "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}

    # When the handler module is imported
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )

    # Then botocore is the only patched library: http.client (urllib's transport) is not
    assert json.loads(probe.stdout.strip().splitlines()[-1]) == ["botocore"]
