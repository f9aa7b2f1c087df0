"""The base stream: SDK wiring and how one partition (division) of any stream is read.

Streams are declarations (endpoint paths, key, filters, deletions); HTTP lives in
``exact_client.py``, the choice of endpoint and filter in ``replication.py``, the conversion of
Exact's values in ``values.py`` and the SDK fast paths in ``sdk_hooks.py``. What remains here:
for each division, check the day's budget and a division move, read the plan's rows, convert
them, apply the feed filters, then turn the delete log into tombstones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import urlparse

from singer_sdk import Tap, metrics
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_exactonline.rate_limits import DailyLimitReachedError
from tap_exactonline.replication import (
    DELETED_BOOKMARK,
    PROGRESS_MARKERS,
    ReadPlan,
    advance_bookmark,
    forget_if_division_moved,
)
from tap_exactonline.schema import (
    DELETED_AT,
    ExactField,
    Where,
    endpoint,
    json_schema,
    union_fields,
)
from tap_exactonline.sdk_hooks import SDKFastPaths
from tap_exactonline.values import RecordShaper

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_exactonline.services import TapServices


class ExactStream(SDKFastPaths):
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
    # Rows are converted to JSON-ready values of their schema types as they are read (strings,
    # ints, Decimal amounts, booleans), so the SDK's per-field conformance pass is skipped.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: Tap) -> None:
        """Build the stream from its declarations.

        Args:
            tap: The tap, which owns the shared client, rate limiter and delete log.
        """
        self.exact_tap = tap
        self.services = cast("TapServices", tap)
        self.exact_fields = self.declared_fields()
        super().__init__(
            tap=tap,
            schema=json_schema(
                self.exact_fields,
                derived=tuple(self.derived_flags),
                key_fields=tuple(self.primary_keys or ()),
            ),
        )
        self.shaper = RecordShaper.for_fields(self.name, self.exact_fields)
        emitted = {field.name for field in self.exact_fields}
        self._reshapes_rows = bool(
            self.feed_only_fields
            or self.derived_flags
            or any(set(endpoint(path).field_names()) < emitted for path in self.endpoint_paths())
        )
        #: Replication value of the last row a feed filter skipped in this partition.
        self._skipped_position: Any = None

    # --- declarations -------------------------------------------------------------------------

    @classmethod
    def endpoint_paths(cls) -> tuple[str, ...]:
        """The endpoints this stream reads (declared by each replication kind).

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

    def url(self, division: int, path: str) -> str:
        """The URL of one of the stream's endpoints for a division.

        Args:
            division: Division code.
            path: The endpoint path.

        Returns:
            The absolute URL.
        """
        return self.services.client.division_url(division, path)

    # --- SDK wiring ---------------------------------------------------------------------------

    @property
    @override
    def partitions(self) -> list[dict[str, Any]] | None:
        return [{"Division": code} for code in self.services.division_codes]

    @override
    def post_process(
        self,
        row: dict[str, Any],
        context: Context | None = None,
    ) -> dict[str, Any] | None:
        # Runs once per record: keep it to dictionary operations. Values were converted to
        # their schema types as the row was read (see shaped_rows).
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
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        division = int(context["Division"]) if context else None
        limiter = self.services.rate_limiter
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
            self.services.run_report.stopped(self.name, exc)
            if self.is_sorted:
                self._advance_past_skipped_rows(context, self._skipped_position)
            else:
                # Unsorted progress is not resumable: keep the previous bookmark.
                self.get_context_state(context).pop(PROGRESS_MARKERS, None)

    # --- reading ------------------------------------------------------------------------------

    def read_plan(self, context: Context | None) -> ReadPlan:
        """Choose the endpoint and filter for one partition (overridden per replication kind).

        Args:
            context: The partition (``{"Division": code}``).

        Returns:
            The plan.
        """
        raise NotImplementedError

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

    def on_partition_complete(self, context: Context | None, plan: ReadPlan) -> None:
        """Hook run after a partition was read completely.

        Args:
            context: The partition.
            plan: The plan that was read.
        """

    def raw_rows(
        self, context: Context | None, division: int | None, plan: ReadPlan
    ) -> Iterator[dict[str, Any]]:
        """Every row of a plan as Exact sends it, counted in the SDK's request metrics.

        Args:
            context: The partition (a metrics tag).
            division: The division charged for the calls.
            plan: What to read.

        Yields:
            Raw rows.
        """
        path = urlparse(plan.url).path.split("/", 4)[-1]
        with metrics.http_request_counter(self.name, endpoint=path) as counter:
            counter.with_context(context)
            yield from self.services.client.rows(
                plan.url, plan.params, division, on_page=counter.increment
            )

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
        for row in self.raw_rows(context, division, plan):
            shape(row, division=division, path=path)
            if (feed_filter is not None and not feed_filter(row)) or (
                full_load_filter is not None and not full_load_filter(row)
            ):
                self._skipped_position = row.get(self.replication_key or "")
                continue
            yield row

    # --- state --------------------------------------------------------------------------------

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

    def _advance_past_skipped_rows(self, context: Context | None, position: Any) -> None:
        # Rows a filter skipped (lines in a header feed, non-customers) were read too: on a
        # sorted feed the bookmark may move past them, or the next run would read them again.
        if self.is_sorted and position is not None and self.replication_key:
            advance_bookmark(self.get_context_state(context), self.replication_key, position)

    def _reset_if_division_moved(self, context: Context | None, division: int) -> None:
        move_date = self.services.division_move_date(division)
        state = self.get_context_state(context)
        if move_date is not None and forget_if_division_moved(state, move_date):
            self.logger.warning(
                "Division %s moved to another database on %s: Exact reset its timestamps, "
                "re-reading %s in full",
                division,
                move_date,
                self.name,
            )

    def _tombstones(self, context: Context | None, division: int) -> Iterator[dict[str, Any]]:
        state = self.get_context_state(context)
        since = int(state.get(DELETED_BOOKMARK) or 1)
        with metrics.http_request_counter(self.name, endpoint="sync/Deleted") as counter:
            counter.with_context(context)
            entries, high_water = self.services.deleted_log.entries(
                division, since, on_page=counter.increment
            )
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
