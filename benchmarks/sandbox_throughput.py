"""Throughput of exact-sandbox's sync endpoint: records/s and pages/s for one client.

Starts the real CLI in a subprocess (so the sandbox has its own core), raises the rate limits
through the admin API, then pages through sync/Financial/TransactionLines. "raw" passes find
`__next` without decoding the page, so they measure what the sandbox serves; "parsed" passes
decode every page with `json.loads` as a tap would (then the client's parsing dominates).

    .venv/bin/python benchmarks/sandbox_throughput.py [--lines 100000] [--passes 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
from archive_devkit.sandboxes import SandboxProcess
from exact_sandbox.catalog import TRANSACTION_LINES, Kind

SYNC_PATH = "sync/Financial/TransactionLines"
LOG_NAME = "sandbox-throughput-benchmark.log"


def access_token(info: dict[str, object]) -> str:
    """Exchange the start-up refresh token."""
    response = requests.post(
        f"{info['base_url']}/api/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": str(info["refresh_token"]),
            "client_id": str(info["client_id"]),
            "client_secret": str(info["client_secret"]),
        },
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def page_through(
    base_url: str, division: int, token: str, select: str, *, parse: bool
) -> tuple[int, int, float]:
    """Follow `__next` to the end over one keep-alive connection; answer rows, pages, seconds."""
    origin = urlsplit(base_url)
    connection = http.client.HTTPConnection(origin.hostname or "127.0.0.1", origin.port)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    target: str | None = (
        f"/api/v1/{division}/{SYNC_PATH}?$select={select}&$filter=Timestamp%20gt%201L"
    )
    rows = pages = 0
    started = time.perf_counter()
    while target:
        connection.request("GET", target, headers=headers)
        response = connection.getresponse()
        content = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {content[:200]!r}")
        pages += 1
        if parse:
            body = json.loads(content)["d"]
            rows += len(body["results"])
            next_url = body.get("__next")
        else:
            rows += content.count(b'"__metadata"')
            marker = content.rfind(b'"__next":"')
            next_url = content[marker + 10 : content.rfind(b'"')].decode() if marker > 0 else None
        target = None
        if next_url:
            parts = urlsplit(next_url)
            target = f"{parts.path}?{parts.query}"
    connection.close()
    return rows, pages, time.perf_counter() - started


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000, help="transaction lines")
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args()
    generation_started = time.perf_counter()
    sandbox = SandboxProcess(
        ["--scale", str(args.lines), "--divisions", "1"], Path(tempfile.gettempdir()) / LOG_NAME
    )
    info = sandbox.info
    try:
        print(f"generated and started in {time.perf_counter() - generation_started:.1f} s")
        base_url = str(info["base_url"])
        divisions = info["divisions"]
        if not isinstance(divisions, list):
            raise TypeError("divisions must be a list")
        sandbox.limits(1_000_000, 1_000_000)
        token = access_token(info)
        selections = {
            "all fields": ",".join(f.name for f in TRANSACTION_LINES.fields_for(Kind.SYNC)),
            "5 fields": "ID,EntryID,AmountDC,Date,Timestamp",
        }
        for label, select in selections.items():
            for parse in (False, True):
                for run in range(1, args.passes + 1):
                    rows, pages, seconds = page_through(
                        base_url, int(divisions[0]), token, select, parse=parse
                    )
                    mode = "parsed" if parse else "raw"
                    print(
                        f"{label:>10} {mode:>6} pass {run}: {rows} records, {pages} pages in"
                        f" {seconds:.2f} s = {rows / seconds:,.0f} records/s,"
                        f" {pages / seconds:.1f} pages/s"
                    )
    finally:
        sandbox.stop(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
