"""CRM and reference streams: customers and suppliers (from accounts), contacts, items."""

from __future__ import annotations

from typing import ClassVar

from tap_exactonline.schema import Where
from tap_exactonline.streams.kinds import SyncStream

#: Exact has no IsCustomer field: Status 'C' marks a customer (A, S and P are not).
IS_CUSTOMER = Where("Status", equals="C")
IS_SUPPLIER = Where("IsSupplier", truthy=True)


class _AccountsStream(SyncStream):
    """Accounts from ``sync/CRM/Accounts``, one stream per business role."""

    primary_keys = ("ID",)
    sync_path = "sync/CRM/Accounts"
    deleted_entity_type = 2
    # Both flags on both tables, so a downstream join can filter either way.
    derived_flags: ClassVar[dict[str, Where]] = {
        "is_customer": IS_CUSTOMER,
        "is_supplier": IS_SUPPLIER,
    }


class CustomersStream(_AccountsStream):
    """Customers (accounts with Status 'C'); later runs also carry accounts that left the role."""

    name = "customers"
    full_load_filter = IS_CUSTOMER


class SuppliersStream(_AccountsStream):
    """Suppliers (IsSupplier); later runs also carry accounts that left the role."""

    name = "suppliers"
    full_load_filter = IS_SUPPLIER


class ContactsStream(SyncStream):
    """Contact persons of accounts."""

    name = "contacts"
    primary_keys = ("ID",)
    sync_path = "sync/CRM/Contacts"
    deleted_entity_type = 5


class ItemsStream(SyncStream):
    """Items (goods and services sold or bought)."""

    name = "items"
    primary_keys = ("ID",)
    sync_path = "sync/Logistics/Items"
    deleted_entity_type = 9
