"""Behaviour 2: Exact's OAuth2 rules, over HTTP."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests


def test_authorization_redirects_with_code_and_state(own, authorize):
    response = authorize(own, state="xyz")
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert location.netloc == "app.example.com"
    assert query["state"] == ["xyz"]
    assert query["code"][0]


def test_authorization_code_grant_gives_exact_token_shape(own, authorize):
    code = parse_qs(urlsplit(authorize(own).headers["location"]).query)["code"][0]
    answer = own.token(
        grant_type="authorization_code", code=code, redirect_uri="https://app.example.com/cb"
    )
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == "600"  # a string, as Exact sends it


def test_authorization_code_is_single_use(own, authorize):
    code = parse_qs(urlsplit(authorize(own).headers["location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://app.example.com/cb",
    }
    assert own.token(**form).status_code == 200
    second = own.token(**form)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_authorization_code_expires_after_three_minutes(own, authorize):
    code = parse_qs(urlsplit(authorize(own).headers["location"]).query)["code"][0]
    own.advance(181)
    answer = own.token(
        grant_type="authorization_code", code=code, redirect_uri="https://app.example.com/cb"
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_refresh_rotates_the_refresh_token_and_refuses_the_used_one(own):
    refresh = own.admin("post", "tokens")["refresh_token"]
    first = own.token(grant_type="refresh_token", refresh_token=refresh)
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated != refresh
    reused = own.token(grant_type="refresh_token", refresh_token=refresh)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    own.advance(600)
    assert own.token(grant_type="refresh_token", refresh_token=rotated).status_code == 200


def test_refresh_within_570_seconds_is_refused_and_keeps_tokens(own):
    refresh = own.admin("post", "tokens")["refresh_token"]
    issued = own.token(grant_type="refresh_token", refresh_token=refresh).json()
    own.advance(500)
    too_early = own.token(grant_type="refresh_token", refresh_token=issued["refresh_token"])
    assert too_early.status_code == 400
    assert too_early.json() == {
        "error": "access_denied",
        "error_description": "Rate limit exceeded: access_token not expired",
    }
    own.access_token = issued["access_token"]
    assert own.get("system/Divisions", {"$select": "Code"}).status_code == 200
    own.advance(71)
    later = own.token(grant_type="refresh_token", refresh_token=issued["refresh_token"])
    assert later.status_code == 200


def test_expired_access_token_gets_401_with_www_authenticate(own):
    own.advance(601)
    response = own.get("system/Divisions", {"$select": "Code"})
    assert response.status_code == 401
    assert "access token expired" in response.headers["WWW-Authenticate"]


def test_missing_token_gets_401(own):
    response = requests.get(
        f"{own.base_url}/api/v1/{own.division}/system/Divisions",
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_unused_refresh_token_expires_after_30_days(own):
    refresh = own.admin("post", "tokens")["refresh_token"]
    own.advance(30 * 86_400 + 1)
    answer = own.token(grant_type="refresh_token", refresh_token=refresh)
    assert answer.status_code == 400
    assert "expired" in answer.json()["error_description"]


def test_wrong_client_credentials_are_refused(own):
    refresh = own.admin("post", "tokens")["refresh_token"]
    answer = own.token(grant_type="refresh_token", refresh_token=refresh, client_secret="nope")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_client"
    # The refused call did not consume the refresh token.
    assert own.token(grant_type="refresh_token", refresh_token=refresh).status_code == 200


def test_basic_auth_client_credentials_are_accepted(own):
    # RFC 6749 section 2.3.1: servers MUST accept client credentials as HTTP Basic; published
    # Exact clients send them that way.
    refresh = own.admin("post", "tokens")["refresh_token"]
    answer = requests.post(
        f"{own.base_url}/api/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=(own.info["client_id"], own.info["client_secret"]),
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.json()["expires_in"] == "600"
    wrong = requests.post(
        f"{own.base_url}/api/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": answer.json()["refresh_token"]},
        auth=(own.info["client_id"], "not-the-secret"),
        timeout=10,
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_client"
