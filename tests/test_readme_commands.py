"""Every command in README.md is run here or by another named test, so the README cannot rot.

The production commands run against the local stand-ins: the `prod` environment of
meltano.yml is used as written, and only hosts, ports and credentials are pointed at loopback
through the environment variables Meltano reads (which take precedence over meltano.yml).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from archive_devkit.local_stack import LocalStack
from archive_devkit.paths import BIN_DIR, REPO_ROOT
from archive_devkit.pipeline import reconcile_stack, table_row_counts, warehouse_cursor
from archive_devkit.reconcile import format_report
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.serialization import load_pem_private_key

README = REPO_ROOT / "README.md"
PASSPHRASE = "correct horse battery staple"

# README command -> where it is exercised. A new README command must be added here.
EXERCISED: dict[str, str] = {
    "make demo": "test_make_demo_runs_the_whole_demo (tests/test_demo.py)",
    'make demo DEMO_ARGS="--transport sql_api"': (
        "test_demo_interrupted_with_ctrl_c_stops_every_process_it_started[sql_api]"
        " (tests/test_demo.py) starts it (the SQL API server among its processes);"
        " test_meltano_run_over_the_sql_api_loads_every_record_with_bound_inserts"
        " (tests/test_sql_api_pipeline.py) loads and reconciles one entity the same way; the"
        " whole run (3.5-5 minutes here) is run by hand"
    ),
    "make test": ".ci/run (CI runs exactly this command)",
    "make benchmarks": "test_benchmarks_print_their_figures (tests/test_demo.py)",
    "make chaos": (
        "test_make_chaos_short_form_holds_every_invariant (tests/test_chaos.py) runs it with"
        " CHAOS_ARGS=--short; the full form is run by hand (see the README's figures)"
    ),
    'make chaos CHAOS_ARGS="--seed 7 --rounds 6"': "the same code as `make chaos`, longer",
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"': (
        "test_fernet_key_command_prints_a_valid_key"
    ),
    "meltano --environment prod invoke tap-exactonline--nl auth": (
        "test_auth_commands_through_meltano_invoke"
    ),
    "meltano --environment prod invoke tap-exactonline--nl auth --status": (
        "test_auth_commands_through_meltano_invoke"
    ),
    "meltano --environment prod invoke tap-exactonline--nl check": (
        "test_check_commands_through_meltano_invoke"
    ),
    "meltano --environment prod invoke target-snowflake-audit check": (
        "test_check_commands_through_meltano_invoke"
    ),
    "openssl genrsa 2048 | openssl pkcs8 -topk8 -v2 aes-256-cbc -out .secrets/snowflake_key.p8 "
    "-passout env:SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": "test_prod_environment_commands",
    "openssl rsa -in .secrets/snowflake_key.p8 -passin env:SNOWFLAKE_PRIVATE_KEY_PASSPHRASE "
    "-pubout -out .secrets/snowflake_key.pub": "test_prod_environment_commands",
    "meltano install": "the meltano_plugins fixture (tests/conftest.py)",
    "meltano --environment prod run tap-exactonline--nl target-snowflake-audit": (
        "test_prod_environment_commands"
    ),
    "meltano --environment prod run exact-to-snowflake": "test_prod_environment_commands",
    "meltano --environment prod run --full-refresh exact-to-snowflake": (
        "test_prod_environment_commands"
    ),
    "meltano schedule list": "test_schedule_commands",
    "meltano --environment prod schedule run exact-to-snowflake-weekly": (
        "test_prod_environment_commands"
    ),
    "meltano schedule add exact-to-snowflake-daily --job exact-to-snowflake --interval '@daily'": (
        "test_schedule_commands"
    ),
}


def readme_commands() -> list[str]:
    """Shell commands from the README's ```sh blocks (assignments and comments left out)."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.DOTALL):
        for raw in block.splitlines():
            line = raw.split("  #")[0].strip()
            if not line or line.startswith("#") or re.match(r"^[A-Z_]+=", line):
                continue
            commands.append(line)
    return commands


def run(
    command: str, env: dict[str, str], cwd: Path = REPO_ROOT, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a README command exactly as written, with the venv's tools first on PATH."""
    env = {**env, "PATH": f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}"}
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_every_readme_command_is_exercised_by_a_test() -> None:
    commands = readme_commands()
    assert commands, "README has no sh blocks"
    missing = [command for command in commands if command not in EXERCISED]
    assert not missing, f"README commands no test runs: {missing}"
    stale = [command for command in EXERCISED if command not in commands]
    assert not stale, f"commands no longer in the README: {stale}"


def test_fernet_key_command_prints_a_valid_key() -> None:
    command = next(c for c in EXERCISED if c.startswith("python -c"))
    result = run(command, dict(os.environ))
    assert result.returncode == 0, result.stderr
    Fernet(result.stdout.strip().encode())  # raises if it is not a valid key


# The commands are what this module tests, not volume: one division per region (the tap still
# discovers it) halves the ten pipeline runs of the prod commands.
STACK_DIVISIONS_PER_REGION = 1


def prod_env(stack: LocalStack, secrets_dir: Path) -> dict[str, str]:
    """The `prod` environment pointed at the local stack; secrets under `secrets_dir`."""
    env = stack.meltano_env()
    for region, sandbox in stack.sandboxes.items():
        prefix = f"TAP_EXACTONLINE__{region.upper()}_"
        env[prefix + "BASE_URL"] = sandbox.base_url
        env[prefix + "TOKEN_STORE_PATH"] = str(secrets_dir / f"exact-{region}.tokens")
    env |= {
        "SNOWFLAKE_ACCOUNT": "fakesnow",
        "SNOWFLAKE_USER": "exact_loader",
        "SNOWFLAKE_ROLE": "exact_loader",
        "SNOWFLAKE_WAREHOUSE": "fakesnow_warehouse",
        "SNOWFLAKE_DATABASE": "exact_archive",
        "SNOWFLAKE_SCHEMA": "exact_online",
        "SNOWFLAKE_PRIVATE_KEY_PATH": str(secrets_dir / "snowflake_key.p8"),
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": PASSPHRASE,
        "TARGET_SNOWFLAKE_AUDIT_HOST": "127.0.0.1",
        "TARGET_SNOWFLAKE_AUDIT_PORT": str(stack.snowflake_port),
        "TARGET_SNOWFLAKE_AUDIT_PROTOCOL": "http",
        "TARGET_SNOWFLAKE_AUDIT_CREATE_SCHEMA": "true",
    }
    env.pop("SNOWFLAKE_PASSWORD", None)
    return env


def test_prod_environment_commands(stack: LocalStack, tmp_path: Path) -> None:
    secrets_dir = tmp_path / ".secrets"
    secrets_dir.mkdir()
    env = prod_env(stack, secrets_dir)

    # The key-pair commands, as written, in a scratch copy of the layout they expect.
    for command in [c for c in EXERCISED if c.startswith("openssl")]:
        result = run(command, env, cwd=tmp_path)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
    key_pem = (secrets_dir / "snowflake_key.p8").read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in key_pem
    load_pem_private_key(key_pem, PASSPHRASE.encode())
    assert (secrets_dir / "snowflake_key.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY")

    counts: list[dict[str, int]] = []
    for command in (
        "meltano --environment prod run tap-exactonline--nl target-snowflake-audit",
        "meltano --environment prod run exact-to-snowflake",
        "meltano --environment prod schedule run exact-to-snowflake-weekly",
    ):
        result = run(command, env)
        assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        counts.append(table_row_counts(stack))
    # The scheduled run came after the job with nothing changed in Exact: it added no rows
    # (incremental bookmarks held; full tables are resent only when they changed).
    assert counts[2] == counts[1]
    assert counts[1]["transaction_lines"] > counts[0]["transaction_lines"]  # DE and UK came in

    figures = reconcile_stack(stack)
    with warehouse_cursor(stack) as cursor:
        cursor.execute('SELECT COUNT(*) FROM "transaction_lines"')
        rows_before_full_refresh = int(cursor.fetchone()[0])
    assert all(figure.matches for figure in figures), format_report(
        [figure for figure in figures if not figure.matches]
    )

    # A full refresh re-reads everything: every record gets a fresh snapshot row.
    command = "meltano --environment prod run --full-refresh exact-to-snowflake"
    result = run(command, env)
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    with warehouse_cursor(stack) as cursor:
        cursor.execute('SELECT COUNT(*) FROM "transaction_lines__current"')
        live = int(cursor.fetchone()[0])
        cursor.execute('SELECT COUNT(*) FROM "transaction_lines"')
        assert int(cursor.fetchone()[0]) >= rows_before_full_refresh + live


def test_auth_commands_through_meltano_invoke(stack: LocalStack, tmp_path: Path) -> None:
    secrets_dir = tmp_path / ".secrets"
    secrets_dir.mkdir()
    env = prod_env(stack, secrets_dir)
    env.pop("EXACT_NL_REFRESH_TOKEN")
    env["EXACT_NL_REDIRECT_URI"] = "https://localhost/exact-callback"
    base_url = stack.sandboxes["nl"].base_url

    # The user opens the printed URL; the sandbox consents at once and redirects with a code.
    process = subprocess.Popen(
        ["bash", "-c", "meltano --environment prod invoke tap-exactonline--nl auth"],
        cwd=REPO_ROOT,
        env={**env, "PATH": f"{BIN_DIR}{os.pathsep}{env['PATH']}"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    seen = []
    authorize_url = None
    for line in process.stdout:
        seen.append(line)
        match = re.search(r"(https?://\S+/api/oauth2/auth\?\S+)", line)
        if match:
            authorize_url = match.group(1)
            break
    assert authorize_url is not None, "".join(seen)
    assert authorize_url.startswith(base_url)
    redirect = follow_once(authorize_url)
    process.stdin.write(redirect + "\n")
    process.stdin.flush()
    process.stdin.close()
    rest = process.stdout.read()
    assert process.wait(timeout=120) == 0, "".join(seen) + rest
    assert (secrets_dir / "exact-nl.tokens").exists()

    status = run("meltano --environment prod invoke tap-exactonline--nl auth --status", env)
    assert status.returncode == 0, status.stdout + status.stderr
    output = status.stdout + status.stderr
    assert "expire" in output.lower()
    assert stack.sandboxes["nl"].info["client_secret"] not in output


def test_check_commands_through_meltano_invoke(stack: LocalStack, tmp_path: Path) -> None:
    secrets_dir = tmp_path / ".secrets"
    secrets_dir.mkdir()
    env = prod_env(stack, secrets_dir)
    for command in [c for c in EXERCISED if c.startswith("openssl")]:
        assert run(command, env, cwd=tmp_path).returncode == 0
    sandbox = stack.sandboxes["nl"]
    tap = run("meltano --environment prod invoke tap-exactonline--nl check", env)
    assert tap.returncode == 0, tap.stdout[-3000:] + tap.stderr[-3000:]
    assert "Every endpoint conforms." in tap.stdout
    assert "OK       sync/Financial/TransactionLines (transaction_lines)" in tap.stdout
    for secret in (sandbox.info["client_secret"], env["EXACT_TOKEN_STORE_KEY"]):
        assert secret not in tap.stdout + tap.stderr

    target = run("meltano --environment prod invoke target-snowflake-audit check", env)
    assert target.returncode == 0, target.stdout[-3000:] + target.stderr[-3000:]
    assert PASSPHRASE not in target.stdout + target.stderr


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def follow_once(url: str) -> str:
    """The Location the authorize endpoint redirects the browser to."""
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(url, timeout=30)
    assert redirect.value.code in (302, 303)
    return str(redirect.value.headers["Location"])


def test_schedule_commands(tmp_path: Path) -> None:
    listed = run("meltano schedule list", dict(os.environ))
    assert listed.returncode == 0, listed.stderr
    assert "exact-to-snowflake-weekly" in listed.stdout
    assert "@weekly" in listed.stdout

    # Adding a schedule edits meltano.yml: do it in a scratch copy of the project file.
    shutil.copy(REPO_ROOT / "meltano.yml", tmp_path / "meltano.yml")
    command = next(c for c in EXERCISED if c.startswith("meltano schedule add"))
    added = run(command, dict(os.environ), cwd=tmp_path)
    assert added.returncode == 0, added.stdout + added.stderr
    assert "exact-to-snowflake-daily" in (tmp_path / "meltano.yml").read_text()
