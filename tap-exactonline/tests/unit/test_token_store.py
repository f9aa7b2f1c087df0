"""The encrypted token store: private, atomic, locked, and readable metadata without secrets."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pytest
from archive_devkit.tap_runs import TAP_BIN, write_json
from cryptography.fernet import Fernet
from tap_exactonline.token_store import (
    TokenMetadata,
    TokenRecord,
    TokenStore,
    TokenStoreError,
)


@pytest.fixture
def key() -> str:
    return Fernet.generate_key().decode()


def _record(refresh: str = "rt-secret-value", access: str = "at-secret-value") -> TokenRecord:
    return TokenRecord(
        refresh_token=refresh,
        access_token=access,
        metadata=TokenMetadata(region="nl", client_id="client-1", divisions=[100101]),
    )


def test_store_is_encrypted_private_and_metadata_is_readable_without_secrets(tmp_path, key):
    store = TokenStore(tmp_path / "tokens.json", key)
    with store.locked():
        store.write(_record())
    raw = (tmp_path / "tokens.json").read_bytes()
    assert b"rt-secret-value" not in raw
    assert b"at-secret-value" not in raw
    assert stat.S_IMODE(os.stat(tmp_path / "tokens.json").st_mode) == 0o600
    metadata = TokenStore(tmp_path / "tokens.json", Fernet.generate_key().decode()).read_metadata()
    assert metadata is not None
    assert metadata.region == "nl"
    assert metadata.divisions == [100101]
    record = store.read()
    assert record is not None
    assert record.refresh_token == "rt-secret-value"


def test_a_wrong_key_is_refused_with_a_clear_error(tmp_path, key):
    with TokenStore(tmp_path / "t.json", key).locked():
        TokenStore(tmp_path / "t.json", key).write(_record())
    with pytest.raises(TokenStoreError, match="cannot be decrypted"):
        TokenStore(tmp_path / "t.json", Fernet.generate_key().decode()).read()
    with pytest.raises(TokenStoreError, match="not a valid Fernet key"):
        TokenStore(tmp_path / "t.json", "not-a-key")


def test_rotated_refresh_token_survives_crash_during_write(tmp_path, key, monkeypatch):
    store = TokenStore(tmp_path / "tokens.json", key)
    store.write(_record(refresh="saved-token"))

    def crash(_fd: int) -> None:
        raise OSError("power loss")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="power loss"):
        store.write(_record(refresh="half-written-token"))
    monkeypatch.undo()
    record = store.read()
    assert record is not None
    assert record.refresh_token == "saved-token"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.json"]


HOLD_LOCK = """
import sys, time
from tap_exactonline.token_store import TokenStore
with TokenStore(sys.argv[1], sys.argv[2]).locked():
    print("locked", flush=True)
    time.sleep(1.0)
"""


def test_lock_is_exclusive_across_processes(tmp_path, key):
    path = str(tmp_path / "tokens.json")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, path, key], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with TokenStore(path, key).locked():
            waited = time.monotonic() - started
    finally:
        holder.wait(10)
    assert waited > 0.5


def test_auth_status_without_a_store_says_what_to_do(tmp_path):
    config = {"token_store_path": str(tmp_path / "none.json"), "token_store_key": "x" * 43 + "="}
    completed = subprocess.run(
        [TAP_BIN, "auth", "--status", "--config", write_json(tmp_path / "c.json", config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert "tap-exactonline auth" in completed.stdout
