"""The warehouse on PostgreSQL (``LOYALTY_DBT_TARGET=postgres``): the raw zone loaded into schema
``raw``, and the marts read back, both through ``COPY`` in CSV with DuckDB on the other side.

- ``load_raw``: every landed batch of every table is in ``raw.<table>``. A night loads only the
  batches it has not loaded yet, or whose ``_batch.json`` changed (a re-landed night), and
  deletes the rows of batches that are gone; ``raw._loaded_batches`` remembers which. The load
  ledger and the quarantine are replaced whole (they are small). Everything happens in one
  transaction: dbt never sees a half-loaded raw schema.
- ``copy_query_to_duckdb``: a query's result, typed from PostgreSQL's column types, into a
  DuckDB table (the mart gate's frames, the serving file).

The connection comes from the same variables as the dbt profile: ``LOYALTY_PG_HOST``,
``LOYALTY_PG_PORT``, ``LOYALTY_PG_USER``, ``LOYALTY_PG_PASSWORD``, ``LOYALTY_PG_DBNAME``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb

from loyalty import contracts
from loyalty.config import Settings

log = logging.getLogger(__name__)

# PostgreSQL type OID → DuckDB type (numeric takes its precision and scale from the column)
_DUCK_TYPES = {16: "BOOLEAN", 20: "BIGINT", 21: "SMALLINT", 23: "INTEGER", 25: "VARCHAR", 1042: "VARCHAR",
               1043: "VARCHAR", 700: "FLOAT", 701: "DOUBLE", 1082: "DATE", 1114: "TIMESTAMP", 1184: "TIMESTAMPTZ",
               1083: "TIME", 2950: "UUID", 114: "VARCHAR", 3802: "VARCHAR", 19: "VARCHAR"}
COPY_CHUNK = 1 << 20


def connection_kwargs() -> dict[str, Any]:
    return {
        "host": os.environ.get("LOYALTY_PG_HOST", "127.0.0.1"),
        "port": int(os.environ.get("LOYALTY_PG_PORT", "5432")),
        "user": os.environ.get("LOYALTY_PG_USER", "postgres"),
        "password": os.environ.get("LOYALTY_PG_PASSWORD", "") or None,
        "dbname": os.environ.get("LOYALTY_PG_DBNAME", "loyalty_wh"),
    }


def describe() -> str:
    """Where the warehouse is, for messages (never the password)."""
    kw = connection_kwargs()
    return f"postgresql://{kw['user']}@{kw['host']}:{kw['port']}/{kw['dbname']}"


def connect(**kwargs: Any) -> Any:
    import psycopg

    try:
        return psycopg.connect(**{k: v for k, v in connection_kwargs().items() if v is not None}, **kwargs)
    except psycopg.OperationalError as exc:
        raise RuntimeError(f"the PostgreSQL warehouse {describe()} cannot be reached ({exc}); check LOYALTY_PG_HOST, "
                           "LOYALTY_PG_PORT, LOYALTY_PG_USER, LOYALTY_PG_PASSWORD and LOYALTY_PG_DBNAME") from exc


def pg_type(duck_type: str) -> str:
    t = duck_type.upper()
    if t.startswith("DECIMAL"):
        return "numeric" + t[len("DECIMAL"):]
    return {"VARCHAR": "text", "BIGINT": "bigint", "INTEGER": "integer", "TIMESTAMP": "timestamp",
            "DATE": "date", "BOOLEAN": "boolean", "DOUBLE": "double precision"}[t]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# --- DuckDB → PostgreSQL -------------------------------------------------------------------------
def copy_duckdb_query(duck: duckdb.DuckDBPyConnection, query: str, pg: Any, table: str, columns: list[str]) -> int:
    """Append a DuckDB query's rows to the PostgreSQL ``table`` (its ``columns``, in order) with
    COPY: DuckDB writes CSV (NULL unquoted and empty, '' quoted), PostgreSQL parses it."""
    with tempfile.TemporaryDirectory(prefix="loyalty-pg-") as tmp:
        path = Path(tmp) / "rows.csv"
        duck.execute(f"copy ({query}) to {_lit(str(path))} (format csv, header false)")
        cols = ", ".join(_q(c) for c in columns)
        with pg.cursor() as cur:
            with cur.copy(f"copy {table} ({cols}) from stdin (format csv)") as copy, path.open("rb") as f:
                while chunk := f.read(COPY_CHUNK):
                    copy.write(chunk)
            return int(cur.rowcount)


# --- PostgreSQL → DuckDB -------------------------------------------------------------------------
def _duck_type(col: Any) -> str:
    if col.type_code == 1700:  # numeric
        if col.precision is not None and col.scale is not None and 0 < col.precision <= 38:
            return f"DECIMAL({col.precision}, {col.scale})"
        return "DOUBLE"
    return _DUCK_TYPES.get(col.type_code, "VARCHAR")


def copy_query_to_duckdb(pg: Any, query: str, duck: duckdb.DuckDBPyConnection, target: str) -> int:
    """Create the DuckDB table ``target`` holding a PostgreSQL query's result, each column typed
    from PostgreSQL's type (numeric(p, s) → DECIMAL(p, s), text → VARCHAR, …)."""
    with pg.cursor() as cur:
        cur.execute(f"select * from ({query}) as q limit 0")
        cols = [(c.name, _duck_type(c)) for c in cur.description]
        with tempfile.TemporaryDirectory(prefix="loyalty-pg-") as tmp:
            path = Path(tmp) / "rows.csv"
            with cur.copy(f"copy ({query}) to stdout (format csv)") as copy, path.open("wb") as f:
                for data in copy:
                    f.write(data)
            spec = "{" + ", ".join(f"{_lit(f'c{i}')}: 'VARCHAR'" for i in range(len(cols))) + "}"
            casts = ", ".join(f"cast(c{i} as {t}) as {_q(n)}" for i, (n, t) in enumerate(cols))
            duck.execute(
                f"create or replace table {target} as select {casts} from read_csv({_lit(str(path))}, header = false, "
                f"columns = {spec}, quote = '\"', escape = '\"', allow_quoted_nulls = false, auto_detect = false)")
    return int(duck.execute(f"select count(*) from {target}").fetchone()[0])  # type: ignore[index]


def query_arrow(pg: Any, query: str) -> Any:
    """A query's result as an Arrow table (typed as ``copy_query_to_duckdb`` types it)."""
    duck = duckdb.connect()
    try:
        copy_query_to_duckdb(pg, query, duck, "result")
        return duck.execute("select * from result").to_arrow_table()
    finally:
        duck.close()


def relation_exists(pg: Any, relation: str) -> bool:
    schema, _, name = relation.rpartition(".")
    row = pg.execute("select 1 from information_schema.tables where table_schema = %s and table_name = %s",
                     [schema or "public", name]).fetchone()
    return row is not None


def tables(pg: Any, where: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in pg.execute(
        f"select table_schema, table_name from information_schema.tables where {where} order by 1, 2").fetchall()]


# --- the raw zone --------------------------------------------------------------------------------
def _columns(pg: Any, schema: str, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in pg.execute(
        "select column_name, data_type from information_schema.columns where table_schema = %s and table_name = %s "
        "order by ordinal_position", [schema, table]).fetchall()]


def _create(pg: Any, table: str, columns: dict[str, str]) -> None:
    pg.execute(f"create table {table} (" + ", ".join(f"{_q(c)} {pg_type(t)}" for c, t in columns.items()) + ")")


def _fingerprint(batch: Path) -> str:
    """What identifies a landed batch's content: its ledger record (rows, checksum, extraction time)."""
    meta = batch / "_batch.json"
    h = hashlib.sha256(meta.read_bytes() if meta.exists() else b"")
    part = batch / "part-0.parquet"
    h.update(str(part.stat().st_size if part.exists() else -1).encode())
    return h.hexdigest()


def load_raw(settings: Settings, also: Iterable[Callable[[Any, Settings], None]] = ()) -> dict[str, int]:
    """Bring ``raw.<table>`` up to date with the raw zone (see the module's docstring); returns
    the rows each table holds. ``also``: more loads in the same transaction (the audit results)."""
    counts: dict[str, int] = {}
    duck = duckdb.connect()
    loaded = deleted = 0
    try:
        with connect() as pg:  # one transaction, committed on success
            pg.execute("create schema if not exists raw")
            pg.execute("create table if not exists raw._loaded_batches (table_name text, batch_id text, "
                       "fingerprint text, primary key (table_name, batch_id))")
            for name, table in contracts.ALL_TABLES.items():
                rel = f"raw.{_q(name)}"
                cols = {c.name: c.type for c in (*table.columns, *contracts.RAW_METADATA_COLUMNS)}
                have = _columns(pg, "raw", name)
                if [c for c, _ in have] != list(cols):  # new, or the contract changed: load it again whole
                    pg.execute(f"drop table if exists {rel}")
                    pg.execute("delete from raw._loaded_batches where table_name = %s", [name])
                    _create(pg, rel, cols)
                known = dict(pg.execute("select batch_id, fingerprint from raw._loaded_batches where table_name = %s",
                                        [name]).fetchall())
                on_disk = {d.name.split("=", 1)[1]: d for d in (settings.raw_dir / name).glob("batch_id=*")
                           if (d / "part-0.parquet").exists()}
                prints = {b: _fingerprint(d) for b, d in on_disk.items()}
                stale = [b for b in known if prints.get(b) != known[b]]
                fresh = sorted(b for b in on_disk if known.get(b) != prints[b])
                if stale:
                    pg.execute(f"delete from {rel} where _batch_id = any(%s)", [stale])
                    pg.execute("delete from raw._loaded_batches where table_name = %s and batch_id = any(%s)",
                               [name, stale])
                    deleted += len(stale)
                for batch in fresh:
                    part = on_disk[batch] / "part-0.parquet"
                    present = {r[0] for r in duck.execute(f"describe select * from read_parquet({_lit(str(part))})").fetchall()}
                    select = ", ".join(_q(c) if c in present else f"null::{t} as {_q(c)}" for c, t in cols.items())
                    copy_duckdb_query(duck, f"select {select} from read_parquet({_lit(str(part))})", pg, rel, list(cols))
                    pg.execute("insert into raw._loaded_batches values (%s, %s, %s)", [name, batch, prints[batch]])
                    loaded += 1
                counts[name] = int(pg.execute(f"select count(*) from {rel}").fetchone()[0])
            _replace_ledger(pg, settings)
            _replace_quarantine(pg, duck, settings)
            for load in also:
                load(pg, settings)
    finally:
        duck.close()
    log.info("raw zone loaded into PostgreSQL %s: %d batch(es) copied, %d removed; %s", describe(), loaded, deleted,
             ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def _replace_ledger(pg: Any, settings: Settings) -> None:
    pg.execute("drop table if exists raw.load_ledger")
    _create(pg, "raw.load_ledger", {**contracts.LEDGER_COLUMNS, "is_reconciled": "BOOLEAN"})
    rows = []
    for f in sorted(settings.raw_dir.glob("*/batch_id=*/_batch.json")):
        rec = json.loads(f.read_text())
        values = [rec.get(c) for c in contracts.LEDGER_COLUMNS]
        counts = [rec.get(c) for c in ("rows_read", "rows_landed", "rows_quarantined", "rows_duplicate")]
        ok = None if None in counts else counts[0] == counts[1] + counts[2] + counts[3]
        rows.append([*(None if v is None else (v if isinstance(v, int) else str(v)) for v in values), ok])
    if rows:
        with pg.cursor() as cur:
            cols = ", ".join(_q(c) for c in (*contracts.LEDGER_COLUMNS, "is_reconciled"))
            with cur.copy(f"copy raw.load_ledger ({cols}) from stdin") as copy:
                for r in rows:
                    copy.write_row(r)


def _replace_quarantine(pg: Any, duck: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    from loyalty.extract.batches import quarantine_glob

    pg.execute("drop table if exists raw.quarantine")
    _create(pg, "raw.quarantine", contracts.QUARANTINE_COLUMNS)
    if list(settings.quarantine_dir.glob("*/batch_id=*/part-0.parquet")):
        select = ", ".join(f"{_q(c)}::{t}" for c, t in contracts.QUARANTINE_COLUMNS.items())
        copy_duckdb_query(duck, f"select {select} from read_parquet({_lit(quarantine_glob(settings))}, union_by_name=true)",
                          pg, "raw.quarantine", list(contracts.QUARANTINE_COLUMNS))
