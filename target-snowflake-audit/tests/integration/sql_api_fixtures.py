"""The local SQL API server (dev kit) before the session's emulator, and target settings for it.

Import the fixtures into a test module: `from .sql_api_fixtures import sql_api, sql_api_config`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from archive_devkit.key_pairs import PASSPHRASE, encrypted_pem, new_rsa_key
from archive_devkit.sql_api_server import SqlApiServer
from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import EMULATOR, base_config

ACCOUNT = "AUDITTEST"
USER = "LOADER"
# One key pair for the session: 2048-bit RSA keys take a moment to generate.
_KEY = new_rsa_key()


@pytest.fixture(scope="session")
def loader_key() -> rsa.RSAPrivateKey:
    """The private key of the loader user the server knows."""
    return _KEY


@pytest.fixture
def sql_api() -> Iterator[SqlApiServer]:
    """A fresh server (faults and request log of its own) for each test."""
    server = SqlApiServer(
        EMULATOR,
        account=ACCOUNT,
        public_keys={USER: _KEY.public_key()},
        sync_wait_seconds=0.5,
        partition_rows=50,
    )
    with server.running():
        yield server


def sql_api_settings(
    server: SqlApiServer, schema: str, key: rsa.RSAPrivateKey = _KEY
) -> dict[str, Any]:
    """Target settings loading into `schema` through `server` with a key pair."""
    settings = base_config(schema)
    settings.pop("password")
    return settings | {
        "transport": "sql_api",
        # A locator with its region, as users copy it from their account URL.
        "account": f"{ACCOUNT.lower()}.eu-central-1",
        "user": USER.lower(),
        "private_key": encrypted_pem(key),
        "private_key_passphrase": PASSPHRASE,
        "port": server.port,
        "sql_api_poll_seconds": 0.05,
    }


@pytest.fixture
def sql_api_config(sql_api: SqlApiServer, schema_name: str) -> dict[str, Any]:
    """Target settings for the test's schema through the test's server."""
    return sql_api_settings(sql_api, schema_name)
