"""The Snowflake proxy forwards requests and drops or slows statements as its dice say."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest
import requests
from archive_devkit.snowflake_proxy import ProxyFaults, SnowflakeProxy

STATEMENT = "/queries/v1/query-request?requestId=1"


class CountingHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        CountingHandler.seen.append(self.path)
        answer = b'{"echo": ' + body + b"}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[int]:
    CountingHandler.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def post(port: int, path: str, body: bytes = b"1") -> requests.Response:
    return requests.post(f"http://127.0.0.1:{port}{path}", data=body, timeout=10)


def test_without_faults_every_request_and_answer_passes(upstream):
    with SnowflakeProxy(upstream, seed=1, faults=ProxyFaults(0, 0, 0)) as proxy:
        session = requests.Session()
        for number in range(3):
            answer = session.post(f"http://127.0.0.1:{proxy.port}{STATEMENT}", data=b"%d" % number)
            assert answer.json() == {"echo": number}
    assert len(CountingHandler.seen) == 3
    assert proxy.stats.statements == 3
    assert proxy.stats.faults == 0


def test_a_drop_before_forwarding_never_reaches_the_emulator(upstream):
    with (
        SnowflakeProxy(upstream, seed=1, faults=ProxyFaults(1, 0, 0)) as proxy,
        pytest.raises(requests.ConnectionError),
    ):
        post(proxy.port, STATEMENT)
    assert CountingHandler.seen == []
    assert proxy.stats.dropped_before == 1


def test_a_drop_after_the_answer_loses_an_answer_the_emulator_gave(upstream):
    with (
        SnowflakeProxy(upstream, seed=1, faults=ProxyFaults(0, 1, 0)) as proxy,
        pytest.raises(requests.ConnectionError),
    ):
        post(proxy.port, STATEMENT)
    assert CountingHandler.seen == [STATEMENT]
    assert proxy.stats.dropped_after == 1


def test_only_statements_are_faulted(upstream):
    with SnowflakeProxy(upstream, seed=1, faults=ProxyFaults(1, 0, 0)) as proxy:
        assert post(proxy.port, "/session/v1/login-request").status_code == 200
    assert proxy.stats.statements == 0


def test_slow_answers_arrive_late_but_whole(upstream):
    faults = ProxyFaults(0, 0, 1, slow_seconds=(0.2, 0.2))
    with SnowflakeProxy(upstream, seed=1, faults=faults) as proxy:
        answer = post(proxy.port, STATEMENT, b"7")
    assert answer.json() == {"echo": 7}
    assert answer.elapsed.total_seconds() >= 0.2
    assert proxy.stats.slowed == 1


def test_the_same_seed_draws_the_same_faults(upstream):
    outcomes = []
    for _ in range(2):
        faults = ProxyFaults(0.3, 0.3, 0)
        with SnowflakeProxy(upstream, seed=42, faults=faults) as proxy:
            drawn = []
            for _ in range(20):
                try:
                    post(proxy.port, STATEMENT)
                    drawn.append("ok")
                except requests.ConnectionError:
                    drawn.append("dropped")
            outcomes.append(drawn)
    assert outcomes[0] == outcomes[1]
    assert {"ok", "dropped"} <= set(outcomes[0])
