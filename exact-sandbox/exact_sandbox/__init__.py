"""A faithful local emulator of the Exact Online REST API."""

from exact_sandbox.server import SandboxServer

__all__ = ["SandboxServer"]
