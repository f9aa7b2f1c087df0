"""`python -m archive_devkit.sql_api_server`: serve the local SQL API in front of an emulator."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from archive_devkit.sql_api_server.server import SqlApiServer


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m archive_devkit.sql_api_server")
    parser.add_argument("--emulator-host", default="127.0.0.1")
    parser.add_argument("--emulator-port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--account", required=True, help="account identifier, as in the JWT")
    parser.add_argument("--user", required=True)
    parser.add_argument(
        "--public-key", type=Path, required=True, help="the user's public key (PEM)"
    )
    args = parser.parse_args(argv)

    public_key = serialization.load_pem_public_key(args.public_key.read_bytes())
    if not isinstance(public_key, rsa.RSAPublicKey):
        parser.error("--public-key must be an RSA public key")
    emulator = {
        "user": "fake",
        "password": "snow",
        "account": "fakesnow",
        "host": args.emulator_host,
        "port": args.emulator_port,
        "protocol": "http",
        "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
    }
    server = SqlApiServer(
        emulator,
        account=args.account,
        public_keys={args.user: public_key},
        host=args.host,
        port=args.port,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    with server.running():
        stop.wait()


if __name__ == "__main__":
    main()
