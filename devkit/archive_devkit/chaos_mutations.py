r"""Seeded edits between chaos rounds: creates, updates and deletes, as Exact users make them.

Values are chosen to stress the pipeline's type handling: text with padding, quotes, commas,
newlines, non-ASCII and the `\N` sequence, empty strings, amounts with cents, calendar dates
on DST-change days and at year ends, moments inside the hour a DST change repeats or skips, and
accounts moving in and out of the customer and supplier roles. Deletes only touch entities
whose deletions Exact logs (sync/Deleted): for the others a full refresh is the documented way
to notice a vanished row.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from archive_devkit.field_values import FieldSpec
from archive_devkit.sandboxes import SandboxAdmin

UPDATED_ENTITIES = (
    "GLSchemes",
    "GLClassifications",
    "GLAccounts",
    "GLAccountClassificationMappings",
    "Costcenters",
    "Costunits",
    "Accounts",
    "Contacts",
    "Items",
    "SalesOrders",
    "SalesOrderLines",
    "SalesInvoices",
    "SalesInvoiceLines",
    "PurchaseInvoices",
    "PurchaseInvoiceLines",
    "PurchaseEntries",
    "PurchaseEntryLines",
    "GeneralJournalEntries",
    "GeneralJournalEntryLines",
    "Receivables",
    "Payments",
    "TransactionLines",
)
#: Entities with an EntityType in Exact's delete log.
DELETED_ENTITIES = (
    "TransactionLines",
    "Accounts",
    "Contacts",
    "Items",
    "SalesOrders",
    "SalesOrderLines",
    "SalesInvoices",
    "SalesInvoiceLines",
    "GLAccounts",
)
CREATED_ENTITIES = ("Items", "Accounts", "Contacts", "SalesInvoices", "TransactionLines")
TEXTS = (
    "  padded  ",
    "02 ",
    'a "quoted", comma-separated text',
    "two\nlines",
    "",
    "\\N",
    "Zoë Ærø Œuvre — 東京",
    "tab\tand;semicolon",
)
CALENDAR_DAYS = ("2025-03-30", "2025-10-26", "2024-12-31", "2025-01-01", "2024-02-29")
#: Amsterdam wall-clock moments: the repeated hour (October) and the skipped one (March).
MOMENTS = ("2025-10-26T02:30:00", "2025-03-30T02:30:00", "2024-07-01T00:00:00.125")
TEXT_FIELDS = ("Description", "Name", "FirstName", "Notes", "Remarks", "YourRef")
ROLE_STATUSES = ("C", "S", "P", "A")
KEY_LIKE = frozenset({"ID", "Division", "Timestamp", "Modified", "Code"})


@dataclass(frozen=True)
class MutationCounts:
    """Operations per division and round."""

    updates: int = 14
    creates: int = 3
    deletes: int = 4


def _fields(answer: dict[str, Any]) -> list[FieldSpec]:
    return [FieldSpec.from_answer(entry) for entry in answer["fields"]]


def changed_values(rng: random.Random, entity: str, specs: list[FieldSpec]) -> dict[str, Any]:
    """New values for a few fields of one record: a text, an amount, a date, a moment, a flag."""
    values: dict[str, Any] = {}
    names = {spec.name: spec for spec in specs}
    text = next((name for name in TEXT_FIELDS if name in names), None)
    if text is not None:
        values[text] = rng.choice(TEXTS)
    amounts = [s.name for s in specs if s.edm == "Edm.Double" and "Amount" in s.name]
    if amounts:
        values[rng.choice(amounts)] = f"{rng.randint(-2_000_000, 2_000_000) / 100:.2f}"
    days = [s.name for s in specs if s.edm == "Edm.DateTime" and s.calendar_date]
    if days:
        values[rng.choice(days)] = f"{rng.choice(CALENDAR_DAYS)}T00:00:00"
    moments = [
        s.name
        for s in specs
        if s.edm == "Edm.DateTime" and not s.calendar_date and s.name not in KEY_LIKE
    ]
    if moments and rng.random() < 0.5:
        values[rng.choice(moments)] = rng.choice(MOMENTS)
    flags = [s.name for s in specs if s.edm == "Edm.Boolean"]
    if flags and rng.random() < 0.5:
        values[rng.choice(flags)] = rng.random() < 0.5
    if entity == "Accounts":
        values["Status"] = rng.choice(ROLE_STATUSES)
        values["IsSupplier"] = rng.random() < 0.5
    return values


def plan_operations(
    rng: random.Random, sandbox: SandboxAdmin, division: int, counts: MutationCounts
) -> list[dict[str, Any]]:
    """The operations of one division for one round (existing keys read from `records`)."""
    operations: list[dict[str, Any]] = []
    answers: dict[str, dict[str, Any]] = {}

    def answer(entity: str) -> dict[str, Any]:
        if entity not in answers:
            answers[entity] = sandbox.records(division, entity)
        return answers[entity]

    def live_keys(entity: str) -> list[str]:
        found = answer(entity)
        return sorted(str(record[found["key"]]) for record in found["records"])

    touched: set[tuple[str, str]] = set()
    for entity in rng.sample(UPDATED_ENTITIES, min(counts.updates, len(UPDATED_ENTITIES))):
        found = answer(entity)
        keys = live_keys(entity)
        if keys:
            key = rng.choice(keys)
            touched.add((entity, key))
            fields = changed_values(rng, entity, _fields(found))
            operations.append(_operation("update", division, entity, key, fields))
    deleted: set[tuple[str, str]] = set()
    for entity in rng.sample(DELETED_ENTITIES, min(counts.deletes, len(DELETED_ENTITIES))):
        keys = [key for key in live_keys(entity) if (entity, key) not in touched | deleted]
        if not keys:
            continue
        key = rng.choice(keys)
        doomed = [(entity, key)]
        if entity == "SalesInvoices":
            # An invoice goes with its lines. The sandbox's delete removes the header only, and
            # its sync feed serves no line without a header, so the lines are deleted first.
            lines = answer("SalesInvoiceLines")["records"]
            doomed = [
                ("SalesInvoiceLines", str(line["ID"]))
                for line in lines
                if str(line["InvoiceID"]) == key
            ] + doomed
        for name, doomed_key in doomed:
            if (name, doomed_key) not in deleted:
                deleted.add((name, doomed_key))
                operations.append(_operation("delete", division, name, doomed_key))
    for entity in rng.sample(CREATED_ENTITIES, min(counts.creates, len(CREATED_ENTITIES))):
        fields = changed_values(rng, entity, _fields(answer(entity)))
        if entity == "Items":
            fields["Code"] = f"CH{rng.randrange(10**6):06d}"
        operations.append(_operation("create", division, entity, None, fields))
    return operations


def _operation(
    action: str, division: int, entity: str, key: str | None, fields: dict[str, Any] | None = None
) -> dict[str, Any]:
    operation: dict[str, Any] = {"action": action, "division": division, "entity": entity}
    if key is not None:
        operation["id"] = key
    if fields:
        operation["fields"] = fields
    return operation


def mutate(
    rng: random.Random, sandbox: SandboxAdmin, counts: MutationCounts
) -> list[dict[str, Any]]:
    """Apply one round of operations to every division of a sandbox; answer what was done."""
    done: list[dict[str, Any]] = []
    for division in sandbox.divisions:
        operations = plan_operations(rng, sandbox, division, counts)
        sandbox.mutate(*operations)
        done.extend(operations)
    return done
