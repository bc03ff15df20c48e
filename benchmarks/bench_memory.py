"""Memory of one invocation, in the handler's process alone (the fake SMS API and moto run
in processes of their own). Target: peak RSS grows by less than 5 MB from the smallest to
the largest number of attachments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.report import MB, Row, Section, Verdict, megabytes, progress
from benchmarks.world import Backends, Entry, Population

RSS_GROWTH_LIMIT = 5 * MB


@dataclass(frozen=True, slots=True)
class Footprint:
    size: int
    max_rss: int  # ru_maxrss of a fresh process after one invocation
    max_rss_before: int  # the same just before the invocation (imports and clients)
    traced_peak: int  # tracemalloc peak during the invocation (another fresh process)


def measure(backends: Backends, sizes: Sequence[int]) -> list[Section]:
    rows: list[Row] = []
    for entry in Entry:
        footprints = [_footprint(backends, entry, size) for size in sizes]
        rows += [_size_row(entry, footprint) for footprint in footprints]
        if len(footprints) > 1:
            rows.append(_growth_row(entry, footprints[0], footprints[-1]))
    notes = (
        "A fresh process per figure. Peak RSS = ru_maxrss after the invocation, imports and "
        "clients included;",
        "'invocation +' = its rise during the invocation; tracemalloc = peak of Python "
        "allocations in the invocation,",
        "measured in a second fresh process (tracing inflates RSS). Same attachments as the "
        "API-call runs; all in MB.",
    )
    return [Section("Memory: one invocation, handler process alone", notes, tuple(rows))]


def _footprint(backends: Backends, entry: Entry, size: int) -> Footprint:
    progress(f"memory: {entry.value}, N={size:,}")
    population = Population.mix(size)
    backends.prepare(population)
    plain = backends.invoke(entry).probe
    backends.prepare(population)
    traced = backends.invoke(entry, trace_memory=True).probe
    return Footprint(
        size, plain.max_rss_bytes, plain.max_rss_before_bytes, traced.tracemalloc_peak_bytes or 0
    )


def _size_row(entry: Entry, footprint: Footprint) -> Row:
    added = footprint.max_rss - footprint.max_rss_before
    return Row(
        f"{entry.value} N={footprint.size:,}: peak RSS",
        f"{megabytes(footprint.max_rss)} (invocation +{added / MB:.1f}, "
        f"tracemalloc {footprint.traced_peak / MB:.2f})",
        "",
        Verdict.INFO,
    )


def _growth_row(entry: Entry, smallest: Footprint, largest: Footprint) -> Row:
    growth = largest.max_rss - smallest.max_rss
    traced = largest.traced_peak - smallest.traced_peak
    return Row(
        f"{entry.value}: RSS growth {smallest.size:,} → {largest.size:,}",
        f"{growth / MB:+.1f} MB (tracemalloc {traced / MB:+.2f} MB)",
        f"< {megabytes(RSS_GROWTH_LIMIT)}",
        Verdict.of(growth < RSS_GROWTH_LIMIT),
    )
