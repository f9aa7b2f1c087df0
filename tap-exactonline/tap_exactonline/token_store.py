"""Encrypted, crash-safe persistence of Exact Online OAuth tokens.

Exact rotates the refresh token on every refresh and refuses a used one, so the newest refresh
token is the only key to the account: losing it means a user has to log in again. The store is
a JSON file whose secrets are Fernet-encrypted and whose metadata (region, client id, divisions,
timestamps) stays readable without the key. Writers hold an exclusive ``flock`` on a sibling
lock file and replace the file atomically (temporary file, fsync, rename), so a crash leaves
either the old or the new file, never a torn one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken

if TYPE_CHECKING:
    from collections.abc import Iterator

STORE_FORMAT = 1


class TokenStoreError(Exception):
    """The token store cannot be read or written (bad key, corrupt file, permissions)."""


def fingerprint(secret: str) -> str:
    """Return a short, non-reversible fingerprint of a secret, safe to store in clear.

    Args:
        secret: A refresh token or other high-entropy secret.

    Returns:
        The first 16 hex digits of its SHA-256.
    """
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@dataclass
class TokenMetadata:
    """Facts about the stored tokens that are safe to show (no secrets)."""

    region: str | None = None
    client_id: str | None = None
    divisions: list[int] = field(default_factory=list)
    access_token_issued_at: float | None = None
    access_token_expires_at: float | None = None
    refresh_token_issued_at: float | None = None
    refresh_count: int = 0
    consumed_seeds: list[str] = field(default_factory=list)
    updated_at: float | None = None


@dataclass
class TokenRecord:
    """The tokens of one authorization chain plus their metadata."""

    refresh_token: str
    access_token: str | None = None
    metadata: TokenMetadata = field(default_factory=TokenMetadata)

    def access_token_seconds_left(self, now: float | None = None) -> float:
        """Return the seconds until the access token expires (negative when expired).

        Args:
            now: The current epoch time; defaults to ``time.time()``.

        Returns:
            Seconds left, or ``-inf`` when no access token is stored.
        """
        expires_at = self.metadata.access_token_expires_at
        if not self.access_token or expires_at is None:
            return float("-inf")
        return expires_at - (time.time() if now is None else now)


class TokenStore:
    """A Fernet-encrypted token file guarded by an exclusive lock file."""

    def __init__(self, path: str | os.PathLike[str], key: str) -> None:
        """Open (not create) the store at ``path``.

        Args:
            path: The token file; its directory is created on first write.
            key: A Fernet key (urlsafe base64 of 32 bytes), e.g. ``Fernet.generate_key()``.

        Raises:
            TokenStoreError: If the key is not a valid Fernet key.
        """
        self.path = Path(path).expanduser()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError) as exc:
            msg = "token_store_key is not a valid Fernet key (32 url-safe base64 bytes)"
            raise TokenStoreError(msg) from exc

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's exclusive lock (blocking) for the duration of the block.

        Yields:
            Nothing; the lock is released on exit, also on exceptions.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def read_metadata(self) -> TokenMetadata | None:
        """Read only the clear-text metadata (no key needed to interpret it).

        Returns:
            The metadata, or None if the store does not exist yet.
        """
        document = self._read_document()
        if document is None:
            return None
        return _metadata_from_dict(document.get("metadata", {}))

    def read(self) -> TokenRecord | None:
        """Read and decrypt the tokens.

        Returns:
            The stored record, or None if the store does not exist yet.

        Raises:
            TokenStoreError: If the file cannot be decrypted with this key or is corrupt.
        """
        document = self._read_document()
        if document is None:
            return None
        try:
            secrets = json.loads(self._fernet.decrypt(document["secrets"].encode()))
        except InvalidToken as exc:
            msg = f"token store {self.path} cannot be decrypted with token_store_key"
            raise TokenStoreError(msg) from exc
        except (KeyError, ValueError, AttributeError) as exc:
            msg = f"token store {self.path} is corrupt"
            raise TokenStoreError(msg) from exc
        return TokenRecord(
            refresh_token=secrets["refresh_token"],
            access_token=secrets.get("access_token"),
            metadata=_metadata_from_dict(document.get("metadata", {})),
        )

    def write(self, record: TokenRecord) -> None:
        """Atomically replace the store with ``record`` (call while holding :meth:`locked`).

        The new file is written to a temporary file in the same directory with mode 0600,
        flushed and fsynced, renamed over the old one, and the directory is fsynced, so the
        rename itself survives a power loss.

        Args:
            record: The tokens and metadata to persist.
        """
        record.metadata.updated_at = time.time()
        secrets = {"refresh_token": record.refresh_token, "access_token": record.access_token}
        document = {
            "format": STORE_FORMAT,
            "metadata": asdict(record.metadata),
            "secrets": self._fernet.encrypt(json.dumps(secrets).encode()).decode(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp_name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp_name).replace(self.path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _read_document(self) -> dict[str, Any] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            document = json.loads(text)
        except ValueError as exc:
            msg = f"token store {self.path} is not valid JSON"
            raise TokenStoreError(msg) from exc
        if not isinstance(document, dict) or document.get("format") != STORE_FORMAT:
            msg = f"token store {self.path} has an unknown format"
            raise TokenStoreError(msg)
        return document


def _metadata_from_dict(raw: dict[str, Any]) -> TokenMetadata:
    known = TokenMetadata.__dataclass_fields__
    return TokenMetadata(**{k: v for k, v in raw.items() if k in known})
