"""The SQL API transport: the same tables as the connector, and every documented answer handled.

The target talks HTTP to the dev kit's local SQL API server, which checks the key-pair JWT,
runs each statement on the session's emulator and, on demand, answers as Snowflake documents
for slow statements (202), timeouts (408), throttling (429, 503, 504), refusals (401, 403, 413,
422) or loses the answer after running a statement.
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import snowflake.connector
from archive_devkit.append_only import assert_append_only
from archive_devkit.clear_failures import assert_no_secret
from archive_devkit.key_pairs import PASSPHRASE, encrypted_pem, new_rsa_key
from archive_devkit.singer_messages import (
    TARGET_EXECUTABLE,
    record_message,
    run_target,
    run_target_command,
    schema_message,
    singer_lines,
    state_message,
)
from archive_devkit.snowflake_emulator import statement_audit
from archive_devkit.sql_api_server import Fault, SqlApiServer
from target_snowflake_audit.sql_api import SqlApiTransport

from .conftest import DATABASE, EMULATOR, base_config
from .sql_api_fixtures import loader_key, sql_api, sql_api_config, sql_api_settings

__all__ = ["loader_key", "sql_api", "sql_api_config"]  # fixtures, used by name

LEFT_OUT = {"_batch_id", "_loaded_at", "_sequence"}
EXTRACTED = "2024-06-01T08:00:00+00:00"

PROPERTIES = {
    "ID": {"type": "string"},
    "Division": {"type": "integer"},
    "AmountDC": {"type": ["number", "null"]},
    "Description": {"type": ["string", "null"]},
    "Modified": {"type": ["string", "null"], "format": "date-time"},
    "Date": {"type": ["string", "null"], "format": "date"},
    "IsBlocked": {"type": ["boolean", "null"]},
    "Quantity": {"type": ["integer", "null"]},
    "Tags": {"type": ["array", "null"]},
    "Address": {"type": ["object", "null"]},
}
# Values that catch a transport reading them differently: exact decimals beyond a double,
# empty strings, `\N`, quotes, backslashes, non-ASCII text, nested JSON, nulls, DST dates.
AMOUNTS = [
    "1234567890.123456789",
    "12345678901234567.12",
    "-98765432109876543210987654321.123456789",
    "0.30000000000000004",
    "12.50",
    "1.5e3",
    "0",
    "null",
]
DESCRIPTIONS = ["", "\\N", 'Quote " and \\ back', "Grüße, ĳ en 😀", "line\nbreak", None]


def _records(count: int) -> list[str]:
    """Raw RECORD lines (raw JSON keeps the amounts' digits)."""
    lines = []
    for n in range(count):
        record = {
            "ID": f"r{n % (count - 3)}",  # the last three are new versions of earlier records
            "Division": 100101 + n % 3,
            "Description": DESCRIPTIONS[n % len(DESCRIPTIONS)],
            "Modified": f"2024-03-31T0{n % 4}:30:00+0{n % 3}:00",
            "Date": None if n % 7 == 0 else f"2024-10-{27 + n % 3:02d}",
            "IsBlocked": None if n % 5 == 0 else bool(n % 2),
            "Quantity": n - 10,
            "Tags": ["x", n, None] if n % 2 else None,
            "Address": {"City": "'s-Hertogenbosch", "Lines": [n, "b"]} if n % 3 else None,
        }
        text = json.dumps(record)[:-1] + f', "AmountDC": {AMOUNTS[n % len(AMOUNTS)]}}}'
        lines.append(
            json.dumps(record_message("gl_entries", {}, time_extracted=EXTRACTED)).replace(
                '"record": {}', f'"record": {text}'
            )
        )
    return lines


def _singer_input(count: int = 60) -> str:
    records = _records(count)
    added = {**PROPERTIES, "Notes": {"type": ["string", "null"]}}
    return singer_lines(
        schema_message("gl_entries", PROPERTIES),
        *records[: count // 2],
        state_message({"bookmarks": {"gl_entries": {"replication_key_value": "half"}}}),
        schema_message("gl_entries", added),  # a column added mid-stream
        *records[count // 2 :],
        record_message(
            "gl_entries", {"ID": "n1", "Division": 1, "Notes": "added"}, time_extracted=EXTRACTED
        ),
        schema_message("cost_centers", {"ID": {"type": "string"}}),
        record_message("cost_centers", {"ID": "cc1"}, time_extracted=EXTRACTED),
        state_message({"bookmarks": {"gl_entries": {"replication_key_value": "all"}}}),
    )


def _rows(schema: str, relation: str) -> tuple[list[tuple[str, str]], list[tuple[Any, ...]]]:
    """A relation's columns (name, type) and its rows as text, audit run ids left out."""
    with snowflake.connector.connect(**EMULATOR, database=DATABASE) as connection:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, relation),
        )
        columns = [(str(name), str(kind)) for name, kind in cursor.fetchall()]
        compared = [name for name, _ in columns if name not in LEFT_OUT]
        select = ", ".join(f'"{name}"::VARCHAR' for name in compared)
        cursor.execute(
            f'SELECT {select} FROM {DATABASE}.{schema}."{relation}" '  # noqa: S608 - test SQL
            'ORDER BY "_record_id", "_record_hash"'
        )
        return columns, list(cursor.fetchall())


def _inserts(server: SqlApiServer) -> list[Any]:
    return [r for r in server.requests if r.method == "POST" and r.statement.startswith("INSERT")]


def test_the_same_input_gives_the_same_tables_through_both_transports(
    config, sql_api, sql_api_config, schema_name
):
    text = _singer_input()
    _, connector_states = run_target(config | {"schema": f"{schema_name}_C"}, text)
    before = len(statement_audit.statements())
    # Small requests: each batch takes several INSERTs, each under the byte bound.
    limit = 6000
    _, api_states = run_target(sql_api_config | {"sql_api_max_request_bytes": limit}, text)

    assert api_states == connector_states
    assert json.loads(api_states[-1])["bookmarks"]["gl_entries"]["replication_key_value"] == "all"
    for relation in ("gl_entries", "gl_entries__current", "cost_centers", "cost_centers__current"):
        connector_columns, connector_rows = _rows(f"{schema_name}_C", relation)
        api_columns, api_rows = _rows(schema_name, relation)
        assert api_columns == connector_columns, relation
        assert api_rows == connector_rows, relation
    _, history = _rows(schema_name, "gl_entries")
    assert len(history) == 61
    inserts = _inserts(sql_api)
    assert len(inserts) > 3  # the rows were cut by bytes ...
    assert max(r.body_bytes for r in inserts) <= limit  # ... and every request fits the bound
    assert not [r for r in sql_api.requests if r.retry]  # nothing needed resubmitting
    # The target's statements went through the SQL API only, none of them a session statement
    # (the server refuses USE, ALTER SESSION and transactions with 422), and appended only.
    assert_append_only(statement_audit.statements()[before:], expect_loads=True)


def test_decimals_travel_as_strings_inside_the_bound_json(sql_api, sql_api_config, warehouse):
    run_target(
        sql_api_config,
        singer_lines(
            schema_message("amounts", {"ID": {"type": "string"}, "A": {"type": "number"}}),
            '{"type": "RECORD", "stream": "amounts", "record": {"ID": "x", '
            '"A": 12345678901234567.12}}',
        ),
    )

    (insert,) = _inserts(sql_api)
    rows = json.loads(insert.bindings["1"]["value"])
    assert insert.bindings["1"]["type"] == "TEXT"
    assert "12345678901234567.12" in [field for row in rows for field in row]
    assert all(isinstance(field, str | None) for row in rows for field in row)  # no JSON number
    ((stored,),) = warehouse('SELECT "a"::VARCHAR FROM "amounts"')
    assert stored == "12345678901234567.120000000"


def _cli(tmp_path: Path, settings: dict[str, Any], text: str) -> subprocess.CompletedProcess[str]:
    return run_target_command(settings, text, tmp_path, env={"LOGLEVEL": "INFO"}, timeout=120)


def assert_one_clear_line(done: subprocess.CompletedProcess[str], code: int, *said: str) -> str:
    """The target exited with `code`, no traceback, and one ERROR line saying each of `said`."""
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if "| ERROR " in line]
    assert len(lines) == 1, done.stderr
    for text in said:
        assert text in lines[0], lines[0]
    return lines[0]


ONE_RECORD = singer_lines(
    schema_message("invoices", {"ID": {"type": "string"}}),
    record_message("invoices", {"ID": "i1"}),
    state_message({"bookmarks": {"invoices": "i1"}}),
)


def _load(server: SqlApiServer, settings: dict[str, Any], rows: int = 40) -> list[str]:
    _, states = run_target(
        settings,
        singer_lines(
            schema_message("invoices", {"ID": {"type": "string"}, "N": {"type": "integer"}}),
            *(record_message("invoices", {"ID": f"i{n}", "N": n}) for n in range(rows)),
            state_message({"bookmarks": {"invoices": "done"}}),
        ),
    )
    return states


def _stored_ids(warehouse: Any) -> list[str]:
    return [row[0] for row in warehouse('SELECT "id" FROM "invoices" ORDER BY "n"')]


def test_a_lost_answer_to_an_insert_never_doubles_its_rows(sql_api, sql_api_config, warehouse):
    # The INSERT runs, its answer is lost, and the server would even run a resubmission again
    # despite retry=true (the duplicate execution clients have reported): the table decides.
    sql_api.add_fault(Fault(0, match="INSERT INTO"))
    sql_api.ignore_retry_flag = True

    states = _load(sql_api, sql_api_config)

    assert _stored_ids(warehouse) == [f"i{n}" for n in range(40)]
    assert sql_api.executions("INSERT INTO") == 1  # the lost one; it was not sent again
    asked = [r.statement for r in sql_api.requests if "COUNT_IF" in r.statement]
    assert asked, "the table was not asked whether the chunk landed"
    assert json.loads(states[-1]) == {"bookmarks": {"invoices": "done"}}


def test_an_answer_lost_while_the_insert_still_runs_is_awaited_not_run_again(
    sql_api, sql_api_config, warehouse
):
    # The table does not hold the chunk yet, so it is resubmitted with its requestId and
    # retry=true, which Snowflake answers from the execution under way (202, then polled).
    sql_api.add_fault(Fault(0, match="INSERT INTO", seconds=1.0))

    _load(sql_api, sql_api_config)

    assert _stored_ids(warehouse) == [f"i{n}" for n in range(40)]
    lost, resubmitted = _inserts(sql_api)
    assert (lost.status, resubmitted.retry, resubmitted.executed) == (0, True, False)
    assert resubmitted.request_id == lost.request_id
    assert sql_api.executions("INSERT INTO") == 1


def test_an_insert_that_did_not_run_is_resubmitted_with_its_request_id(
    sql_api, sql_api_config, warehouse
):
    sql_api.add_fault(Fault(500, match="INSERT INTO"))  # answered without running it

    _load(sql_api, sql_api_config)

    assert _stored_ids(warehouse) == [f"i{n}" for n in range(40)]
    first, second = _inserts(sql_api)
    assert (first.status, first.executed, first.retry) == (500, False, False)
    assert (second.status, second.executed, second.retry) == (200, True, True)
    assert second.request_id == first.request_id


def test_a_lost_answer_to_another_statement_is_resubmitted_and_not_run_twice(
    sql_api, sql_api_config, warehouse
):
    sql_api.add_fault(Fault(0, match="CREATE TABLE"))

    _load(sql_api, sql_api_config)

    creates = [r for r in sql_api.requests if r.statement.startswith("CREATE TABLE")]
    assert len(creates) == 2
    assert creates[0].request_id == creates[1].request_id
    assert creates[1].retry
    assert [r.executed for r in creates] == [True, False]  # answered from the first run
    assert len(_stored_ids(warehouse)) == 40


def test_a_slow_insert_is_polled_until_it_is_done(sql_api, sql_api_config, warehouse):
    sql_api.add_fault(Fault(202, match="INSERT INTO", seconds=1.5))  # the server waits 0.5 s

    states = _load(sql_api, sql_api_config)

    polls = [r for r in sql_api.requests if r.method == "GET"]
    assert [r.status for r in polls][-1] == 200
    assert polls[0].status == 202
    assert len(_stored_ids(warehouse)) == 40
    assert states  # STATE came after the polled INSERT finished


def test_a_result_in_several_partitions_is_read_whole(sql_api, sql_api_config):
    _load(sql_api, sql_api_config, rows=120)  # the fixture's server sends 50 rows a partition
    transport = SqlApiTransport(sql_api_config, logging.getLogger("test"))
    transport.use_schema()
    try:
        rows = transport.execute('SELECT "id", "n" FROM "invoices" ORDER BY "n"')
    finally:
        transport.close()

    assert [row["n"] for row in rows] == list(range(120))
    partitions = [r.path.rsplit("partition=", 1)[-1] for r in sql_api.requests if r.method == "GET"]
    assert partitions == ["1", "2"]


def test_throttling_waits_as_retry_after_says_then_loads_once(sql_api, sql_api_config, warehouse):
    sql_api.add_fault(Fault(429, match="INSERT INTO", retry_after=1))
    sql_api.add_fault(Fault(503, match="INSERT INTO", retry_after=1))

    _load(sql_api, sql_api_config | {"retry_max_attempts": 3})

    inserts = _inserts(sql_api)
    assert [r.status for r in inserts] == [429, 503, 200]
    assert inserts[1].at - inserts[0].at >= 1.0
    assert inserts[2].at - inserts[1].at >= 1.0
    assert len({r.request_id for r in inserts}) == 1
    assert len(_stored_ids(warehouse)) == 40


def test_throttling_without_retry_after_backs_off_and_gives_up_clearly(
    sql_api, sql_api_config, tmp_path
):
    sql_api.add_fault(Fault(504, match="INSERT INTO"))
    sql_api.add_fault(Fault(429, match="INSERT INTO", times=5))
    settings = sql_api_config | {"retry_max_attempts": 3}

    done = _cli(tmp_path, settings, ONE_RECORD)

    assert_one_clear_line(done, 4, "stream 'invoices'", "INSERT", "HTTP 429", "3 attempts")
    assert [r.status for r in _inserts(sql_api)] == [504, 429, 429]  # three attempts, then stop
    assert not done.stdout  # no STATE for what was not loaded


def test_a_timed_out_insert_is_submitted_again(sql_api, sql_api_config, warehouse):
    sql_api.add_fault(Fault(408, match="INSERT INTO"))

    _load(sql_api, sql_api_config)

    assert [r.status for r in _inserts(sql_api)] == [408, 200]
    assert len(_stored_ids(warehouse)) == 40


def test_a_request_too_large_halves_the_chunk(sql_api, sql_api_config, warehouse):
    sql_api.add_fault(Fault(413, match="INSERT INTO"))

    _load(sql_api, sql_api_config)

    statuses = [r.status for r in _inserts(sql_api)]
    assert statuses == [413, 200, 200]
    first, *halves = _inserts(sql_api)
    assert all(half.body_bytes < first.body_bytes * 0.6 for half in halves)
    assert _stored_ids(warehouse) == [f"i{n}" for n in range(40)]


def test_a_refused_token_is_renewed_once(sql_api, sql_api_config, warehouse):
    sql_api.add_fault(Fault(401, match="INSERT INTO"))

    _load(sql_api, sql_api_config)

    assert [r.status for r in _inserts(sql_api)] == [401, 200]
    assert len(_stored_ids(warehouse)) == 40


@pytest.fixture
def registered_other_key(sql_api: SqlApiServer) -> Iterator[None]:
    """The server knows the loader user with another public key than the one configured."""
    known = dict(sql_api.checker.public_keys)
    sql_api.checker.public_keys["LOADER"] = new_rsa_key().public_key()
    yield
    sql_api.checker.public_keys.clear()
    sql_api.checker.public_keys.update(known)


def test_a_key_snowflake_does_not_know_ends_in_one_clear_line(
    sql_api, sql_api_config, registered_other_key, tmp_path
):
    done = _cli(tmp_path, sql_api_config, ONE_RECORD)

    line = assert_one_clear_line(done, 4, "refused the key-pair JWT", "RSA_PUBLIC_KEY")
    assert "390144" in line
    assert_no_secret(done, [PASSPHRASE, sql_api_config["private_key"].splitlines()[1]])
    # Refused twice: the first token and the one issued after the first 401.
    reasons = [reason for _, reason in sql_api.login_failures.values()]
    assert reasons == ["JWT_TOKEN_INVALID_PUBLIC_KEY_FINGERPRINT_MISMATCH"] * 2
    assert not done.stdout  # no STATE: nothing was loaded


def test_a_failed_insert_names_the_stream_table_and_statement(sql_api, sql_api_config, tmp_path):
    sql_api.add_fault(Fault(422, match="INSERT INTO"))

    done = _cli(tmp_path, sql_api_config, ONE_RECORD)

    assert_one_clear_line(
        done, 4, "stream 'invoices'", '"invoices"', "INSERT failed (HTTP 422)", "100038"
    )
    assert_no_secret(done, [PASSPHRASE])
    assert not done.stdout


def test_another_refusal_is_a_clear_error(sql_api, sql_api_config, tmp_path):
    sql_api.add_fault(Fault(403, match="CREATE TABLE"))

    done = _cli(tmp_path, sql_api_config, ONE_RECORD)

    assert_one_clear_line(done, 4, "CREATE TABLE", "HTTP 403")


def test_a_password_with_the_sql_api_is_a_settings_error(sql_api, sql_api_config, tmp_path):
    done = _cli(tmp_path, sql_api_config | {"password": "Sn0w-secret-pw"}, ONE_RECORD)

    assert_one_clear_line(done, 2, "transport sql_api", "no password")
    assert_no_secret(done, ["Sn0w-secret-pw", PASSPHRASE])
    assert not sql_api.requests  # refused before anything was sent


def test_check_runs_through_the_sql_api(sql_api, sql_api_config, tmp_path):
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(sql_api_config))

    done = subprocess.run(
        [str(TARGET_EXECUTABLE), "--config", str(config_path), "check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("OK") and "SQL API" in line for line in lines), done.stdout
    assert not [line for line in lines if line.startswith("FAIL")], done.stdout
    assert sql_api.executions("INSERT INTO") == 0  # cases are read back, no table is written


def test_a_settings_file_for_another_account_is_refused(sql_api, tmp_path, schema_name):
    other = sql_api_settings(sql_api, schema_name) | {"account": "other12345.eu-central-1"}

    done = _cli(tmp_path, other, ONE_RECORD)

    assert_one_clear_line(done, 4, "refused the key-pair JWT")
    reasons = [reason for _, reason in sql_api.login_failures.values()]
    assert reasons == ["JWT_TOKEN_ACCOUNT_MISMATCH"] * 2


def test_a_connector_configuration_is_unchanged_by_the_new_settings(schema_name, warehouse):
    # transport defaults to the connector: no key pair needed, PUT + COPY as before.
    settings = base_config(schema_name)
    run_target(settings, ONE_RECORD)

    assert warehouse('SELECT "id" FROM "invoices"') == [("i1",)]
    assert any(s.startswith("COPY INTO") for s in statement_audit.statements())


def test_the_encrypted_key_file_works_too(sql_api, loader_key, schema_name, tmp_path, warehouse):
    key_path = tmp_path / "rsa_key.p8"
    key_path.write_text(encrypted_pem(loader_key))
    settings = sql_api_settings(sql_api, schema_name)
    settings.pop("private_key")

    run_target(settings | {"private_key_path": str(key_path)}, ONE_RECORD)

    assert warehouse('SELECT "id" FROM "invoices"') == [("i1",)]
