"""``tap-exactonline auth``: the authorization-code flow and a token status report.

The flow: print the authorize URL for the configured region, let the user log in and consent,
take the URL Exact redirected to (or just its ``code``), exchange the code (single use, valid
3 minutes) and write the tokens to the encrypted store. ``--status`` shows token age and expiry
from the store's clear-text metadata; it never prints a secret.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import click

from tap_exactonline.auth import TokenEndpoint, TokenEndpointError, authorize_url
from tap_exactonline.regions import host_for
from tap_exactonline.token_store import (
    TokenMetadata,
    TokenRecord,
    TokenStore,
    TokenStoreError,
    fingerprint,
)

#: Exact expires a refresh token that was not used for 30 days.
REFRESH_TOKEN_LIFETIME = 30 * 24 * 3600
ENV_PREFIX = "TAP_EXACTONLINE_"


def load_config(paths: tuple[str, ...]) -> dict[str, Any]:
    """Merge ``--config`` files; ``ENV`` reads ``TAP_EXACTONLINE_*`` variables (as the tap does).

    Args:
        paths: Config file paths or the word ``ENV``.

    Returns:
        The merged settings.
    """
    config: dict[str, Any] = {}
    for path in paths:
        if path == "ENV":
            for name, value in os.environ.items():
                if name.startswith(ENV_PREFIX):
                    config[name[len(ENV_PREFIX) :].lower()] = value
            continue
        with open(path, encoding="utf-8") as handle:
            config |= json.load(handle)
    return config


def extract_code(redirect_or_code: str) -> str:
    """Take the ``code`` from a redirect URL, or accept a bare code.

    Exact's codes contain characters such as ``!`` that arrive URL-encoded (``%21``); the query
    parser decodes them, as the token endpoint requires.

    Args:
        redirect_or_code: The full redirect URL or the code itself.

    Returns:
        The decoded code.

    Raises:
        click.UsageError: If a URL carries no code (e.g. the user refused consent).
    """
    text = redirect_or_code.strip()
    if "://" not in text and "code=" not in text:
        return text
    query = urlparse(text).query if "://" in text else text.lstrip("?")
    values = parse_qs(query).get("code")
    if not values:
        error = parse_qs(query).get("error", ["no code in the redirect URL"])[0]
        msg = f"authorization failed: {error}"
        raise click.UsageError(msg)
    return values[0]


def _required(config: dict[str, Any], name: str) -> str:
    value = config.get(name)
    if not value:
        msg = f"setting {name!r} is required"
        raise click.UsageError(msg)
    return str(value)


def _status(store: TokenStore, config: dict[str, Any]) -> None:
    metadata = store.read_metadata()
    if metadata is None:
        click.echo(f"Token store {store.path}: empty. Run `tap-exactonline auth`.")
        sys.exit(1)
    readable = "yes"
    try:
        store.read()
    except TokenStoreError:
        readable = "no (token_store_key does not match)"
    now = time.time()
    report = _status_report(metadata, now)
    click.echo(f"Token store:        {store.path}")
    click.echo(f"Decryptable:        {readable}")
    click.echo(f"Region:             {metadata.region or config.get('region', '?')}")
    click.echo(f"Client id:          {metadata.client_id or '?'}")
    click.echo(f"Divisions found:    {', '.join(map(str, metadata.divisions)) or '-'}")
    for label, value in report.items():
        click.echo(f"{label + ':':<20}{value}")
    refresh_issued = metadata.refresh_token_issued_at
    if refresh_issued is not None and now - refresh_issued > REFRESH_TOKEN_LIFETIME:
        sys.exit(2)


def _status_report(metadata: TokenMetadata, now: float) -> dict[str, str]:
    report: dict[str, str] = {}
    issued = metadata.access_token_issued_at
    expires = metadata.access_token_expires_at
    if issued is not None and expires is not None:
        report["Access token age"] = f"{now - issued:.0f} s"
        left = expires - now
        report["Access token"] = (
            f"valid for {left:.0f} s more" if left > 0 else f"expired {-left:.0f} s ago"
        )
    refresh_issued = metadata.refresh_token_issued_at
    if refresh_issued is not None:
        age = now - refresh_issued
        left = REFRESH_TOKEN_LIFETIME - age
        report["Refresh token age"] = f"{age / 3600:.1f} h"
        report["Refresh token"] = (
            f"expires in about {left / 86400:.1f} days unless used"
            if left > 0
            else "expired (unused for 30 days): run `tap-exactonline auth`"
        )
    report["Refreshes"] = str(metadata.refresh_count)
    if metadata.updated_at is not None:
        report["Store updated"] = time.strftime(
            "%Y-%m-%d %H:%M:%S UTC", time.gmtime(metadata.updated_at)
        )
    return report


@click.command(name="auth")
@click.option("--config", "config_paths", multiple=True, help="Config file, or ENV.")
@click.option("--status", is_flag=True, help="Show token age and expiry (no secrets).")
@click.option("--code", "code_input", help="The redirect URL (or code); else read from stdin.")
@click.option("--redirect-uri", help="Overrides the redirect_uri setting.")
@click.option("--region", help="Overrides the region setting.")
# `meltano invoke` also hands over the Singer files it keeps for the tap; auth needs none.
@click.option("--catalog", "--properties", "_catalog", hidden=True)
@click.option("--state", "_state", hidden=True)
def auth_command(
    config_paths: tuple[str, ...],
    status: bool,
    code_input: str | None,
    redirect_uri: str | None,
    region: str | None,
    _catalog: str | None,
    _state: str | None,
) -> None:
    """Authorize the app for an Exact Online user and write the encrypted token store."""
    config = load_config(config_paths)
    if region:
        config["region"] = region
    store = TokenStore(
        config.get("token_store_path") or ".secrets/tap-exactonline-tokens.json",
        _required(config, "token_store_key"),
    )
    if status:
        _status(store, config)
        return
    region_name = str(config.get("region") or "nl")
    host = host_for(region_name, config.get("base_url"))
    client_id = _required(config, "client_id")
    redirect = redirect_uri or _required(config, "redirect_uri")
    url = authorize_url(host, client_id, redirect)
    click.echo("Open this URL, log in and grant access:", err=True)
    click.echo(url, err=True)
    if code_input is None:
        click.echo("Paste the URL you were redirected to (or its code):", err=True)
        code_input = sys.stdin.readline()
    code = extract_code(code_input)
    endpoint = TokenEndpoint(host, client_id, _required(config, "client_secret"))
    try:
        payload = endpoint.exchange_code(code, redirect)
    except TokenEndpointError as exc:
        msg = f"code exchange failed: {exc} (codes are single-use and valid 3 minutes)"
        raise click.ClickException(msg) from exc
    now = time.time()
    with store.locked():
        try:
            previous = store.read()
        except TokenStoreError:
            previous = None
        seeds = list(previous.metadata.consumed_seeds) if previous else []
        configured_seed = config.get("refresh_token")
        if configured_seed:
            # The configured token predates this authorization: never let it win later.
            seeds.append(fingerprint(str(configured_seed)))
        store.write(
            TokenRecord(
                refresh_token=str(payload["refresh_token"]),
                access_token=str(payload["access_token"]),
                metadata=TokenMetadata(
                    region=region_name,
                    client_id=client_id,
                    divisions=list(previous.metadata.divisions) if previous else [],
                    access_token_issued_at=now,
                    access_token_expires_at=now + float(payload.get("expires_in", 600)),
                    refresh_token_issued_at=now,
                    consumed_seeds=seeds,
                ),
            ),
        )
    click.echo(f"Authorized. Tokens written to {store.path} (encrypted).", err=True)
