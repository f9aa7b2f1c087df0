"""The endpoint table: every Exact Online entity the sandbox serves, declared once.

The store builds its SQLite tables from these declarations, the router its paths and the OData
layer its types. Each endpoint's fields (names, Edm types, calendar date or moment) are Exact's
documented fields, read from ``exact_endpoints.json``: one entry per endpoint, citing Exact's
reference page (start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=...) and the
public clients that captured it. An entity's fields are the union of its endpoints' fields; a
field's ``kinds`` says which endpoint kinds serve it (e.g. ``Timestamp`` only on sync).

Paths are relative to `/api/v1/{division}/`. An entity may be served by up to three endpoint
kinds: standard (60 rows a page), bulk (1000 rows, `$select` mandatory) and sync (1000 rows,
ordered by the rowversion `Timestamp`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any


class Edm(StrEnum):
    """The OData v2 primitive types Exact documents."""

    GUID = "Edm.Guid"
    STRING = "Edm.String"
    BYTE = "Edm.Byte"
    INT16 = "Edm.Int16"
    INT32 = "Edm.Int32"
    INT64 = "Edm.Int64"
    DOUBLE = "Edm.Double"
    DATETIME = "Edm.DateTime"
    BOOLEAN = "Edm.Boolean"
    BINARY = "Edm.Binary"


class Kind(StrEnum):
    """The three kinds of Exact endpoint, which differ in page size and allowed options."""

    STANDARD = "standard"
    BULK = "bulk"
    SYNC = "sync"


ALL_KINDS: frozenset[Kind] = frozenset(Kind)
SYNC_ONLY: frozenset[Kind] = frozenset({Kind.SYNC})
STANDARD_ONLY: frozenset[Kind] = frozenset({Kind.STANDARD})

PAGE_SIZE: dict[Kind, int] = {Kind.STANDARD: 60, Kind.BULK: 1000, Kind.SYNC: 1000}
INTEGER_TYPES: frozenset[Edm] = frozenset({Edm.BYTE, Edm.INT16, Edm.INT32, Edm.INT64})


@dataclass(frozen=True)
class Field:
    """One property of an entity; `kinds` lists the endpoint kinds that serve it.

    Attributes:
        name: Exact's field name (case-sensitive).
        edm: Its documented Edm type.
        kinds: The endpoint kinds serving it.
        calendar_date: For `Edm.DateTime`: a calendar date (stored as midnight) rather than a
            moment.
    """

    name: str
    edm: Edm
    kinds: frozenset[Kind] = ALL_KINDS
    calendar_date: bool = False

    @property
    def is_amount(self) -> bool:
        """Amount fields are summed exactly in the admin `truth` answer."""
        return self.edm is Edm.DOUBLE and "Amount" in self.name


@dataclass(frozen=True)
class Entity:
    """One Exact entity with its endpoints.

    Attributes:
        name: Exact's entity name, also the SQLite table name.
        metadata_type: the `__metadata.type` Exact puts on each row.
        key: the primary key field (standard and bulk endpoints page by it).
        fields: every property; `Field.kinds` restricts a field to some endpoint kinds.
        standard_path: e.g. `financialtransaction/TransactionLines`, or None.
        bulk_path: e.g. `bulk/Financial/TransactionLines`, or None.
        sync_path: e.g. `sync/Financial/TransactionLines`, or None.
        bulk_filter_fields: fields a bulk `$filter` may use (the bulk page's "Only the
            following filters are supported"); None means no restriction.
        mandatory_filter_fields: the standard endpoint refuses a GET without a `$filter` on one
            of these (Exact's "mandatory filtering", since July 2021).
        deleted_entity_type: the `EntityType` code written to `sync/Deleted`, or None.
        sync_feed_owner: set when this entity's rows are served inside another entity's sync
            feed (sales invoice lines come in `sync/SalesInvoice/SalesInvoices`, LineNumber >= 1).
        view_of: served from another entity's table (hrm/Divisions reads system/Divisions);
            `renames` maps a field of this entity to that table's column.
    """

    name: str
    metadata_type: str
    key: str
    fields: tuple[Field, ...]
    standard_path: str | None
    bulk_path: str | None = None
    sync_path: str | None = None
    bulk_filter_fields: frozenset[str] | None = None
    mandatory_filter_fields: tuple[str, ...] = ()
    deleted_entity_type: int | None = None
    sync_feed_owner: str | None = None
    view_of: str | None = None
    renames: dict[str, str] = field(default_factory=dict)

    def fields_for(self, kind: Kind) -> tuple[Field, ...]:
        """The fields an endpoint of `kind` serves, in declaration order."""
        return tuple(field for field in self.fields if kind in field.kinds)

    def field(self, name: str) -> Field:
        """Look a field up by its exact (case-sensitive) name."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def has_field(self, name: str) -> bool:
        """Whether any endpoint of the entity serves `name`."""
        return any(candidate.name == name for candidate in self.fields)

    def path_for(self, kind: Kind) -> str | None:
        """The path of the endpoint of `kind`, if the entity has one."""
        return {
            Kind.STANDARD: self.standard_path,
            Kind.BULK: self.bulk_path,
            Kind.SYNC: self.sync_path,
        }[kind]

    @property
    def amount_fields(self) -> tuple[str, ...]:
        """Names of the amount fields (summed in `truth`)."""
        return tuple(field.name for field in self.fields if field.is_amount)


# -- documented fields --------------------------------------------------------------------------


@cache
def documented_endpoints() -> dict[str, dict[str, Any]]:
    """Every endpoint of `exact_endpoints.json`: reference page, sources and fields."""
    text = resources.files("exact_sandbox").joinpath("exact_endpoints.json").read_text("utf-8")
    endpoints: dict[str, dict[str, Any]] = json.loads(text)["endpoints"]
    return endpoints


def documented_fields(path: str) -> tuple[Field, ...]:
    """The documented fields of one endpoint (kinds not yet set).

    Args:
        path: e.g. `sync/Financial/TransactionLines`.

    Returns:
        The fields in the reference page's order.
    """
    fields = []
    for entry in documented_endpoints()[path]["fields"]:
        edm = Edm(entry[1])
        calendar = edm is Edm.DATETIME and entry[2] == "calendar"
        fields.append(Field(entry[0], edm, ALL_KINDS, calendar))
    return tuple(fields)


def _union(paths: dict[Kind, str]) -> tuple[Field, ...]:
    """An entity's fields: every field of its endpoints, with the kinds that serve it."""
    kinds: dict[str, set[Kind]] = {}
    first: dict[str, Field] = {}
    for kind, path in paths.items():
        for found in documented_fields(path):
            first.setdefault(found.name, found)
            kinds.setdefault(found.name, set()).add(kind)
    return tuple(
        Field(name, found.edm, frozenset(kinds[name]), found.calendar_date)
        for name, found in first.items()
    )


def _entity(
    name: str,
    metadata_type: str,
    key: str,
    *,
    standard: str | None = None,
    bulk: str | None = None,
    sync: str | None = None,
    sync_feed_owner: str | None = None,
    **options: Any,
) -> Entity:
    """Declare an entity whose fields are its endpoints' documented fields.

    A sync feed owned by another entity contributes no fields here (sales invoice lines are
    described by their standard and bulk pages; the shared feed belongs to the invoices).
    """
    own: dict[Kind, str] = {}
    if standard:
        own[Kind.STANDARD] = standard
    if bulk:
        own[Kind.BULK] = bulk
    if sync and not sync_feed_owner:
        own[Kind.SYNC] = sync
    # Bulk pages that say "Only the following filters are supported" list them.
    filters = documented_endpoints()[bulk].get("supported_filters") if bulk else None
    return Entity(
        name=name,
        metadata_type=metadata_type,
        key=key,
        fields=_union(own),
        bulk_filter_fields=frozenset(filters) if filters else None,
        standard_path=standard,
        bulk_path=bulk,
        sync_path=sync,
        sync_feed_owner=sync_feed_owner,
        **options,
    )


# `__metadata.type` names as recorded in Exact's own SDK test data (GLAccount, Account,
# SalesInvoice, SalesInvoiceLine, Item, System.Me); the others follow the same pattern.
TRANSACTION_LINES = _entity(
    "TransactionLines",
    "Exact.Web.Api.Models.TransactionLine",
    "ID",
    standard="financialtransaction/TransactionLines",
    bulk="bulk/Financial/TransactionLines",
    sync="sync/Financial/TransactionLines",
    deleted_entity_type=1,
)
GL_ACCOUNTS = _entity(
    "GLAccounts",
    "Exact.Web.Api.Models.GLAccount",
    "ID",
    standard="financial/GLAccounts",
    bulk="bulk/Financial/GLAccounts",
    sync="sync/Financial/GLAccounts",
    deleted_entity_type=7,
)
GL_CLASSIFICATIONS = _entity(
    "GLClassifications",
    "Exact.Web.Api.Models.GLClassification",
    "ID",
    standard="financial/GLClassifications",
    bulk="bulk/Financial/GLClassifications",
    sync="sync/Financial/GLClassifications",
    deleted_entity_type=18,
)
GL_SCHEMES = _entity(
    "GLSchemes", "Exact.Web.Api.Models.GLScheme", "ID", standard="financial/GLSchemes"
)
# Exact gives the mappings no Modified field: consumers must reload them in full.
GL_ACCOUNT_CLASSIFICATION_MAPPINGS = _entity(
    "GLAccountClassificationMappings",
    "Exact.Web.Api.Models.GLAccountClassificationMapping",
    "ID",
    standard="financial/GLAccountClassificationMappings",
)
GENERAL_JOURNAL_ENTRIES = _entity(
    "GeneralJournalEntries",
    "Exact.Web.Api.Models.GeneralJournalEntry",
    "EntryID",
    standard="generaljournalentry/GeneralJournalEntries",
)
GENERAL_JOURNAL_ENTRY_LINES = _entity(
    "GeneralJournalEntryLines",
    "Exact.Web.Api.Models.GeneralJournalEntryLine",
    "ID",
    standard="generaljournalentry/GeneralJournalEntryLines",
)
COSTCENTERS = _entity(
    "Costcenters", "Exact.Web.Api.Models.HRM.Costcenter", "ID", standard="hrm/Costcenters"
)
COSTUNITS = _entity(
    "Costunits", "Exact.Web.Api.Models.HRM.Costunit", "ID", standard="hrm/Costunits"
)
# `Division` carries the same value as Code so that every row of every entity has a Division.
DIVISIONS = _entity(
    "Divisions", "Exact.Web.Api.Models.System.SystemDivision", "Code", standard="system/Divisions"
)
# hrm/Divisions lists the same divisions with fewer fields, under a few other names.
HRM_DIVISIONS = _entity(
    "HRMDivisions",
    "Exact.Web.Api.Models.HRM.Division",
    "Code",
    standard="hrm/Divisions",
    view_of="Divisions",
    renames={"HID": "Hid", "Main": "IsMainDivision"},
)
ACCOUNTS = _entity(
    "Accounts",
    "Exact.Web.Api.Models.Account",
    "ID",
    standard="crm/Accounts",
    bulk="bulk/CRM/Accounts",
    sync="sync/CRM/Accounts",
    deleted_entity_type=2,
    # Exact's mandatory-filter message for crm/Accounts (picqer/exact-php-client#591).
    mandatory_filter_fields=(
        "Accountant",
        "AccountManager",
        "Blocked",
        "ChamberOfCommerce",
        "Classification1",
        "Code",
        "Country",
        "Created",
        "Email",
        "ID",
        "IsSupplier",
        "Modified",
        "Name",
        "Status",
        "VATNumber",
    ),
)
CONTACTS = _entity(
    "Contacts",
    "Exact.Web.Api.Models.Contact",
    "ID",
    standard="crm/Contacts",
    bulk="bulk/CRM/Contacts",
    sync="sync/CRM/Contacts",
    deleted_entity_type=5,
)
ITEMS = _entity(
    "Items",
    "Exact.Web.Api.Models.Item",
    "ID",
    standard="logistics/Items",
    bulk="bulk/Logistics/Items",
    sync="sync/Logistics/Items",
    deleted_entity_type=9,
    mandatory_filter_fields=(
        "Code",
        "Created",
        "Description",
        "ID",
        "IsPurchaseItem",
        "IsSalesItem",
        "IsStockItem",
        "ItemGroup",
        "Modified",
    ),
)
SALES_ORDERS = _entity(
    "SalesOrders",
    "Exact.Web.Api.Models.SalesOrder",
    "OrderID",
    standard="salesorder/SalesOrders",
    bulk="bulk/SalesOrder/SalesOrders",
    sync="sync/SalesOrder/SalesOrderHeaders",
    deleted_entity_type=32,
)
SALES_ORDER_LINES = _entity(
    "SalesOrderLines",
    "Exact.Web.Api.Models.SalesOrderLine",
    "ID",
    standard="salesorder/SalesOrderLines",
    bulk="bulk/SalesOrder/SalesOrderLines",
    sync="sync/SalesOrder/SalesOrderLines",
    deleted_entity_type=33,
)
# The sync feed sync/SalesInvoice/SalesInvoices carries headers (LineNumber 0, ID = InvoiceID)
# and lines (LineNumber >= 1) in one feed (Exact's page says so); the line fields it documents
# are sync-only fields of the invoices, served from the lines' table.
SALES_INVOICES = _entity(
    "SalesInvoices",
    "Exact.Web.Api.Models.SalesInvoice",
    "InvoiceID",
    standard="salesinvoice/SalesInvoices",
    bulk="bulk/SalesInvoice/SalesInvoices",
    sync="sync/SalesInvoice/SalesInvoices",
    deleted_entity_type=13,
)
SALES_INVOICE_LINES = _entity(
    "SalesInvoiceLines",
    "Exact.Web.Api.Models.SalesInvoiceLine",
    "ID",
    standard="salesinvoice/SalesInvoiceLines",
    bulk="bulk/SalesInvoice/SalesInvoiceLines",
    sync="sync/SalesInvoice/SalesInvoices",
    sync_feed_owner="SalesInvoices",
    deleted_entity_type=13,
)
PURCHASE_INVOICES = _entity(
    "PurchaseInvoices",
    "Exact.Web.Api.Models.PurchaseInvoice",
    "ID",
    standard="purchase/PurchaseInvoices",
)
PURCHASE_INVOICE_LINES = _entity(
    "PurchaseInvoiceLines",
    "Exact.Web.Api.Models.PurchaseInvoiceLine",
    "ID",
    standard="purchase/PurchaseInvoiceLines",
)
PURCHASE_ENTRIES = _entity(
    "PurchaseEntries",
    "Exact.Web.Api.Models.PurchaseEntry",
    "EntryID",
    standard="purchaseentry/PurchaseEntries",
)
PURCHASE_ENTRY_LINES = _entity(
    "PurchaseEntryLines",
    "Exact.Web.Api.Models.PurchaseEntryLine",
    "ID",
    standard="purchaseentry/PurchaseEntryLines",
)
RECEIVABLES = _entity(
    "Receivables",
    "Exact.Web.Api.Models.Receivable",
    "ID",
    standard="cashflow/Receivables",
    bulk="bulk/Cashflow/Receivables",
)
PAYMENTS = _entity(
    "Payments",
    "Exact.Web.Api.Models.Payment",
    "ID",
    standard="cashflow/Payments",
    bulk="bulk/Cashflow/Payments",
)

# Feeds with their own shape, not backed by an entity table of their own.
DELETED = _entity("Deleted", "Exact.Web.Api.Models.Sync.Deleted", "ID", sync="sync/Deleted")
SYNC_TIMESTAMP = _entity(
    "SyncTimestamp",
    "Exact.Web.Api.Models.Sync.SyncTimestamp",
    "TimeStampAsBigInt",
    standard="read/sync/Sync/SyncTimestamp",
)
ME = Entity(
    name="Me",
    metadata_type="Exact.Web.Api.System.Me",
    key="UserID",
    fields=_union({Kind.STANDARD: "current/Me"}),
    standard_path=None,
)
# The rowversion every stored row carries; only sync endpoints serve it.
TIMESTAMP = Field("Timestamp", Edm.INT64, SYNC_ONLY)

# Entities stored as tables and mutable through the admin API, in dependency order.
DATA_ENTITIES: tuple[Entity, ...] = (
    DIVISIONS,
    GL_SCHEMES,
    GL_CLASSIFICATIONS,
    GL_ACCOUNTS,
    GL_ACCOUNT_CLASSIFICATION_MAPPINGS,
    COSTCENTERS,
    COSTUNITS,
    ACCOUNTS,
    CONTACTS,
    ITEMS,
    SALES_ORDERS,
    SALES_ORDER_LINES,
    SALES_INVOICES,
    SALES_INVOICE_LINES,
    PURCHASE_INVOICES,
    PURCHASE_INVOICE_LINES,
    PURCHASE_ENTRIES,
    PURCHASE_ENTRY_LINES,
    GENERAL_JOURNAL_ENTRIES,
    GENERAL_JOURNAL_ENTRY_LINES,
    RECEIVABLES,
    PAYMENTS,
    TRANSACTION_LINES,
)

ALL_ENTITIES: tuple[Entity, ...] = (*DATA_ENTITIES, HRM_DIVISIONS, DELETED, SYNC_TIMESTAMP, ME)

ENTITIES_BY_NAME: dict[str, Entity] = {entity.name: entity for entity in ALL_ENTITIES}


def endpoint_table() -> dict[tuple[Kind, str], Entity]:
    """Map (kind, lower-cased path) to the entity serving it; Exact paths are case-insensitive.

    A shared sync feed is routed to its owner (sales invoice lines to SalesInvoices).
    """
    table: dict[tuple[Kind, str], Entity] = {}
    for entity in ALL_ENTITIES:
        for kind in Kind:
            path = entity.path_for(kind)
            if path is None or (kind is Kind.SYNC and entity.sync_feed_owner):
                continue
            table[kind, path.lower()] = entity
    return table
