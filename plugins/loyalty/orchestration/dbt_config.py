"""The dbt part of the nightly DAG: cosmos's profile and project settings, the warehouse pool
and queue, and the ``dbt`` task group (one ``dbt build`` a night, one task per model; see
``loyalty.orchestration.watcher``).

The dbt project is parsed ahead of time (``dbt parse`` writes ``target/manifest.json``; ``loyalty
setup-airflow`` and ``loyalty demo`` run it) and the task group is drawn from that manifest, so
drawing the DAG never runs dbt. The paths and flags that the warehouse
layer needs as well are in ``loyalty.warehouse.dbt_project``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cosmos import ProfileConfig, ProjectConfig
from cosmos.constants import InvocationMode

from loyalty.config import DBT_PROJECT_DIR
from loyalty.warehouse.dbt_project import BUILD_FLAGS, MANIFEST, PROFILES_YML, cache_dir, dbt_executable, target_name

WAREHOUSE_POOL = "loyalty_warehouse"
# the Celery queue of every task that opens the DuckDB warehouse file (register + build, retention,
# mart gate, publish): one worker serves it, on the machine that holds the file (DuckDB allows one
# writing process, and a reader blocks a writer). Extraction, the raw gate and the report run on
# any worker (the default queue). The LocalExecutor ignores queues.
WAREHOUSE_QUEUE = os.environ.get("LOYALTY_WAREHOUSE_QUEUE", "warehouse")

project_config = ProjectConfig(
    dbt_project_path=DBT_PROJECT_DIR,
    manifest_path=MANIFEST,
    project_name="loyalty",
    install_dbt_deps=False,  # the project uses no dbt packages (the package hub is not reachable)
)
# the target as the DAG is parsed; the build task sets it again from the worker's environment
# when it runs (loyalty.orchestration.watcher.NightlyDbtBuild)
profile_config = ProfileConfig(
    profile_name="loyalty",
    target_name=target_name(),
    profiles_yml_filepath=PROFILES_YML,
)


def manifest_models(manifest_path: Path = MANIFEST) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """The enabled models of the manifest (unique_id → node) and each model's data tests."""
    nodes = json.loads(manifest_path.read_text())["nodes"]
    models = {uid: n for uid, n in nodes.items() if n["resource_type"] == "model"}
    tests: dict[str, list[str]] = {}
    for uid, n in nodes.items():
        if n["resource_type"] == "test":
            for parent in n["depends_on"]["nodes"]:
                if parent in models:
                    tests.setdefault(parent, []).append(uid)
    return models, tests


def nightly_dbt_group(group_id: str = "dbt", *, env: dict[str, str], full_refresh: str, callback: str) -> tuple[Any, Any]:
    """The ``dbt`` task group: the night's build (``dbt.dbt_build``) and one task per model after
    it, reporting that model's result. Returns the group and the build task: what follows dbt
    waits for the build (it succeeds only when every model built and every test passed), not for
    the model tasks, which only report."""
    from airflow.sdk import TaskGroup

    from loyalty.orchestration.watcher import PRODUCER_ID, DbtModelTask, NightlyDbtBuild

    models, tests = manifest_models()
    with TaskGroup(group_id, tooltip="the night's dbt build; one task per model") as group:
        build = NightlyDbtBuild(
            task_id=PRODUCER_ID,
            project_dir=str(DBT_PROJECT_DIR),
            profile_config=profile_config,
            invocation_mode=InvocationMode.DBT_RUNNER,
            dbt_executable_path=dbt_executable(),
            install_deps=False,
            cache_dir=cache_dir(),
            manifest_filepath=str(MANIFEST),
            env=env,
            append_env=True,
            full_refresh=full_refresh,
            dbt_cmd_flags=list(BUILD_FLAGS),
            should_store_compiled_sql=False,  # one task builds every model: its SQL is in each model's docs
            callback=callback,
            emit_datasets=False,
            pool=WAREHOUSE_POOL,
            queue=WAREHOUSE_QUEUE,
            retries=0,
            tests_per_model=tests,
            model_ids=list(models),
            doc_md="The night's one `dbt build` (models and their data tests). Its log is dbt's log; each "
                   "model's own task shows that model's result and its tests'.",
        )
        producer_id = build.task_id
        tasks = {}
        for uid, node in models.items():
            tasks[uid] = DbtModelTask(
                task_id=node["name"],
                model_unique_id=uid,
                producer_task_id=producer_id,
                retries=0,
                # after the build whatever its outcome: a model's task reports that model's result,
                # also (above all) when the build failed
                trigger_rule="all_done",
                doc_md=f"**{node['name']}** ({node['config'].get('materialized')}, `{node['original_file_path']}`)"
                       f"\n\n{node.get('description') or ''}\n\nReads: "
                       + (", ".join(sorted(models[p]["name"] for p in node["depends_on"]["nodes"] if p in models))
                          or "the raw zone")
                       + f".\n\nData tests: {len(tests.get(uid, []))}.",
            )
        # every model task follows the build, none another: measured under the scheduler, a chain of
        # model tasks drawn with the lineage costs ~3 s per level (scheduler + triggerer rounds) after
        # the build (27.5 s for the 10 levels at small); the lineage is in the dbt docs, and each
        # task's doc lists the models it reads
        build >> list(tasks.values())
    return group, build
