"""Financial streams: general ledger, transaction lines, journals, cost centres, divisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typing_extensions import override

from tap_exactonline.client import FullTableStream, ModifiedStream, SyncStream
from tap_exactonline.schema import DT, I16, I32, I64, B, D, ExactField, G, S, fields

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
    exact_fields = fields(
        ("ID", G),
        ("Account", G),
        ("AccountCode", S),
        ("AccountName", S),
        ("AmountDC", D),
        ("AmountFC", D),
        ("AmountVATBaseFC", D),
        ("AmountVATFC", D),
        ("CostCenter", S),
        ("CostCenterDescription", S),
        ("CostUnit", S),
        ("CostUnitDescription", S),
        ("Created", DT),
        ("Currency", S),
        ("Date", DT),
        ("Description", S),
        ("Division", I32),
        ("DueDate", DT),
        ("EntryID", G),
        ("EntryNumber", I32),
        ("ExchangeRate", D),
        ("FinancialPeriod", I16),
        ("FinancialYear", I16),
        ("GLAccount", G),
        ("GLAccountCode", S),
        ("GLAccountDescription", S),
        ("InvoiceNumber", I32),
        ("JournalCode", S),
        ("JournalDescription", S),
        ("LineNumber", I32),
        ("LineType", I16),
        ("Modified", DT),
        ("PaymentReference", S),
        ("Quantity", D),
        ("Status", I16),
        ("Type", I32),
        ("VATCode", S),
        ("VATPercentage", D),
        ("YourRef", S),
        ("Timestamp", I64),
    )


class GLAccountsStream(SyncStream):
    """General ledger accounts (chart of accounts)."""

    name = "gl_accounts"
    primary_keys = ("ID",)
    sync_path = "sync/Financial/GLAccounts"
    deleted_entity_type = 7
    exact_fields = fields(
        ("ID", G),
        ("BalanceSide", S),
        ("BalanceType", S),
        ("Code", S),
        ("Costcenter", S),
        ("Costunit", S),
        ("Created", DT),
        ("Description", S),
        ("Division", I32),
        ("IsBlocked", B),
        ("Modified", DT),
        ("Type", I32),
        ("TypeDescription", S),
        ("VATCode", S),
        ("Timestamp", I64),
    )


class GLClassificationsStream(SyncStream):
    """Reporting classifications; ``Parent`` links them into a tree."""

    name = "gl_classifications"
    primary_keys = ("ID",)
    sync_path = "sync/Financial/GLClassifications"
    deleted_entity_type = 18
    exact_fields = fields(
        ("ID", G),
        ("Abstract", B),
        ("Balance", S),
        ("Code", S),
        ("Created", DT),
        ("Description", S),
        ("Division", I32),
        ("Modified", DT),
        ("Name", S),
        ("Parent", G),
        ("PeriodType", S),
        ("TaxonomyNamespace", G),
        ("Type", G),
        ("Timestamp", I64),
    )


class GLSchemesStream(FullTableStream):
    """Reporting schemes (e.g. RGS versions); small, read in full."""

    name = "gl_schemes"
    primary_keys = ("ID",)
    standard_path = "financial/GLSchemes"
    exact_fields = fields(
        ("ID", G),
        ("Code", S),
        ("Created", DT),
        ("Description", S),
        ("Division", I32),
        ("Main", I16),
        ("Modified", DT),
        ("TargetNamespace", S),
    )


class GLAccountClassificationMappingsStream(FullTableStream):
    """Which classification each G/L account maps to, per scheme (no Modified: full table)."""

    name = "gl_account_classification_mappings"
    primary_keys = ("ID",)
    standard_path = "financial/GLAccountClassificationMappings"
    exact_fields = fields(
        ("ID", G),
        ("Classification", G),
        ("ClassificationCode", S),
        ("ClassificationDescription", S),
        ("Division", I32),
        ("GLAccount", G),
        ("GLAccountCode", S),
        ("GLAccountDescription", S),
        ("GLSchemeCode", S),
        ("GLSchemeDescription", S),
        ("GLSchemeID", G),
    )


class JournalEntriesStream(ModifiedStream):
    """General journal entry headers (memorial bookings)."""

    name = "journal_entries"
    primary_keys = ("EntryID",)
    standard_path = "generaljournalentry/GeneralJournalEntries"
    exact_fields = fields(
        ("EntryID", G),
        ("Created", DT),
        ("Currency", S),
        ("Division", I32),
        ("EntryNumber", I32),
        ("ExchangeRate", D),
        ("FinancialPeriod", I16),
        ("FinancialYear", I16),
        ("JournalCode", S),
        ("JournalDescription", S),
        ("Modified", DT),
        ("Reversal", B),
        ("Status", I16),
        ("StatusDescription", S),
        ("Type", I32),
        ("TypeDescription", S),
    )


class JournalEntryLinesStream(ModifiedStream):
    """General journal entry lines."""

    name = "journal_entry_lines"
    primary_keys = ("ID",)
    standard_path = "generaljournalentry/GeneralJournalEntryLines"
    exact_fields = fields(
        ("ID", G),
        ("Account", G),
        ("AccountCode", S),
        ("AccountName", S),
        ("AmountDC", D),
        ("AmountFC", D),
        ("AmountVATDC", D),
        ("AmountVATFC", D),
        ("CostCenter", S),
        ("CostUnit", S),
        ("Created", DT),
        ("Date", DT),
        ("Description", S),
        ("Division", I32),
        ("EntryID", G),
        ("GLAccount", G),
        ("GLAccountCode", S),
        ("GLAccountDescription", S),
        ("LineNumber", I32),
        ("Modified", DT),
        ("Quantity", D),
        ("VATCode", S),
        ("VATPercentage", D),
    )


class CostCentersStream(ModifiedStream):
    """Cost centres."""

    name = "cost_centers"
    primary_keys = ("ID",)
    standard_path = "hrm/Costcenters"
    exact_fields = fields(
        ("ID", G),
        ("Active", B),
        ("Code", S),
        ("Created", DT),
        ("Description", S),
        ("Division", I32),
        ("Modified", DT),
    )


class CostUnitsStream(ModifiedStream):
    """Cost units."""

    name = "cost_units"
    primary_keys = ("ID",)
    standard_path = "hrm/Costunits"
    exact_fields = fields(
        ("ID", G),
        ("Code", S),
        ("Created", DT),
        ("Description", S),
        ("Division", I32),
        ("Modified", DT),
    )


DIVISION_FIELDS: tuple[ExactField, ...] = fields(
    ("Code", I32),
    ("BlockingStatus", I32),
    ("Country", S),
    ("Created", DT),
    ("Currency", S),
    ("Current", B),
    ("Description", S),
    ("Division", I32),
    ("DivisionMoveDate", DT),
    ("IsDossierDivision", B),
    ("IsHRDivision", B),
    ("IsMainDivision", B),
    ("Legislation", S),
    ("Modified", DT),
    ("Status", I16),
)


class DivisionsStream(FullTableStream):
    """The divisions (companies) this run syncs, from ``system/Divisions``.

    The tap reads ``system/Divisions`` once per run anyway (division list and
    ``DivisionMoveDate``); this stream emits those rows without another call.
    """

    name = "divisions"
    primary_keys = ("Code",)
    standard_path = "system/Divisions"
    exact_fields = DIVISION_FIELDS

    @property
    @override
    def partitions(self) -> list[dict[str, Any]] | None:
        return None

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        synced = set(self.exact_tap.division_codes)
        rows = [dict(row) for row in self.exact_tap.division_rows if int(row["Code"]) in synced]
        if not self.is_table_unchanged(context, rows):
            yield from rows
