"""meltano.yml declares every setting each plugin accepts, secrets as sensitive, nothing extra."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
import yaml
from archive_devkit.paths import BIN_DIR, REPO_ROOT

PLUGINS = {
    "extractors": ("tap-exactonline", "tap-exactonline"),
    "loaders": ("target-snowflake-audit", "target-snowflake-audit"),
}


def declared(kind: str, name: str) -> dict[str, dict[str, Any]]:
    project = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
    plugin = next(p for p in project["plugins"][kind] if p["name"] == name)
    return {setting["name"]: setting for setting in plugin["settings"]}


def accepted(executable: str) -> dict[str, dict[str, Any]]:
    about = subprocess.run(
        [str(BIN_DIR / executable), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    properties: dict[str, dict[str, Any]] = json.loads(about.stdout)["settings"]["properties"]
    return properties


@pytest.mark.parametrize("kind", sorted(PLUGINS))
def test_meltano_yml_declares_exactly_the_settings_the_plugin_accepts(kind: str) -> None:
    name, executable = PLUGINS[kind]
    assert set(declared(kind, name)) == set(accepted(executable))


@pytest.mark.parametrize("kind", sorted(PLUGINS))
def test_every_secret_setting_is_sensitive_in_meltano_yml(kind: str) -> None:
    name, executable = PLUGINS[kind]
    settings = declared(kind, name)
    for setting, schema in accepted(executable).items():
        is_secret = bool(schema.get("secret") or schema.get("writeOnly"))
        assert bool(settings[setting].get("sensitive")) == is_secret, setting


def test_meltano_yml_holds_no_credentials() -> None:
    text = (REPO_ROOT / "meltano.yml").read_text()
    project = yaml.safe_load(text)
    for kind in ("extractors", "loaders"):
        for plugin in project["plugins"][kind]:
            for key, value in (plugin.get("config") or {}).items():
                if key in {"client_id", "client_secret", "refresh_token", "token_store_key"}:
                    assert str(value).startswith("${"), f"{plugin['name']}.{key} must come from env"
    assert "BEGIN PRIVATE KEY" not in text
