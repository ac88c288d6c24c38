"""The CeleryExecutor deployment (docker-compose's ``celery`` profile), run natively: Redis as the
broker, PostgreSQL as metadata DB and result backend, scheduler, dag-processor, triggerer,
api-server and two Celery workers as separate processes.

A night triggered through the REST API succeeds; every task that opens the DuckDB warehouse ran
on the ``warehouse`` queue and its one worker, extraction and the raw gate on the other worker;
and the serving file equals, table by table and value for value, the same night's under the
LocalExecutor deployment on a copy of the same sources.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

from helpers import serving_night, serving_tables, source_connections
from loyalty.config import Settings
from loyalty.contracts import SHOP_TABLES

D1 = date(2026, 11, 21)
LOGICAL = f"{D1.isoformat()}T18:00:00Z"
# the tasks that open the warehouse file: they must all run where the file is, one at a time
WAREHOUSE_TASKS = {"retention", "dbt.dbt_build", "mart_gate", "publish"}


def _night(dep) -> tuple[str, list[dict]]:
    dep.wait_ready()
    run_id = dep.trigger(LOGICAL)
    state = dep.wait_for_run(run_id, timeout=600)
    tis = dep.task_instances(run_id)
    assert state == "success", {t["task_id"]: t["state"] for t in tis if t["state"] != "success"}
    return run_id, tis


def test_a_night_on_two_celery_workers_equals_the_local_executor_night(
    tmp_path: Path, data_dir: Path, pg_databases: Callable[[], str], redis_server: str
) -> None:
    from loyalty.generator import generate
    from loyalty.orchestration import runner
    from loyalty.orchestration.deployment import NativeDeployment
    from loyalty.orchestration.runner import DEMO_TOKEN
    from loyalty.ticket_api.server import TicketApiServer

    settings = Settings.from_env()
    generate(settings.sources_dir, scale="small", seed=5, end_date=D1)
    local_data = tmp_path / "local-data"
    shutil.copytree(settings.sources_dir, local_data / "sources")
    server = TicketApiServer(settings.tickets_jsonl, DEMO_TOKEN)
    server.start()
    runner.parse_dbt()
    try:
        # --- the Celery night --------------------------------------------------------------------
        celery = NativeDeployment.celery(tmp_path / "celery-home", pg_databases(),
                                         source_connections(settings.sources_dir, server.url, DEMO_TOKEN),
                                         broker_url=redis_server)
        with celery:
            run_id, tis = _night(celery)
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
        celery_serving = serving_tables(settings.serving_path)
        assert serving_night(settings.serving_path) == D1.isoformat()

        # --- the same night under the LocalExecutor, on a copy of the same sources --------------
        local_env = {
            "LOYALTY_DATA_DIR": str(local_data),
            "LOYALTY_WAREHOUSE": str(local_data / "warehouse" / "loyalty.duckdb"),
            **source_connections(local_data / "sources", server.url, DEMO_TOKEN),
        }
        local = NativeDeployment(home=tmp_path / "local-home", metadata_db_url=pg_databases(), extra_env=local_env)
        with local:
            _night(local)
    finally:
        server.stop()
    local_serving = serving_tables(local_data / "serving" / "loyalty.duckdb")
    assert set(celery_serving) == set(local_serving) and any(t.startswith("marts.mart_") for t in celery_serving)
    for table, rows in celery_serving.items():
        assert rows, table
        assert rows == local_serving[table], table
