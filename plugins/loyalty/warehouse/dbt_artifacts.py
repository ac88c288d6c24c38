"""dbt's artifacts after a run in this process: its results kept for the audit trail, and the
DuckDB file it held released.

- ``keep_run_results``: cosmos runs the night's build (``dbt.dbt_build``) in a temporary copy of
  the project; this callback (the DAG gives it to cosmos as ``callback``) copies its
  ``run_results.json`` out before the copy is deleted, to ``audit/dbt/batch_id=<id>/<task_id>.json``.
- ``merged_run_results``: one ``run_results.json`` of everything dbt ran for a night (the audit
  report and the evidence manifest read it).
- ``release_duckdb``: closes the warehouse file dbt-duckdb keeps open in the process.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from loyalty.config import Settings


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a dbt invocation.

    Cosmos runs dbt in the task's own process (dbtRunner); dbt-duckdb keeps its database
    handle in a class attribute, which would hold the warehouse's write lock until the
    process ends. Under a scheduler each task is its own process; under ``dag.test()`` every
    task shares one, and the next writer (dbt docs, a gate's read-only connection) would be
    locked out.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            try:
                env.close()
            finally:
                DuckDBConnectionManager._ENV = None


def keep_run_results(project_dir: str, **kwargs: Any) -> None:
    release_duckdb()
    context = kwargs.get("context") or {}
    ti = context.get("ti")
    batch_id = context.get("params", {}).get("batch_id") or kwargs.get("batch_id")
    if batch_id is None and "logical_date" in context:
        from loyalty.extract.night import Night

        batch_id = Night.for_run(context["logical_date"]).batch_id
    src = Path(project_dir) / "target" / "run_results.json"
    if not src.exists():
        return
    out = Settings.from_env().audit_dir / "dbt" / f"batch_id={batch_id}"
    out.mkdir(parents=True, exist_ok=True)
    name = (ti.task_id if ti is not None else "dbt").replace("/", "_")
    shutil.copy2(src, out / f"{name}.json")


def merged_run_results(settings: Settings, batch_id: str) -> Path | None:
    """One run_results.json with the results of every dbt node of the night."""
    import json

    folder = settings.audit_dir / "dbt" / f"batch_id={batch_id}"
    files = sorted(folder.glob("*.json")) if folder.exists() else []
    files = [f for f in files if f.name != "run_results.json"]
    if not files:
        return None
    results: list[dict[str, Any]] = []
    for f in files:
        results.extend(json.loads(f.read_text()).get("results", []))
    out = folder / "run_results.json"
    out.write_text(json.dumps({"results": results}, indent=1))
    return out
