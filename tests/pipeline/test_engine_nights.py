"""The whole night on another warehouse engine. With ``LOYALTY_DBT_TARGET=postgres`` the nightly
DAG (``dag.test()``) loads the raw batches into PostgreSQL, builds there, gates the marts read
from PostgreSQL and publishes the serving file from them; with ``LOYALTY_DBT_TARGET=spark`` it
exposes the raw zone to Spark (views over the Parquet), builds with dbt-spark in session mode,
and gates and publishes from Spark. Two nights (a full one, then an incremental one) on each
engine give the serving file that the same two nights give on DuckDB, value for value: every
mart and BI dimension, so every mart value of a full and an incremental build on each engine.

DuckDB's two nights, the reference (``duckdb_reference`` in tests/conftest.py), run the DAG's
stages in-process once per test run and are shared by both tests (and the Celery test), which
run side by side on the two pytest-xdist workers."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from helpers import serving_night, serving_tables
from loyalty.config import Settings
from reference_world import REFERENCE_NIGHTS

pytestmark = [pytest.mark.slow]

D1, D2 = REFERENCE_NIGHTS


def _data_env(monkeypatch: pytest.MonkeyPatch, data: Path) -> Settings:
    monkeypatch.setenv("LOYALTY_DATA_DIR", str(data))
    monkeypatch.setenv("LOYALTY_WAREHOUSE", str(data / "warehouse" / "loyalty.duckdb"))
    monkeypatch.setenv("AIRFLOW_CONN_LOYALTY_SHOP_DB", "unset")  # the runner defines it from the data dir's sources
    monkeypatch.delenv("AIRFLOW_CONN_LOYALTY_SHOP_DB")
    monkeypatch.delenv("LOYALTY_SPARK_DIR", raising=False)  # the runner sets it from the data dir
    return Settings.from_env()


def _assert_publishes_what_duckdb_publishes(engine: str, nights: list[dict], duck_nights: list[dict]) -> None:
    for name, other_tables, duck_tables in zip(("night 1", "night 2"), nights, duck_nights, strict=True):
        # the semantic layer's saved queries are materialised on the DuckDB engine only (its
        # semantic manifest names the relations as parsed for that target; DECISIONLOG)
        assert any(t.startswith("semantic.") for t in duck_tables)
        assert not any(t.startswith("semantic.") for t in other_tables)
        duck_tables = {t: rows for t, rows in duck_tables.items() if not t.startswith("semantic.")}
        assert set(other_tables) == set(duck_tables) and any(t.startswith("marts.mart_") for t in other_tables), name
        for table, rows in duck_tables.items():
            assert rows, (name, table)
            assert other_tables[table] == rows, f"{name}: {table} differs between {engine} and DuckDB"


def _exports(names: list[str]) -> list[str]:
    return sorted(n for n in names if not n.startswith("semantic_"))


def _parquet_exports(data: Path) -> list[str]:
    return sorted(p.name for p in (data / "serving").rglob("*.parquet"))


@pytest.mark.postgres
def test_two_nights_on_postgres_publish_what_duckdb_publishes(
    tmp_path: Path, airflow_db: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch,
    reference_sources: tuple[Path, Path], duckdb_reference: Callable[[], dict[str, Any]],
) -> None:
    from loyalty.orchestration.runner import run_night

    pg = _data_env(monkeypatch, tmp_path / "pg-data")
    shutil.copytree(reference_sources[0], pg.sources_dir)
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
    timings = {"night 1": time.monotonic() - started}
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
    nights = [serving_tables(pg.serving_path)]

    shutil.rmtree(pg.sources_dir)
    shutil.copytree(reference_sources[1], pg.sources_dir)
    started = time.monotonic()
    assert run_night(D2).endswith("success")
    timings["night 2"] = time.monotonic() - started
    with psycopg.connect(pg_database) as conn:
        built = conn.execute("select count(*) from intermediate.int_build_watermark").fetchone()
        batches = conn.execute("select count(distinct batch_id) from raw._loaded_batches").fetchone()
    assert built == (2,), built  # two builds: the second one incremental, not a rebuild
    assert batches == (2,), batches  # night 2 added its batches to those night 1 loaded
    assert serving_night(pg.serving_path) == D2.isoformat()
    nights.append(serving_tables(pg.serving_path))
    print("PostgreSQL nights (dag.test, tiny world):", ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))

    reference = duckdb_reference()
    _assert_publishes_what_duckdb_publishes("PostgreSQL", nights, reference["nights"])
    # the Parquet exports come from the PostgreSQL marts too
    assert _parquet_exports(pg.data_dir) == _exports(reference["exports"]) != []


def test_two_nights_on_spark_publish_what_duckdb_publishes(
    tmp_path: Path, airflow_db: Path, monkeypatch: pytest.MonkeyPatch,
    reference_sources: tuple[Path, Path], duckdb_reference: Callable[[], dict[str, Any]],
) -> None:
    from loyalty.orchestration.runner import run_night
    from loyalty.warehouse import spark

    sp = _data_env(monkeypatch, tmp_path / "spark-data")
    shutil.copytree(reference_sources[0], sp.sources_dir)
    monkeypatch.setenv("LOYALTY_DBT_TARGET", "spark")
    started = time.monotonic()
    assert run_night(D1).endswith("success")
    timings = {"night 1": time.monotonic() - started}
    assert not sp.warehouse_path.exists(), "a Spark night must not build a DuckDB warehouse"

    session = spark.session(sp)  # the session the night used (one per process, warm for night 2)
    assert spark.spark_dir(sp) == sp.warehouse_path.parent / "spark"
    spark_marts = {n for s_, n in spark.tables(session) if s_ == "marts"}
    assert {"mart_churn", "mart_recommendation", "mart_customer_360"} <= spark_marts, spark_marts
    raw_views = {t.name: t.tableType for t in session.catalog.listTables("raw")}
    assert raw_views.get("orders") == "VIEW", raw_views  # the landed Parquet, not a copy
    assert session.sql(f"select count(*) as n from audit.validation_results where batch_id = '{D1}'").collect()[0]["n"] > 0
    nights = [serving_tables(sp.serving_path)]

    shutil.rmtree(sp.sources_dir)
    shutil.copytree(reference_sources[1], sp.sources_dir)
    started = time.monotonic()
    assert run_night(D2).endswith("success")
    timings["night 2"] = time.monotonic() - started
    built = session.sql("select count(*) as n from intermediate.int_build_watermark").collect()[0]["n"]
    assert built == 2, built  # the second build incremental, not a rebuild
    assert serving_night(sp.serving_path) == D2.isoformat()
    nights.append(serving_tables(sp.serving_path))
    print("Spark nights (dag.test, tiny world):", ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))

    reference = duckdb_reference()
    _assert_publishes_what_duckdb_publishes("Spark", nights, reference["nights"])
    # the Parquet exports come from the Spark marts too
    assert _parquet_exports(sp.data_dir) == _exports(reference["exports"]) != []
