"""API calls per invocation, next to the fewest the APIs allow (DESIGN.md §1, §2.1).

* Scan: ``DescribeRegistrationAttachments`` max(1, ⌈M/100⌉), M = attachments in the
  statuses the scan lists (read from its request ``Filters`` at run time, not assumed);
  SNS ``PublishBatch`` ⌈individual alerts/10⌉, +1 for the flood-guard digest; DynamoDB
  ⌈candidates/100⌉ ``BatchGetItem`` + one claim and one SENT mark per new alert.
* Custom resource Create: max(1, ⌈N/100⌉) listing calls, or ⌈ids/5⌉ for requested ids;
  two state-table calls per request (duplicate-delivery check, answer record).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from benchmarks.report import Row, Section, Verdict, plural, progress
from benchmarks.world import (
    FAILED_CAP,
    MAX_ALERTS_PER_RUN,
    Backends,
    Invocation,
    Population,
    expected_alerts,
)

# The APIs' limits (DESIGN.md), not the implementation's constants: a wrong constant in
# lambda_src must show up here as a missed minimum.
PAGE_SIZE = 100
IDS_PER_CALL = 5
PUBLISH_BATCH = 10
BATCH_GET_KEYS = 100
STATE_CALLS_PER_REQUEST = 2
ID_STORE_SIZE = 100


def measure(backends: Backends, sizes: Sequence[int], id_counts: Sequence[int]) -> list[Section]:
    scan_rows: list[Row] = []
    create_rows: list[Row] = []
    creates: list[Invocation] = []
    listed: set[frozenset[str]] = set()
    for size in sizes:
        progress(f"API calls: scan and custom resource, N={size:,}")
        population = Population.mix(size)
        backends.prepare(population)
        scan = backends.scan()
        listed.add(scan.listed_statuses)
        scan_rows += _scan_rows(population, scan)
        create = backends.create()
        creates.append(create)
        minimum = max(1, math.ceil(size / PAGE_SIZE))
        create_rows.append(_listing_row(f"Create N={size:,}", create, minimum, f"N={size:,}"))
    if id_counts:
        progress(f"API calls: custom resource with {', '.join(map(str, id_counts))} ids")
        backends.prepare(Population.mix(ID_STORE_SIZE))
        ids = backends.attachment_ids(max(id_counts))
        for count in id_counts:
            create = backends.create(ids[:count])
            creates.append(create)
            minimum = math.ceil(count / IDS_PER_CALL)
            what = f"Create with {plural(count, 'id')}"
            create_rows.append(_listing_row(what, create, minimum, f"⌈{count}/5⌉"))
    create_rows.append(_state_row(creates))
    return [
        Section("API calls: scheduled scan", _scan_notes(listed), tuple(scan_rows)),
        Section("API calls: custom resource", _CREATE_NOTES, tuple(create_rows)),
    ]


def _scan_rows(population: Population, scan: Invocation) -> list[Row]:
    listed = population.within(scan.listed_statuses)
    failed = population.failed  # the candidates: the in-progress ones are not stuck yet
    individual, in_digest = expected_alerts(failed)
    digest = 1 if in_digest else 0
    calls, wire = scan.probe.calls, scan.probe.http_requests
    label = f"scan N={population.total:,}"
    return [
        _count_row(
            f"{label}: SMS listing",
            calls["sms"],
            scan.fake_calls,
            max(1, math.ceil(listed / PAGE_SIZE)),
            f"M={listed:,}",
        ),
        _count_row(
            f"{label}: SNS PublishBatch",
            calls["sns"],
            wire["sns"],
            math.ceil(individual / PUBLISH_BATCH) + digest,
            f"⌈{individual:,}/10⌉" + (" + digest" if digest else ""),
        ),
        _count_row(
            f"{label}: DynamoDB",
            calls["dynamodb"],
            wire["dynamodb"],
            math.ceil(failed / BATCH_GET_KEYS) + 2 * failed,
            f"{plural(math.ceil(failed / BATCH_GET_KEYS), 'read')} + 2 x {failed:,}",
        ),
    ]


def _listing_row(what: str, create: Invocation, minimum: int, rule: str) -> Row:
    return _count_row(
        f"{what}: SMS listing", create.probe.calls["sms"], create.fake_calls, minimum, rule
    )


def _state_row(creates: Sequence[Invocation]) -> Row:
    calls = [create.probe.calls["dynamodb"] for create in creates]
    wire = [create.probe.http_requests["dynamodb"] for create in creates]
    measured = ", ".join(str(n) for n in sorted(set(calls)))
    if wire != calls:
        measured += f" (wire: {', '.join(str(n) for n in sorted(set(wire)))})"
    return Row(
        f"DynamoDB per request, all {len(creates)} above",
        measured,
        f"= {STATE_CALLS_PER_REQUEST} (duplicate check + answer record)",
        Verdict.of(all(n == STATE_CALLS_PER_REQUEST for n in calls + wire)),
    )


def _count_row(what: str, measured: int, wire: int, minimum: int, rule: str) -> Row:
    """``measured`` is the adapter's counter, ``wire`` what was seen on the wire."""
    shown = f"{measured:,}" if wire == measured else f"{measured:,} (wire: {wire:,})"
    return Row(what, shown, f"= {minimum:,} ({rule})", Verdict.of(measured == wire == minimum))


def _scan_notes(listed: set[frozenset[str]]) -> tuple[str, ...]:
    statuses = " | ".join(" + ".join(sorted(item)) for item in sorted(listed, key=sorted))
    return (
        f"N attachments: 1% UPLOAD_FAILED (rounded up, at most {FAILED_CAP:,}), 1% "
        "UPLOAD_IN_PROGRESS (new: not stuck), 1% DELETED,",
        "the rest UPLOAD_COMPLETE, each status spread over the listing; a fresh state table "
        f"per N; MAX_ALERTS_PER_RUN={MAX_ALERTS_PER_RUN}.",
        f"The scan listed {statuses} (read from its request Filters); M = attachments in "
        "those statuses.",
        "Minimums: SMS max(1, ⌈M/100⌉); SNS ⌈individual alerts/10⌉, +1 for the digest of "
        f"those beyond {MAX_ALERTS_PER_RUN};",
        "DynamoDB ⌈failed/100⌉ BatchGetItem + a claim and a SENT mark per failed (all new).",
        _CROSS_CHECK,
    )


_CROSS_CHECK = (
    "Measured: the adapters' .calls; '(wire: n)' shows a different count of requests served "
    "by the fake or sent by botocore."
)
_CREATE_NOTES = (
    "Default properties (all four statuses counted), the same N attachments as the scan: "
    "minimum max(1, ⌈N/100⌉);",
    f"with RegistrationAttachmentIds (the first of {ID_STORE_SIZE} attachments): minimum ⌈ids/5⌉.",
    _CROSS_CHECK,
)
