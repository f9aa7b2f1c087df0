"""Financial streams: general ledger, transaction lines, journals, cost centres, divisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typing_extensions import override

from tap_exactonline.streams.kinds import FullTableStream, ModifiedStream, SyncStream

if TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context


class TransactionLinesStream(SyncStream):
    """Every posted line of every journal (the general ledger's atoms)."""

    name = "transaction_lines"
    primary_keys = ("ID",)
    sync_path = "sync/Financial/TransactionLines"
    sync_timestamp_endpoint = "TransactionLines"
    deleted_entity_type = 1


class GLAccountsStream(SyncStream):
    """General ledger accounts (chart of accounts)."""

    name = "gl_accounts"
    primary_keys = ("ID",)
    sync_path = "sync/Financial/GLAccounts"
    deleted_entity_type = 7


class GLClassificationsStream(SyncStream):
    """Reporting classifications; ``Parent`` links them into a tree."""

    name = "gl_classifications"
    primary_keys = ("ID",)
    sync_path = "sync/Financial/GLClassifications"
    deleted_entity_type = 18


class GLSchemesStream(FullTableStream):
    """Reporting schemes (e.g. RGS versions); small, read in full."""

    name = "gl_schemes"
    primary_keys = ("ID",)
    standard_path = "financial/GLSchemes"


class GLAccountClassificationMappingsStream(FullTableStream):
    """Which classification each G/L account maps to, per scheme (no Modified: full table)."""

    name = "gl_account_classification_mappings"
    primary_keys = ("ID",)
    standard_path = "financial/GLAccountClassificationMappings"


class JournalEntriesStream(ModifiedStream):
    """General journal entry headers (memorial bookings)."""

    name = "journal_entries"
    primary_keys = ("EntryID",)
    standard_path = "generaljournalentry/GeneralJournalEntries"


class JournalEntryLinesStream(ModifiedStream):
    """General journal entry lines."""

    name = "journal_entry_lines"
    primary_keys = ("ID",)
    standard_path = "generaljournalentry/GeneralJournalEntryLines"


class CostCentersStream(ModifiedStream):
    """Cost centres."""

    name = "cost_centers"
    primary_keys = ("ID",)
    standard_path = "hrm/Costcenters"


class CostUnitsStream(ModifiedStream):
    """Cost units."""

    name = "cost_units"
    primary_keys = ("ID",)
    standard_path = "hrm/Costunits"


class DivisionsStream(FullTableStream):
    """The divisions (companies) this run syncs, from ``system/Divisions``.

    The tap reads ``system/Divisions`` once per run anyway (division list and
    ``DivisionMoveDate``); this stream emits those rows without another call.
    """

    name = "divisions"
    primary_keys = ("Code",)
    standard_path = "system/Divisions"

    @property
    @override
    def partitions(self) -> list[dict[str, Any]] | None:
        return None

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        synced = set(self.services.division_codes)
        rows = [dict(row) for row in self.services.division_rows if int(row["Code"]) in synced]
        if not self.is_table_unchanged(context, rows):
            yield from rows
