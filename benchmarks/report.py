"""The printed table: sections of rows (what, measured, minimum/target, result), and the
machine the figures were measured on."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from importlib import metadata
from pathlib import Path

from benchmarks.processes import REPO

MB = 1_000_000
_HEADER = ("what", "measured", "minimum / target", "result")
_VERSIONED_PACKAGES = ("boto3", "aws-lambda-powertools", "moto", "aws-cdk-lib")


class Verdict(Enum):
    MET = "pass"
    MISSED = "FAIL"
    INFO = "info"  # a figure reported without a target

    @classmethod
    def of(cls, met: bool) -> Verdict:
        return cls.MET if met else cls.MISSED


@dataclass(frozen=True, slots=True)
class Row:
    what: str
    measured: str
    target: str
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    notes: tuple[str, ...]
    rows: tuple[Row, ...]


def progress(message: str) -> None:
    """A line on stderr while the benchmarks run (the table goes to stdout)."""
    print(f"  … {message}", file=sys.stderr, flush=True)


def render(sections: Sequence[Section]) -> str:
    """Every section under one set of aligned columns."""
    cells = [_HEADER] + [_cells(row) for section in sections for row in section.rows]
    widths = [max(len(line[column]) for line in cells) for column in range(len(_HEADER))]
    rule = "-" * (sum(widths) + 3 * (len(widths) - 1))
    lines: list[str] = []
    for section in sections:
        lines += ["", f"== {section.title} ==", *(f"   {note}" for note in section.notes)]
        lines += [_line(_HEADER, widths), rule]
        lines += [_line(_cells(row), widths) for row in section.rows]
    return "\n".join(lines)


def summary(sections: Sequence[Section]) -> str:
    verdicts = [row.verdict for section in sections for row in section.rows]
    targets = [v for v in verdicts if v is not Verdict.INFO]
    failed = [
        f"{section.title}: {row.what}"
        for section in sections
        for row in section.rows
        if row.verdict is Verdict.MISSED
    ]
    met = len(targets) - len(failed)
    lines = [f"Targets met: {met} of {len(targets)}."]
    lines += [f"  missed: {what}" for what in failed]
    return "\n".join(lines)


def machine() -> str:
    """Cores, CPU model, Python, versions under test and the date."""
    python = f"{platform.python_implementation()} {platform.python_version()}"
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in _VERSIONED_PACKAGES)
    return "\n".join(
        [
            f"Machine: {os.cpu_count()} cores, {_cpu_model()}, {platform.system()} "
            f"{platform.release()}",
            f"Python:  {python}; {versions}; CDK CLI {_cdk_cli_version()}",
            f"Date:    {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        ]
    )


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def megabytes(size: float) -> str:
    return f"{size / MB:.1f} MB"


def _cells(row: Row) -> tuple[str, str, str, str]:
    return (row.what, row.measured, row.target, row.verdict.value)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "   ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _cdk_cli_version() -> str:
    package = REPO / "node_modules" / "aws-cdk" / "package.json"
    try:
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "not installed"
