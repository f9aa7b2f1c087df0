"""The tap against real Exact Online responses recorded in public sources.

`conformance/` holds responses Exact's servers produced, recorded in client libraries' test
data, Exact's documentation and issue threads (each file's `.meta.json` and `SOURCES.md` name
the source and licence). A fixture server on loopback serves them byte for byte; the only
change is the scheme and host of a recorded `__next` link, which points at Exact's real host
and is rewritten to the fixture server. Expected values are computed here with zoneinfo and
Decimal from the recorded text, never with the tap's own conversions.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet
from singer_sdk.exceptions import FatalAPIError
from tap_exactonline.auth import AuthenticationError, ExactAuthenticator, TokenEndpoint
from tap_exactonline.tap import TapExactOnline
from tap_exactonline.token_store import TokenMetadata, TokenRecord, TokenStore

CORPUS = Path(__file__).parent / "conformance"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
RECORDED_HOST = "https://start.exactonline.nl"


@dataclass
class Recorded:
    """One recorded response: status, headers and the body file's bytes."""

    name: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def body(self) -> bytes:
        return (CORPUS / f"{self.name}.json").read_bytes()

    @classmethod
    def load(cls, name: str) -> Recorded:
        meta = json.loads((CORPUS / f"{name}.meta.json").read_text())
        headers = {
            key: value
            for key, value in meta.get("headers", {}).items()
            if "(assumed)" not in value  # the recorder's own note, not a recorded header
        }
        return cls(name, int(meta.get("status", 200)), headers)


class FixtureServer:
    """Serves recorded responses in order per path; records every request it answered."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Recorded]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        #: What the `Date` header says (epoch seconds); None: the real time.
        self.now: float | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.answer(self, "GET")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                server.answer(self, "POST")

            def log_message(self, *args: Any) -> None:
                pass

            def date_time_string(self, timestamp: float | None = None) -> str:
                return super().date_time_string(server.now if timestamp is None else timestamp)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str, *responses: Recorded) -> None:
        self.routes.setdefault(path, []).extend(responses)

    def answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        target = unquote(handler.path)
        self.requests.append((method, target, dict(handler.headers)))
        queue = self.routes.get(urlsplit(target).path)
        if not queue:
            handler.send_response(404)
            handler.end_headers()
            return
        recorded = queue.pop(0) if len(queue) > 1 else queue[0]
        # Byte for byte, except the recorded __next host, which would reach Exact itself.
        body = recorded.body.replace(RECORDED_HOST.encode(), self.base_url.encode())
        handler.send_response(recorded.status)
        for key, value in recorded.headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fixture_server() -> Iterator[FixtureServer]:
    server = FixtureServer()
    yield server
    server.close()


def recorded_rows(name: str) -> list[dict[str, Any]]:
    """The rows of a recorded page, decoded independently (amounts as Decimal)."""
    body = json.loads((CORPUS / f"{name}.json").read_text(), parse_float=Decimal)["d"]
    return list(body["results"])


def wall_clock(value: str) -> datetime:
    """Exact's /Date(ms)/: the Amsterdam wall clock, read as if it were UTC."""
    milliseconds = int(re.fullmatch(r"/Date\((-?\d+)\)/", value).group(1))  # type: ignore[union-attr]
    return datetime(1970, 1, 1) + timedelta(milliseconds=milliseconds)


def tap_for(server: FixtureServer, tmp_path: Path, **config: Any) -> TapExactOnline:
    settings = {
        "base_url": server.base_url,
        "client_id": "recorded-client",
        "client_secret": "recorded-secret",
        "refresh_token": "recorded-refresh",
        "token_store_path": str(tmp_path / "tokens.json"),
        "token_store_key": Fernet.generate_key().decode(),
        "retry_backoff_factor": 0.01,
        "request_timeout": 10,
        **config,
    }
    return TapExactOnline(config=settings)


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def authenticator(
    server: FixtureServer, tmp_path: Path, clock: Callable[[], float], record: TokenRecord | None
) -> ExactAuthenticator:
    store = TokenStore(str(tmp_path / "tokens.json"), Fernet.generate_key().decode())
    if record is not None:
        store.write(record)
    return ExactAuthenticator(
        token_endpoint=TokenEndpoint(server.base_url, "recorded-client", "recorded-secret"),
        store=store,
        region="nl",
        client_id="recorded-client",
        seed_refresh_token="recorded-refresh",
        clock=clock,
        sleep=lambda _seconds: None,
    )


def test_a_recorded_token_response_with_a_string_expires_in_lasts_600_seconds(
    fixture_server, tmp_path
):
    fixture_server.serve("/api/oauth2/token", Recorded.load("token_ok_ossobv_comment"))
    clock = FakeClock(1_700_000_000.0)
    auth = authenticator(fixture_server, tmp_path, clock, None)
    auth.update_access_token()
    recorded = json.loads((CORPUS / "token_ok_ossobv_comment.json").read_text())
    assert recorded["expires_in"] == "600"  # a string, as Exact sends it
    assert auth.access_token == recorded["access_token"]
    assert auth.is_token_valid()
    clock.now += 600 - 4  # inside the last seconds of its 600 s life: no longer used
    assert not auth.is_token_valid()
    stored = auth._store.read()
    assert stored is not None
    assert stored.refresh_token == recorded["refresh_token"]


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("token_err_refresh_expired", "The refresh token expired at"),
        ("token_err_invalid_grant_chainid", "invalid or empty chainId"),
    ],
)
def test_a_recorded_dead_refresh_token_asks_the_user_to_authorize_again(
    fixture_server, tmp_path, name, said
):
    fixture_server.serve("/api/oauth2/token", Recorded.load(name))
    stale = TokenRecord(refresh_token="recorded-refresh", metadata=TokenMetadata(region="nl"))
    auth = authenticator(fixture_server, tmp_path, FakeClock(1_700_000_000.0), stale)
    with pytest.raises(AuthenticationError) as refused:
        auth.update_access_token()
    message = str(refused.value)
    assert said in message
    assert "tap-exactonline auth" in message
    assert "recorded-secret" not in message
    assert "recorded-refresh" not in message


def test_a_recorded_too_early_refusal_keeps_the_current_access_token(fixture_server, tmp_path):
    fixture_server.serve("/api/oauth2/token", Recorded.load("token_err_access_token_not_expired"))
    clock = FakeClock(1_700_000_000.0)
    held = TokenRecord(
        refresh_token="recorded-refresh",
        access_token="current-access",
        metadata=TokenMetadata(
            region="nl",
            access_token_issued_at=clock.now - 575,
            access_token_expires_at=clock.now + 25,
        ),
    )
    auth = authenticator(fixture_server, tmp_path, clock, held)
    auth.update_access_token()
    assert auth.access_token == "current-access"


@pytest.mark.parametrize(
    ("name", "division"),
    [("me_full_elmas_spec", 797636), ("me_select_currentdivision_docs", 7095)],
)
def test_the_current_division_comes_from_a_recorded_current_me(
    fixture_server, tmp_path, name, division
):
    fixture_server.serve("/api/oauth2/token", Recorded.load("token_ok_ossobv_comment"))
    fixture_server.serve("/api/v1/current/Me", Recorded.load(name))
    tap = tap_for(fixture_server, tmp_path)
    assert tap.current_division == division
    method, path, headers = fixture_server.requests[-1]
    assert (method, path) == ("GET", "/api/v1/current/Me?$select=CurrentDivision")
    assert headers["Accept"] == "application/json"  # without it Exact answers Atom XML


def test_recorded_standard_pages_are_followed_through_their_next_link(fixture_server, tmp_path):
    fixture_server.serve("/api/oauth2/token", Recorded.load("token_ok_ossobv_comment"))
    path = "/api/v1/499156/financial/GLAccounts"
    fixture_server.serve(path, Recorded.load("std_glaccounts_page_next"))
    fixture_server.serve(path, Recorded.load("std_accounts_page"))
    client = tap_for(fixture_server, tmp_path).client
    rows = list(client.rows(f"{fixture_server.base_url}{path}", {"$select": "ID,Code"}, 499156))
    expected = recorded_rows("std_glaccounts_page_next") + recorded_rows("std_accounts_page")
    assert [row["ID"] for row in rows] == [row["ID"] for row in expected]
    pages = [request for request in fixture_server.requests if request[1].startswith(path)]
    # The second request is the recorded __next link itself (percent-decoded), query and all.
    assert pages[1][1] == f"{path}?$skiptoken=guid'39849964-a616-4847-8907-ddfad99ff4aa'"


def test_a_recorded_empty_page_with_a_next_link_does_not_end_paging(fixture_server, tmp_path):
    fixture_server.serve("/api/oauth2/token", Recorded.load("token_ok_ossobv_comment"))
    # Exact's documentation shows an __next with an Int64 skiptoken ("493115L").
    path = "/api/v1/{division}/financial/ReportingBalance"
    fixture_server.serve(path, Recorded.load("docs_reportingbalance_next_int64_skiptoken"))
    fixture_server.serve(path, Recorded.load("std_accounts_page"))
    client = tap_for(fixture_server, tmp_path).client
    params = {"$select": "GLAccountCode,Amount"}
    rows = list(client.rows(f"{fixture_server.base_url}{path}", params, None))
    assert len(rows) == 1
    assert fixture_server.requests[-1][1] == (
        f"{path}?$select=GLAccountCode,Amount&$skiptoken=493115L"
    )


def shape_recorded(tmp_path: Path, server: FixtureServer, stream: str, name: str) -> list[Any]:
    tap = tap_for(server, tmp_path)
    rows = recorded_rows(name)
    # Decoded as the tap decodes pages: non-integers as Decimal, never through a float.
    raw = json.loads((CORPUS / f"{name}.json").read_text(), parse_float=Decimal)["d"]["results"]
    for row in raw:
        tap.streams[stream].shaper.shape(row, division=row.get("Division"), path="/recorded")
    return list(zip(rows, raw, strict=True))


def test_recorded_sales_invoices_keep_their_dates_amounts_and_codes(fixture_server, tmp_path):
    (independent, shaped), *_ = shape_recorded(
        tmp_path, fixture_server, "sales_invoices", "std_salesinvoices_expanded_lines"
    )
    for name in ("InvoiceDate", "DueDate", "OrderDate"):
        # A calendar date: Amsterdam midnight of its own day.
        assert shaped[name] == wall_clock(independent[name]).date().isoformat() == "2012-10-26"
    for name in ("Created", "Modified"):
        local = wall_clock(independent[name]).replace(tzinfo=AMSTERDAM)
        assert shaped[name] == local.astimezone(UTC).isoformat()
    assert shaped["AmountDC"] == Decimal(independent["AmountDC"]) == Decimal(9075)
    assert type(shaped["AmountDC"]) is int  # a whole amount arrives as a JSON integer
    lines = shaped["SalesInvoiceLines"]["results"]
    assert {line["VATCode"] for line in lines} == {"02 "}  # padded, kept verbatim


def test_recorded_accounts_and_items_keep_padded_codes_verbatim(fixture_server, tmp_path):
    ((independent, shaped),) = shape_recorded(
        tmp_path, fixture_server, "customers", "std_accounts_page"
    )
    assert shaped["Code"] == independent["Code"] == "                 8"
    assert shaped["Country"] == "NL "
    start = wall_clock(independent["StartDate"])
    assert shaped["StartDate"] == start.date().isoformat()
    for independent_item, item in shape_recorded(
        tmp_path, fixture_server, "items", "std_items_be_picqer"
    ):
        assert item["Unit"] == independent_item["Unit"]
        assert item["CostPriceStandard"] == independent_item["CostPriceStandard"]


def test_a_recorded_empty_429_waits_for_the_recorded_minutely_reset(fixture_server, tmp_path):
    fixture_server.serve("/api/oauth2/token", Recorded.load("token_ok_ossobv_comment"))
    path = "/api/v1/499156/financial/GLAccounts"
    limited = Recorded.load("err429_minutely_empty")
    assert limited.body == b""
    fixture_server.serve(path, limited, Recorded.load("std_accounts_page"))
    tap = tap_for(fixture_server, tmp_path)
    reset_ms = int(limited.headers["X-RateLimit-Minutely-Reset"])
    clock = FakeClock(reset_ms / 1000 - 12.0)
    fixture_server.now = clock.now  # the Date header agrees with the recorded reset
    tap.rate_limiter.clock = clock
    tap.rate_limiter.sleep = clock.sleep
    rows = list(tap.client.rows(f"{fixture_server.base_url}{path}", {}, 499156))
    assert len(rows) == 1
    # It slept until the recorded reset (plus a quarter second), not a fixed backoff.
    assert clock.slept
    assert clock.slept[0] == pytest.approx(12.25, abs=0.01)


def test_a_recorded_400_reports_exacts_own_words_and_the_path(fixture_server, tmp_path):
    fixture_server.serve("/api/oauth2/token", Recorded.load("token_ok_ossobv_comment"))
    path = "/api/v1/499156/crm/Accounts"
    fixture_server.serve(path, Recorded.load("err400_odata_bad_guid_literal_elmas"))
    client = tap_for(fixture_server, tmp_path).client
    with pytest.raises(FatalAPIError) as refused:
        list(client.rows(f"{fixture_server.base_url}{path}", {"$filter": "ID eq guid'x'"}, 499156))
    message = str(refused.value)
    assert "Unrecognized 'Edm.Guid' literal 'guid'dsadsds'' in '6'." in message
    assert path in message
    assert "$filter" not in message
    calls = [r for r in fixture_server.requests if r[1].startswith(path)]
    assert len(calls) == 1, "a 400 is never retried (Exact blocks after 10 errors an hour)"
