"""Stream declarations, one module per business domain."""

from __future__ import annotations

from tap_exactonline.streams.crm import (
    ContactsStream,
    CustomersStream,
    ItemsStream,
    SuppliersStream,
)
from tap_exactonline.streams.financial import (
    CostCentersStream,
    CostUnitsStream,
    DivisionsStream,
    GLAccountClassificationMappingsStream,
    GLAccountsStream,
    GLClassificationsStream,
    GLSchemesStream,
    JournalEntriesStream,
    JournalEntryLinesStream,
    TransactionLinesStream,
)
from tap_exactonline.streams.purchasing import (
    PaymentsStream,
    PurchaseEntriesStream,
    PurchaseEntryLinesStream,
    PurchaseInvoiceLinesStream,
    PurchaseInvoicesStream,
)
from tap_exactonline.streams.sales import (
    ReceivablesStream,
    SalesInvoiceLinesStream,
    SalesInvoicesStream,
    SalesOrderLinesStream,
    SalesOrdersStream,
)

STREAM_TYPES = (
    TransactionLinesStream,
    GLAccountsStream,
    GLClassificationsStream,
    GLSchemesStream,
    GLAccountClassificationMappingsStream,
    JournalEntriesStream,
    JournalEntryLinesStream,
    CostCentersStream,
    CostUnitsStream,
    DivisionsStream,
    PurchaseInvoicesStream,
    PurchaseInvoiceLinesStream,
    PurchaseEntriesStream,
    PurchaseEntryLinesStream,
    PaymentsStream,
    SalesOrdersStream,
    SalesOrderLinesStream,
    SalesInvoicesStream,
    SalesInvoiceLinesStream,
    ReceivablesStream,
    CustomersStream,
    SuppliersStream,
    ContactsStream,
    ItemsStream,
)

__all__ = ["STREAM_TYPES"]
