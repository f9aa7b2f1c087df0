"""HTTP to Exact Online: one request at a time, pages followed through ``d.__next``.

Everything about talking to Exact lives here, so streams stay declarations:

- requests are strictly serial per client: Exact warns that parallel paging loses or duplicates
  rows (the project's Exact reference, section 4). While the rows of one page are processed the
  request for the next is already in flight on a helper thread, never more than one at a time;
- ``X-RateLimit-*`` headers pace every call (``rate_limits.py``);
- 429, 5xx, timeouts, dropped connections and truncated bodies are retried with exponential
  backoff and full jitter; other 4xx fail at once with Exact's own error text (Exact blocks an
  app after 10 errors per endpoint per hour, so they are never retried in a loop); a TLS failure
  is not retried either;
- a 401 gets a refreshed token and one more try (at most twice, never with the same token);
- pages are decoded with non-integers as ``Decimal``, never through a binary float.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

import backoff
import msgspec
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_exactonline.rate_limits import DailyLimitReachedError, RateLimiter

if TYPE_CHECKING:
    from backoff.types import Details

    from tap_exactonline.auth import ExactAuthenticator

logger = logging.getLogger("tap-exactonline")

T = TypeVar("T")
Page = tuple[list[dict[str, Any]], str | None]
_DECODER = msgspec.json.Decoder(float_hook=Decimal)
#: A 401 is retried with a fresh token; twice covers a token that expired in flight twice.
MAX_UNAUTHORIZED_RETRIES = 2
#: Failures worth another try: the server or the network may do better next time.
RETRIABLE = (
    RetriableAPIError,
    ConnectionResetError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
#: Exact answers JSON only when asked; Atom XML is its default.
ACCEPT_JSON = {"Accept": "application/json"}


class ExactClient:
    """Reads Exact endpoints for every stream of one tap process (one client per process)."""

    def __init__(
        self,
        *,
        host: str,
        authenticator: ExactAuthenticator,
        rate_limiter: RateLimiter,
        user_agent: str,
        timeout: float = 300.0,
        max_tries: int = 8,
        backoff_factor: float = 1.0,
        session: requests.Session | None = None,
    ) -> None:
        """Create the client.

        Args:
            host: The Exact host of the region (or ``base_url``).
            authenticator: Gives the bearer token (refreshing it through the store).
            rate_limiter: Per-division pacing shared by every request.
            user_agent: The User-Agent header.
            timeout: Seconds per request.
            max_tries: Attempts per request for retriable failures.
            backoff_factor: First retry wait in seconds; doubles per attempt, capped at 120 s.
            session: A requests session to reuse (default: a new one).
        """
        self.host = host
        self.authenticator = authenticator
        self.rate_limiter = rate_limiter
        self.headers = {**ACCEPT_JSON, "User-Agent": user_agent}
        self.timeout = timeout
        self.max_tries = max_tries
        self.backoff_factor = backoff_factor
        self.session = session or requests.Session()

    def division_url(self, division: int, path: str) -> str:
        """Build ``{host}/api/v1/{division}/{path}``.

        Args:
            division: Division code.
            path: Service path, e.g. ``sync/Financial/TransactionLines``.

        Returns:
            The absolute URL.
        """
        return f"{self.host}/api/v1/{division}/{path}"

    def rows(
        self,
        url: str,
        params: Mapping[str, str],
        division: int | None,
        *,
        on_page: Callable[[], None] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield every row of every page, requesting the next page while rows are processed.

        Args:
            url: The first page's URL.
            params: Its query (``__next`` links carry theirs).
            division: The division charged for the calls (None: not counted, e.g. current/Me).
            on_page: Called once per page received (request metrics).

        Yields:
            Rows as Exact sends them (non-integers as ``Decimal``).

        Raises:
            RuntimeError: Exact handed out the same ``__next`` link twice (a paging loop).
        """
        fetch = self.with_retries(self.fetch_page)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="exact-page") as prefetcher:
            pending: Future[Page] | None = prefetcher.submit(fetch, url, params, division)
            current = url
            try:
                while pending is not None:
                    rows, next_url = pending.result()
                    if on_page is not None:
                        on_page()
                    pending = None
                    if next_url:
                        if next_url == current:
                            msg = "Loop detected in pagination: the same __next link twice"
                            raise RuntimeError(msg)
                        current = next_url
                        # __next already carries $select, $filter and $skiptoken.
                        pending = prefetcher.submit(fetch, next_url, {}, division)
                    yield from rows
            finally:
                if pending is not None:
                    pending.cancel()

    def fetch_page(self, url: str, params: Mapping[str, str], division: int | None) -> Page:
        """Make one request (pacing, a 401 refresh) and decode its page; no retries.

        Args:
            url: The page's URL.
            params: Its query.
            division: The division charged for the call (None: not counted).

        Returns:
            The page's rows and its ``__next`` link, if any.

        Raises:
            DailyLimitReachedError: Exact answered that the division's day is spent.
        """
        limiter = self.rate_limiter
        for attempt in range(1, MAX_UNAUTHORIZED_RETRIES + 2):
            limiter.before_request(division)
            request = requests.Request(
                "GET", url, params=dict(params), headers=self.headers, auth=self.authenticator
            )
            prepared = self.session.prepare_request(request)
            sent_token = self.authenticator.access_token
            response = self.session.send(prepared, timeout=self.timeout)
            limiter.observe(division, response)
            if response.status_code == 401 and attempt <= MAX_UNAUTHORIZED_RETRIES:
                # Retried only with a different token, so this cannot loop on a dead chain.
                logger.info("Access token refused (401); refreshing and retrying")
                if self.authenticator.handle_unauthorized(sent_token):
                    continue
            if division is not None and limiter.is_daily_limit_response(response):
                reset_at = limiter.limits(division).daily_reset_at
                raise DailyLimitReachedError(division, "Exact's daily API limit", reset_at)
            raise_for_status(response)
            return decode_page(response)
        msg = "unreachable: the 401 retry loop always returns or raises"
        raise AssertionError(msg)

    def with_retries(self, call: Callable[..., T]) -> Callable[..., T]:
        """Wrap a call so retriable failures are tried again with backoff and full jitter.

        Args:
            call: Makes one request.

        Returns:
            The call, retried up to ``max_tries`` times.
        """
        wrapped: Callable[..., T] = backoff.on_exception(
            lambda: backoff.expo(base=2, factor=self.backoff_factor, max_value=120),
            RETRIABLE,
            max_tries=self.max_tries,
            jitter=backoff.full_jitter,
            # A TLS failure (certificate, protocol) does not heal by asking again.
            giveup=lambda exc: isinstance(exc, requests.exceptions.SSLError),
            on_backoff=_log_retry,
            logger=None,
        )(call)
        return wrapped


def _log_retry(details: Details) -> None:
    exception = details.get("exception")
    logger.warning(
        "Retrying a request to Exact (attempt %d) in %.1f s after: %s",
        details.get("tries", 0),
        details.get("wait", 0.0),
        exception if exception is not None else "error",
    )


def raise_for_status(response: requests.Response) -> None:
    """Refuse a non-2xx response: retriable (429, 5xx) or final (other 4xx).

    Args:
        response: Any response.

    Raises:
        RetriableAPIError: 429 or 5xx.
        FatalAPIError: Another 4xx.
    """
    status = response.status_code
    if status == 429 or status >= 500:
        raise RetriableAPIError(error_message(response), response)
    if 400 <= status < 500:
        raise FatalAPIError(error_message(response))


def error_message(response: requests.Response) -> str:
    """Status, endpoint path and Exact's own error text; never the query or the body.

    Args:
        response: A refused response.

    Returns:
        e.g. ``HTTP 400 Bad Request for /api/v1/1/crm/Accounts: <Exact's text>``.
    """
    path = urlparse(response.url).path
    message = f"HTTP {response.status_code} {response.reason or ''} for {path}".rstrip()
    exact_error = exact_error_text(response)
    return f"{message}: {exact_error}" if exact_error else message


def exact_error_text(response: requests.Response) -> str:
    """Exact's error text: ``{"error": {"code": "", "message": {"lang": "", "value": ...}}}``.

    Args:
        response: A refused response.

    Returns:
        The text, or "" when the body carries none (a 429's body is empty).
    """
    if not response.content:
        return ""
    try:
        payload = response.json()
    except ValueError:
        return ""
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, dict):
            return str(message.get("value", ""))
        if isinstance(message, str):
            return message
    return ""


def decode_page(response: requests.Response) -> Page:
    """Decode an Exact OData page into rows and the ``__next`` link.

    Args:
        response: A 2xx response.

    Returns:
        The rows (non-integers as Decimal) and the next-page URL, if any.

    Raises:
        RetriableAPIError: If the body is truncated or not JSON (a dropped transfer).
    """
    try:
        payload = _DECODER.decode(response.content)
    except msgspec.DecodeError as exc:
        msg = f"truncated or invalid JSON body ({len(response.content)} bytes); retrying"
        raise RetriableAPIError(msg, response) from exc
    body = payload.get("d") if isinstance(payload, dict) else None
    if isinstance(body, list):
        return body, None
    if not isinstance(body, dict):
        msg = "response has no 'd' object; retrying"
        raise RetriableAPIError(msg, response)
    results = body.get("results")
    if results is None:
        return [body], None
    return results, body.get("__next") or None
