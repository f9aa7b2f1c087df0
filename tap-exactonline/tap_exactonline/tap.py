"""The tap: settings, the shared per-process services and the stream registry."""

from __future__ import annotations

import json
import logging
import sys
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import click
from singer_sdk import Tap
from singer_sdk import typing as th
from typing_extensions import override

from tap_exactonline.auth import AuthenticationError, ExactAuthenticator, TokenEndpoint
from tap_exactonline.deleted_log import DeletedLog
from tap_exactonline.errors import RunStoppedEarly, exit_on_error
from tap_exactonline.exact_client import ExactClient
from tap_exactonline.output import RecordBufferingWriter
from tap_exactonline.rate_limits import DailyLimitReachedError, RateLimiter, RunReport
from tap_exactonline.regions import REGION_HOSTS, host_for
from tap_exactonline.schema import endpoint
from tap_exactonline.streams import STREAM_TYPES
from tap_exactonline.token_store import TokenStore
from tap_exactonline.values import RecordShaper

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from singer_sdk.streams import Stream

DIVISION_CODE = th.CustomType({"type": ["integer", "string"]})
#: Lists the divisions a user may access (the tap reads it once per run).
DIVISIONS_PATH = "system/Divisions"

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "region",
        th.StringType,
        default="nl",
        allowed_values=list(REGION_HOSTS),
        description="Exact Online country instance: nl, be, uk, de, fr, es or us.",
    ),
    th.Property(
        "base_url",
        th.StringType,
        description="Overrides the region's host (a proxy or the local exact-sandbox).",
    ),
    th.Property("client_id", th.StringType, required=True, description="App client id."),
    th.Property(
        "client_secret",
        th.StringType,
        required=True,
        secret=True,
        description="App client secret.",
    ),
    th.Property(
        "refresh_token",
        th.StringType,
        secret=True,
        description=(
            "Seeds the token store when it is empty (or when its chain is refused and this "
            "token was never used). Afterwards the store holds the rotating token."
        ),
    ),
    th.Property(
        "token_store_path",
        th.StringType,
        default=".secrets/tap-exactonline-tokens.json",
        description="Encrypted token file, shared by every process using this app and user.",
    ),
    th.Property(
        "token_store_key",
        th.StringType,
        required=True,
        secret=True,
        description="Fernet key encrypting the token store (Fernet.generate_key()).",
    ),
    th.Property(
        "divisions",
        th.ArrayType(DIVISION_CODE),
        default=[],
        description=(
            'Division codes to sync. [] = the current division of the user; ["all"] = every '
            "division the user may access."
        ),
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        description=(
            "Earliest modification to read on a first run, where the endpoint can filter "
            "(SyncTimestamp for sync endpoints that support it, Modified for standard ones)."
        ),
    ),
    th.Property(
        "daily_call_budget",
        th.IntegerType,
        description=(
            "Stop before this many calls per division per day (headroom for other apps); "
            "the run ends cleanly with state and a non-zero exit."
        ),
    ),
    th.Property(
        "minutely_reserve",
        th.IntegerType,
        default=0,
        description="Calls per minute window left unused (headroom for other apps).",
    ),
    th.Property(
        "request_timeout",
        th.IntegerType,
        default=300,
        description="Seconds before an HTTP request times out (then it is retried).",
    ),
    th.Property(
        "max_retries",
        th.IntegerType,
        default=8,
        description="Attempts per request for 429, 5xx, timeouts and dropped connections.",
    ),
    th.Property(
        "retry_backoff_factor",
        th.NumberType,
        default=1.0,
        description="Seconds of the first retry wait; doubles per attempt (with jitter).",
    ),
    th.Property(
        "token_refresh_margin",
        th.IntegerType,
        default=60,
        description="Refresh the access token when it has fewer seconds left than this.",
    ),
    th.Property(
        "sdk_fast_paths",
        th.BooleanType,
        default=True,
        description=(
            "Use this tap's faster record path (false: the Singer SDK's own, e.g. to compare "
            "output after an SDK upgrade)."
        ),
    ),
    th.Property(
        "redirect_uri",
        th.StringType,
        description="Redirect URI registered for the app (used by `tap-exactonline auth`).",
    ),
).to_dict()


class _NullReplicationValueFilter(logging.Filter):
    """Drops the SDK's per-record notice for rows without a replication value.

    Tombstones and bulk cash-flow rows deliberately carry none (they must not move bookmarks).
    """

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "New replication value is null"


_NULL_REPLICATION_VALUE_FILTER = _NullReplicationValueFilter()


class TapExactOnline(Tap):
    """Singer tap for Exact Online."""

    name = "tap-exactonline"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = RecordBufferingWriter
    #: Epoch seconds and sleeping, for token lifetimes and rate-limit waits (tests inject the
    #: sandbox's virtual clock; set before the first request).
    clock: Callable[[], float] = staticmethod(time.time)
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    @override
    def discover_streams(self) -> list[Stream]:
        # Adding the same filter object twice is a no-op, so several taps in one process are fine.
        logging.getLogger("singer_sdk").addFilter(_NULL_REPLICATION_VALUE_FILTER)
        return [stream_type(self) for stream_type in STREAM_TYPES]

    def flush_messages(self) -> None:
        """Write any buffered messages to stdout."""
        writer = self.message_writer
        if isinstance(writer, RecordBufferingWriter):
            writer.flush()

    # --- shared services (one per process) ----------------------------------------------------

    @cached_property
    def host(self) -> str:
        """The Exact host of the configured region, or ``base_url``."""
        return host_for(str(self.config.get("region", "nl")), self.config.get("base_url"))

    @cached_property
    def token_store(self) -> TokenStore:
        """The encrypted token store."""
        return TokenStore(self.config["token_store_path"], self.config["token_store_key"])

    @cached_property
    def authenticator(self) -> ExactAuthenticator:
        """The single authenticator every stream uses (Exact rotates refresh tokens)."""
        return ExactAuthenticator(
            token_endpoint=TokenEndpoint(
                self.host,
                self.config["client_id"],
                self.config["client_secret"],
                timeout=float(self.config.get("request_timeout", 300)),
                max_tries=int(self.config.get("max_retries", 8)),
                backoff_factor=float(self.config.get("retry_backoff_factor", 1.0)),
            ),
            store=self.token_store,
            region=str(self.config.get("region", "nl")),
            client_id=self.config["client_id"],
            seed_refresh_token=self.config.get("refresh_token"),
            refresh_margin=float(self.config.get("token_refresh_margin", 60)),
            clock=self.clock,
            sleep=self.sleep,
        )

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        """Per-division call accounting shared by all streams."""
        budget = self.config.get("daily_call_budget")
        return RateLimiter(
            daily_call_budget=int(budget) if budget is not None else None,
            minutely_reserve=int(self.config.get("minutely_reserve", 0)),
            clock=self.clock,
            sleep=self.sleep,
        )

    @cached_property
    def client(self) -> ExactClient:
        """HTTP to Exact for every stream: serial requests, pacing, retries, 401 refreshes."""
        return ExactClient(
            host=self.host,
            authenticator=self.authenticator,
            rate_limiter=self.rate_limiter,
            user_agent=f"{self.name}/{self.plugin_version}",
            timeout=float(self.config.get("request_timeout", 300)),
            max_tries=int(self.config.get("max_retries", 8)),
            backoff_factor=float(self.config.get("retry_backoff_factor", 1.0)),
        )

    @cached_property
    def deleted_log(self) -> DeletedLog:
        """``sync/Deleted``, read once per division per run."""
        return DeletedLog(self.client)

    @cached_property
    def run_report(self) -> RunReport:
        """Streams stopped by a daily limit in this run."""
        return RunReport()

    # --- divisions ----------------------------------------------------------------------------

    @cached_property
    def division_codes(self) -> list[int]:
        """The divisions to sync, resolved from the ``divisions`` setting."""
        configured = [str(code).strip() for code in self.config.get("divisions") or []]
        if configured == ["all"]:
            codes = [int(row["Code"]) for row in self.division_rows]
        elif configured:
            codes = [int(code) for code in configured]
        else:
            codes = [self.current_division]
        self.authenticator.record_divisions(codes)
        return codes

    @cached_property
    def current_division(self) -> int:
        """The user's current division, from ``current/Me`` (not charged to any limit)."""
        me = f"{self.host}/api/v1/current/Me"
        for row in self.client.rows(me, {"$select": "CurrentDivision"}, None):
            return int(row["CurrentDivision"])
        msg = "current/Me returned no user"
        raise AuthenticationError(msg)

    @cached_property
    def division_rows(self) -> list[dict[str, Any]]:
        """``system/Divisions`` rows (accessible divisions), read once per run."""
        configured = [str(code).strip() for code in self.config.get("divisions") or []]
        anchor = (
            int(configured[0]) if configured and configured != ["all"] else self.current_division
        )
        documented = endpoint(DIVISIONS_PATH)
        url = self.client.division_url(anchor, DIVISIONS_PATH)
        select = ",".join(documented.field_names())
        rows = list(self.client.rows(url, {"$select": select}, anchor))
        shaper = RecordShaper.for_fields("divisions", documented.fields)
        path = urlparse(url).path
        for row in rows:
            shaper.shape(row, division=anchor, path=path)
            # Exact's page lists no Division field for divisions: a division is its own.
            row["Division"] = row["Code"]
        return rows

    def division_move_date(self, division: int) -> str | None:
        """When Exact last moved a division to another database (its timestamps then reset).

        Args:
            division: Division code.

        Returns:
            The move date in UTC, or None if it never moved (or is unknown).
        """
        for row in self.division_rows:
            if int(row["Code"]) == division:
                value = row.get("DivisionMoveDate")
                return str(value) if value else None
        return None

    # --- command line -------------------------------------------------------------------------

    @classmethod
    @override
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: Any = None,
        state: Any = None,
        catalog: Any = None,
    ) -> None:
        """Run a sync; exit non-zero (with state emitted) when a daily limit stopped it.

        Args:
            about: Display package metadata and settings.
            about_format: Output style for ``--about``.
            config: Parsed ``--config`` input.
            state: ``--state`` file.
            catalog: ``--catalog`` file.
        """
        if about:
            cls.print_about(about_format)
            sys.exit(0)
        cls.print_version(print_fn=cls.logger.info)
        settings: dict[str, Any] = dict(config.config) if config is not None else {}
        built: list[TapExactOnline] = []

        def sync() -> None:
            tap = cls(
                config=settings,
                state=None if state is None else json.loads(state.read()),
                catalog=None if catalog is None else json.loads(catalog.read()),
                parse_env_config=bool(config.parse_env) if config is not None else False,
                validate_config=True,
            )
            built.append(tap)
            tap.sync_to_end()

        def host() -> str:
            if built:
                return built[0].host
            return host_for(str(settings.get("region", "nl")), settings.get("base_url"))

        exit_on_error(sync, host)

    def sync_to_end(self) -> None:
        """Sync every selected stream; buffered records go out whatever happens.

        Raises:
            RunStoppedEarly: A daily limit stopped some streams (their state was emitted).
        """
        try:
            try:
                self.sync_all()
            finally:
                # Records buffered after the last STATE (a run that failed) still go out.
                self.flush_messages()
        except DailyLimitReachedError as exc:
            self.run_report.stopped("(division list)", exc)
        if self.run_report.stops:
            raise RunStoppedEarly(self.run_report.summary())


def cli(argv: Sequence[str] | None = None) -> None:
    """Console entry point: ``tap-exactonline auth ...`` or the Singer tap command line.

    Args:
        argv: Arguments (defaults to ``sys.argv[1:]``).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    # `meltano invoke tap-exactonline auth` runs `tap-exactonline --config FILE auth`: the
    # subcommand may follow the options Meltano puts first.
    position = _subcommand_position(args)
    command: click.Command = TapExactOnline.cli
    prog_name = "tap-exactonline"
    if position is not None:
        prog_name = f"tap-exactonline {args[position]}"
        # Imported on demand: a plain sync does not load the subcommands.
        if args.pop(position) == "auth":
            from tap_exactonline.auth_cli import auth_command  # noqa: PLC0415

            command = auth_command
        else:
            from tap_exactonline.check import check_command  # noqa: PLC0415

            command = check_command
    exit_on_error(
        lambda: command.main(args=args, prog_name=prog_name), lambda: "the configured host"
    )


def _subcommand_position(args: list[str]) -> int | None:
    """Index of a subcommand, skipping the values of options such as `--config`."""
    index = 0
    while index < len(args):
        if args[index] in SUBCOMMANDS:
            return index
        index += 2 if args[index] in _OPTIONS_WITH_VALUES else 1
    return None


#: Commands besides the Singer sync: `auth` (authorize once) and `check` (a read-only probe).
SUBCOMMANDS = frozenset({"auth", "check"})


#: Singer CLI options that take a value (so a value named "auth" is not the subcommand).
_OPTIONS_WITH_VALUES = frozenset({"--config", "--catalog", "--state", "--properties", "--format"})
