"""Cold start: importing the handler and creating its clients, next to a bare handler that
only imports boto3 and creates the same clients. Median of fresh processes, alternating
the variants so that drift on the machine hits them alike. Target: at most 1.5x bare."""

from __future__ import annotations

import statistics
from collections.abc import Mapping

from benchmarks.processes import PYTHON, REPO, run
from benchmarks.report import Row, Section, Verdict, progress
from benchmarks.world import lambda_environment

TARGET_RATIO = 1.5
BARE = "bare: import boto3 + the 3 clients"
#: Lambda always sets LAMBDA_TASK_ROOT; without it the X-Ray SDK would build a sampler that
#: creates a botocore client of its own (~90 ms), which never happens in Lambda.
_IN_LAMBDA = {"LAMBDA_TASK_ROOT": str(REPO), "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}
#: variant label -> (probe argument, extra environment)
VARIANTS: Mapping[str, tuple[str, Mapping[str, str]]] = {
    BARE: ("bare", _IN_LAMBDA),
    "handler, tracing on (as deployed)": ("handler", _IN_LAMBDA),
    "handler, tracing off": ("handler", {**_IN_LAMBDA, "POWERTOOLS_TRACE_DISABLED": "true"}),
}


def measure(repeats: int) -> list[Section]:
    progress(f"cold start: {repeats} fresh processes per variant")
    for label in VARIANTS:  # writes the bytecode caches: not a cold start to measure
        _probe(label)
    samples: dict[str, list[float]] = {label: [] for label in VARIANTS}
    for _ in range(repeats):
        for label, times in samples.items():
            times.append(_probe(label))
    bare = statistics.median(samples[BARE])
    rows = [_row(label, times, bare) for label, times in samples.items()]
    notes = (
        f"Median of {repeats} fresh processes per variant (min-max in brackets), from before "
        "the first import to 3 clients ready;",
        "LAMBDA_TASK_ROOT set as in Lambda; tracing on = Powertools' Tracer patches botocore "
        "for X-Ray (the stack's setting).",
    )
    return [Section("Cold start: import + clients", notes, tuple(rows))]


def _row(label: str, times: list[float], bare: float) -> Row:
    median = statistics.median(times)
    spread = f"({min(times) * 1000:.0f}-{max(times) * 1000:.0f})"
    if label == BARE:
        return Row(label, f"{median * 1000:.0f} ms {spread}", "", Verdict.INFO)
    ratio = median / bare
    return Row(
        label,
        f"{median * 1000:.0f} ms {spread} = {ratio:.2f}x bare",
        f"≤ {TARGET_RATIO}x bare = {bare * TARGET_RATIO * 1000:.0f} ms",
        Verdict.of(ratio <= TARGET_RATIO),
    )


def _probe(label: str) -> float:
    argument, extra = VARIANTS[label]
    command = [PYTHON, "-m", "benchmarks.probe_cold_start", argument]
    output = run(command, env=lambda_environment(extra), timeout=120)
    return float(output.stdout.strip().splitlines()[-1])
