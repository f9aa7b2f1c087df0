"""Sales streams: sales orders and invoices with their lines, receivables from customers."""

from __future__ import annotations

from tap_exactonline.client import ModifiedStream, SyncStream
from tap_exactonline.schema import DT, I16, I32, I64, D, G, S, Where, fields
from tap_exactonline.streams.purchasing import cashflow_fields


class SalesOrdersStream(SyncStream):
    """Sales order headers."""

    name = "sales_orders"
    primary_keys = ("OrderID",)
    sync_path = "sync/SalesOrder/SalesOrderHeaders"
    sync_timestamp_endpoint = "SalesOrderHeaders"
    deleted_entity_type = 32
    exact_fields = fields(
        ("OrderID", G),
        ("AmountDC", D),
        ("AmountFC", D),
        ("AmountFCExclVat", D),
        ("Created", DT),
        ("Currency", S),
        ("DeliveryDate", DT),
        ("DeliveryStatus", I16),
        ("Description", S),
        ("Division", I32),
        ("InvoiceStatus", I16),
        ("InvoiceTo", G),
        ("Modified", DT),
        ("OrderDate", DT),
        ("OrderedBy", G),
        ("OrderedByName", S),
        ("OrderNumber", I32),
        ("Status", I16),
        ("VATAmount", D),
        ("YourRef", S),
        ("Timestamp", I64),
    )


class SalesOrderLinesStream(SyncStream):
    """Sales order lines."""

    name = "sales_order_lines"
    primary_keys = ("ID",)
    sync_path = "sync/SalesOrder/SalesOrderLines"
    sync_timestamp_endpoint = "SalesOrderLines"
    deleted_entity_type = 33
    exact_fields = fields(
        ("ID", G),
        ("AmountDC", D),
        ("AmountFC", D),
        ("CostCenter", S),
        ("CostUnit", S),
        ("Created", DT),
        ("DeliveryDate", DT),
        ("Description", S),
        ("Division", I32),
        ("Item", G),
        ("ItemCode", S),
        ("LineNumber", I32),
        ("Modified", DT),
        ("OrderID", G),
        ("Quantity", D),
        ("UnitPrice", D),
        ("VATAmount", D),
        ("VATCode", S),
        ("VATPercentage", D),
        ("Timestamp", I64),
    )


#: Exact's sales-invoice sync feed: LineNumber 0 is the header, >= 1 are the lines.
IS_INVOICE_HEADER = Where("LineNumber", truthy=False)
IS_INVOICE_LINE = Where("LineNumber", truthy=True)


class SalesInvoicesStream(SyncStream):
    """Sales invoice headers (the LineNumber 0 rows of the shared sync feed)."""

    name = "sales_invoices"
    primary_keys = ("InvoiceID",)
    sync_path = "sync/SalesInvoice/SalesInvoices"
    sync_timestamp_endpoint = "SalesInvoices"
    deleted_entity_type = 13
    feed_only_fields = ("LineNumber",)
    feed_filter = IS_INVOICE_HEADER
    exact_fields = fields(
        ("InvoiceID", G),
        ("AmountDC", D),
        ("AmountFC", D),
        ("AmountFCExclVat", D),
        ("Created", DT),
        ("Currency", S),
        ("Description", S),
        ("Division", I32),
        ("DueDate", DT),
        ("InvoiceDate", DT),
        ("InvoiceNumber", I32),
        ("InvoiceTo", G),
        ("InvoiceToName", S),
        ("Journal", S),
        ("Modified", DT),
        ("OrderedBy", G),
        ("OrderedByName", S),
        ("PaymentCondition", S),
        ("Status", I16),
        ("Type", I32),
        ("VATAmountDC", D),
        ("VATAmountFC", D),
        ("YourRef", S),
        ("Timestamp", I64),
    )


class SalesInvoiceLinesStream(SyncStream):
    """Sales invoice lines (the LineNumber >= 1 rows of the shared sync feed)."""

    name = "sales_invoice_lines"
    primary_keys = ("ID",)
    sync_path = "sync/SalesInvoice/SalesInvoices"
    sync_timestamp_endpoint = "SalesInvoices"
    # Exact logs deleted invoices and lines alike as EntityType 13 (SalesInvoices), so both
    # streams receive the tombstone; its key matches a row in only one of them.
    deleted_entity_type = 13
    feed_filter = IS_INVOICE_LINE
    exact_fields = fields(
        ("ID", G),
        ("AmountDC", D),
        ("AmountFC", D),
        ("CostCenter", S),
        ("CostUnit", S),
        ("Created", DT),
        ("Description", S),
        ("Division", I32),
        ("GLAccount", G),
        ("InvoiceID", G),
        ("Item", G),
        ("ItemCode", S),
        ("LineNumber", I32),
        ("Modified", DT),
        ("Quantity", D),
        ("UnitPrice", D),
        ("VATAmountDC", D),
        ("VATAmountFC", D),
        ("VATCode", S),
        ("VATPercentage", D),
        ("Timestamp", I64),
    )


class ReceivablesStream(ModifiedStream):
    """Receivables: payment terms of customers (what they owe and paid)."""

    name = "receivables"
    primary_keys = ("ID",)
    bulk_path = "bulk/Cashflow/Receivables"
    standard_path = "cashflow/Receivables"
    exact_fields = cashflow_fields()
