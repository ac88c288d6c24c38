"""The whole night on another warehouse engine. With ``LOYALTY_DBT_TARGET=postgres`` the nightly
DAG (``dag.test()``) loads the raw batches into PostgreSQL, builds there, gates the marts read
from PostgreSQL and publishes the serving file from them; with ``LOYALTY_DBT_TARGET=spark`` it
exposes the raw zone to Spark (views over the Parquet), builds with dbt-spark in session mode,
and gates and publishes from Spark. Two nights (a full one, then an incremental one) on each
engine give the serving file that the same two nights give on DuckDB, value for value: every
mart and BI dimension, so every mart value of a full and an incremental build.

One test per engine (each with its DuckDB reference), so the two run on different workers.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from helpers import serving_night, serving_tables
from loyalty.config import Settings

pytestmark = [pytest.mark.slow]

D1 = date(2026, 11, 21)
D2 = D1 + timedelta(days=1)


def _data_env(monkeypatch: pytest.MonkeyPatch, data: Path) -> Settings:
    monkeypatch.setenv("LOYALTY_DATA_DIR", str(data))
    monkeypatch.setenv("LOYALTY_WAREHOUSE", str(data / "warehouse" / "loyalty.duckdb"))
    return Settings.from_env()


@dataclass
class Reference:
    duck: Settings
    night1_sources: Path
    night2_sources: Path
    night1: dict[str, list[tuple]]
    night2: dict[str, list[tuple]]


def _duckdb_reference(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Reference:
    """Two nights on DuckDB (the default), keeping each night's sources for the other engine."""
    from loyalty.generator import advance, generate
    from loyalty.orchestration.runner import run_night

    monkeypatch.setenv("AIRFLOW_CONN_LOYALTY_SHOP_DB", "unset")  # the runner's definition is undone afterwards
    monkeypatch.delenv("AIRFLOW_CONN_LOYALTY_SHOP_DB")
    monkeypatch.delenv("LOYALTY_DBT_TARGET", raising=False)
    duck = _data_env(monkeypatch, data_dir)
    generate(duck.sources_dir, scale="small", seed=11, end_date=D1)
    night1_sources = tmp_path / "sources-night1"
    shutil.copytree(duck.sources_dir, night1_sources)
    assert run_night(D1).endswith("success")
    night1 = serving_tables(duck.serving_path)
    advance(duck.sources_dir, days=1)
    night2_sources = tmp_path / "sources-night2"
    shutil.copytree(duck.sources_dir, night2_sources)
    assert run_night(D2).endswith("success")
    return Reference(duck, night1_sources, night2_sources, night1, serving_tables(duck.serving_path))


def _engine_data(tmp_path: Path, ref: Reference, engine: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = _data_env(monkeypatch, tmp_path / f"{engine}-data")
    monkeypatch.delenv("AIRFLOW_CONN_LOYALTY_SHOP_DB")  # the runner defines it again, from these sources
    shutil.copytree(ref.night1_sources, settings.sources_dir)
    monkeypatch.setenv("LOYALTY_DBT_TARGET", engine)
    return settings


def _next_night_sources(settings: Settings, ref: Reference) -> None:
    shutil.rmtree(settings.sources_dir)
    shutil.copytree(ref.night2_sources, settings.sources_dir)


def _assert_same_as_duckdb(engine: str, settings: Settings, ref: Reference, night1: dict, night2: dict) -> None:
    for name, (other_tables, duck_tables) in {"night 1": (night1, ref.night1), "night 2": (night2, ref.night2)}.items():
        # the semantic layer's saved queries are materialised on the DuckDB engine only (its
        # semantic manifest names the relations as parsed for that target; DECISIONLOG)
        assert any(t.startswith("semantic.") for t in duck_tables)
        assert not any(t.startswith("semantic.") for t in other_tables)
        duck_tables = {t: rows for t, rows in duck_tables.items() if not t.startswith("semantic.")}
        assert set(other_tables) == set(duck_tables) and any(t.startswith("marts.mart_") for t in other_tables), name
        for table, rows in duck_tables.items():
            assert rows, (name, table)
            assert other_tables[table] == rows, f"{name}: {table} differs between {engine} and DuckDB"
    # the Parquet exports come from the engine's marts too
    exports = sorted(p.name for p in (settings.data_dir / "serving").rglob("*.parquet"))
    assert exports == sorted(p.name for p in (ref.duck.data_dir / "serving").rglob("*.parquet")
                             if not p.name.startswith("semantic_")) and exports


@pytest.mark.postgres
def test_two_nights_on_postgres_publish_what_duckdb_publishes(
    tmp_path: Path, data_dir: Path, airflow_db: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalty.orchestration.runner import run_night

    ref = _duckdb_reference(tmp_path, data_dir, monkeypatch)
    pg = _engine_data(tmp_path, ref, "postgres", monkeypatch)
    info = conninfo_to_dict(pg_database)
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
    night1 = serving_tables(pg.serving_path)

    _next_night_sources(pg, ref)
    assert run_night(D2).endswith("success")
    with psycopg.connect(pg_database) as conn:
        built = conn.execute("select count(*) from intermediate.int_build_watermark").fetchone()
        batches = conn.execute("select count(distinct batch_id) from raw._loaded_batches").fetchone()
    assert built == (2,), built  # two builds: the second one incremental, not a rebuild
    assert batches == (2,), batches  # night 2 added its batches to those night 1 loaded
    assert serving_night(pg.serving_path) == D2.isoformat()
    _assert_same_as_duckdb("PostgreSQL", pg, ref, night1, serving_tables(pg.serving_path))


def test_two_nights_on_spark_publish_what_duckdb_publishes(
    tmp_path: Path, data_dir: Path, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalty.orchestration.runner import run_night
    from loyalty.warehouse import spark

    ref = _duckdb_reference(tmp_path, data_dir, monkeypatch)
    sp = _engine_data(tmp_path, ref, "spark", monkeypatch)
    monkeypatch.delenv("LOYALTY_SPARK_DIR", raising=False)  # the runner sets it from the data dir
    timings: dict[str, float] = {}
    started = time.monotonic()
    assert run_night(D1).endswith("success")
    timings["night 1 (full)"] = time.monotonic() - started
    assert not sp.warehouse_path.exists(), "a Spark night must not build a DuckDB warehouse"
    # the session dbt and the tasks used in this process (one JVM for both nights)
    session = spark.session(sp)
    assert spark.spark_dir(sp) == sp.warehouse_path.parent / "spark"
    spark_marts = {n for s_, n in spark.tables(session) if s_ == "marts"}
    assert {"mart_churn", "mart_recommendation", "mart_customer_360"} <= spark_marts, spark_marts
    raw_views = {t.name: t.tableType for t in session.catalog.listTables("raw")}
    assert raw_views.get("orders") == "VIEW", raw_views  # the landed Parquet, not a copy
    assert session.sql(f"select count(*) as n from audit.validation_results where batch_id = '{D1}'").collect()[0]["n"] > 0
    assert serving_night(sp.serving_path) == D1.isoformat()
    night1 = serving_tables(sp.serving_path)

    _next_night_sources(sp, ref)
    started = time.monotonic()
    assert run_night(D2).endswith("success")
    timings["night 2 (incremental)"] = time.monotonic() - started
    built = session.sql("select count(*) as n from intermediate.int_build_watermark").collect()[0]["n"]
    assert built == 2, built  # the second build incremental, not a rebuild
    assert serving_night(sp.serving_path) == D2.isoformat()
    print("Spark nights (dag.test, small demo):", ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    _assert_same_as_duckdb("Spark", sp, ref, night1, serving_tables(sp.serving_path))
