"""The evidence manifest's canonical table digest: engine-independent (a numeric(18,6) from
DuckDB and a double from PostgreSQL give the same text), order-independent, and sensitive to
every value. The manifest and ``loyalty verify`` on real nights: tests/pipeline."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from loyalty.quality.evidence import _canonical_value, canonical_digest


def test_the_same_content_from_two_engines_has_one_digest() -> None:
    cols = ["period_start", "rate", "n", "flag", "label"]
    duckdb_rows = [(date(2026, 11, 1), Decimal("0.333333"), 3, True, "上海"), (date(2026, 10, 1), None, 0, False, "")]
    postgres_rows = [(date(2026, 10, 1), None, 0, False, ""), (date(2026, 11, 1), 0.333333, 3, True, "上海")]
    assert canonical_digest(cols, duckdb_rows) == canonical_digest(cols, postgres_rows)
    # columns in another order: the same table
    reordered = [(r[4], r[3], r[2], r[1], r[0]) for r in postgres_rows]
    assert canonical_digest(cols[::-1], reordered) == canonical_digest(cols, duckdb_rows)


def test_every_value_counts() -> None:
    cols = ["a", "b"]
    base = canonical_digest(cols, [(1, "x"), (2, "y")])
    assert canonical_digest(cols, [(1, "x"), (2, "z")]) != base
    assert canonical_digest(cols, [(1, "x"), (3, "y")]) != base
    assert canonical_digest(cols, [(1, "x")]) != base
    assert canonical_digest(cols, [(1, "x"), (2, "y"), (2, "y")]) != base
    assert canonical_digest(["a", "c"], [(1, "x"), (2, "y")]) != base
    assert canonical_digest(cols, [(1, None)]) != canonical_digest(cols, [(1, "")])  # NULL is not ''
    assert canonical_digest(cols, [(1, "x\ty")]) != canonical_digest(["a", "b", "c"], [(1, "x", "y")])


def test_value_forms() -> None:
    assert _canonical_value(Decimal("2.5000000")) == _canonical_value(2.5) == "2.500000"
    assert _canonical_value(-0.0) == _canonical_value(Decimal("-0.0000001")) == "0.000000"
    assert _canonical_value(7) == "7" and _canonical_value(True) == "true"
    assert _canonical_value(datetime(2026, 11, 21, 16, 0)) == "2026-11-21T16:00:00"
