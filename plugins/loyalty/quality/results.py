"""The validation results table: one Parquet file per batch and suite, and its view in the warehouse.

``audit/validations/batch_id=<id>/<suite>.parquet`` holds one row per expectation of one
validation. Writing the same batch and suite again replaces the file (temporary file +
rename), so re-running a night leaves exactly one result set per suite.
``register_audit_views`` makes ``audit.validation_results`` in the warehouse (DuckDB, PostgreSQL
or Spark) over the files and ``audit.validation_results_archive``, where ``archive_night`` copies
a night's rows before retention removes its files.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from loyalty.config import Settings

RESULT_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("batch_id", pa.string()),
        ("suite_name", pa.string()),
        ("gate", pa.string()),
        ("expectation_type", pa.string()),
        ("column", pa.string()),
        ("kwargs_json", pa.string()),
        ("severity", pa.string()),
        ("success", pa.bool_()),
        ("observed_value", pa.string()),
        ("unexpected_count", pa.int64()),
        ("element_count", pa.int64()),
        ("validated_at", pa.timestamp("us")),
    ]
)
RESULT_SQL_TYPES = {
    "run_id": "VARCHAR", "batch_id": "VARCHAR", "suite_name": "VARCHAR", "gate": "VARCHAR",
    "expectation_type": "VARCHAR", "column": "VARCHAR", "kwargs_json": "VARCHAR", "severity": "VARCHAR",
    "success": "BOOLEAN", "observed_value": "VARCHAR", "unexpected_count": "BIGINT", "element_count": "BIGINT",
    "validated_at": "TIMESTAMP",
}


def validations_dir(settings: Settings) -> Path:
    return settings.audit_dir / "validations"


def result_path(settings: Settings, batch_id: str, suite_name: str) -> Path:
    return validations_dir(settings) / f"batch_id={batch_id}" / f"{suite_name}.parquet"


def write_results(settings: Settings, batch_id: str, suite_name: str, rows: list[dict[str, Any]]) -> Path:
    """Replace the results of ``suite_name`` for ``batch_id`` with ``rows``."""
    path = result_path(settings, batch_id, suite_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([{k: r.get(k) for k in RESULT_SCHEMA.names} for r in rows], schema=RESULT_SCHEMA)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def read_results(settings: Settings, batch_id: str) -> pa.Table:
    """Every result row of ``batch_id`` (all suites), or an empty table."""
    folder = validations_dir(settings) / f"batch_id={batch_id}"
    files = sorted(folder.glob("*.parquet")) if folder.exists() else []
    if not files:
        return RESULT_SCHEMA.empty_table()
    return pa.concat_tables([pq.read_table(f, schema=RESULT_SCHEMA) for f in files])


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


ARCHIVE = "audit.validation_results_archive"


def _is_duckdb(con: Any) -> bool:
    import duckdb

    return isinstance(con, duckdb.DuckDBPyConnection)


def _is_spark(con: Any) -> bool:
    return hasattr(con, "sparkContext")


def _spark_files(settings: Settings, files_or_glob: str) -> Any:
    """The result files' rows, read by DuckDB, as Arrow (for a Spark warehouse)."""
    import duckdb

    duck = duckdb.connect()
    try:
        return duck.execute(_files_query(files_or_glob)).to_arrow_table()
    finally:
        duck.close()


def _spark_archive(spark: Any) -> Any:
    """The archive on Spark (created when missing), as Arrow."""
    from loyalty.warehouse.spark import query_arrow, relation_exists, spark_type

    spark.sql("create database if not exists audit")
    if not relation_exists(spark, ARCHIVE):
        cols = ", ".join(f"`{c}` {spark_type(t)}" for c, t in RESULT_SQL_TYPES.items())
        spark.sql(f"create table {ARCHIVE} ({cols}) using parquet")
    return query_arrow(spark, f"select * from {ARCHIVE}")


def _ensure_archive(con: Any) -> None:
    if _is_spark(con):
        _spark_archive(con)
        return
    con.execute("create schema if not exists audit")
    if _is_duckdb(con):
        types = RESULT_SQL_TYPES
    else:  # PostgreSQL
        from loyalty.warehouse.postgres import pg_type

        types = {c: pg_type(t) for c, t in RESULT_SQL_TYPES.items()}
    con.execute(f"create table if not exists {ARCHIVE} (" + ", ".join(f'"{c}" {t}' for c, t in types.items()) + ")")


def _files_query(files_or_glob: str) -> str:
    cols = ", ".join(f'"{c}"::{t} as "{c}"' for c, t in RESULT_SQL_TYPES.items())
    return f"select {cols} from read_parquet({files_or_glob}, union_by_name=true, hive_partitioning=false)"


def archive_night(con: Any, settings: Settings, batch_id: str) -> int:
    """Copy a night's result files into the warehouse table ``audit.validation_results_archive``
    (replacing what it held for that night) before the retention removes the files. ``con``: a
    writing connection to the warehouse (DuckDB, or PostgreSQL through psycopg)."""
    _ensure_archive(con)
    folder = validations_dir(settings) / f"batch_id={batch_id}"
    files = sorted(folder.glob("*.parquet")) if folder.exists() else []
    if not files:
        return 0
    src = "[" + ", ".join(_lit(str(f)) for f in files) + "]"
    if _is_spark(con):  # no DELETE: the archive is small, rewritten whole
        import pyarrow as pa
        import pyarrow.compute as pc

        from loyalty.warehouse.spark import replace_table

        archive = _spark_archive(con)
        night = _spark_files(settings, src)
        kept = archive.filter(pc.not_equal(archive["batch_id"], batch_id))
        replace_table(con, ARCHIVE, pa.concat_tables([kept.cast(night.schema), night]))
        return night.num_rows
    if _is_duckdb(con):
        con.execute(f"delete from {ARCHIVE} where batch_id = ?", [batch_id])
        con.execute(f"insert into {ARCHIVE} {_files_query(src)}")
        return int(con.execute(f"select count(*) from {ARCHIVE} where batch_id = ?", [batch_id]).fetchone()[0])
    import duckdb

    from loyalty.warehouse.postgres import copy_duckdb_query

    con.execute(f"delete from {ARCHIVE} where batch_id = %s", [batch_id])
    duck = duckdb.connect()
    try:
        copy_duckdb_query(duck, _files_query(src), con, ARCHIVE, list(RESULT_SQL_TYPES))
    finally:
        duck.close()
    return int(con.execute(f"select count(*) from {ARCHIVE} where batch_id = %s", [batch_id]).fetchone()[0])


def register_audit_views(con: Any, settings: Settings) -> None:
    """Create schema ``audit`` and ``audit.validation_results`` in the warehouse: the result files
    on disk (the nights the retention keeps) and, for the nights it removed, their rows archived
    in the warehouse: the full history. DuckDB: a view over the files. PostgreSQL (``con`` from
    psycopg): the files are copied into ``audit.validation_results_files`` at each register, and
    the view unions that table with the archive."""
    _ensure_archive(con)
    root = validations_dir(settings)
    on_disk = bool(list(root.glob("batch_id=*/*.parquet")))
    if _is_spark(con):
        from loyalty.warehouse.spark import replace_table

        files = _spark_files(settings, _lit(str(root / "batch_id=*" / "*.parquet"))) if on_disk else \
            _spark_archive(con).slice(0, 0)
        replace_table(con, "audit.validation_results_files", files)
        con.sql(f"create or replace view audit.validation_results as select * from audit.validation_results_files "
                f"union all select * from {ARCHIVE} where batch_id not in "
                "(select distinct batch_id from audit.validation_results_files)")
        return
    if _is_duckdb(con):
        if on_disk:
            files = _files_query(_lit(str(root / "batch_id=*" / "*.parquet")))
            body = (f"with on_disk as ({files}) select * from on_disk union all select * from {ARCHIVE} "
                    "where batch_id not in (select distinct batch_id from on_disk)")
        else:
            body = f"select * from {ARCHIVE}"
        con.execute(f"create or replace view audit.validation_results as {body}")
        return
    import duckdb

    from loyalty.warehouse.postgres import copy_duckdb_query

    con.execute("drop view if exists audit.validation_results")
    con.execute("drop table if exists audit.validation_results_files")
    con.execute(f"create table audit.validation_results_files (like {ARCHIVE})")
    if on_disk:
        duck = duckdb.connect()
        try:
            copy_duckdb_query(duck, _files_query(_lit(str(root / "batch_id=*" / "*.parquet"))), con,
                              "audit.validation_results_files", list(RESULT_SQL_TYPES))
        finally:
            duck.close()
    con.execute(f"create view audit.validation_results as select * from audit.validation_results_files union all "
                f"select * from {ARCHIVE} where batch_id not in (select distinct batch_id from audit.validation_results_files)")
