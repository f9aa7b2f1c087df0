"""The local SQL API server refuses the tokens Snowflake refuses, for the reasons it documents.

Reasons and codes: sql-reference/functions/system_get_login_failure_details ("JWT token
errors") and user-guide/key-pair-auth-troubleshooting. The target's JWT (key_pair_jwt.py) is
the token under test, so a target that drifts from the documented claims fails here too.
"""

from __future__ import annotations

import base64
import json

import pytest
from archive_devkit.key_pairs import der, new_rsa_key
from archive_devkit.sql_api_server import TokenChecker, TokenRefused
from archive_devkit.sql_api_server.jwt_check import KEYPAIR_JWT
from archive_devkit.sql_api_server.statements import refusal
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from target_snowflake_audit.key_pair_jwt import KeyPairJWT

KEY = new_rsa_key()
OTHER_KEY = new_rsa_key()
NOW = 1_800_000_000.0


def _checker() -> TokenChecker:
    return TokenChecker("XY12345", {"LOADER": KEY.public_key()})


def _token(
    account: str = "xy12345.eu-central-1", user: str = "loader", key=KEY, at: float = NOW
) -> str:
    return KeyPairJWT(
        account=account, user=user, private_key_der=der(key), clock=lambda: at
    ).token()


def _reason(token: str, token_type: str | None = KEYPAIR_JWT, now: float = NOW) -> str:
    with pytest.raises(TokenRefused) as refused:
        _checker().check(token_type, f"Bearer {token}", now)
    return refused.value.reason[1]


def test_the_targets_token_is_accepted():
    assert _checker().check(KEYPAIR_JWT, f"Bearer {_token()}", NOW + 60) == "LOADER"


def test_a_token_signed_with_another_key_is_refused():
    # Its fingerprint names the other key, which is not the one registered for the user.
    assert _reason(_token(key=OTHER_KEY)) == "JWT_TOKEN_INVALID_PUBLIC_KEY_FINGERPRINT_MISMATCH"


def test_a_token_whose_signature_does_not_match_its_fingerprint_is_refused():
    header, claims, _ = _token().split(".")
    _, _, forged = _token(key=OTHER_KEY).split(".")
    assert _reason(f"{header}.{claims}.{forged}") == "JWT_TOKEN_INVALID_SIGNATURE"


def test_an_expired_token_is_refused():
    assert _reason(_token(at=NOW - 3600), now=NOW) == "JWT_TOKEN_INVALID_EXPIRATION_TIME"


def test_another_account_or_user_is_refused():
    assert _reason(_token(account="other")) == "JWT_TOKEN_ACCOUNT_MISMATCH"
    assert _reason(_token(user="someone")) == "JWT_TOKEN_INVALID_USER_IN_ISSUER"


def test_a_lifetime_over_an_hour_is_refused():
    header, claims, _ = _token().split(".")
    body = json.loads(base64.urlsafe_b64decode(claims + "=="))
    body["exp"] = body["iat"] + 7200
    claims = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    # Re-signed properly, so only the lifetime is wrong.
    signature = KEY.sign(f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
    encoded = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    assert _reason(f"{header}.{claims}.{encoded}") == "JWT_TOKEN_INVALID"


def test_a_token_without_the_keypair_token_type_header_is_refused():
    assert _reason(_token(), token_type=None) == "JWT_TOKEN_INVALID"


@pytest.mark.parametrize(
    "statement",
    [
        "USE SCHEMA db.s",
        "ALTER SESSION SET TIMEZONE = 'UTC'",
        "BEGIN",
        "COMMIT",
        "PUT file:///tmp/x @s",
        "CREATE TEMPORARY TABLE t (a INT)",
    ],
)
def test_session_statements_are_refused_as_the_sql_api_refuses_them(statement):
    refused = refusal(statement)
    assert refused is not None
    assert refused.code == "000002"


def test_ordinary_statements_are_not_refused():
    assert refusal('INSERT INTO "t" SELECT 1') is None
    assert refusal('CREATE TABLE IF NOT EXISTS "t" ("a" TEXT)') is None
