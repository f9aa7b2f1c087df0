"""The admin API under `/_sandbox/` (JSON in and out, no auth, loopback only) and its stats.

Tests use it to reconcile a warehouse against the source (`truth`, `calendar_dates`, and
`records` field by field), to check what a client did (`stats`, the opt-in `served` log of
record versions, `issued_tokens`), to change data the way Exact users would (`mutate`), to
inject faults, to move the virtual clock, to change rate limits and to get an independent
refresh-token chain.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from exact_sandbox.clock import ClockError, wall_ms_from_epoch
from exact_sandbox.faults import FaultError
from exact_sandbox.odata import Drift
from exact_sandbox.records import MAX_PAGE, granted_division, records_answer
from exact_sandbox.served_log import ServedLog
from exact_sandbox.store import MutationError, entity_named, storage_value

if TYPE_CHECKING:
    from exact_sandbox.sandbox import Sandbox

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class Stats:
    """Counts what the sandbox served: calls per endpoint and division, pages, errors."""

    def __init__(self) -> None:
        """Start at zero."""
        self.reset()

    def reset(self) -> None:
        """Back to zero (`DELETE /_sandbox/stats`)."""
        self.calls: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.pages_served = 0
        self.rows_served = 0
        self.responses_429 = 0
        self.errors: Counter[str] = Counter()
        self.faults_injected: Counter[str] = Counter()
        self.token_calls = 0

    def record_call(self, division: int, endpoint: str) -> None:
        """One call to a division endpoint."""
        self.calls[str(division)][endpoint] += 1

    def record_status(self, status: int) -> None:
        """Count error statuses (and 429s separately)."""
        if status == 429:
            self.responses_429 += 1
        elif status >= 400:
            self.errors[str(status)] += 1

    def snapshot(self) -> dict[str, Any]:
        """The `stats` answer."""
        return {
            "calls": {division: dict(calls) for division, calls in self.calls.items()},
            "pages_served": self.pages_served,
            "rows_served": self.rows_served,
            "responses_429": self.responses_429,
            "errors": dict(self.errors),
            "faults_injected": dict(self.faults_injected),
            "token_calls": self.token_calls,
        }


async def body(request: Request) -> dict[str, Any]:
    """The JSON object a request carries ({} for an empty body)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("the body must be a JSON object")
    return value


def admin_routes(sandbox: Sandbox) -> list[Route]:
    """The `/_sandbox/*` routes bound to one sandbox."""

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            host = request.client.host if request.client else ""
            if host not in LOOPBACK_HOSTS:
                return JSONResponse({"error": "the admin API answers loopback only"}, 403)
            try:
                answer = await handler(request)
            except (ValueError, MutationError, FaultError, ClockError) as error:
                return JSONResponse({"error": str(error)}, 400)
            return answer if isinstance(answer, Response) else JSONResponse(answer)

        return endpoint

    async def truth(request: Request) -> Any:
        return sandbox.store.truth()

    async def calendar_dates(request: Request) -> Any:
        return sandbox.store.calendar_dates()

    async def stats(request: Request) -> Any:
        if request.method == "DELETE":
            sandbox.stats.reset()
        return {**sandbox.stats.snapshot(), **sandbox.oauth.counters()}

    async def mutate(request: Request) -> Any:
        payload = await body(request)
        operations = payload.get("operations")
        if not isinstance(operations, list):
            raise ValueError('give {"operations": [...]}')
        now_ms = wall_ms_from_epoch(sandbox.clock.now())
        results = []
        for operation in operations:
            results.append(apply_operation(sandbox, operation, now_ms))
        return {"results": results}

    async def faults(request: Request) -> Any:
        if request.method == "DELETE":
            sandbox.faults.clear()
        elif request.method == "POST":
            sandbox.faults.configure(await body(request))
        return {"faults": sandbox.faults.describe(), "seed": sandbox.faults.seed}

    async def clock(request: Request) -> Any:
        if request.method == "POST":
            payload = await body(request)
            sandbox.clock.advance(float(payload.get("advance_seconds", 0)))
        now = sandbox.clock.now()
        return {
            "mode": sandbox.clock.mode,
            "epoch": now,
            "utc": sandbox.clock.now_utc().isoformat(),
            "exact_ms": wall_ms_from_epoch(now),
        }

    async def limits(request: Request) -> Any:
        current = sandbox.limiter.limits
        if request.method == "POST":
            payload = await body(request)
            current.minutely = int(payload.get("minutely", current.minutely))
            current.daily = int(payload.get("daily", current.daily))
            if payload.get("reset"):
                sandbox.limiter.reset()
            if payload.get("spend_minute"):
                sandbox.limiter.spend_current_minute()
        return {"minutely": current.minutely, "daily": current.daily}

    async def tokens(request: Request) -> Any:
        return {
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "refresh_token": sandbox.oauth.bootstrap_refresh_token(),
        }

    async def issued_tokens(request: Request) -> Any:
        return sandbox.oauth.issued_tokens()

    return [
        Route("/_sandbox/truth", guarded(truth), methods=["GET"]),
        Route("/_sandbox/records", guarded(records_handler(sandbox)), methods=["GET"]),
        Route(
            "/_sandbox/served", guarded(served_handler(sandbox)), methods=["GET", "POST", "DELETE"]
        ),
        Route("/_sandbox/issued_tokens", guarded(issued_tokens), methods=["GET"]),
        Route("/_sandbox/calendar_dates", guarded(calendar_dates), methods=["GET"]),
        Route("/_sandbox/stats", guarded(stats), methods=["GET", "DELETE"]),
        Route("/_sandbox/mutate", guarded(mutate), methods=["POST"]),
        Route("/_sandbox/faults", guarded(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/clock", guarded(clock), methods=["GET", "POST"]),
        Route("/_sandbox/limits", guarded(limits), methods=["GET", "POST"]),
        Route("/_sandbox/tokens", guarded(tokens), methods=["POST"]),
        Route(
            "/_sandbox/drift", guarded(drift_handler(sandbox)), methods=["GET", "POST", "DELETE"]
        ),
    ]


def records_handler(sandbox: Sandbox) -> Callable[[Request], Awaitable[Any]]:
    """`/_sandbox/records?division=D&entity=E[&after=KEY][&limit=N]`: canonical live records."""

    async def records(request: Request) -> Any:
        params = request.query_params
        division = granted_division(sandbox.divisions, params.get("division"))
        limit = int(params.get("limit", MAX_PAGE))
        entity = str(params.get("entity", ""))
        return records_answer(sandbox.store, entity, division, params.get("after"), limit)

    return records


def served_handler(sandbox: Sandbox) -> Callable[[Request], Awaitable[Any]]:
    """`/_sandbox/served`: the opt-in log of served record versions.

    POST `{"enabled": true, "run": "label"}` turns it on (or relabels the run), `{"enabled":
    false}` or DELETE turns it off and forgets it; GET answers a summary, or with
    `?division=D&entity=E` every version of that entity served (`entity=Deleted`: the served
    delete-log entries).
    """

    async def served(request: Request) -> Any:
        if request.method == "DELETE":
            sandbox.served_log = None
        elif request.method == "POST":
            payload = await body(request)
            if payload.get("enabled", True) is False:
                sandbox.served_log = None
            else:
                sandbox.served_log = sandbox.served_log or ServedLog()
                if "run" in payload:
                    sandbox.served_log.run = str(payload["run"])
        log = sandbox.served_log
        if log is None:
            return {"enabled": False}
        entity = request.query_params.get("entity")
        if request.method != "GET" or not entity:
            return log.summary()
        division = granted_division(sandbox.divisions, request.query_params.get("division"))
        return {**log.summary(), "served": log.versions(entity, division)}

    return served


def drift_handler(sandbox: Sandbox) -> Callable[[Request], Awaitable[Any]]:
    """`/_sandbox/drift`: make an endpoint serve a field Exact added, or drop one it removed."""

    async def drift(request: Request) -> Any:
        if request.method == "DELETE":
            sandbox.drift.clear()
        elif request.method == "POST":
            payload = await body(request)
            path = str(payload.get("endpoint", "")).lower()
            sandbox.drift[path] = Drift(
                added={str(k): str(v) for k, v in (payload.get("add") or {}).items()},
                removed=frozenset(str(name) for name in payload.get("remove") or ()),
            )
        return {
            "drift": {
                path: {"add": change.added, "remove": sorted(change.removed)}
                for path, change in sandbox.drift.items()
            }
        }

    return drift


def apply_operation(sandbox: Sandbox, operation: Any, now_ms: int) -> dict[str, Any]:
    """Apply one `mutate` operation and answer the affected row."""
    if not isinstance(operation, dict):
        raise MutationError("each operation is a JSON object")
    action = operation.get("action")
    division = int(operation.get("division", 0))
    if not sandbox.divisions.get(division):
        raise MutationError(f"division {division} is not a granted division of this sandbox")
    store = sandbox.store
    if action == "move_division":
        return store.move_division(division, now_ms)
    entity = entity_named(str(operation.get("entity", "")))
    fields = operation.get("fields") or {}
    if not isinstance(fields, dict):
        raise MutationError("fields must be an object")
    key = operation.get("id")
    if action == "create":
        if key is not None:
            fields = {**fields, entity.key: key}
        return store.create(entity, division, fields, now_ms)
    if key is None:
        raise MutationError(f"{action} needs the id of the row")
    key = storage_value(entity.field(entity.key), key)
    if action == "update":
        return store.update(entity, division, key, fields, now_ms)
    if action == "delete":
        return store.delete(entity, division, key, now_ms, sandbox.user_id)
    raise MutationError("action must be create, update, delete or move_division")
