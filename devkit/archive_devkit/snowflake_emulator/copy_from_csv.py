r"""COPY INTO from CSV for the local emulator, reading files the way Snowflake does.

fakesnow 0.12.1 lets DuckDB sniff each CSV column's type, so `1234567890.123456789` is parsed
as a double before it reaches a NUMBER(38,9) column, a quoted empty field loads as NULL, and
`NULL_IF = ()`, `COMPRESSION = ZSTD`, `DATE_FORMAT`, `TIMESTAMP_FORMAT` and COPY
transformations (`SELECT $1, PARSE_JSON($2) ... FROM @stage`) are refused or ignored. This
module replaces fakesnow's COPY for CSV files only (other types go to fakesnow):

- every field is read as text and cast to its column's type, as Snowflake documents for CSV
  ("The default format is character-delimited UTF-8 text", user-guide/data-load-transform);
- `EMPTY_FIELD_AS_NULL`: only an empty *unenclosed* field is NULL; `""` is an empty string
  (sql-reference/sql/create-file-format);
- `NULL_IF` applies as given, to enclosed and unenclosed fields ("Snowflake converts all
  instances of the value to NULL"), its default being `('\\N')`;
- a field loaded into a VARIANT column without PARSE_JSON becomes a VARIANT *string*: what
  Snowflake does there is not documented, and this reading makes tests catch a COPY that
  relies on it;
- `DATE_FORMAT` / `TIMESTAMP_FORMAT` are enforced (a value in another form aborts the COPY);
- a COPY transformation may use `$n`, `PARSE_JSON($n)` and `METADATA$START_SCAN_TIME`
  (user-guide/data-load-transform, user-guide/querying-metadata);
- files loaded before are not loaded again, and when no file is left Snowflake's single
  `Copy executed with 0 files processed.` row is returned (the status Snowflake's .NET
  connector handles, snowflake-connector-net PR #32), not a LOAD_SKIPPED row per file.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import snowflake.connector.errors
from fakesnow import copy_into as fakesnow_copy
from fakesnow import logger
from fakesnow.transforms.options import parse_options
from sqlglot import exp

ZERO_FILES_STATUS = "Copy executed with 0 files processed."
_RESULT_COLUMNS = (
    "file",
    "status",
    "rows_parsed",
    "rows_loaded",
    "error_limit",
    "errors_seen",
    "first_error",
    "first_error_line",
    "first_error_character",
    "first_error_column_name",
)
# Snowflake format elements this emulator understands, as DuckDB strptime codes.
_FORMAT_ELEMENTS = (
    ("YYYY", "%Y"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("HH24", "%H"),
    ("MI", "%M"),
    ("SS", "%S"),
    ("FF6", "%f"),
    ("FF9", "%n"),
    ("TZH:TZM", "%z"),
)
_COMPRESSIONS = {"AUTO": None, "GZIP": "gzip", "ZSTD": "zstd", "NONE": "none"}
# A NULL string no CSV field of ours can hold (DuckDB needs at least one).
_NO_NULL_STRING = "\x00no-null\x00"


@dataclass(frozen=True)
class CsvFormat:
    """The Snowflake CSV file format options of one COPY."""

    delimiter: str = ","
    quote: str = ""
    empty_as_null: bool = True
    null_if: tuple[str, ...] = ("\\N",)
    compression: str | None = None
    date_format: str | None = None
    timestamp_format: str | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> CsvFormat:
        """Read FILE_FORMAT options, refusing any this emulator does not honour.

        Args:
            options: Upper-case option names and values (fakesnow's parse_options).

        Returns:
            The format.
        """
        fields: dict[str, Any] = {}
        for name, value in options.items():
            if name == "TYPE":
                continue
            if name == "FIELD_DELIMITER":
                fields["delimiter"] = str(value)
            elif name == "FIELD_OPTIONALLY_ENCLOSED_BY":
                fields["quote"] = "" if str(value).upper() == "NONE" else str(value)
            elif name == "NULL_IF":
                fields["null_if"] = tuple(
                    str(v) for v in (value if isinstance(value, list) else [value])
                )
            elif name == "EMPTY_FIELD_AS_NULL":
                fields["empty_as_null"] = bool(value)
            elif name == "COMPRESSION":
                fields["compression"] = _COMPRESSIONS[str(value).upper()]
            elif name == "DATE_FORMAT":
                fields["date_format"] = None if str(value).upper() == "AUTO" else str(value)
            elif name == "TIMESTAMP_FORMAT":
                fields["timestamp_format"] = None if str(value).upper() == "AUTO" else str(value)
            elif name == "ESCAPE_UNENCLOSED_FIELD" and str(value).upper() == "NONE":
                continue  # DuckDB never escapes in unenclosed fields
            else:
                msg = f"FILE_FORMAT option {name} = {value}"
                raise NotImplementedError(msg)
        return cls(**fields)

    def read_csv(self, url: str, columns: int) -> exp.Expr:
        """Return DuckDB's read_csv of one file as `columns` text columns `c1`..`cN`."""
        names = exp.Struct(
            expressions=[
                exp.PropertyEQ(
                    this=exp.to_identifier(f"c{n}"), expression=exp.Literal.string("VARCHAR")
                )
                for n in range(1, columns + 1)
            ]
        )
        # Only an empty unenclosed field is DuckDB's NULL here; NULL_IF is applied afterwards
        # (see field), to enclosed fields too.
        nulls = [""] if self.empty_as_null else [_NO_NULL_STRING]
        args: list[exp.Expr] = [
            _option("header", exp.false()),
            _option("auto_detect", exp.false()),
            _option("columns", names),
            _option("delim", exp.Literal.string(self.delimiter)),
            _option("quote", exp.Literal.string(self.quote)),
            _option("escape", exp.Literal.string(self.quote)),
            _option("nullstr", exp.array(*(exp.Literal.string(s) for s in nulls))),
            # An enclosed field is never NULL: `""` is an empty string, as in Snowflake.
            _option("allow_quoted_nulls", exp.false()),
        ]
        if self.compression:
            args.append(_option("compression", exp.Literal.string(self.compression)))
        return exp.func("read_csv", fakesnow_copy.FileTypeHandler.file_literal(url), *args)

    def field(self, number: int) -> exp.Expr:
        """The text of file field `number`, NULL when it is one of the NULL_IF strings."""
        column = exp.column(f"c{number}")
        if not self.null_if:
            return column
        listed = exp.In(
            this=column.copy(), expressions=[exp.Literal.string(s) for s in self.null_if]
        )
        return exp.If(this=listed, true=exp.Null(), false=column)


def _option(name: str, value: exp.Expr) -> exp.Expr:
    return exp.EQ(this=exp.Var(this=name), expression=value)


def duckdb_strptime_format(snowflake_format: str) -> str:
    """Translate a Snowflake date/timestamp format into DuckDB strptime codes.

    Args:
        snowflake_format: For example `YYYY-MM-DD HH24:MI:SS.FF6 TZH:TZM`.

    Returns:
        For example `%Y-%m-%d %H:%M:%S.%f %z`.
    """
    result, rest = [], snowflake_format
    while rest:
        for element, code in _FORMAT_ELEMENTS:
            if rest.startswith(element):
                result.append(code)
                rest = rest[len(element) :]
                break
        else:
            if rest[0].isalpha():
                msg = f"format element at {rest!r} in {snowflake_format!r}"
                raise NotImplementedError(msg)
            result.append(rest[0].replace("%", "%%"))
            rest = rest[1:]
    return "".join(result)


def _file_format(expr: exp.Copy) -> dict[str, Any]:
    for param in expr.args.get("params") or []:
        if isinstance(param.this, exp.Var) and param.this.name.upper() == "FILE_FORMAT":
            return parse_options(param.expressions)
    return {}


def _copy_options(expr: exp.Copy) -> set[str]:
    options = set()
    for param in expr.args.get("params") or []:
        name = param.this.name.upper()
        if name == "ON_ERROR":
            value = param.expression.name.upper()
            if value != "ABORT_STATEMENT":
                msg = f"ON_ERROR = {value}"
                raise NotImplementedError(msg)
        elif name != "FILE_FORMAT":
            options.add(name)
    return options


def is_csv_copy(expr: exp.Copy) -> bool:
    """Whether this COPY loads CSV files (the only kind this module handles)."""
    options = _file_format(expr)
    return "FORMAT_NAME" not in options and str(options.get("TYPE", "CSV")).upper() == "CSV"


def copy_csv_into(
    duck_conn: duckdb.DuckDBPyConnection,
    current_database: str | None,
    current_schema: str | None,
    expr: exp.Copy,
    table_stages: Any,
) -> str:
    """Run a CSV COPY INTO the way Snowflake reads the files; return the result query.

    Args:
        duck_conn: The session's DuckDB connection.
        current_database: The session's database.
        current_schema: The session's schema.
        expr: The (fakesnow-transformed) COPY statement.
        table_stages: fakesnow's table-stage registry.

    Returns:
        SQL whose result is the COPY's result rows (already executed on duck_conn).
    """
    csv_format = CsvFormat.from_options(_file_format(expr))
    options = _copy_options(expr)
    if options - {"FORCE"}:
        raise NotImplementedError(f"COPY options {sorted(options)}")
    table = fakesnow_copy._extract_table(expr.this)
    schema = table.db or current_schema
    described = fakesnow_copy._describe_table(table, duck_conn, current_database, schema)
    types = dict(described)
    target = [i.name for i in expr.this.expressions] if isinstance(expr.this, exp.Schema) else []
    target = target or [name for name, _ in described]
    load_time = datetime.datetime.now(datetime.UTC)
    source = fakesnow_copy._from_source(expr)
    if source.startswith("@"):
        source = fakesnow_copy.stage_url_from_var(
            source[1:], duck_conn, current_database, current_schema, table_stages, table
        )
    urls = fakesnow_copy._source_glob(source, duck_conn)
    selected, file_columns = _select_list(expr, target, types, csv_format, load_time)

    results: list[tuple[Any, ...]] = []
    histories: list[fakesnow_copy.LoadHistoryRecord] = []
    for url in urls:
        seen = duck_conn.execute(
            "SELECT 1 FROM _fs_information_schema._fs_load_history "
            "WHERE FILE_NAME = ? AND TABLE_NAME = ? AND SCHEMA_NAME = ? LIMIT 1",
            [url, table.name, schema],
        ).fetchone()
        if seen and "FORCE" not in options:
            continue  # Snowflake's load metadata skips files loaded before
        insert = exp.Insert(
            this=exp.Schema(
                this=table, expressions=[exp.to_identifier(n, quoted=True) for n in target]
            ),
            expression=exp.select(*selected).from_(csv_format.read_csv(url, file_columns)),
        )
        sql = insert.sql(dialect="duckdb")
        logger.log_sql(sql, None)
        try:
            (rows,) = duck_conn.execute(sql).fetchall()[0]
        except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"{exc.args[0].splitlines()[0]}\n  File '{url}'", errno=100038, sqlstate="22018"
            ) from None
        histories.append(_history(schema or "", url, table.name, load_time, rows))
        results.append(
            (fakesnow_copy._result_file_name(url), "LOADED", rows, rows, 1, 0) + (None,) * 4
        )
    if histories:
        duck_conn.executemany(
            "INSERT INTO _fs_information_schema._fs_load_history "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [tuple(history) for history in histories],
        )
    if not results:
        sql = f"SELECT '{ZERO_FILES_STATUS}' AS status"
    else:
        values = exp.values(results, alias="t", columns=list(_RESULT_COLUMNS))
        sql = exp.select("*").from_(values).sql(dialect="duckdb")
    duck_conn.execute(sql)
    return sql


def _history(
    schema: str, url: str, table: str, load_time: datetime.datetime, rows: int
) -> fakesnow_copy.LoadHistoryRecord:
    return fakesnow_copy.LoadHistoryRecord(
        schema_name=schema,
        file_name=url,
        table_name=table,
        last_load_time=load_time.isoformat(),
        status="LOADED",
        row_count=rows,
        row_parsed=rows,
        first_error_message=None,
        first_error_line_number=None,
        first_error_character_position=None,
        first_error_col_name=None,
        error_count=0,
        error_limit=1,
    )


def _select_list(
    expr: exp.Copy,
    target: Sequence[str],
    types: dict[str, str],
    csv_format: CsvFormat,
    load_time: datetime.datetime,
) -> tuple[list[exp.Expr], int]:
    """The SELECT list casting file fields to the target columns, and the file's field count."""
    source = expr.args["files"][0]
    if isinstance(source, exp.Subquery):
        expressions = list(source.this.expressions)
    else:
        expressions = [exp.Parameter(this=exp.Literal.number(n)) for n in range(1, len(target) + 1)]
    if len(expressions) != len(target):
        raise snowflake.connector.errors.ProgrammingError(
            msg=(
                "SQL compilation error: Insert value list does not match column list "
                f"expecting {len(target)} but got {len(expressions)}"
            ),
            errno=2020,
            sqlstate="21S01",
        )
    used: list[int] = []

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Parameter) and node.name.isdigit():
            used.append(int(node.name))
            return csv_format.field(int(node.name))
        if isinstance(node, exp.Column) and node.name.upper() == "METADATA$START_SCAN_TIME":
            return exp.cast(exp.Literal.string(load_time.isoformat()), "TIMESTAMPTZ")
        return node

    selected = []
    for column, expression in zip(target, expressions, strict=True):
        value = expression.copy().transform(rewrite)
        selected.append(_cast_to(value, types[column], csv_format))
    return selected, max(used, default=0)


def _cast_to(value: exp.Expr, duck_type: str, csv_format: CsvFormat) -> exp.Expr:
    """Convert a file field (text) to the column's type as Snowflake would, else keep it."""
    is_text = isinstance(value, (exp.Column, exp.If))
    if is_text and duck_type == "JSON":
        return exp.func("to_json", value)  # a VARIANT string (see the module docstring)
    if is_text and duck_type == "TIMESTAMP WITH TIME ZONE" and csv_format.timestamp_format:
        code = duckdb_strptime_format(csv_format.timestamp_format)
        return exp.func("strptime", value, exp.Literal.string(code))
    if is_text and duck_type == "DATE" and csv_format.date_format:
        code = duckdb_strptime_format(csv_format.date_format)
        return exp.cast(exp.func("strptime", value, exp.Literal.string(code)), "DATE")
    if isinstance(value, exp.ParseJSON):
        # A cast keeps the JSON text as it is; DuckDB's json() would turn numbers into doubles.
        return exp.cast(value.this, "JSON")
    return exp.cast(value, exp.DataType.build(duck_type, dialect="duckdb"))
