"""A local Snowflake SQL API server in front of the emulator (dev tooling, never shipped).

`SqlApiServer(...).running()` serves it from a thread of this process;
`python -m archive_devkit.sql_api_server --emulator-port P --port Q --account A --user U
--public-key FILE` as a process (the demo). What it does not emulate is listed in the target's
README.
"""

from __future__ import annotations

from archive_devkit.sql_api_server.jwt_check import TokenChecker, TokenRefused, fingerprint
from archive_devkit.sql_api_server.server import Fault, Request, SqlApiServer

__all__ = ["Fault", "Request", "SqlApiServer", "TokenChecker", "TokenRefused", "fingerprint"]
