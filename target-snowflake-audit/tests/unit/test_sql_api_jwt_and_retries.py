"""The SQL API's key-pair JWT, request bodies, waits and result decoding, without a server.

Claims as Snowflake documents them (developer-guide/sql-api/authenticating,
user-guide/key-pair-auth): `iss` = `<ACCOUNT>.<USER>.SHA256:<fingerprint>`, `sub` =
`<ACCOUNT>.<USER>`, `exp` at most an hour after `iat`, RS256.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import logging
from decimal import Decimal
from unittest import mock

import pytest
from archive_devkit.key_pairs import PASSPHRASE, der, encrypted_pem, new_rsa_key
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from target_snowflake_audit.connector import SettingsError
from target_snowflake_audit.key_pair_jwt import KeyPairJWT, jwt_account
from target_snowflake_audit.sql_api import (
    SqlApiTransport,
    result_rows,
    sql_api_endpoint,
    statement_kind,
)
from target_snowflake_audit.sql_api_client import ResultSet, user_agent, waits

KEY = new_rsa_key()
SETTINGS = {
    "transport": "sql_api",
    "account": "xy12345.eu-central-1",
    "user": "loader",
    "private_key": encrypted_pem(KEY),
    "private_key_passphrase": PASSPHRASE,
    "warehouse": "load_wh",
    "database": "exact_archive",
    "schema": "exact_online",
    "role": "loader_role",
}


def _decode(token: str) -> tuple[dict[str, object], dict[str, object]]:
    header, claims, _ = token.split(".")
    pad = "=="
    return (
        json.loads(base64.urlsafe_b64decode(header + pad)),
        json.loads(base64.urlsafe_b64decode(claims + pad)),
    )


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("xy12345", "XY12345"),
        ("xy12345.us-east-1", "XY12345"),  # a locator with its region
        ("xy12345.eu-central-1.aws", "XY12345"),  # ... and its cloud
        ("myorg-myaccount", "MYORG-MYACCOUNT"),  # an organisation account
        (" MyOrg-Finance_NL ", "MYORG-FINANCE_NL"),
        ("myorg-myaccount.global", "MYORG"),  # a replication (global) identifier
    ],
)
def test_the_account_in_the_jwt_is_normalised_as_snowflake_documents(account, expected):
    assert jwt_account(account) == expected


def test_the_claims_name_account_user_and_key_fingerprint():
    jwt = KeyPairJWT(
        account="xy12345.us-east-1", user="loader", private_key_der=der(KEY), clock=lambda: 1000.0
    )
    header, claims = _decode(jwt.token())

    public_der = KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fingerprint = base64.b64encode(hashlib.sha256(public_der).digest()).decode()
    assert header == {"alg": "RS256", "typ": "JWT"}
    assert claims["iss"] == f"XY12345.LOADER.SHA256:{fingerprint}"
    assert claims["sub"] == "XY12345.LOADER"
    assert claims["iat"] == 1000
    assert 0 < int(str(claims["exp"])) - 1000 <= 3600


def test_the_signature_verifies_with_the_public_key():
    token = KeyPairJWT(account="a", user="u", private_key_der=der(KEY)).token()
    header, claims, signature = token.split(".")

    KEY.public_key().verify(  # raises InvalidSignature on a bad signature
        base64.urlsafe_b64decode(signature + "=="),
        f"{header}.{claims}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


def test_a_token_is_reused_until_minutes_before_expiry_then_renewed():
    now = [10_000.0]
    jwt = KeyPairJWT(account="a", user="u", private_key_der=der(KEY), clock=lambda: now[0])
    first = jwt.token()

    now[0] += 50 * 60
    assert jwt.token() == first
    now[0] += 5 * 60  # 55 minutes after issue: within five minutes of the 59-minute expiry
    renewed = jwt.token()

    assert renewed != first
    assert _decode(renewed)[1]["iat"] == 10_000 + 55 * 60


def test_a_password_or_a_missing_key_is_refused_before_anything_is_sent():
    with pytest.raises(SettingsError, match="no password"):
        SqlApiTransport(SETTINGS | {"password": "pw"}, logging.getLogger("test"))
    no_key = {k: v for k, v in SETTINGS.items() if k != "private_key"}
    with pytest.raises(SettingsError, match="needs a key pair"):
        SqlApiTransport(no_key, logging.getLogger("test"))


def test_each_request_names_its_context_and_session_parameters():
    transport = SqlApiTransport(SETTINGS, logging.getLogger("test"))
    before = transport.body("SELECT 1")
    transport.use_schema()
    body = transport.body("SELECT ?", {"1": {"type": "TEXT", "value": "x"}})

    assert before == {
        "statement": "SELECT 1",
        "database": "EXACT_ARCHIVE",
        "warehouse": "LOAD_WH",
        "role": "LOADER_ROLE",
        "parameters": {"timezone": "UTC", "quoted_identifiers_ignore_case": "false"},
    }
    assert body["schema"] == "EXACT_ONLINE"
    assert body["bindings"] == {"1": {"type": "TEXT", "value": "x"}}


def test_the_endpoint_defaults_to_the_account_url():
    assert sql_api_endpoint({"account": "myorg-myaccount"}) == (
        "https://myorg-myaccount.snowflakecomputing.com"
    )
    local = {"account": "a", "host": "127.0.0.1", "port": 8099, "protocol": "http"}
    assert sql_api_endpoint(local) == "http://127.0.0.1:8099"


def test_the_headers_are_the_documented_ones():
    transport = SqlApiTransport(SETTINGS, logging.getLogger("test"))
    headers = transport.client._headers()  # the headers are the contract

    assert headers["Authorization"].startswith("Bearer ey")
    assert headers["X-Snowflake-Authorization-Token-Type"] == "KEYPAIR_JWT"
    assert headers["Content-Type"] == headers["Accept"] == "application/json"
    product, _, release = user_agent().partition("/")
    assert product == "target-snowflake-audit"
    assert release  # RFC 7231 product/version
    assert headers["User-Agent"] == user_agent()


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ('INSERT INTO "t" ("a") SELECT 1', "INSERT"),
        ('CREATE TABLE IF NOT EXISTS "t" ("a" TEXT)', "CREATE TABLE"),
        ('CREATE OR REPLACE VIEW "v" COPY GRANTS AS SELECT 1', "CREATE OR REPLACE VIEW"),
        ("ALTER TABLE t ADD COLUMN c TEXT", "ALTER TABLE"),
        ("SHOW WAREHOUSES LIKE 'x'", "SHOW WAREHOUSES"),
    ],
)
def test_errors_name_the_statement_kind(sql, kind):
    assert statement_kind(sql) == kind


def test_waits_honour_retry_after_and_otherwise_jitter_below_a_doubling_ceiling():
    class ThrottledError(Exception):
        def __init__(self, retry_after: float | None) -> None:
            self.retry_after = retry_after

    fractions = iter([0.25, 0.5, 0.75, 1.0, 0.1])
    with mock.patch(
        "target_snowflake_audit.sql_api_client.random.uniform",
        side_effect=lambda low, high: low + (high - low) * next(fractions),
    ):
        generator = waits(base=2.0, cap=10.0)
        next(generator)
        got = [
            generator.send(ThrottledError(None)),  # ceiling 2
            generator.send(ThrottledError(7)),  # Retry-After wins
            generator.send(ThrottledError(None)),  # ceiling 8 (the counted attempts go on)
            generator.send(ThrottledError(None)),  # ceiling 16, capped at 10
            generator.send(ThrottledError(None)),  # capped at 10
            generator.send(ThrottledError(None)),
        ]

    assert got == [0.5, 7.0, 4.0, 7.5, 10.0, 1.0]


def test_results_are_typed_as_the_connector_types_them():
    result = ResultSet(
        row_type=[
            {"name": "AMOUNT", "type": "fixed", "scale": 9},
            {"name": "N", "type": "fixed", "scale": 0},
            {"name": "DAY", "type": "date"},
            {"name": "AT", "type": "timestamp_tz"},
            {"name": "OK", "type": "boolean"},
            {"name": "DOC", "type": "variant"},
        ],
        data=[
            [
                "12345678901234567.120000000",
                "42",
                "19843",
                "1616173619.000000000 960",
                "true",
                "{}",
            ],
            [None, None, None, None, None, None],
        ],
    )

    first, empty = result_rows(result)

    assert first["amount"] == Decimal("12345678901234567.120000000")
    assert first["n"] == 42
    assert first["day"] == datetime.date(2024, 4, 30)
    moment = first["at"]
    assert moment.utcoffset() == datetime.timedelta(hours=-8)
    assert moment.astimezone(datetime.UTC) == datetime.datetime(
        2021, 3, 19, 17, 6, 59, tzinfo=datetime.UTC
    )
    assert first["ok"] is True
    assert first["doc"] == "{}"
    assert set(empty.values()) == {None}


def test_timestamps_keep_their_microseconds_without_a_float():
    # As a double, 253402300799.999999 rounds to 253402300800: the year 10000, an error.
    result = ResultSet(
        row_type=[{"name": "AT", "type": "timestamp_ntz"}], data=[["253402300799.999999000"]]
    )

    (row,) = result_rows(result)

    assert row["at"] == datetime.datetime(9999, 12, 31, 23, 59, 59, 999999)
