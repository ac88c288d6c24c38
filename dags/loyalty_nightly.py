"""
### Nightly loyalty load

Every night at 02:00 Asia/Shanghai this DAG loads the **previous business day**:

1. **land** every shop table (`land_shop_table`, one mapped task per table, `loyalty_shop_db`),
   the survey inbox (`land_surveys`) and the tickets API (`land_tickets`, `loyalty_tickets_api`)
   into the raw zone as Parquet: incremental by `updated_at`, with a lookback; bad rows go to
   quarantine with a reason; a bad survey file fails `land_surveys`. Beside them, **retention**
   removes the per-night artefacts of nights older than `LOYALTY_RETENTION_NIGHTS`;
2. **raw gate**: the load ledger must reconcile (`read = landed + quarantined + duplicates`),
   no table may quarantine too much, then Great Expectations suites over the night's batches
   (errors block);
3. **dbt**: `dbt.dbt_build` registers the raw zone in the warehouse (`LOYALTY_DBT_TARGET`: DuckDB,
   PostgreSQL or Spark), runs the night's one `dbt build` (models and their tests) and
   regenerates the dbt docs when the project changed; one task per model (`dbt.<model>`) shows
   that model's result and its tests';
4. **mart gate**: GX suites over the marts and facts (errors block);
5. **publish** the validated marts atomically to the serving file BI tools read, and update the
   `loyalty_serving` Asset (skipped for a night older than the one served);
6. **audit report** (always, pass or fail): the evidence manifest, the audit report (ledger,
   quarantine, GX and dbt results) and, for a published night, the morning report;
7. **night_failed** runs only when a task failed, and fails the run.

Re-running a night replaces exactly that night's slice. Params: `full_refresh` re-extracts
everything and rebuilds dbt incrementals from scratch.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from loyalty.config import Settings
from loyalty.contracts import SHOP_TABLES
from loyalty.orchestration import dbt_config, tasks
from loyalty.orchestration.alerts import LoyaltyFailureNotifier

SETTINGS = Settings.from_env()
# The Asset's identity does not depend on where the file lives (LOYALTY_SERVING / LOYALTY_DATA_DIR
# may move): each publish event carries the path and the night in its extra.
SERVING_ASSET = Asset(name="loyalty_serving", uri="loyalty://serving/marts")
# LOYALTY_NIGHTLY_CRON: the schedule (default 02:00 business time); "none" = triggered runs only
# (an external scheduler, or tests that must not get a scheduled run of their own).
CRON = os.environ.get("LOYALTY_NIGHTLY_CRON", "0 2 * * *")
# a task returning a dict pushes it as one XCom (the summary), not one XCom per key
IO_RETRIES = {"retries": 3, "retry_delay": timedelta(seconds=30), "retry_exponential_backoff": True}


def _ld():  # the run's logical date, from inside a task
    return get_current_context()["logical_date"]


@dag(
    dag_id="loyalty_nightly",
    schedule=None if CRON.lower() == "none" else CronTriggerTimetable(CRON, timezone=SETTINGS.business_tz),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=os.environ.get("LOYALTY_CATCHUP", "false").lower() == "true",
    max_active_runs=1,
    tags=["loyalty", "nightly", "dbt", "great-expectations"],
    # a failed task alerts (log, or LOYALTY_ALERT_WEBHOOK) naming the DAG, task, night and reason
    default_args={"owner": "data-engineering", "retries": 0, "on_failure_callback": LoyaltyFailureNotifier()},
    params={"full_refresh": Param(False, type="boolean", description="re-extract everything; rebuild dbt incrementals")},
    user_defined_macros={"business_date": tasks.business_date, "loaded_at": tasks.loaded_at},
    doc_md=__doc__,
)
def loyalty_nightly() -> None:
    @task(retries=0, multiple_outputs=False)
    def check_config() -> dict:
        return tasks.check_config(_ld())

    @task(**IO_RETRIES, multiple_outputs=False, map_index_template="{{ task.op_kwargs['table'] }}")
    def land_shop_table(table: str) -> dict:
        ctx = get_current_context()
        return tasks.land_shop_table(table, ctx["logical_date"], bool(ctx["params"]["full_refresh"]))

    @task(**IO_RETRIES, multiple_outputs=False)
    def land_surveys() -> dict:
        return tasks.land_surveys(_ld(), bool(get_current_context()["params"]["full_refresh"]))

    @task(**IO_RETRIES, multiple_outputs=False)
    def land_tickets() -> dict:
        return tasks.land_tickets(_ld(), bool(get_current_context()["params"]["full_refresh"]))

    # the per-night artefacts of nights older than the newest LOYALTY_RETENTION_NIGHTS (default 90),
    # before the raw gate renders the Data Docs index; validation rows are archived in the warehouse
    @task(pool=dbt_config.WAREHOUSE_POOL, queue=dbt_config.WAREHOUSE_QUEUE, retries=1, retry_delay=timedelta(seconds=20),
          multiple_outputs=False)
    def retention() -> dict:
        return tasks.retention(_ld())

    # the load ledger first (read = landed + quarantined + duplicates), then the GX suites;
    # data failures raise AirflowFailException: no retry
    @task(retries=2, retry_delay=timedelta(seconds=20), multiple_outputs=False)
    def raw_gate() -> dict:
        return tasks.raw_gate(_ld())

    # one dbt build a night (dbt.dbt_build: registers the night's raw batches, builds, and
    # regenerates the lineage docs when the project changed) and one task per model showing its
    # result and its tests' (loyalty.orchestration.watcher); the night reaches dbt as environment
    # variables, not --vars, so dbt keeps its partial parse
    dbt, dbt_build = dbt_config.nightly_dbt_group(
        "dbt",
        env={
            "LOYALTY_BUSINESS_DATE": "{{ business_date(logical_date) }}",
            "LOYALTY_BATCH_ID": "{{ business_date(logical_date) }}",
            "LOYALTY_LOADED_AT": "{{ loaded_at(logical_date) }}",
        },
        full_refresh="{{ params.full_refresh }}",
        callback="loyalty.warehouse.dbt_artifacts.keep_run_results",
    )

    @task(queue=dbt_config.WAREHOUSE_QUEUE, retries=2, retry_delay=timedelta(seconds=20))
    def mart_gate() -> str:
        return tasks.mart_gate(_ld())

    @task(outlets=[SERVING_ASSET], queue=dbt_config.WAREHOUSE_QUEUE, **IO_RETRIES)
    def publish() -> str:
        ctx = get_current_context()
        path = tasks.publish(ctx["logical_date"])
        ctx["outlet_events"][SERVING_ASSET].extra = {"path": path, "night": tasks.business_date(ctx["logical_date"])}
        return path

    @task(trigger_rule="all_done", retries=1, retry_delay=timedelta(seconds=20))
    def audit_report() -> str:
        return tasks.audit_report(_ld())

    @task(trigger_rule="one_failed", retries=0, on_failure_callback=None)
    def night_failed() -> None:
        """Runs only when a task failed: fails the run (the always-run audit report would
        otherwise make it look successful). The failed task itself has already alerted."""
        tasks.night_failed(get_current_context())

    cfg = check_config()
    landed = [land_shop_table.expand(table=list(SHOP_TABLES)), land_surveys(), land_tickets()]
    gate_in = raw_gate()
    gate_out = mart_gate()
    pub = publish()
    report = audit_report()
    cfg >> [*landed, retention()] >> gate_in >> dbt
    # the mart gate waits for the build, not for the model tasks: the build succeeds only when every
    # model built and every test passed; the model tasks report, beside the gate
    dbt_build >> gate_out >> pub >> report
    night_failed()


DAG = loyalty_nightly()
# the watcher sees every task: any failure anywhere fails the run
_watcher = DAG.get_task("night_failed")
for _t in DAG.tasks:
    if _t is not _watcher:
        _t >> _watcher
