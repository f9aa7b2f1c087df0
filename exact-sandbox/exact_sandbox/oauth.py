"""Exact's OAuth2: authorization codes, access tokens, rotating refresh tokens.

Rules emulated (reference section 2): a code is single-use and valid 3 minutes; an access token
lives 600 s; every refresh rotates the refresh token and the old one is refused (invalid_grant);
an unused refresh token expires after 30 days; a refresh within 570 s of the last issue is
refused with `access_denied` and leaves the current tokens valid; `expires_in` is the string
"600". The sandbox auto-consents: its one user has access to every granted division.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from exact_sandbox.clock import Clock

ACCESS_TOKEN_SECONDS = 600
REFRESH_TOO_EARLY_SECONDS = 570
REFRESH_TOKEN_SECONDS = 30 * 86_400
AUTH_CODE_SECONDS = 180


class OAuthError(Exception):
    """A refused token request or API call: status, JSON body and extra headers."""

    def __init__(
        self, status: int, body: dict[str, str], headers: dict[str, str] | None = None
    ) -> None:
        """Keep what the HTTP layer sends back."""
        super().__init__(body.get("error_description") or body.get("error", ""))
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.client_id: str | None = None


@dataclass
class AccessToken:
    """An issued access token."""

    token: str
    client_id: str
    expires_at: float


@dataclass
class RefreshToken:
    """An issued refresh token; `issued_with_access_at` is None for bootstrap tokens."""

    token: str
    client_id: str
    expires_at: float
    issued_with_access_at: float | None
    used: bool = False


@dataclass
class AuthorizationCode:
    """A code handed out by the consent redirect."""

    code: str
    client_id: str
    redirect_uri: str
    expires_at: float
    used: bool = False


class OAuthServer:
    """Issues and checks tokens for the one registered app."""

    def __init__(
        self,
        clock: Clock,
        client_id: str,
        client_secret: str,
    ) -> None:
        """Serve one registered app."""
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self.user_id = ""
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._lock = threading.Lock()
        #: When each access token was issued (sandbox clock), for tests of refresh timing.
        self.issued_at: list[float] = []
        #: Refresh requests that presented an already used refresh token (a broken chain).
        self.reused_refresh_tokens = 0

    # -- issuing ------------------------------------------------------------------------------

    def bootstrap_refresh_token(self) -> str:
        """A fresh refresh token with no live access token (usable at once)."""
        token = "Gcp7!IAAA" + secrets.token_urlsafe(48)
        with self._lock:
            self._refresh[token] = RefreshToken(
                token, self.client_id, self.clock.now() + REFRESH_TOKEN_SECONDS, None
            )
        return token

    def authorize(self, params: dict[str, str]) -> str:
        """Auto-consent: answer the redirect URL carrying `code` and `state`."""
        if params.get("client_id") != self.client_id:
            raise OAuthError(400, {"error": "invalid_client", "error_description": "unknown app"})
        if params.get("response_type", "code") != "code":
            raise OAuthError(400, {"error": "unsupported_response_type"})
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri:
            raise OAuthError(400, {"error": "invalid_request", "error_description": "redirect_uri"})
        code = "stampNL001.!" + secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = AuthorizationCode(
                code, self.client_id, redirect_uri, self.clock.now() + AUTH_CODE_SECONDS
            )
        query = {"code": code}
        if "state" in params:
            query["state"] = params["state"]
        parts = urlsplit(redirect_uri)
        joined = (parts.query + "&" if parts.query else "") + urlencode(query)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, joined, parts.fragment))

    def token(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        """The token endpoint: authorization_code and refresh_token grants."""
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if basic is not None and not client_id:
            # RFC 6749 section 2.3.1: the server MUST support HTTP Basic client credentials
            # (published Exact clients, e.g. SageData's tap, send them that way).
            client_id, client_secret = basic
        if client_id != self.client_id or client_secret != self.client_secret:
            raise OAuthError(400, {"error": "invalid_client"})
        grant = form.get("grant_type")
        now = self.clock.now()
        with self._lock:
            if grant == "authorization_code":
                return self._exchange_code(form, now)
            if grant == "refresh_token":
                return self._refresh_grant(form.get("refresh_token", ""), now)
        raise OAuthError(400, {"error": "unsupported_grant_type"})

    def _exchange_code(self, form: dict[str, str], now: float) -> dict[str, Any]:
        code = self._codes.get(form.get("code", ""))
        if code is None or code.used or code.expires_at <= now:
            raise OAuthError(400, {"error": "invalid_grant"})
        if form.get("redirect_uri", code.redirect_uri) != code.redirect_uri:
            raise OAuthError(400, {"error": "invalid_grant", "error_description": "redirect_uri"})
        code.used = True
        return self._issue(now)

    def _refresh_grant(self, token: str, now: float) -> dict[str, Any]:
        refresh = self._refresh.get(token)
        if refresh is not None and refresh.used:
            self.reused_refresh_tokens += 1
        if refresh is None or refresh.used:
            raise OAuthError(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Token is not allowed, because of invalid or empty"
                    " chainId",
                },
            )
        if refresh.expires_at <= now:
            expired = datetime.fromtimestamp(refresh.expires_at, tz=UTC)
            current = datetime.fromtimestamp(now, tz=UTC)
            raise OAuthError(
                400,
                {
                    "error": "invalid_request",
                    "error_description": f"The refresh token expired at"
                    f" {expired:%m/%d/%Y %I:%M:%S %p} and it is now {current:%m/%d/%Y %I:%M:%S %p}",
                },
            )
        issued = refresh.issued_with_access_at
        if issued is not None and now - issued < REFRESH_TOO_EARLY_SECONDS:
            # Exact since July 2021: no new access token within 570 s of the previous one;
            # the current access and refresh tokens stay valid.
            raise OAuthError(
                400,
                {
                    "error": "access_denied",
                    "error_description": "Rate limit exceeded: access_token not expired",
                },
                {"Reason": "TooEarlyToRefreshTokens: the access token is not expired yet"},
            )
        refresh.used = True
        return self._issue(now)

    def _issue(self, now: float) -> dict[str, Any]:
        self.issued_at.append(now)
        access = "AAEA" + secrets.token_urlsafe(96)
        refresh = "Gcp7!IAAA" + secrets.token_urlsafe(48)
        self._access[access] = AccessToken(access, self.client_id, now + ACCESS_TOKEN_SECONDS)
        self._refresh[refresh] = RefreshToken(
            refresh, self.client_id, now + REFRESH_TOKEN_SECONDS, now
        )
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": str(ACCESS_TOKEN_SECONDS),  # Exact sends a string
            "refresh_token": refresh,
        }

    def counters(self) -> dict[str, Any]:
        """Token facts for the admin `stats` answer."""
        return {
            "access_tokens_issued_at": list(self.issued_at),
            "reused_refresh_tokens": self.reused_refresh_tokens,
        }

    def issued_tokens(self) -> dict[str, list[str]]:
        """Every access token, refresh token and code handed out (admin `issued_tokens`).

        For tests proving that no log holds a secret: they need the secrets to look for.
        """
        with self._lock:
            return {
                "access_tokens": list(self._access),
                "refresh_tokens": list(self._refresh),
                "authorization_codes": list(self._codes),
            }

    # -- checking -----------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> AccessToken:
        """The access token of an API call, or a 401 like Exact's."""
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise OAuthError(
                401,
                {"error": "invalid_request", "error_description": "Bearer token required"},
                {"WWW-Authenticate": 'Bearer realm="exactonline"'},
            )
        access = self._access.get(value.strip())
        if access is None:
            raise OAuthError(
                401,
                {"error": "invalid_token", "error_description": "unknown access token"},
                {"WWW-Authenticate": 'Bearer error="invalid_token", error_description="unknown"'},
            )
        if access.expires_at <= self.clock.now():
            error = OAuthError(
                401,
                {"error": "invalid_token", "error_description": "access token expired"},
                {
                    "WWW-Authenticate": 'Bearer error="invalid_token",'
                    ' error_description="access token expired"'
                },
            )
            error.client_id = access.client_id
            raise error
        return access
