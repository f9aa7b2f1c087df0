"""HTTP routes speaking Exact Online's REST API (paths, OAuth, OData, limits, faults).

Order of checks on a division call, as a client sees Exact: fault injection, bearer token
(401), client block after too many errors (403), rate limits (429), division access (403),
endpoint (404), query validation (400), then the page. Rate-limit headers go on every division
response except a minutely 429, which carries only the minutely ones.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from exact_sandbox.admin import admin_routes
from exact_sandbox.catalog import (
    DELETED,
    DIVISIONS,
    HRM_DIVISIONS,
    ME,
    SALES_INVOICE_LINES,
    SALES_INVOICES,
    SALES_ORDER_LINES,
    SALES_ORDERS,
    SYNC_TIMESTAMP,
    TRANSACTION_LINES,
    Entity,
    Kind,
    endpoint_table,
)
from exact_sandbox.clock import months_before, parse_wall_datetime, wall_ms, wall_ms_from_epoch
from exact_sandbox.faults import FaultRule
from exact_sandbox.oauth import OAuthError
from exact_sandbox.odata import (
    ODataError,
    PageRequest,
    atom_feed,
    atom_single,
    error_json,
    error_xml,
    fetch_page,
    json_page,
    json_results,
    next_link,
    parse_options,
    selected_fields,
)
from exact_sandbox.sandbox import Sandbox
from exact_sandbox.store import json_value, quote

JSON_TYPE = "application/json; charset=utf-8"
ATOM_TYPE = "application/atom+xml;type=feed;charset=utf-8"
DELETED_RETENTION_MONTHS = 2
# SyncTimestamp endPoint values the sandbox serves (Exact also lists non-emulated ones).
SYNC_TIMESTAMP_SOURCES: dict[str, tuple[Entity, ...]] = {
    "transactionlines": (TRANSACTION_LINES,),
    "salesinvoices": (SALES_INVOICES, SALES_INVOICE_LINES),
    "salesorderheaders": (SALES_ORDERS,),
    "salesorderlines": (SALES_ORDER_LINES,),
}
ENDPOINT_KINDS = {"bulk": Kind.BULK, "sync": Kind.SYNC}


class DroppedConnectionError(Exception):
    """Raised after sending part of a response so the server drops the connection."""


def wants_json(request: Request) -> bool:
    """Exact answers JSON only when asked; Atom XML is the default."""
    return "application/json" in request.headers.get("accept", "").lower()


def exact_error(request: Request, status: int, message: str, headers: dict[str, str]) -> Response:
    """An error in Exact's shape, JSON or XML following the Accept header."""
    if wants_json(request):
        return Response(error_json(message), status, headers, media_type=JSON_TYPE)
    return Response(error_xml(message), status, headers, media_type="application/xml")


class ExactRoutes:
    """Handlers for the Exact paths of one sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        """Index the endpoint table once."""
        self.sandbox = sandbox
        self.endpoints = endpoint_table()

    # -- OAuth --------------------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        """`GET /api/oauth2/auth`: auto-consent and redirect with `code` and `state`."""
        try:
            location = self.sandbox.oauth.authorize(dict(request.query_params))
        except OAuthError as error:
            return JSONResponse(error.body, error.status)
        return RedirectResponse(location, status_code=302)

    async def token(self, request: Request) -> Response:
        """`POST /api/oauth2/token` (form encoded)."""
        self.sandbox.stats.token_calls += 1
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        basic = parse_basic(request.headers.get("authorization"))
        try:
            answer = self.sandbox.oauth.token(form, basic)
        except OAuthError as error:
            self.sandbox.stats.record_status(error.status)
            return JSONResponse(error.body, error.status, error.headers)
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    # -- current/Me ---------------------------------------------------------------------------

    async def me(self, request: Request) -> Response:
        """`GET /api/v1/current/Me`: not counted against rate limits (no division in the URL).

        Honours `$select` like any collection (Exact's FAQ shows
        `current/Me?$select=CurrentDivision` answering only that field).
        """
        try:
            self.sandbox.oauth.authenticate(request.headers.get("authorization"))
        except OAuthError as error:
            self.sandbox.stats.record_status(error.status)
            return exact_error(request, error.status, str(error), error.headers)
        try:
            options = parse_options(list(request.query_params.multi_items()))
            fields = selected_fields(ME, Kind.STANDARD, options.select)
        except ODataError as error:
            return exact_error(request, error.status, error.message, {})
        row = self.me_row()
        if not wants_json(request):
            return Response(atom_single(ME, fields, row), media_type=ATOM_TYPE)
        origin = str(request.base_url).rstrip("/")
        json_row: dict[str, Any] = {
            "__metadata": {
                "uri": f"{origin}/api/v1/current/Me(guid'{self.sandbox.user_id}')",
                "type": ME.metadata_type,
            },
        }
        for found in fields:
            json_row[found.name] = json_value(
                found, row[found.name], int64_as_string=self.sandbox.store.int64_as_string
            )
        return Response(json_results([json_row]), media_type=JSON_TYPE)

    def me_row(self) -> dict[str, Any]:
        """Every documented field of the sandbox user (Exact's page lists 39)."""
        sandbox = self.sandbox
        now = sandbox.clock.now()
        first = sandbox.granted[0]
        row: dict[str, Any] = dict.fromkeys(f.name for f in ME.fields)
        row.update(
            {
                "UserID": sandbox.user_id,
                "AccountingDivision": first,
                "CurrentDivision": first,
                "Email": "sandbox.user@example.com",
                "FirstName": "Sandbox",
                "FullName": "Sandbox User",
                "Initials": "S.",
                "IsClientUser": False,
                "IsEmployeeSelfServiceUser": False,
                "IsMyFirmLiteUser": False,
                "IsMyFirmPortalUser": False,
                "IsOEIMigrationMandatory": False,
                "IsStarterUser": False,
                "Language": "EN",
                "LanguageCode": "en-GB",
                "LastName": "User",
                # Edm.Int64; Exact's own SDK test data shows "Legislation": "1" (NL).
                "Legislation": 1,
                "PackageCode": "SANDBOX",
                # Documented as Edm.String; served as Exact's /Date(ms)/ text (UNCONFIRMED).
                "ServerTime": f"/Date({wall_ms_from_epoch(now)})/",
                "ServerUtcOffset": (wall_ms_from_epoch(now) / 1000 - now) / 3600,
                "UserName": "sandbox.user",
            }
        )
        return row

    # -- division calls -------------------------------------------------------------------------

    async def division_call(self, request: Request) -> Response:
        """`/api/v1/{division}/...`: every check in Exact's order, then the page."""
        sandbox = self.sandbox
        division_text = request.path_params["division"]
        path = request.path_params["path"]
        endpoint = path.rstrip("/")
        try:
            access = sandbox.oauth.authenticate(request.headers.get("authorization"))
        except OAuthError as error:
            sandbox.stats.record_status(error.status)
            if error.client_id and division_text.isdigit():
                sandbox.limiter.record_error(
                    error.client_id, int(division_text), endpoint.lower(), error.status
                )
            return exact_error(request, error.status, str(error), error.headers)
        client_id = access.client_id
        blocked = sandbox.limiter.blocked_until(client_id)
        if blocked is not None:
            sandbox.stats.record_status(403)
            return exact_error(
                request,
                403,
                "Too many errors: the API key is blocked for one hour.",
                {"Reason": "TooManyErrors", "Retry-After": str(int(blocked - sandbox.clock.now()))},
            )
        division = int(division_text) if division_text.isdigit() else -1
        decision = sandbox.limiter.check(client_id, division)
        headers = decision.headers
        if not decision.allowed:
            sandbox.stats.record_status(429)
            return Response(b"", 429, headers)  # Exact: 429 with an empty body
        sandbox.stats.record_call(division, endpoint)
        response = self.serve(request, division, endpoint, headers)
        sandbox.stats.record_status(response.status_code)
        sandbox.limiter.record_error(client_id, division, endpoint.lower(), response.status_code)
        return response

    def serve(
        self, request: Request, division: int, endpoint: str, headers: dict[str, str]
    ) -> Response:
        """Route an authorised, counted call to its entity and serve it."""
        if not self.sandbox.divisions.get(division):
            # Exact: 403 Forbidden with Reason NoDivisionAccess for a division not granted.
            return exact_error(request, 403, "Forbidden", {**headers, "Reason": "NoDivisionAccess"})
        count_only = endpoint.endswith("/$count")
        route = endpoint[: -len("/$count")] if count_only else endpoint
        kind = ENDPOINT_KINDS.get(route.split("/", 1)[0].lower(), Kind.STANDARD)
        entity = self.endpoints.get((kind, route.lower()))
        if entity is None:
            return exact_error(
                request, 404, f"Resource not found for the segment '{route}'.", headers
            )
        try:
            options = parse_options(list(request.query_params.multi_items()))
            if entity is SYNC_TIMESTAMP:
                return self.sync_timestamp(request, division, options.other, headers)
            return self.page(
                request=request,
                entity=entity,
                kind=kind,
                division=division,
                route=route,
                options=options,
                headers=headers,
                count_only=count_only,
            )
        except ODataError as error:
            return exact_error(request, error.status, error.message, headers)

    def page(
        self,
        *,
        request: Request,
        entity: Entity,
        kind: Kind,
        division: int,
        route: str,
        options: Any,
        headers: dict[str, str],
        count_only: bool,
    ) -> Response:
        """One page of a collection, or its `$count`."""
        sandbox = self.sandbox
        origin = str(request.base_url).rstrip("/")
        canonical = entity.path_for(kind) or route
        extra: list[tuple[str, list[Any]]] = []
        if entity is DELETED:
            # Exact keeps the delete log for two months only.
            cutoff = months_before(sandbox.clock.now_utc(), DELETED_RETENTION_MONTHS)
            extra.append((f"{quote('DeletedDate')} >= ?", [wall_ms(cutoff)]))
        page_request = PageRequest(
            entity=entity,
            kind=kind,
            division=division,
            options=options,
            source_sql=sandbox.store.source_sql(entity, kind),
            uri_prefix=f"{origin}/api/v1/{division}/{canonical}",
            # Both division lists answer every division the user may access.
            division_filter=entity not in (DIVISIONS, HRM_DIVISIONS),
            fragment_fields=self.fragment_fields(entity, kind),
            extra_conditions=extra,
            int64_as_string=sandbox.store.int64_as_string,
            drift=sandbox.drift.get(canonical.lower()),
        )
        if count_only:
            options.inlinecount = True
            options.top = 0
            page = fetch_page(sandbox.store.query, page_request, as_json=True)
            return Response(str(page.count), headers=headers, media_type="text/plain")
        as_json = wants_json(request)
        page = fetch_page(sandbox.store.query, page_request, as_json=as_json)
        sandbox.stats.pages_served += 1
        sandbox.stats.rows_served += len(page.rows)
        if sandbox.served_log is not None:
            paging_values = [row[-1] for row in page.rows]
            sandbox.served_log.record_page(sandbox.store, entity, kind, division, paging_values)
        next_url = None
        if page.next_skiptoken is not None:
            next_url = next_link(
                f"{origin}{request.url.path}", options, page.next_skiptoken, page.next_top
            )
        if as_json:
            return Response(json_page(page, next_url), headers=headers, media_type=JSON_TYPE)
        updated = datetime.fromtimestamp(sandbox.clock.now(), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = atom_feed(
            entity,
            page=page,
            uri_prefix=page_request.uri_prefix,
            feed_url=str(request.url),
            next_url=next_url,
            updated=updated,
        )
        return Response(body, headers=headers, media_type=ATOM_TYPE)

    def fragment_fields(self, entity: Entity, kind: Kind) -> frozenset[str] | None:
        """The pre-serialised field set, when this endpoint reads the entity's own table."""
        if (entity is SALES_INVOICES and kind is Kind.SYNC) or entity.view_of is not None:
            return None  # the union feed and views are built on the fly
        return frozenset(f.name for f in self.sandbox.store.fragment_fields(entity))

    def sync_timestamp(
        self, request: Request, division: int, params: dict[str, str], headers: dict[str, str]
    ) -> Response:
        """`read/sync/Sync/SyncTimestamp?modified=datetime'...'&endPoint='TransactionLines'`."""
        modified_text = params.get("modified", "")
        endpoint_text = params.get("endPoint", "")
        if not modified_text.startswith("datetime'") or not endpoint_text.startswith("'"):
            raise ODataError(
                "The parameters modified (datetime'...') and endPoint ('...') are required."
            )
        try:
            modified_ms = parse_wall_datetime(modified_text[len("datetime'") : -1])
        except ValueError:
            raise ODataError(f"Unrecognized 'Edm.DateTime' literal '{modified_text}'.") from None
        name = endpoint_text.strip("'")
        sources = SYNC_TIMESTAMP_SOURCES.get(name.lower())
        if sources is None:
            raise ODataError(f"The endPoint '{name}' is not supported.")
        store = self.sandbox.store
        candidates = [
            store.query(
                f"SELECT MIN(Timestamp) FROM {quote(source.name)} WHERE Division = ?"  # noqa: S608 - identifiers from the catalog, values bound
                " AND Modified >= ?",
                [division, modified_ms],
            )[0][0]
            for source in sources
        ]
        found = [value for value in candidates if value is not None]
        if found:
            timestamp = min(found) - 1  # so that `Timestamp gt value` includes that first row
        else:
            timestamp = store.query(
                "SELECT last_timestamp FROM division_state WHERE Division = ?", [division]
            )[0][0]
        row = {"API": name, "Modified": modified_ms, "TimeStampAsBigInt": int(timestamp)}
        if not wants_json(request):
            body = atom_single(SYNC_TIMESTAMP, SYNC_TIMESTAMP.fields, row)
            return Response(body, headers=headers, media_type=ATOM_TYPE)
        origin = str(request.base_url).rstrip("/")
        json_row = {
            "__metadata": {
                "uri": f"{origin}/api/v1/{division}/read/sync/Sync/SyncTimestamp",
                "type": SYNC_TIMESTAMP.metadata_type,
            },
            "API": name,
            "Modified": f"/Date({modified_ms})/",
            "TimeStampAsBigInt": json_value(
                SYNC_TIMESTAMP.field("TimeStampAsBigInt"),
                int(timestamp),
                int64_as_string=self.sandbox.store.int64_as_string,
            ),
        }
        return Response(json_results([json_row]), headers=headers, media_type=JSON_TYPE)


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """Client credentials from an HTTP Basic header, if any."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


class FaultMiddleware:
    """Applies the fault injector to `/api/` calls before they reach the routes."""

    def __init__(
        self, app: Callable[[Scope, Receive, Send], Awaitable[None]], sandbox: Sandbox
    ) -> None:
        """Wrap `app`."""
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass through, or fail the call the way the chosen rule says."""
        if scope["type"] == "http":
            send = self.dated(send)
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        rule = self.sandbox.faults.pick(scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
            return
        self.sandbox.stats.faults_injected[rule.kind] += 1
        await self.inject(rule, scope, receive, send)

    def dated(self, send: Send) -> Send:
        """Add a `Date` header read from the sandbox clock to every response."""
        clock = self.sandbox.clock

        async def send_dated(message: Any) -> None:
            if message["type"] == "http.response.start":
                date = formatdate(clock.now(), usegmt=True).encode()
                message = {**message, "headers": [*message.get("headers", []), (b"date", date)]}
            await send(message)

        return send_dated

    async def inject(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        """Carry out one fault."""
        if rule.kind == "status":
            body = error_json(
                {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}[
                    rule.status
                ]
            )
            self.sandbox.stats.record_status(rule.status)
            await Response(body, rule.status, media_type=JSON_TYPE)(scope, receive, send)
            return
        if rule.kind == "slow":
            await asyncio.sleep(rule.delay_seconds)
            await self.app(scope, receive, send)
            return
        captured: dict[str, Any] = {"body": b""}

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                captured["start"] = message
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")

        await self.app(scope, receive, capture)
        start, full = captured["start"], captured["body"]
        cut = full[: max(1, len(full) // 2)]
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        if rule.kind == "truncate":
            # A complete HTTP response whose JSON body is cut short.
            headers.append((b"content-length", str(len(cut)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": cut})
            return
        headers.append((b"content-length", str(len(full)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": cut, "more_body": True})
        raise DroppedConnectionError("fault injection: connection dropped mid-response")


def build_app(sandbox: Sandbox) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The ASGI application of one sandbox."""
    routes = ExactRoutes(sandbox)
    starlette = Starlette(
        routes=[
            Route("/api/oauth2/auth", routes.authorize, methods=["GET"]),
            Route("/api/oauth2/token", routes.token, methods=["POST"]),
            Route("/api/v1/current/Me", routes.me, methods=["GET"]),
            Route("/api/v1/{division}/{path:path}", routes.division_call, methods=["GET"]),
            *admin_routes(sandbox),
        ],
    )
    return FaultMiddleware(starlette, sandbox)
