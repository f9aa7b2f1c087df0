"""Which Exact entity each stream (and so each warehouse table) holds.

The names are the entity names of the sandbox's catalog and of its `/_sandbox/truth` answer.
"""

from __future__ import annotations

from exact_sandbox.store import entity_named, stored_fields
from target_snowflake_audit.naming import column_names

STREAM_ENTITIES: dict[str, str] = {
    "transaction_lines": "TransactionLines",
    "gl_accounts": "GLAccounts",
    "gl_classifications": "GLClassifications",
    "gl_schemes": "GLSchemes",
    "gl_account_classification_mappings": "GLAccountClassificationMappings",
    "journal_entries": "GeneralJournalEntries",
    "journal_entry_lines": "GeneralJournalEntryLines",
    "cost_centers": "Costcenters",
    "cost_units": "Costunits",
    "divisions": "Divisions",
    "purchase_invoices": "PurchaseInvoices",
    "purchase_invoice_lines": "PurchaseInvoiceLines",
    "purchase_entries": "PurchaseEntries",
    "purchase_entry_lines": "PurchaseEntryLines",
    "payments": "Payments",
    "receivables": "Receivables",
    "sales_orders": "SalesOrders",
    "sales_order_lines": "SalesOrderLines",
    "sales_invoices": "SalesInvoices",
    "sales_invoice_lines": "SalesInvoiceLines",
    "customers": "Customers",
    "suppliers": "Suppliers",
    "contacts": "Contacts",
    "items": "Items",
}

#: The endpoints each stream reads (the tap's README, "Streams"): every field they serve must
#: land in the stream's table. Modified streams with a bulk endpoint read it on a first load.
STREAM_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "transaction_lines": ("sync/Financial/TransactionLines",),
    "gl_accounts": ("sync/Financial/GLAccounts",),
    "gl_classifications": ("sync/Financial/GLClassifications",),
    "gl_schemes": ("financial/GLSchemes",),
    "gl_account_classification_mappings": ("financial/GLAccountClassificationMappings",),
    "journal_entries": ("generaljournalentry/GeneralJournalEntries",),
    "journal_entry_lines": ("generaljournalentry/GeneralJournalEntryLines",),
    "cost_centers": ("hrm/Costcenters",),
    "cost_units": ("hrm/Costunits",),
    "divisions": ("system/Divisions",),
    "purchase_invoices": ("purchase/PurchaseInvoices",),
    "purchase_invoice_lines": ("purchase/PurchaseInvoiceLines",),
    "purchase_entries": ("purchaseentry/PurchaseEntries",),
    "purchase_entry_lines": ("purchaseentry/PurchaseEntryLines",),
    "payments": ("bulk/Cashflow/Payments", "cashflow/Payments"),
    "receivables": ("bulk/Cashflow/Receivables", "cashflow/Receivables"),
    "sales_orders": ("sync/SalesOrder/SalesOrderHeaders",),
    "sales_order_lines": ("sync/SalesOrder/SalesOrderLines",),
    "sales_invoices": ("sync/SalesInvoice/SalesInvoices",),
    "sales_invoice_lines": ("sync/SalesInvoice/SalesInvoices",),
    "customers": ("sync/CRM/Accounts",),
    "suppliers": ("sync/CRM/Accounts",),
    "contacts": ("sync/CRM/Contacts",),
    "items": ("sync/Logistics/Items",),
}

#: Tables holding a role of accounts: the stored entity, and the flag the tap adds to every
#: account row it emits there (the tap's README: later runs emit accounts that left the role,
#: with the flag false, so a table may hold accounts outside its role).
ROLE_TABLES: dict[str, tuple[str, str]] = {
    "customers": ("Accounts", "is_customer"),
    "suppliers": ("Accounts", "is_supplier"),
}
#: The flags the tap derives on both account tables (both carry both).
ROLE_FLAGS: tuple[str, ...] = ("is_customer", "is_supplier")


def role_flag_column(table: str) -> str:
    """The column of an account table's own role flag (`is_customer`; `is_supplier__2`).

    The target names columns by its documented collision rule: the stored `IsSupplier` keeps
    `is_supplier`, so the tap's flag of that name gets `is_supplier__2`.
    """
    entity, flag = ROLE_TABLES[table]
    names = [field.name for field in stored_fields(entity_named(entity))] + list(ROLE_FLAGS)
    return column_names(names)[flag]
