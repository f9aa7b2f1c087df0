"""Behaviour 7: rate limits per client and division, and the client-error block."""

from __future__ import annotations

import math

import requests
from exact_sandbox import SandboxServer

DIVISIONS = ("system/Divisions", {"$select": "Code"})
MINUTELY = (
    "X-RateLimit-Minutely-Limit",
    "X-RateLimit-Minutely-Remaining",
    "X-RateLimit-Minutely-Reset",
)
DAILY = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def start_of_fresh_minute(client):
    """Move the virtual clock to a little after the next minute boundary."""
    epoch = client.admin("get", "clock")["epoch"]
    client.advance(math.floor(epoch / 60) * 60 + 61 - epoch)


def test_every_division_call_carries_both_header_sets(own):
    start_of_fresh_minute(own)
    response = own.get(*DIVISIONS)
    for header in MINUTELY + DAILY:
        assert header in response.headers
    assert response.headers["X-RateLimit-Limit"] == "5000"
    assert response.headers["X-RateLimit-Minutely-Limit"] == "60"
    assert response.headers["X-RateLimit-Minutely-Remaining"] == "59"
    reset = int(response.headers["X-RateLimit-Minutely-Reset"])
    assert reset % 60_000 == 0  # epoch milliseconds on a clock-minute boundary
    assert int(response.headers["X-RateLimit-Reset"]) % 86_400_000 == 0


def test_over_the_minutely_limit_gives_429_with_empty_body_and_minutely_headers_only(own):
    own.admin("post", "limits", {"minutely": 3})
    start_of_fresh_minute(own)
    statuses = [own.get(*DIVISIONS).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = own.get(*DIVISIONS)
    assert refused.status_code == 429
    assert refused.content == b""
    assert refused.headers["X-RateLimit-Minutely-Remaining"] == "0"
    for header in DAILY:
        assert header not in refused.headers
    assert own.admin("get", "stats")["responses_429"] == 1


def test_minute_windows_are_fixed_clock_minutes(own):
    own.admin("post", "limits", {"minutely": 2})
    start_of_fresh_minute(own)
    assert [own.get(*DIVISIONS).status_code for _ in range(3)] == [200, 200, 429]
    start_of_fresh_minute(own)
    assert own.get(*DIVISIONS).status_code == 200


def test_daily_limit_refuses_after_the_last_call_of_the_day(own):
    own.admin("post", "limits", {"daily": 2, "minutely": 100})
    assert [own.get(*DIVISIONS).status_code for _ in range(2)] == [200, 200]
    refused = own.get(*DIVISIONS)
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    epoch = own.admin("get", "clock")["epoch"]
    own.advance(math.floor(epoch / 86_400) * 86_400 + 86_401 - epoch)
    own.new_token()
    assert own.get(*DIVISIONS).status_code == 200


def test_current_me_is_not_counted(own):
    own.admin("post", "limits", {"minutely": 2})
    start_of_fresh_minute(own)
    for _ in range(5):
        me = own.session.get(f"{own.base_url}/api/v1/current/Me", headers=own.headers())
        assert me.status_code == 200
        assert "X-RateLimit-Minutely-Remaining" not in me.headers
    assert own.get(*DIVISIONS).headers["X-RateLimit-Minutely-Remaining"] == "1"


def test_limits_count_per_division(exact):
    first, second = exact.info["divisions"][:2]
    a = exact.get(*DIVISIONS, division=first).headers["X-RateLimit-Remaining"]
    b = exact.get(*DIVISIONS, division=second).headers["X-RateLimit-Remaining"]
    a_again = exact.get(*DIVISIONS, division=first).headers["X-RateLimit-Remaining"]
    b_again = exact.get(*DIVISIONS, division=second).headers["X-RateLimit-Remaining"]
    assert int(a) - int(a_again) == 1
    assert int(b) - int(b_again) == 1


def test_more_than_ten_client_errors_per_endpoint_block_the_client_for_an_hour(own):
    own.admin("post", "limits", {"minutely": 1000})
    for _ in range(11):
        assert own.get("bulk/Financial/TransactionLines").status_code == 400
    blocked = own.get(*DIVISIONS)
    assert blocked.status_code == 403
    own.advance(3601)
    own.new_token()
    assert own.get(*DIVISIONS).status_code == 200


def test_ten_client_errors_do_not_block(own):
    own.admin("post", "limits", {"minutely": 1000})
    for _ in range(10):
        assert own.get("bulk/Financial/TransactionLines").status_code == 400
    assert own.get(*DIVISIONS).status_code == 200


def test_limits_are_settable_at_start():
    with SandboxServer(scale="300", divisions=1, minutely_limit=7, daily_limit=70) as server:
        limits = requests.get(f"{server.base_url}/_sandbox/limits", timeout=10).json()
        assert limits == {"minutely": 7, "daily": 70}
