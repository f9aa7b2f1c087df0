"""The endpoint table: every Exact Online entity the sandbox serves, declared once.

The store builds its SQLite tables from these declarations, the router its paths, the OData
layer its types and the tap its schemas. Field names and Edm types follow Exact's reference
pages (see `/work/shared/reference/exact-online-api.md` section 5); keep them stable, other
units depend on them.

Paths are relative to `/api/v1/{division}/`. An entity may be served by up to three endpoint
kinds: standard (60 rows a page), bulk (1000 rows, `$select` mandatory) and sync (1000 rows,
ordered by the rowversion `Timestamp`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Edm(StrEnum):
    """The OData v2 primitive types Exact uses."""

    GUID = "Edm.Guid"
    STRING = "Edm.String"
    INT16 = "Edm.Int16"
    INT32 = "Edm.Int32"
    INT64 = "Edm.Int64"
    DOUBLE = "Edm.Double"
    DATETIME = "Edm.DateTime"
    BOOLEAN = "Edm.Boolean"


class Kind(StrEnum):
    """The three kinds of Exact endpoint, which differ in page size and allowed options."""

    STANDARD = "standard"
    BULK = "bulk"
    SYNC = "sync"


ALL_KINDS: frozenset[Kind] = frozenset(Kind)
SYNC_ONLY: frozenset[Kind] = frozenset({Kind.SYNC})
STANDARD_ONLY: frozenset[Kind] = frozenset({Kind.STANDARD})

PAGE_SIZE: dict[Kind, int] = {Kind.STANDARD: 60, Kind.BULK: 1000, Kind.SYNC: 1000}


@dataclass(frozen=True)
class Field:
    """One property of an entity; `kinds` lists the endpoint kinds that serve it."""

    name: str
    edm: Edm
    kinds: frozenset[Kind] = ALL_KINDS

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
        bulk_filter_fields: fields a bulk `$filter` may use; None means no restriction.
        mandatory_filter_fields: the standard endpoint refuses a GET without a `$filter` on one
            of these (Exact's "mandatory filtering", since July 2021).
        deleted_entity_type: the `EntityType` code written to `sync/Deleted`, or None.
        sync_feed_owner: set when this entity's rows are served inside another entity's sync
            feed (sales invoice lines come in `sync/SalesInvoice/SalesInvoices`, LineNumber >= 1).
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

    def fields_for(self, kind: Kind) -> tuple[Field, ...]:
        """The fields an endpoint of `kind` serves, in declaration order."""
        return tuple(field for field in self.fields if kind in field.kinds)

    def field(self, name: str) -> Field:
        """Look a field up by its exact (case-sensitive) name."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

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


def _f(name: str, edm: Edm, kinds: frozenset[Kind] = ALL_KINDS) -> Field:
    return Field(name, edm, kinds)


G, S, I16, I32, I64, D, DT, B = (
    Edm.GUID,
    Edm.STRING,
    Edm.INT16,
    Edm.INT32,
    Edm.INT64,
    Edm.DOUBLE,
    Edm.DATETIME,
    Edm.BOOLEAN,
)

DIVISION = _f("Division", I32)
CREATED = _f("Created", DT)
MODIFIED = _f("Modified", DT)
# Sync variants add the rowversion; it exists on every stored row but only sync serves it.
TIMESTAMP = _f("Timestamp", I64, SYNC_ONLY)

TRANSACTION_LINES = Entity(
    name="TransactionLines",
    metadata_type="Exact.Web.Api.Models.Financial.TransactionLine",
    key="ID",
    standard_path="financialtransaction/TransactionLines",
    bulk_path="bulk/Financial/TransactionLines",
    sync_path="sync/Financial/TransactionLines",
    deleted_entity_type=1,
    fields=(
        _f("ID", G),
        _f("Account", G),
        _f("AccountCode", S),
        _f("AccountName", S),
        _f("AmountDC", D),
        _f("AmountFC", D),
        _f("AmountVATBaseFC", D),
        _f("AmountVATFC", D),
        _f("CostCenter", S),
        _f("CostCenterDescription", S),
        _f("CostUnit", S),
        _f("CostUnitDescription", S),
        CREATED,
        _f("Currency", S),
        _f("Date", DT),
        _f("Description", S),
        DIVISION,
        _f("DueDate", DT),
        _f("EntryID", G),
        _f("EntryNumber", I32),
        _f("ExchangeRate", D),
        _f("FinancialPeriod", I16),
        _f("FinancialYear", I16),
        _f("GLAccount", G),
        _f("GLAccountCode", S),
        _f("GLAccountDescription", S),
        _f("InvoiceNumber", I32),
        _f("JournalCode", S),
        _f("JournalDescription", S),
        _f("LineNumber", I32),
        _f("LineType", I16),
        MODIFIED,
        _f("PaymentReference", S),
        _f("Quantity", D),
        _f("Status", I16),
        _f("Type", I32),
        _f("VATCode", S),
        _f("VATPercentage", D),
        _f("YourRef", S),
        TIMESTAMP,
    ),
)

GL_ACCOUNTS = Entity(
    name="GLAccounts",
    metadata_type="Exact.Web.Api.Models.Financial.GLAccount",
    key="ID",
    standard_path="financial/GLAccounts",
    bulk_path="bulk/Financial/GLAccounts",
    sync_path="sync/Financial/GLAccounts",
    deleted_entity_type=7,
    bulk_filter_fields=frozenset(
        {"BalanceSide", "BalanceType", "Code", "Created", "Description", "ID", "IsBlocked"}
        | {"Modified", "Type"}
    ),
    fields=(
        _f("ID", G),
        _f("BalanceSide", S),
        _f("BalanceType", S),
        _f("Code", S),
        _f("Costcenter", S),
        _f("Costunit", S),
        CREATED,
        _f("Description", S),
        DIVISION,
        _f("IsBlocked", B),
        MODIFIED,
        _f("Type", I32),
        _f("TypeDescription", S),
        _f("VATCode", S),
        TIMESTAMP,
    ),
)

GL_CLASSIFICATIONS = Entity(
    name="GLClassifications",
    metadata_type="Exact.Web.Api.Models.Financial.GLClassification",
    key="ID",
    standard_path="financial/GLClassifications",
    bulk_path="bulk/Financial/GLClassifications",
    sync_path="sync/Financial/GLClassifications",
    deleted_entity_type=18,
    bulk_filter_fields=frozenset(
        {"Code", "ID", "Name", "Parent", "TaxonomyNamespace", "Type"},
    ),
    fields=(
        _f("ID", G),
        _f("Abstract", B),
        _f("Balance", S),
        _f("Code", S),
        CREATED,
        _f("Description", S),
        DIVISION,
        MODIFIED,
        _f("Name", S),
        _f("Parent", G),
        _f("PeriodType", S),
        _f("TaxonomyNamespace", G),
        _f("Type", G),
        TIMESTAMP,
    ),
)

GL_SCHEMES = Entity(
    name="GLSchemes",
    metadata_type="Exact.Web.Api.Models.Financial.GLScheme",
    key="ID",
    standard_path="financial/GLSchemes",
    fields=(
        _f("ID", G),
        _f("Code", S),
        CREATED,
        _f("Description", S),
        DIVISION,
        _f("Main", I16),
        MODIFIED,
        _f("TargetNamespace", S),
    ),
)

# Exact gives the mappings no Modified field: consumers must reload them in full.
GL_ACCOUNT_CLASSIFICATION_MAPPINGS = Entity(
    name="GLAccountClassificationMappings",
    metadata_type="Exact.Web.Api.Models.Financial.GLAccountClassificationMapping",
    key="ID",
    standard_path="financial/GLAccountClassificationMappings",
    fields=(
        _f("ID", G),
        _f("Classification", G),
        _f("ClassificationCode", S),
        _f("ClassificationDescription", S),
        DIVISION,
        _f("GLAccount", G),
        _f("GLAccountCode", S),
        _f("GLAccountDescription", S),
        _f("GLSchemeCode", S),
        _f("GLSchemeDescription", S),
        _f("GLSchemeID", G),
    ),
)

GENERAL_JOURNAL_ENTRIES = Entity(
    name="GeneralJournalEntries",
    metadata_type="Exact.Web.Api.Models.GeneralJournalEntry",
    key="EntryID",
    standard_path="generaljournalentry/GeneralJournalEntries",
    fields=(
        _f("EntryID", G),
        CREATED,
        _f("Currency", S),
        DIVISION,
        _f("EntryNumber", I32),
        _f("ExchangeRate", D),
        _f("FinancialPeriod", I16),
        _f("FinancialYear", I16),
        _f("JournalCode", S),
        _f("JournalDescription", S),
        MODIFIED,
        _f("Reversal", B),
        _f("Status", I16),
        _f("StatusDescription", S),
        _f("Type", I32),
        _f("TypeDescription", S),
    ),
)

GENERAL_JOURNAL_ENTRY_LINES = Entity(
    name="GeneralJournalEntryLines",
    metadata_type="Exact.Web.Api.Models.GeneralJournalEntryLine",
    key="ID",
    standard_path="generaljournalentry/GeneralJournalEntryLines",
    fields=(
        _f("ID", G),
        _f("Account", G),
        _f("AccountCode", S),
        _f("AccountName", S),
        _f("AmountDC", D),
        _f("AmountFC", D),
        _f("AmountVATDC", D),
        _f("AmountVATFC", D),
        _f("CostCenter", S),
        _f("CostUnit", S),
        CREATED,
        _f("Date", DT),
        _f("Description", S),
        DIVISION,
        _f("EntryID", G),
        _f("GLAccount", G),
        _f("GLAccountCode", S),
        _f("GLAccountDescription", S),
        _f("LineNumber", I32),
        MODIFIED,
        _f("Quantity", D),
        _f("VATCode", S),
        _f("VATPercentage", D),
    ),
)

COSTCENTERS = Entity(
    name="Costcenters",
    metadata_type="Exact.Web.Api.Models.HRM.Costcenter",
    key="ID",
    standard_path="hrm/Costcenters",
    fields=(
        _f("ID", G),
        _f("Active", B),
        _f("Code", S),
        CREATED,
        _f("Description", S),
        DIVISION,
        MODIFIED,
    ),
)

COSTUNITS = Entity(
    name="Costunits",
    metadata_type="Exact.Web.Api.Models.HRM.Costunit",
    key="ID",
    standard_path="hrm/Costunits",
    fields=(
        _f("ID", G),
        _f("Code", S),
        CREATED,
        _f("Description", S),
        DIVISION,
        MODIFIED,
    ),
)

# Division carries the same value as Code so that every record of every stream has a Division.
DIVISIONS = Entity(
    name="Divisions",
    metadata_type="Exact.Web.Api.Models.System.SystemDivision",
    key="Code",
    standard_path="system/Divisions",
    fields=(
        _f("Code", I32),
        _f("BlockingStatus", I32),
        _f("Country", S),
        CREATED,
        _f("Currency", S),
        _f("Current", B),
        _f("Description", S),
        DIVISION,
        _f("DivisionMoveDate", DT),
        _f("IsDossierDivision", B),
        _f("IsHRDivision", B),
        _f("IsMainDivision", B),
        _f("Legislation", S),
        MODIFIED,
        _f("Status", I16),
    ),
)

ACCOUNTS = Entity(
    name="Accounts",
    metadata_type="Exact.Web.Api.Models.Account",
    key="ID",
    standard_path="crm/Accounts",
    bulk_path="bulk/CRM/Accounts",
    sync_path="sync/CRM/Accounts",
    deleted_entity_type=2,
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
    fields=(
        _f("ID", G),
        _f("Accountant", G),
        _f("AccountManager", G),
        _f("Blocked", B),
        _f("ChamberOfCommerce", S),
        _f("City", S),
        _f("Classification1", G),
        _f("Code", S),
        _f("Country", S),
        CREATED,
        DIVISION,
        _f("Email", S),
        _f("GLAP", G),
        _f("GLAR", G),
        _f("IsAccountant", I16),
        _f("IsReseller", B),
        _f("IsSales", B),
        _f("IsSupplier", B),
        MODIFIED,
        _f("Name", S),
        _f("Phone", S),
        _f("Status", S),
        _f("VATNumber", S),
        TIMESTAMP,
    ),
)

CONTACTS = Entity(
    name="Contacts",
    metadata_type="Exact.Web.Api.Models.Contact",
    key="ID",
    standard_path="crm/Contacts",
    bulk_path="bulk/CRM/Contacts",
    sync_path="sync/CRM/Contacts",
    deleted_entity_type=5,
    fields=(
        _f("ID", G),
        _f("Account", G),
        _f("AccountIsCustomer", B),
        _f("AccountIsSupplier", B),
        _f("AccountName", S),
        CREATED,
        DIVISION,
        _f("Email", S),
        _f("FirstName", S),
        _f("FullName", S),
        _f("IsMainContact", B),
        _f("JobTitleDescription", S),
        _f("LastName", S),
        _f("Mobile", S),
        MODIFIED,
        _f("Phone", S),
        TIMESTAMP,
    ),
)

ITEMS = Entity(
    name="Items",
    metadata_type="Exact.Web.Api.Models.Logistics.Item",
    key="ID",
    standard_path="logistics/Items",
    bulk_path="bulk/Logistics/Items",
    sync_path="sync/Logistics/Items",
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
    fields=(
        _f("ID", G),
        _f("Code", S),
        _f("CostPriceStandard", D),
        CREATED,
        _f("Description", S),
        DIVISION,
        _f("EndDate", DT),
        _f("IsPurchaseItem", B),
        _f("IsSalesItem", B),
        _f("IsStockItem", B),
        _f("ItemGroup", G),
        _f("ItemGroupCode", S),
        MODIFIED,
        _f("SalesVatCode", S),
        _f("StandardSalesPrice", D),
        _f("StartDate", DT),
        _f("Unit", S),
        TIMESTAMP,
    ),
)

SALES_ORDERS = Entity(
    name="SalesOrders",
    metadata_type="Exact.Web.Api.Models.SalesOrder.SalesOrder",
    key="OrderID",
    standard_path="salesorder/SalesOrders",
    bulk_path="bulk/SalesOrder/SalesOrders",
    sync_path="sync/SalesOrder/SalesOrderHeaders",
    deleted_entity_type=32,
    fields=(
        _f("OrderID", G),
        _f("AmountDC", D),
        _f("AmountFC", D),
        _f("AmountFCExclVat", D),
        CREATED,
        _f("Currency", S),
        _f("DeliveryDate", DT),
        _f("DeliveryStatus", I16),
        _f("Description", S),
        DIVISION,
        _f("InvoiceStatus", I16),
        _f("InvoiceTo", G),
        MODIFIED,
        _f("OrderDate", DT),
        _f("OrderedBy", G),
        _f("OrderedByName", S),
        _f("OrderNumber", I32),
        _f("Status", I16),
        _f("VATAmount", D),
        _f("YourRef", S),
        TIMESTAMP,
    ),
)

SALES_ORDER_LINES = Entity(
    name="SalesOrderLines",
    metadata_type="Exact.Web.Api.Models.SalesOrder.SalesOrderLine",
    key="ID",
    standard_path="salesorder/SalesOrderLines",
    bulk_path="bulk/SalesOrder/SalesOrderLines",
    sync_path="sync/SalesOrder/SalesOrderLines",
    deleted_entity_type=33,
    fields=(
        _f("ID", G),
        _f("AmountDC", D),
        _f("AmountFC", D),
        _f("CostCenter", S),
        _f("CostUnit", S),
        CREATED,
        _f("DeliveryDate", DT),
        _f("Description", S),
        DIVISION,
        _f("Item", G),
        _f("ItemCode", S),
        _f("LineNumber", I32),
        MODIFIED,
        _f("OrderID", G),
        _f("Quantity", D),
        _f("UnitPrice", D),
        _f("VATAmount", D),
        _f("VATCode", S),
        _f("VATPercentage", D),
        TIMESTAMP,
    ),
)

# The sync feed sync/SalesInvoice/SalesInvoices carries headers (LineNumber 0, ID = InvoiceID)
# and lines (LineNumber >= 1) in one feed, so the header declares the line fields as sync-only.
SALES_INVOICES = Entity(
    name="SalesInvoices",
    metadata_type="Exact.Web.Api.Models.SalesInvoice.SalesInvoice",
    key="InvoiceID",
    standard_path="salesinvoice/SalesInvoices",
    bulk_path="bulk/SalesInvoice/SalesInvoices",
    sync_path="sync/SalesInvoice/SalesInvoices",
    deleted_entity_type=13,
    fields=(
        _f("InvoiceID", G),
        _f("AmountDC", D),
        _f("AmountFC", D),
        _f("AmountFCExclVat", D),
        CREATED,
        _f("Currency", S),
        _f("Description", S),
        DIVISION,
        _f("DueDate", DT),
        _f("InvoiceDate", DT),
        _f("InvoiceNumber", I32),
        _f("InvoiceTo", G),
        _f("InvoiceToName", S),
        _f("Journal", S),
        MODIFIED,
        _f("OrderedBy", G),
        _f("OrderedByName", S),
        _f("PaymentCondition", S),
        _f("Status", I16),
        _f("Type", I32),
        _f("VATAmountDC", D),
        _f("VATAmountFC", D),
        _f("YourRef", S),
        # Line fields, present in the sync feed only.
        _f("ID", G, SYNC_ONLY),
        _f("CostCenter", S, SYNC_ONLY),
        _f("CostUnit", S, SYNC_ONLY),
        _f("GLAccount", G, SYNC_ONLY),
        _f("Item", G, SYNC_ONLY),
        _f("ItemCode", S, SYNC_ONLY),
        _f("LineNumber", I32, SYNC_ONLY),
        _f("Quantity", D, SYNC_ONLY),
        _f("UnitPrice", D, SYNC_ONLY),
        _f("VATCode", S, SYNC_ONLY),
        _f("VATPercentage", D, SYNC_ONLY),
        TIMESTAMP,
    ),
)

SALES_INVOICE_LINES = Entity(
    name="SalesInvoiceLines",
    metadata_type="Exact.Web.Api.Models.SalesInvoice.SalesInvoiceLine",
    key="ID",
    standard_path="salesinvoice/SalesInvoiceLines",
    bulk_path="bulk/SalesInvoice/SalesInvoiceLines",
    sync_path="sync/SalesInvoice/SalesInvoices",
    sync_feed_owner="SalesInvoices",
    deleted_entity_type=13,
    fields=(
        _f("ID", G),
        _f("AmountDC", D),
        _f("AmountFC", D),
        _f("CostCenter", S),
        _f("CostUnit", S),
        CREATED,
        _f("Description", S),
        DIVISION,
        _f("GLAccount", G),
        _f("InvoiceID", G),
        _f("Item", G),
        _f("ItemCode", S),
        _f("LineNumber", I32),
        MODIFIED,
        _f("Quantity", D),
        _f("UnitPrice", D),
        _f("VATAmountDC", D),
        _f("VATAmountFC", D),
        _f("VATCode", S),
        _f("VATPercentage", D),
    ),
)

PURCHASE_INVOICES = Entity(
    name="PurchaseInvoices",
    metadata_type="Exact.Web.Api.Models.Purchase.PurchaseInvoice",
    key="ID",
    standard_path="purchase/PurchaseInvoices",
    fields=(
        _f("ID", G),
        _f("Amount", D),
        CREATED,
        _f("Currency", S),
        _f("Description", S),
        DIVISION,
        _f("DueDate", DT),
        _f("EntryNumber", I32),
        _f("FinancialPeriod", I16),
        _f("FinancialYear", I16),
        _f("InvoiceDate", DT),
        _f("Journal", S),
        MODIFIED,
        _f("Source", I16),
        _f("Status", I16),
        _f("Supplier", G),
        _f("Type", I32),
        _f("VATAmount", D),
        _f("YourRef", S),
    ),
)

PURCHASE_INVOICE_LINES = Entity(
    name="PurchaseInvoiceLines",
    metadata_type="Exact.Web.Api.Models.Purchase.PurchaseInvoiceLine",
    key="ID",
    standard_path="purchase/PurchaseInvoiceLines",
    fields=(
        _f("ID", G),
        _f("Amount", D),
        _f("CostCenter", S),
        _f("CostUnit", S),
        CREATED,
        _f("Description", S),
        DIVISION,
        _f("InvoiceID", G),
        _f("Item", G),
        _f("LineNumber", I32),
        MODIFIED,
        _f("Quantity", D),
        _f("UnitPrice", D),
        _f("VATAmount", D),
        _f("VATCode", S),
    ),
)

PURCHASE_ENTRIES = Entity(
    name="PurchaseEntries",
    metadata_type="Exact.Web.Api.Models.PurchaseEntry",
    key="EntryID",
    standard_path="purchaseentry/PurchaseEntries",
    fields=(
        _f("EntryID", G),
        _f("AmountDC", D),
        _f("AmountFC", D),
        CREATED,
        _f("Currency", S),
        _f("Description", S),
        DIVISION,
        _f("DueDate", DT),
        _f("EntryDate", DT),
        _f("EntryNumber", I32),
        _f("InvoiceNumber", I32),
        _f("Journal", S),
        MODIFIED,
        _f("ReportingPeriod", I16),
        _f("ReportingYear", I16),
        _f("Status", I16),
        _f("Supplier", G),
        _f("SupplierName", S),
        _f("Type", I32),
        _f("VATAmountDC", D),
        _f("VATAmountFC", D),
        _f("YourRef", S),
    ),
)

PURCHASE_ENTRY_LINES = Entity(
    name="PurchaseEntryLines",
    metadata_type="Exact.Web.Api.Models.PurchaseEntryLine",
    key="ID",
    standard_path="purchaseentry/PurchaseEntryLines",
    fields=(
        _f("ID", G),
        _f("AmountDC", D),
        _f("AmountFC", D),
        _f("CostCenter", S),
        _f("CostUnit", S),
        CREATED,
        _f("Description", S),
        DIVISION,
        _f("EntryID", G),
        _f("GLAccount", G),
        _f("LineNumber", I32),
        MODIFIED,
        _f("VATAmountDC", D),
        _f("VATAmountFC", D),
        _f("VATCode", S),
    ),
)

# Bulk cash-flow endpoints have no Modified field (and no Modified filter): only the standard
# cashflow/ endpoints serve it, which is what incremental loads must use.
CASHFLOW_BULK_FILTERS = frozenset(
    {"Account", "Document", "EndDate", "EntryDate", "EntryID", "GLAccount", "ID"}
    | {"InvoiceDate", "InvoiceNumber", "Source", "Status", "TransactionID", "TransactionType"},
)


def _cashflow_fields(*extra: Field) -> tuple[Field, ...]:
    return (
        _f("ID", G),
        _f("Account", G),
        _f("AccountCode", S),
        _f("AccountName", S),
        _f("AmountDC", D),
        _f("AmountFC", D),
        CREATED,
        _f("Currency", S),
        _f("Description", S),
        DIVISION,
        _f("DueDate", DT),
        _f("EntryDate", DT),
        _f("EntryID", G),
        _f("EntryNumber", I32),
        _f("GLAccount", G),
        _f("InvoiceDate", DT),
        _f("InvoiceNumber", I32),
        _f("Modified", DT, STANDARD_ONLY),
        _f("Source", I32),
        _f("Status", I16),
        _f("TransactionID", G),
        _f("TransactionType", I32),
        *extra,
    )


RECEIVABLES = Entity(
    name="Receivables",
    metadata_type="Exact.Web.Api.Models.Cashflow.Receivable",
    key="ID",
    standard_path="cashflow/Receivables",
    bulk_path="bulk/Cashflow/Receivables",
    bulk_filter_fields=CASHFLOW_BULK_FILTERS,
    fields=_cashflow_fields(_f("IsFullyPaid", B), _f("LastPaymentDate", DT)),
)

PAYMENTS = Entity(
    name="Payments",
    metadata_type="Exact.Web.Api.Models.Cashflow.Payment",
    key="ID",
    standard_path="cashflow/Payments",
    bulk_path="bulk/Cashflow/Payments",
    bulk_filter_fields=CASHFLOW_BULK_FILTERS,
    fields=_cashflow_fields(_f("IsFullyPaid", B), _f("LastPaymentDate", DT)),
)

# Feeds with their own shape, not backed by an entity table of their own.
DELETED = Entity(
    name="Deleted",
    metadata_type="Exact.Web.Api.Models.Sync.Deleted",
    key="ID",
    standard_path=None,
    sync_path="sync/Deleted",
    fields=(
        _f("ID", G, SYNC_ONLY),
        _f("Division", I32, SYNC_ONLY),
        _f("DeletedBy", G, SYNC_ONLY),
        _f("DeletedDate", DT, SYNC_ONLY),
        _f("EntityKey", G, SYNC_ONLY),
        _f("EntityType", I32, SYNC_ONLY),
        TIMESTAMP,
    ),
)

SYNC_TIMESTAMP = Entity(
    name="SyncTimestamp",
    metadata_type="Exact.Web.Api.Models.Sync.SyncTimestamp",
    key="TimeStampAsBigInt",
    standard_path="read/sync/Sync/SyncTimestamp",
    fields=(
        _f("API", S),
        _f("Modified", DT),
        _f("TimeStampAsBigInt", I64),
    ),
)

ME = Entity(
    name="Me",
    metadata_type="Exact.Web.Api.System.Me",
    key="UserID",
    standard_path=None,
    fields=(
        _f("UserID", G),
        _f("AccountingDivision", I32),
        _f("CurrentDivision", I32),
        _f("DivisionCustomer", G),
        _f("Email", S),
        _f("FullName", S),
        _f("LanguageCode", S),
        _f("Legislation", S),
        _f("PackageCode", S),
        _f("ServerTime", DT),
        _f("ServerUtcOffset", D),
        _f("UserName", S),
    ),
)

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

ALL_ENTITIES: tuple[Entity, ...] = (*DATA_ENTITIES, DELETED, SYNC_TIMESTAMP, ME)

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
