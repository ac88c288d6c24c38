"""Every DAG imports cleanly and follows the house rules (STYLE.md, Airflow section)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN_AT_PARSE = {"duckdb", "pandas", "great_expectations", "dbt", "pyarrow", "psycopg", "requests"}


@pytest.fixture(scope="module")
def dagbag(airflow_db: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert "loyalty_nightly" in dagbag.dags


def test_house_rules(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.max_active_runs == 1, dag_id
        assert dag.doc_md, f"{dag_id} has no doc_md"
        for t in dag.tasks:
            assert t.owner and t.owner != "airflow", f"{dag_id}.{t.task_id} has no owner"


def test_io_tasks_retry_and_gates_do_not_retry_data_failures(dagbag) -> None:
    dag = dagbag.dags["loyalty_nightly"]
    tasks = {t.task_id: t for t in dag.tasks}
    for tid in ("land_shop_table", "land_surveys", "land_tickets", "publish"):
        assert tasks[tid].retries >= 2, tid
        assert tasks[tid].retry_exponential_backoff
    assert tasks["audit_report"].trigger_rule == "all_done"


def test_one_dbt_build_and_one_task_per_model(dagbag) -> None:
    """One dbt process a night (dbt.dbt_build, the warehouse's single writer, never retried by
    itself), and one task per model of the manifest, after the build, waiting in the triggerer."""
    import json

    dag = dagbag.dags["loyalty_nightly"]
    build = dag.get_task("dbt.dbt_build")
    assert build.pool == "loyalty_warehouse" and build.retries == 0
    models = {n["name"] for n in json.loads((REPO / "dbt_project/target/manifest.json").read_text())["nodes"].values()
              if n["resource_type"] == "model"}
    model_tasks = {t.task_id.removeprefix("dbt."): t for t in dag.tasks
                   if t.task_id.startswith("dbt.") and t.task_id != "dbt.dbt_build"}
    assert set(model_tasks) == models
    for t in model_tasks.values():
        assert t.upstream_task_ids == {"dbt.dbt_build"}
        assert t.start_from_trigger and t.start_trigger_args.trigger_cls.endswith("DbtNodeTrigger")
    # what follows dbt waits for the build itself (it fails when any model or test fails)
    assert "dbt.dbt_build" in dag.get_task("mart_gate").upstream_task_ids


def test_dag_file_does_not_import_heavy_libraries_at_parse_time() -> None:
    for path in (REPO / "dags").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for n in names:
                assert n.split(".")[0] not in FORBIDDEN_AT_PARSE, f"{path.name} imports {n} at parse time"


def test_nothing_is_published_unless_both_gates_pass(dagbag) -> None:
    """publish runs only after the mart gate succeeded, which runs only after dbt, which runs
    only after the raw gate: a failed gate leaves last night's serving file as it was."""
    dag = dagbag.dags["loyalty_nightly"]
    publish = dag.get_task("publish")
    assert publish.trigger_rule == "all_success"
    upstream_of_publish = publish.get_flat_relative_ids(upstream=True)
    assert {"mart_gate", "dbt.dbt_build", "raw_gate", "land_surveys", "land_tickets"} <= upstream_of_publish
    assert all(dag.get_task(t).trigger_rule == "all_success" for t in upstream_of_publish)
    watcher = dag.get_task("night_failed")
    assert watcher.trigger_rule == "one_failed"
    assert set(dag.task_ids) - {"night_failed"} <= watcher.get_flat_relative_ids(upstream=True)


def test_warehouse_tasks_go_to_the_warehouse_queue(dagbag) -> None:
    """Under Celery, exactly the tasks that open the DuckDB file go to the one warehouse worker;
    the rest (extraction, raw gate, report, model tasks' failure path) to the default queue."""
    from loyalty.orchestration import dbt_config

    dag = dagbag.get_dag("loyalty_nightly")
    on_queue = {t.task_id for t in dag.tasks if t.queue == dbt_config.WAREHOUSE_QUEUE}
    assert on_queue == {"retention", "dbt.dbt_build", "mart_gate", "publish"}
    assert {t.queue for t in dag.tasks if t.task_id not in on_queue} == {"default"}
    assert all(t.pool == dbt_config.WAREHOUSE_POOL for t in dag.tasks if t.task_id in ("retention", "dbt.dbt_build"))
