"""Authentication, start-up checks, retries and keeping secrets out of logs and errors."""

from __future__ import annotations

import base64
import logging
import socket
from typing import Any

import pytest
from archive_devkit.key_pairs import PASSPHRASE, der, encrypted_pem, new_rsa_key
from archive_devkit.singer_messages import record_message, run_target, schema_message, singer_lines
from cryptography.hazmat.primitives.asymmetric import rsa
from target_snowflake_audit.connector import (
    SnowflakeConnection,
    TargetSnowflakeError,
    load_private_key,
)

PROPERTIES = {"ID": {"type": "string"}}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return new_rsa_key()


def _key_config(config: dict[str, Any], **auth: Any) -> dict[str, Any]:
    without_password = {k: v for k, v in config.items() if k != "password"}
    return {**without_password, **auth}


def test_key_pair_from_encrypted_pem_with_passphrase(config, warehouse, rsa_key):
    pem = encrypted_pem(rsa_key)
    assert load_private_key(private_key=pem, passphrase=PASSPHRASE) == der(rsa_key)

    run_target(
        _key_config(config, private_key=pem, private_key_passphrase=PASSPHRASE),
        singer_lines(schema_message("keys", PROPERTIES), record_message("keys", {"ID": "k"})),
    )
    assert warehouse('SELECT "id" FROM "keys"') == [("k",)]


def test_key_pair_from_base64der(config, warehouse, rsa_key):
    encoded = base64.b64encode(der(rsa_key)).decode()
    assert load_private_key(private_key=encoded) == der(rsa_key)

    run_target(
        _key_config(config, private_key=encoded),
        singer_lines(schema_message("keys", PROPERTIES), record_message("keys", {"ID": "k"})),
    )
    assert warehouse('SELECT "id" FROM "keys"') == [("k",)]


def test_secrets_never_appear_in_logs_or_errors(config, caplog, capsys, rsa_key):
    pem = encrypted_pem(rsa_key)
    secret_config = _key_config(
        config, private_key=pem, private_key_passphrase=PASSPHRASE, password="Pa55word-never-log"
    )
    with caplog.at_level(logging.DEBUG):
        run_target(
            secret_config,
            singer_lines(schema_message("keys", PROPERTIES), record_message("keys", {"ID": "k"})),
        )
        # A failing connection: nothing listens on this port.
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed_port = sock.getsockname()[1]
        failing = {
            **secret_config,
            "port": closed_port,
            "retry_max_attempts": 1,
            "login_timeout_seconds": 5,
        }
        with pytest.raises(Exception) as error:  # noqa: PT011 - any error, checked below
            run_target(
                failing,
                singer_lines(schema_message("k2", PROPERTIES), record_message("k2", {"ID": "k"})),
            )

    captured = capsys.readouterr()
    everything = "\n".join(
        [caplog.text, captured.out, captured.err, str(error.value), repr(error.value)]
    )
    pem_body = pem.splitlines()[1]
    for secret in (PASSPHRASE, "Pa55word-never-log", pem_body):
        assert secret not in everything


def test_start_up_checks_pass_on_the_emulator_without_warning(config, warehouse, caplog):
    with caplog.at_level(logging.WARNING):
        run_target(config, singer_lines(schema_message("wh", PROPERTIES)))
    assert "AUTO_RESUME" not in caplog.text
    assert warehouse(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = CURRENT_SCHEMA() AND table_name = 'wh'"
    ) == [("wh",)]


def test_start_up_warns_when_the_warehouse_does_not_auto_resume(config, caplog, monkeypatch):
    original = SnowflakeConnection.execute

    def suspended_warehouse(self: SnowflakeConnection, sql: str, params: Any = None) -> Any:
        rows = original(self, sql, params)
        if sql.startswith("SHOW WAREHOUSES"):
            return [{**row, "auto_resume": "false"} for row in rows]
        return rows

    monkeypatch.setattr(SnowflakeConnection, "execute", suspended_warehouse)
    with caplog.at_level(logging.WARNING):
        run_target(config, singer_lines(schema_message("wh", PROPERTIES)))
    assert 'ALTER WAREHOUSE "FAKESNOW_WAREHOUSE" SET AUTO_RESUME = TRUE' in caplog.text


def test_unknown_warehouse_stops_the_run_with_a_clear_error(config):
    with pytest.raises(TargetSnowflakeError, match="warehouse 'NO_SUCH_WH' does not exist"):
        run_target({**config, "warehouse": "NO_SUCH_WH"}, singer_lines(schema_message("x", {})))


def test_missing_schema_without_create_schema_is_a_clear_error(config):
    with pytest.raises(TargetSnowflakeError, match=r"cannot use schema AUDIT_TEST\.NOT_THERE"):
        run_target(
            {**config, "schema": "NOT_THERE", "create_schema": False},
            singer_lines(schema_message("x", PROPERTIES)),
        )
