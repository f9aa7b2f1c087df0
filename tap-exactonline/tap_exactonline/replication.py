"""How a partition is read this run: which endpoint, which filter, from which bookmark.

Exact offers three kinds of endpoint (the project's Exact reference, sections 4 to 6):

- **sync** (1000 rows a page): ``Timestamp gt N`` on a rowversion; a first load starts after 1,
  or at the ``read/sync/Sync/SyncTimestamp`` of ``start_date`` where Exact offers one;
- **bulk** (1000 rows a page): no change filter on cash-flow bulk pages, so used for first loads;
- **standard** (60 rows a page): ``Modified gt <Amsterdam wall-clock literal>`` for increments.

Lines without a ``Modified`` of their own are followed through their parent's. Every plan is a
pure function of declarations, state and settings; streams choose and run them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from tap_exactonline.dates import parse_utc, utc_to_exact_filter_literal

#: Keys this tap keeps in a partition's state besides the SDK's own.
PROGRESS_MARKERS = "progress_markers"
DELETED_BOOKMARK = "deleted_timestamp"
DIVISION_MOVE_BOOKMARK = "division_move_date"
TABLE_DIGEST = "table_digest"
PARENT_BOOKMARK = "parent_modified"
#: Parents per lines request: `EntryID eq guid'...'` is 50 characters, so 40 stay far below
#: Exact's 6,000-character URL limit even with the $select list.
PARENTS_PER_CALL = 40

_DIGEST_ENCODER = msgspec.json.Encoder(order="sorted")


@dataclass(frozen=True)
class ReadPlan:
    """How one partition of one stream is read this run."""

    url: str
    params: dict[str, str]
    full_load: bool
    description: str


def sync_plan(
    url: str, path: str, select: str, bookmark: int | None, start: int | None
) -> ReadPlan:
    """Read a sync endpoint after a rowversion.

    Args:
        url: The endpoint's URL for the division.
        path: The endpoint path (for the description).
        select: The ``$select`` list.
        bookmark: The last Timestamp read (None: a first load).
        start: Where a first load starts (the SyncTimestamp of ``start_date``), if known.

    Returns:
        The plan.
    """
    # Exact: "for the first time ... filter on timestamp greater than 1".
    after = bookmark if bookmark is not None else (start or 1)
    return ReadPlan(
        url=url,
        params={"$select": select, "$filter": f"Timestamp gt {after}L"},
        full_load=bookmark is None,
        description=f"{path}, Timestamp > {after}",
    )


def sync_timestamp_params(start_date: str, endpoint_name: str) -> dict[str, str]:
    """The query of ``read/sync/Sync/SyncTimestamp``: the first rowversion on or after a date.

    Args:
        start_date: The ``start_date`` setting (ISO 8601).
        endpoint_name: Exact's ``endPoint`` value, e.g. ``TransactionLines``.

    Returns:
        The query parameters.
    """
    return {
        "modified": utc_to_exact_filter_literal(parse_utc(start_date)),
        "endPoint": f"'{endpoint_name}'",
        "$select": "TimeStampAsBigInt",
    }


def modified_plan(
    *,
    standard: tuple[str, str, str],
    bulk: tuple[str, str, str] | None,
    since: str | None,
    full_load: bool,
) -> ReadPlan:
    """Read a standard endpoint changed since a moment, or a first load in bulk.

    Args:
        standard: URL, path and ``$select`` of the standard endpoint.
        bulk: The same for a bulk endpoint, if the entity has one.
        since: The last ``Modified`` read, or ``start_date`` (None: read everything).
        full_load: Whether no bookmark exists yet.

    Returns:
        The plan: bulk for a first load without ``start_date`` (1000 rows a page instead of 60).
    """
    if since is None and bulk is not None:
        url, path, select = bulk
        return ReadPlan(url, {"$select": select}, True, f"{path} (first full load)")
    url, path, select = standard
    if since is None:
        return ReadPlan(url, {"$select": select}, full_load, f"{path} (full)")
    literal = utc_to_exact_filter_literal(parse_utc(since))
    # Strictly greater: the bookmark is the last Modified read (capped at the run's start), so
    # rows changed since are newer; the last row is not read again.
    return ReadPlan(
        url,
        {"$select": select, "$filter": f"Modified gt {literal}"},
        full_load,
        f"{path}, Modified > {literal}",
    )


def full_table_plan(url: str, path: str, select: str) -> ReadPlan:
    """Read a small table in full (no usable change marker).

    Args:
        url: The endpoint's URL for the division.
        path: The endpoint path.
        select: The ``$select`` list.

    Returns:
        The plan.
    """
    return ReadPlan(url, {"$select": select}, True, f"{path} (full table)")


def parents_plan(url: str, path: str, parent_key: str, since: str) -> ReadPlan:
    """List the parents modified after a moment (their key and Modified only).

    Args:
        url: The parents' endpoint URL for the division.
        path: Its path.
        parent_key: The parents' key field.
        since: The last parent Modified read.

    Returns:
        The plan.
    """
    literal = utc_to_exact_filter_literal(parse_utc(since))
    return ReadPlan(
        url,
        {"$select": f"{parent_key},Modified", "$filter": f"Modified gt {literal}"},
        False,
        f"{path}, Modified > {literal}",
    )


def lines_of_parents_plans(
    url: str, path: str, select: str, parent_key: str, parents: Sequence[str]
) -> list[ReadPlan]:
    """Read the lines of the given parents, ``PARENTS_PER_CALL`` parents per request.

    Args:
        url: The lines' endpoint URL for the division.
        path: Its path.
        select: The ``$select`` list.
        parent_key: The lines' field holding the parent's key.
        parents: The parents' keys.

    Returns:
        One plan per batch of parents.
    """
    plans = []
    for start in range(0, len(parents), PARENTS_PER_CALL):
        batch = parents[start : start + PARENTS_PER_CALL]
        condition = " or ".join(f"{parent_key} eq guid'{key}'" for key in batch)
        plans.append(
            ReadPlan(
                url,
                {"$select": select, "$filter": condition},
                False,
                f"{path} of {len(batch)} parents",
            )
        )
    return plans


def advance_bookmark(state: dict[str, Any], replication_key: str, position: Any) -> None:
    """Move a sorted partition's bookmark forward to ``position`` (never back).

    Args:
        state: The partition's state.
        replication_key: The stream's replication key.
        position: A replication value read (e.g. of a row a feed filter skipped).
    """
    current = state.get("replication_key_value")
    if current is None or position > current:
        state["replication_key"] = replication_key
        state["replication_key_value"] = position


def forget_if_division_moved(state: dict[str, Any], move_date: str) -> bool:
    """Drop a partition's bookmarks when Exact moved its division since the last run.

    Exact renumbers a division's Timestamps when it moves it to another database and says so
    in system/Divisions' ``DivisionMoveDate`` ("Please resync all data when this value changes").

    Args:
        state: The partition's state.
        move_date: The division's current ``DivisionMoveDate``.

    Returns:
        True if bookmarks were dropped (the partition is read in full).
    """
    seen = state.get(DIVISION_MOVE_BOOKMARK)
    state[DIVISION_MOVE_BOOKMARK] = move_date
    if seen == move_date or (seen is None and "replication_key_value" not in state):
        return False
    for key in ("replication_key", "replication_key_value", DELETED_BOOKMARK):
        state.pop(key, None)
    return True


def table_digest(rows: Iterable[dict[str, Any]]) -> str:
    """SHA-256 of a table's rows, to tell whether it changed since the last run.

    Args:
        rows: Every row of the table, as read.

    Returns:
        The hex digest.
    """
    return hashlib.sha256(_DIGEST_ENCODER.encode(list(rows))).hexdigest()
