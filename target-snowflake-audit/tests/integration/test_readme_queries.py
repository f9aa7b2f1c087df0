"""The SQL the README shows users is quoted as Snowflake needs, and runs."""

from __future__ import annotations

import re
from pathlib import Path

from archive_devkit.singer_messages import record_message, run_target, schema_message, singer_lines

from .conftest import DATABASE

README = Path(__file__).resolve().parents[2] / "README.md"
# Words that may stand unquoted in SQL: keywords and functions (Snowflake upper-cases them too,
# and they are not table or column names).
SQL_WORDS = frozenset(
    [
        "select",
        "from",
        "where",
        "and",
        "or",
        "not",
        "as",
        "is",
        "null",
        "in",
        "on",
        "join",
        "by",
        "order",
        "group",
        "desc",
        "asc",
        "limit",
        "qualify",
        "over",
        "partition",
        "row_number",
        "count",
        "sum",
        "max",
        "min",
        "distinct",
        "case",
        "when",
        "then",
        "else",
        "end",
        "create",
        "replace",
        "view",
        "copy",
        "grants",
        "typeof",
        "varchar",
        "true",
        "false",
        "with",
        "union",
        "all",
        "like",
        "show",
        "use",
        "schema",
        "table",
    ]
)


def _sql_snippets(text: str) -> list[str]:
    blocks = re.findall(r"```sql\n(.*?)```", text, re.DOTALL)
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    # Inline code may wrap onto the next line of the paragraph.
    spans = [
        span
        for span in re.findall(r"`([^`]+)`", prose)
        if re.search(r"\bselect\b.+\bfrom\b", span, re.IGNORECASE | re.DOTALL)
    ]
    return blocks + spans


def unquoted_lowercase_names(sql: str) -> list[str]:
    """Names Snowflake would read as upper case although this target stores them lowercase."""
    text = re.sub(r"'(?:[^']|'')*'", "''", sql)  # string literals
    text = re.sub(r'"(?:[^"]|"")*"', '""', text)  # quoted identifiers
    text = re.sub(r"--[^\n]*", "", text)
    text = re.sub(r"\bAS\s+[A-Za-z_]\w*", "AS", text, flags=re.IGNORECASE)  # aliases we define
    # Keys after `:` or `.` in a VARIANT path are JSON keys, and after `/` stage paths.
    words = re.findall(r"(?<![:./\w$<])[A-Za-z_][A-Za-z0-9_$]*", text)
    return [word for word in words if word != word.upper() and word.lower() not in SQL_WORDS]


def test_the_check_finds_unquoted_lowercase_names():
    assert _sql_snippets("Query them (`select amount_dc from\n  transaction_lines`).") == [
        "select amount_dc from\n  transaction_lines"
    ]
    assert unquoted_lowercase_names("select amount_dc from transaction_lines") == [
        "amount_dc",
        "transaction_lines",
    ]
    assert unquoted_lowercase_names('select "amount_dc" from DB.SCHEMA."transaction_lines"') == []


def test_every_query_in_the_readme_quotes_table_and_column_names():
    snippets = _sql_snippets(README.read_text())
    assert len(snippets) >= 3
    for sql in snippets:
        assert unquoted_lowercase_names(sql) == [], sql


def _user_queries() -> list[str]:
    text = README.read_text()
    section = text[text.index("### Querying the tables") :]
    (block,) = re.findall(r"```sql\n(.*?)```", section, re.DOTALL)[:1]
    return [statement.strip() for statement in block.split(";") if statement.strip()]


def test_the_readme_queries_a_user_types_run(config, schema_name, warehouse):
    properties = {
        "ID": {"type": "string"},
        "Division": {"type": "integer"},
        "EntryID": {"type": "string"},
        "GLAccount": {"type": "string"},
        "AmountDC": {"type": "number"},
        "Description": {"type": "string"},
    }
    record = {
        "ID": "t1",
        "Division": 100101,
        "EntryID": "e1",
        "GLAccount": "8000",
        "AmountDC": 12.5,
        "Description": "Sales",
    }
    run_target(
        config,
        singer_lines(
            schema_message("transaction_lines", properties),
            record_message("transaction_lines", record),
        ),
    )

    queries = _user_queries()
    assert len(queries) == 3
    for sql in queries:
        rows = warehouse(sql.replace("EXACT_ARCHIVE.EXACT_ONLINE.", f"{DATABASE}.{schema_name}."))
        assert len(rows) == 1, sql
