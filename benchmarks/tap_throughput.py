"""Tap throughput: records/s, API calls per 1,000 records and peak RSS for transaction_lines.

Starts an `exact-sandbox` process at a large-ish scale, lifts its rate limits, runs the tap's
console script for the `transaction_lines` stream with stdout to a pipe it drains (as a
target would), and prints:

- records per second end to end (sandbox serving included, one tap process),
- API calls per 1,000 records (from the sandbox's `/_sandbox/stats`),
- the tap process's peak RSS.

Usage: python benchmarks/tap_throughput.py [--scale 200000] [--divisions 1]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive_devkit.paths import BIN_DIR
from archive_devkit.sandboxes import SandboxProcess
from cryptography.fernet import Fernet

BIN = BIN_DIR


def catalog(config_path: str) -> dict[str, Any]:
    discovered = subprocess.run(
        [str(BIN / "tap-exactonline"), "--config", config_path, "--discover"],
        capture_output=True,
        check=True,
        text=True,
    )
    document: dict[str, Any] = json.loads(discovered.stdout)
    for entry in document["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] == "transaction_lines"
    return document


@dataclass
class TapRun:
    elapsed: float
    cpu_seconds: float
    peak_rss: int
    output_bytes: int
    load_before: float
    load_after: float


def run_tap(config_path: str, catalog_path: str) -> TapRun:
    load_before = os.getloadavg()[0]
    run_started = time.perf_counter()
    # stdout is a pipe drained by this process, as a target reads it under Meltano.
    tap = subprocess.Popen(
        [str(BIN / "tap-exactonline"), "--config", config_path, "--catalog", catalog_path],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    output_bytes = 0
    if tap.stdout is not None:
        descriptor = tap.stdout.fileno()
        while chunk := os.read(descriptor, 1 << 20):
            output_bytes += len(chunk)
    # wait4 reports this child's own CPU time and peak RSS (no sampling).
    _, status, usage = os.wait4(tap.pid, 0)
    tap.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - run_started
    if tap.returncode != 0:
        raise SystemExit(f"tap exited with {tap.returncode}")
    return TapRun(
        elapsed=elapsed,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss=usage.ru_maxrss * 1024,
        output_bytes=output_bytes,
        load_before=load_before,
        load_after=os.getloadavg()[0],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="200000", help="sandbox --scale (rows or a size)")
    parser.add_argument("--divisions", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    sandbox = SandboxProcess(
        ["--scale", args.scale, "--divisions", str(args.divisions), "--clock", "real"],
        Path(tempfile.gettempdir()) / "tap-throughput-benchmark-sandbox.log",
    )
    info = sandbox.info
    print(f"sandbox ready in {time.perf_counter() - started:.1f} s at {info['base_url']}")
    try:
        base = info["base_url"]
        sandbox.limits(10_000_000, 100_000_000)
        truth = sandbox.truth()
        expected = sum(int(entities["TransactionLines"]["count"]) for entities in truth.values())
        with tempfile.TemporaryDirectory() as directory:
            config = {
                "base_url": base,
                "client_id": info["client_id"],
                "client_secret": info["client_secret"],
                "refresh_token": info["refresh_token"],
                "token_store_path": f"{directory}/tokens.json",
                "token_store_key": Fernet.generate_key().decode(),
                "divisions": ["all"],
            }
            config_path = f"{directory}/config.json"
            Path(config_path).write_text(json.dumps(config), encoding="utf-8")
            catalog_path = f"{directory}/catalog.json"
            Path(catalog_path).write_text(json.dumps(catalog(config_path)), encoding="utf-8")
            sandbox.reset_stats()
            run = run_tap(config_path, catalog_path)
        stats = sandbox.stats()
    finally:
        sandbox.stop(timeout=30)

    elapsed, tap_cpu = run.elapsed, run.cpu_seconds
    peak_rss_mb = run.peak_rss / 2**20
    calls = {
        endpoint: count
        for division_calls in stats["calls"].values()
        for endpoint, count in division_calls.items()
        if "TransactionLines" in endpoint
    }
    transaction_calls = sum(calls.values())
    print(
        f"records:                 {expected:,} transaction lines in {args.divisions} division(s)"
    )
    print(f"elapsed:                 {elapsed:.2f} s (includes tap start-up and token refresh)")
    print(f"throughput:              {expected / elapsed:,.0f} records/s (wall clock)")
    print(
        f"tap CPU:                 {tap_cpu:.2f} s -> {expected / tap_cpu:,.0f} records per "
        "CPU-second (what one dedicated core sustains)"
    )
    print(
        f"calls (TransactionLines): {transaction_calls} "
        f"(budget ceil(N/1000)+1 per division = {math.ceil(expected / 1000) + args.divisions})"
    )
    print(f"calls per 1,000 records: {1000 * transaction_calls / max(expected, 1):.3f}")
    print(f"peak RSS of the tap:     {peak_rss_mb:,.0f} MiB")
    print(f"Singer output:           {run.output_bytes / 2**20:,.0f} MiB through a pipe")
    print(
        f"load average (1 min):    {run.load_before:.2f} before, {run.load_after:.2f} after "
        f"({os.cpu_count()} CPUs; other work on the machine slows the wall clock)"
    )


if __name__ == "__main__":
    main()
