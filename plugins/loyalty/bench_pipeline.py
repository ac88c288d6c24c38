"""Pipeline benchmark (``make bench``): one full night and one incremental night at a scale,
timing each stage the DAG runs (land, raw gate, dbt build, mart gate, publish), so the
figures the issues ask for are printed, not asserted:

- dbt: the incremental night's build time as a share of the full build (target < 25%);
- gates: raw + mart gate time as a share of the whole night (target < 20%).

The stages run in-process in the DAG's order, without Airflow's per-task overhead (that
overhead is the same for every stage and is measured by the DAG runs in the tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

END = date(2026, 11, 21)


def _dbt_build(settings: Any, night: Any, *, full_refresh: bool) -> float:
    from loyalty.config import DBT_PROJECT_DIR, night_env
    from loyalty.orchestration.dbt_config import dbt_executable

    env = {**os.environ, **night_env(night.batch_id, loaded_at=night.end_naive.isoformat(sep=" "))}
    # the nightly build as the DAG runs it: models and data tests, no unit tests (CI runs those)
    cmd = [dbt_executable(), "build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target", "duckdb", "--exclude-resource-type", "unit_test", "--quiet"]
    if full_refresh:
        cmd.append("--full-refresh")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"dbt build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def _dbt_startup(night: Any) -> float:
    """What every dbt invocation pays before its first node: the process, the project and the
    partial parse (``dbt ls`` of one model, the night in the environment as the DAG sets it)."""
    from loyalty.config import DBT_PROJECT_DIR, night_env
    from loyalty.orchestration.dbt_config import dbt_executable

    env = {**os.environ, **night_env(night.batch_id, loaded_at=night.end_naive.isoformat(sep=" "))}
    cmd = [dbt_executable(), "ls", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target", "duckdb", "--select", "int_periods", "--quiet"]
    t0 = time.perf_counter()
    subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    return time.perf_counter() - t0


def _dbt_nodes(kind: str) -> dict[str, int]:
    from loyalty.config import DBT_PROJECT_DIR

    results = json.loads((DBT_PROJECT_DIR / "target" / "run_results.json").read_text())["results"]
    out = {"models": 0, "tests": 0}
    for r in results:
        out["models" if r["unique_id"].startswith("model.") else "tests"] += 1
    return out


def _night(settings: Any, day: date, *, full: bool, tickets_url: str, token: str) -> dict[str, float]:
    from loyalty import contracts
    from loyalty.extract.night import Night
    from loyalty.extract.shop import extract_table
    from loyalty.extract.surveys import land_surveys
    from loyalty.extract.tickets import land_tickets
    from loyalty.extract.tickets_client import TicketsApiClient
    from loyalty.quality.gates import validate_marts, validate_raw_night
    from loyalty.warehouse.publish import publish
    from loyalty.warehouse.raw import register_raw

    night = Night.for_business_date(day)
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    for table in contracts.SHOP_TABLES:
        extract_table(settings, table, night, settings.default_shop_db_url)
    land_surveys(settings, night)
    land_tickets(settings, night, TicketsApiClient(tickets_url, token))
    t["land"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    validate_raw_night(settings, night.batch_id)
    t["raw_gate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    register_raw(settings)
    t["register_raw"] = time.perf_counter() - t0
    t["dbt_build"] = _dbt_build(settings, night, full_refresh=full)
    nodes = _dbt_nodes("build")
    t0 = time.perf_counter()
    validate_marts(settings, night.batch_id)
    t["mart_gate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    publish(settings, night.batch_id)
    t["publish"] = time.perf_counter() - t0
    t["total"] = sum(v for k, v in t.items())
    t["gate_share"] = (t["raw_gate"] + t["mart_gate"]) / t["total"]
    t["dbt_startup"] = _dbt_startup(night)
    out = {k: round(v, 3) for k, v in t.items()}
    out.update({f"dbt_{k}": v for k, v in nodes.items()})
    return out


def run(scale: str, only: str | None = None) -> dict[str, Any]:
    from loyalty.config import Settings
    from loyalty.generator import advance, generate
    from loyalty.ticket_api.server import TicketApiServer

    root = Path(os.environ.get("LOYALTY_BENCH_DIR") or tempfile.mkdtemp(prefix=f"loyalty-bench-{scale}-"))
    os.environ["LOYALTY_DATA_DIR"] = str(root)
    os.environ["LOYALTY_WAREHOUSE"] = str(root / "warehouse" / "loyalty.duckdb")
    os.environ.setdefault("LOYALTY_PII_SALT", "bench-salt")
    settings = Settings.from_env()
    print(f"== pipeline benchmark, scale {scale}, in {root} ==")
    t0 = time.perf_counter()
    if not (settings.sources_dir / "state.json").exists():
        generate(settings.sources_dir, scale=scale, seed=1, end_date=END)
    print(f"  sources ready in {time.perf_counter() - t0:.1f}s")
    token = "bench-token"
    with TicketApiServer(settings.tickets_jsonl, token) as server:
        full = _night(settings, END, full=True, tickets_url=server.url, token=token)
        print(f"  night 1 (full):        {json.dumps(full)}")
        advance(settings.sources_dir, days=1)
        incr = _night(settings, END + timedelta(days=1), full=False, tickets_url=server.url, token=token)
        print(f"  night 2 (incremental): {json.dumps(incr)}")
    ratio = incr["dbt_build"] / full["dbt_build"]
    print(f"  dbt build: full {full['dbt_build']:.1f}s, incremental {incr['dbt_build']:.1f}s, "
          f"ratio {ratio:.2f} (target < 0.25)")
    print(f"  dbt fixed costs in both: start-up + partial parse {incr['dbt_startup']:.1f}s per invocation, "
          f"{incr['dbt_models']} models and {incr['dbt_tests']} data tests each with dbt's own per-node work")
    print(f"  gates: share of the night {full['gate_share']:.1%} (full), {incr['gate_share']:.1%} (incremental) "
          "(target < 20%)")
    return {"pipeline": {"scale": scale, "full_night": full, "incremental_night": incr,
                         "dbt_incremental_over_full": round(ratio, 3)}}
