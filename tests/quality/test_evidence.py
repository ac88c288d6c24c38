"""The evidence manifest's canonical table digest: engine-independent (a numeric(18,6) built on
DuckDB and the double precision a PostgreSQL build brings over give the same text), independent
of row and column order, and sensitive to every value. The manifest and ``loyalty verify`` on
real nights: tests/pipeline/test_nightly_pipeline.py."""

from __future__ import annotations

import duckdb

from loyalty.quality.evidence import canonical_digest


def _digest(ddl: str, rows: str) -> tuple[int, str]:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(f"create table marts.t ({ddl})")
    if rows:
        con.execute(f"insert into marts.t values {rows}")
    return canonical_digest(con, "marts.t")


def test_the_same_content_from_two_engines_has_one_digest() -> None:
    duckdb_built = _digest("period_start date, rate decimal(18, 6), cost decimal(18, 2), n bigint, flag boolean, label varchar",
                           "('2026-11-01', 0.333333, 3.50, 3, true, '上海'), ('2026-10-01', null, 0, 0, false, '')")
    postgres_built = _digest("period_start date, rate double, cost double, n integer, flag boolean, label varchar",
                             "('2026-10-01', null, 0.0, 0, false, ''), ('2026-11-01', 0.333333, 3.5, 3, true, '上海')")
    assert duckdb_built == postgres_built and duckdb_built[0] == 2
    reordered = _digest("label varchar, flag boolean, n bigint, cost double, rate double, period_start date",
                        "('上海', true, 3, 3.5, 0.333333, '2026-11-01'), ('', false, 0, -0.0, null, '2026-10-01')")
    assert reordered == duckdb_built


def test_every_value_counts() -> None:
    base = _digest("a integer, b varchar", "(1, 'x'), (2, 'y')")
    for other in [_digest("a integer, b varchar", "(1, 'x'), (2, 'z')"),
                  _digest("a integer, b varchar", "(1, 'x'), (3, 'y')"),
                  _digest("a integer, b varchar", "(1, 'x')"),
                  _digest("a integer, b varchar", "(1, 'x'), (2, 'y'), (2, 'y')"),
                  _digest("a integer, c varchar", "(1, 'x'), (2, 'y')"),
                  _digest("a double, b varchar", "(1.0000001, 'x'), (2, 'y')")]:
        assert other != base
    assert _digest("a integer, b varchar", "(1, null)") != _digest("a integer, b varchar", "(1, '')")  # NULL is not ''
    assert _digest("a integer, b varchar", "(1, 'x' || chr(9) || 'y')") != _digest(
        "a integer, b varchar, c varchar", "(1, 'x', 'y')")  # a tab inside a value is not a column break
    assert _digest("a double", "(0.1234564)")[1] == _digest("a decimal(18, 6)", "(0.123456)")[1]  # 6 decimals
    assert _digest("a integer", "")[0] == 0
