"""Purchasing streams: purchase invoices and entries with their lines, payments to suppliers."""

from __future__ import annotations

from tap_exactonline.client import ModifiedStream
from tap_exactonline.schema import DT, I16, I32, B, D, ExactField, G, S, fields


class PurchaseInvoicesStream(ModifiedStream):
    """Purchase invoices of the logistics purchase module."""

    name = "purchase_invoices"
    primary_keys = ("ID",)
    standard_path = "purchase/PurchaseInvoices"
    exact_fields = fields(
        ("ID", G),
        ("Amount", D),
        ("Created", DT),
        ("Currency", S),
        ("Description", S),
        ("Division", I32),
        ("DueDate", DT),
        ("EntryNumber", I32),
        ("FinancialPeriod", I16),
        ("FinancialYear", I16),
        ("InvoiceDate", DT),
        ("Journal", S),
        ("Modified", DT),
        ("Source", I16),
        ("Status", I16),
        ("Supplier", G),
        ("Type", I32),
        ("VATAmount", D),
        ("YourRef", S),
    )


class PurchaseInvoiceLinesStream(ModifiedStream):
    """Lines of purchase invoices."""

    name = "purchase_invoice_lines"
    primary_keys = ("ID",)
    standard_path = "purchase/PurchaseInvoiceLines"
    exact_fields = fields(
        ("ID", G),
        ("Amount", D),
        ("CostCenter", S),
        ("CostUnit", S),
        ("Created", DT),
        ("Description", S),
        ("Division", I32),
        ("InvoiceID", G),
        ("Item", G),
        ("LineNumber", I32),
        ("Modified", DT),
        ("Quantity", D),
        ("UnitPrice", D),
        ("VATAmount", D),
        ("VATCode", S),
    )


class PurchaseEntriesStream(ModifiedStream):
    """Purchase entries: the financial bookings of purchase invoices."""

    name = "purchase_entries"
    primary_keys = ("EntryID",)
    standard_path = "purchaseentry/PurchaseEntries"
    exact_fields = fields(
        ("EntryID", G),
        ("AmountDC", D),
        ("AmountFC", D),
        ("Created", DT),
        ("Currency", S),
        ("Description", S),
        ("Division", I32),
        ("DueDate", DT),
        ("EntryDate", DT),
        ("EntryNumber", I32),
        ("InvoiceNumber", I32),
        ("Journal", S),
        ("Modified", DT),
        ("ReportingPeriod", I16),
        ("ReportingYear", I16),
        ("Status", I16),
        ("Supplier", G),
        ("SupplierName", S),
        ("Type", I32),
        ("VATAmountDC", D),
        ("VATAmountFC", D),
        ("YourRef", S),
    )


class PurchaseEntryLinesStream(ModifiedStream):
    """Lines of purchase entries."""

    name = "purchase_entry_lines"
    primary_keys = ("ID",)
    standard_path = "purchaseentry/PurchaseEntryLines"
    exact_fields = fields(
        ("ID", G),
        ("AmountDC", D),
        ("AmountFC", D),
        ("CostCenter", S),
        ("CostUnit", S),
        ("Created", DT),
        ("Description", S),
        ("Division", I32),
        ("EntryID", G),
        ("GLAccount", G),
        ("LineNumber", I32),
        ("Modified", DT),
        ("VATAmountDC", D),
        ("VATAmountFC", D),
        ("VATCode", S),
    )


def cashflow_fields() -> tuple[ExactField, ...]:
    """Fields of cash-flow terms (payments and receivables share them).

    Returns:
        The declarations; ``Modified`` is served by the standard endpoint only.
    """
    return (
        *fields(
            ("ID", G),
            ("Account", G),
            ("AccountCode", S),
            ("AccountName", S),
            ("AmountDC", D),
            ("AmountFC", D),
            ("Created", DT),
            ("Currency", S),
            ("Description", S),
            ("Division", I32),
            ("DueDate", DT),
            ("EntryDate", DT),
            ("EntryID", G),
            ("EntryNumber", I32),
            ("GLAccount", G),
            ("InvoiceDate", DT),
            ("InvoiceNumber", I32),
        ),
        ExactField("Modified", DT, bulk=False),
        *fields(
            ("Source", I32),
            ("Status", I16),
            ("TransactionID", G),
            ("TransactionType", I32),
            ("IsFullyPaid", B),
            ("LastPaymentDate", DT),
        ),
    )


class PaymentsStream(ModifiedStream):
    """Payment terms towards suppliers (what we owe and paid)."""

    name = "payments"
    primary_keys = ("ID",)
    bulk_path = "bulk/Cashflow/Payments"
    standard_path = "cashflow/Payments"
    exact_fields = cashflow_fields()
