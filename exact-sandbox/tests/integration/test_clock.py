"""Behaviour 8: the virtual clock moves on request and keeps flowing in real time."""

from __future__ import annotations

import time

import requests
from exact_sandbox import SandboxServer


def test_virtual_clock_advances_and_keeps_flowing(own):
    start = own.admin("get", "clock")
    moved = own.admin("post", "clock", {"advance_seconds": 3600})
    assert moved["epoch"] - start["epoch"] >= 3600
    time.sleep(0.2)
    later = own.admin("get", "clock")
    assert later["epoch"] - moved["epoch"] >= 0.2
    assert later["mode"] == "virtual"


def test_real_clock_refuses_to_move():
    with SandboxServer(scale="300", divisions=1, clock="real") as server:
        response = requests.post(
            f"{server.base_url}/_sandbox/clock", json={"advance_seconds": 10}, timeout=10
        )
        assert response.status_code == 400
