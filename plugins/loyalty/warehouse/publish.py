"""Publish the validated marts (and the dimensions BI needs) to the serving DuckDB file.

The tables are read from the night's warehouse engine (``loyalty.warehouse.engines``), with the
semantic layer's saved queries as ``semantic.<name>`` (DuckDB engine), the night in
``meta.publication``, and a Parquet copy of each table under ``serving/parquet/``.

Atomic: a new file is built beside the old one, check-pointed and closed, then renamed
over it (``os.replace``). A BI connection already open keeps reading the version it
opened (the old inode); every new connection sees tonight's version whole. Readers open
the serving file read-only and never block the nightly load, which only writes the
warehouse. Never backwards: a night older than the one served raises ``NewerNightPublished``.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from loyalty.config import Settings
from loyalty.warehouse.engines import open_engine

log = logging.getLogger(__name__)

CORE_TABLES_FOR_BI = ("dim_customers", "dim_members", "dim_stores", "dim_products", "dim_campaigns", "dim_date")


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


class NewerNightPublished(RuntimeError):
    """The serving file already holds a newer night: BI keeps it (publishing never goes back)."""


def published_night(settings: Settings) -> str | None:
    """The night the serving file holds (``meta.publication``), or None."""
    if not settings.serving_path.exists():
        return None
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        row = con.execute("select batch_id from meta.publication").fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return str(row[0]) if row else None


def publish(settings: Settings, batch_id: str, *, export_parquet: bool = True, semantic: bool = True) -> Path:
    """Swap in the marts of night ``batch_id``; raises NewerNightPublished when the serving file
    already holds a later night (a re-run or backfill of an older night)."""
    current = published_night(settings)
    if current is not None and current > batch_id:
        raise NewerNightPublished(
            f"the serving file holds night {current}, newer than {batch_id}: it is not replaced (BI keeps the newest "
            f"validated night); night {batch_id}'s results are in its audit report")
    serving = settings.serving_path
    serving.parent.mkdir(parents=True, exist_ok=True)
    tmp = serving.parent / f".{serving.stem}-{uuid.uuid4().hex[:8]}.duckdb"
    con = duckdb.connect(str(tmp))
    try:
        with open_engine(settings) as wh:
            rows = wh.tables(
                "(table_schema = 'marts' and table_name like 'mart_%') "
                f"or (table_schema = 'core' and table_name in ({', '.join(_lit(t) for t in CORE_TABLES_FOR_BI)}))")
            if not any(s == "marts" for s, _ in rows):
                raise RuntimeError(f"no marts in {wh.describe()}: run dbt before publishing")
            wh.copy_into(con, rows)
        if semantic:
            rows += _add_semantic(con, settings)
        tables: dict[str, int] = {}
        for schema, name in rows:
            tables[f"{schema}.{name}"] = con.execute(f"select count(*) from {schema}.{name}").fetchall()[0][0]
        con.execute("create schema if not exists meta")
        con.execute(
            "create table meta.publication as select ?::varchar as batch_id, ?::timestamp as published_at, "
            "?::varchar as tables_json",
            [batch_id, datetime.now(UTC).replace(tzinfo=None), json.dumps(tables)],
        )
        if export_parquet:
            _export_parquet(con, settings, [f"{s}.{n}" for s, n in rows])
        con.execute("checkpoint")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, serving)
    log.info("published batch %s to %s: %s", batch_id, serving, ", ".join(f"{k}={v}" for k, v in tables.items()))
    return serving


def _add_semantic(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[tuple[str, str]]:
    """Run every saved query of the semantic layer and write its result as ``semantic.<name>``."""
    from loyalty.warehouse.engines import engine_name
    from loyalty.warehouse.semantic import SCHEMA, SemanticLayer, saved_query_names

    if not saved_query_names():
        log.warning("no semantic manifest with saved queries (dbt_project/target/semantic_manifest.json): "
                    "the serving file gets no %s tables; run `loyalty setup-airflow` to parse the project", SCHEMA)
        return []
    if engine_name() != "duckdb":
        # the semantic manifest names the relations as parsed for the DuckDB target
        log.warning("the semantic layer's saved queries are materialised on the duckdb engine only; on %s, query "
                    "MetricFlow (`mf query`) against the project parsed for that target", engine_name())
        return []
    with SemanticLayer(settings) as sl:
        results = sl.saved_queries()
    con.execute(f"create schema if not exists {SCHEMA}")
    out = []
    for name, table in results.items():
        con.register("_saved_query", table)
        try:
            con.execute(f"create table {SCHEMA}.{name} as select * from _saved_query order by all")
        finally:
            con.unregister("_saved_query")
        out.append((SCHEMA, name))
    return out


def _export_parquet(con: duckdb.DuckDBPyConnection, settings: Settings, tables: list[str]) -> None:
    """Also write each published table as Parquet (for tools that read files), swapped in whole."""
    from loyalty.extract.batches import replace_dir, staging_dir

    final = settings.serving_path.parent / "parquet"
    work = staging_dir(final)
    for t in tables:
        schema, name = t.split(".")
        file = f"semantic_{name}.parquet" if schema == "semantic" else f"{name}.parquet"
        con.execute(f"copy {t} to {_lit(str(work / file))} (format parquet)")
    replace_dir(work, final)


def published_batch(serving_path: Path) -> str | None:
    if not serving_path.exists():
        return None
    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        return con.execute("select batch_id from meta.publication").fetchall()[0][0]
    finally:
        con.close()
