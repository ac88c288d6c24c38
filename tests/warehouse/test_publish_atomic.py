"""Atomic publishing: a reader in another process, querying without pause while the serving
file is replaced again and again, never errors and always sees one whole version."""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from pathlib import Path

import duckdb
import pytest

from loyalty.config import Settings
from loyalty.warehouse.publish import publish, published_batch


def _build_warehouse(path: Path, version: int) -> None:
    """A warehouse whose every mart row carries the version, with a size that makes copies take time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts; create schema if not exists core")
    con.execute(f"create or replace table marts.mart_a as select range as id, {version} as v from range(200000)")
    con.execute(f"create or replace table marts.mart_b as select range as id, {version} as v from range(200000)")
    con.execute(f"create or replace table core.dim_stores as select range as store_id, {version} as v from range(50)")
    con.close()


def _reader(serving: str, stop_at: float, out: mp.Queue) -> None:
    queries = errors = 0
    versions: set[int] = set()
    mixed = 0
    while time.time() < stop_at:
        try:
            con = duckdb.connect(serving, read_only=True)
            rows = con.execute(
                "select (select min(v) from marts.mart_a), (select max(v) from marts.mart_a), "
                "(select min(v) from marts.mart_b), (select max(v) from core.dim_stores), "
                "(select batch_id from meta.publication)"
            ).fetchall()[0]
            con.close()
            queries += 1
            if len({rows[0], rows[1], rows[2], rows[3], int(rows[4])}) != 1:
                mixed += 1
            versions.add(rows[0])
        except Exception as exc:  # every error counts
            errors += 1
            out.put(("error", repr(exc)))
    out.put(("done", json.dumps({"queries": queries, "errors": errors, "mixed": mixed, "versions": sorted(versions)})))


def test_reader_sees_whole_versions_while_publishing(data_dir: Path) -> None:
    settings = Settings.from_env()
    _build_warehouse(settings.warehouse_path, 1)
    publish(settings, "1", export_parquet=False, semantic=False)  # a hand-made warehouse: no facts
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_reader, args=(str(settings.serving_path), time.time() + 6, out))
    proc.start()
    for version in range(2, 7):
        _build_warehouse(settings.warehouse_path, version)
        publish(settings, str(version), export_parquet=(version == 6), semantic=False)
    proc.join(30)
    results = []
    while not out.empty():
        results.append(out.get())
    errors = [r for r in results if r[0] == "error"]
    summary = json.loads(next(r[1] for r in results if r[0] == "done"))
    assert errors == [] and summary["errors"] == 0
    assert summary["mixed"] == 0
    assert summary["queries"] > 20 and len(summary["versions"]) >= 2
    assert published_batch(settings.serving_path) == "6"
    assert (settings.serving_path.parent / "parquet" / "mart_a.parquet").exists()
    print(f"concurrent reader: {summary}")


def test_publish_refuses_an_empty_warehouse(data_dir: Path) -> None:
    settings = Settings.from_env()
    settings.warehouse_path.parent.mkdir(parents=True)
    duckdb.connect(str(settings.warehouse_path)).close()
    with pytest.raises(RuntimeError, match="no marts"):
        publish(settings, "x", semantic=False)
    assert not settings.serving_path.exists()
