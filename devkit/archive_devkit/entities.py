"""Which Exact entity each stream (and so each warehouse table) holds.

The names are the entity names of the sandbox's catalog and of its `/_sandbox/truth` answer.
"""

from __future__ import annotations

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
