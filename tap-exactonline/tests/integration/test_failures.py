"""Failures a user can cause or meet end in one clear line and a documented exit code.

Every case runs the real console script (or its entry point in-process where the network
failure has to be simulated) and checks: the exit code, one line naming what to check, no
traceback unless DEBUG logging was asked for, and no secret in the output.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from archive_devkit import clear_failures
from archive_devkit.tap_runs import (
    TAP_BIN,
    catalog_for,
    make_config,
    offline_config,
    write_json,
)
from archive_devkit.tap_runs import run_tap_cli as run
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from tap_exactonline.errors import ExitCode


def assert_one_clear_line(done: subprocess.CompletedProcess, code: ExitCode, *said: str) -> str:
    return clear_failures.assert_one_clear_line(done, "tap-exactonline", code, *said)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers (a hung proxy, a black-holed route)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_host_that_never_answers_times_out_with_a_hint(tmp_path, silent_server):
    done = run(offline_config(tmp_path, base_url=silent_server, request_timeout=1), tmp_path)
    assert_one_clear_line(done, ExitCode.UNREACHABLE, "did not answer in time", "request_timeout")


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[str]:
    """HTTPS on loopback with a self-signed certificate no client trusts."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_tls_failure_says_so(tmp_path, tls_server):
    done = run(offline_config(tmp_path, base_url=tls_server), tmp_path)
    assert_one_clear_line(done, ExitCode.UNREACHABLE, "TLS", "REQUESTS_CA_BUNDLE")


def test_a_value_exact_cannot_have_sent_is_reported_with_where_it_was(sandbox, tmp_path):
    # Exact's GLAccounts now send a Type that is not a number.
    sandbox.admin("POST", "drift", {"endpoint": "sync/Financial/GLAccounts", "remove": ["Type"]})
    sandbox.admin(
        "POST",
        "drift",
        {"endpoint": "sync/Financial/GLAccounts", "add": {"Type": "not-a-number"}},
    )
    config = make_config(sandbox, tmp_path)
    command = [
        TAP_BIN,
        "--config",
        write_json(tmp_path / "config.json", config),
        "--catalog",
        write_json(tmp_path / "catalog.json", catalog_for(config, ["gl_accounts"])),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    division = sandbox.divisions[0]
    assert_one_clear_line(
        done,
        ExitCode.UNREADABLE_VALUE,
        "stream 'gl_accounts'",
        "field 'Type' (Edm.Int32)",
        f"division {division}",
        f"/api/v1/{division}/sync/Financial/GLAccounts",
    )
