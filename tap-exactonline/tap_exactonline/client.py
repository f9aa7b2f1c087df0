"""The base stream: paging, rate limits, errors and record shaping for every Exact endpoint.

Streams are declarations (paths, fields, key, filters); this module holds all behaviour:

- one request at a time, following ``d.__next`` until it is absent (Exact forbids parallel paging);
- ``X-RateLimit-*`` headers read on every response, a sleep until ``X-RateLimit-Minutely-Reset``
  when the minutely budget is spent, and a clean stop when the daily limit or the configured
  ``daily_call_budget`` is reached;
- retries with exponential backoff and jitter for 429, 5xx, timeouts, dropped connections and
  truncated bodies; other 4xx fail at once with Exact's own error text (Exact blocks an app
  after 10 errors per endpoint per hour, so they are never retried in a loop);
- on a 401, a refresh and a retry with the new token (at most twice, never with the same token);
- ``/Date(ms)/`` (Amsterdam wall-clock) converted to UTC, ``Edm.Double`` kept as ``Decimal``.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import urlparse

import backoff
import msgspec
import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers._state import increment_state
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from singer_sdk.streams.rest import HTTPRequest, PageContext
from typing_extensions import override

from tap_exactonline.dates import exact_date_to_utc, parse_utc, utc_to_exact_filter_literal
from tap_exactonline.output import RecordBufferingWriter
from tap_exactonline.schema import (
    DELETED_AT,
    ExactField,
    Where,
    endpoint,
    json_schema,
    union_fields,
)
from tap_exactonline.values import RecordShaper

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator

    from backoff.types import Details
    from singer_sdk.helpers.types import Context

    from tap_exactonline.auth import ExactAuthenticator
    from tap_exactonline.tap import TapExactOnline

logger = logging.getLogger("tap-exactonline")

_DECODER = msgspec.json.Decoder(float_hook=Decimal)
PROGRESS_MARKERS = "progress_markers"
DELETED_BOOKMARK = "deleted_timestamp"
DIVISION_MOVE_BOOKMARK = "division_move_date"
TABLE_DIGEST = "table_digest"
_DIGEST_ENCODER = msgspec.json.Encoder(order="sorted")

#: A 401 is retried with a fresh token; twice covers a token that expired in flight twice.
MAX_UNAUTHORIZED_RETRIES = 2
#: A minute window never lasts longer than this; a larger computed wait means clock skew.
MAX_MINUTELY_WAIT = 61.0


class DailyLimitReachedError(Exception):
    """The division's daily call limit (Exact's or ``daily_call_budget``) is spent."""

    def __init__(self, division: int, reason: str, reset_at: float | None) -> None:
        """Describe the spent limit.

        Args:
            division: The division whose limit is spent.
            reason: Which limit (Exact's daily limit or the configured budget).
            reset_at: Epoch seconds when Exact resets the daily limit, if known.
        """
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(reset_at)) if reset_at else "unknown"
        super().__init__(f"division {division}: {reason} reached (resets {when})")
        self.division = division
        self.reason = reason
        self.reset_at = reset_at


@dataclass
class DivisionLimits:
    """What the last response told us about one division's rate limits."""

    minutely_remaining: int | None = None
    minutely_reset_at: float | None = None
    daily_limit: int | None = None
    daily_remaining: int | None = None
    daily_reset_at: float | None = None
    calls_this_run: int = 0
    exhausted: DailyLimitReachedError | None = None


@dataclass
class RateLimiter:
    """Per-division call accounting shared by all streams of one tap process.

    Attributes:
        daily_call_budget: Stop before this many calls per division per day (None: Exact's).
        minutely_reserve: Treat the minute as spent when this many calls are left.
        clock: Epoch seconds source.
        sleep: Sleep function.
    """

    daily_call_budget: int | None = None
    minutely_reserve: int = 0
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    server_clock_offset: float = 0.0
    divisions: dict[int, DivisionLimits] = field(default_factory=dict)

    def limits(self, division: int) -> DivisionLimits:
        """Return (creating) the accounting of one division.

        Args:
            division: Division code.

        Returns:
            Its mutable limits record.
        """
        return self.divisions.setdefault(division, DivisionLimits())

    def before_request(self, division: int | None) -> None:
        """Wait for the minute window if it is spent; refuse when the day is spent.

        Args:
            division: The division the next call counts against (None: not counted).

        Raises:
            DailyLimitReachedError: If the daily limit or budget is spent.
        """
        if division is None:
            return
        limits = self.limits(division)
        if limits.exhausted is not None:
            raise limits.exhausted
        self._check_daily(division, limits)
        if limits.minutely_remaining is not None and (
            limits.minutely_remaining <= self.minutely_reserve
        ):
            wait = self._seconds_until(limits.minutely_reset_at)
            if wait > 0:
                logger.info(
                    "Minutely rate limit of division %s spent; sleeping %.1f s until it resets",
                    division,
                    wait,
                )
                self.sleep(wait)
            limits.minutely_remaining = None
        limits.calls_this_run += 1

    def ensure_available(self, division: int) -> None:
        """Refuse early when a division's day is already spent (no call is made).

        Args:
            division: Division code.
        """
        limits = self.limits(division)
        if limits.exhausted is not None:
            raise limits.exhausted
        self._check_daily(division, limits)

    def observe(self, division: int | None, response: requests.Response) -> None:
        """Record the rate-limit headers of a response.

        Args:
            division: The division the call counted against.
            response: Any response, successful or not.
        """
        server_date = response.headers.get("Date")
        if server_date:
            self._observe_server_clock(server_date)
        if division is None:
            return
        limits = self.limits(division)
        headers = response.headers
        minutely_remaining = _int_header(headers, "X-RateLimit-Minutely-Remaining")
        daily_remaining = _int_header(headers, "X-RateLimit-Remaining")
        if minutely_remaining is not None:
            limits.minutely_remaining = minutely_remaining
            reset = _int_header(headers, "X-RateLimit-Minutely-Reset")
            limits.minutely_reset_at = reset / 1000 if reset is not None else None
        elif response.status_code == 429 and daily_remaining != 0:
            # A 429 without headers: assume the minute is spent and wait for the next one.
            limits.minutely_remaining = 0
            limits.minutely_reset_at = None
        if daily_remaining is not None and not (
            response.status_code == 429 and minutely_remaining == 0
        ):
            # On a minutely 429 Exact omits the daily headers or sends them as 0.
            limits.daily_remaining = daily_remaining
            limits.daily_limit = _int_header(headers, "X-RateLimit-Limit") or limits.daily_limit
            reset = _int_header(headers, "X-RateLimit-Reset")
            limits.daily_reset_at = reset / 1000 if reset else limits.daily_reset_at

    @staticmethod
    def is_daily_limit_response(response: requests.Response) -> bool:
        """Whether a 429 means the day (not the minute) is spent: retrying today is pointless.

        Args:
            response: Any response.

        Returns:
            True for a 429 whose daily remaining count is 0 and whose minute is not spent.
        """
        if response.status_code != 429:
            return False
        headers = response.headers
        minutely_remaining = _int_header(headers, "X-RateLimit-Minutely-Remaining")
        return _int_header(headers, "X-RateLimit-Remaining") == 0 and minutely_remaining != 0

    def mark_exhausted(self, error: DailyLimitReachedError) -> None:
        """Remember that a division's day is spent, so no stream calls it again this run.

        Args:
            error: The error describing the spent limit.
        """
        self.limits(error.division).exhausted = error

    def _check_daily(self, division: int, limits: DivisionLimits) -> None:
        if limits.daily_remaining is not None and limits.daily_remaining <= 0:
            self._exhaust(division, limits, "Exact's daily API limit")
        if self.daily_call_budget is None:
            return
        if limits.daily_limit is not None and limits.daily_remaining is not None:
            used_today = limits.daily_limit - limits.daily_remaining
        else:
            used_today = limits.calls_this_run
        if used_today >= self.daily_call_budget:
            self._exhaust(division, limits, f"daily_call_budget of {self.daily_call_budget} calls")

    def _exhaust(self, division: int, limits: DivisionLimits, reason: str) -> None:
        error = DailyLimitReachedError(division, reason, limits.daily_reset_at)
        limits.exhausted = error
        raise error

    def _seconds_until(self, server_epoch: float | None) -> float:
        if server_epoch is None:
            # No reset header: wait for the next clock minute (Exact's windows are fixed).
            now = self.clock() + self.server_clock_offset
            return 60.0 - (now % 60.0) + 0.5
        wait = server_epoch - (self.clock() + self.server_clock_offset) + 0.25
        return min(max(wait, 0.0), MAX_MINUTELY_WAIT)

    def _observe_server_clock(self, server_date: str) -> None:
        try:
            server_now = email.utils.parsedate_to_datetime(server_date).timestamp()
        except (TypeError, ValueError):
            return
        offset = server_now - self.clock()
        # The Date header has one-second resolution: only trust clearly different clocks.
        self.server_clock_offset = offset if abs(offset) > 2.0 else 0.0


def _int_header(headers: Any, name: str) -> int | None:
    value = headers.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class DeletedEntry:
    """One row of ``sync/Deleted``."""

    entity_type: int
    entity_key: str
    deleted_at: str | None
    timestamp: int


class DeletedLog:
    """``sync/Deleted`` read once per division per run and shared by every stream.

    Each stream keeps its own bookmark (the highest deleted-log Timestamp it has turned into
    tombstones); the log is read from the lowest of them, so an incremental run costs one
    call per division however many streams carry deletions.
    """

    def __init__(self) -> None:
        """Start with nothing read."""
        self._cache: dict[int, tuple[int, list[DeletedEntry], int]] = {}

    def entries(
        self,
        stream: ExactStream,
        context: Context | None,
        division: int,
        since: int,
    ) -> tuple[list[DeletedEntry], int]:
        """Return the deletions logged after ``since`` and the log's high-water Timestamp.

        Args:
            stream: The stream asking (its request machinery reads the log).
            context: The stream's partition.
            division: Division code.
            since: The stream's deleted-log bookmark.

        Returns:
            The entries (possibly older ones too) and the highest Timestamp read.
        """
        cached = self._cache.get(division)
        if cached is not None and cached[0] <= since:
            return cached[1], cached[2]
        plan = ReadPlan(
            url=stream.division_url(division, "sync/Deleted"),
            params={
                "$select": "ID,EntityKey,EntityType,DeletedDate,Timestamp",
                "$filter": f"Timestamp gt {since}L",
            },
            full_load=False,
            description="sync/Deleted",
        )
        entries: list[DeletedEntry] = []
        high_water = since
        for row in stream.paged_rows(context, plan):
            timestamp = int(row["Timestamp"])
            high_water = max(high_water, timestamp)
            deleted_date = row.get("DeletedDate")
            entries.append(
                DeletedEntry(
                    entity_type=int(row["EntityType"]),
                    entity_key=str(row["EntityKey"]),
                    deleted_at=exact_date_to_utc(deleted_date) if deleted_date else None,
                    timestamp=timestamp,
                ),
            )
        self._cache[division] = (since, entries, high_water)
        return entries, high_water


class ExactNextLinkPaginator(BaseAPIPaginator[str | None]):
    """Follows Exact's ``d.__next`` link: an absolute URL that keeps every query option."""

    def __init__(self) -> None:
        """Start on the first page (no token)."""
        super().__init__(None)

    @override
    def get_next(self, response: requests.Response) -> str | None:
        payload = response.json()
        body = payload.get("d") if isinstance(payload, dict) else None
        return body.get("__next") if isinstance(body, dict) else None

    def advance_to(self, next_url: str | None) -> None:
        """Move to the page at ``next_url`` (None or empty: no more pages).

        Args:
            next_url: The ``__next`` link of the page just read.

        Raises:
            RuntimeError: If Exact hands out the same link twice (a paging loop).
        """
        if not next_url:
            self._finished = True
            return
        if next_url == self._value:
            msg = "Loop detected in pagination: the same __next link was returned twice"
            raise RuntimeError(msg)
        self._value = next_url
        self._page_count += 1


@dataclass(frozen=True)
class ReadPlan:
    """How one partition of one stream is read this run."""

    url: str
    params: dict[str, str]
    full_load: bool
    description: str


class ExactStream(RESTStream[str | None]):
    """Base for every Exact stream; subclasses only declare."""

    #: Documented fields of the stream's endpoints the stream does not emit (a shared feed
    #: serving two streams, e.g. sales invoice headers and lines).
    excluded_fields: ClassVar[frozenset[str]] = frozenset()
    #: Boolean flags the tap adds to every row, each with the condition that sets it.
    derived_flags: ClassVar[dict[str, Where]] = {}
    #: Fields selected only to filter the feed; removed before emitting.
    feed_only_fields: ClassVar[tuple[str, ...]] = ()
    #: Keep only these rows of the feed (e.g. headers of a header+line feed).
    feed_filter: ClassVar[Where | None] = None
    #: Keep only these rows on a first full load; increments emit every changed row so that
    #: a row leaving the set (an account no longer a customer) is updated downstream.
    full_load_filter: ClassVar[Where | None] = None
    #: ``EntityType`` code of ``sync/Deleted`` entries for this stream, if Exact logs them.
    deleted_entity_type: ClassVar[int | None] = None

    STATE_MSG_FREQUENCY = 1000
    # post_process already yields JSON-ready values of the declared types (strings, ints,
    # Decimal amounts, booleans) and only the selected fields, so the SDK's per-field type
    # conformance pass (half of the per-record cost) is skipped.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapExactOnline) -> None:
        """Build the stream from its declarations.

        Args:
            tap: The tap, which owns the shared authenticator and rate limiter.
        """
        self.exact_tap = tap
        self.exact_fields = self.declared_fields()
        super().__init__(
            tap=tap,
            schema=json_schema(
                self.exact_fields,
                derived=tuple(self.derived_flags),
                key_fields=tuple(self.primary_keys or ()),
            ),
        )
        # The endpoint named in the SDK's request metrics (no query string: no data leaks).
        self.path = self.endpoint_paths()[0]
        self.shaper = RecordShaper.for_fields(self.name, self.exact_fields)
        emitted = {field.name for field in self.exact_fields}
        self._reshapes_rows = bool(
            self.feed_only_fields
            or self.derived_flags
            or any(set(endpoint(path).field_names()) < emitted for path in self.endpoint_paths())
        )
        self._active_plan: ReadPlan | None = None
        #: Replication value of the last row a feed filter skipped in this partition.
        self._skipped_position: Any = None
        #: The partition whose state ``_increment_stream_state`` advances, with that state.
        self._partition_state: tuple[Context | None, dict[str, Any]] | None = None

    # --- SDK wiring -------------------------------------------------------------------------

    @property
    @override
    def url_base(self) -> str:
        return self.exact_tap.host

    @property
    @override
    def authenticator(self) -> ExactAuthenticator:
        return self.exact_tap.authenticator

    @property
    @override
    def http_headers(self) -> dict[str, str]:
        # Without this header Exact answers in Atom XML.
        return {"Accept": "application/json", "User-Agent": self.user_agent}

    @property
    @override
    def timeout(self) -> int:
        return int(self.config.get("request_timeout", 300))

    @property
    @override
    def partitions(self) -> list[dict[str, Any]] | None:
        return [{"Division": code} for code in self.exact_tap.division_codes]

    @override
    def get_new_paginator(self) -> ExactNextLinkPaginator:
        return ExactNextLinkPaginator()

    @override
    def get_http_request(self, *, page: PageContext[str | None]) -> HTTPRequest:
        if page.next_page_token:
            # __next already carries $select, $filter and $skiptoken: send no params again.
            return HTTPRequest(url=page.next_page_token, headers=self.http_headers)
        plan = self._active_plan
        if plan is None:
            msg = "get_http_request called before a read plan was chosen"
            raise RuntimeError(msg)
        return HTTPRequest(url=plan.url, params=dict(plan.params), headers=self.http_headers)

    @override
    def backoff_max_tries(self) -> int:
        return int(self.config.get("max_retries", 8))

    @override
    def backoff_wait_generator(self) -> Generator[float, None, None]:
        factor = float(self.config.get("retry_backoff_factor", 1.0))
        return cast(
            "Generator[float, None, None]",
            backoff.expo(base=2, factor=factor, max_value=120),
        )

    @override
    def backoff_jitter(self, value: float) -> float:
        return backoff.full_jitter(value)

    @override
    def backoff_handler(self, details: Details) -> None:
        exception = details.get("exception")
        self.logger.warning(
            "Retrying %s (attempt %d) in %.1f s after: %s",
            self.name,
            details.get("tries", 0),
            details.get("wait", 0.0),
            exception if exception is not None else "error",
        )

    @override
    def request_decorator(self, func: Callable[..., Any]) -> Callable[..., Any]:
        decorated: Callable[..., Any] = backoff.on_exception(
            self.backoff_wait_generator,
            (
                RetriableAPIError,
                ConnectionResetError,
                requests.exceptions.Timeout,
                requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ),
            max_tries=self.backoff_max_tries,
            on_backoff=self.backoff_handler,
            jitter=self.backoff_jitter,
            # A TLS failure (certificate, protocol) does not heal by asking again.
            giveup=lambda exc: isinstance(exc, requests.exceptions.SSLError),
            logger=None,
        )(func)
        return decorated

    @override
    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetriableAPIError(self.response_error_message(response), response)
        if 400 <= status < 500:
            raise FatalAPIError(self.response_error_message(response))

    @override
    def response_error_message(self, response: requests.Response) -> str:
        # Only the path (division and entity): query strings and bodies stay out of logs.
        path = urlparse(response.url).path
        message = f"HTTP {response.status_code} {response.reason or ''} for {path}".rstrip()
        exact_error = _exact_error_text(response)
        return f"{message}: {exact_error}" if exact_error else message

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        return decode_page(response)[0]

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        plan = self._active_plan
        if plan is None:
            plan = self.read_plan(context)
        return self.paged_rows(context, plan)

    @override
    def post_process(
        self,
        row: dict[str, Any],
        context: Context | None = None,
    ) -> dict[str, Any] | None:
        # Runs once per record: keep it to dictionary operations. Values were converted to
        # their schema types as the row was read (see get_records).
        row.pop("__metadata", None)
        if self._reshapes_rows:
            for name in self.feed_only_fields:
                row.pop(name, None)
            replication_key = self.replication_key
            if replication_key and replication_key not in row:
                # Bulk cash-flow rows have no Modified; the SDK needs the key present.
                row[replication_key] = None
            for name, condition in self.derived_flags.items():
                row[name] = condition(row)
        return row

    @override
    def _generate_record_messages(self, record: dict[str, Any]) -> Generator[RecordMessage]:
        """Build the RECORD message(s) of one record.

        Deliberate override of an SDK-internal hook, for throughput: the SDK walks every field
        of every record to drop deselected ones, a third of the per-record cost at 40 fields.
        When the catalog deselects nothing (the usual case) this tap's records hold exactly
        the schema's fields, so the walk is skipped; otherwise the SDK's own path runs.
        """
        if self._has_deselected_fields:
            yield from super()._generate_record_messages(record)
            return
        for stream_map in self.stream_maps:
            mapped_record = stream_map.transform(record)
            if mapped_record is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped_record,
                    version=self._stream_version,
                    time_extracted=datetime.now(UTC),
                )

    @override
    def _write_record_message(self, record: dict[str, Any]) -> None:
        """Write the RECORD message of one record.

        Deliberate override of an SDK-internal hook, for throughput: with nothing deselected,
        no stream map or flattening configured and this tap's writer, the record is encoded
        straight into the output buffer (the same bytes, without a message object per
        record); otherwise the SDK's own path runs.
        """
        writer = self._direct_writer
        if writer is None:
            super()._write_record_message(record)
            return
        writer.write_record(self.name, record, self._stream_version)
        self.state_manager.is_flushed = False

    @cached_property
    def _direct_writer(self) -> RecordBufferingWriter | None:
        writer = self._tap.message_writer
        maps = self.stream_maps
        if (
            isinstance(writer, RecordBufferingWriter)
            and not self._has_deselected_fields
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and not maps[0].flattening_enabled
            and maps[0].stream_alias == self.name
        ):
            return writer
        return None

    @override
    def _process_record(
        self,
        record: dict[str, Any],
        child_context: Context | None = None,
        partition_context: Context | None = None,
    ) -> None:
        # Deliberate override of an SDK-internal hook, for throughput: without child streams
        # the SDK's per-record child-context and filter calls do nothing.
        if self.child_streams:
            super()._process_record(record, child_context, partition_context)
            return
        if partition_context:
            for key, value in partition_context.items():
                if key not in record:
                    record[key] = value

    @override
    def _increment_stream_state(
        self,
        latest_record: dict[str, Any],
        *,
        context: Context | None = None,
    ) -> None:
        # Deliberate override of an SDK-internal hook, for throughput: the SDK looks the
        # partition's state up in the tap state for every record (a quarter of its
        # per-record cost). It is looked up once per partition here and advanced by the
        # SDK's own rule (bookmark, progress markers, sort check).
        cached = self._partition_state
        if not latest_record:
            return
        if cached is None or cached[0] is not context:
            if not self.replication_key or self.replication_method != REPLICATION_INCREMENTAL:
                super()._increment_stream_state(latest_record, context=context)
                return
            cached = self._partition_state = (context, self.get_context_state(context))
        increment_state(
            cached[1],
            replication_key=cast("str", self.replication_key),
            latest_record=latest_record,
            is_sorted=self.is_sorted and self.state_partitioning_keys is None,
            check_sorted=self.check_sorted,
        )

    @cached_property
    def _has_deselected_fields(self) -> bool:
        mask = self.mask
        return not all(mask[("properties", name)] for name in self.schema["properties"])

    # --- reading ----------------------------------------------------------------------------

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        division = int(context["Division"]) if context else None
        limiter = self.exact_tap.rate_limiter
        self._skipped_position = None
        try:
            if division is not None:
                limiter.ensure_available(division)
                self._reset_if_division_moved(context, division)
            yield from self.read_rows(context, division)
            self._advance_past_skipped_rows(context, self._skipped_position)
            if self.deleted_entity_type is not None and division is not None:
                yield from self._tombstones(context, division)
        except DailyLimitReachedError as exc:
            limiter.mark_exhausted(exc)
            self.exact_tap.run_report.stopped(self.name, exc)
            if self.is_sorted:
                self._advance_past_skipped_rows(context, self._skipped_position)
            else:
                # Unsorted progress is not resumable: keep the previous bookmark.
                self.get_context_state(context).pop(PROGRESS_MARKERS, None)

    def read_rows(self, context: Context | None, division: int | None) -> Iterator[dict[str, Any]]:
        """Read one partition's rows (overridden where one plan is not enough).

        Args:
            context: The partition.
            division: Its division code.

        Yields:
            Rows with values of their schema types.
        """
        plan = self.read_plan(context)
        self.logger.info("Reading %s for division %s: %s", self.name, division, plan.description)
        yield from self.shaped_rows(context, division, plan)
        self.on_partition_complete(context, plan)

    def shaped_rows(
        self, context: Context | None, division: int | None, plan: ReadPlan
    ) -> Iterator[dict[str, Any]]:
        """Read a plan's rows, convert their values and apply the stream's feed filters.

        Args:
            context: The partition.
            division: Its division code.
            plan: What to read.

        Yields:
            Rows with values of their schema types, filtered.
        """
        feed_filter = self.feed_filter
        full_load_filter = self.full_load_filter if plan.full_load else None
        shape = self.shaper.shape
        path = urlparse(plan.url).path
        for row in self.paged_rows(context, plan):
            shape(row, division=division, path=path)
            if (feed_filter is not None and not feed_filter(row)) or (
                full_load_filter is not None and not full_load_filter(row)
            ):
                self._skipped_position = row.get(self.replication_key or "")
                continue
            yield row

    def _advance_past_skipped_rows(self, context: Context | None, position: Any) -> None:
        # Rows a filter skipped (lines in a header feed, non-customers) were read too: on a
        # sorted feed the bookmark may move past them, or the next run would read them again.
        if not self.is_sorted or position is None:
            return
        state = self.get_context_state(context)
        current = state.get("replication_key_value")
        if current is None or position > current:
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = position

    def read_plan(self, context: Context | None) -> ReadPlan:
        """Choose the endpoint and filter for one partition (overridden per replication kind).

        Args:
            context: The partition (``{"Division": code}``).

        Returns:
            The plan.
        """
        raise NotImplementedError

    def on_partition_complete(self, context: Context | None, plan: ReadPlan) -> None:
        """Hook run after a partition was read completely.

        Args:
            context: The partition.
            plan: The plan that was read.
        """

    def paged_rows(self, context: Context | None, plan: ReadPlan) -> Iterator[dict[str, Any]]:
        """Yield every row of every page of a plan, requesting the pages one at a time.

        While the rows of one page are processed, the request for the next page is already
        in flight on a helper thread. There is never more than one request outstanding, so
        Exact's rule against parallel paging holds, but the tap no longer idles while Exact
        builds the next page.

        Args:
            context: The partition (its division is charged for the calls).
            plan: URL and query of the first page.

        Yields:
            Raw rows as Exact returns them (amounts as Decimal).
        """
        division = int(context["Division"]) if context else None
        fetch = self.request_decorator(self.fetch_page)
        paginator = self.get_new_paginator()
        previous_plan, self._active_plan = self._active_plan, plan

        def request_for_current_page() -> HTTPRequest:
            return self.get_http_request(
                page=PageContext(stream_context=context, next_page_token=paginator.current_value),
            )

        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="exact-page") as prefetcher,
            self.get_http_request_counter() as request_counter,
        ):
            request_counter.with_context(context)
            pending: Future[tuple[list[dict[str, Any]], str | None]] | None = prefetcher.submit(
                fetch, request_for_current_page(), division
            )
            try:
                while pending is not None:
                    rows, next_url = pending.result()
                    request_counter.increment()
                    paginator.advance_to(next_url)
                    pending = (
                        None
                        if paginator.finished
                        else prefetcher.submit(fetch, request_for_current_page(), division)
                    )
                    yield from rows
            finally:
                if pending is not None:
                    pending.cancel()
                self._active_plan = previous_plan

    def fetch_page(
        self,
        request: HTTPRequest,
        division: int | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Make one request (rate limits, a 401 refresh), and decode its page.

        Retries of 429s, 5xx and dropped connections are the caller's: wrap it in
        ``request_decorator``.

        Args:
            request: The request.
            division: The division the call counts against (None: not counted).

        Returns:
            The page's rows and its ``__next`` link, if any.
        """
        limiter = self.exact_tap.rate_limiter
        for attempt in range(1, MAX_UNAUTHORIZED_RETRIES + 2):
            limiter.before_request(division)
            prepared = self.build_prepared_request(
                method=request.method,
                url=request.url,
                params=request.encode_params(),
                headers=request.headers,
            )
            sent_token = self.authenticator.access_token
            response = self.requests_session.send(prepared, timeout=self.timeout)
            limiter.observe(division, response)
            if response.status_code == 401 and attempt <= MAX_UNAUTHORIZED_RETRIES:
                # Retried only with a different token, so this cannot loop on a dead chain.
                self.logger.info("Access token refused (401); refreshing and retrying")
                if self.authenticator.handle_unauthorized(sent_token):
                    continue
            if division is not None and limiter.is_daily_limit_response(response):
                error = DailyLimitReachedError(
                    division, "Exact's daily API limit", limiter.limits(division).daily_reset_at
                )
                raise error
            self.validate_response(response)
            return decode_page(response)
        msg = "unreachable: the 401 retry loop always returns or raises"
        raise AssertionError(msg)

    # --- state helpers ----------------------------------------------------------------------

    def bookmark(self, context: Context | None) -> Any:
        """Return this partition's saved replication value, ignoring ``start_date``.

        The SDK hands an integer replication key the ``start_date`` string when there is no
        bookmark; reading the state directly avoids sending ``Timestamp gt 2024-01-01L``.

        Args:
            context: The partition.

        Returns:
            The saved value, or None on a first run.
        """
        state = self.get_context_state(context)
        if state.get("replication_key") != self.replication_key:
            return None
        return state.get("replication_key_value")

    def division_url(self, division: int, path: str) -> str:
        """Build ``{host}/api/v1/{division}/{path}``.

        Args:
            division: Division code.
            path: Service path, e.g. ``sync/Financial/TransactionLines``.

        Returns:
            The absolute URL.
        """
        return f"{self.url_base}/api/v1/{division}/{path}"

    @classmethod
    def endpoint_paths(cls) -> tuple[str, ...]:
        """The endpoints this stream reads (overridden per replication kind).

        Returns:
            Paths relative to ``/api/v1/{division}/``, the main one first.
        """
        raise NotImplementedError

    @classmethod
    def declared_fields(cls) -> tuple[ExactField, ...]:
        """Every documented field of the stream's endpoints that the stream emits.

        Returns:
            The fields, in the order Exact's reference pages list them.
        """
        return tuple(
            field
            for field in union_fields(*cls.endpoint_paths())
            if field.name not in cls.excluded_fields and field.name not in cls.feed_only_fields
        )

    def select(self, path: str) -> str:
        """Build the explicit ``$select`` list for one endpoint (Exact rejects ``*``).

        Args:
            path: The endpoint read, e.g. ``bulk/Cashflow/Payments``.

        Returns:
            Comma-separated names: the stream's fields that endpoint serves, then the
            fields selected only to filter the feed.
        """
        served = set(endpoint(path).field_names())
        names = [f.name for f in self.exact_fields if f.name in served]
        names.extend(name for name in self.feed_only_fields if name not in names)
        return ",".join(names)

    def _reset_if_division_moved(self, context: Context | None, division: int) -> None:
        move_date = self.exact_tap.division_move_date(division)
        if move_date is None:
            return
        state = self.get_context_state(context)
        seen = state.get(DIVISION_MOVE_BOOKMARK)
        if seen == move_date:
            return
        if seen is not None or "replication_key_value" in state:
            self.logger.warning(
                "Division %s moved to another database on %s: Exact reset its timestamps, "
                "re-reading %s in full",
                division,
                move_date,
                self.name,
            )
            for key in ("replication_key", "replication_key_value", DELETED_BOOKMARK):
                state.pop(key, None)
        state[DIVISION_MOVE_BOOKMARK] = move_date

    def _tombstones(self, context: Context | None, division: int) -> Iterator[dict[str, Any]]:
        state = self.get_context_state(context)
        since = int(state.get(DELETED_BOOKMARK) or 1)
        entries, high_water = self.exact_tap.deleted_log.entries(self, context, division, since)
        key = self.primary_keys[0]
        for entry in entries:
            if entry.entity_type != self.deleted_entity_type or entry.timestamp <= since:
                continue
            tombstone: dict[str, Any] = {
                key: entry.entity_key,
                "Division": division,
                DELETED_AT: entry.deleted_at,
            }
            if self.replication_key:
                # A tombstone has no row Timestamp; None leaves the row bookmark untouched.
                tombstone[self.replication_key] = None
            yield tombstone
        state[DELETED_BOOKMARK] = max(high_water, since)


def decode_page(response: requests.Response) -> tuple[list[dict[str, Any]], str | None]:
    """Decode an Exact OData page into rows and the ``__next`` link.

    Args:
        response: A 2xx response.

    Returns:
        The rows (amounts as Decimal) and the next-page URL, if any.

    Raises:
        RetriableAPIError: If the body is truncated or not JSON (a dropped transfer).
    """
    try:
        payload = _DECODER.decode(response.content)
    except msgspec.DecodeError as exc:
        msg = f"truncated or invalid JSON body ({len(response.content)} bytes); retrying"
        raise RetriableAPIError(msg, response) from exc
    body = payload.get("d") if isinstance(payload, dict) else None
    if isinstance(body, list):
        return body, None
    if not isinstance(body, dict):
        msg = "response has no 'd' object; retrying"
        raise RetriableAPIError(msg, response)
    results = body.get("results")
    if results is None:
        return [body], None
    return results, body.get("__next") or None


def _exact_error_text(response: requests.Response) -> str:
    # Exact: {"error": {"code": "", "message": {"lang": "", "value": "<text>"}}}
    if not response.content:
        return ""
    try:
        payload = response.json()
    except ValueError:
        return ""
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, dict):
            return str(message.get("value", ""))
        if isinstance(message, str):
            return message
    return ""


# --- replication kinds ----------------------------------------------------------------------


class SyncStream(ExactStream):
    """A sync endpoint: ``Timestamp gt N`` (a rowversion), 1000 rows a page, sorted."""

    sync_path: ClassVar[str]
    #: ``endPoint`` value of ``read/sync/Sync/SyncTimestamp`` if Exact supports it here.
    sync_timestamp_endpoint: ClassVar[str | None] = None

    replication_key = "Timestamp"
    is_sorted = True

    @classmethod
    @override
    def endpoint_paths(cls) -> tuple[str, ...]:
        return (cls.sync_path,)

    @override
    def read_plan(self, context: Context | None) -> ReadPlan:
        division = int(context["Division"]) if context else 0
        bookmark = self.bookmark(context)
        full_load = bookmark is None
        if bookmark is None:
            # Exact: "for the first time ... filter on timestamp greater than 1".
            bookmark = self._timestamp_from_start_date(context, division) or 1
        return ReadPlan(
            url=self.division_url(division, self.sync_path),
            params={
                "$select": self.select(self.sync_path),
                "$filter": f"Timestamp gt {int(bookmark)}L",
            },
            full_load=full_load,
            description=f"{self.sync_path}, Timestamp > {int(bookmark)}",
        )

    def _timestamp_from_start_date(self, context: Context | None, division: int) -> int | None:
        start_date = self.config.get("start_date")
        if not start_date or not self.sync_timestamp_endpoint:
            return None
        plan = ReadPlan(
            url=self.division_url(division, "read/sync/Sync/SyncTimestamp"),
            params={
                "modified": utc_to_exact_filter_literal(parse_utc(start_date)),
                "endPoint": f"'{self.sync_timestamp_endpoint}'",
                "$select": "TimeStampAsBigInt",
            },
            full_load=True,
            description="SyncTimestamp",
        )
        for row in self.paged_rows(context, plan):
            value = row.get("TimeStampAsBigInt")
            if value is not None:
                # SyncTimestamp is the first Timestamp modified on/after start_date.
                return max(int(value) - 1, 1)
        return None


class ModifiedStream(ExactStream):
    """A standard endpoint read by ``Modified`` (60 rows a page), optionally bulk at first.

    When ``bulk_path`` is set, a first full load reads the bulk endpoint (1000 rows a page)
    and later runs read the standard endpoint filtered on ``Modified``.
    """

    standard_path: ClassVar[str]
    bulk_path: ClassVar[str | None] = None

    replication_key = "Modified"
    is_sorted = False

    @classmethod
    @override
    def endpoint_paths(cls) -> tuple[str, ...]:
        return (cls.standard_path, cls.bulk_path) if cls.bulk_path else (cls.standard_path,)

    @override
    def read_plan(self, context: Context | None) -> ReadPlan:
        division = int(context["Division"]) if context else 0
        bookmark = self.bookmark(context)
        since = bookmark or self.config.get("start_date")
        if since is None and self.bulk_path:
            return ReadPlan(
                url=self.division_url(division, self.bulk_path),
                params={"$select": self.select(self.bulk_path)},
                full_load=True,
                description=f"{self.bulk_path} (first full load)",
            )
        params = {"$select": self.select(self.standard_path)}
        description = f"{self.standard_path} (full)"
        if since is not None:
            literal = utc_to_exact_filter_literal(parse_utc(str(since)))
            # Strictly greater: the bookmark is the last Modified read (capped at the run's
            # start), so rows changed since are newer; the last row is not read again.
            params["$filter"] = f"Modified gt {literal}"
            description = f"{self.standard_path}, Modified > {literal}"
        return ReadPlan(
            url=self.division_url(division, self.standard_path),
            params=params,
            full_load=bookmark is None,
            description=description,
        )

    @override
    def on_partition_complete(self, context: Context | None, plan: ReadPlan) -> None:
        if not self.bulk_path or self.bulk_path not in plan.url:
            return
        # Bulk rows carry no Modified; the load is complete as of the sync start.
        signpost = self.get_replication_key_signpost(context)
        if not isinstance(signpost, datetime):
            return
        state = self.get_context_state(context)
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = signpost.isoformat()


class FullTableStream(ExactStream):
    """A standard endpoint without a usable change marker: every run reads it in full.

    The rows are only emitted when the table differs from the last run (a digest of the
    table is kept in the partition's state), so an unchanged table adds no rows downstream;
    without state (a full refresh) the table is always emitted.
    """

    standard_path: ClassVar[str]

    @classmethod
    @override
    def endpoint_paths(cls) -> tuple[str, ...]:
        return (cls.standard_path,)

    @override
    def read_plan(self, context: Context | None) -> ReadPlan:
        division = int(context["Division"]) if context else 0
        return ReadPlan(
            url=self.division_url(division, self.standard_path),
            params={"$select": self.select(self.standard_path)},
            full_load=True,
            description=f"{self.standard_path} (full table)",
        )

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        # Full tables are small by nature (schemes, mappings, divisions): holding one is fine.
        rows = list(super().get_records(context))
        if not self.is_table_unchanged(context, rows):
            yield from rows

    def is_table_unchanged(self, context: Context | None, rows: list[dict[str, Any]]) -> bool:
        """Compare a table's digest with the one saved in state, and save the new one.

        Args:
            context: The partition.
            rows: Every row of the table, as read.

        Returns:
            True if the table is identical to the last run's.
        """
        digest = hashlib.sha256(_DIGEST_ENCODER.encode(rows)).hexdigest()
        state = self.get_context_state(context)
        unchanged = state.get(TABLE_DIGEST) == digest
        state[TABLE_DIGEST] = digest
        if unchanged:
            self.logger.info("%s unchanged since the last run: nothing to emit", self.name)
        return unchanged


PARENT_BOOKMARK = "parent_modified"
#: Parents per lines request: `EntryID eq guid'...'` is 50 characters, so 40 stay far below
#: Exact's 6,000-character URL limit even with the $select list.
PARENTS_PER_CALL = 40


class ParentModifiedStream(ExactStream):
    """Lines whose endpoint has no ``Modified``, followed through their parents' ``Modified``.

    Exact documents neither ``Modified`` nor ``Created`` on purchaseentry/PurchaseEntryLines.
    A first load reads the lines in full. Later runs list the parents modified since the last
    run (an edit of a line is an edit of its entry) and read those parents' lines,
    ``PARENTS_PER_CALL`` parents per call (``EntryID eq guid'...' or ...``).
    """

    standard_path: ClassVar[str]
    parent_path: ClassVar[str]
    parent_key: ClassVar[str]

    @classmethod
    @override
    def endpoint_paths(cls) -> tuple[str, ...]:
        return (cls.standard_path,)

    @override
    def read_plan(self, context: Context | None) -> ReadPlan:
        division = int(context["Division"]) if context else 0
        return ReadPlan(
            url=self.division_url(division, self.standard_path),
            params={"$select": self.select(self.standard_path)},
            full_load=True,
            description=f"{self.standard_path} (full)",
        )

    @override
    def read_rows(self, context: Context | None, division: int | None) -> Iterator[dict[str, Any]]:
        state = self.get_context_state(context)
        since = state.get(PARENT_BOOKMARK)
        started_at = datetime.now(UTC).isoformat()
        if since is None:
            yield from super().read_rows(context, division)
            state[PARENT_BOOKMARK] = started_at
            return
        parents, newest = self._parents_modified_since(context, division or 0, str(since))
        self.logger.info(
            "Reading %s for division %s: lines of %d %s modified since %s",
            self.name,
            division,
            len(parents),
            self.parent_path,
            since,
        )
        for start in range(0, len(parents), PARENTS_PER_CALL):
            batch = parents[start : start + PARENTS_PER_CALL]
            plan = ReadPlan(
                url=self.division_url(division or 0, self.standard_path),
                params={
                    "$select": self.select(self.standard_path),
                    "$filter": " or ".join(f"{self.parent_key} eq guid'{key}'" for key in batch),
                },
                full_load=False,
                description=f"{self.standard_path} of {len(batch)} {self.parent_path}",
            )
            yield from self.shaped_rows(context, division, plan)
        state[PARENT_BOOKMARK] = newest

    def _parents_modified_since(
        self, context: Context | None, division: int, since: str
    ) -> tuple[list[str], str]:
        """Keys of the parents modified after ``since``, and the newest Modified read."""
        literal = utc_to_exact_filter_literal(parse_utc(since))
        plan = ReadPlan(
            url=self.division_url(division, self.parent_path),
            params={"$select": f"{self.parent_key},Modified", "$filter": f"Modified gt {literal}"},
            full_load=False,
            description=f"{self.parent_path}, Modified > {literal}",
        )
        keys: list[str] = []
        newest = parse_utc(since)
        for row in self.paged_rows(context, plan):
            keys.append(str(row[self.parent_key]))
            modified = exact_date_to_utc(str(row.get("Modified") or ""))
            if modified:
                newest = max(newest, parse_utc(modified))
        return keys, newest.isoformat()
