"""The catalog read without a server: documented fields, navigation properties, stored columns."""

from __future__ import annotations

from exact_sandbox import catalog
from exact_sandbox.store import stored_fields


def test_navigation_properties_are_not_served():
    # Documented as navigation collections (they need $expand): listed, never served.
    documented = catalog.documented_endpoints()
    assert documented["crm/Accounts"]["navigation_not_served"] == ["BankAccounts"]
    assert "BankAccounts" not in [field[0] for field in documented["crm/Accounts"]["fields"]]


def test_the_invoice_table_stores_no_line_fields_and_the_feed_serves_them_from_the_lines():
    stored = {field.name for field in stored_fields(catalog.SALES_INVOICES)}
    assert "ItemCode" not in stored
    assert "ItemCode" in {
        field.name for field in catalog.SALES_INVOICES.fields_for(catalog.Kind.SYNC)
    }
