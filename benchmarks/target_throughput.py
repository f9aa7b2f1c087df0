"""Throughput and memory of target-snowflake-audit on a 30-column stream.

Generates N synthetic Singer lines (one SCHEMA, N RECORDs, STATE every 10,000), serves the
local Snowflake emulator in this process, runs the target as a child process with record
validation on (the default) and prints rows/s and the child's peak RSS.

`--transport sql_api` loads through the local SQL API server (dev kit) in front of the same
emulator, with a key pair; `--transport both` runs the connector and then the SQL API on the
same input, each into its own schema, and prints each one's figures and load statements per
100,000 rows.

    .venv/bin/python benchmarks/target_throughput.py [--rows 1000000] [--batch-size-rows N]
        [--transport connector|sql_api|both]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from archive_devkit.key_pairs import encrypted_pem, new_rsa_key
from archive_devkit.snowflake_emulator import server, statement_audit
from archive_devkit.sql_api_server import SqlApiServer

STREAM = "TransactionLines"


def schema_message() -> dict[str, object]:
    """Return the SCHEMA message of the 30-column benchmark stream."""
    properties: dict[str, object] = {
        "ID": {"type": "string"},
        "Division": {"type": "integer"},
        "EntryNumber": {"type": ["integer", "null"]},
        "FinancialYear": {"type": ["integer", "null"]},
    }
    for name in ("AmountDC", "AmountFC", "AmountVATFC", "Quantity", "VATPercentage", "Rate"):
        properties[name] = {"type": ["number", "null"]}
    for name in (
        "GLAccount", "GLAccountCode", "Description", "Currency", "JournalCode",
        "CostCenter", "CostUnit", "Notes", "Account", "Document", "Status", "Type",
    ):  # fmt: skip
        properties[name] = {"type": ["string", "null"]}
    for name in ("Created", "Modified", "Date"):
        properties[name] = {"type": ["string", "null"], "format": "date-time"}
    for name in ("InvoiceDate", "DueDate"):
        properties[name] = {"type": ["string", "null"], "format": "date"}
    properties["IsReversal"] = {"type": ["boolean", "null"]}
    properties["IsBlocked"] = {"type": ["boolean", "null"]}
    properties["Extra"] = {"type": ["object", "null"]}
    assert len(properties) == 30  # noqa: S101 - guards the benchmark's definition
    return {
        "type": "SCHEMA",
        "stream": STREAM,
        "key_properties": ["ID"],
        "schema": {"type": "object", "properties": properties},
    }


def write_input(path: Path, rows: int) -> None:
    """Write the Singer input file.

    Args:
        path: Destination.
        rows: Number of RECORD messages.
    """
    rng = random.Random(7)
    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    extracted = "2024-06-01T00:00:00+00:00"
    with path.open("w") as out:
        out.write(json.dumps(schema_message()) + "\n")
        for n in range(rows):
            stamp = (base + datetime.timedelta(minutes=n)).isoformat()
            record = {
                "ID": f"{n:08d}-0000-0000-0000-{rng.randrange(16**12):012x}",
                "Division": 100101 + n % 3,
                "EntryNumber": n,
                "FinancialYear": 2024,
                "AmountDC": round(rng.uniform(-5000, 5000), 2),
                "AmountFC": round(rng.uniform(-5000, 5000), 2),
                "AmountVATFC": round(rng.uniform(0, 500), 2),
                "Quantity": rng.randrange(1, 100),
                "VATPercentage": 0.21,
                "Rate": 1.0,
                "GLAccount": f"{rng.randrange(16**8):08x}-gl",
                "GLAccountCode": str(rng.randrange(1000, 9999)),
                "Description": f'Invoice line {n} for customer "{n % 97}"',
                "Currency": "EUR",
                "JournalCode": "70",
                "CostCenter": None,
                "CostUnit": "CU1",
                "Notes": "",
                "Account": f"acc-{n % 1000}",
                "Document": f"doc-{n // 10}",
                "Status": "20",
                "Type": "20",
                "Created": stamp,
                "Modified": stamp,
                "Date": stamp,
                "InvoiceDate": stamp[:10],
                "DueDate": stamp[:10],
                "IsReversal": False,
                "IsBlocked": n % 50 == 0,
                "Extra": {"line": n % 10},
            }
            message = {"type": "RECORD", "stream": STREAM, "record": record}
            message["time_extracted"] = extracted
            out.write(json.dumps(message) + "\n")
            if (n + 1) % 10_000 == 0:
                out.write(json.dumps({"type": "STATE", "value": {"rows": n + 1}}) + "\n")


class TreeRssSampler(threading.Thread):
    """Samples the summed RSS of a process and its children (Linux /proc) until stopped."""

    def __init__(self, pid: int) -> None:
        """Prepare to sample.

        Args:
            pid: The root process.
        """
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self._stopped = threading.Event()

    def stop(self) -> None:
        """Stop sampling."""
        self._stopped.set()
        self.join()

    def run(self) -> None:
        """Sample every 0.1 s."""
        while not self._stopped.wait(0.1):
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(pid) for pid in _tree(self.pid)))


def _tree(pid: int) -> list[int]:
    pids, index = [pid], 0
    while index < len(pids):
        for children in Path(f"/proc/{pids[index]}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pids += [int(child) for child in children.read_text().split()]
        index += 1
    return pids


def _rss_kb(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sdk_validating_sink_rate(input_path: Path, records: int) -> float:
    """Records/s of the SDK's default validating sink on the first `records` of the input."""
    sample = input_path.with_suffix(".sample")
    with input_path.open() as source, sample.open("w") as out:
        for number, line in enumerate(source):
            if number > records:
                break
            out.write(line)
    script = Path(__file__).with_name("sdk_validating_sink.py")
    result = subprocess.run(
        [sys.executable, str(script), str(sample)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def json_loads_rate(input_path: Path, rows: int) -> float:
    """Lines per CPU-second for plain json.loads of the input."""
    started = time.process_time()
    with input_path.open() as lines:
        for line in lines:
            json.loads(line)
    return rows / (time.process_time() - started)


def run_target(input_path: Path, config: dict[str, object]) -> dict[str, float]:
    """Run the target on the input as a child process and return its figures."""
    config_path = input_path.with_name("config.json")
    config_path.write_text(json.dumps(config))
    target = Path(sys.executable).parent / "target-snowflake-audit"
    emulator_before = resource.getrusage(resource.RUSAGE_SELF)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with subprocess.Popen(
        [str(target), "--config", str(config_path), "--input", str(input_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        sampler = TreeRssSampler(process.pid)
        sampler.start()
        stdout, stderr = process.communicate()
        sampler.stop()
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    elapsed = time.perf_counter() - started
    emulator_after = resource.getrusage(resource.RUSAGE_SELF)
    if result.returncode != 0:
        print(result.stderr[-3000:])
        sys.exit(f"target failed with exit code {result.returncode}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "elapsed": elapsed,
        "cpu": (usage.ru_utime - children_before.ru_utime)
        + (usage.ru_stime - children_before.ru_stime),
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "peak_tree_rss_mb": sampler.peak_kb / 1024,
        "emulator_cpu": (emulator_after.ru_utime - emulator_before.ru_utime)
        + (emulator_after.ru_stime - emulator_before.ru_stime),
        "states": len(result.stdout.strip().splitlines()),
    }


def _load_statements(transport: str, before: int, api: SqlApiServer | None) -> int:
    """Statements that moved rows: PUT, COPY and REMOVE, or INSERT POSTs (resubmissions too)."""
    if api is not None:
        return sum(r.method == "POST" and r.statement.startswith("INSERT") for r in api.requests)
    loads = ("PUT ", "COPY INTO", "REMOVE ")
    return sum(s.startswith(loads) for s in statement_audit.statements()[before:])


def run_transport(
    transport: str, input_path: Path, emulator: dict[str, object], settings: dict[str, object]
) -> tuple[dict[str, float], int]:
    """Load the input through one transport; return its figures and rows loaded."""
    schema = f"RAW_{transport.upper()}"
    config: dict[str, object] = {
        "account": "fakesnow",
        "user": "fake",
        "password": "snow",
        "host": emulator["host"],
        "port": emulator["port"],
        "protocol": "http",
        "warehouse": "FAKESNOW_WAREHOUSE",
        "database": "BENCH",
        "schema": schema,
        **settings,
    }
    before = len(statement_audit.statements())
    with contextlib.ExitStack() as stack:
        api = None
        if transport == "sql_api":
            key = new_rsa_key()
            api = stack.enter_context(
                SqlApiServer(
                    emulator, account="BENCH", public_keys={"LOADER": key.public_key()}
                ).running()
            )
            config.pop("password")
            config |= {
                "transport": "sql_api",
                "account": "bench",
                "user": "loader",
                "private_key": encrypted_pem(key, "bench"),
                "private_key_passphrase": "bench",
                "port": api.port,
            }
        figures = run_target(input_path, config)
        figures["load_statements"] = _load_statements(transport, before, api)

    import snowflake.connector  # noqa: PLC0415

    with snowflake.connector.connect(**emulator, database="BENCH", schema=schema) as connection:
        cursor = connection.cursor()
        cursor.execute('SELECT COUNT(*) FROM "transactionlines"')
        (loaded,) = cursor.fetchone() or (0,)
    return figures, int(loaded)


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size-rows", type=int, default=None)
    parser.add_argument(
        "--parallel-workers", type=int, default=None, help="the target's parallel_workers"
    )
    parser.add_argument(
        "--transport", choices=["connector", "sql_api", "both"], default="connector"
    )
    args = parser.parse_args()
    settings: dict[str, object] = {}
    if args.batch_size_rows:
        settings["batch_size_rows"] = args.batch_size_rows
    if args.parallel_workers is not None:
        settings["parallel_workers"] = args.parallel_workers
    transports = ["connector", "sql_api"] if args.transport == "both" else [args.transport]

    with tempfile.TemporaryDirectory(prefix="target-bench-") as tmp:
        input_path = Path(tmp) / "input.singer"
        started = time.perf_counter()
        write_input(input_path, args.rows)
        print(f"generated {args.rows:,} records in {time.perf_counter() - started:.1f}s")
        baseline = json_loads_rate(input_path, args.rows)

        results = {}
        with server() as kwargs:
            for transport in transports:
                results[transport] = run_transport(transport, input_path, dict(kwargs), settings)
        # After the target: the peak RSS read from RUSAGE_CHILDREN stays the target's.
        sdk_rate = sdk_validating_sink_rate(input_path, min(args.rows, 20_000))
        for transport, (figures, loaded) in results.items():
            print(f"--- transport: {transport}")
            print_figures(args.rows, loaded, figures, baseline, sdk_rate)
            per_100k = figures["load_statements"] / args.rows * 100_000
            print(
                f"load statements: {figures['load_statements']:.0f} "
                f"= {per_100k:.1f} per 100,000 rows"
            )


def print_figures(
    rows: int, loaded: int, figures: dict[str, float], baseline: float, sdk_rate: float
) -> None:
    """Print the measured figures, and this machine's speed against the goal's machines."""
    elapsed, cpu = figures["elapsed"], figures["cpu"]
    rate = rows / elapsed
    print(f"rows loaded:   {loaded:,} (STATE lines emitted: {figures['states']:.0f})")
    print(f"elapsed:       {elapsed:.1f}s (whole target process, start-up included)")
    print(f"throughput:    {rate:,.0f} rows/s (wall clock) = {elapsed / rows * 1e6:.1f} us per row")
    print(
        f"CPU cost:      {cpu:.1f}s of target CPU (all its processes) = {rows / cpu:,.0f} "
        "rows per CPU-second"
    )
    print(
        f"emulator CPU:  {figures['emulator_cpu']:.1f}s = "
        f"{figures['emulator_cpu'] / rows * 1e6:.1f} us per row (the local Snowflake, in this "
        "process, on the same CPUs)"
    )
    print(
        f"peak RSS:      {figures['peak_rss_mb']:,.0f} MB (largest process of the target); "
        f"{figures['peak_tree_rss_mb']:,.0f} MB for the target and its worker processes together "
        "(sampled every 0.1 s)"
    )
    print(f"json.loads:    {baseline:,.0f} lines per CPU-second (goal's machines: ~180,000)")
    print(
        f"SDK sink:      {sdk_rate:,.0f} rows per CPU-second for the SDK's default validating "
        f"sink (goal's machines: ~6,500/s); this target is {rate / sdk_rate:.1f}x that "
        f"(the goal, 60,000 rows/s, is {60_000 / 6_500:.1f}x)"
    )
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average:  {load} (1, 5, 15 min) on {os.cpu_count()} CPUs at the end")


if __name__ == "__main__":
    main()
