"""What the night's tasks tell OpenLineage beyond what Airflow's provider sees by itself.

Airflow's OpenLineage provider reports the DAG run and each task's start and end (the
transport, one file per night: ``loyalty.quality.lineage_transport``); ``night_run_facet``
adds the night to every task event. A ``@task`` is opaque to the provider, so each task
declares what it read and wrote with the provider's ``emit_dataset_lineage`` (a RUNNING event
of the task's own run), names from ``loyalty.quality.lineage``:

- ``land_shop_table`` / ``land_surveys`` / ``land_tickets``: the source table, the survey inbox
  or the tickets API → the raw zone table and its quarantine (and the original survey files);
- ``raw_gate``: the raw zone tables → the validation results; ``mart_gate``: the relations
  its suites read → the validation results.

Tasks that handle many tables at once report one child job per table instead (a job reading
every table and writing every table would join each output to every input):
``dbt.dbt_build`` the registration of each raw table in the warehouse (``register.<table>``)
and, from the build's ``manifest.json`` and ``run_results.json``, one job per dbt model
(inputs: its parents; output: its relation) and per model's tests (openlineage's dbt artifact
processor, the one ``dbt-ol`` runs); ``publish`` one job per published table (warehouse
relation → serving table and its Parquet copy) and one for the semantic layer's tables. Child
runs name their parent task run and the DAG run (``parent`` facet), like the provider's.

Lineage never fails a task: every function here logs a warning and returns on an error.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loyalty.config import Settings

log = logging.getLogger("loyalty.lineage")
PRODUCER = "urn:loyalty-warehouse:loyalty.orchestration.lineage"  # the child jobs' producer (a URI), with the version


def active() -> bool:
    """OpenLineage is configured and the provider's listener is there (cheap)."""
    try:
        from airflow.providers.openlineage.api import is_openlineage_active
    except ImportError:  # the provider is not installed
        return False
    return bool(is_openlineage_active())


@contextmanager
def never_fails(what: str) -> Iterator[None]:
    try:
        yield
    except Exception:
        log.warning("OpenLineage: could not report %s; the task is not affected", what, exc_info=True)


def _producer() -> str:
    from importlib import metadata

    try:
        return f"{PRODUCER}:{metadata.version('loyalty-warehouse')}"
    except metadata.PackageNotFoundError:  # pragma: no cover
        return PRODUCER


# ---------------------------------------------------------------------------------------------
# The night, in every task event


def _logical_date(task_instance: Any) -> datetime:
    dag_run = getattr(task_instance, "dag_run", None) or task_instance.get_template_context()["dag_run"]
    return dag_run.logical_date or dag_run.run_after  # type: ignore[no-any-return]


def night_facet(task_instance: Any) -> Any:
    from loyalty.extract.night import Night
    from loyalty.quality.lineage import NightRunFacet

    batch_id = Night.for_run(_logical_date(task_instance), Settings.from_env().business_tz).batch_id
    return NightRunFacet(batchId=batch_id, dagId=task_instance.dag_id, dagRunId=task_instance.run_id)


def night_run_facet(task_instance: Any, ti_state: Any) -> dict[str, Any]:
    """The provider's ``custom_run_facets`` hook: ``loyalty_night`` on every task event."""
    from loyalty.quality.lineage import FACET

    try:
        return {FACET: night_facet(task_instance)}
    except Exception:
        log.warning("OpenLineage: no night facet for task %s", getattr(task_instance, "task_id", "?"), exc_info=True)
        return {}


# ---------------------------------------------------------------------------------------------
# What a task read and wrote (its own run)


def declare(inputs: list[Any], outputs: list[Any]) -> None:
    """The current task read ``inputs`` and wrote ``outputs`` (``openlineage`` Datasets)."""
    if not active() or not (inputs or outputs):
        return
    from airflow.providers.openlineage.api import emit_dataset_lineage
    from openlineage.client.event_v2 import InputDataset, OutputDataset

    emit_dataset_lineage(inputs=[InputDataset(namespace=d.namespace, name=d.name) for d in inputs],
                         outputs=[OutputDataset(namespace=d.namespace, name=d.name) for d in outputs])


def declare_landing(settings: Settings, table: str) -> None:
    """A landing task: its source → the raw zone table and its quarantine."""
    if not active():
        return
    from loyalty.quality import lineage as names

    with never_fails(f"the landing of {table}"):
        outputs = [names.raw_table(settings, table), names.quarantine_table(settings, table)]
        if table == "survey_responses":
            inputs = [names.survey_inbox(settings)]
            outputs.append(names.survey_files(settings))
        elif table == "tickets":
            from airflow.sdk import BaseHook

            from loyalty.extract.tickets_client import CONN_ID, base_url_from_connection

            inputs = [names.tickets_api(base_url_from_connection(BaseHook.get_connection(CONN_ID)))]
        else:
            from loyalty.extract.shop import resolve_shop_db_url

            inputs = [names.shop_table(resolve_shop_db_url(settings=settings), table)]
        declare(inputs, outputs)


def declare_raw_gate(settings: Settings) -> None:
    if not active():
        return
    from loyalty import contracts
    from loyalty.quality import lineage as names

    with never_fails("the raw gate"):
        declare([names.raw_table(settings, t) for t in contracts.ALL_TABLES], [names.validations(settings)])


def declare_mart_gate(settings: Settings) -> None:
    if not active():
        return
    from loyalty.quality import lineage as names
    from loyalty.quality.suites import load_suite, mart_suite_paths
    from loyalty.warehouse.engines import engine_name

    with never_fails("the mart gate"):
        relations = sorted({load_suite(p).table for p in mart_suite_paths()})
        declare([names.warehouse_relation(settings, r, engine_name()) for r in relations], [names.validations(settings)])


# ---------------------------------------------------------------------------------------------
# Child jobs of a task: one per table or dbt node


@dataclass(frozen=True)
class Parent:
    """The task run a child job belongs to, and its DAG run."""

    namespace: str
    job_name: str
    run_id: str
    root_job_name: str
    root_run_id: str
    night: Any  # NightRunFacet

    @classmethod
    def of(cls, task_instance: Any) -> Parent:
        from airflow.providers.openlineage.plugins.macros import (
            lineage_job_name,
            lineage_job_namespace,
            lineage_root_job_name,
            lineage_root_run_id,
            lineage_run_id,
        )

        return cls(lineage_job_namespace(), lineage_job_name(task_instance), lineage_run_id(task_instance),
                   lineage_root_job_name(task_instance), lineage_root_run_id(task_instance), night_facet(task_instance))

    def facet(self) -> Any:
        from openlineage.client.facet_v2 import parent_run

        return parent_run.ParentRunFacet(
            run=parent_run.Run(runId=self.run_id), job=parent_run.Job(namespace=self.namespace, name=self.job_name),
            root=parent_run.Root(run=parent_run.RootRun(runId=self.root_run_id),
                                 job=parent_run.RootJob(namespace=self.namespace, name=self.root_job_name)))


def child_run(parent: Parent, name: str, inputs: list[Any], outputs: list[Any], started: datetime,
              ended: datetime | None = None) -> list[Any]:
    """START and COMPLETE events of one child job ``<parent job>.<name>``."""
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import job_type_job
    from openlineage.client.uuid import generate_new_uuid

    from loyalty.quality.lineage import FACET

    producer = _producer()
    run = Run(runId=str(generate_new_uuid()), facets={"parent": parent.facet(), FACET: parent.night})
    job = Job(namespace=parent.namespace, name=f"{parent.job_name}.{name}",
              facets={"jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="AIRFLOW",
                                                              jobType="TASK", producer=producer)})
    ins = [InputDataset(namespace=d.namespace, name=d.name) for d in inputs]
    outs = [OutputDataset(namespace=d.namespace, name=d.name) for d in outputs]
    return [RunEvent(eventType=state, eventTime=when.isoformat(), run=run, job=job, producer=producer, inputs=ins,
                     outputs=outs)
            for state, when in ((RunState.START, started), (RunState.COMPLETE, ended or datetime.now(UTC)))]


def emit(events: list[Any]) -> None:
    from airflow.providers.openlineage.api import emit as provider_emit

    for e in events:
        provider_emit(e)


def emit_registration(task_instance: Any, settings: Settings, tables: list[str], started: datetime) -> None:
    """``dbt.dbt_build`` registered each raw zone table in the warehouse as ``raw.<table>``."""
    if not active():
        return
    from loyalty import contracts
    from loyalty.quality import lineage as names
    from loyalty.warehouse.engines import engine_name

    tables = [t for t in tables if t in contracts.ALL_TABLES]  # the landed tables (not the ledger's views)
    with never_fails("the registration of the raw zone"):
        parent = Parent.of(task_instance)
        engine = engine_name()
        emit([e for t in tables for e in child_run(
            parent, f"register.{t}", [names.raw_table(settings, t)],
            [names.warehouse_relation(settings, f"raw.{t}", engine)], started)])


def emit_publication(settings: Settings) -> None:
    """``publish`` (the current task) wrote each table of the serving file (and its Parquet copy)."""
    if not active():
        return
    import json

    import duckdb
    from airflow.sdk import get_current_context

    from loyalty.quality import lineage as names
    from loyalty.warehouse.engines import engine_name
    from loyalty.warehouse.semantic import semantic_manifest_path

    with never_fails("the publication"):
        started = datetime.now(UTC)
        con = duckdb.connect(str(settings.serving_path), read_only=True)
        try:
            row = con.execute("select tables_json from meta.publication").fetchone()
            tables = sorted(json.loads(row[0])) if row else []
        finally:
            con.close()
        parent = Parent.of(get_current_context()["ti"])
        engine = engine_name()
        events = []
        for t in (t for t in tables if not t.startswith("semantic.")):
            events += child_run(parent, t, [names.warehouse_relation(settings, t, engine)],
                                [names.serving_table(settings, t), names.serving_parquet(settings, t)], started)
        semantic = [t for t in tables if t.startswith("semantic.")]
        if semantic:  # MetricFlow's saved queries over the semantic models' relations
            manifest = json.loads(semantic_manifest_path().read_text())
            relations = sorted({f"{m['node_relation']['schema_name']}.{m['node_relation']['alias']}"
                                for m in manifest.get("semantic_models", [])})
            events += child_run(parent, "semantic", [names.warehouse_relation(settings, r, engine) for r in relations],
                                [d for t in semantic for d in (names.serving_table(settings, t),
                                                               names.serving_parquet(settings, t))], started)
        emit(events)


# ---------------------------------------------------------------------------------------------
# dbt: one job per model from the night's build


def dbt_events(project_dir: Path, env: dict[str, Any], parent: Parent, settings: Settings) -> list[Any]:
    """The build's events (START, and COMPLETE or FAIL, per model; per model's tests) from its
    ``target/manifest.json`` and ``run_results.json``, children of ``parent``."""
    from openlineage.common.provider.dbt import ParentRunMetadata
    from openlineage.common.provider.dbt.local import DbtLocalArtifactProcessor
    from openlineage.common.provider.dbt.utils import PRODUCER as DBT_PRODUCER

    from loyalty.quality.lineage import FACET
    from loyalty.warehouse.dbt_project import target_name

    # profiles.yml is rendered with the build's environment (env_var()); the warehouse path as
    # the rest of the night names it
    changes = {k: str(v) for k, v in env.items() if os.environ.get(k) != str(v)}
    changes["LOYALTY_WAREHOUSE"] = str(settings.warehouse_path)
    saved = {k: os.environ.get(k) for k in changes}
    os.environ.update(changes)
    try:
        processor = DbtLocalArtifactProcessor(producer=DBT_PRODUCER, job_namespace=parent.namespace,
                                              project_dir=str(project_dir), profile_name="loyalty",
                                              target=target_name(), logger=log)
        processor.should_raise_on_unsupported_command = False
        processor.dbt_run_metadata = ParentRunMetadata(
            run_id=parent.run_id, job_name=parent.job_name, job_namespace=parent.namespace,
            root_parent_job_name=parent.root_job_name, root_parent_job_namespace=parent.namespace,
            root_parent_run_id=parent.root_run_id)
        events = processor.parse().events()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    from openlineage.client.event_v2 import InputDataset

    for e in events:
        e.run.facets[FACET] = parent.night
        if e.outputs:  # a model: its inputs by name only (their schema and docs are their own job's outputs')
            e.inputs = [InputDataset(namespace=i.namespace, name=i.name, inputFacets=getattr(i, "inputFacets", None) or {})
                        for i in e.inputs]
    return events


def emit_dbt_build(task_instance: Any, project_dir: Path, env: dict[str, Any], settings: Settings) -> int:
    """Emit the night's dbt events; how many."""
    if not active():
        return 0
    with never_fails("the dbt build's models"):
        started = time.perf_counter()
        events = dbt_events(project_dir, env, Parent.of(task_instance), settings)
        parsed = time.perf_counter()
        emit(events)
        log.info("OpenLineage: %d events of the dbt build (%d runs: models, their tests) in %.2f s (artifacts read "
                 "in %.2f s)", len(events), len({e.run.runId for e in events}), time.perf_counter() - started,
                 parsed - started)
        return len(events)
    return 0


# ---------------------------------------------------------------------------------------------


def flush() -> None:
    """Write the provider's pending DAG-run events (they go through a process pool) before a
    local run returns; the next run makes a new pool, in its own environment."""
    if not active():
        return
    with never_fails("the DAG run's end"):
        from airflow.providers.openlineage.plugins.listener import get_openlineage_listener

        listener = get_openlineage_listener()
        executor, listener._executor = listener._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
