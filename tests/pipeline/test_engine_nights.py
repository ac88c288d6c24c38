"""The whole night on another warehouse engine. With ``LOYALTY_DBT_TARGET=postgres`` the nightly
DAG (``dag.test()``) loads the raw batches into PostgreSQL, builds there, gates the marts read
from PostgreSQL and publishes the serving file from them; with ``LOYALTY_DBT_TARGET=spark`` it
exposes the raw zone to Spark (views over the Parquet), builds with dbt-spark in session mode,
and gates and publishes from Spark. Two nights (a full one, then an incremental one) on each
engine give the serving file that the same two nights give on DuckDB, value for value: every
mart and BI dimension, so every mart value of a full and an incremental Spark build. DuckDB's two
nights, the reference, run the DAG's stages in this process (the same task functions, without
Airflow's task bookkeeping): DuckDB's DAG runs are tested by the pipeline tests."""

from __future__ import annotations

import shutil
import time
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


def _duckdb_night(settings: Settings, day: date, *, full: bool, target: Path) -> None:
    from loyalty.orchestration.runner import DEMO_TOKEN
    from loyalty.orchestration.stages import stages_night
    from loyalty.ticket_api.server import TicketApiServer

    with TicketApiServer(settings.tickets_jsonl, DEMO_TOKEN) as server:
        stages_night(day, full=full, shop_url=settings.default_shop_db_url, tickets_url=server.url, token=DEMO_TOKEN,
                     target_path=target, docs=False, report=False)


def test_two_nights_on_postgres_and_spark_publish_what_duckdb_publishes(
    tmp_path: Path, data_dir: Path, airflow_db: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalty.generator import advance, generate
    from loyalty.orchestration.runner import run_night

    monkeypatch.setenv("AIRFLOW_CONN_LOYALTY_SHOP_DB", "unset")  # the runner's definition is undone afterwards
    monkeypatch.delenv("AIRFLOW_CONN_LOYALTY_SHOP_DB")
    monkeypatch.delenv("LOYALTY_DBT_TARGET", raising=False)

    # --- the reference: two nights on DuckDB (the default), the DAG's stages in this process
    # (the same task functions without Airflow: the DuckDB DAG runs are the other tests' subject)
    duck = _data_env(monkeypatch, data_dir)
    generate(duck.sources_dir, scale="small", seed=11, end_date=D1)
    night1_sources = tmp_path / "sources-night1"
    shutil.copytree(duck.sources_dir, night1_sources)
    _duckdb_night(duck, D1, full=False, target=tmp_path / "duck-target")
    duck_night1 = serving_tables(duck.serving_path)
    advance(duck.sources_dir, days=1)
    night2_sources = tmp_path / "sources-night2"
    shutil.copytree(duck.sources_dir, night2_sources)
    _duckdb_night(duck, D2, full=False, target=tmp_path / "duck-target")
    assert serving_night(duck.serving_path) == D2.isoformat()
    duck_night2 = serving_tables(duck.serving_path)

    # --- the same two nights with the warehouse on PostgreSQL --------------------------------
    timings: dict[str, float] = {}
    pg = _data_env(monkeypatch, tmp_path / "pg-data")
    monkeypatch.delenv("AIRFLOW_CONN_LOYALTY_SHOP_DB", raising=False)  # the runner defines it from pg-data's sources
    shutil.copytree(night1_sources, pg.sources_dir)
    info = conninfo_to_dict(pg_database)
    monkeypatch.setenv("LOYALTY_DBT_TARGET", "postgres")
    monkeypatch.setenv("LOYALTY_PG_HOST", str(info.get("host", "127.0.0.1")))
    monkeypatch.setenv("LOYALTY_PG_PORT", str(info.get("port", 5432)))
    monkeypatch.setenv("LOYALTY_PG_USER", str(info.get("user", "postgres")))
    monkeypatch.setenv("LOYALTY_PG_PASSWORD", str(info.get("password", "")))
    monkeypatch.setenv("LOYALTY_PG_DBNAME", str(info["dbname"]))
    monkeypatch.setenv("LOYALTY_PG_SCHEMA", "public")

    started = time.monotonic()
    assert run_night(D1).endswith("success")
    timings["postgres night 1"] = time.monotonic() - started
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

    # --- the same two nights with the warehouse on Spark ------------------------------------
    for var in ("LOYALTY_PG_HOST", "LOYALTY_PG_PORT", "LOYALTY_PG_USER", "LOYALTY_PG_PASSWORD", "LOYALTY_PG_DBNAME",
                "LOYALTY_PG_SCHEMA"):
        monkeypatch.delenv(var)
    sp = _data_env(monkeypatch, tmp_path / "spark-data")
    monkeypatch.delenv("AIRFLOW_CONN_LOYALTY_SHOP_DB")
    monkeypatch.delenv("LOYALTY_SPARK_DIR", raising=False)  # the runner sets it from the data dir
    shutil.copytree(night1_sources, sp.sources_dir)
    monkeypatch.setenv("LOYALTY_DBT_TARGET", "spark")
    started = time.monotonic()
    assert run_night(D1).endswith("success")
    timings["spark night 1"] = time.monotonic() - started
    assert not sp.warehouse_path.exists(), "a Spark night must not build a DuckDB warehouse"
    from loyalty.warehouse import spark

    session = spark.session(sp)
    assert spark.spark_dir(sp) == sp.warehouse_path.parent / "spark"
    spark_marts = {n for s_, n in spark.tables(session) if s_ == "marts"}
    assert {"mart_churn", "mart_recommendation", "mart_customer_360"} <= spark_marts, spark_marts
    raw_views = {t.name: t.tableType for t in session.catalog.listTables("raw")}
    assert raw_views.get("orders") == "VIEW", raw_views  # the landed Parquet, not a copy
    assert session.sql(f"select count(*) as n from audit.validation_results where batch_id = '{D1}'").collect()[0]["n"] > 0
    spark_night1 = serving_tables(sp.serving_path)

    shutil.rmtree(sp.sources_dir)
    shutil.copytree(night2_sources, sp.sources_dir)
    started = time.monotonic()
    assert run_night(D2).endswith("success")
    timings["spark night 2"] = time.monotonic() - started
    built = session.sql("select count(*) as n from intermediate.int_build_watermark").collect()[0]["n"]
    assert built == 2, built  # the second build incremental, not a rebuild
    assert serving_night(sp.serving_path) == D2.isoformat()
    spark_night2 = serving_tables(sp.serving_path)
    print("engine nights (dag.test, small demo):", ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))

    for engine, nights in {"PostgreSQL": ((pg_night1, duck_night1), (pg_night2, duck_night2)),
                           "Spark": ((spark_night1, duck_night1), (spark_night2, duck_night2))}.items():
        for name, (other_tables, duck_tables) in zip(("night 1", "night 2"), nights, strict=True):
            # the semantic layer's saved queries are materialised on the DuckDB engine only (its
            # semantic manifest names the relations as parsed for that target; DECISIONLOG)
            assert any(t.startswith("semantic.") for t in duck_tables)
            assert not any(t.startswith("semantic.") for t in other_tables)
            duck_tables = {t: rows for t, rows in duck_tables.items() if not t.startswith("semantic.")}
            assert set(other_tables) == set(duck_tables) and any(t.startswith("marts.mart_") for t in other_tables), name
            for table, rows in duck_tables.items():
                assert rows, (name, table)
                assert other_tables[table] == rows, f"{name}: {table} differs between {engine} and DuckDB"
    # the Parquet exports come from the PostgreSQL and the Spark marts too
    duck_exports = sorted(p.name for p in (duck.data_dir / "serving").rglob("*.parquet")
                          if not p.name.startswith("semantic_"))
    for data in (pg.data_dir, sp.data_dir):
        exports = sorted(p.name for p in (data / "serving").rglob("*.parquet"))
        assert exports == duck_exports and exports, data
