"""Checking a key-pair JWT the way Snowflake documents it, with its documented error codes.

A refused token gets HTTP 401 and Snowflake's generic `390144 JWT token is invalid. [<uuid>]`;
the specific reason is kept under that uuid, as SYSTEM$GET_LOGIN_FAILURE_DETAILS returns it
(docs.snowflake.com/en/sql-reference/functions/system_get_login_failure_details, "JWT token
errors"; user-guide/key-pair-auth-troubleshooting). Claims: `iss` =
`<ACCOUNT>.<USER>.SHA256:<fingerprint>`, `sub` = `<ACCOUNT>.<USER>`, `iat`, and `exp` at most an
hour later (developer-guide/sql-api/authenticating); RS256 only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

KEYPAIR_JWT = "KEYPAIR_JWT"
MAX_LIFETIME_SECONDS = 3600

# SYSTEM$GET_LOGIN_FAILURE_DETAILS error codes for JWT tokens (page named above).
ACCOUNT_MISMATCH = ("394307", "JWT_TOKEN_ACCOUNT_MISMATCH")
INVALID = ("390144", "JWT_TOKEN_INVALID")
UNKNOWN_USER = ("394300", "JWT_TOKEN_INVALID_USER_IN_ISSUER")
MISSING_TIMES = ("394301", "JWT_TOKEN_MISSING_ISSUE_OR_EXPIRATION_TIME")
EXPIRED = ("394303", "JWT_TOKEN_INVALID_EXPIRATION_TIME")
FINGERPRINT_MISMATCH = ("394304", "JWT_TOKEN_INVALID_PUBLIC_KEY_FINGERPRINT_MISMATCH")
WRONG_ALGORITHM = ("394305", "JWT_TOKEN_INVALID_ALGORITHM")
BAD_SIGNATURE = ("394306", "JWT_TOKEN_INVALID_SIGNATURE")


class TokenRefused(Exception):  # noqa: N818 - reads as an event
    """The token is refused; `reason` is the (code, name) SYSTEM$GET_LOGIN_FAILURE_DETAILS shows."""

    def __init__(self, reason: tuple[str, str], detail: str) -> None:
        super().__init__(f"{reason[1]}: {detail}")
        self.reason = reason


def fingerprint(public_key: rsa.RSAPublicKey) -> str:
    """`SHA256:` + base64 SHA-256 of the DER SubjectPublicKeyInfo (`RSA_PUBLIC_KEY_FP`)."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class TokenChecker:
    """Checks tokens against the account and the users' registered public keys."""

    account: str
    """The account identifier as `iss` and `sub` must carry it (upper case)."""
    public_keys: dict[str, rsa.RSAPublicKey]
    """Registered keys by user name (upper case), as ALTER USER ... SET RSA_PUBLIC_KEY does."""

    def check(self, token_type: str | None, authorization: str | None, now: float) -> str:
        """Check a request's credentials; return the user.

        Args:
            token_type: The X-Snowflake-Authorization-Token-Type header.
            authorization: The Authorization header.
            now: Seconds since the epoch.

        Returns:
            The user name.

        Raises:
            TokenRefused: Snowflake would refuse the request with 401.
        """
        if token_type != KEYPAIR_JWT:
            # Without the header the token is taken as an OAuth token (the OpenAPI spec,
            # X-Snowflake-Authorization-Token-Type), which a key-pair JWT is not.
            raise TokenRefused(INVALID, f"token type {token_type!r}, not {KEYPAIR_JWT}")
        if not authorization or not authorization.startswith("Bearer "):
            raise TokenRefused(INVALID, "no bearer token")
        header, claims, signing_input, signature = self._parse(authorization[len("Bearer ") :])
        if header.get("alg") != "RS256":
            raise TokenRefused(WRONG_ALGORITHM, f"alg {header.get('alg')!r}")
        issued_at, expires_at = claims.get("iat"), claims.get("exp")
        if not isinstance(issued_at, int | float) or not isinstance(expires_at, int | float):
            raise TokenRefused(MISSING_TIMES, "iat or exp missing")
        account, user, key_fingerprint = self._issuer(str(claims.get("iss", "")))
        if account != self.account:
            raise TokenRefused(ACCOUNT_MISMATCH, f"account {account!r}")
        public_key = self.public_keys.get(user)
        if public_key is None:
            raise TokenRefused(UNKNOWN_USER, f"user {user!r}")
        if key_fingerprint != fingerprint(public_key):
            raise TokenRefused(FINGERPRINT_MISMATCH, "issuer fingerprint")
        try:
            public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise TokenRefused(BAD_SIGNATURE, "signature") from None
        if claims.get("sub") != f"{account}.{user}":
            raise TokenRefused(INVALID, f"sub {claims.get('sub')!r}")
        if expires_at <= now:
            raise TokenRefused(EXPIRED, "expired")
        if expires_at - issued_at > MAX_LIFETIME_SECONDS:
            raise TokenRefused(INVALID, "lifetime over one hour")
        return user

    @staticmethod
    def _parse(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenRefused(INVALID, "not a JWT")
        try:
            header = json.loads(_b64url_decode(parts[0]))
            claims = json.loads(_b64url_decode(parts[1]))
            signature = _b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            raise TokenRefused(INVALID, "not a JWT") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise TokenRefused(INVALID, "not a JWT")
        return header, claims, f"{parts[0]}.{parts[1]}".encode(), signature

    @staticmethod
    def _issuer(issuer: str) -> tuple[str, str, str]:
        account, _, rest = issuer.partition(".")
        user, _, key_fingerprint = rest.partition(".")
        if not key_fingerprint.startswith("SHA256:"):
            raise TokenRefused(INVALID, "issuer without a SHA256 fingerprint")
        return account, user, key_fingerprint
