"""One ``dbt build`` a night, one Airflow task per model: cosmos's *watcher* pattern, lean.
``loyalty.orchestration.dbt_config.nightly_dbt_group`` draws the ``dbt`` task group from these:

- ``dbt.dbt_build`` (``NightlyDbtBuild``): the producer, holding the warehouse pool (one
  writer). It registers the raw zone and the audit views on the night's engine
  (``LOYALTY_DBT_TARGET``, read when it runs), rebuilds everything (``--full-refresh``) when the
  night is older than the warehouse's newest built night, then runs the night's one ``dbt
  build`` (models and their data tests) in-process with cosmos's ``DbtBuildLocalOperator``.
  ``NodeResults``, a dbt callback, pushes one XCom per model (``status_key``: ``node__`` and the
  unique id, dots as ``__``) once the model and all its tests have finished: status, timing, message, relation and the tests'
  results. After the build it regenerates the dbt docs when the project changed.
- ``dbt.<model>`` (``DbtModelTask``): one task per model, all after the build whatever its
  outcome (``all_done``), none after another (the lineage is in the dbt docs; each task's doc
  names the models it reads). It waits for its model's XCom in the triggerer (``DbtNodeTrigger``;
  no worker process, no pool slot) and ``judge`` decides its state: *success* when the model built
  and all its tests passed, *skipped* when dbt skipped the model because something upstream
  failed (both end in the triggerer), *failed* when the model errored or a test failed: the task
  resumes in a worker and fails there, naming them, which alerts. A model the build did not report
  succeeds when the build succeeded (ephemeral or disabled), else is skipped. Without a triggerer
  (``dag.test()``) or on a retry the task polls from a worker instead. Its log shows the model's
  timing, relation and every test's result; dbt's whole log is the producer's log, and its
  ``run_results.json`` is kept under ``audit/dbt/`` (``loyalty.warehouse.dbt_artifacts``).

Why not cosmos's ``ExecutionMode.WATCHER`` as it ships (measured, see DECISIONLOG.md): its
producer pushes an XCom for every dbt event (1,062 Execution-API calls for one small night;
the producer took 29 s for an 8.7 s build), its consumers defer before the producer has
started under ``dag.test()`` and wait for ever (apache/airflow#56723, seen here), and a
retried producer skips instead of rebuilding.

Failure and recovery: a failed model fails ``dbt.dbt_build`` and the model's task; the mart
gate and publishing do not run; BI keeps the last published night. After the fix, clear
``dbt.dbt_build`` with its downstream tasks (or re-run the night): the night's one build runs
again; every model replaces exactly its night's slice, so nothing is doubled.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowRescheduleException, AirflowSkipException
from airflow.triggers.base import BaseTrigger, StartTriggerArgs, TaskSkippedEvent, TaskSuccessEvent, TriggerEvent
from cosmos.operators.local import DbtBuildLocalOperator

log = logging.getLogger("loyalty.dbt")

PRODUCER_ID = "dbt_build"
TERMINAL_PRODUCER_STATES = {"success", "failed", "skipped", "upstream_failed", "removed"}
MODEL_OK = {"success"}
TEST_OK = {"pass", "success", "warn"}
POLL_S = 1.0


def status_key(unique_id: str) -> str:
    return "node__" + unique_id.replace(".", "__")


def _ts(value: Any) -> str | None:
    """A protobuf Timestamp or dbt's ISO string as ISO 8601 (UTC), or None."""
    if not value:
        return None
    if isinstance(value, str):
        return value
    try:
        return value.ToDatetime(tzinfo=UTC).isoformat()
    except Exception:  # pragma: no cover - an unexpected type: keep what dbt sent
        return str(value)


class NodeResults:
    """Collects dbt's NodeFinished events and pushes one XCom per model (its result) and
    one per model with tests (all of them, once the last one finished)."""

    def __init__(self, tests_per_model: dict[str, list[str]], push: Callable[[str, Any], None]):
        self.tests_per_model = tests_per_model
        self.models_of_test: dict[str, list[str]] = {}
        for model, tests in tests_per_model.items():
            for t in tests:
                self.models_of_test.setdefault(t, []).append(model)
        self.push = push
        self.models: dict[str, dict[str, Any]] = {}
        self.tests: dict[str, dict[str, Any]] = {}
        self.pushed: set[str] = set()
        self._lock = threading.Lock()

    def on_event(self, event: Any) -> None:
        """dbt runner callback (dbt's threads)."""
        try:
            if event.info.name != "NodeFinished":
                return
            node = event.data.node_info
            rr = event.data.run_result
            result = {
                "unique_id": node.unique_id,
                "name": node.node_name,
                "resource_type": node.resource_type,
                "status": (node.node_status or rr.status or "").lower(),
                "started_at": _ts(node.node_started_at),
                "finished_at": _ts(node.node_finished_at),
                "execution_time": round(float(rr.execution_time or 0.0), 3),
                "message": rr.message or None,
                "failures": int(rr.num_failures or 0),
                "relation": node.node_relation.relation_name or None,
                "materialized": node.materialized or None,
            }
        except Exception:  # never let bookkeeping break the build
            log.exception("could not read a dbt NodeFinished event")
            return
        with self._lock:
            if result["resource_type"] == "test":
                self.tests[result["unique_id"]] = result
                for model in self.models_of_test.get(result["unique_id"], []):
                    self._push_model(model)
            elif result["resource_type"] in ("model", "seed", "snapshot"):
                self.models[result["unique_id"]] = result
                self._push_model(result["unique_id"])

    def _push_model(self, model: str) -> None:
        """Push the model's entry once the model and every test of it have finished."""
        res = self.models.get(model)
        expected = self.tests_per_model.get(model, [])
        if res is None or any(t not in self.tests for t in expected):
            return
        entry = dict(res)
        entry["tests"] = [self.tests[t] for t in expected]
        self.push(status_key(model), entry)
        self.pushed.add(model)

    def push_unreported(self, model_ids: list[str], reason: str) -> int:
        """After a build that stopped: a result for every model whose task would otherwise find
        none (dbt reports no event for a node it never reached), so that task ends skipped,
        naming ``reason``, instead of its reads of a missing XCom logging errors that bury the
        build's own. A model that built but some of whose tests never ran keeps its result, those
        tests counted as skipped. Returns how many were pushed."""
        n = 0
        with self._lock:
            for model in model_ids:
                if model in self.pushed:
                    continue
                res = self.models.get(model)
                if res is not None:
                    entry = dict(res)
                    entry["tests"] = [self.tests.get(t) or _not_run(t, "test", reason)
                                      for t in self.tests_per_model.get(model, [])]
                else:
                    entry = {**_not_run(model, "model", reason), "tests": []}
                self.push(status_key(model), entry)
                self.pushed.add(model)
                n += 1
        return n

    def failures(self) -> list[str]:
        lines = []
        for r in [*self.models.values(), *self.tests.values()]:
            ok = MODEL_OK if r["resource_type"] != "test" else TEST_OK
            if r["status"] not in ok and r["status"] != "skipped":
                what = f"{r['resource_type']} {r['name']}: {r['status']}"
                if r["failures"]:
                    what += f" ({r['failures']} failing rows)"
                if r["message"]:
                    what += f": {str(r['message'])[:300]}"
                lines.append(what)
        return lines


def _not_run(unique_id: str, resource_type: str, reason: str) -> dict[str, Any]:
    """The result of a node dbt never reached: skipped, with the reason."""
    return {"unique_id": unique_id, "name": unique_id.rsplit(".", 1)[-1], "resource_type": resource_type,
            "status": "skipped", "started_at": None, "finished_at": None, "execution_time": 0.0, "message": reason,
            "failures": 0, "relation": None, "materialized": None}


class NightlyDbtBuild(DbtBuildLocalOperator):
    """The producer: the night's one ``dbt build``; records each model's result as it finishes."""

    def __init__(self, *, tests_per_model: dict[str, list[str]] | None = None, model_ids: list[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tests_per_model = tests_per_model or {}
        self.model_ids = list(model_ids or [])
        self._results: NodeResults | None = None
        self._lineage: tuple[Any, Any] | None = None  # (task instance, settings) while the build runs

    def execute(self, context: Any, **kwargs: Any) -> Any:
        from loyalty.orchestration.tasks import reset_peak_rss

        reset_peak_rss()
        ti = context["ti"]
        push_lock = threading.Lock()

        def push(key: str, value: Any) -> None:
            with push_lock:
                ti.xcom_push(key=key, value=value)

        from loyalty.config import Settings
        from loyalty.warehouse.dbt_artifacts import release_duckdb
        from loyalty.warehouse.dbt_docs import generate_docs
        from loyalty.warehouse.engines import engine_name, open_engine
        from loyalty.warehouse.pii import dbt_environment, pii_key

        settings = Settings.from_env()
        # the warehouse engine is one setting for the whole night (loyalty.warehouse.engines): the
        # worker's LOYALTY_DBT_TARGET, read now, as the register step, the gates and publish read it
        profile: Any = self.profile_config  # type: ignore[has-type]  # cosmos sets it, untyped
        self.profile_config = dataclasses.replace(profile, target_name=engine_name())
        # the PII key reaches dbt through this process's environment only (never a template field,
        # an XCom or SQL); restored afterwards
        secret_env = dbt_environment(pii_key(settings), self.profile_config.target_name)
        saved_env = {k: os.environ.get(k) for k in secret_env}
        os.environ.update(secret_env)
        release_duckdb()
        from loyalty.orchestration.tasks import business_date

        with open_engine(settings) as wh:
            newest = wh.newest_built_night()
        night = business_date(context["logical_date"])
        if newest is not None and night < newest:
            # the incremental facts hold versions landed after this night: rebuild every model from
            # the raw batches up to it (staging reads none later), which reproduces the night
            log.info("night %s is older than the warehouse's newest built night %s: rebuilding every model from the "
                     "raw batches up to %s (--full-refresh); the serving file keeps the newest night", night, newest,
                     night)
            self.full_refresh = True
        from loyalty.orchestration import lineage
        from loyalty.quality.results import register_audit_views

        self._lineage = (ti, settings)
        registered = datetime.now(UTC)
        with open_engine(settings) as wh:
            counts = wh.register_raw(also=(register_audit_views,))
        lineage.emit_registration(ti, settings, list(counts), registered)
        log.info("raw zone registered in the warehouse (%s, %s): %s", wh.name, wh.describe(),
                 ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        self._results = NodeResults(self.tests_per_model, push)
        self._dbt_runner_callbacks = [self._results.on_event]
        log.info("dbt build of the night: each model's task (dbt.<model>) shows its result and its tests'")
        try:
            result = super().execute(context, **kwargs)
        except Exception as exc:
            failed = self._results.failures()
            self._results.push_unreported(
                self.model_ids, f"not built: the night's dbt build stopped before it (see task dbt.{PRODUCER_ID})")
            if failed:
                raise AirflowException(
                    "dbt build failed:\n  " + "\n  ".join(failed)
                    + "\nThe marts were not gated or published; BI keeps the last published night. After the fix, "
                    "clear this task with its downstream tasks (or re-run the night)."
                ) from exc
            raise
        finally:
            release_duckdb()
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        try:  # the lineage page, when the project changed: for readers, never a reason to fail the night
            generate_docs(settings, {k: str(v) for k, v in (self.env or {}).items()})
        except Exception:
            log.warning("dbt docs could not be regenerated; the marts are not affected", exc_info=True)
        from loyalty.orchestration.tasks import log_peak_rss

        log_peak_rss("dbt_build")
        return result

    # OpenLineage: cosmos would merge every model's inputs and outputs into this one task's event
    # (measured: one job reading 82 datasets and writing 50); instead each model is a child job
    # of it (loyalty.orchestration.lineage), and this task's own event names no dataset
    def calculate_openlineage_events_completes(self, env: Any, project_dir: Any, dbt_command_line: Any = None) -> bool:
        """Cosmos calls it right after the build, with the build's folder: emit one job per model."""
        from loyalty.orchestration import lineage

        self.openlineage_events_completes: list[Any] = []
        if self._lineage is not None:
            ti, settings = self._lineage
            lineage.emit_dbt_build(ti, project_dir, dict(env), settings)
        return True

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        from airflow.providers.openlineage.extractors.base import OperatorLineage

        return OperatorLineage()


class DbtNodeTrigger(BaseTrigger):
    """Waits for one model's result from the producer, in the triggerer. Success ends the task
    here (no worker); anything else resumes the task, which fails or skips with the reason."""

    def __init__(self, model_unique_id: str, producer_task_id: str, poll_s: float = POLL_S,
                 dag_id: str | None = None, run_id: str | None = None) -> None:
        super().__init__()
        self.model_unique_id = model_unique_id
        self.producer_task_id = producer_task_id
        self.poll_s = poll_s
        self.dag_id = dag_id
        self.run_id = run_id

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"model_unique_id": self.model_unique_id, "producer_task_id": self.producer_task_id,
                 "poll_s": self.poll_s, "dag_id": self.dag_id, "run_id": self.run_id})

    def _ids(self) -> tuple[str, str]:
        ti = getattr(self, "task_instance", None)
        return (self.dag_id or ti.dag_id, self.run_id or ti.run_id)  # type: ignore[union-attr]

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from asgiref.sync import sync_to_async

        dag_id, run_id = self._ids()
        fetch = sync_to_async(lambda: poll_result(dag_id, run_id, self.producer_task_id, self.model_unique_id))
        while True:
            result, producer_state = await fetch()
            if result is not None:
                outcome, lines = judge(result)
                # one record: the triggerer may drop the records a trigger logs last before its
                # event ends the task (seen: the test lines and "tests passed" of a success lost)
                self.log.info("%s", "\n".join(lines))
                if outcome == "success":
                    yield TaskSuccessEvent()
                elif outcome == "skipped":
                    self.log.info("%s", result.get("message") or "skipped by dbt: a model or test upstream of it failed")
                    yield TaskSkippedEvent()
                else:  # resume in a worker: the task fails there with the reason, and alerts
                    yield TriggerEvent({"result": result})
                return
            if producer_state in TERMINAL_PRODUCER_STATES:
                if producer_state == "success":  # not run by the build (an ephemeral or disabled model)
                    self.log.info("not run by the build (an ephemeral or disabled model)")
                    yield TaskSuccessEvent()
                else:
                    self.log.info("not built: the night's dbt build ended %s before it", producer_state)
                    yield TaskSkippedEvent()
                return
            await asyncio.sleep(self.poll_s)


def poll_result(dag_id: str, run_id: str, producer_task_id: str, model_unique_id: str) -> tuple[Any, str | None]:
    """The model's pushed result (or None) and the producer's state, read through the task SDK."""
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
    from airflow.sdk.execution_time.xcom import XCom

    result = XCom.get_one(run_id=run_id, key=status_key(model_unique_id), task_id=producer_task_id, dag_id=dag_id,
                          map_index=-1)
    state = None
    if result is None:
        states = RuntimeTaskInstance.get_task_states(dag_id=dag_id, task_ids=[producer_task_id], run_ids=[run_id])
        raw = states.get(run_id, {}).get(producer_task_id)
        state = str(getattr(raw, "value", raw)) if raw is not None else None
        if state in TERMINAL_PRODUCER_STATES:  # it may have pushed just before it ended
            result = XCom.get_one(run_id=run_id, key=status_key(model_unique_id), task_id=producer_task_id,
                                  dag_id=dag_id, map_index=-1)
    return result, state


def judge(result: dict[str, Any]) -> tuple[str, list[str]]:
    """'success' | 'failed' | 'skipped', and the log lines that show the model and its tests."""
    lines = [f"model {result['name']}: {result['status']} in {result['execution_time']:.2f} s "
             f"(started {result.get('started_at')}, finished {result.get('finished_at')})"
             + (f", {result['materialized']} {result['relation']}" if result.get("relation") else "")]
    if result.get("message"):
        lines.append(f"  dbt: {result['message']}")
    failed_tests = []
    for t in result.get("tests", []):
        lines.append(f"  test {t['name']}: {t['status']} in {t['execution_time']:.2f} s"
                     + (f", {t['failures']} failing rows" if t.get("failures") else ""))
        if t["status"] not in TEST_OK and t["status"] != "skipped":  # skipped: another parent of it failed
            failed_tests.append(t)
    if result["status"] == "skipped":
        return "skipped", lines
    if result["status"] not in MODEL_OK or failed_tests:
        return "failed", lines
    lines.append(f"  {len(result.get('tests', []))} tests passed; dbt's full log: task dbt.{PRODUCER_ID}")
    return "success", lines


class DbtModelTask(BaseOperator):
    """One dbt model of the night's build: its state is the model's and its tests'."""

    ui_color = "#e6f1f2"
    start_from_trigger = True

    def __init__(self, *, model_unique_id: str, producer_task_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model_unique_id = model_unique_id
        self.producer_task_id = producer_task_id
        self.start_trigger_args = StartTriggerArgs(
            trigger_cls=f"{DbtNodeTrigger.__module__}.{DbtNodeTrigger.__qualname__}",
            trigger_kwargs={"model_unique_id": model_unique_id, "producer_task_id": producer_task_id},
            next_method="execute_complete",
            next_kwargs=None,
            timeout=timedelta(hours=12),
        )

    def execute(self, context: Any) -> None:
        """Without a triggerer (``dag.test()``), or on a retry: poll once; wait by rescheduling."""
        ti = context["ti"]
        result, producer_state = poll_result(ti.dag_id, ti.run_id, self.producer_task_id, self.model_unique_id)
        if result is None and producer_state not in TERMINAL_PRODUCER_STATES:
            raise AirflowRescheduleException(datetime.now(UTC) + timedelta(seconds=POLL_S))
        self._finish(result, producer_state)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> None:
        event = event or {}
        self._finish(event.get("result"), event.get("producer_state"))

    def _finish(self, result: dict[str, Any] | None, producer_state: str | None) -> None:
        name = self.model_unique_id.rsplit(".", 1)[-1]
        if result is None:
            if producer_state == "success":  # dbt did not report it (an ephemeral or disabled model)
                self.log.info("model %s: not run by the build (ephemeral or disabled)", name)
                return
            raise AirflowSkipException(f"model {name}: not built, the night's dbt build ended {producer_state} "
                                       f"before it (see task dbt.{self.producer_task_id.rsplit('.', 1)[-1]})")
        outcome, lines = judge(result)
        for line in lines:
            self.log.info("%s", line)
        if outcome == "success":
            return
        if outcome == "skipped":
            raise AirflowSkipException(f"model {name}: "
                                       + (result.get("message") or "skipped by dbt, a model or test upstream of it failed"))
        failed = [t["name"] for t in result.get("tests", []) if t["status"] not in TEST_OK | {"skipped"}]
        what = (f"model {name} failed: {result.get('message') or result['status']}" if result["status"] not in MODEL_OK
                else f"model {name} built, but its tests failed: {', '.join(failed)}")
        raise AirflowException(what + f". Fix it, then clear task dbt.{PRODUCER_ID} with its downstream tasks "
                                      "(or re-run the night).")
