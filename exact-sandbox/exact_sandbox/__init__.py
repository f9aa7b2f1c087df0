"""A faithful local emulator of the Exact Online REST API.

`SandboxServer` is imported lazily so that reading the catalog (`exact_sandbox.catalog`) does
not pull in the web server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exact_sandbox.server import SandboxServer

__all__ = ["SandboxServer"]


def __getattr__(name: str) -> Any:
    """Resolve `SandboxServer` on first use."""
    if name == "SandboxServer":
        from exact_sandbox.server import SandboxServer  # noqa: PLC0415 - lazy by design

        return SandboxServer
    raise AttributeError(f"module 'exact_sandbox' has no attribute {name!r}")
