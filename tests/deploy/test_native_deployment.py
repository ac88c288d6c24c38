"""The deployment of docker-compose.yml, run natively (``loyalty.orchestration.deployment``):
PostgreSQL as Airflow's metadata DB, the api-server, scheduler, dag-processor and triggerer as
real processes (LocalExecutor), nights triggered through Airflow's REST API and awaited.

Night 1 succeeds: one dbt build, one task per model (each ended by the triggerer), the
serving file published. Night 2 has a model that fails: the build and that model's task fail,
nothing is gated or published, BI keeps night 1, the alert names the model. After the fix,
clearing the failed build task with its downstream tasks (the documented recovery) completes
night 2, and its marts equal a full rebuild of the same warehouse.

Then the CeleryExecutor deployment (docker-compose's ``celery`` profile), run natively: Redis as
the broker, PostgreSQL as metadata DB and result backend, scheduler, dag-processor, triggerer,
api-server and two Celery workers as separate processes. Night 1 of the reference world
(tests/conftest.py), triggered through the REST API, succeeds; every task that opens the DuckDB
warehouse ran on the ``warehouse`` queue and its one worker, extraction and the raw gate on the
other worker; and the serving file equals, table by table and value for value, DuckDB's
reference night (the same stages in-process). The two tests run side by side on the two workers.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from helpers import serving_night, serving_tables, source_connections
from loyalty.config import DBT_PROJECT_DIR, Settings
from loyalty.contracts import SHOP_TABLES

pytestmark = [pytest.mark.slow]  # a real night or more: left out of `make test-fast`

D1 = date(2026, 11, 21)
D2 = date(2026, 11, 22)
BROKEN_MODEL = "int_member_period_measures"
# the tasks that open the warehouse file: on Celery they must all run where the file is, one at a time
WAREHOUSE_TASKS = {"retention", "dbt.dbt_build", "mart_gate", "publish"}


def _logical(day: date) -> str:
    return f"{day.isoformat()}T18:00:00Z"  # 02:00 Asia/Shanghai the next day: loads business day `day`


@pytest.fixture()
def deployment(tmp_path: Path, data_dir: Path, pg_database: str, webhook: list[dict]) -> Iterator[dict]:
    from loyalty.generator import generate
    from loyalty.orchestration.deployment import NativeDeployment
    from loyalty.orchestration.runner import DEMO_TOKEN
    from loyalty.ticket_api.server import TicketApiServer

    settings = Settings.from_env()
    generate(settings.sources_dir, scale="small", seed=5, end_date=D1)
    # the deployment runs a copy of the dbt project, so this test can break a model and fix it
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    server = TicketApiServer(settings.tickets_jsonl, DEMO_TOKEN)
    server.start()
    env = {
        "LOYALTY_DBT_PROJECT_DIR": str(project),
        "LOYALTY_ALERT_WEBHOOK": os.environ["LOYALTY_ALERT_WEBHOOK"],
        **source_connections(settings.sources_dir, server.url, DEMO_TOKEN),
    }
    from loyalty.orchestration import runner

    runner.parse_dbt(project_dir=project, env=env)
    dep = NativeDeployment(home=tmp_path / "airflow-home", metadata_db_url=pg_database, extra_env=env)
    try:
        with dep:
            dep.wait_ready()
            yield {"dep": dep, "settings": settings, "project": project, "env": env, "alerts": webhook}
    finally:
        server.stop()


def _states(dep, run_id: str) -> dict[str, str]:
    return {t["task_id"] + (f"[{t['map_index']}]" if t.get("map_index", -1) >= 0 else ""): t["state"]
            for t in dep.task_instances(run_id)}


def _error_events(dep, run_id: str) -> list[tuple[str, str]]:
    """(task, text) of every error-level line in the run's task logs (JSON lines, every attempt)."""
    found = []
    for ti in dep.task_instances(run_id):
        for line in dep.task_log(run_id, ti["task_id"], ti.get("map_index", -1)).splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and str(event.get("level", "")).lower() in ("error", "critical"):
                found.append((ti["task_id"], json.dumps(event, ensure_ascii=False)))
    return found


def test_nights_under_the_scheduler_a_failed_model_and_its_recovery(deployment: dict) -> None:
    from loyalty.generator import advance

    dep = deployment["dep"]
    settings: Settings = deployment["settings"]
    models = {n["name"] for n in json.loads((deployment["project"] / "target" / "manifest.json").read_text())["nodes"].values()
              if n["resource_type"] == "model"}

    # --- night 1 -------------------------------------------------------------------------------
    run1 = dep.trigger(_logical(D1))
    state = dep.wait_for_run(run1, timeout=780)
    states = _states(dep, run1)
    assert state == "success", {k: v for k, v in states.items() if v != "success"}
    assert serving_night(settings.serving_path) == D1.isoformat()
    model_tasks = {k.removeprefix("dbt."): v for k, v in states.items() if k.startswith("dbt.") and k != "dbt.dbt_build"}
    assert set(model_tasks) == models and set(model_tasks.values()) == {"success"}
    # each model's task says what dbt did with the model, from the triggerer (no worker process)
    log = dep.wait_for_log(run1, "dbt.mart_repurchase", "model mart_repurchase: success", "tests passed")
    assert "model mart_repurchase: success" in log and "tests passed" in log
    events = dep.api("GET", "/assets/events").json()
    assert any(e.get("source_run_id") == run1 for e in events.get("asset_events", []))

    # --- night 2: a model fails --------------------------------------------------------------
    model_sql = next((deployment["project"] / "models").rglob(f"{BROKEN_MODEL}.sql"))
    good_sql = model_sql.read_text()
    model_sql.write_text(good_sql.replace("select", "select no_such_column as broken,", 1))
    advance(settings.sources_dir, days=1)
    run2 = dep.trigger(_logical(D2))
    assert dep.wait_for_run(run2, timeout=780) == "failed"
    states = _states(dep, run2)
    assert states["dbt.dbt_build"] == "failed"
    assert states[f"dbt.{BROKEN_MODEL}"] == "failed"
    assert states["mart_gate"] == "upstream_failed" and states["publish"] == "upstream_failed"
    assert states["audit_report"] == "success" and states["night_failed"] == "failed"
    assert states["dbt.mart_membership"] == states["dbt.mart_churn"] == "skipped"  # downstream of it: not built
    assert serving_night(settings.serving_path) == D1.isoformat()  # BI keeps night 1
    alerts = {a["task_id"]: a for a in deployment["alerts"] if a.get("night") == D2.isoformat()}
    assert BROKEN_MODEL in alerts[f"dbt.{BROKEN_MODEL}"]["reason"]
    # the failed night's logs carry its cause at error level, and nothing else at error level: no
    # "XCom not found" from the model tasks that were never built (they skip, naming the reason)
    errors = _error_events(dep, run2)
    assert not [e for e in errors if "XCom not found" in e[1]], errors
    assert {task for task, _ in errors} <= {"dbt.dbt_build", f"dbt.{BROKEN_MODEL}", "night_failed"}, errors
    assert any(task == "dbt.dbt_build" and BROKEN_MODEL in text for task, text in errors), errors
    assert f"model {BROKEN_MODEL}" in alerts["dbt.dbt_build"]["reason"]

    # --- the fix, then clear the failed build with its downstream tasks ----------------------
    model_sql.write_text(good_sql)
    r = dep.api("POST", "/dags/loyalty_nightly/clearTaskInstances",
                json={"dry_run": False, "dag_run_id": run2, "task_ids": ["dbt.dbt_build"], "include_downstream": True,
                      "only_failed": False, "reset_dag_runs": True})
    assert r.ok, r.text
    assert dep.wait_for_run(run2, timeout=780) == "success", _states(dep, run2)
    assert serving_night(settings.serving_path) == D2.isoformat()
    assert _states(dep, run2)[f"dbt.{BROKEN_MODEL}"] == "success"

    # the recovered night's marts equal a full rebuild of the same warehouse
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dbt"))
    from dbt_util import MARTS, data_env, dbt, diff, snapshot_duckdb

    after = snapshot_duckdb(settings.warehouse_path, exclude=("_loaded_at", "_batch_id"))
    copy = settings.data_dir / "rebuild.duckdb"
    shutil.copy2(settings.warehouse_path, copy)
    env = {**data_env(settings.data_dir, copy), "LOYALTY_PII_KEY": dep.environment()["LOYALTY_PII_KEY"]}
    dbt("build", D2.isoformat(), env, "--full-refresh", "--exclude-resource-type", "unit_test", "--quiet",
        target_path=settings.data_dir / "rebuild-target", project_dir=deployment["project"])
    rebuilt = snapshot_duckdb(copy, exclude=("_loaded_at", "_batch_id"))
    for mart in MARTS:
        assert not diff(after[mart], rebuilt[mart]), f"{mart}: {diff(after[mart], rebuilt[mart])}"


def test_night_1_on_two_celery_workers_publishes_what_duckdb_publishes(
    tmp_path: Path, pg_database: str, redis_server: str, reference_sources: tuple[Path, Path],
    duckdb_reference: Callable[[], dict],
) -> None:
    from loyalty.orchestration import runner
    from loyalty.orchestration.deployment import NativeDeployment
    from loyalty.orchestration.runner import DEMO_TOKEN
    from loyalty.ticket_api.server import TicketApiServer
    from reference_world import REFERENCE_NIGHTS

    night1 = REFERENCE_NIGHTS[0]
    celery_data = tmp_path / "celery-data"
    shutil.copytree(reference_sources[0], celery_data / "sources")
    runner.parse_dbt()  # the deployment runs the project itself
    with TicketApiServer(celery_data / "sources" / "tickets.jsonl", DEMO_TOKEN) as server:
        env = {"LOYALTY_DATA_DIR": str(celery_data),
               "LOYALTY_WAREHOUSE": str(celery_data / "warehouse" / "loyalty.duckdb"),
               **source_connections(celery_data / "sources", server.url, DEMO_TOKEN)}
        celery = NativeDeployment.celery(tmp_path / "celery-home", pg_database, env, broker_url=redis_server)
        with celery:
            celery.wait_ready()
            run_id = celery.trigger(_logical(night1))
            state = celery.wait_for_run(run_id, timeout=600)
            tis = celery.task_instances(run_id)
            assert state == "success", {t["task_id"]: t["state"] for t in tis if t["state"] != "success"}
            celery_log = celery.task_log(run_id, "dbt.dbt_build")
    ran = [t for t in tis if t["state"] == "success" and t.get("hostname") and not t["task_id"].startswith("dbt.")
           or t["task_id"] == "dbt.dbt_build"]
    where = {(t["task_id"], t.get("map_index", -1)): (t["queue"], t["hostname"].split("@")[0]) for t in ran}
    on_warehouse = {task for (task, _), (queue, _) in where.items() if queue == "warehouse"}
    assert on_warehouse == WAREHOUSE_TASKS, where
    for (task, index), (queue, worker) in where.items():
        assert worker == ("worker-warehouse" if queue == "warehouse" else "worker-default"), (task, index, queue, worker)
    assert {w for _, w in where.values()} == {"worker-warehouse", "worker-default"}
    lands = [k for k in where if k[0].startswith("land_")]
    assert len(lands) == len(SHOP_TABLES) + 2 and all(where[k] == ("default", "worker-default") for k in lands), where
    assert "dbt build" in celery_log or "model" in celery_log
    celery_serving = celery_data / "serving" / "loyalty.duckdb"
    assert serving_night(celery_serving) == night1.isoformat()
    celery_night1 = serving_tables(celery_serving)
    reference = duckdb_reference()["nights"][0]
    assert set(celery_night1) == set(reference) and any(t.startswith("marts.mart_") for t in celery_night1)
    for table, rows in reference.items():
        assert rows, table
        assert celery_night1[table] == rows, f"{table} differs between the Celery night and DuckDB's reference night"
