"""``cdk synth`` of this app next to a bare CDK app with one Python function, written to a
temporary folder at run time and run by the same venv Python and CDK CLI. Median of
alternating runs; the ratio is reported (no target)."""

from __future__ import annotations

import json
import shlex
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.processes import PYTHON, REPO, BenchmarkError, clean_env, run
from benchmarks.report import Row, Section, Verdict, progress

CDK = REPO / "node_modules" / ".bin" / "cdk"
THIS_APP = "this app (app.py)"
BARE_APP = "bare app: one Python function"
_BARE_APP_SOURCE = '''\
"""One stack with one Python function: the floor any CDK app in Python pays."""

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

app = cdk.App()
stack = cdk.Stack(app, "BareFunction")
lambda_.Function(
    stack,
    "Function",
    runtime=lambda_.Runtime.PYTHON_3_11,
    handler="index.handler",
    code=lambda_.Code.from_asset("function"),
)
app.synth()
'''
_BARE_HANDLER_SOURCE = "def handler(event, context):\n    return {}\n"
_SYNTH_TIMEOUT_SECONDS = 300


def measure(repeats: int) -> list[Section]:
    progress(f"synth: {repeats} x this app and a bare app (alternating)")
    env = _synth_env()
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as scratch:
        root = Path(scratch)
        apps = {THIS_APP: REPO, BARE_APP: _write_bare_app(root / "bare-app")}
        for index, folder in enumerate(apps.values()):  # node's and Python's caches warm
            _synth(folder, root / f"warm-up-{index}", env)
        samples: dict[str, list[float]] = {label: [] for label in apps}
        for attempt in range(repeats):
            for index, (label, folder) in enumerate(apps.items()):
                out = root / f"out-{index}-{attempt}"
                samples[label].append(_synth(folder, out, env))
    medians = {label: statistics.median(times) for label, times in samples.items()}
    rows = [_time_row(label, samples[label]) for label in apps]
    rows.append(
        Row(
            "ratio: this app / bare app",
            f"{medians[THIS_APP] / medians[BARE_APP]:.2f}x",
            "reported (no target)",
            Verdict.INFO,
        )
    )
    notes = (
        f"`cdk synth --quiet --no-notices -o <tmp>`: median of {repeats} per app (each in "
        "brackets) after one warm-up each;",
        "the Makefile's JSII_SILENCE_* and CDK_DISABLE_* variables; both apps run by the "
        "same venv Python.",
    )
    return [Section("Synth: cdk synth", notes, tuple(rows))]


def _time_row(label: str, times: list[float]) -> Row:
    each = ", ".join(f"{t:.1f}" for t in times)
    return Row(
        f"cdk synth: {label}", f"{statistics.median(times):.1f} s ({each})", "", Verdict.INFO
    )


def _synth(folder: Path, out: Path, env: dict[str, str]) -> float:
    command = [str(CDK), "synth", "--quiet", "--no-notices", "-o", str(out)]
    started = time.perf_counter()
    run(command, env=env, cwd=folder, timeout=_SYNTH_TIMEOUT_SECONDS)
    elapsed = time.perf_counter() - started
    if not list(out.glob("*.template.json")):
        raise BenchmarkError(f"cdk synth in {folder} wrote no template to {out}")
    return elapsed


def _write_bare_app(folder: Path) -> Path:
    (folder / "function").mkdir(parents=True)
    (folder / "function" / "index.py").write_text(_BARE_HANDLER_SOURCE)
    (folder / "app.py").write_text(_BARE_APP_SOURCE)
    cdk_json = {"app": f"{shlex.quote(PYTHON)} app.py"}
    (folder / "cdk.json").write_text(json.dumps(cdk_json, indent=2))
    return folder


def _synth_env() -> dict[str, str]:
    """As the Makefile exports them: no Node deprecation banners, no version check or
    telemetry (network calls synth does not need)."""
    node = run(["node", "-p", "process.versions.node.split('.')[0]"], env=clean_env({}), timeout=60)
    return clean_env(
        {
            "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": node.stdout.strip(),
            "CDK_DISABLE_VERSION_CHECK": "true",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
        }
    )
