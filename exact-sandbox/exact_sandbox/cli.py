"""`exact-sandbox serve ...`: print one JSON line describing the sandbox, then serve.

Other units read that line (base_url, client credentials, refresh token, divisions), so
nothing else may go to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from exact_sandbox.datagen import REGIONS, parse_scale
from exact_sandbox.sandbox import Sandbox, SandboxConfig
from exact_sandbox.server import base_url_of, bind_socket, uvicorn_server


def scale_argument(text: str) -> str:
    """Accept small|medium|large|N."""
    try:
        parse_scale(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    """The command line (ARCHITECTURE.md contract)."""
    parser = argparse.ArgumentParser(prog="exact-sandbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve one region's Exact Online emulator")
    serve.add_argument("--port", type=int, required=True, help="TCP port; 0 picks a free one")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    serve.add_argument("--region", default="nl", choices=sorted(REGIONS))
    serve.add_argument("--seed", type=int, default=1, help="same seed, same data")
    serve.add_argument(
        "--scale",
        default="small",
        type=scale_argument,
        help="small (default), medium, large (>= 1M lines) or N lines per division",
    )
    serve.add_argument("--divisions", type=int, default=3, help="granted divisions")
    serve.add_argument("--clock", choices=("real", "virtual"), default="real")
    serve.add_argument("--minutely-limit", type=int, default=60)
    serve.add_argument("--daily-limit", type=int, default=5000)
    serve.add_argument("--db", default=None, help="SQLite file to keep (reused when it matches)")
    serve.add_argument(
        "--plain-numbers",
        action="store_true",
        help="write Edm.Int64 values as JSON numbers (default: strings, as OData v2 and Exact do)",
    )
    serve.add_argument("--fault-seed", type=int, default=None, help="seed of the fault RNG")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `exact-sandbox` console script."""
    args = build_parser().parse_args(argv)
    config = SandboxConfig(
        region=args.region,
        seed=args.seed,
        scale=args.scale,
        divisions=args.divisions,
        clock=args.clock,
        minutely_limit=args.minutely_limit,
        daily_limit=args.daily_limit,
        db=args.db,
        int64_as_string=not args.plain_numbers,
        fault_seed=args.fault_seed,
    )
    try:
        sandbox = Sandbox(config)
    except ValueError as error:
        print(f"exact-sandbox: {error}", file=sys.stderr)
        return 2
    sock = bind_socket(args.host, args.port)
    sys.stdout.write(json.dumps(sandbox.info(base_url_of(sock, args.host))) + "\n")
    sys.stdout.flush()
    try:
        uvicorn_server(sandbox).run(sockets=[sock])  # handles SIGINT/SIGTERM
    finally:
        sandbox.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
