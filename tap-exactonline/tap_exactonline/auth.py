"""OAuth2 for Exact Online: one authenticator per process over a shared, encrypted token store.

Exact's rules this module obeys (see the project's Exact Online reference, section 2):

- an access token lives 600 s; a new one may only be requested 570 s after the previous one was
  issued, an earlier request gets HTTP 400 "access_token not expired" and the current token stays
  valid;
- every refresh returns a new refresh token and invalidates the old one, so the new refresh token
  is written to the token store *before* the new access token is used, and several processes
  sharing one store serialise their refreshes with a file lock and re-read the store first;
- an expired access token gets HTTP 401: refresh (the server has told us it is old enough) and
  retry the request once.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import backoff
import requests
from singer_sdk.authenticators import OAuthAuthenticator
from typing_extensions import override

from tap_exactonline.token_store import TokenMetadata, TokenRecord, TokenStore, fingerprint

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger("tap-exactonline.auth")

#: Exact refuses a new access token within 570 s of the previous one.
MIN_SECONDS_BETWEEN_REFRESHES = 570.0
#: Exact's documented access-token lifetime, used when a response lacks ``expires_in``.
DEFAULT_ACCESS_TOKEN_LIFETIME = 600.0
#: Do not send a request with a token that expires within this many seconds.
IN_FLIGHT_MARGIN = 5.0
TOO_EARLY_MARKER = "not expired"


class AuthenticationError(Exception):
    """The token chain cannot produce an access token; the user must act (e.g. re-authorize)."""


def authorize_url(host: str, client_id: str, redirect_uri: str, state: str | None = None) -> str:
    """Build the URL a user opens to grant the app access (authorization-code flow).

    Args:
        host: The Exact host of the user's region.
        client_id: The app's client id.
        redirect_uri: The redirect URI registered for the app.
        state: Optional opaque value echoed back on the redirect.

    Returns:
        The authorize URL.
    """
    params = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code"}
    if state:
        params["state"] = state
    return f"{host}/api/oauth2/auth?{urlencode(params)}"


class TokenEndpointError(Exception):
    """The token endpoint refused a request; the message carries Exact's error, no secrets."""

    def __init__(self, status_code: int, error: str, description: str) -> None:
        """Describe a refused token request.

        Args:
            status_code: The HTTP status.
            error: OAuth ``error`` code, e.g. ``invalid_grant``.
            description: OAuth ``error_description``.
        """
        super().__init__(f"token endpoint answered {status_code} {error}: {description}")
        self.status_code = status_code
        self.error = error
        self.description = description

    @property
    def too_early(self) -> bool:
        """Whether Exact refused because the current access token is less than 570 s old."""
        return self.status_code == 400 and TOO_EARLY_MARKER in self.description.lower()


class RetriableTokenEndpointError(TokenEndpointError):
    """A 5xx or 429 from the token endpoint: worth retrying with backoff."""


class TokenEndpoint:
    """Posts grants to ``/api/oauth2/token`` and never lets a secret reach an error or a log."""

    def __init__(
        self,
        host: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 60.0,
        session: requests.Session | None = None,
        max_tries: int = 5,
        backoff_factor: float = 1.0,
    ) -> None:
        """Create a client for one app on one host.

        Args:
            host: Exact host (region host or ``base_url``).
            client_id: The app's client id.
            client_secret: The app's client secret.
            timeout: Seconds per HTTP request.
            session: Optional requests session to reuse.
            max_tries: Attempts for 5xx, 429, timeouts and dropped connections.
            backoff_factor: First retry wait in seconds (doubling, full jitter).
        """
        self.url = f"{host}/api/oauth2/token"
        self._client_id = client_id
        self._client_secret = client_secret
        self._timeout = timeout
        self._session = session or requests.Session()
        self._post = backoff.on_exception(
            backoff.expo,
            (
                requests.ConnectionError,
                requests.Timeout,
                ConnectionResetError,
                RetriableTokenEndpointError,
            ),
            max_tries=max_tries,
            factor=backoff_factor,
            jitter=backoff.full_jitter,
            # A TLS failure (certificate, protocol) does not heal by asking again.
            giveup=lambda exc: isinstance(exc, requests.exceptions.SSLError),
            logger=logger,
        )(self._post_once)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Exchange a refresh token for new tokens (the old refresh token dies).

        Args:
            refresh_token: The current refresh token.

        Returns:
            The token response (access_token, refresh_token, expires_in).
        """
        return self._post({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def exchange_code(self, code: str, redirect_uri: str) -> dict[str, Any]:
        """Exchange an authorization code (single use, valid 3 minutes) for tokens.

        Args:
            code: The URL-decoded code from the redirect.
            redirect_uri: The same redirect URI used for the authorize request.

        Returns:
            The token response (access_token, refresh_token, expires_in).
        """
        return self._post(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        )

    def _post_once(self, grant: dict[str, str]) -> dict[str, Any]:
        body = {**grant, "client_id": self._client_id, "client_secret": self._client_secret}
        response = self._session.post(
            self.url,
            data=body,
            headers={"Accept": "application/json"},
            timeout=self._timeout,
        )
        if response.status_code >= 500 or response.status_code == 429:
            # If the server consumed the refresh token before failing, the retry gets
            # invalid_grant; if it did not, the retry succeeds. Giving up would not be better.
            raise RetriableTokenEndpointError(
                response.status_code, "server_error", response.reason or ""
            )
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code != 200 or "access_token" not in payload:
            raise TokenEndpointError(
                response.status_code,
                str(payload.get("error", "unexpected_response")),
                _scrub(str(payload.get("error_description", response.reason or "")), body),
            )
        if not isinstance(payload, dict):
            raise TokenEndpointError(response.status_code, "unexpected_response", "not an object")
        return payload


def _scrub(text: str, secrets: dict[str, str]) -> str:
    for name in ("client_secret", "refresh_token", "code"):
        value = secrets.get(name)
        if value:
            text = text.replace(value, "***")
    return text


class ExactAuthenticator(OAuthAuthenticator):
    """Bearer-token authenticator over a shared token store (one instance per process)."""

    def __init__(
        self,
        *,
        token_endpoint: TokenEndpoint,
        store: TokenStore,
        region: str,
        client_id: str,
        seed_refresh_token: str | None = None,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Create the authenticator.

        Args:
            token_endpoint: Client for Exact's token endpoint.
            store: The encrypted token store (shared with other processes).
            region: Region recorded in the store metadata.
            client_id: Client id recorded in the store metadata.
            seed_refresh_token: The ``refresh_token`` setting; used only when the store holds
                nothing newer (empty store, or its chain was refused).
            refresh_margin: Refresh when the access token has fewer seconds left than this.
            clock: Source of epoch seconds (tests may inject one).
            sleep: Sleep function (tests may inject one).
        """
        super().__init__(
            auth_endpoint=token_endpoint.url,
            client_id=client_id,
            default_expiration=int(DEFAULT_ACCESS_TOKEN_LIFETIME),
        )
        self._endpoint = token_endpoint
        self._store = store
        self._region = region
        self._seed = seed_refresh_token or None
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._sleep = sleep
        self._issued_at: float | None = None
        self._expires_at: float | None = None
        self.refresh_count = 0

    # --- SDK hooks --------------------------------------------------------------------------

    @property
    @override
    def oauth_request_body(self) -> dict[str, Any]:
        """Not used: refresh requests go through :class:`TokenEndpoint`."""
        return {"grant_type": "refresh_token"}

    @override
    def is_token_valid(self) -> bool:
        """Whether the held access token may be used for the next request without refreshing.

        A token is refreshed once it has less than ``refresh_margin`` seconds left, but never
        before 570 s after it was issued (Exact refuses that).
        """
        if not self.access_token or self._expires_at is None or self._issued_at is None:
            return False
        now = self._clock()
        if now >= self._expires_at - IN_FLIGHT_MARGIN:
            return False
        refresh_due_at = max(
            self._issued_at + MIN_SECONDS_BETWEEN_REFRESHES,
            self._expires_at - self._refresh_margin,
        )
        return now < refresh_due_at

    @override
    def update_access_token(self) -> None:
        """Get a usable access token: adopt one another process stored, or refresh."""
        self._obtain_token(rejected_token=None)

    def handle_unauthorized(self, rejected_token: str | None) -> bool:
        """React to a 401: get a different access token if at all possible.

        The server has declared the token expired, so the local 570 s guard does not apply.

        Args:
            rejected_token: The access token the 401 answered (None if unknown).

        Returns:
            True if a different access token is now held (the request may be retried once).
        """
        self._obtain_token(rejected_token=rejected_token or self.access_token)
        return bool(self.access_token) and self.access_token != rejected_token

    def record_divisions(self, divisions: list[int]) -> None:
        """Record the divisions found, in the store's clear-text metadata.

        Args:
            divisions: Division codes this run syncs.
        """
        with self._store.locked():
            record = self._store.read()
            if record is None or record.metadata.divisions == divisions:
                return
            record.metadata.divisions = list(divisions)
            self._store.write(record)

    # --- internals --------------------------------------------------------------------------

    def _obtain_token(self, *, rejected_token: str | None) -> None:
        with self._store.locked():
            record = self._store.read()
            if record is None:
                record = self._seeded_record()
            # Another process may have refreshed while we waited for the lock.
            if self._usable(record, rejected_token):
                self._adopt(record)
                return
            if rejected_token is None:
                self._wait_until_refresh_allowed(record)
            self._refresh(record)

    def _usable(self, record: TokenRecord, rejected_token: str | None) -> bool:
        if not record.access_token or record.access_token == rejected_token:
            return False
        issued_at = record.metadata.access_token_issued_at or 0.0
        seconds_left = record.access_token_seconds_left(self._clock())
        if seconds_left <= IN_FLIGHT_MARGIN:
            return False
        age = self._clock() - issued_at
        return seconds_left > self._refresh_margin or age < MIN_SECONDS_BETWEEN_REFRESHES

    def _wait_until_refresh_allowed(self, record: TokenRecord) -> None:
        issued_at = record.metadata.access_token_issued_at
        if issued_at is None:
            return
        wait = issued_at + MIN_SECONDS_BETWEEN_REFRESHES - self._clock()
        if wait > 0:
            logger.info("Waiting %.0f s: Exact refuses a refresh within 570 s of the last", wait)
            self._sleep(wait)

    def _seeded_record(self) -> TokenRecord:
        if not self._seed:
            msg = (
                "the token store is empty and no refresh_token is configured; "
                "run `tap-exactonline auth` or set refresh_token"
            )
            raise AuthenticationError(msg)
        logger.info("Seeding the token store from the refresh_token setting")
        return TokenRecord(
            refresh_token=self._seed,
            metadata=TokenMetadata(
                region=self._region,
                client_id=self.client_id,
                consumed_seeds=[fingerprint(self._seed)],
            ),
        )

    def _refresh(self, record: TokenRecord) -> None:
        try:
            payload = self._endpoint.refresh(record.refresh_token)
        except TokenEndpointError as exc:
            if exc.too_early and record.access_token:
                logger.info("Exact says the current access token has not expired; keeping it")
                self._adopt(record)
                return
            if exc.status_code == 400 and self._seed_is_unused(record):
                logger.warning(
                    "The stored refresh token was refused (%s); trying the refresh_token "
                    "setting, which the store has not used yet",
                    exc.error,
                )
                seeded = self._seeded_record()
                seeded.metadata.consumed_seeds = [
                    *record.metadata.consumed_seeds,
                    fingerprint(self._seed or ""),
                ]
                self._refresh_with(seeded)
                return
            msg = f"cannot refresh the Exact access token: {exc}. Run `tap-exactonline auth`."
            raise AuthenticationError(msg) from exc
        self._save_and_adopt(record, payload)

    def _refresh_with(self, record: TokenRecord) -> None:
        try:
            payload = self._endpoint.refresh(record.refresh_token)
        except TokenEndpointError as exc:
            msg = f"cannot refresh the Exact access token: {exc}. Run `tap-exactonline auth`."
            raise AuthenticationError(msg) from exc
        self._save_and_adopt(record, payload)

    def _seed_is_unused(self, record: TokenRecord) -> bool:
        return bool(self._seed) and (
            fingerprint(self._seed or "") not in record.metadata.consumed_seeds
        )

    def _save_and_adopt(self, previous: TokenRecord, payload: dict[str, Any]) -> None:
        now = self._clock()
        lifetime = _expires_in(payload)
        metadata = previous.metadata
        metadata.region = self._region
        metadata.client_id = self.client_id
        metadata.access_token_issued_at = now
        metadata.access_token_expires_at = now + lifetime
        rotated = payload.get("refresh_token") or previous.refresh_token
        if rotated != previous.refresh_token:
            metadata.refresh_token_issued_at = now
        metadata.refresh_count += 1
        record = TokenRecord(
            refresh_token=str(rotated),
            access_token=str(payload["access_token"]),
            metadata=metadata,
        )
        # The rotated refresh token must be durable before the new access token is used:
        # a crash after this line loses nothing.
        self._store.write(record)
        self.refresh_count += 1
        logger.info(
            "Refreshed the Exact access token (valid %.0f s); token store updated", lifetime
        )
        self._adopt(record)

    def _adopt(self, record: TokenRecord) -> None:
        self.access_token = record.access_token
        self._issued_at = record.metadata.access_token_issued_at
        self._expires_at = record.metadata.access_token_expires_at
        self.expires_in = int(DEFAULT_ACCESS_TOKEN_LIFETIME)


def _expires_in(payload: dict[str, Any]) -> float:
    # Exact sends expires_in as a string ("600").
    try:
        return float(payload.get("expires_in", DEFAULT_ACCESS_TOKEN_LIFETIME))
    except (TypeError, ValueError):
        return DEFAULT_ACCESS_TOKEN_LIFETIME
