"""The replication kinds a stream declares: which endpoints it reads and how it resumes.

Each kind is a declaration plus the choice of a ``replication.py`` plan; reading is the base
stream's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from typing_extensions import override

from tap_exactonline.dates import exact_date_to_utc, parse_utc
from tap_exactonline.replication import (
    PARENT_BOOKMARK,
    TABLE_DIGEST,
    ReadPlan,
    full_table_plan,
    lines_of_parents_plans,
    modified_plan,
    parents_plan,
    sync_plan,
    sync_timestamp_params,
    table_digest,
)
from tap_exactonline.streams.base import ExactStream
from tap_exactonline.values import to_integer

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

SYNC_TIMESTAMP_PATH = "read/sync/Sync/SyncTimestamp"


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
        start = None
        if bookmark is None:
            start = self._timestamp_from_start_date(context, division)
        return sync_plan(
            self.url(division, self.sync_path),
            self.sync_path,
            self.select(self.sync_path),
            # Bookmarks written before Edm.Int64 strings were read as numbers may be text.
            None if bookmark is None else to_integer(bookmark),
            start,
        )

    def _timestamp_from_start_date(self, context: Context | None, division: int) -> int | None:
        start_date = self.config.get("start_date")
        if not start_date or not self.sync_timestamp_endpoint:
            return None
        plan = ReadPlan(
            url=self.url(division, SYNC_TIMESTAMP_PATH),
            params=sync_timestamp_params(str(start_date), self.sync_timestamp_endpoint),
            full_load=True,
            description="SyncTimestamp",
        )
        for row in self.raw_rows(context, division, plan):
            value = row.get("TimeStampAsBigInt")
            if value is not None:
                # SyncTimestamp is the first Timestamp modified on/after start_date.
                return max(to_integer(value) - 1, 1)
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
        bulk = None
        if self.bulk_path:
            bulk = (self.url(division, self.bulk_path), self.bulk_path, self.select(self.bulk_path))
        return modified_plan(
            standard=(
                self.url(division, self.standard_path),
                self.standard_path,
                self.select(self.standard_path),
            ),
            bulk=bulk,
            since=None if since is None else str(since),
            full_load=bookmark is None,
        )

    @override
    def on_partition_complete(self, context: Context | None, plan: ReadPlan) -> None:
        if not self.bulk_path or self.bulk_path not in plan.url:
            return
        # The bulk load is complete as of the sync start (bulk cash-flow pages cannot be
        # filtered on Modified, so its rows' Modified does not bound what was read).
        signpost = self.get_replication_key_signpost(context)
        if not isinstance(signpost, datetime):
            return
        state = self.get_context_state(context)
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = signpost.isoformat()


class StandardTableStream(ExactStream):
    """A standard endpoint read in full (no filter): the base of the two kinds below."""

    standard_path: ClassVar[str]

    @classmethod
    @override
    def endpoint_paths(cls) -> tuple[str, ...]:
        return (cls.standard_path,)

    @override
    def read_plan(self, context: Context | None) -> ReadPlan:
        division = int(context["Division"]) if context else 0
        path = self.standard_path
        return full_table_plan(self.url(division, path), path, self.select(path))


class FullTableStream(StandardTableStream):
    """A standard endpoint without a usable change marker: every run reads it in full.

    The rows are only emitted when the table differs from the last run (a digest of the
    table is kept in the partition's state), so an unchanged table adds no rows downstream;
    without state (a full refresh) the table is always emitted.
    """

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
        digest = table_digest(rows)
        state = self.get_context_state(context)
        unchanged = state.get(TABLE_DIGEST) == digest
        state[TABLE_DIGEST] = digest
        if unchanged:
            self.logger.info("%s unchanged since the last run: nothing to emit", self.name)
        return unchanged


class ParentModifiedStream(StandardTableStream):
    """Lines whose endpoint has no ``Modified``, followed through their parents' ``Modified``.

    Exact documents neither ``Modified`` nor ``Created`` on purchaseentry/PurchaseEntryLines.
    A first load reads the lines in full. Later runs list the parents modified since the last
    run (an edit of a line is an edit of its entry) and read those parents' lines.
    """

    parent_path: ClassVar[str]
    parent_key: ClassVar[str]

    @override
    def read_plan(self, context: Context | None) -> ReadPlan:
        plan = super().read_plan(context)
        return ReadPlan(plan.url, plan.params, True, f"{self.standard_path} (full)")

    @override
    def read_rows(self, context: Context | None, division: int | None) -> Iterator[dict[str, Any]]:
        state = self.get_context_state(context)
        since = state.get(PARENT_BOOKMARK)
        started_at = datetime.now(UTC).isoformat()
        if since is None:
            yield from super().read_rows(context, division)
            state[PARENT_BOOKMARK] = started_at
            return
        code = division or 0
        parents, newest = self._parents_modified_since(context, code, str(since))
        self.logger.info(
            "Reading %s for division %s: lines of %d %s modified since %s",
            self.name,
            division,
            len(parents),
            self.parent_path,
            since,
        )
        path = self.standard_path
        for plan in lines_of_parents_plans(
            self.url(code, path), path, self.select(path), self.parent_key, parents
        ):
            yield from self.shaped_rows(context, division, plan)
        state[PARENT_BOOKMARK] = newest

    def _parents_modified_since(
        self, context: Context | None, division: int, since: str
    ) -> tuple[list[str], str]:
        """Keys of the parents modified after ``since``, and the newest Modified read."""
        plan = parents_plan(
            self.url(division, self.parent_path), self.parent_path, self.parent_key, since
        )
        keys: list[str] = []
        newest = parse_utc(since)
        for row in self.raw_rows(context, division, plan):
            keys.append(str(row[self.parent_key]))
            modified = exact_date_to_utc(str(row.get("Modified") or ""))
            if modified:
                newest = max(newest, parse_utc(modified))
        return keys, newest.isoformat()
