"""The whole night on PostgreSQL: with ``LOYALTY_DBT_TARGET=postgres`` the nightly DAG
(``dag.test()``) loads the raw batches into PostgreSQL, builds there, gates the marts read from
PostgreSQL and publishes the serving file from them. Two nights (a full one, then an
incremental one) on PostgreSQL give the serving file that the same two nights give on DuckDB,
value for value."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from helpers import serving_night, serving_tables
from loyalty.config import Settings

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

D1 = date(2026, 11, 21)
D2 = D1 + timedelta(days=1)


def _data_env(monkeypatch: pytest.MonkeyPatch, data: Path) -> Settings:
    monkeypatch.setenv("LOYALTY_DATA_DIR", str(data))
    monkeypatch.setenv("LOYALTY_WAREHOUSE", str(data / "warehouse" / "loyalty.duckdb"))
    return Settings.from_env()


def test_two_nights_on_postgres_publish_what_duckdb_publishes(
    tmp_path: Path, data_dir: Path, airflow_db: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalty.generator import advance, generate
    from loyalty.orchestration.runner import run_night

    monkeypatch.setenv("AIRFLOW_CONN_LOYALTY_SHOP_DB", "unset")  # the runner's definition is undone afterwards
    monkeypatch.delenv("AIRFLOW_CONN_LOYALTY_SHOP_DB")
    monkeypatch.delenv("LOYALTY_DBT_TARGET", raising=False)

    # --- the reference: two nights on DuckDB (the default) -----------------------------------
    duck = _data_env(monkeypatch, data_dir)
    generate(duck.sources_dir, scale="small", seed=11, end_date=D1)
    night1_sources = tmp_path / "sources-night1"
    shutil.copytree(duck.sources_dir, night1_sources)
    assert run_night(D1).endswith("success")
    duck_night1 = serving_tables(duck.serving_path)
    advance(duck.sources_dir, days=1)
    night2_sources = tmp_path / "sources-night2"
    shutil.copytree(duck.sources_dir, night2_sources)
    assert run_night(D2).endswith("success")
    duck_night2 = serving_tables(duck.serving_path)

    # --- the same two nights with the warehouse on PostgreSQL --------------------------------
    pg = _data_env(monkeypatch, tmp_path / "pg-data")
    monkeypatch.delenv("AIRFLOW_CONN_LOYALTY_SHOP_DB")  # the runner defines it again, from pg-data's sources
    shutil.copytree(night1_sources, pg.sources_dir)
    info = conninfo_to_dict(pg_database)
    monkeypatch.setenv("LOYALTY_DBT_TARGET", "postgres")
    monkeypatch.setenv("LOYALTY_PG_HOST", str(info.get("host", "127.0.0.1")))
    monkeypatch.setenv("LOYALTY_PG_PORT", str(info.get("port", 5432)))
    monkeypatch.setenv("LOYALTY_PG_USER", str(info.get("user", "postgres")))
    monkeypatch.setenv("LOYALTY_PG_PASSWORD", str(info.get("password", "")))
    monkeypatch.setenv("LOYALTY_PG_DBNAME", str(info["dbname"]))
    monkeypatch.setenv("LOYALTY_PG_SCHEMA", "public")

    assert run_night(D1).endswith("success")
    assert not pg.warehouse_path.exists(), "a PostgreSQL night must not build a DuckDB warehouse"
    with psycopg.connect(pg_database) as conn:
        loaded = dict(conn.execute("select table_name, count(*) from raw._loaded_batches group by 1").fetchall())
        marts = {r[0] for r in conn.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'marts'").fetchall()}
        results = conn.execute("select count(distinct suite_name), count(*) from audit.validation_results "
                               "where batch_id = %s", [D1.isoformat()]).fetchone()
    assert loaded and all(n >= 1 for n in loaded.values()), loaded
    assert {"mart_churn", "mart_recommendation", "mart_customer_360"} <= marts, marts
    assert results is not None and results[1] > 0  # the raw gate's results, loaded into audit
    assert serving_night(pg.serving_path) == D1.isoformat()
    pg_night1 = serving_tables(pg.serving_path)

    shutil.rmtree(pg.sources_dir)
    shutil.copytree(night2_sources, pg.sources_dir)
    assert run_night(D2).endswith("success")
    with psycopg.connect(pg_database) as conn:
        built = conn.execute("select count(*) from intermediate.int_build_watermark").fetchone()
        batches = conn.execute("select count(distinct batch_id) from raw._loaded_batches").fetchone()
    assert built == (2,), built  # two builds: the second one incremental, not a rebuild
    assert batches == (2,), batches  # night 2 added its batches to those night 1 loaded
    assert serving_night(pg.serving_path) == D2.isoformat()
    pg_night2 = serving_tables(pg.serving_path)

    for name, (pg_tables, duck_tables) in {"night 1": (pg_night1, duck_night1),
                                           "night 2": (pg_night2, duck_night2)}.items():
        # the semantic layer's saved queries are materialised on the DuckDB engine only (its
        # semantic manifest names the relations as parsed for that target; DECISIONLOG)
        assert any(t.startswith("semantic.") for t in duck_tables) and not any(t.startswith("semantic.") for t in pg_tables)
        duck_tables = {t: rows for t, rows in duck_tables.items() if not t.startswith("semantic.")}
        assert set(pg_tables) == set(duck_tables) and any(t.startswith("marts.mart_") for t in pg_tables), name
        for table, rows in duck_tables.items():
            assert rows, (name, table)
            assert pg_tables[table] == rows, f"{name}: {table} differs between PostgreSQL and DuckDB"
    # the Parquet exports come from the PostgreSQL marts too
    exports = sorted(p.name for p in (pg.data_dir / "serving").rglob("*.parquet"))
    assert exports == sorted(p.name for p in (duck.data_dir / "serving").rglob("*.parquet")
                             if not p.name.startswith("semantic_")) and exports
