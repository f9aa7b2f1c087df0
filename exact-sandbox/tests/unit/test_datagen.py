"""Data generation without a server: named scales, bounded memory at large scales."""

from __future__ import annotations

from exact_sandbox import datagen
from exact_sandbox.datagen import SCALES, parse_scale
from exact_sandbox.store import Store


def test_scales_are_named_or_numeric():
    assert parse_scale("small") == SCALES["small"]
    assert parse_scale("1234") == 1234
    assert parse_scale("large") * 3 >= 1_000_000  # three divisions by default


def test_large_scale_generation_streams_in_chunks(monkeypatch, tmp_path):
    largest: list[int] = []
    original = datagen.DivisionGenerator.flush

    def spy(self, name):
        largest.append(len(self.buffers[name]))
        original(self, name)

    monkeypatch.setattr(datagen, "FLUSH_ROWS", 500)
    monkeypatch.setattr(datagen.DivisionGenerator, "flush", spy)
    store = Store(str(tmp_path / "chunks.sqlite3"))
    datagen.generate(
        store, region="nl", seed=1, divisions=1, lines_per_division=5000, now_ms=1_750_000_000_000
    )
    assert max(largest) <= 500
    assert store.query("SELECT COUNT(*) FROM TransactionLines")[0][0] >= 5000
