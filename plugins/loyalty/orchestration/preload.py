"""Modules a task process of the nightly DAG would otherwise import on its own, every task:
Airflow's task runner and what its parse of the DAG file imports, cosmos (the DAG file), dbt
with its DuckDB adapter, Great Expectations (~3 s), DuckDB, pandas and pyarrow.

The scheduler imports this module once in its ``forkserver`` (Airflow 3.3:
``[scheduler] mp_start_method = forkserver``, ``mp_forkserver_preload =
loyalty.orchestration.preload``); the LocalExecutor's workers are forked from it and every
task process from a worker, so they start with all of it already imported (shared
copy-on-write). Nothing here opens a file, a connection or a thread.
"""

from __future__ import annotations

import gc
import importlib
import logging

MODULES = (
    "airflow.sdk.execution_time.task_runner",
    "airflow.sdk.execution_time.supervisor",
    "airflow.providers.standard.operators.python",
    # what a task process's parse of the DAG file imports (the task runner's BundleDagBag)
    "airflow.dag_processing.dagbag",
    "airflow.dag_processing.bundles.manager",
    "airflow.dag_processing.bundles.local",
    "airflow.providers.standard.decorators.python",
    "airflow.sdk.definitions.decorators",
    "airflow.sdk.bases.notifier",
    "airflow.timetables.trigger",
    "cosmos",
    "cosmos.operators.local",
    "duckdb",
    "pyarrow",
    "pyarrow.parquet",
    "pandas",
    "dbt.cli.main",
    "dbt.adapters.duckdb",
    "great_expectations",
    "loyalty.orchestration.tasks",
    "loyalty.orchestration.dbt_config",
    "loyalty.orchestration.alerts",
    "loyalty.orchestration.watcher",
    "loyalty.quality.runner",
    "loyalty.extract.shop",
    "loyalty.warehouse.publish",
)

for _name in MODULES:
    try:
        importlib.import_module(_name)
    except Exception:  # a missing optional module must never stop the scheduler
        logging.getLogger(__name__).warning("could not preload %s", _name, exc_info=True)
gc.freeze()  # the preloaded objects live for ever: keep them out of every task process's garbage collections
