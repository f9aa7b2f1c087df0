"""Behaviour 10: serving sync pages is fast enough never to be a benchmark's bottleneck."""

from __future__ import annotations

import time

from exact_sandbox.catalog import TRANSACTION_LINES, Kind


def test_sync_pages_serve_at_least_30000_records_per_second(exact):
    select = ",".join(field.name for field in TRANSACTION_LINES.fields_for(Kind.SYNC))
    params = {"$select": select, "$filter": "Timestamp gt 1"}
    best = 0.0
    for _ in range(5):
        started = time.perf_counter()
        response = exact.get("sync/Financial/TransactionLines", params)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200
        best = max(best, response.content.count(b'"__metadata"') / elapsed)
    assert best >= 30_000
