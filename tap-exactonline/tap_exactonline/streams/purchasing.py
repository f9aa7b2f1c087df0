"""Purchasing streams: purchase invoices and entries with their lines, payments to suppliers."""

from __future__ import annotations

from tap_exactonline.streams.kinds import ModifiedStream, ParentModifiedStream


class PurchaseInvoicesStream(ModifiedStream):
    """Purchase invoices of the logistics purchase module."""

    name = "purchase_invoices"
    primary_keys = ("ID",)
    standard_path = "purchase/PurchaseInvoices"


class PurchaseInvoiceLinesStream(ModifiedStream):
    """Lines of purchase invoices."""

    name = "purchase_invoice_lines"
    primary_keys = ("ID",)
    standard_path = "purchase/PurchaseInvoiceLines"


class PurchaseEntriesStream(ModifiedStream):
    """Purchase entries: the financial bookings of purchase invoices."""

    name = "purchase_entries"
    primary_keys = ("EntryID",)
    standard_path = "purchaseentry/PurchaseEntries"


class PurchaseEntryLinesStream(ParentModifiedStream):
    """Lines of purchase entries (Exact documents no Modified on them: see the base class)."""

    name = "purchase_entry_lines"
    primary_keys = ("ID",)
    standard_path = "purchaseentry/PurchaseEntryLines"
    parent_path = "purchaseentry/PurchaseEntries"
    parent_key = "EntryID"


class PaymentsStream(ModifiedStream):
    """Payment terms towards suppliers (what we owe and paid)."""

    name = "payments"
    primary_keys = ("ID",)
    bulk_path = "bulk/Cashflow/Payments"
    standard_path = "cashflow/Payments"
