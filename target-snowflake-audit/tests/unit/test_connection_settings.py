"""Connection settings, key pairs and retries, against a connection double (no server)."""

from __future__ import annotations

import logging
import random
from typing import Any

import backoff._jitter
import backoff._sync
import pytest
from archive_devkit.key_pairs import PASSPHRASE, der, encrypted_pem, new_rsa_key
from cryptography.hazmat.primitives.asymmetric import rsa
from snowflake.connector import errors as sf_errors
from target_snowflake_audit.connector import (
    PrivateKeyError,
    SnowflakeConnection,
    TargetSnowflakeError,
    load_private_key,
)
from target_snowflake_audit.loader import warehouse_warning


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


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return new_rsa_key()


def _connection_with(
    failures: list[Exception], monkeypatch, **overrides: Any
) -> SnowflakeConnection:
    settings = {
        "account": "a",
        "user": "u",
        "password": "p",
        "warehouse": "w",
        "database": "d",
        "schema": "s",
        "retry_max_attempts": 4,
        "retry_base_seconds": 0.001,
        **overrides,
    }
    connection = SnowflakeConnection(settings, logging.getLogger("test"))
    monkeypatch.setattr(connection, "_open", lambda: _FlakyConnection(failures))
    return connection


def test_key_pair_from_encrypted_pem_file(tmp_path, rsa_key):
    path = tmp_path / "rsa_key.p8"
    path.write_text(encrypted_pem(rsa_key))
    assert load_private_key(private_key_path=str(path), passphrase=PASSPHRASE) == der(rsa_key)


def test_wrong_passphrase_is_a_clear_error_without_key_material(rsa_key):
    pem = encrypted_pem(rsa_key)
    with pytest.raises(PrivateKeyError) as error:
        load_private_key(private_key=pem, passphrase="wrong passphrase")
    text = str(error.value)
    assert "private_key_passphrase is missing or wrong" in text
    assert "wrong passphrase" not in text
    assert "PRIVATE KEY" not in text


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


def _waits_for(failures: int, monkeypatch, **settings: Any) -> list[float]:
    """The waits between attempts when `failures` transient errors precede the answer."""
    waits: list[float] = []
    monkeypatch.setattr(backoff._sync.time, "sleep", waits.append)
    errors: list[Exception] = [sf_errors.ServiceUnavailableError(msg="503")] * failures
    connection = _connection_with(errors, monkeypatch, **settings)
    assert connection.execute("SELECT 42") == [{"answer": 42}]
    return waits


def test_retry_waits_double_from_the_configured_base_up_to_30_seconds(monkeypatch):
    # Full jitter draws each wait uniformly below its ceiling; drawing the top of the range
    # shows the ceilings: retry_base_seconds, doubled per attempt, capped at 30 s.
    monkeypatch.setattr(backoff._jitter.random, "uniform", lambda low, high: high)
    waits = _waits_for(6, monkeypatch, retry_max_attempts=7, retry_base_seconds=5.0)
    assert waits == [5.0, 10.0, 20.0, 30.0, 30.0, 30.0]


def test_retry_waits_are_jittered_below_their_ceiling(monkeypatch):
    # Retries of many loaders must not arrive together: each wait is a different fraction of
    # its ceiling, never above it.
    random.seed(20261201)
    waits = _waits_for(6, monkeypatch, retry_max_attempts=7, retry_base_seconds=5.0)
    fractions = [
        wait / ceiling for wait, ceiling in zip(waits, [5, 10, 20, 30, 30, 30], strict=True)
    ]
    assert all(0 <= fraction < 1 for fraction in fractions)
    assert len({round(fraction, 6) for fraction in fractions}) == len(fractions)


def test_retries_stop_after_the_configured_attempts(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(backoff._sync.time, "sleep", waits.append)
    failures: list[Exception] = [sf_errors.ServiceUnavailableError(msg="503") for _ in range(9)]
    connection = _connection_with(failures, monkeypatch, retry_max_attempts=3)

    with pytest.raises(sf_errors.ServiceUnavailableError):
        connection.execute("SELECT 42")
    assert len(waits) == 2
    assert len(failures) == 6  # three attempts were made, no more
