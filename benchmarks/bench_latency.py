"""Wall time with 20 ms injected on every SMS API call (the fake's latency), next to the
floor that latency alone sets: calls x 20 ms. Pages are fetched one after another, so the
listing can be no faster; what the same run takes without latency shows the rest."""

from __future__ import annotations

from benchmarks.report import Row, Section, Verdict, plural, progress
from benchmarks.world import Backends, Entry, Invocation, Population

LATENCY_MS = 20


def measure(backends: Backends, size: int) -> list[Section]:
    rows = tuple(_row(backends, entry, size) for entry in Entry)
    notes = (
        f"Fake SMS API answers each call {LATENCY_MS} ms late; moto (SNS, DynamoDB) adds "
        "none. Same attachments as above;",
        "'0 ms' = the same invocation without injected latency, then what the latency added;",
        "the scan's time is mostly its alerts to moto (1% failed), which vary by more than "
        "its few listing calls.",
    )
    return [Section(f"Latency: {LATENCY_MS} ms per SMS API call", notes, rows)]


def _row(backends: Backends, entry: Entry, size: int) -> Row:
    progress(f"latency: {entry.value}, N={size:,}")
    fast = _invoke(backends, entry, size, latency_ms=0)
    slow = _invoke(backends, entry, size, latency_ms=LATENCY_MS)
    floor = slow.fake_calls * LATENCY_MS / 1000
    fast_wall, slow_wall = fast.probe.wall_seconds, slow.probe.wall_seconds
    return Row(
        f"{entry.value} N={size:,}: wall time",
        f"{slow_wall:.2f} s (0 ms: {fast_wall:.2f} s, {slow_wall - fast_wall:+.2f} s)",
        f"{plural(slow.fake_calls, 'call')} x {LATENCY_MS} ms = {floor:.2f} s",
        Verdict.INFO,
    )


def _invoke(backends: Backends, entry: Entry, size: int, *, latency_ms: float) -> Invocation:
    backends.prepare(Population.mix(size), latency_ms=latency_ms)
    return backends.invoke(entry)
