"""The command-line contract: one JSON line on stdout, then serving."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import requests

SCRIPT = Path(sys.executable).parent / "exact-sandbox"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "exact_sandbox.cli"]


def test_cli_prints_one_json_line_then_serves():
    process = subprocess.Popen(
        [
            *COMMAND,
            "serve",
            "--port",
            "0",
            "--region",
            "uk",
            "--scale",
            "500",
            "--divisions",
            "2",
            "--clock",
            "virtual",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        assert set(info) == {
            "base_url",
            "region",
            "client_id",
            "client_secret",
            "refresh_token",
            "divisions",
        }
        assert info["region"] == "uk"
        assert info["divisions"] == [300101, 300102]
        token = requests.post(
            f"{info['base_url']}/api/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": info["refresh_token"],
                "client_id": info["client_id"],
                "client_secret": info["client_secret"],
            },
            timeout=10,
        )
        assert token.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM)
