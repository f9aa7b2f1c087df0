"""Key-pair JWTs for the Snowflake SQL API: claims, RS256 signature, renewal before expiry.

Snowflake's rules (developer-guide/sql-api/authenticating, user-guide/key-pair-auth):
`iss` is `<ACCOUNT>.<USER>.SHA256:<fingerprint>`, the fingerprint being the base64 SHA-256 of
the public key in DER (SubjectPublicKeyInfo) form, as `DESCRIBE USER` shows it in
`RSA_PUBLIC_KEY_FP`; `sub` is `<ACCOUNT>.<USER>`; `iat` is the issue time and `exp` at most
one hour later; all upper case. The account is the account identifier without region or cloud
(`xy12345.us-east-1` -> `XY12345`), or `ORG-ACCOUNT` for an organisation account, which is given
with a hyphen as for every connector (a period there makes the JWT invalid,
user-guide/key-pair-auth-troubleshooting). Signed with `cryptography`: no JWT library needed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from target_snowflake_audit.connector import PrivateKeyError

# Snowflake accepts a key-pair JWT for at most an hour after it was issued; the sample in
# Snowflake's docs uses 59 minutes, which leaves room for clock skew.
LIFETIME_SECONDS = 59 * 60
# A token is renewed this long before it expires, so no request carries one about to lapse.
RENEW_BEFORE_SECONDS = 5 * 60
_GLOBAL = ".global"


def jwt_account(account: str) -> str:
    """The account part of `iss` and `sub`.

    Args:
        account: The `account` setting (`xy12345.us-east-1`, `myorg-myaccount`, ...).

    Returns:
        Upper case, without region or cloud: `XY12345`, `MYORG-MYACCOUNT`.
    """
    name = account.strip()
    if _GLOBAL in name:
        # A global (replication) identifier: the account is the text before the first hyphen
        # (the connector's rule, snowflake/connector/auth/keypair.py).
        return name.partition("-")[0].upper()
    return name.partition(".")[0].upper()


def public_key_fingerprint(private_key: rsa.RSAPrivateKey) -> str:
    """`SHA256:` + base64 SHA-256 of the public key's DER SubjectPublicKeyInfo.

    Args:
        private_key: The user's private key.

    Returns:
        The fingerprint as `DESCRIBE USER` shows it (`RSA_PUBLIC_KEY_FP`).
    """
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class KeyPairJWT:
    """Issues the bearer token for SQL API requests and renews it before it expires."""

    def __init__(
        self,
        *,
        account: str,
        user: str,
        private_key_der: bytes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Prepare the claims.

        Args:
            account: The `account` setting.
            user: The `user` setting.
            private_key_der: The key as unencrypted PKCS#8 DER (connector.load_private_key).
            clock: Seconds since the epoch (tests inject one).

        Raises:
            PrivateKeyError: The key is not an RSA key.
        """
        key = serialization.load_der_private_key(private_key_der, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            msg = "the SQL API takes an RSA private key (RS256); private_key is another kind"
            raise PrivateKeyError(msg)
        self._key = key
        qualified_user = f"{jwt_account(account)}.{user.upper()}"
        self.subject = qualified_user
        self.issuer = f"{qualified_user}.{public_key_fingerprint(key)}"
        self._clock = clock
        self._token = ""
        self._expires_at = 0.0

    def token(self) -> str:
        """The current token: a new one when none was issued or it expires within minutes."""
        now = self._clock()
        if not self._token or now >= self._expires_at - RENEW_BEFORE_SECONDS:
            self.renew()
        return self._token

    def renew(self) -> str:
        """Issue a new token now (also after Snowflake refused the current one).

        Returns:
            The token.
        """
        issued_at = int(self._clock())
        claims = {
            "iss": self.issuer,
            "sub": self.subject,
            "iat": issued_at,
            "exp": issued_at + LIFETIME_SECONDS,
        }
        header = {"alg": "RS256", "typ": "JWT"}
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        self._token = f"{signing_input}.{_b64url(signature)}"
        self._expires_at = float(issued_at + LIFETIME_SECONDS)
        return self._token
