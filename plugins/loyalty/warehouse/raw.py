"""Expose the raw zone to the DuckDB warehouse as schema ``raw``: a view per landed table over its
Parquet batches, ``raw.load_ledger`` over the batches' ``_batch.json`` (with ``is_reconciled``) and
``raw.quarantine`` (columns: ``contracts.LEDGER_COLUMNS``, ``QUARANTINE_COLUMNS``).

The DuckDB engine's register step (``loyalty.warehouse.engines``; PostgreSQL and Spark have
their own, in ``postgres`` and ``spark``): run once a night, after landing and before dbt, by
``dbt.dbt_build``, which holds the warehouse pool (one writer). A table with no batch yet gets an
empty view with the contract's types, so dbt always builds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import duckdb

from loyalty import contracts
from loyalty.config import Settings
from loyalty.extract import batches

log = logging.getLogger(__name__)


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _empty_select(columns: dict[str, str]) -> str:
    return "select " + ", ".join(f'null::{t} as "{c}"' for c, t in columns.items()) + " where false"


def register_raw(settings: Settings, con: duckdb.DuckDBPyConnection | None = None,
                 also: Iterable[Callable[[duckdb.DuckDBPyConnection, Settings], None]] = ()) -> dict[str, int]:
    """Create or refresh the ``raw`` views; returns the row count each view sees. ``also``: more
    views to register on the same connection (the audit views of ``loyalty.quality.results``,
    passed in by the callers: the warehouse layer does not import the quality layer)."""
    own = con is None
    if con is None:
        settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(settings.warehouse_path))
    counts: dict[str, int] = {}
    try:
        con.execute("create schema if not exists raw")
        for name, table in contracts.ALL_TABLES.items():
            files = sorted((settings.raw_dir / name).glob("batch_id=*/part-0.parquet"))
            if files:
                body = f"select * from read_parquet({_lit(batches.raw_glob(settings, name))}, union_by_name=true)"
            else:
                cols = {c.name: c.type for c in (*table.columns, *contracts.RAW_METADATA_COLUMNS)}
                body = _empty_select(cols)
            con.execute(f"create or replace view raw.{name} as {body}")
            counts[name] = con.execute(f"select count(*) from raw.{name}").fetchall()[0][0]
        if list(settings.raw_dir.glob("*/batch_id=*/_batch.json")):
            ledger_cols = "{" + ", ".join(f"'{c}': '{t}'" for c, t in contracts.LEDGER_COLUMNS.items()) + "}"
            ledger = (
                f"select *, rows_read = rows_landed + rows_quarantined + rows_duplicate as is_reconciled "
                f"from read_json({_lit(str(settings.raw_dir / '*' / 'batch_id=*' / '_batch.json'))}, columns={ledger_cols})"
            )
        else:
            ledger = _empty_select({**contracts.LEDGER_COLUMNS, "is_reconciled": "BOOLEAN"})
        con.execute(f"create or replace view raw.load_ledger as {ledger}")
        if list(settings.quarantine_dir.glob("*/batch_id=*/part-0.parquet")):
            quarantine = f"select * from read_parquet({_lit(batches.quarantine_glob(settings))}, union_by_name=true)"
        else:
            quarantine = _empty_select(contracts.QUARANTINE_COLUMNS)
        con.execute(f"create or replace view raw.quarantine as {quarantine}")
        for register in also:
            register(con, settings)
        con.execute("checkpoint")
    finally:
        if own:
            con.close()
    log.info("raw schema registered: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts
