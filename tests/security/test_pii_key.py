"""Pseudonyms are the same on DuckDB, in Python and on PostgreSQL.

That a real night leaks neither the PII key nor raw personal data is searched on the lineage
test's night (tests/quality/test_lineage.py, tests/leaks.py), which runs with every secret set.
"""

from __future__ import annotations

import uuid

import duckdb

KEY = "pii-key-" + uuid.uuid4().hex  # a known key, unique to this run


def test_pseudonyms_are_the_same_on_duckdb_python_and_postgres(pg_database: str) -> None:
    import psycopg

    from loyalty.warehouse.pii import dbt_environment, pseudonym
    from loyalty.warehouse.pii_duckdb import register

    values = ["13800138000", "wang.wei@example.com", "李娜@例子.中国", "0"]
    con = duckdb.connect()
    register(con, KEY)
    on_duckdb = [con.execute("select loyalty_pseudonym(?)", [v]).fetchone()[0] for v in values]
    assert con.execute("select loyalty_pseudonym(null), loyalty_pseudonym('')").fetchone() == (None, None)
    options = dbt_environment(KEY, "postgres")["PGOPTIONS"]
    with psycopg.connect(pg_database, options=options) as pg:
        pg.execute("create extension if not exists pgcrypto")
        on_postgres = [pg.execute(
            "select encode(hmac(convert_to(%s, 'UTF8'), convert_to(current_setting('loyalty.pii_key'), 'UTF8'),"
            " 'sha256'), 'hex')", [v]).fetchone()[0] for v in values]
    assert on_duckdb == [pseudonym(v, KEY) for v in values] == on_postgres
    assert all(len(p) == 64 for p in on_duckdb)
    assert pseudonym("13800138000", KEY) != pseudonym("13800138000", KEY + "x")  # keyed
