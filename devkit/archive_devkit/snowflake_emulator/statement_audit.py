"""Record every statement the target sends to the emulator (for the append-only audit).

fakesnow's login request carries the client's application name (the connector sends
`CLIENT_ENVIRONMENT.APPLICATION`); the target logs in as `target-snowflake-audit`. Statements of
those sessions are kept in memory (in-process servers) and appended to a file when one is given
(emulator processes), so tests can audit the target without counting their own SQL.
"""

from __future__ import annotations

import gzip
import json
import threading
from pathlib import Path
from typing import Any

from archive_devkit.append_only import TARGET_APPLICATION

_lock = threading.Lock()
_target_tokens: set[str] = set()
_statements: list[str] = []
_log_path: Path | None = None


def statements() -> list[str]:
    """Every statement the target sent to emulators of this process so far."""
    with _lock:
        return list(_statements)


def read_log(path: Path) -> list[str]:
    """The statements an emulator process appended to `path` (one JSON string per line)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def record_into(path: Path) -> None:
    """Also append each recorded statement to `path` (read it back with `read_log`)."""
    global _log_path  # noqa: PLW0603 - one log per emulator process
    _log_path = path


def _json_body(raw: bytes, headers: Any) -> dict[str, Any]:
    if headers.get("Content-Encoding") == "gzip":
        raw = gzip.decompress(raw)
    body: dict[str, Any] = json.loads(raw)
    return body


def _record(statement: str) -> None:
    with _lock:
        _statements.append(statement)
        if _log_path is not None:
            with _log_path.open("a") as log:
                log.write(json.dumps(statement) + "\n")


def install(server_module: Any) -> None:
    """Wrap fakesnow's login and query routes to note the target's sessions and statements."""
    from starlette.requests import Request  # noqa: PLC0415 - fakesnow's web framework
    from starlette.responses import Response  # noqa: PLC0415
    from starlette.routing import request_response  # noqa: PLC0415

    for route in server_module.app.routes:
        path = getattr(route, "path", "")
        if path == "/session/v1/login-request":
            login = route.endpoint

            async def noting_login(request: Request, login: Any = login) -> Response:
                body = _json_body(await request.body(), request.headers)
                response: Response = await login(request)
                environment = body.get("data", {}).get("CLIENT_ENVIRONMENT", {})
                if environment.get("APPLICATION") == TARGET_APPLICATION:
                    token = json.loads(bytes(response.body))["data"]["token"]
                    with _lock:
                        _target_tokens.add(token)
                return response

            route.app = request_response(noting_login)
        elif path == "/queries/v1/query-request":
            query = route.endpoint

            async def recording_query(request: Request, query: Any = query) -> Response:
                token = request.headers.get("Authorization", "")[17:-1]
                with _lock:
                    from_target = token in _target_tokens
                if from_target:
                    _record(str(_json_body(await request.body(), request.headers)["sqlText"]))
                response: Response = await query(request)
                return response

            route.app = request_response(recording_query)
