"""Region hosts, the authorize URL and redirect-code parsing (no network)."""

from __future__ import annotations

import pytest
from tap_exactonline.auth import authorize_url
from tap_exactonline.auth_cli import extract_code
from tap_exactonline.regions import REGION_HOSTS, SettingsError, host_for


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("nl", "https://start.exactonline.nl"),
        ("be", "https://start.exactonline.be"),
        ("uk", "https://start.exactonline.co.uk"),
        ("de", "https://start.exactonline.de"),
        ("fr", "https://start.exactonline.fr"),
        ("es", "https://start.exactonline.es"),
        ("us", "https://start.exactonline.com"),
    ],
)
def test_every_region_has_its_own_host(region, host):
    assert host_for(region) == host
    assert REGION_HOSTS[region] == host


def test_base_url_overrides_the_region_and_unknown_regions_are_refused():
    assert host_for("de", "http://127.0.0.1:9000/") == "http://127.0.0.1:9000"
    with pytest.raises(SettingsError, match="unknown region"):
        host_for("xx")
    with pytest.raises(SettingsError, match="not an http"):
        host_for("nl", "start.exactonline.nl")


def test_authorize_url_and_url_encoded_codes():
    url = authorize_url("https://start.exactonline.de", "cid", "https://app/cb")
    assert url.startswith("https://start.exactonline.de/api/oauth2/auth?client_id=cid&")
    assert "response_type=code" in url
    assert extract_code("https://app/cb?code=stamp%21abc&state=x") == "stamp!abc"
    assert extract_code("stamp!abc") == "stamp!abc"
