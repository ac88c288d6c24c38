"""A night's stages in one process, without Airflow: the same functions the DAG's tasks call,
in the DAG's order (retention, land, ledger and raw gate, register, ``dbt build`` as a ``dbt``
process, docs, mart gate, publish, then the audit step: evidence manifest, audit report and,
for the night being served, the morning report), on the DuckDB target only. What only Airflow
does is left out: task instances, XComs, the OpenLineage events. The pipeline benchmark's floor
(``loyalty.bench.pipeline``, ``make bench``'s ``stages`` mode) and the engine test's DuckDB
reference nights run it."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import Any


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dbt_build(night: Any, *, full_refresh: bool, target_path: Path | None = None) -> tuple[float, dict[str, Any]]:
    from loyalty.config import DBT_PROJECT_DIR, night_env
    from loyalty.warehouse.dbt_project import BUILD_FLAGS, dbt_executable

    env = {**os.environ, **night_env(night.batch_id, loaded_at=night.end_naive.isoformat(sep=" "))}
    cmd = [dbt_executable(), "build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target", "duckdb", *BUILD_FLAGS, "--quiet"]
    target = DBT_PROJECT_DIR / "target"
    if target_path is not None:
        target = target_path
        cmd += ["--target-path", str(target), "--log-path", str(target / "logs")]
    if full_refresh:
        cmd.append("--full-refresh")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"dbt build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes: dict[str, Any] = {"models": sum(r["unique_id"].startswith("model.") for r in results)}
    nodes["tests"] = len(results) - nodes["models"]
    # the build's profile: each model's own time, and its data tests' together
    nodes["model_s"] = {r["unique_id"].rsplit(".", 1)[-1]: round(r["execution_time"], 2)
                        for r in results if r["unique_id"].startswith("model.")}
    nodes["tests_s"] = round(sum(r["execution_time"] for r in results if not r["unique_id"].startswith("model.")), 2)
    return elapsed, nodes


def stages_night(day: date, *, full: bool, shop_url: str, tickets_url: str, token: str,
                 target_path: Path | None = None, docs: bool = True, report: bool = True) -> dict[str, Any]:
    """One night's stages in this process, without Airflow (the DAG's tasks call the same
    functions). ``target_path``: dbt's target folder (default the project's); ``docs`` and
    ``report``: whether to generate the lineage docs and run the audit step (with retention)."""
    from loyalty import contracts
    from loyalty.config import Settings, night_env
    from loyalty.extract.night import Night
    from loyalty.extract.shop import extract_table
    from loyalty.extract.surveys import land_surveys
    from loyalty.extract.tickets import land_tickets
    from loyalty.extract.tickets_client import TicketsApiClient
    from loyalty.orchestration import tasks
    from loyalty.orchestration.runner import logical_date_for
    from loyalty.quality.gates import validate_marts, validate_raw_night
    from loyalty.quality.morning import write_night_reports
    from loyalty.quality.retention import apply_retention
    from loyalty.warehouse.dbt_docs import generate_docs
    from loyalty.warehouse.publish import publish
    from loyalty.warehouse.raw import register_raw

    settings = Settings.from_env()
    night = Night.for_business_date(day)
    t: dict[str, Any] = {}
    if report:  # the DAG runs it beside the landing, before the raw gate
        t0 = time.perf_counter()
        apply_retention(settings, night.batch_id)
        t["retention"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for table in contracts.SHOP_TABLES:
        extract_table(settings, table, night, shop_url, full_refresh=full)
    land_surveys(settings, night, full_refresh=full)
    land_tickets(settings, night, TicketsApiClient(tickets_url, token), full_refresh=full)
    t["land"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    tasks.reconcile_ledger(logical_date_for(day))
    validate_raw_night(settings, night.batch_id)
    t["raw_gate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    from loyalty.quality.results import register_audit_views

    register_raw(settings, also=(register_audit_views,))
    t["register_raw"] = time.perf_counter() - t0
    t["dbt_build"], nodes = dbt_build(night, full_refresh=full, target_path=target_path)
    if docs:
        t0 = time.perf_counter()
        generate_docs(settings, night_env(night.batch_id, loaded_at=night.end_naive.isoformat(sep=" ")))
        t["dbt_docs"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    validate_marts(settings, night.batch_id)
    t["mart_gate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    publish(settings, night.batch_id)
    t["publish"] = time.perf_counter() - t0
    if report:
        t0 = time.perf_counter()  # the DAG's audit_report task: evidence, audit report, morning report
        write_night_reports(settings, night.batch_id)
        t["audit_report"] = time.perf_counter() - t0
    t["total"] = sum(t.values())
    t["gate_share"] = (t["raw_gate"] + t["mart_gate"]) / t["total"]
    out: dict[str, Any] = {k: round(v, 3) for k, v in t.items()}
    out.update({f"dbt_{k}": v for k, v in nodes.items()})
    out["peak_rss_mb"] = round(_rss_mb())
    return out
