"""Test helper: copy the DuckDB warehouse's ``raw`` views into a PostgreSQL schema ``raw``.

The dbt project reads ``source(...)`` from schema ``var('raw_schema')``; on PostgreSQL
those tables must exist. This copies every landed table (contract columns plus the
landing metadata) with psycopg 3 ``COPY ... FROM STDIN`` (no DuckDB extension, nothing
downloaded). Test-only: production PostgreSQL raw loading belongs to the integrator.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from loyalty import contracts
from loyalty.warehouse.postgres import pg_type


def load_raw(warehouse: Path, dsn: str, schema: str = "raw") -> dict[str, int]:
    """Replace ``schema`` in the PostgreSQL database ``dsn`` with the warehouse's raw tables."""
    counts: dict[str, int] = {}
    src = duckdb.connect(str(warehouse), read_only=True)
    try:
        with psycopg.connect(dsn, autocommit=False) as conn:
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
            for name, table in contracts.ALL_TABLES.items():
                columns = [*table.columns, *contracts.RAW_METADATA_COLUMNS]
                ident = sql.Identifier(schema, name)
                conn.execute(sql.SQL("create table {} ({})").format(
                    ident,
                    sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(pg_type(c.type)))
                                       for c in columns),
                ))
                select = "select " + ", ".join(f'"{c.name}"' for c in columns) + f" from raw.{name}"
                rows = src.execute(select).fetchall()
                col_list = sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
                with conn.cursor().copy(sql.SQL("copy {} ({}) from stdin").format(ident, col_list)) as copy:
                    for row in rows:
                        copy.write_row(row)
                counts[name] = len(rows)
            conn.commit()
    finally:
        src.close()
    return counts


if __name__ == "__main__":  # manual use: python tests/dbt/pg_raw.py <warehouse.duckdb> <dsn>
    import sys

    print(load_raw(Path(sys.argv[1]), sys.argv[2]))
