"""`target-snowflake-audit check`: a self-test to run against a real account before the first load.

It connects with the configured authentication and transport, checks the warehouse and the
role's schema privileges, and loads one batch of edge cases (check_cases.py) through the real
load path (the same encoder, PUT and COPY as a load) into a TEMPORARY table, which Snowflake
drops when the session ends: no audit table is touched and nothing is dropped. The SQL API has
no session and no temporary tables, so with `transport: sql_api` the cases are read back
through the load's own SELECT over the bound chunk (ddl.chunk_select), without a table. Each
step and case prints one line: `OK`, `FAIL` with expected vs got, or, on the local emulator,
`EMULATOR-DIFFERENCE` for what the emulator is known not to do (with the Snowflake page that
settles it). The exit status is 0 only when nothing failed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from singer_sdk.exceptions import ConfigValidationError
from snowflake.connector import errors as sf_errors

from target_snowflake_audit import ddl, privileges
from target_snowflake_audit.check_cases import (
    AUDIT_EXPECTATIONS,
    CASES,
    CHECK_KEYS,
    CHECK_SCHEMA,
    Case,
    Expectation,
)
from target_snowflake_audit.connector import SettingsError, TargetSnowflakeError
from target_snowflake_audit.ddl import Column
from target_snowflake_audit.loader import Loader, warehouse_warning
from target_snowflake_audit.naming import column_names, table_name
from target_snowflake_audit.records import ColumnSpec, EncoderSpec, RowEncoder
from target_snowflake_audit.staging import BatchFile, batch_rows
from target_snowflake_audit.transport import Transport, open_transport
from target_snowflake_audit.types import column_kind

OK, FAIL, EMULATOR_DIFFERENCE = "OK", "FAIL", "EMULATOR-DIFFERENCE"
_DOCS = "https://docs.snowflake.com/en/sql-reference"
_NO_ACCESS_CONTROL = (
    "privileges not checked: the emulator has no roles or grants "
    f"(Snowflake: {_DOCS}/sql/show-grants)"
)
_FIXED_WAREHOUSE = (
    "AUTO_RESUME not checked: the emulator answers every SHOW WAREHOUSES with one fixed, "
    f"running warehouse (Snowflake: {_DOCS}/sql/show-warehouses)"
)


@dataclass
class Report:
    """The check's printed lines and its verdict."""

    write: Callable[[str], None]
    failures: int = 0
    differences: int = 0
    passed: int = 0
    lines: list[str] = field(default_factory=list)

    def add(self, outcome: str, subject: str, detail: str = "") -> None:
        """Print one line and count it."""
        if outcome == FAIL:
            self.failures += 1
        elif outcome == EMULATOR_DIFFERENCE:
            self.differences += 1
        else:
            self.passed += 1
        line = f"{outcome:<20} {subject}" + (f": {detail}" if detail else "")
        self.lines.append(line)
        self.write(" ".join(line.split("\n")))


def _config(args: Sequence[str]) -> dict[str, Any]:
    """Read and validate the settings named by `--config` (as the SDK reads them)."""
    from target_snowflake_audit.target import TargetSnowflakeAudit  # noqa: PLC0415 - heavy

    parser = argparse.ArgumentParser(prog="target-snowflake-audit check")
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        help="settings JSON file, or ENV for TARGET_SNOWFLAKE_AUDIT_* variables (as the SDK reads)",
    )
    options = parser.parse_args(list(args))
    if not options.config:
        msg = (
            "no settings: pass --config FILE "
            "(Meltano does: meltano invoke target-snowflake-audit check)"
        )
        raise SettingsError(msg)
    parse_env = "ENV" in options.config
    settings: dict[str, Any] = {}
    for path in (path for path in options.config if path != "ENV"):
        try:
            settings.update(json.loads(Path(path).read_text()))
        except (OSError, ValueError) as exc:
            msg = f"cannot read the settings file {path}: {exc}"
            raise SettingsError(msg) from None
    try:
        target = TargetSnowflakeAudit(config=settings, parse_env_config=parse_env)
    except ConfigValidationError as exc:
        msg = f"invalid settings: {'; '.join(exc.errors) or exc}"
        raise SettingsError(msg) from None
    config = dict(target.config)
    target.dispatcher.close()
    return config


def run_check(args: Sequence[str], write: Callable[[str], None] = print) -> int:
    """Run the self-test and return the exit status (0: everything as expected).

    Args:
        args: Command-line arguments after `check` is removed (`--config FILE`).
        write: Where report lines go (standard output).

    Returns:
        0 when no step or case failed, else 1.
    """
    config = _config(args)
    # Snowflake serves only HTTPS; plain HTTP is the local emulator (see the README).
    emulated = config.get("protocol") == "http"
    report = Report(write)
    logger = logging.getLogger("target-snowflake-audit")
    connection = open_transport(config, logger)
    try:
        with tempfile.TemporaryDirectory(prefix="target-snowflake-audit-check-") as staging:
            _run_steps(connection, config, Path(staging), logger, report, emulated=emulated)
    finally:
        connection.close()  # ends the session: Snowflake drops the temporary table
    verdict = "FAILED" if report.failures else "passed"
    write(
        f"check {verdict}: {report.passed} OK, {report.failures} failed, "
        f"{report.differences} emulator differences"
    )
    return 1 if report.failures else 0


def _run_steps(
    connection: Transport,
    config: dict[str, Any],
    staging_dir: Path,
    logger: logging.Logger,
    report: Report,
    *,
    emulated: bool,
) -> None:
    try:
        (session,) = connection.execute("SELECT CURRENT_USER() AS u, CURRENT_ROLE() AS r")
    except (TargetSnowflakeError, sf_errors.Error) as exc:
        report.add(FAIL, "connection", connection.redact(str(exc)))
        return
    method = (
        "key pair" if config.get("private_key") or config.get("private_key_path") else "password"
    )
    transport = "connector" if connection.stages_files else "SQL API"
    detail = f"user {session['u']}, role {session['r']} ({method}, {transport})"
    report.add(OK, "connection", detail)
    _check_warehouse(connection, str(config["warehouse"]), report, emulated=emulated)
    loader = Loader(connection=connection, config=config, staging_dir=staging_dir, logger=logger)
    try:
        try:
            loader.start()
        except (TargetSnowflakeError, sf_errors.Error) as exc:
            report.add(FAIL, "schema and stage", str(exc))
            return
        usable = (
            f"{connection.schema} and {loader.stage} are"
            if connection.stages_files
            else (
                f"{connection.schema} is"  # no stage: the SQL API loads with INSERTs
            )
        )
        report.add(OK, "schema and stage", f"{usable} usable")
        _check_privileges(connection, str(session["r"]), report, emulated=emulated)
        _check_cases(connection, loader, config, report, emulated=emulated)
    finally:
        loader.pipeline.close()


def _check_warehouse(
    connection: Transport, warehouse: str, report: Report, *, emulated: bool
) -> None:
    try:
        rows = connection.execute(ddl.show_warehouses(warehouse))
        warning = warehouse_warning(warehouse, rows)
    except (TargetSnowflakeError, sf_errors.Error) as exc:
        report.add(FAIL, "warehouse", connection.redact(str(exc)))
        return
    if emulated:
        report.add(EMULATOR_DIFFERENCE, "warehouse", _FIXED_WAREHOUSE)
    elif warning:
        report.add(FAIL, "warehouse", warning)
    else:
        report.add(OK, "warehouse", f"{warehouse} exists and resumes by itself (AUTO_RESUME)")


def _check_privileges(connection: Transport, role: str, report: Report, *, emulated: bool) -> None:
    if emulated:
        report.add(EMULATOR_DIFFERENCE, "privileges", _NO_ACCESS_CONTROL)
        return
    try:
        grants = connection.execute(ddl.show_grants_on_schema(connection.schema))
        inherited = {
            (kind, name): _in_session(connection, kind, name)
            for kind, name in privileges.grantees(grants)
        }
    except TargetSnowflakeError as exc:
        report.add(FAIL, "privileges", str(exc))
        return
    except Exception as exc:  # any refusal is a failed check, reported
        report.add(FAIL, "privileges", connection.redact(str(exc)))
        return
    required = privileges.required_on_schema(stages_files=connection.stages_files)
    missing = privileges.missing_privileges(
        grants, lambda kind, name: inherited[(kind, name)], required
    )
    if missing:
        fix = privileges.grant_statement(missing, connection.schema, role)
        report.add(FAIL, "privileges", f"role {role} lacks {', '.join(missing)}; fix: {fix}")
    else:
        held = ", ".join(required)
        report.add(OK, "privileges", f"role {role} may {held} in {connection.schema}")


def _in_session(connection: Transport, kind: str, name: str) -> bool:
    function = "IS_DATABASE_ROLE_IN_SESSION" if kind == "DATABASE_ROLE" else "IS_ROLE_IN_SESSION"
    (row,) = connection.execute(f"SELECT {function}(%s) AS inherited", (name,))
    return bool(row["inherited"])


def _check_cases(
    connection: Transport,
    loader: Loader,
    config: dict[str, Any],
    report: Report,
    *,
    emulated: bool,
) -> None:
    table = table_name(f"_audit_check_{loader.run_id}")
    properties: dict[str, Any] = dict(CHECK_SCHEMA["properties"])
    names = column_names(properties, reserved=ddl.AUDIT_COLUMN_NAMES)
    columns = {prop: Column(names[prop], column_kind(properties[prop])) for prop in names}
    qualified = connection.qualified(table)
    if connection.stages_files:
        try:
            all_columns = [*columns.values(), *ddl.AUDIT_COLUMNS]
            connection.execute(ddl.create_table(qualified, all_columns, temporary=True))
        except Exception as exc:  # reported as the check's failure
            report.add(FAIL, "temporary table", connection.redact(str(exc)))
            return
    encoder = EncoderSpec(
        columns=tuple(
            ColumnSpec(prop, column.name, properties[prop], column.kind)
            for prop, column in columns.items()
        ),
        required=(),
        allow_additional=True,
        key_properties=CHECK_KEYS,
        tenant_property=str(config.get("tenant_property", "Division")),
        source_system=str(config.get("source_system", "Exact Online")),
        store_document=True,
    ).build()
    run = _CaseRun(
        connection=connection,
        loader=loader,
        encoder=encoder,
        table=table,
        file_columns=[*columns.values(), *ddl.STAGED_AUDIT_COLUMNS],
        report=report,
        emulated=emulated,
    )
    batches = [[case for case in CASES if not case.separate_batch]]
    batches += [[case] for case in CASES if case.separate_batch]
    for cases in batches:
        if connection.stages_files:
            run.copy(cases)
        else:
            run.select(cases)


@dataclass
class _CaseRun:
    """The edge cases encoded by the load's encoder, loaded or selected, each read back."""

    connection: Transport
    loader: Loader
    encoder: RowEncoder
    table: str
    file_columns: list[Column]
    report: Report
    emulated: bool

    def _encode(self, cases: list[Case]) -> tuple[str, BatchFile]:
        """One batch file holding the cases."""
        sequence = self.loader.sequence_counter(self.table)
        batch_id, batch_file = self.loader.new_batch(self.table)
        for case in cases:
            line = self.encoder.encode_record(
                dict(case.record),
                time_extracted=None,
                deleted_at=None,
                sequence=next(sequence),
                batch_id=batch_id,
            )
            batch_file.write_line(line)
        return batch_id, batch_file

    def copy(self, cases: list[Case]) -> None:
        """Load the cases with PUT + COPY into the temporary table and read each back."""
        batch_id, batch_file = self._encode(cases)
        try:
            self.loader.load(
                stream_name="check",
                table=self.table,
                columns=self.file_columns,
                batch_id=batch_id,
                batch_file=batch_file,
            )
        except TargetSnowflakeError as exc:
            for case in cases:
                _report_case(self.report, case, f"load failed: {exc}", emulated=self.emulated)
            return
        qualified = self.connection.qualified(self.table)
        for case in cases:
            mismatch = _compare(self.connection, qualified, case)
            _report_case(self.report, case, mismatch, emulated=self.emulated)

    def select(self, cases: list[Case]) -> None:
        """Read the cases back through the INSERT's own SELECT over their bound chunk (SQL API)."""
        _, batch_file = self._encode(cases)
        path = batch_file.close()
        try:
            chunk = json.dumps(list(batch_rows(path, batch_file.compression)))
        finally:
            path.unlink(missing_ok=True)
        loaded = f"({ddl.chunk_select(self.file_columns, loaded_at=True)}) AS loaded"
        for case in cases:
            mismatch = _compare(self.connection, loaded, case, (chunk,))
            _report_case(self.report, case, mismatch, emulated=self.emulated)


def _compare(
    connection: Transport, table: str, case: Case, params: tuple[Any, ...] = ()
) -> str | None:
    """Read a case back; return the first expected-vs-got difference, or None."""
    expectations = (*case.expectations, *AUDIT_EXPECTATIONS)
    select = ", ".join(f"{item.sql} AS v{n}" for n, item in enumerate(expectations))
    try:
        rows = connection.execute(
            f'SELECT {select} FROM {table} WHERE "id" = %s',  # noqa: S608 - fixed SQL
            (*params, case.record["id"]),
        )
    except Exception as exc:  # reported as the case's failure
        return f"reading it back failed: {connection.redact(str(exc))}"
    if len(rows) != 1:
        return f"expected 1 row, got {len(rows)}"
    for n, item in enumerate(expectations):
        got = rows[0][f"v{n}"]
        if not _same(item, got):
            return f"{item.label}: expected {item.expected!r}, got {got!r}"
    return None


def _same(item: Expectation, got: Any) -> bool:
    expected = item.expected
    if isinstance(expected, datetime.datetime):
        return isinstance(got, datetime.datetime) and got.tzinfo is not None and got == expected
    if isinstance(expected, bool):
        return got is expected or got == expected
    return type(got) is type(expected) and got == expected


def _report_case(report: Report, case: Case, mismatch: str | None, *, emulated: bool) -> None:
    subject = f"case {case.name!r}"
    if mismatch is None:
        report.add(OK, subject)
    elif emulated and case.emulator_difference:
        report.add(EMULATOR_DIFFERENCE, subject, f"{case.emulator_difference}; here: {mismatch}")
    else:
        report.add(FAIL, subject, mismatch)
