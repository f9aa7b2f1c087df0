"""Bad settings and unreachable hosts: one line naming what to fix, a documented exit code."""

from __future__ import annotations

import socket
import subprocess

import pytest
from archive_devkit import clear_failures
from archive_devkit.ports import free_port
from archive_devkit.tap_runs import OFFLINE_SECRETS, offline_config, write_json
from archive_devkit.tap_runs import run_tap_cli as run
from tap_exactonline.errors import ExitCode
from tap_exactonline.tap import cli


def test_a_missing_setting_is_named(tmp_path):
    config = offline_config(tmp_path)
    del config["client_id"]
    done = run(config, tmp_path)
    assert_one_clear_line(done, ExitCode.SETTINGS, "invalid settings", "client_id")


def test_an_unknown_region_is_named(tmp_path):
    done = run(offline_config(tmp_path, region="xx"), tmp_path)
    assert_one_clear_line(done, ExitCode.SETTINGS, "invalid settings", "xx")


def test_a_base_url_that_is_not_a_url_is_named(tmp_path):
    done = run(offline_config(tmp_path, base_url="start.exactonline.nl"), tmp_path)
    assert_one_clear_line(done, ExitCode.SETTINGS, "base_url", "not an http(s) URL")


def test_a_refused_connection_names_the_host_and_the_settings_to_check(tmp_path):
    host = f"http://127.0.0.1:{free_port()}"
    done = run(offline_config(tmp_path, base_url=host), tmp_path)
    assert_one_clear_line(done, ExitCode.UNREACHABLE, "connection refused", host, "base_url")
    assert_no_secret(done)


def test_an_unresolvable_host_names_the_host(tmp_path, monkeypatch, capsys):
    # No DNS query leaves this machine: name resolution itself is the test double.
    def no_such_host(host: str, *args: object, **kwargs: object) -> list:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    config = offline_config(tmp_path, region="de")
    config_path = write_json(tmp_path / "config.json", config)
    with pytest.raises(SystemExit) as ended:
        cli(["--config", config_path])
    assert ended.value.code == ExitCode.UNREACHABLE
    stderr = capsys.readouterr().err
    assert "cannot resolve the host 'start.exactonline.de'" in stderr
    assert "region" in stderr
    assert "Traceback" not in stderr


def test_debug_logging_shows_the_traceback(tmp_path):
    host = f"http://127.0.0.1:{free_port()}"
    done = run(
        offline_config(tmp_path, base_url=host),
        tmp_path,
        env={"TAP_EXACTONLINE_LOGLEVEL": "DEBUG"},
    )
    assert done.returncode == ExitCode.UNREACHABLE
    assert "Traceback" in done.stderr
    assert_no_secret(done)


def assert_one_clear_line(done: subprocess.CompletedProcess, code: ExitCode, *said: str) -> str:
    return clear_failures.assert_one_clear_line(done, "tap-exactonline", code, *said)


def assert_no_secret(done: subprocess.CompletedProcess) -> None:
    clear_failures.assert_no_secret(done, OFFLINE_SECRETS)
