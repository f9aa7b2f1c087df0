"""Authentication, start-up checks, retries and keeping secrets out of logs and errors."""

from __future__ import annotations

import base64
import logging
import socket
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from snowflake.connector import errors as sf_errors
from target_snowflake_audit.connector import (
    PrivateKeyError,
    SnowflakeConnection,
    TargetSnowflakeError,
    load_private_key,
)
from target_snowflake_audit.loader import warehouse_warning

from .conftest import record_message, run_target, schema_message, singer_lines

PASSPHRASE = "correct horse battery staple"
PROPERTIES = {"ID": {"type": "string"}}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _der(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _encrypted_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    ).decode()


def _key_config(config: dict[str, Any], **auth: Any) -> dict[str, Any]:
    without_password = {k: v for k, v in config.items() if k != "password"}
    return {**without_password, **auth}


def test_key_pair_from_encrypted_pem_with_passphrase(config, warehouse, rsa_key):
    pem = _encrypted_pem(rsa_key)
    assert load_private_key(private_key=pem, passphrase=PASSPHRASE) == _der(rsa_key)

    run_target(
        _key_config(config, private_key=pem, private_key_passphrase=PASSPHRASE),
        singer_lines(schema_message("keys", PROPERTIES), record_message("keys", {"ID": "k"})),
    )
    assert warehouse('SELECT "id" FROM "keys"') == [("k",)]


def test_key_pair_from_base64_der(config, warehouse, rsa_key):
    encoded = base64.b64encode(_der(rsa_key)).decode()
    assert load_private_key(private_key=encoded) == _der(rsa_key)

    run_target(
        _key_config(config, private_key=encoded),
        singer_lines(schema_message("keys", PROPERTIES), record_message("keys", {"ID": "k"})),
    )
    assert warehouse('SELECT "id" FROM "keys"') == [("k",)]


def test_key_pair_from_encrypted_pem_file(tmp_path, rsa_key):
    path = tmp_path / "rsa_key.p8"
    path.write_text(_encrypted_pem(rsa_key))
    assert load_private_key(private_key_path=str(path), passphrase=PASSPHRASE) == _der(rsa_key)


def test_wrong_passphrase_is_a_clear_error_without_key_material(rsa_key):
    pem = _encrypted_pem(rsa_key)
    with pytest.raises(PrivateKeyError) as error:
        load_private_key(private_key=pem, passphrase="wrong passphrase")
    text = str(error.value)
    assert "private_key_passphrase is missing or wrong" in text
    assert "wrong passphrase" not in text
    assert "PRIVATE KEY" not in text


def test_secrets_never_appear_in_logs_or_errors(config, caplog, capsys, rsa_key):
    pem = _encrypted_pem(rsa_key)
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


def test_auto_resume_false_warns_with_the_alter_warehouse_fix():
    for auto_resume in (False, "false", "FALSE"):
        warning = warehouse_warning("load_wh", [{"name": "LOAD_WH", "auto_resume": auto_resume}])
        assert warning is not None
        assert 'ALTER WAREHOUSE "LOAD_WH" SET AUTO_RESUME = TRUE' in warning
    for auto_resume in (True, "true"):
        assert (
            warehouse_warning("LOAD_WH", [{"name": "LOAD_WH", "auto_resume": auto_resume}]) is None
        )


def test_missing_warehouse_or_privilege_is_a_clear_error():
    with pytest.raises(
        TargetSnowflakeError, match="warehouse 'LOAD_WH' does not exist or the role"
    ):
        warehouse_warning("LOAD_WH", [])


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


class _FlakyCursor:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.description = [("answer",)]

    def execute(self, sql: str, params: Any) -> None:
        if self.failures:
            raise self.failures.pop(0)

    def fetchall(self) -> list[tuple[int]]:
        return [(42,)]

    def close(self) -> None:
        pass


class _FlakyConnection:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures

    def cursor(self) -> _FlakyCursor:
        return _FlakyCursor(self.failures)

    def close(self) -> None:
        pass


def _connection_with(failures: list[Exception], monkeypatch) -> SnowflakeConnection:
    settings = {
        "account": "a",
        "user": "u",
        "password": "p",
        "warehouse": "w",
        "database": "d",
        "schema": "s",
        "retry_max_attempts": 4,
        "retry_base_seconds": 0.001,
    }
    connection = SnowflakeConnection(settings, logging.getLogger("test"))
    monkeypatch.setattr(connection, "_open", lambda: _FlakyConnection(failures))
    return connection


def test_transient_errors_are_retried_with_backoff(monkeypatch, caplog):
    failures: list[Exception] = [
        sf_errors.OperationalError(msg="connection reset"),
        sf_errors.ServiceUnavailableError(msg="503"),
        sf_errors.TooManyRequests(msg="429"),
    ]
    connection = _connection_with(failures, monkeypatch)
    with caplog.at_level(logging.WARNING):
        assert connection.execute("SELECT 42") == [{"answer": 42}]
    assert caplog.text.count("Transient Snowflake error") == 3


def test_sql_errors_are_not_retried(monkeypatch):
    failures: list[Exception] = [
        sf_errors.ProgrammingError(msg="SQL compilation error"),
        sf_errors.OperationalError(msg="never reached"),
    ]
    connection = _connection_with(failures, monkeypatch)
    with pytest.raises(sf_errors.ProgrammingError):
        connection.execute("SELEC 1")
    assert len(failures) == 1


def test_missing_schema_without_create_schema_is_a_clear_error(config):
    with pytest.raises(TargetSnowflakeError, match=r"cannot use schema AUDIT_TEST\.NOT_THERE"):
        run_target(
            {**config, "schema": "NOT_THERE", "create_schema": False},
            singer_lines(schema_message("x", PROPERTIES)),
        )
