"""The target's settings: their JSON schema (what `--about` and Meltano show) and defaults."""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th

from target_snowflake_audit.sinks import DEFAULT_BATCH_MAX_BYTES, DEFAULT_BATCH_SIZE_ROWS

# An INSERT's request body, SQL API transport. Snowflake advises statements (bound values
# included) of at most 1 MB (user-guide/query-size-limits); a 413 halves a chunk anyway.
DEFAULT_MAX_REQUEST_BYTES = 1_000_000

# Records per chunk handed to a worker process: large enough that inter-process overhead is
# small, small enough that every worker gets work early and memory stays a few MB.
DEFAULT_CHUNK_ROWS = 1000
# Default worker processes at most: four encode well over 100,000 rows/s, more than one target
# process can read and load, and each worker costs about 35 MB.
DEFAULT_MAX_WORKERS = 4

CONFIG_SCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property("account", th.StringType, required=True, description="Account identifier"),
    th.Property("user", th.StringType, required=True, description="Login name"),
    th.Property("role", th.StringType, description="Role to use (default: user's default)"),
    th.Property("warehouse", th.StringType, required=True, description="Warehouse"),
    th.Property("database", th.StringType, required=True, description="Target database"),
    th.Property("schema", th.StringType, required=True, description="Target schema"),
    th.Property(
        "private_key",
        th.StringType,
        secret=True,
        description="Private key as PEM text or base64-encoded DER",
    ),
    th.Property("private_key_path", th.StringType, description="Path to a PEM or DER key"),
    th.Property(
        "private_key_passphrase",
        th.StringType,
        secret=True,
        description="Passphrase of an encrypted private key",
    ),
    th.Property("password", th.StringType, secret=True, description="Password"),
    th.Property("host", th.StringType, description="Host override (private link, emulator)"),
    th.Property("port", th.IntegerType, description="Port override"),
    th.Property(
        "protocol",
        th.StringType,
        allowed_values=["https", "http"],
        description="Protocol override (http only for the local emulator)",
    ),
    th.Property(
        "transport",
        th.StringType,
        default="connector",
        allowed_values=["connector", "sql_api"],
        description=(
            "How statements reach Snowflake: the Python connector (PUT + COPY), or the SQL API "
            "over HTTPS with a key-pair JWT (bound INSERTs; no password)"
        ),
    ),
    th.Property(
        "sql_api_max_request_bytes",
        th.IntegerType,
        default=DEFAULT_MAX_REQUEST_BYTES,
        description="Upper bound of one SQL API request body (an INSERT's rows are cut to fit)",
    ),
    th.Property(
        "sql_api_poll_seconds",
        th.NumberType,
        default=0.5,
        description="Seconds between status requests for a statement still running (HTTP 202)",
    ),
    th.Property(
        "sql_api_request_timeout_seconds",
        th.NumberType,
        default=60,
        description="Seconds to wait for one HTTP answer before its outcome counts as unknown",
    ),
    th.Property(
        "sql_api_statement_timeout_seconds",
        th.IntegerType,
        description=(
            "The request's `timeout`: Snowflake cancels a statement running longer (default: "
            "the account's STATEMENT_TIMEOUT_IN_SECONDS)"
        ),
    ),
    th.Property(
        "source_system",
        th.StringType,
        default="Exact Online",
        description="Value of the _source_system audit column",
    ),
    th.Property(
        "tenant_property",
        th.StringType,
        default="Division",
        description="Record property copied into _division_id",
    ),
    th.Property(
        "batch_size_rows",
        th.IntegerType,
        default=DEFAULT_BATCH_SIZE_ROWS,
        description="Rows per loaded batch",
    ),
    th.Property(
        "batch_max_bytes",
        th.IntegerType,
        default=DEFAULT_BATCH_MAX_BYTES,
        description="Uncompressed bytes per loaded batch",
    ),
    th.Property(
        "create_schema",
        th.BooleanType,
        default=True,
        description="Create the schema if it does not exist",
    ),
    th.Property(
        "store_document",
        th.BooleanType,
        default=True,
        description="Keep the record as received in the _document VARIANT column",
    ),
    th.Property(
        "on_invalid_record",
        th.StringType,
        default="fail",
        allowed_values=["fail", "quarantine"],
        description="Stop on bad input, or load it into _rejected_records and go on",
    ),
    th.Property(
        "parallel_workers",
        th.IntegerType,
        description=(
            "Worker processes that validate and encode records (default: one per CPU, "
            "at most 4; 0 encodes in the target process)"
        ),
    ),
    th.Property(
        "parallel_chunk_rows",
        th.IntegerType,
        default=DEFAULT_CHUNK_ROWS,
        description="Records handed to a worker process at a time",
    ),
    th.Property(
        "stage_compression",
        th.StringType,
        default="zstd",
        allowed_values=["zstd", "gzip"],
        description="How batch files are compressed before PUT",
    ),
    th.Property(
        "stage_name",
        th.StringType,
        default="_audit_stage",
        description="Named internal stage the target creates and loads through",
    ),
    th.Property(
        "staging_dir",
        th.StringType,
        description="Local directory for batch files (default: a temporary directory)",
    ),
    th.Property(
        "retry_max_attempts",
        th.IntegerType,
        default=5,
        description="Attempts for a statement failing with a transient error",
    ),
    th.Property(
        "login_timeout_seconds",
        th.IntegerType,
        default=60,
        description="How long to keep trying to log in",
    ),
    th.Property(
        "sdk_fast_paths",
        th.BooleanType,
        default=True,
        description=(
            "Use the target's record path and queued STATE writes (sdk_hooks.py); false runs "
            "RECORD messages through the Singer SDK's own path, to compare after an SDK upgrade"
        ),
    ),
    th.Property(
        "retry_base_seconds",
        th.NumberType,
        default=1.0,
        description="Base of the exponential backoff between attempts",
    ),
).to_dict()
