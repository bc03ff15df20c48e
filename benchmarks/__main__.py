"""``python -m benchmarks [--quick] [--only NAMES] [--strict]``: measure, print the table.

Cold start and synth run first, before the fake SMS API and moto start, so that nothing
else competes for the cores. Every child process is stopped on the way out, also on
Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from types import FrameType

from benchmarks import bench_api_calls, bench_cold_start, bench_latency, bench_memory, bench_synth
from benchmarks.processes import BenchmarkError
from benchmarks.report import Row, Section, Verdict, machine, render, summary
from benchmarks.world import Backends

#: In the order the table prints them.
NAMES = ("calls", "memory", "cold-start", "synth", "latency")


@dataclass(frozen=True, slots=True)
class Plan:
    call_sizes: tuple[int, ...]
    id_counts: tuple[int, ...]
    memory_sizes: tuple[int, ...]
    latency_size: int
    cold_start_repeats: int
    synth_repeats: int


FULL = Plan(
    call_sizes=(0, 1, 100, 101, 10_000, 100_000),
    id_counts=(1, 5, 6, 30),
    memory_sizes=(1_000, 10_000, 100_000),
    latency_size=10_000,
    cold_start_repeats=15,
    synth_repeats=3,
)
QUICK = Plan(
    call_sizes=(0, 1, 100, 101, 1_000),
    id_counts=(1, 6, 30),
    memory_sizes=(1_000, 10_000),
    latency_size=1_000,
    cold_start_repeats=5,
    synth_repeats=1,
)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    plan = QUICK if args.quick else FULL
    signal.signal(signal.SIGTERM, _exit_on_signal)  # so that cleanup runs
    print(machine(), flush=True)
    try:
        results = _measure(plan, args.only)
    except KeyboardInterrupt:  # the child processes are stopped by then
        print("interrupted", file=sys.stderr)
        return 130
    sections = results.in_table_order()
    print(render(sections))
    print()
    print(summary(sections))
    if results.errors:
        print(f"Not measured (errors on stderr): {', '.join(results.errors)}.")
        return 2
    missed = any(row.verdict is Verdict.MISSED for section in sections for row in section.rows)
    return 1 if args.strict and missed else 0


_BEFORE_SERVERS: dict[str, Callable[[Plan], list[Section]]] = {
    "cold-start": lambda plan: bench_cold_start.measure(plan.cold_start_repeats),
    "synth": lambda plan: bench_synth.measure(plan.synth_repeats),
}
_WITH_BACKENDS: dict[str, Callable[[Backends, Plan], list[Section]]] = {
    "calls": lambda backends, plan: bench_api_calls.measure(
        backends, plan.call_sizes, plan.id_counts
    ),
    "memory": lambda backends, plan: bench_memory.measure(backends, plan.memory_sizes),
    "latency": lambda backends, plan: bench_latency.measure(backends, plan.latency_size),
}


class _Results:
    """Sections by benchmark name; a benchmark that fails leaves an error row instead, so
    one broken part (say, an app that does not synth) does not hide the other figures."""

    def __init__(self) -> None:
        self.sections: dict[str, list[Section]] = {}
        self.errors: list[str] = []

    def record(self, name: str, bench: Callable[[], list[Section]]) -> None:
        try:
            self.sections[name] = bench()
        except BenchmarkError as error:
            self.fail(name, error)

    def fail(self, name: str, error: BenchmarkError) -> None:
        print(f"benchmark error ({name}): {error}", file=sys.stderr, flush=True)
        last_line = str(error).strip().splitlines()[-1][:100]
        row = Row("error (details on stderr)", last_line, "", Verdict.MISSED)
        self.sections[name] = [Section(f"{name}: not measured", (), (row,))]
        self.errors.append(name)

    def in_table_order(self) -> list[Section]:
        return [section for name in NAMES for section in self.sections.get(name, [])]


def _measure(plan: Plan, names: frozenset[str]) -> _Results:
    results = _Results()
    for name, bench in _BEFORE_SERVERS.items():  # the fake API and moto are not running yet
        if name in names:
            results.record(name, partial(bench, plan))
    wanted = [name for name in _WITH_BACKENDS if name in names]
    if wanted:
        with ExitStack() as stack:
            try:
                backends = Backends(stack)
            except BenchmarkError as error:
                for name in wanted:
                    results.fail(name, error)
                return results
            for name in wanted:
                results.record(name, partial(_WITH_BACKENDS[name], backends, plan))
    return results


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="API-call, memory, cold-start, synth and latency benchmarks.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller run: up to 1,000 attachments for calls, 10,000 for memory, "
        "5 cold starts, 1 synth",
    )
    parser.add_argument(
        "--only",
        type=_names,
        default=frozenset(NAMES),
        metavar="NAMES",
        help=f"comma-separated subset of {','.join(NAMES)}",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def _names(text: str) -> frozenset[str]:
    names = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = names - set(NAMES)
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {','.join(NAMES)}")
    return names


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
