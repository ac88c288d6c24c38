"""The PostgreSQL path: generating into a fresh database gives exactly the SQLite content (same
seed), with the contract's types, keys and indexes; ``advance`` stays identical too.

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust): the ``pg_database`` fixture FAILS
(never skips) when the server cannot be reached.
"""

from __future__ import annotations

import json
from pathlib import Path

import gen_util as U
import psycopg
import pytest

from loyalty import contracts
from loyalty.generator import advance, generate

PG_TYPES = {"BIGINT": "bigint", "INTEGER": "integer", "VARCHAR": "text", contracts.MONEY: "numeric",
            "TIMESTAMP": "timestamp without time zone", "DATE": "date"}


@pytest.mark.postgres
def test_postgres_generation_matches_sqlite(pg_database: str, tmp_path: Path) -> None:
    sq, pg = tmp_path / "sqlite", tmp_path / "pg"
    m_sq = generate(sq, scale="small", seed=13)
    m_pg = generate(pg, scale="small", seed=13, shop_db_url=pg_database)
    assert not (pg / "shop.sqlite").exists()
    assert {k: v for k, v in m_pg.items() if k != "shop_db"} == {k: v for k, v in m_sq.items() if k != "shop_db"}
    assert m_pg["shop_db"] == "postgresql"
    assert U.pg_checksums(pg_database) == U.sqlite_checksums(sq / "shop.sqlite")
    for name in ("tickets.jsonl", "survey_inbox/surveys_20261121.csv"):
        assert (pg / name).read_bytes() == (sq / name).read_bytes()

    with psycopg.connect(pg_database) as conn:
        for name, table in contracts.SHOP_TABLES.items():
            cols = conn.execute(
                "select column_name, data_type, numeric_precision, numeric_scale, is_nullable "
                "from information_schema.columns where table_schema = 'public' and table_name = %s "
                "order by ordinal_position", [name]).fetchall()
            assert [c[0] for c in cols] == table.column_names, name
            for (col, typ, prec, scale, nullable), spec in zip(cols, table.columns, strict=True):
                assert typ == PG_TYPES[spec.type], (name, col, typ)
                if spec.type == contracts.MONEY:
                    assert (prec, scale) == (12, 2), (name, col)
                assert (nullable == "YES") == (spec.nullable and col != table.primary_key), (name, col)
            pk = conn.execute(
                "select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid "
                "and a.attnum = any(i.indkey) where i.indrelid = %s::regclass and i.indisprimary", [name]).fetchall()
            assert pk == [(table.primary_key,)], name
            idx = [r[0] for r in conn.execute("select indexdef from pg_indexes where schemaname = 'public' "
                                              "and tablename = %s", [name])]
            assert any("(updated_at)" in d for d in idx), name
        assert conn.execute("select count(*) from pg_indexes where tablename = 'memberships' "
                            "and indexdef like 'CREATE UNIQUE INDEX%%(customer_id)'").fetchone()[0] == 1

    # the same day of changes in both engines
    a_sq = advance(sq)
    a_pg = advance(pg, shop_db_url=pg_database)
    assert a_pg["days"] == a_sq["days"]
    assert U.pg_checksums(pg_database) == U.sqlite_checksums(sq / "shop.sqlite")
    assert (pg / "tickets.jsonl").read_bytes() == (sq / "tickets.jsonl").read_bytes()
    state = json.loads((pg / "state.json").read_text())
    assert state["current_date"] == "2026-11-22"
