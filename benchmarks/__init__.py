"""Benchmarks: API calls, memory, cold start, synth time and latency (``make bench``).

They print figures next to their targets; they are not timed tests (pytest does not
collect them: no module here is named ``test_*``). Kept import-free on purpose: the
cold-start probe runs as ``python -m benchmarks.probe_cold_start`` and imports this first.
"""
