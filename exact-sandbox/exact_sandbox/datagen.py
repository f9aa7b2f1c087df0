"""Deterministic data of a software company (licences, SaaS, consulting) written to SQLite.

Same seed, region and start day give the same data. Rows are generated chronologically and
flushed in chunks with `executemany`, so `--scale large` never holds its transaction lines in
Python memory. The books hold: every financial entry's transaction lines sum to zero in
AmountDC; document totals equal the sum of their lines (AmountDC = lines + VAT); receivables
point at real sales entries and payments at real purchase entries; draft invoices have no entry.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from exact_sandbox.catalog import (
    ACCOUNTS,
    CONTACTS,
    COSTCENTERS,
    COSTUNITS,
    DELETED,
    DIVISIONS,
    GENERAL_JOURNAL_ENTRIES,
    GENERAL_JOURNAL_ENTRY_LINES,
    GL_ACCOUNT_CLASSIFICATION_MAPPINGS,
    GL_ACCOUNTS,
    GL_CLASSIFICATIONS,
    GL_SCHEMES,
    ITEMS,
    PAYMENTS,
    PURCHASE_ENTRIES,
    PURCHASE_ENTRY_LINES,
    PURCHASE_INVOICE_LINES,
    PURCHASE_INVOICES,
    RECEIVABLES,
    SALES_INVOICE_LINES,
    SALES_INVOICES,
    SALES_ORDER_LINES,
    SALES_ORDERS,
    TRANSACTION_LINES,
    Entity,
)
from exact_sandbox.clock import MS_PER_DAY
from exact_sandbox.store import FIRST_TIMESTAMP, Store
from exact_sandbox.unset import unset_row

SCALES: dict[str, int] = {"small": 4_000, "medium": 50_000, "large": 400_000}
HISTORY_DAYS = 730
USER_FULL_NAME = "Sandbox User"
VAT_CODE_WIDTH = 3
COUNTRY_WIDTH = 3
UNIT_WIDTH = 8
FLUSH_ROWS = 5_000
MS_PER_HOUR = 3_600_000


@dataclass(frozen=True)
class Region:
    """One Exact instance: its division codes, currency, VAT and language."""

    code: str
    division_base: int
    country: str
    currency: str
    vat_percentage: int
    legal_form: str
    cities: tuple[str, ...]


REGIONS: dict[str, Region] = {
    "nl": Region("nl", 100100, "NL", "EUR", 21, "B.V.", ("Amsterdam", "Utrecht", "Delft")),
    "be": Region("be", 110100, "BE", "EUR", 21, "BV", ("Gent", "Antwerpen", "Leuven")),
    "uk": Region("uk", 300100, "GB", "GBP", 20, "Ltd", ("London", "Leeds", "Bristol")),
    "de": Region("de", 200100, "DE", "EUR", 19, "GmbH", ("Berlin", "Hamburg", "Köln")),
    "fr": Region("fr", 400100, "FR", "EUR", 20, "SAS", ("Paris", "Lyon", "Lille")),
    "es": Region("es", 500100, "ES", "EUR", 21, "S.L.", ("Madrid", "Valencia", "Sevilla")),
    "us": Region("us", 600100, "US", "USD", 0, "Inc.", ("Boston", "Austin", "Denver")),
}


def pad(code: str, width: int) -> str:
    """A code as Exact stores it: right-padded with spaces to its column's width."""
    return code.ljust(width)


def parse_scale(scale: str) -> int:
    """Transaction lines per division for `small|medium|large|N`."""
    if scale in SCALES:
        return SCALES[scale]
    try:
        lines = int(scale)
    except ValueError:
        raise ValueError(f"scale must be small, medium, large or a number, not {scale!r}") from None
    if lines < 1:
        raise ValueError("scale must be positive")
    return lines


def division_codes(region: str, count: int) -> tuple[list[int], int]:
    """The granted division codes of a region and the one extra, ungranted division."""
    base = REGIONS[region].division_base
    return [base + index for index in range(1, count + 1)], base + count + 1


# (code, description, Exact GLAccount Type, BalanceSide, BalanceType, classification code)
CHART: tuple[tuple[str, str, int, str, str, str], ...] = (
    ("0100", "Capitalised software development", 30, "D", "B", "BIva"),
    ("0110", "Computer equipment", 30, "D", "B", "BIva"),
    ("0120", "Office furniture", 30, "D", "B", "BIva"),
    ("0150", "Accumulated depreciation equipment", 35, "C", "B", "BIva"),
    ("0160", "Accumulated depreciation furniture", 35, "C", "B", "BIva"),
    ("0500", "Share capital", 50, "C", "B", "BEiv"),
    ("0510", "Retained earnings", 52, "C", "B", "BEiv"),
    ("0520", "Result current year", 52, "C", "B", "BEiv"),
    ("0700", "Long-term loan", 55, "C", "B", "BLas"),
    ("1000", "Cash", 10, "D", "B", "BLim"),
    ("1100", "Bank current account", 12, "D", "B", "BLim"),
    ("1110", "Bank savings account", 12, "D", "B", "BLim"),
    ("1120", "Payment provider", 16, "D", "B", "BLim"),
    ("1300", "Accounts receivable", 20, "D", "B", "BVor"),
    ("1400", "Prepaid expenses", 26, "D", "B", "BVor"),
    ("1500", "VAT payable", 24, "C", "B", "BSch"),
    ("1510", "VAT receivable", 24, "D", "B", "BSch"),
    ("1520", "VAT settlement", 24, "C", "B", "BSch"),
    ("1600", "Accounts payable", 22, "C", "B", "BSch"),
    ("1700", "Accrued expenses", 27, "C", "B", "BSch"),
    ("1710", "Deferred subscription revenue", 27, "C", "B", "BSch"),
    ("1720", "Salaries payable", 25, "C", "B", "BSch"),
    ("1730", "Payroll taxes payable", 100, "C", "B", "BSch"),
    ("1740", "Corporate income tax payable", 29, "C", "B", "BSch"),
    ("2000", "Hardware inventory", 40, "D", "B", "BVrd"),
    ("4000", "Salaries", 125, "D", "W", "WPer"),
    ("4010", "Social security charges", 125, "D", "W", "WPer"),
    ("4020", "Pension costs", 125, "D", "W", "WPer"),
    ("4030", "Recruitment", 126, "D", "W", "WPer"),
    ("4040", "Staff training", 126, "D", "W", "WPer"),
    ("4100", "Office rent", 121, "D", "W", "WBed"),
    ("4110", "Utilities", 121, "D", "W", "WBed"),
    ("4120", "Cleaning", 121, "D", "W", "WBed"),
    ("4130", "Office maintenance", 121, "D", "W", "WBed"),
    ("4200", "Cloud hosting", 111, "D", "W", "WKpr"),
    ("4210", "Third-party licences", 111, "D", "W", "WKpr"),
    ("4220", "Subcontractors", 111, "D", "W", "WKpr"),
    ("4230", "Hardware purchases", 111, "D", "W", "WKpr"),
    ("4300", "Marketing campaigns", 121, "D", "W", "WBed"),
    ("4310", "Events and trade fairs", 121, "D", "W", "WBed"),
    ("4320", "Online advertising", 121, "D", "W", "WBed"),
    ("4330", "Sponsoring", 121, "D", "W", "WBed"),
    ("4400", "Travel", 121, "D", "W", "WBed"),
    ("4410", "Car expenses", 121, "D", "W", "WBed"),
    ("4500", "Software subscriptions", 121, "D", "W", "WBed"),
    ("4510", "Telephone and internet", 121, "D", "W", "WBed"),
    ("4600", "Accountancy and legal", 121, "D", "W", "WBed"),
    ("4610", "Insurance", 121, "D", "W", "WBed"),
    ("4620", "Consultancy fees", 121, "D", "W", "WBed"),
    ("4700", "Depreciation equipment", 122, "D", "W", "WAfs"),
    ("4710", "Depreciation software", 122, "D", "W", "WAfs"),
    ("4800", "Bank charges", 121, "D", "W", "WBed"),
    ("4900", "Other general expenses", 120, "D", "W", "WBed"),
    ("5000", "Research and development", 123, "D", "W", "WBed"),
    ("8000", "Revenue software licences", 110, "C", "W", "WOmzLic"),
    ("8010", "Revenue SaaS subscriptions", 110, "C", "W", "WOmzSub"),
    ("8020", "Revenue maintenance and support", 110, "C", "W", "WOmzSub"),
    ("8030", "Revenue consulting", 110, "C", "W", "WOmzDie"),
    ("8040", "Revenue training", 110, "C", "W", "WOmzDie"),
    ("8050", "Revenue implementation projects", 110, "C", "W", "WOmzDie"),
    ("8060", "Revenue hardware resale", 110, "C", "W", "WOmzLic"),
    ("8070", "Revenue partner commissions", 110, "C", "W", "WOmzDie"),
    ("8090", "Discounts granted", 110, "D", "W", "WOmzLic"),
    ("9000", "Interest income", 140, "C", "W", "WFbe"),
    ("9010", "Interest expense", 130, "D", "W", "WFbe"),
    ("9100", "Exchange rate differences", 130, "D", "W", "WFbe"),
    ("9500", "Corporate income tax", 150, "D", "W", "WBel"),
)

# Exact's GLAccount Type codes and their descriptions (reference: picqer GLAccount.php).
GL_TYPE_DESCRIPTIONS: dict[int, str] = {
    10: "Cash",
    12: "Bank",
    16: "Payment service",
    20: "Accounts receivable",
    22: "Accounts payable",
    24: "VAT",
    25: "Employees payables",
    26: "Prepaid expenses",
    27: "Accrued expenses",
    29: "Income taxes payable",
    30: "Fixed assets",
    35: "Accumulated depreciations",
    40: "Inventory",
    50: "Capital stock",
    52: "Retained earnings",
    55: "Long term debt",
    100: "Tax payables",
    110: "Revenue",
    111: "Cost of goods",
    120: "Other costs",
    121: "Sales, general administrative expenses",
    122: "Depreciation costs",
    123: "Research and development",
    125: "Employee costs",
    126: "Employment costs",
    130: "Exceptional costs",
    140: "Exceptional income",
    150: "Income taxes",
}

# (code, name, parent code, balance)
CLASSIFICATIONS: tuple[tuple[str, str, str | None, str], ...] = (
    ("B", "Balance sheet", None, "debit"),
    ("BIva", "Fixed assets", "B", "debit"),
    ("BVrd", "Inventory", "B", "debit"),
    ("BVor", "Receivables", "B", "debit"),
    ("BLim", "Cash and bank", "B", "debit"),
    ("BEiv", "Equity", "B", "credit"),
    ("BLas", "Long-term liabilities", "B", "credit"),
    ("BSch", "Current liabilities", "B", "credit"),
    ("W", "Profit and loss", None, "credit"),
    ("WOmz", "Revenue", "W", "credit"),
    ("WOmzLic", "Licence revenue", "WOmz", "credit"),
    ("WOmzSub", "Subscription revenue", "WOmz", "credit"),
    ("WOmzDie", "Services revenue", "WOmz", "credit"),
    ("WKpr", "Cost of sales", "W", "debit"),
    ("WPer", "Personnel expenses", "W", "debit"),
    ("WAfs", "Depreciation", "W", "debit"),
    ("WBed", "Operating expenses", "W", "debit"),
    ("WFbe", "Financial result", "W", "credit"),
    ("WBel", "Income taxes", "W", "debit"),
)

COST_CENTERS = (
    ("100", "Management"),
    ("200", "Sales"),
    ("300", "Consulting"),
    ("400", "Development"),
    ("500", "Support"),
    ("600", "Marketing"),
    ("700", "Finance and HR"),
    ("800", "Hosting operations"),
)
COST_UNITS = (
    ("LIC", "Licences"),
    ("SAAS", "SaaS platform"),
    ("CONS", "Consulting"),
    ("TRN", "Training"),
    ("SUP", "Support"),
    ("HW", "Hardware"),
)
PRODUCTS = ("Ledger", "Payroll", "CRM", "Insights", "Connect", "Vault", "Planner")
# (code suffix, description, unit price cents, revenue GL code, cost unit, item group)
PRODUCT_VARIANTS = (
    ("LIC", "perpetual licence", 249_000, "8000", "LIC", "Licences"),
    ("SM", "SaaS monthly subscription", 4_900, "8010", "SAAS", "Subscriptions"),
    ("SY", "SaaS annual subscription", 52_900, "8010", "SAAS", "Subscriptions"),
    ("SUP", "annual support", 45_000, "8020", "SUP", "Support"),
    ("PSUP", "premium support", 89_000, "8020", "SUP", "Support"),
    ("USR", "additional user", 1_500, "8010", "SAAS", "Subscriptions"),
)
SERVICES = (
    ("CONS-SR", "Consulting hour senior", 14_500, "8030", "CONS", "Services", "hour"),
    ("CONS-JR", "Consulting hour junior", 9_500, "8030", "CONS", "Services", "hour"),
    ("CONS-ARCH", "Solution architect hour", 17_500, "8030", "CONS", "Services", "hour"),
    ("IMPL-DAY", "Implementation day", 110_000, "8050", "CONS", "Services", "day"),
    ("MIGR", "Data migration package", 350_000, "8050", "CONS", "Services", "pc"),
    ("TRN-ON", "Training day on site", 125_000, "8040", "TRN", "Training", "day"),
    ("TRN-WEB", "Online training session", 29_500, "8040", "TRN", "Training", "pc"),
    ("HW-SRV", "Server appliance", 480_000, "8060", "HW", "Hardware", "pc"),
    ("HW-SCAN", "Document scanner", 65_000, "8060", "HW", "Hardware", "pc"),
    ("PARTNER", "Partner commission", 100_000, "8070", "LIC", "Services", "pc"),
)
NAME_PARTS = (
    ("Blue", "North", "Delta", "Alpha", "Prime", "Nova", "Green", "Smart", "Urban", "Royal"),
    ("Logistics", "Retail", "Foods", "Consult", "Build", "Tech", "Media", "Care", "Energy", "Labs"),
)
SUPPLIER_NAMES = (
    ("Cloud Hosting Services", "4200", "800"),
    ("Office Real Estate", "4100", "700"),
    ("Energy Supplier", "4110", "700"),
    ("Freelance Developers", "4220", "400"),
    ("Ad Network", "4320", "600"),
    ("Events Agency", "4310", "600"),
    ("Travel Agency", "4400", "200"),
    ("Lease Cars", "4410", "200"),
    ("SaaS Tooling", "4500", "400"),
    ("Telecom Provider", "4510", "700"),
    ("Audit Partners", "4600", "700"),
    ("Insurance Company", "4610", "100"),
    ("Hardware Distributor", "4230", "300"),
    ("Licence Reseller", "4210", "400"),
    ("Cleaning Services", "4120", "700"),
    ("Training Institute", "4040", "700"),
    ("Recruitment Bureau", "4030", "700"),
    ("Management Consultants", "4620", "100"),
)
FIRST_NAMES = ("Anna", "Bram", "Clara", "Daan", "Eva", "Finn", "Greta", "Hugo", "Iris", "Jan")
LAST_NAMES = ("Jansen", "Müller", "Smith", "de Vries", "Schmidt", "Brown", "Bakker", "Visser")
JOB_TITLES = ("CFO", "Controller", "IT Manager", "CEO", "Purchaser", "Office Manager")


def generate(
    store: Store,
    *,
    region: str,
    seed: int,
    divisions: int,
    lines_per_division: int,
    now_ms: int,
) -> list[int]:
    """Create the schema and fill every granted division; answer the granted codes.

    Args:
        store: the database to fill.
        region: one of `REGIONS`.
        seed: makes the data reproducible.
        divisions: how many granted divisions.
        lines_per_division: target transaction lines per division.
        now_ms: the sandbox's "now" in Exact ms; history spans two years before its day.
    """
    profile = REGIONS[region]
    granted, ungranted = division_codes(region, divisions)
    store.create_schema()
    # No rollback journal while loading: a journal of a million-row load would sit in memory.
    store.connection.execute("PRAGMA journal_mode=OFF")
    anchor_day_ms = (now_ms // MS_PER_DAY) * MS_PER_DAY
    for index, code in enumerate(granted):
        generator = DivisionGenerator(
            store,
            profile,
            code,
            index=index,
            seed=seed,
            target_lines=lines_per_division,
            anchor_day_ms=anchor_day_ms,
            now_ms=now_ms,
        )
        last_timestamp = generator.run(granted)
        store.set_division_state(code, last_timestamp, granted=True)
    store.set_division_state(ungranted, FIRST_TIMESTAMP, granted=False)
    store.create_indexes()
    store.refresh_all_json()
    store.connection.execute("PRAGMA journal_mode=MEMORY")
    store.connection.commit()
    return granted


@dataclass
class Document:
    """A posted document's essentials, kept only while its settlement is generated."""

    entry_id: str
    number: int
    account: str
    account_code: str
    account_name: str
    day_ms: int
    due_ms: int
    total_cents: int
    open_line_id: str


class DivisionGenerator:
    """Generates one division's books chronologically, flushing rows in chunks."""

    def __init__(
        self,
        store: Store,
        region: Region,
        division: int,
        *,
        index: int,
        seed: int,
        target_lines: int,
        anchor_day_ms: int,
        now_ms: int,
    ) -> None:
        """Prepare a generator whose randomness depends only on seed, region and division."""
        self.store = store
        self.region = region
        self.division = division
        self.index = index
        # Not for security: a seeded RNG is what makes the data reproducible.
        self.rng = random.Random(f"{seed}:{region.code}:{division}")  # noqa: S311
        self.target_lines = target_lines
        self.anchor_day_ms = anchor_day_ms
        self.now_ms = now_ms
        self.timestamp = FIRST_TIMESTAMP
        self.transaction_lines = 0
        self.buffers: dict[str, list[tuple[Any, ...]]] = {}
        self.columns: dict[str, tuple[str, ...]] = {}
        self.entities: dict[str, Entity] = {}
        self.unset: dict[str, dict[str, Any]] = {}
        self.user_id = self.guid()
        self.sequences: dict[str, int] = {}
        # Exact pads codes with spaces to their column width: VATCode "02 " (3), Country
        # "NL " (3), Unit "stuk    " (8), as recorded in Exact's own SDK test data and picqer's.
        self.vat_code = pad(f"{region.vat_percentage // 10:02d}", VAT_CODE_WIDTH)
        self.country = pad(region.country, COUNTRY_WIDTH)

    # -- plumbing ---------------------------------------------------------------------------

    def guid(self) -> str:
        """A reproducible random GUID."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def emit(self, entity: Entity, values: dict[str, Any]) -> None:
        """Queue one row; it gets the next rowversion of the division.

        Fields `values` leaves out get what Exact shows for an unset field (see unset.py);
        values of fields the entity does not document are ignored (one rule feeds receivables
        and payments, whose documented fields differ).
        """
        name = entity.name
        if name not in self.columns:
            self.columns[name] = self.store.column_names(entity)
            self.buffers[name] = []
            self.entities[name] = entity
            self.unset[name] = unset_row(
                self.store.columns(entity), user_id=self.user_id, user_name=USER_FULL_NAME
            )
        self.timestamp += 1
        row = self.unset[name].copy()
        row.update(values)
        row["Division"] = self.division
        row["Timestamp"] = self.timestamp
        buffer = self.buffers[name]
        buffer.append(tuple(map(row.get, self.columns[name])))
        if len(buffer) >= FLUSH_ROWS:
            self.flush(name)

    def flush(self, name: str) -> None:
        """Write one entity's queued rows."""
        self.store.insert_rows(self.entities[name], self.buffers[name])
        self.buffers[name].clear()

    def next_number(self, journal: str, start: int) -> int:
        """Sequential document numbers per journal."""
        value = self.sequences.get(journal, start) + 1
        self.sequences[journal] = value
        return value

    def stamp(self, day_ms: int) -> int:
        """A working-hours moment on `day_ms`, never after now (Created/Modified)."""
        moment = day_ms + self.rng.randrange(8 * MS_PER_HOUR, 18 * MS_PER_HOUR)
        return min(moment, self.now_ms)

    @staticmethod
    def period(day_ms: int) -> tuple[int, int]:
        """Financial year and period (calendar months) of a date."""
        moment = datetime.fromtimestamp(day_ms / 1000, tz=UTC)
        return moment.year, moment.month

    # -- the run ----------------------------------------------------------------------------

    def run(self, granted: list[int]) -> int:
        """Generate everything; answer the last rowversion used."""
        self.master_data(granted)
        self.opening_balance()
        self.history()
        self.historic_deletions()
        for name in list(self.buffers):
            self.flush(name)
        self.store.connection.commit()
        return self.timestamp

    def master_data(self, granted: list[int]) -> None:
        """Divisions, chart of accounts, classifications, cost centers, accounts, items."""
        region = self.region
        created = self.anchor_day_ms - (HISTORY_DAYS + 30) * MS_PER_DAY + 9 * MS_PER_HOUR
        self.emit(
            DIVISIONS,
            {
                "Code": self.division,
                "BlockingStatus": 0,
                "City": region.cities[0],
                "Country": self.country,
                "Created": created,
                "Currency": region.currency,
                "Current": self.index == 0,
                "Description": f"Sandbox Software {region.country} {self.index + 1}",
                "DivisionMoveDate": None,
                # Edm.Int64: the division's number as the user sees it.
                "Hid": self.division % 100_000,
                "StartDate": created - created % MS_PER_DAY,
                "IsDossierDivision": False,
                "IsHRDivision": False,
                "IsMainDivision": self.index == 0,
                "Legislation": region.country,
                "Modified": created,
                "Status": 1,
            },
        )
        del granted
        self.gl_schemes(created)
        self.gl_accounts(created)
        self.cost_centers(created)
        self.crm(created)
        self.items(created)

    def gl_schemes(self, created: int) -> None:
        """Two reporting schemes and the classification tree with its mappings."""
        self.schemes = [
            (self.guid(), "RGS", "Reference chart of accounts 3.5", 1),
            (self.guid(), "MGT", "Management reporting", 0),
        ]
        for scheme_id, code, description, main in self.schemes:
            self.emit(
                GL_SCHEMES,
                {
                    "ID": scheme_id,
                    "Code": code,
                    "Created": created,
                    "Description": description,
                    "Main": main,
                    "Modified": created,
                    "TargetNamespace": f"http://www.example.com/taxonomy/{code.lower()}",
                },
            )
        self.classification_ids: dict[str, str] = {}
        self.classification_names: dict[str, str] = {}
        namespace = self.guid()
        type_id = self.guid()
        for code, name, parent, balance in CLASSIFICATIONS:
            classification_id = self.guid()
            self.classification_ids[code] = classification_id
            self.classification_names[code] = name
            self.emit(
                GL_CLASSIFICATIONS,
                {
                    "ID": classification_id,
                    "Abstract": parent is None or code in {"WOmz"},
                    "Balance": balance,
                    "Code": code,
                    "Created": created,
                    "Description": name,
                    "Modified": created,
                    "Name": name,
                    "Parent": self.classification_ids[parent] if parent else None,
                    "PeriodType": "duration" if code.startswith("W") else "instant",
                    "TaxonomyNamespace": namespace,
                    "Type": type_id,
                },
            )

    def gl_accounts(self, created: int) -> None:
        """The chart of accounts and its mapping onto both schemes."""
        self.gl: dict[str, tuple[str, str]] = {}
        for code, description, account_type, side, balance_type, classification in CHART:
            account_id = self.guid()
            self.gl[code] = (account_id, description)
            self.emit(
                GL_ACCOUNTS,
                {
                    "ID": account_id,
                    "BalanceSide": side,
                    "BalanceType": balance_type,
                    "Code": code,
                    "Costcenter": None,
                    "Costunit": None,
                    "Created": created,
                    "Description": description,
                    "IsBlocked": code == "1110",
                    "Modified": created,
                    "Type": account_type,
                    "TypeDescription": GL_TYPE_DESCRIPTIONS[account_type],
                    "VATCode": self.vat_code if code.startswith("8") else None,
                },
            )
            for scheme_id, scheme_code, scheme_description, main in self.schemes:
                if not main and balance_type == "B":
                    continue  # the management scheme only maps the P&L
                self.emit(
                    GL_ACCOUNT_CLASSIFICATION_MAPPINGS,
                    {
                        "ID": self.guid(),
                        "Classification": self.classification_ids[classification],
                        "ClassificationCode": classification,
                        "ClassificationDescription": self.classification_names[classification],
                        "GLAccount": account_id,
                        "GLAccountCode": code,
                        "GLAccountDescription": description,
                        "GLSchemeCode": scheme_code,
                        "GLSchemeDescription": scheme_description,
                        "GLSchemeID": scheme_id,
                    },
                )

    def cost_centers(self, created: int) -> None:
        """Cost centers and cost units (codes are what transaction lines carry)."""
        self.cost_center_names = dict(COST_CENTERS)
        self.cost_unit_names = dict(COST_UNITS)
        for code, description in COST_CENTERS:
            self.emit(
                COSTCENTERS,
                {
                    "ID": self.guid(),
                    "Active": code != "800" or self.index == 0,
                    "Code": code,
                    "Created": created,
                    "Description": description,
                    "Modified": created,
                },
            )
        for code, description in COST_UNITS:
            self.emit(
                COSTUNITS,
                {
                    "ID": self.guid(),
                    "Code": code,
                    "Created": created,
                    "Description": description,
                    "Modified": created,
                },
            )

    def crm(self, created: int) -> None:
        """Customers, prospects, suspects, suppliers (some both), and their contacts."""
        count = max(150, self.target_lines // 30)
        self.customers: list[tuple[str, str, str]] = []
        self.suppliers: list[tuple[str, str, str, str, str]] = []
        supplier_slots = list(SUPPLIER_NAMES)
        for number in range(1, count + 1):
            roll = self.rng.random()
            is_supplier = roll < 0.14 or roll > 0.97
            status: str | None = "C"
            if 0.14 <= roll < 0.26:
                status = "P"
            elif 0.26 <= roll < 0.30:
                status = "S"
            elif roll < 0.14:
                status = None
            if is_supplier and supplier_slots and number % 2 == 0:
                name, expense, cost_center = supplier_slots.pop(0)
                name = f"{name} {self.region.legal_form}"
            else:
                first = NAME_PARTS[0][self.rng.randrange(10)]
                second = NAME_PARTS[1][self.rng.randrange(10)]
                name = f"{first} {second} {number} {self.region.legal_form}"
                expense, cost_center = (
                    SUPPLIER_NAMES[number % len(SUPPLIER_NAMES)][1:] if is_supplier else ("", "")
                )
            account_id = self.guid()
            code = str(number * 10).rjust(18)  # Exact: Code is left-padded to 18 characters
            modified = self.stamp(
                self.anchor_day_ms - self.rng.randrange(1, HISTORY_DAYS) * MS_PER_DAY
            )
            self.emit(
                ACCOUNTS,
                {
                    "ID": account_id,
                    "Accountant": None,
                    "AccountManager": self.user_id,
                    "Blocked": self.rng.random() < 0.04,
                    "ChamberOfCommerce": f"{self.rng.randrange(10**7, 10**8)}",
                    "City": self.rng.choice(self.region.cities),
                    "Classification1": None,
                    "Code": code,
                    "Country": self.country,
                    "Created": created,
                    "Email": f"info@account{number}.example.com",
                    "GLAP": self.gl["1600"][0] if is_supplier else None,
                    "GLAR": self.gl["1300"][0] if status == "C" else None,
                    "IsAccountant": 0,
                    "IsReseller": self.rng.random() < 0.05,
                    "IsSales": status == "C",
                    "IsSupplier": is_supplier,
                    "Modified": max(created, modified),
                    "Name": name,
                    "Phone": f"+{self.rng.randrange(10**9, 10**10)}",
                    "Status": status,
                    "VATNumber": f"{self.region.country}{self.rng.randrange(10**8, 10**9)}B01",
                },
            )
            if status == "C":
                self.customers.append((account_id, code, name))
            if is_supplier:
                self.suppliers.append((account_id, code, name, expense, cost_center))
            for contact in range(1 + (self.rng.random() < 0.5)):
                first_name = self.rng.choice(FIRST_NAMES)
                last_name = self.rng.choice(LAST_NAMES)
                self.emit(
                    CONTACTS,
                    {
                        "ID": self.guid(),
                        "Account": account_id,
                        "AccountIsCustomer": status == "C",
                        "AccountIsSupplier": is_supplier,
                        "AccountName": name,
                        "Created": created,
                        "Email": f"{first_name.lower()}@account{number}.example.com",
                        "FirstName": first_name,
                        "FullName": f"{first_name} {last_name}",
                        "IsMainContact": contact == 0,
                        "JobTitleDescription": self.rng.choice(JOB_TITLES),
                        "LastName": last_name,
                        "Mobile": None,
                        "Modified": created,
                        "Phone": f"+{self.rng.randrange(10**9, 10**10)}",
                    },
                )

    def items(self, created: int) -> None:
        """Licences, subscriptions, support, services and hardware."""
        self.catalogue: list[tuple[str, str, str, int, str, str]] = []
        group_ids: dict[str, str] = {}
        rows = [
            (
                f"{product.upper()}-{suffix}",
                f"{product} {description}",
                price,
                gl,
                unit,
                group,
                "pc",
            )
            for product in PRODUCTS
            for suffix, description, price, gl, unit, group in PRODUCT_VARIANTS
        ]
        rows.extend(SERVICES)
        for code, description, price, gl, cost_unit, group, unit in rows:
            item_id = self.guid()
            group_id = group_ids.setdefault(group, self.guid())
            self.emit(
                ITEMS,
                {
                    "ID": item_id,
                    "Code": code,
                    "CostPriceStandard": round(price * 0.3) / 100,
                    "Created": created,
                    "Description": description,
                    "EndDate": None,
                    "IsPurchaseItem": group == "Hardware",
                    "IsSalesItem": True,
                    "IsStockItem": group == "Hardware",
                    "ItemGroup": group_id,
                    "ItemGroupCode": group.upper()[:8],
                    "Modified": created,
                    "SalesVatCode": self.vat_code,
                    "StandardSalesPrice": price / 100,
                    "StartDate": created - created % MS_PER_DAY,
                    "Unit": pad(unit, UNIT_WIDTH),
                },
            )
            self.catalogue.append((item_id, code, description, price, gl, cost_unit))

    # -- financial history ------------------------------------------------------------------

    def history(self) -> None:
        """Day by day over two years: invoices, purchases, journals; then top up to target."""
        per_day = self.target_lines / HISTORY_DAYS * 0.97
        rates = {"sales": per_day * 0.55 / 6.6, "purchase": per_day * 0.30 / 6.4}
        journals = per_day * 0.15 / 4.0
        for days_ago in range(HISTORY_DAYS, 0, -1):
            day_ms = self.anchor_day_ms - days_ago * MS_PER_DAY
            moment = datetime.fromtimestamp(day_ms / 1000, tz=UTC)
            if moment.day == 25:
                self.payroll(day_ms)
            if moment.day == 28:
                self.depreciation(day_ms)
            for _ in range(self.draw(rates["sales"])):
                self.sales_invoice(day_ms, days_ago)
            for _ in range(self.draw(rates["purchase"])):
                self.purchase_entry(day_ms, days_ago)
            for _ in range(self.draw(journals)):
                self.reclassification(day_ms)
        while self.transaction_lines < self.target_lines:
            self.reclassification(self.anchor_day_ms - self.rng.randrange(1, 60) * MS_PER_DAY)

    def draw(self, rate: float) -> int:
        """A whole number of events with mean `rate`, reproducibly."""
        whole = int(rate)
        return whole + (self.rng.random() < rate - whole)

    def transaction_line(
        self,
        *,
        entry_id: str,
        line_id: str | None = None,
        line_number: int,
        entry_number: int,
        journal: tuple[str, str],
        entry_type: int,
        day_ms: int,
        gl_code: str,
        amount_cents: int,
        description: str,
        account: tuple[str, str, str] | None = None,
        invoice_number: int | None = None,
        due_ms: int | None = None,
        vat: tuple[str, float, int, int] | None = None,
        cost: tuple[str | None, str | None] = (None, None),
        quantity: float | None = None,
        your_ref: str | None = None,
        created: int,
    ) -> str:
        """Emit one transaction line (debit positive, credit negative); answer its ID."""
        line_id = line_id or self.guid()
        year, period = self.period(day_ms)
        gl_id, gl_description = self.gl[gl_code]
        amount = amount_cents / 100
        cost_center, cost_unit = cost
        self.emit(
            TRANSACTION_LINES,
            {
                "ID": line_id,
                "Account": account[0] if account else None,
                "AccountCode": account[1] if account else None,
                "AccountName": account[2] if account else None,
                "AmountDC": amount,
                "AmountFC": amount,
                "AmountVATBaseFC": vat[3] / 100 if vat else None,
                "AmountVATFC": vat[2] / 100 if vat else None,
                "CostCenter": cost_center,
                "CostCenterDescription": self.cost_center_names.get(cost_center or ""),
                "CostUnit": cost_unit,
                "CostUnitDescription": self.cost_unit_names.get(cost_unit or ""),
                "Created": created,
                "Currency": self.region.currency,
                "Date": day_ms,
                "Description": description,
                "DueDate": due_ms,
                "EntryID": entry_id,
                "EntryNumber": entry_number,
                "ExchangeRate": 1.0,
                "FinancialPeriod": period,
                "FinancialYear": year,
                "GLAccount": gl_id,
                "GLAccountCode": gl_code,
                "GLAccountDescription": gl_description,
                "InvoiceNumber": invoice_number,
                "JournalCode": journal[0],
                "JournalDescription": journal[1],
                "LineNumber": line_number,
                "LineType": 0,
                "Modified": created,
                "PaymentReference": None,
                "Quantity": quantity,
                "Status": 50,
                "Type": entry_type,
                "VATCode": vat[0] if vat else None,
                "VATPercentage": vat[1] if vat else None,
                "YourRef": your_ref,
            },
        )
        self.transaction_lines += 1
        return line_id

    def vat_cents(self, amount_cents: int, percentage: int) -> int:
        """VAT rounded half up to the cent."""
        return (amount_cents * percentage + (50 if amount_cents >= 0 else -50)) // 100

    def sales_invoice(self, day_ms: int, days_ago: int) -> None:
        """An invoice (or credit note), its order, sales entry, receivable and receipt."""
        customer = self.rng.choice(self.customers)
        credit = self.rng.random() < 0.03
        draft = days_ago < 5 and self.rng.random() < 0.3
        sign = -1 if credit else 1
        invoice_id = self.guid()
        number = self.next_number("sales", 24_000_000 + self.index * 1_000_000)
        created = self.stamp(day_ms)
        due_ms = day_ms + 30 * MS_PER_DAY
        lines = []
        for line_number in range(1, self.rng.choice((1, 1, 2, 2, 3, 4)) + 1):
            item_id, item_code, item_description, price, gl, cost_unit = self.rng.choice(
                self.catalogue
            )
            quantity = self.rng.choice((1, 1, 1, 2, 3, 5, 8, 10, 12))
            amount = sign * quantity * price
            vat = self.vat_cents(amount, self.region.vat_percentage)
            cost_center = "300" if cost_unit in ("CONS", "TRN") else "200"
            lines.append(
                (
                    line_number,
                    self.guid(),
                    item_id,
                    item_code,
                    item_description,
                    sign * quantity,
                    price,
                    amount,
                    vat,
                    gl,
                    cost_unit,
                    cost_center,
                )
            )
        excl = sum(line[7] for line in lines)
        vat_total = sum(line[8] for line in lines)
        total = excl + vat_total
        order_id = self.sales_order(day_ms, customer, lines) if not credit else None
        self.emit(
            SALES_INVOICES,
            {
                "InvoiceID": invoice_id,
                "AmountDC": total / 100,
                "AmountFC": total / 100,
                "AmountFCExclVat": excl / 100,
                "Created": created,
                "Currency": self.region.currency,
                "Description": "Credit note" if credit else f"Invoice {number}",
                "DueDate": due_ms,
                "InvoiceDate": day_ms,
                "InvoiceNumber": number,
                "InvoiceTo": customer[0],
                "InvoiceToName": customer[2],
                "Journal": "70",
                "Modified": created,
                "OrderedBy": customer[0],
                "OrderedByName": customer[2],
                "PaymentCondition": "30",
                "Status": 10 if draft else 50,
                "Type": 8021 if credit else 8020,
                "VATAmountDC": vat_total / 100,
                "VATAmountFC": vat_total / 100,
                "YourRef": f"PO-{order_id[:8]}" if order_id else None,
            },
        )
        for line in lines:
            line_number, line_id, item_id, item_code, item_description = line[:5]
            quantity, price, amount, vat, gl, cost_unit, cost_center = line[5:]
            self.emit(
                SALES_INVOICE_LINES,
                {
                    "ID": line_id,
                    "AmountDC": amount / 100,
                    "AmountFC": amount / 100,
                    "CostCenter": cost_center,
                    "CostUnit": cost_unit,
                    "Created": created,
                    "Description": item_description,
                    "GLAccount": self.gl[gl][0],
                    "InvoiceID": invoice_id,
                    "Item": item_id,
                    "ItemCode": item_code,
                    "LineNumber": line_number,
                    "Modified": created,
                    "Quantity": quantity,
                    "UnitPrice": price / 100,
                    "VATAmountDC": vat / 100,
                    "VATAmountFC": vat / 100,
                    "VATCode": self.vat_code,
                    "VATPercentage": self.region.vat_percentage / 100,
                },
            )
        if draft:
            return  # drafts are not booked: no entry, no receivable
        entry_id = self.guid()
        journal = ("70", "Sales journal")
        entry_type = 21 if credit else 20
        common: dict[str, Any] = {
            "entry_id": entry_id,
            "entry_number": number,
            "journal": journal,
            "entry_type": entry_type,
            "day_ms": day_ms,
            "created": created,
            "invoice_number": number,
        }
        receivable_line = self.transaction_line(
            **common,
            line_number=0,
            gl_code="1300",
            amount_cents=total,
            description=f"Invoice {number}",
            account=customer,
            due_ms=due_ms,
        )
        for line in lines:
            quantity, amount, vat, gl, cost_unit, cost_center = (
                line[5],
                line[7],
                line[8],
                line[9],
                line[10],
                line[11],
            )
            self.transaction_line(
                **common,
                line_number=line[0],
                gl_code=gl,
                amount_cents=-amount,
                description=line[4],
                account=customer,
                vat=(self.vat_code, self.region.vat_percentage / 100, -vat, -amount),
                cost=(cost_center, cost_unit),
                quantity=quantity,
            )
        if vat_total:
            self.transaction_line(
                **common,
                line_number=len(lines) + 1,
                gl_code="1500",
                amount_cents=-vat_total,
                description=f"VAT invoice {number}",
            )
        document = Document(entry_id, number, *customer, day_ms, due_ms, total, receivable_line)
        self.settle(document, receivable=True)

    def sales_order(
        self, day_ms: int, customer: tuple[str, str, str], lines: list[tuple[Any, ...]]
    ) -> str | None:
        """About half of the invoices come from a sales order with the same lines."""
        if self.rng.random() < 0.5:
            return None
        order_id = self.guid()
        order_day = day_ms - self.rng.randrange(1, 20) * MS_PER_DAY
        created = self.stamp(order_day)
        excl = sum(line[7] for line in lines)
        vat_total = sum(line[8] for line in lines)
        self.emit(
            SALES_ORDERS,
            {
                "OrderID": order_id,
                "AmountDC": (excl + vat_total) / 100,
                "AmountFC": (excl + vat_total) / 100,
                "AmountFCExclVat": excl / 100,
                "Created": created,
                "Currency": self.region.currency,
                "DeliveryDate": day_ms,
                "DeliveryStatus": 21,
                "Description": "Software order",
                "InvoiceStatus": 21,
                "InvoiceTo": customer[0],
                "Modified": created,
                "OrderDate": order_day,
                "OrderedBy": customer[0],
                "OrderedByName": customer[2],
                "OrderNumber": self.next_number("orders", 10_000),
                "Status": 21,
                "VATAmount": vat_total / 100,
                "YourRef": None,
            },
        )
        for line in lines:
            self.emit(
                SALES_ORDER_LINES,
                {
                    "ID": self.guid(),
                    "AmountDC": line[7] / 100,
                    "AmountFC": line[7] / 100,
                    "CostCenter": line[11],
                    "CostUnit": line[10],
                    "Created": created,
                    "DeliveryDate": day_ms,
                    "Description": line[4],
                    "Item": line[2],
                    "ItemCode": line[3],
                    "LineNumber": line[0],
                    "Modified": created,
                    "OrderID": order_id,
                    "Quantity": line[5],
                    "UnitPrice": line[6] / 100,
                    "VATAmount": line[8] / 100,
                    "VATCode": self.vat_code,
                    "VATPercentage": self.region.vat_percentage / 100,
                },
            )
        return order_id

    def purchase_entry(self, day_ms: int, days_ago: int) -> None:
        """A supplier invoice booked as purchase entry (half also as purchase invoice)."""
        supplier = self.rng.choice(self.suppliers)
        account = supplier[:3]
        entry_id = self.guid()
        number = self.next_number("purchase", 26_000_000 + self.index * 1_000_000)
        created = self.stamp(day_ms)
        due_ms = day_ms + 14 * MS_PER_DAY
        credit = self.rng.random() < 0.02
        sign = -1 if credit else 1
        your_ref = f"INV-{self.rng.randrange(10**5, 10**6)}"
        lines = []
        for line_number in range(1, self.rng.choice((1, 1, 2, 3)) + 1):
            gl = supplier[3] if line_number == 1 else self.rng.choice(("4500", "4900", "4400"))
            amount = sign * self.rng.randrange(2_500, 400_000)
            vat = self.vat_cents(amount, self.region.vat_percentage)
            lines.append((line_number, self.guid(), gl, amount, vat, supplier[4]))
        excl = sum(line[3] for line in lines)
        vat_total = sum(line[4] for line in lines)
        total = excl + vat_total
        year, period = self.period(day_ms)
        self.emit(
            PURCHASE_ENTRIES,
            {
                "EntryID": entry_id,
                "AmountDC": total / 100,
                "AmountFC": total / 100,
                "Created": created,
                "Currency": self.region.currency,
                "Description": f"{supplier[2]} {your_ref}",
                "DueDate": due_ms,
                "EntryDate": day_ms,
                "EntryNumber": number,
                "InvoiceNumber": number,
                "Journal": "60",
                "Modified": created,
                "ReportingPeriod": period,
                "ReportingYear": year,
                "Status": 50,
                "Supplier": supplier[0],
                "SupplierName": supplier[2],
                "Type": 31 if credit else 30,
                "VATAmountDC": vat_total / 100,
                "VATAmountFC": vat_total / 100,
                "YourRef": your_ref,
            },
        )
        common: dict[str, Any] = {
            "entry_id": entry_id,
            "entry_number": number,
            "journal": ("60", "Purchase journal"),
            "entry_type": 31 if credit else 30,
            "day_ms": day_ms,
            "created": created,
            "invoice_number": number,
            "your_ref": your_ref,
        }
        payable_line = self.transaction_line(
            **common,
            line_number=0,
            gl_code="1600",
            amount_cents=-total,
            description=your_ref,
            account=account,
            due_ms=due_ms,
        )
        for line_number, line_id, gl, amount, vat, cost_center in lines:
            self.emit(
                PURCHASE_ENTRY_LINES,
                {
                    "ID": line_id,
                    "AmountDC": amount / 100,
                    "AmountFC": amount / 100,
                    "CostCenter": cost_center,
                    "CostUnit": None,
                    "Created": created,
                    "Description": self.gl[gl][1],
                    "EntryID": entry_id,
                    "GLAccount": self.gl[gl][0],
                    "LineNumber": line_number,
                    "Modified": created,
                    "VATAmountDC": vat / 100,
                    "VATAmountFC": vat / 100,
                    "VATCode": self.vat_code,
                },
            )
            self.transaction_line(
                **common,
                line_id=line_id,  # Exact: an entry line's ID is its transaction line's ID
                line_number=line_number,
                gl_code=gl,
                amount_cents=amount,
                description=self.gl[gl][1],
                account=account,
                vat=(self.vat_code, self.region.vat_percentage / 100, vat, amount),
                cost=(cost_center, None),
            )
        if vat_total:
            self.transaction_line(
                **common,
                line_number=len(lines) + 1,
                gl_code="1510",
                amount_cents=vat_total,
                description=f"VAT {your_ref}",
            )
        if self.rng.random() < 0.5:
            self.purchase_invoice(
                day_ms=day_ms,
                supplier=supplier,
                number=number,
                your_ref=your_ref,
                lines=lines,
                created=created,
                due_ms=due_ms,
            )
        document = Document(entry_id, number, *account, day_ms, due_ms, total, payable_line)
        self.settle(document, receivable=False)
        del days_ago

    def purchase_invoice(
        self,
        *,
        day_ms: int,
        supplier: tuple[str, str, str, str, str],
        number: int,
        your_ref: str,
        lines: list[tuple[Any, ...]],
        created: int,
        due_ms: int,
    ) -> None:
        """The logistics-side purchase invoice of a purchase entry (same number and lines)."""
        invoice_id = self.guid()
        excl = sum(line[3] for line in lines)
        vat_total = sum(line[4] for line in lines)
        year, period = self.period(day_ms)
        self.emit(
            PURCHASE_INVOICES,
            {
                "ID": invoice_id,
                "Amount": (excl + vat_total) / 100,
                "Created": created,
                "Currency": self.region.currency,
                "Description": f"{supplier[2]} {your_ref}",
                "DueDate": due_ms,
                "EntryNumber": number,
                "FinancialPeriod": period,
                "FinancialYear": year,
                "InvoiceDate": day_ms,
                "Journal": "60",
                "Modified": created,
                "Source": 3,
                "Status": 50,
                "Supplier": supplier[0],
                "Type": 8033,
                "VATAmount": vat_total / 100,
                "YourRef": your_ref,
            },
        )
        for line_number, _line_id, gl, amount, vat, cost_center in lines:
            self.emit(
                PURCHASE_INVOICE_LINES,
                {
                    "ID": self.guid(),
                    "Amount": amount / 100,
                    "CostCenter": cost_center,
                    "CostUnit": None,
                    "Created": created,
                    "Description": self.gl[gl][1],
                    "InvoiceID": invoice_id,
                    "Item": None,
                    "LineNumber": line_number,
                    "Modified": created,
                    "Quantity": 1.0,
                    "UnitPrice": amount / 100,
                    "VATAmount": vat / 100,
                    "VATCode": self.vat_code,
                },
            )

    def settle(self, document: Document, *, receivable: bool) -> None:
        """The open item (receivable or payment) and, when already paid, the bank entry."""
        paid_day = document.day_ms + self.rng.randrange(5, 60) * MS_PER_DAY
        paid = paid_day < self.anchor_day_ms and self.rng.random() < 0.9
        entity = RECEIVABLES if receivable else PAYMENTS
        open_gl = "1300" if receivable else "1600"
        sign = 1 if receivable else -1
        created = self.stamp(document.day_ms)
        modified = self.stamp(paid_day) if paid else created
        self.emit(
            entity,
            {
                "ID": self.guid(),
                "Account": document.account,
                "AccountCode": document.account_code,
                "AccountName": document.account_name,
                "AmountDC": document.total_cents / 100,
                "AmountFC": document.total_cents / 100,
                "Created": created,
                "Currency": self.region.currency,
                "Description": f"{'Invoice' if receivable else 'Purchase'} {document.number}",
                "DueDate": document.due_ms,
                "EntryDate": document.day_ms,
                "EntryID": document.entry_id,
                "EntryNumber": document.number,
                "GLAccount": self.gl[open_gl][0],
                "InvoiceDate": document.day_ms,
                "InvoiceNumber": document.number,
                "IsFullyPaid": paid,
                "LastPaymentDate": paid_day if paid else None,
                "Modified": modified,
                "Source": 1,
                "Status": 50 if paid else 20,
                "TransactionID": document.open_line_id,
                "TransactionType": 20 if receivable else 30,
            },
        )
        if not paid:
            return
        entry_id = self.guid()
        number = self.next_number("bank", 20_000_000 + self.index * 1_000_000)
        common: dict[str, Any] = {
            "entry_id": entry_id,
            "entry_number": number,
            "journal": ("20", "Bank"),
            "entry_type": 40,
            "day_ms": paid_day,
            "created": self.stamp(paid_day),
        }
        account = (document.account, document.account_code, document.account_name)
        self.transaction_line(
            **common,
            line_number=0,
            gl_code="1100",
            amount_cents=sign * document.total_cents,
            description=f"Payment {document.number}",
        )
        self.transaction_line(
            **common,
            line_number=1,
            gl_code=open_gl,
            amount_cents=-sign * document.total_cents,
            description=f"Payment {document.number}",
            account=account,
            invoice_number=document.number,
        )

    def journal_entry(
        self,
        day_ms: int,
        description: str,
        postings: Sequence[tuple[str, int, str | None]],
        *,
        entry_type: int = 90,
    ) -> None:
        """A general journal entry, its lines and its transaction lines (balanced)."""
        if sum(amount for _gl, amount, _cost in postings) != 0:
            raise AssertionError(f"unbalanced journal entry {description}")
        entry_id = self.guid()
        number = self.next_number("general", 90_000_000 + self.index * 1_000_000)
        created = self.stamp(day_ms)
        year, period = self.period(day_ms)
        self.emit(
            GENERAL_JOURNAL_ENTRIES,
            {
                "EntryID": entry_id,
                "Created": created,
                "Currency": self.region.currency,
                "EntryNumber": number,
                "ExchangeRate": 1.0,
                "FinancialPeriod": period,
                "FinancialYear": year,
                "JournalCode": "90",
                "JournalDescription": "General journal",
                "Modified": created,
                "Reversal": False,
                "Status": 50,
                "StatusDescription": "Processed",
                "Type": entry_type,
                "TypeDescription": "Opening balance" if entry_type == 10 else "Other",
            },
        )
        for line_number, (gl, amount, cost_center) in enumerate(postings, start=1):
            line_id = self.guid()
            self.emit(
                GENERAL_JOURNAL_ENTRY_LINES,
                {
                    "ID": line_id,
                    "Account": None,
                    "AccountCode": None,
                    "AccountName": None,
                    "AmountDC": amount / 100,
                    "AmountFC": amount / 100,
                    "AmountVATDC": None,
                    "AmountVATFC": None,
                    "CostCenter": cost_center,
                    "CostUnit": None,
                    "Created": created,
                    "Date": day_ms,
                    "Description": description,
                    "EntryID": entry_id,
                    "GLAccount": self.gl[gl][0],
                    "GLAccountCode": gl,
                    "GLAccountDescription": self.gl[gl][1],
                    "LineNumber": line_number,
                    "Modified": created,
                    "Quantity": None,
                    "VATCode": None,
                    "VATPercentage": None,
                },
            )
            self.transaction_line(
                entry_id=entry_id,
                line_id=line_id,
                line_number=line_number,
                entry_number=number,
                journal=("90", "General journal"),
                entry_type=entry_type,
                day_ms=day_ms,
                gl_code=gl,
                amount_cents=amount,
                description=description,
                cost=(cost_center, None),
                created=created,
            )

    def opening_balance(self) -> None:
        """Capital and retained earnings funding the bank account."""
        day_ms = self.anchor_day_ms - (HISTORY_DAYS + 1) * MS_PER_DAY
        capital = 5_000_000 + self.index * 1_000_000
        retained = self.rng.randrange(10_000_000, 30_000_000)
        self.journal_entry(
            day_ms,
            "Opening balance",
            [
                ("1100", capital + retained, None),
                ("0500", -capital, None),
                ("0510", -retained, None),
            ],
            entry_type=10,
        )

    def payroll(self, day_ms: int) -> None:
        """Monthly salaries, social charges, pensions against payables."""
        scale = max(1, self.target_lines // 4_000)
        gross = self.rng.randrange(6_000_000, 9_000_000) * scale // 10
        social = gross * 18 // 100
        pension = gross * 8 // 100
        taxes = gross * 30 // 100
        self.journal_entry(
            day_ms,
            "Payroll",
            [
                ("4000", gross, "700"),
                ("4010", social, "700"),
                ("4020", pension, "700"),
                ("1730", -(taxes + social), None),
                ("1720", -(gross + pension - taxes), None),
            ],
        )

    def depreciation(self, day_ms: int) -> None:
        """Monthly depreciation of equipment."""
        amount = self.rng.randrange(150_000, 250_000)
        self.journal_entry(
            day_ms, "Depreciation", [("4700", amount, "700"), ("0150", -amount, None)]
        )

    def reclassification(self, day_ms: int) -> None:
        """A correction moving costs between accounts and cost centers."""
        amount = self.rng.randrange(1_000, 150_000)
        source, target = self.rng.sample(("4500", "4900", "4400", "4300", "4620", "4130"), 2)
        centers = self.rng.sample([code for code, _ in COST_CENTERS], 2)
        postings: list[tuple[str, int, str | None]] = [
            (target, amount, centers[0]),
            (source, -amount, centers[1]),
        ]
        if self.rng.random() < 0.5:
            split = amount // 3
            postings = [
                (target, amount - split, centers[0]),
                ("4900", split, centers[0]),
                (source, -amount, centers[1]),
            ]
        self.journal_entry(day_ms, "Reclassification", postings)

    def historic_deletions(self) -> None:
        """Some records deleted in the past three months (older ones fall out of the feed)."""
        codes = (1, 2, 5, 9, 13)
        for _ in range(12):
            day_ms = self.anchor_day_ms - self.rng.randrange(1, 90) * MS_PER_DAY
            self.emit(
                DELETED,
                {
                    "ID": self.guid(),
                    "DeletedBy": self.user_id,
                    "DeletedDate": self.stamp(day_ms),
                    "EntityKey": self.guid(),
                    "EntityType": self.rng.choice(codes),
                },
            )
