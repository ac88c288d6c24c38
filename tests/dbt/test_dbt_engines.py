"""The same landed demo builds on DuckDB and on PostgreSQL, and every metric mart holds the
same values on both (numbers compared to 6 decimal places)."""

from __future__ import annotations

import os
from pathlib import Path

import dbt_util
import pg_raw
import pytest
from psycopg.conninfo import conninfo_to_dict

from conftest import END_DATE

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_marts_equal_on_duckdb_and_postgres(landed_demo: Path, pg_database: str, tmp_path: Path) -> None:
    warehouse = tmp_path / "engines.duckdb"
    # a private copy of the landed warehouse (raw views point at the shared Parquet)
    import shutil

    shutil.copy(landed_demo / "warehouse" / "loyalty.duckdb", warehouse)
    env = dbt_util.data_env(landed_demo, warehouse)
    dbt_util.dbt("run", END_DATE, env, "--target", "duckdb", target_path=tmp_path / "target_duckdb")

    pg_raw.load_raw(warehouse, pg_database)
    info = conninfo_to_dict(pg_database)
    pg_env = {**env, "LOYALTY_PG_HOST": str(info.get("host", "127.0.0.1")), "LOYALTY_PG_PORT": str(info.get("port", 5432)),
              "LOYALTY_PG_USER": str(info.get("user", "postgres")), "LOYALTY_PG_PASSWORD": str(info.get("password", "")),
              "LOYALTY_PG_DBNAME": str(info["dbname"]), "LOYALTY_PG_SCHEMA": "public"}
    os.environ.setdefault("LOYALTY_PII_KEY", dbt_util.PII_KEY)
    dbt_util.dbt("run", END_DATE, pg_env, "--target", "postgres", target_path=tmp_path / "target_postgres")

    duck = dbt_util.snapshot_duckdb(warehouse)
    pg = dbt_util.snapshot_postgres(pg_database)
    for mart in dbt_util.MARTS:
        assert duck[mart], f"{mart} is empty on DuckDB"
        problems = dbt_util.diff(duck[mart], pg[mart])
        assert not problems, f"{mart} differs between DuckDB and PostgreSQL:\n" + "\n".join(problems)

    # the night again, incrementally, on PostgreSQL: the period-incremental models replace
    # their dirty periods (strategy replace_periods) and the marts stay the same
    dbt_util.dbt("run", END_DATE, pg_env, "--target", "postgres", target_path=tmp_path / "target_postgres")
    with __import__("psycopg").connect(pg_database) as conn:
        built = conn.execute("select count(*) from intermediate.int_build_watermark").fetchone()
        dirty = conn.execute("select count(*) from intermediate.int_dirty_periods where source_table <> '*'").fetchone()
    assert built == (1,) and dirty and dirty[0] > 0  # an incremental run, not a second full build
    again = dbt_util.snapshot_postgres(pg_database)
    for mart in dbt_util.MARTS:
        assert dbt_util.diff(again[mart], pg[mart], 0.0) == [], f"{mart} changed when the night was re-run on PostgreSQL"
