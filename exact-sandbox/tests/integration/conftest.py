"""Fixtures: sandboxes started in-process, and a small Exact client speaking HTTP to them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from exact_sandbox import SandboxServer

JSON = {"Accept": "application/json"}


class ExactClient:
    """Just enough of an Exact client for tests: tokens, GETs, paging, admin calls."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.base_url = server.base_url
        self.info = server.info
        self.division = server.info["divisions"][0]
        self.session = requests.Session()
        self.access_token = ""
        self.new_token()

    def new_token(self) -> str:
        refresh = self.admin("post", "tokens")["refresh_token"]
        answer = self.token(grant_type="refresh_token", refresh_token=refresh)
        assert answer.status_code == 200, answer.text
        self.access_token = answer.json()["access_token"]
        return self.access_token

    def token(self, **form: str) -> requests.Response:
        data = {
            "client_id": self.info["client_id"],
            "client_secret": self.info["client_secret"],
            **form,
        }
        return self.session.post(f"{self.base_url}/api/oauth2/token", data=data)

    def headers(self, accept_json: bool = True) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.access_token}"}
        if accept_json:
            headers.update(JSON)
        return headers

    def get(
        self,
        path: str,
        params: dict[str, str] | None = None,
        *,
        division: int | None = None,
        accept_json: bool = True,
    ) -> requests.Response:
        code = self.division if division is None else division
        url = f"{self.base_url}/api/v1/{code}/{path}"
        return self.session.get(url, params=params, headers=self.headers(accept_json))

    def get_url(self, url: str) -> requests.Response:
        return self.session.get(url, headers=self.headers())

    def all_rows(
        self, path: str, params: dict[str, str], *, division: int | None = None
    ) -> list[dict[str, Any]]:
        response = self.get(path, params, division=division)
        rows: list[dict[str, Any]] = []
        while True:
            assert response.status_code == 200, response.text
            body = response.json()["d"]
            rows.extend(body["results"])
            if "__next" not in body:
                return rows
            response = self.get_url(body["__next"])

    def admin(self, method: str, name: str, payload: Any = None) -> Any:
        response = self.session.request(
            method.upper(), f"{self.base_url}/_sandbox/{name}", json=payload
        )
        assert response.status_code == 200, response.text
        return response.json()

    def advance(self, seconds: float) -> None:
        self.admin("post", "clock", {"advance_seconds": seconds})


@pytest.fixture(scope="session")
def shared_server() -> Iterator[SandboxServer]:
    """One small three-division sandbox for read-mostly tests (limits raised)."""
    with SandboxServer(region="nl", seed=7, scale="small", divisions=3, clock="virtual") as server:
        requests.post(
            f"{server.base_url}/_sandbox/limits",
            json={"minutely": 1_000_000, "daily": 1_000_000},
            timeout=10,
        )
        yield server


@pytest.fixture
def exact(shared_server: SandboxServer) -> ExactClient:
    """A client of the shared sandbox."""
    return ExactClient(shared_server)


@pytest.fixture
def own_server() -> Iterator[SandboxServer]:
    """A tiny private sandbox (one division) for tests that move the clock or limits."""
    with SandboxServer(region="de", seed=3, scale="1200", divisions=1, clock="virtual") as server:
        yield server


@pytest.fixture
def own(own_server: SandboxServer) -> ExactClient:
    """A client of the private sandbox."""
    return ExactClient(own_server)


@pytest.fixture(scope="session")
def plain_server() -> Iterator[SandboxServer]:
    """A sandbox in plain-number mode (Edm.Int64 as JSON numbers, not OData's strings)."""
    with SandboxServer(seed=7, scale="600", divisions=1, int64_as_string=False) as server:
        yield server


@pytest.fixture
def plain(plain_server: SandboxServer) -> ExactClient:
    """A client of the plain-number sandbox."""
    return ExactClient(plain_server)


@pytest.fixture
def authorize() -> Any:
    """Walk the consent step (the sandbox auto-consents) without following the redirect."""

    def walk(client: ExactClient, state: str = "s1") -> requests.Response:
        return requests.get(
            f"{client.base_url}/api/oauth2/auth",
            params={
                "client_id": client.info["client_id"],
                "redirect_uri": "https://app.example.com/cb",
                "response_type": "code",
                "state": state,
            },
            allow_redirects=False,
            timeout=10,
        )

    return walk
