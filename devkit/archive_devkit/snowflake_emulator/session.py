"""Statement rewrites that make the local emulator answer like Snowflake.

Applied to each statement before fakesnow translates it to DuckDB:

- `CREATE TEMPORARY TABLE db.schema."t"`: DuckDB keeps temporary tables in its own `temp`
  catalog and refuses a qualified name. The table is created there and later references to
  `db.schema."t"` in the same session are pointed at it. Like Snowflake's, it belongs to the
  session and vanishes with it (sql-reference/sql/create-table, "TEMPORARY").
- `TYPEOF(v)` names the kind of value a VARIANT holds (`OBJECT`, `ARRAY`, `VARCHAR`, ...) as
  Snowflake's does (sql-reference/functions/typeof); DuckDB's says `JSON` for all of them.
- `CREATE OR REPLACE VIEW ... COPY GRANTS`: the emulator has no grants to copy; the clause
  is dropped (DuckDB's SQL has none).
- `ALTER TABLE ... ADD COLUMN ... DEFAULT <not a constant>` is refused, as Snowflake refuses
  it ("Only adding a column as a constant is supported";
  GH:snowflakedb/terraform-provider-snowflake#3095, sql-reference/sql/alter-table).
- `STRIP_NULL_VALUE(v[i])::VARCHAR` is the element's text, SQL NULL for a JSON null
  (sql-reference/functions/strip_null_value); fakesnow reads `v[i]::VARCHAR` that way already,
  but casts STRIP_NULL_VALUE's result as JSON text (quotes included).
- `PARSE_JSON(text)` keeps the JSON text's numbers as written, as the emulator's COPY does
  (copy_from_csv.py): DuckDB's json() would read `1234567890.123456789` as a double and the
  SQL API transport's INSERTs (PARSE_JSON) would store other digits than the connector's COPY
  (PARSE_JSON too). Snowflake parses both the same way (sql-reference/functions/parse_json).
"""

from __future__ import annotations

from typing import Any

import snowflake.connector.errors
from sqlglot import exp

# Snowflake's TYPEOF names for the JSON kinds DuckDB's json_type reports.
_TYPEOF_NAMES = {
    "OBJECT": "OBJECT",
    "ARRAY": "ARRAY",
    "VARCHAR": "VARCHAR",
    "BOOLEAN": "BOOLEAN",
    "NULL": "NULL_VALUE",
    "BIGINT": "INTEGER",
    "UBIGINT": "INTEGER",
    "DOUBLE": "DECIMAL",
}
_TEMPORARY_TABLES = "_audit_temporary_tables"
_CONSTANT_DEFAULTS = (exp.Literal, exp.Null, exp.Boolean)


def apply(expression: exp.Expr, session: Any) -> exp.Expr:
    """Rewrite one parsed statement for the emulator (see the module docstring).

    Args:
        expression: The statement, parsed as Snowflake SQL.
        session: fakesnow's connection object of the session (keeps per-session state).

    Returns:
        The rewritten statement.

    Raises:
        snowflake.connector.errors.ProgrammingError: Snowflake would refuse the statement.
    """
    _refuse_non_constant_default(expression)
    for copy_grants in expression.find_all(exp.CopyGrantsProperty):
        copy_grants.pop()
    expression = expression.transform(_typeof, copy=False)
    expression = expression.transform(_strip_null_value_as_text, copy=False)
    expression = expression.transform(_parse_json_keeps_digits, copy=False)
    return _temporary_tables(expression, session)


def _refuse_non_constant_default(expression: exp.Expr) -> None:
    if not isinstance(expression, exp.Alter):
        return
    for action in expression.args.get("actions") or []:
        for default in action.find_all(exp.DefaultColumnConstraint):
            value = default.this
            if isinstance(value, exp.Neg):
                value = value.this
            if not isinstance(value, _CONSTANT_DEFAULTS):
                raise snowflake.connector.errors.ProgrammingError(
                    msg=(
                        "SQL compilation error: Invalid column default expression "
                        f"[{default.this.sql(dialect='snowflake')}]: only adding a column "
                        "as a constant is supported"
                    ),
                    errno=2,
                    sqlstate="0A000",
                )


def _typeof(node: exp.Expr) -> exp.Expr:
    if not isinstance(node, exp.Typeof):
        return node
    kind = exp.func("json_type", node.this)
    case = exp.Case(this=kind)
    for json_kind, snowflake_kind in _TYPEOF_NAMES.items():
        case = case.when(exp.Literal.string(json_kind), exp.Literal.string(snowflake_kind))
    return case


def _strip_null_value_as_text(node: exp.Expr) -> exp.Expr:
    if (
        isinstance(node, exp.Cast)
        and isinstance(node.this, exp.StripNullValue)
        and node.to.is_type(*exp.DataType.TEXT_TYPES)
    ):
        node.set("this", node.this.this)
    return node


def _parse_json_keeps_digits(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.ParseJSON) and not isinstance(node.parent, exp.Kwarg):
        return exp.Cast(this=node.this, to=exp.DataType.build("JSON"))
    return node


def _key(table: exp.Table, session: Any) -> tuple[str, str, str]:
    return (
        (table.catalog or session.database or "").lower(),
        (table.db or session.schema or "").lower(),
        table.name.lower(),
    )


def _in_temp_catalog(table: exp.Table) -> exp.Table:
    return exp.Table(
        this=table.this.copy(), db=exp.to_identifier("main"), catalog=exp.to_identifier("temp")
    )


def _temporary_tables(expression: exp.Expr, session: Any) -> exp.Expr:
    known: set[tuple[str, str, str]] = getattr(session, _TEMPORARY_TABLES, set())
    if (
        isinstance(expression, exp.Create)
        and expression.args.get("kind") == "TABLE"
        and expression.find(exp.TemporaryProperty)
        and (table := expression.find(exp.Table)) is not None
        and (table.catalog or table.db)
    ):
        known.add(_key(table, session))
        setattr(session, _TEMPORARY_TABLES, known)
        # Created unqualified (DuckDB puts it in `temp`); fakesnow's bookkeeping after a
        # CREATE TABLE then uses the session's database, which exists.
        table.replace(exp.Table(this=table.this.copy()))
        return expression
    if not known:
        return expression

    def point_at_temp(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.name and _key(node, session) in known:
            return _in_temp_catalog(node)
        return node

    return expression.transform(point_at_temp, copy=False)
