"""One handler invocation in a fresh process: ``python -m benchmarks.probe_invoke``.

Started by the benchmarks, not by hand. It imports the handler, builds its clients (the
cold-start benchmark measures that part), invokes ``lambda_handler`` once with the event
in ``--event`` and writes a ``ProbeResult`` to ``--result``:

* wall time of the invocation;
* peak RSS of this process (``ru_maxrss``): the handler alone, since the fake SMS API and
  moto run in processes of their own;
* with ``--tracemalloc``, the peak of Python allocations during the invocation (a
  separate run: tracing inflates RSS);
* the adapters' ``.calls`` counters, the HTTP requests botocore sent per client (retries
  included), and the ``Filters`` of the first listing request (what the scan lists).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import tracemalloc
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

SERVICES = ("sms", "sns", "dynamodb")
_LISTING_OPERATION = "DescribeRegistrationAttachments"


class _Adapter(Protocol):
    """What AttachmentsApi, AlertPublisher and AlertState have in common."""

    calls: int

    @property
    def client(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class ProbeResult:
    wall_seconds: float
    #: ru_maxrss before and after the invocation (imports and clients are in both).
    max_rss_before_bytes: int
    max_rss_bytes: int
    tracemalloc_peak_bytes: int | None
    #: The adapters' counters: AttachmentsApi, AlertPublisher, AlertState.
    calls: dict[str, int]
    #: HTTP requests each client sent, as botocore's ``before-send`` event saw them.
    http_requests: dict[str, int]
    #: ``Filters`` of the first DescribeRegistrationAttachments request (None: unfiltered).
    sms_filters: list[dict[str, Any]] | None
    response: Any
    error: str | None

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), default=str))

    @classmethod
    def load(cls, path: Path) -> ProbeResult:
        return cls(**json.loads(path.read_text()))


@dataclass(slots=True)
class _Recorder:
    """Counts requests on the wire and keeps the first listing request's filters."""

    http_requests: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SERVICES, 0))
    sms_filters: list[dict[str, Any]] | None = None
    _listing_seen: bool = False

    def watch(self, name: str, client: Any) -> None:
        def count(**_: Any) -> None:
            self.http_requests[name] += 1

        # Each client has its own copy of the event system: this counts only its requests.
        client.meta.events.register("before-send", count)

    def watch_listing(self, client: Any) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(
            f"before-parameter-build.{service}.{_LISTING_OPERATION}", self._record_filters
        )

    def _record_filters(self, params: dict[str, Any], **_: Any) -> None:
        if not self._listing_seen:
            self._listing_seen = True
            filters = params.get("Filters")
            self.sms_filters = json.loads(json.dumps(filters)) if filters else None


def invoke(event: Any, *, timeout_seconds: float, trace_memory: bool) -> ProbeResult:
    from lambda_src import handler
    from tests.support.lambda_context import FakeLambdaContext

    current = handler.runtime()
    adapters: dict[str, _Adapter] = {
        "sms": current.api,
        "sns": current.publisher,
        "dynamodb": current.state,
    }
    recorder = _Recorder()
    for name, adapter in adapters.items():
        recorder.watch(name, adapter.client)  # creates the client: not part of the timing
    recorder.watch_listing(current.api.client)
    rss_before = _max_rss()
    if trace_memory:
        tracemalloc.start()
    started = time.perf_counter()
    response: Any = None
    error: str | None = None
    try:
        response = handler.lambda_handler(event, FakeLambdaContext(timeout_seconds))
    except Exception as exc:  # reported to the benchmark, which refuses the figures
        error = f"{type(exc).__name__}: {exc}"
    wall = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace_memory else None
    tracemalloc.stop()
    return ProbeResult(
        wall_seconds=wall,
        max_rss_before_bytes=rss_before,
        max_rss_bytes=_max_rss(),
        tracemalloc_peak_bytes=peak,
        calls={name: adapter.calls for name, adapter in adapters.items()},
        http_requests=recorder.http_requests,
        sms_filters=recorder.sms_filters,
        response=response,
        error=error,
    )


def _max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--event", type=Path, required=True, help="JSON file with the event")
    parser.add_argument("--result", type=Path, required=True, help="where to write the result")
    parser.add_argument("--timeout", type=float, default=120.0, help="Lambda timeout, seconds")
    parser.add_argument("--tracemalloc", action="store_true", help="trace Python allocations")
    args = parser.parse_args(argv)
    event = json.loads(args.event.read_text())
    invoke(event, timeout_seconds=args.timeout, trace_memory=args.tracemalloc).dump(args.result)


if __name__ == "__main__":
    main()
