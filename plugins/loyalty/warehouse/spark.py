"""The warehouse on Apache Spark (``LOYALTY_DBT_TARGET=spark``): dbt-spark in session mode over
a local PySpark (no cluster), the metastore (embedded Derby) and the tables' Parquet files in
``LOYALTY_SPARK_DIR`` (default ``<data>/warehouse/spark``).

- ``session``: the same Spark session dbt's ``spark`` target opens, from the same settings (the
  target's ``server_side_parameters`` in ``dbt_project/profiles.yml``, read from there, not
  written twice). In one process dbt and this module share the session (``getOrCreate``).
- ``register_raw``: the raw zone as views in database ``raw`` over the landed Parquet (no copy,
  as on DuckDB); the load ledger and the quarantine as small tables replaced each night.
- ``query_arrow``: a query's result as an Arrow table (the mart gate, publish).

The embedded Derby metastore admits one JVM at a time: the warehouse tasks run one after the
other on one worker (queue ``warehouse``), as on DuckDB. A Spark Thrift server or Databricks
(README) lifts that.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from loyalty import contracts
from loyalty.config import DBT_PROJECT_DIR, Settings
from loyalty.warehouse.dbt_project import PROFILES_YML

log = logging.getLogger(__name__)

# DuckDB contract types -> Spark SQL types
_SPARK_TYPES = {"VARCHAR": "string", "BIGINT": "bigint", "INTEGER": "int", "TIMESTAMP": "timestamp",
                "DATE": "date", "BOOLEAN": "boolean", "DOUBLE": "double"}
# the PII key reaches Spark as the HMAC pads (hex), in these session settings (never in SQL:
# the models' SQL says ${spark.loyalty.pii_ipad}, which Spark substitutes when it parses)
PII_IPAD_CONF = "spark.loyalty.pii_ipad"
PII_OPAD_CONF = "spark.loyalty.pii_opad"


def spark_type(duck_type: str) -> str:
    t = duck_type.upper()
    if t.startswith("DECIMAL"):
        return "decimal" + t[len("DECIMAL"):]
    return _SPARK_TYPES[t]


def spark_dir(settings: Settings | None = None) -> Path:
    value = os.environ.get("LOYALTY_SPARK_DIR")
    if value:
        return Path(value).expanduser().resolve()
    return (settings or Settings.from_env()).warehouse_path.parent / "spark"


def spark_conf() -> dict[str, str]:
    """The ``spark`` target's ``server_side_parameters``, rendered as dbt renders them."""
    import jinja2
    import yaml  # type: ignore[import-untyped]

    def env_var(name: str, default: str | None = None) -> str:
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise RuntimeError(f"the spark target needs the environment variable {name}")
        return default

    text = PROFILES_YML.read_text()
    jenv = jinja2.Environment()
    jenv.filters.update(as_number=lambda v: v, as_bool=lambda v: v, as_text=lambda v: v, as_native=lambda v: v)
    rendered = jenv.from_string(text).render(env_var=env_var)
    conf = yaml.safe_load(rendered)["loyalty"]["outputs"]["spark"]["server_side_parameters"]
    out = {str(k): str(v) for k, v in conf.items()}
    out["spark.sql.ansi.enabled"] = "false"  # dbt-spark sets it so (connections.py); the same here
    return out


def environment(settings: Settings) -> dict[str, str]:
    """What a process on the spark target needs in its environment: where the warehouse is."""
    return {"LOYALTY_SPARK_DIR": str(spark_dir(settings)),
            "LOYALTY_SPARK_LOG4J": str(DBT_PROJECT_DIR / "spark" / "log4j2.properties")}


def session(settings: Settings | None = None) -> Any:
    """The Spark session of the ``spark`` target (started on first use, ~6 s, then shared)."""
    os.environ.setdefault("LOYALTY_SPARK_DIR", str(spark_dir(settings)))
    os.environ.setdefault("LOYALTY_SPARK_LOG4J", str(DBT_PROJECT_DIR / "spark" / "log4j2.properties"))
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_conf().items():
        builder = builder.config(key, value)
    Path(os.environ["LOYALTY_SPARK_DIR"]).mkdir(parents=True, exist_ok=True)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def describe(settings: Settings | None = None) -> str:
    conf = spark_conf()
    return f"Spark {conf.get('spark.master', 'local')} (warehouse {conf.get('spark.sql.warehouse.dir')})"


def _lit(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _empty_select(columns: dict[str, str]) -> str:
    return "select " + ", ".join(f"cast(null as {spark_type(t)}) as `{c}`" for c, t in columns.items()) + " where false"


def register_raw(settings: Settings, also: Any = ()) -> dict[str, int]:
    """Views ``raw.<table>`` over every landed batch (the contract's columns; a column a batch
    lacks reads NULL), and ``raw.load_ledger`` / ``raw.quarantine`` replaced whole."""
    import duckdb

    from loyalty.extract import batches

    spark = session(settings)
    spark.sql("create database if not exists raw")
    counts: dict[str, int] = {}
    for name, table in contracts.ALL_TABLES.items():
        cols = {c.name: c.type for c in (*table.columns, *contracts.RAW_METADATA_COLUMNS)}
        files = sorted((settings.raw_dir / name).glob("batch_id=*/part-0.parquet"))
        if files:
            # mergeSchema (profiles.yml): the union of the batches' columns, as DuckDB's union_by_name
            select = ", ".join(f"cast(`{c}` as {spark_type(t)}) as `{c}`" for c, t in cols.items())
            body = f"select {select} from parquet.`{batches.raw_glob(settings, name)}`"
        else:
            body = _empty_select(cols)
        spark.sql(f"create or replace view raw.{name} as {body}")
        counts[name] = _parquet_rows(batches.raw_glob(settings, name)) if files else 0

    duck = duckdb.connect()
    try:
        ledger_files = sorted(settings.raw_dir.glob("*/batch_id=*/_batch.json"))
        rows = []
        for f in ledger_files:
            rec = json.loads(f.read_text())
            row = {c: rec.get(c) for c in contracts.LEDGER_COLUMNS}
            rows.append(row)
        ledger_cols = {**contracts.LEDGER_COLUMNS}
        ledger = duck.sql("select " + ", ".join(f"cast(null as {t}) as \"{c}\"" for c, t in ledger_cols.items())
                          + " where false").to_arrow_table()
        if rows:
            import pyarrow as pa

            ledger = pa.Table.from_pylist(
                [{c: (None if r[c] is None else (r[c] if ledger_cols[c] == "BIGINT" else str(r[c]))) for c in ledger_cols}
                 for r in rows], schema=ledger.schema)
        duck.register("ledger_rows", ledger)
        ledger = duck.sql("select *, rows_read = rows_landed + rows_quarantined + rows_duplicate as is_reconciled "
                          "from ledger_rows").to_arrow_table()
        replace_table(spark, "raw.load_ledger", ledger)
        if list(settings.quarantine_dir.glob("*/batch_id=*/part-0.parquet")):
            select = ", ".join(f"cast(\"{c}\" as {t}) as \"{c}\"" for c, t in contracts.QUARANTINE_COLUMNS.items())
            glob = str(batches.quarantine_glob(settings)).replace("'", "''")
            quarantine = duck.sql(f"select {select} from read_parquet('{glob}', union_by_name=true)").to_arrow_table()
        else:
            nulls = ", ".join(f"cast(null as {t}) as \"{c}\"" for c, t in contracts.QUARANTINE_COLUMNS.items())
            quarantine = duck.sql(f"select {nulls} where false").to_arrow_table()
        replace_table(spark, "raw.quarantine", quarantine)
    finally:
        duck.close()
    for register in also:
        register(spark, settings)
    log.info("raw zone registered in %s: %s", describe(settings), ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def _parquet_rows(glob: str) -> int:
    """Rows of the Parquet files (from their footers, by DuckDB: a Spark job per count costs more)."""
    import duckdb

    con = duckdb.connect()
    try:
        return int(con.execute("select count(*) from read_parquet(?)", [glob]).fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


def replace_table(spark: Any, relation: str, arrow: Any) -> None:
    """Replace a small table with an Arrow table's rows (Parquet, in the Spark warehouse)."""
    ddl = _arrow_schema_ddl(arrow.schema)
    frame = spark.createDataFrame(arrow, schema=ddl) if arrow.num_rows else spark.createDataFrame([], schema=ddl)
    frame.write.mode("overwrite").format("parquet").saveAsTable(relation)


def _arrow_schema_ddl(schema: Any) -> str:
    import pyarrow as pa

    def t(dt: Any) -> str:
        if pa.types.is_string(dt) or pa.types.is_large_string(dt):
            return "string"
        if pa.types.is_int64(dt):
            return "bigint"
        if pa.types.is_int32(dt):
            return "int"
        if pa.types.is_boolean(dt):
            return "boolean"
        if pa.types.is_timestamp(dt):
            return "timestamp"
        if pa.types.is_date(dt):
            return "date"
        if pa.types.is_floating(dt):
            return "double"
        if pa.types.is_decimal(dt):
            return f"decimal({dt.precision},{dt.scale})"
        raise TypeError(f"no Spark type for {dt}")

    return ", ".join(f"`{f.name}` {t(f.type)}" for f in schema)


def relation_exists(spark: Any, relation: str) -> bool:
    schema, _, name = relation.rpartition(".")
    return bool(spark.catalog.tableExists(name, schema or "main"))


def query_arrow(spark: Any, query: str) -> Any:
    """A query's result as an Arrow table (Spark's own Arrow conversion). Spark's timestamps
    are instants (the session time zone is UTC); they come back as the other engines give
    them, naive UTC."""
    import pyarrow as pa

    table = spark.sql(query).toArrow()
    fields = [pa.field(f.name, pa.timestamp(f.type.unit), f.nullable)
              if pa.types.is_timestamp(f.type) and f.type.tz is not None else f for f in table.schema]
    return table.cast(pa.schema(fields)) if fields != list(table.schema) else table


def refresh_information_schema(spark: Any) -> None:
    """Spark has no ``information_schema``: database ``information_schema`` with tables
    ``tables`` and ``columns`` (the standard's leading columns) from the catalogue, for the
    expectations that ask it (``expectations/marts/*_no_pii.json``)."""
    import pyarrow as pa

    listed = tables(spark)
    cols: dict[str, list[Any]] = {"table_schema": [], "table_name": [], "column_name": [], "ordinal_position": [],
                                  "data_type": []}
    for schema, name in listed:
        if schema == "information_schema":
            continue
        for i, c in enumerate(spark.catalog.listColumns(name, schema), start=1):
            for k, v in zip(cols, (schema, name, c.name, i, c.dataType), strict=True):
                cols[k].append(v)
    spark.sql("create database if not exists information_schema")
    replace_table(spark, "information_schema.columns", pa.table(
        cols, schema=pa.schema([(k, pa.int64() if k == "ordinal_position" else pa.string()) for k in cols])))
    kinds = {(db.name, t.name): ("VIEW" if t.tableType == "VIEW" else "BASE TABLE")
             for db in spark.catalog.listDatabases() for t in spark.catalog.listTables(db.name)}
    own = [(s, n) for s, n in listed if s != "information_schema"]
    replace_table(spark, "information_schema.tables", pa.table(
        {"table_schema": [s for s, _ in own], "table_name": [n for _, n in own],
         "table_type": [kinds.get(k, "BASE TABLE") for k in own]}))


def tables(spark: Any, where_schemas: list[str] | None = None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for db in spark.catalog.listDatabases():
        if where_schemas is not None and db.name not in where_schemas:
            continue
        for t in spark.catalog.listTables(db.name):
            # <model>__dbt_next: the incremental strategies' work tables (macros/spark.sql)
            if not t.isTemporary and "__dbt_" not in t.name:
                out.append((db.name, t.name))
    return sorted(out)
