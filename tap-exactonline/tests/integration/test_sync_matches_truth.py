"""A full load returns every live row of every stream, with values matching the sandbox truth."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from archive_devkit.entities import STREAM_ENTITIES
from archive_devkit.tap_runs import make_config, run_tap
from tap_exactonline.streams import STREAM_TYPES


def test_every_stream_matches_sandbox_truth(shared_sandbox_each_number_mode, tmp_path):
    shared_sandbox = shared_sandbox_each_number_mode
    result = run_tap(make_config(shared_sandbox, tmp_path))
    truth = shared_sandbox.truth()
    assert sorted(STREAM_ENTITIES) == sorted(stream.name for stream in STREAM_TYPES)
    for stream_type in STREAM_TYPES:
        stream, key = stream_type.name, stream_type.primary_keys[0]
        rows = result.rows(stream)
        assert rows, f"{stream} returned no records"
        for division in shared_sandbox.divisions:
            expected = truth[str(division)][STREAM_ENTITIES[stream]]
            in_division = [row for row in rows if row["Division"] == division]
            keys = [row[key] for row in in_division]
            assert len(keys) == len(set(keys)), f"{stream}: duplicate keys"
            assert len(in_division) == expected["count"], (stream, division)
            for amount_field, expected_sum in expected["sums"].items():
                if amount_field not in {f.name for f in stream_type.declared_fields()}:
                    continue
                total = sum(
                    (Decimal(str(r.get(amount_field) or 0)) for r in in_division), Decimal()
                )
                assert total == Decimal(expected_sum), (stream, division, amount_field)


def test_records_carry_division_dates_and_exact_amounts(shared_sandbox, tmp_path):
    result = run_tap(make_config(shared_sandbox, tmp_path), streams=["transaction_lines"])
    lines = result.rows("transaction_lines")
    assert {row["Division"] for row in lines} == set(shared_sandbox.divisions)
    for row in lines[:500]:
        for name in ("Modified", "Created"):
            parsed = datetime.fromisoformat(row[name])
            assert parsed.utcoffset() is not None
            assert parsed.utcoffset().total_seconds() == 0
        # A calendar date stays a date (test_values.py checks it against the sandbox).
        assert date.fromisoformat(row["Date"]).isoformat() == row["Date"]
        # Exact sends whole amounts as JSON integers (9075): they stay ints, never floats.
        assert type(row["AmountDC"]) in (Decimal, int)
        assert row["AmountDC"] == Decimal(row["AmountDC"]).quantize(Decimal("0.01"))
    # Every entry's lines balance to zero, as the ledger requires: no rounding on the way.
    by_entry: dict[str, Decimal] = {}
    for row in lines:
        by_entry[row["EntryID"]] = by_entry.get(row["EntryID"], Decimal()) + row["AmountDC"]
    assert all(total == 0 for total in by_entry.values())


def test_customers_and_suppliers_both_carry_both_flags(shared_sandbox, tmp_path):
    result = run_tap(make_config(shared_sandbox, tmp_path), streams=["customers", "suppliers"])
    customers, suppliers = result.rows("customers"), result.rows("suppliers")
    assert all(row["is_customer"] for row in customers)
    assert all(row["is_supplier"] for row in suppliers)
    assert all("is_supplier" in row for row in customers)
    assert all("is_customer" in row for row in suppliers)
    both = {row["ID"] for row in customers} & {row["ID"] for row in suppliers}
    assert all(row["is_supplier"] for row in customers if row["ID"] in both)


def test_divisions_setting_empty_means_the_current_division(shared_sandbox, tmp_path):
    result = run_tap(make_config(shared_sandbox, tmp_path, divisions=[]), streams=["gl_schemes"])
    assert {row["Division"] for row in result.rows("gl_schemes")} == {shared_sandbox.divisions[0]}
    explicit = make_config(shared_sandbox, tmp_path / "x", divisions=[shared_sandbox.divisions[1]])
    result = run_tap(explicit, streams=["gl_schemes", "divisions"])
    assert {row["Division"] for row in result.rows("gl_schemes")} == {shared_sandbox.divisions[1]}
    assert [row["Code"] for row in result.rows("divisions")] == [shared_sandbox.divisions[1]]
