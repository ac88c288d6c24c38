"""The warehouse engine, one setting for the whole night: ``LOYALTY_DBT_TARGET`` (the dbt target
of ``dbt_project/profiles.yml``: ``duckdb``, the default, ``postgres`` or ``spark``).

``Engine`` is what every step may ask of the warehouse; ``DuckDBEngine``, ``PostgresEngine`` and
``SparkEngine`` implement it, the last two by calling ``loyalty.warehouse.postgres`` and
``loyalty.warehouse.spark`` (which know nothing of this module). ``open_engine`` picks one by name.
Every step that touches the warehouse goes through ``open_engine``:

- the register step of ``dbt.dbt_build`` exposes (DuckDB, Spark: views over the Parquet) or
  loads (PostgreSQL: ``COPY`` of the batches it does not hold yet) the raw zone;
- the mart gate reads the marts' frames from it;
- publish copies the marts and BI dimensions from it into the serving file (and Parquet);
- retention archives validation rows in it; the watcher asks it for the newest built night.

    with open_engine(settings) as wh:
        if wh.relation_exists("marts.mart_churn"):
            table = wh.to_arrow("select * from marts.mart_churn")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import duckdb

from loyalty.config import Settings
from loyalty.warehouse import postgres, raw, spark
from loyalty.warehouse.dbt_project import target_name


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


class Engine:
    """One engine's connection for reading (opened on first use, closed by ``close``)."""

    name = ""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._connection: Any = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> Any:
        """A new reading connection (``connection`` opens it on first use)."""
        raise NotImplementedError

    @property
    def connection(self) -> Any:
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def describe(self) -> str:
        raise NotImplementedError

    def exists(self) -> bool:
        return True

    def register_raw(self, also: Iterable[Callable[[Any, Settings], None]] = ()) -> dict[str, int]:
        raise NotImplementedError

    def relation_exists(self, relation: str) -> bool:
        raise NotImplementedError

    def to_arrow(self, query: str) -> Any:
        raise NotImplementedError

    def dialect(self, query: str) -> str:
        """An expectation's query (written in the SQL DuckDB and PostgreSQL share) in this
        engine's dialect."""
        return query

    def tables(self, where: str) -> list[tuple[str, str]]:
        """(schema, table) of ``information_schema.tables`` rows matching ``where``."""
        raise NotImplementedError

    def copy_into(self, duck: duckdb.DuckDBPyConnection, relations: list[tuple[str, str]]) -> None:
        """Create each ``schema.table`` in the DuckDB connection ``duck`` with this engine's rows."""
        raise NotImplementedError

    def execute(self, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn`` on a writing connection, committed (retention's archive)."""
        raise NotImplementedError

    def newest_built_night(self) -> str | None:
        """The night of the last completed dbt build (``intermediate.int_build_watermark``)."""
        if not self.exists() or not self.relation_exists("intermediate.int_build_watermark"):
            return None
        rows = self.to_arrow("select max(batch_id) as night from intermediate.int_build_watermark").to_pylist()
        night = rows[0]["night"] if rows else None
        return str(night) if night is not None else None


class DuckDBEngine(Engine):
    name = "duckdb"

    def _connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(self.settings.warehouse_path), read_only=True)
        con.execute("set enable_progress_bar = false")
        con.execute("set enable_caching_operators = false")  # a DuckDB 2.0.0 assertion (profiles.yml)
        return con

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.connection  # type: ignore[no-any-return]

    def describe(self) -> str:
        return str(self.settings.warehouse_path)

    def exists(self) -> bool:
        return self.settings.warehouse_path.exists()

    def register_raw(self, also: Iterable[Callable[[Any, Settings], None]] = ()) -> dict[str, int]:
        self.close()
        return raw.register_raw(self.settings, also=also)

    def relation_exists(self, relation: str) -> bool:
        schema, _, name = relation.rpartition(".")
        return bool(self.con.execute("select 1 from information_schema.tables where table_schema = ? and table_name = ?",
                                     [schema or "main", name]).fetchall())

    def to_arrow(self, query: str) -> Any:
        return self.con.sql(query).to_arrow_table()

    def tables(self, where: str) -> list[tuple[str, str]]:
        return [tuple(r) for r in self.con.execute(
            f"select table_schema, table_name from information_schema.tables where {where} order by 1, 2").fetchall()]

    def copy_into(self, duck: duckdb.DuckDBPyConnection, relations: list[tuple[str, str]]) -> None:
        self.close()
        duck.execute(f"attach {_lit(str(self.settings.warehouse_path))} as wh (read_only)")
        try:
            for schema, name in relations:
                duck.execute(f"create schema if not exists {schema}")
                duck.execute(f"create table {schema}.{name} as select * from wh.{schema}.{name}")
        finally:
            duck.execute("detach wh")

    def execute(self, fn: Callable[[Any], Any]) -> Any:
        self.close()
        con = duckdb.connect(str(self.settings.warehouse_path))
        try:
            return fn(con)
        finally:
            con.close()


class PostgresEngine(Engine):
    name = "postgres"

    def _connect(self) -> Any:
        return postgres.connect(autocommit=True)

    @property
    def pg(self) -> Any:
        return self.connection

    def describe(self) -> str:
        return postgres.describe()

    def register_raw(self, also: Iterable[Callable[[Any, Settings], None]] = ()) -> dict[str, int]:
        return postgres.load_raw(self.settings, also=also)

    def relation_exists(self, relation: str) -> bool:
        return postgres.relation_exists(self.pg, relation)

    def to_arrow(self, query: str) -> Any:
        return postgres.query_arrow(self.pg, query)

    def tables(self, where: str) -> list[tuple[str, str]]:
        return postgres.tables(self.pg, where)

    def copy_into(self, duck: duckdb.DuckDBPyConnection, relations: list[tuple[str, str]]) -> None:
        for schema, name in relations:
            duck.execute(f"create schema if not exists {schema}")
            postgres.copy_query_to_duckdb(self.pg, f'select * from {schema}."{name}"', duck, f"{schema}.{name}")

    def execute(self, fn: Callable[[Any], Any]) -> Any:
        with postgres.connect() as pg:
            return fn(pg)


class SparkEngine(Engine):
    """Spark in session mode (``loyalty.warehouse.spark``). The session is shared with dbt in
    one process and outlives ``close`` (starting one costs ~6 s); the process's exit ends it."""

    name = "spark"
    _schema_refreshed = False

    def _connect(self) -> Any:
        return spark.session(self.settings)

    def close(self) -> None:
        self._connection = None  # the session stays for the process's next user (dbt, a gate)

    def describe(self) -> str:
        return spark.describe(self.settings)

    def exists(self) -> bool:
        return (spark.spark_dir(self.settings) / "metastore_db").exists()

    def register_raw(self, also: Iterable[Callable[[Any, Settings], None]] = ()) -> dict[str, int]:
        return spark.register_raw(self.settings, also=also)

    def relation_exists(self, relation: str) -> bool:
        return spark.relation_exists(self.connection, relation)

    def to_arrow(self, query: str) -> Any:
        if "information_schema." in query and not self._schema_refreshed:
            spark.refresh_information_schema(self.connection)
            self._schema_refreshed = True
        return spark.query_arrow(self.connection, query)

    def dialect(self, query: str) -> str:
        import sqlglot

        return str(sqlglot.transpile(query, read="duckdb", write="spark")[0])

    def tables(self, where: str) -> list[tuple[str, str]]:
        """Spark has no information_schema: the catalogue's tables, filtered by ``where`` in DuckDB."""
        import pyarrow as pa

        listed = spark.tables(self.connection)
        frame = pa.table({"table_schema": [s for s, _ in listed], "table_name": [n for _, n in listed]},
                         schema=pa.schema([("table_schema", pa.string()), ("table_name", pa.string())]))
        duck = duckdb.connect()
        try:
            duck.register("tables", frame)
            return [tuple(r) for r in duck.execute(f"select table_schema, table_name from tables where {where} "
                                                   "order by 1, 2").fetchall()]
        finally:
            duck.close()

    def copy_into(self, duck: duckdb.DuckDBPyConnection, relations: list[tuple[str, str]]) -> None:
        for schema, name in relations:
            duck.execute(f"create schema if not exists {schema}")
            duck.register("_spark_rows", self.to_arrow(f"select * from {schema}.`{name}`"))
            try:
                duck.execute(f"create table {schema}.{name} as select * from _spark_rows")
            finally:
                duck.unregister("_spark_rows")

    def execute(self, fn: Callable[[Any], Any]) -> Any:
        return fn(self.connection)


# --- dispatch ---------------------------------------------------------------------------------
ENGINE_CLASSES: dict[str, type[Engine]] = {"duckdb": DuckDBEngine, "postgres": PostgresEngine, "spark": SparkEngine}
ENGINES = tuple(ENGINE_CLASSES)


def engine_name() -> str:
    """The night's engine: ``LOYALTY_DBT_TARGET`` (default ``duckdb``), checked."""
    name = target_name()
    if name not in ENGINE_CLASSES:
        raise ValueError(f"LOYALTY_DBT_TARGET={name!r}: the warehouse engine must be one of {', '.join(ENGINES)} "
                         "(a target of dbt_project/profiles.yml); set it to one of them, or unset it for duckdb")
    return name


def open_engine(settings: Settings, name: str | None = None) -> Engine:
    """The engine ``name`` (default: the night's, ``engine_name()``); it connects on first use."""
    name = name or engine_name()
    if name not in ENGINE_CLASSES:
        raise ValueError(f"no warehouse engine {name!r}: the engines are {', '.join(ENGINES)} "
                         "(the targets of dbt_project/profiles.yml)")
    return ENGINE_CLASSES[name](settings)
