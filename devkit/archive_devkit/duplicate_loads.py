"""Invariant: a record version is loaded twice only where at-least-once delivery allows it.

A duplicate is a row whose (`_division_id`, `_record_id`, `_record_hash`) an earlier row of the
same table already holds: the same version loaded again. The target is at-least-once: after a
kill, the rerun resends what the last committed state did not cover, so a run that follows a
killed or failed run may load duplicates. A run that follows a completed run and completes
itself must not, with two documented exceptions where the tap resends unchanged rows by
design (its README, "State" and "Streams"):

- full-table streams (`gl_schemes`, `gl_account_classification_mappings`, `divisions`) emit
  the whole table when it changed: allowed when that run loaded a new version into the table
  for that division;
- `purchase_entry_lines` are read whole for every entry modified since the last run: allowed
  when that run loaded a new version of a purchase entry in that division.

Rows are attributed to the `meltano run` attempt of their division's region during which they
were loaded (`_loaded_at`, the COPY's start, against each attempt's start).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from archive_devkit.chaos_runs import RunRecord
from archive_devkit.entities import STREAM_ENTITIES
from archive_devkit.warehouse_rows import column_types, existing_relations, read_rows

#: Table whose rows the tap resends whole -> table whose new versions explain that.
RESENT_WHOLE: dict[str, str] = {
    "gl_schemes": "gl_schemes",
    "gl_account_classification_mappings": "gl_account_classification_mappings",
    "divisions": "divisions",
    "purchase_entry_lines": "purchase_entries",
}
MAX_LINES = 20


@dataclass
class DuplicateCheck:
    """Rows read, duplicates found, and the ones no rule allows."""

    rows: int = 0
    duplicates: int = 0
    failures: list[str] = field(default_factory=list)


class RunTimeline:
    """The attempts of each region in start order, to attribute a load time to one."""

    def __init__(self, runs: Sequence[RunRecord], region_of_division: Mapping[str, str]) -> None:
        """Sort each region's attempts by start."""
        self.region_of_division = region_of_division
        self.by_region: dict[str, list[RunRecord]] = {}
        for run in sorted(runs, key=lambda run: run.started):
            self.by_region.setdefault(run.region, []).append(run)
        self.starts = {
            region: [run.started for run in attempts] for region, attempts in self.by_region.items()
        }

    def run_of(self, division: str, loaded_at: float) -> RunRecord | None:
        """The attempt of `division`'s region that was under way when the row was loaded."""
        region = self.region_of_division.get(division)
        if region is None or region not in self.starts:
            return None
        index = bisect.bisect_right(self.starts[region], loaded_at) - 1
        return self.by_region[region][index] if index >= 0 else None


LoadedRow = tuple[str, str, str, float, int]
"""A row as judged: division, record id, record hash, load time (epoch s), sequence."""


def judge_duplicates(
    rows_by_table: Mapping[str, Sequence[LoadedRow]], timeline: RunTimeline
) -> DuplicateCheck:
    """Find every duplicate load and judge it against the attempt that loaded it."""
    result = DuplicateCheck()
    new_versions: set[tuple[str, str, str]] = set()
    suspects: list[tuple[str, str, str, RunRecord]] = []
    for table, rows in rows_by_table.items():
        seen: set[tuple[str, str, str]] = set()
        for division, record_id, digest, loaded_at, _ in sorted(rows, key=lambda r: r[3:]):
            result.rows += 1
            run = timeline.run_of(division, loaded_at)
            if (division, record_id, digest) not in seen:
                seen.add((division, record_id, digest))
                if run is not None:
                    new_versions.add((table, division, run.label))
                continue
            result.duplicates += 1
            if run is None or (run.completed and run.after_completed):
                suspects.append((table, division, record_id, run or _UNKNOWN))
    for table, division, record_id, run in suspects:
        explained_by = RESENT_WHOLE.get(table)
        if explained_by and (explained_by, division, run.label) in new_versions:
            continue
        if len(result.failures) < MAX_LINES:
            result.failures.append(
                f"duplicate load in a run after a completed run: {table} {division} "
                f"{record_id} (run {run.label})"
            )
    return result


def check_duplicates(
    cursor: Any, runs: Sequence[RunRecord], region_of_division: Mapping[str, str]
) -> DuplicateCheck:
    """Read every table's audit columns and judge its duplicate loads."""
    relations = existing_relations(cursor)
    rows_by_table: dict[str, list[LoadedRow]] = {}
    columns = ["_division_id", "_record_id", "_record_hash", "_loaded_at", "_sequence"]
    for table in STREAM_ENTITIES:
        if table in relations:
            rows_by_table[table] = [
                (str(division), str(record_id), str(digest), loaded_at.timestamp(), int(sequence))
                for division, record_id, digest, loaded_at, sequence in read_rows(
                    cursor, table, columns, column_types(cursor, table)
                )
            ]
    return judge_duplicates(rows_by_table, RunTimeline(runs, region_of_division))


_UNKNOWN = RunRecord(region="?", label="outside every attempt", started=0.0, after_completed=True)
