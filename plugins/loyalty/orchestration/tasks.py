"""What each task of the nightly DAG does. Heavy imports stay inside the functions so the
DAG file parses fast; every function reads and writes exactly its night's slice.

Failure classes: a *data* failure (a rejected survey file, a failed quality gate, a ledger
that does not reconcile) raises ``AirflowFailException`` so Airflow does not retry it;
anything else (source down, file locked) raises normally and the task's retries apply.

Each task function is ``@measured``: it logs its peak RSS when it ends, counted from the task's
start (``make bench`` reads these lines). The ``dbt`` task group's tasks are in ``loyalty.orchestration.watcher``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from airflow.sdk.exceptions import AirflowFailException

from loyalty.config import Settings
from loyalty.extract.night import Night
from loyalty.orchestration import lineage

log = logging.getLogger("loyalty.tasks")
F = TypeVar("F", bound=Callable[..., Any])


def reset_peak_rss() -> None:
    """Start the process's peak-RSS count afresh (Linux: ``/proc/self/clear_refs``), so that a
    task's figure is its own: a worker forked from a larger process (or one that ran an earlier
    task, as ``dag.test()`` does) would otherwise report that process's peak."""
    from pathlib import Path

    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:  # not Linux, or not allowed: the figure is the process's lifetime peak
        pass


def peak_rss_mb() -> float:
    """The process's peak resident memory since the last reset_peak_rss (VmHWM), in MB."""
    import re
    import resource
    from pathlib import Path

    try:
        match = re.search(r"^VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
        if match:
            return int(match.group(1)) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def log_peak_rss(what: str) -> None:
    """One line per task with its peak resident memory (read by ``make bench``)."""
    log.info("%s: peak RSS %.0f MB", what, peak_rss_mb())


def measured(fn: F) -> F:
    """Log the task's peak RSS when it ends, pass or fail. Decorate the task's own function (the
    one the DAG calls), so the figure covers everything the task did."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        reset_peak_rss()
        try:
            return fn(*args, **kwargs)
        finally:
            log_peak_rss(fn.__name__)

    return wrapper  # type: ignore[return-value]


def _release_dbt_duckdb() -> None:
    """A dbt invocation earlier in this process may still hold the warehouse (see dbt_artifacts)."""
    from loyalty.warehouse.dbt_artifacts import release_duckdb

    release_duckdb()


def night_of(logical_date: datetime) -> Night:
    return Night.for_run(logical_date, Settings.from_env().business_tz)


def business_date(logical_date: datetime) -> str:
    """Jinja macro: the night's business date (= batch id) for a run at ``logical_date``."""
    return night_of(logical_date).batch_id


def loaded_at(logical_date: datetime) -> str:
    """Jinja macro: the marts' ``_loaded_at``: the night's data-interval end (reproducible)."""
    return night_of(logical_date).end_naive.isoformat(sep=" ")


@measured
def check_config(logical_date: datetime) -> dict[str, Any]:
    settings = Settings.from_env()
    night = night_of(logical_date)
    from loyalty.warehouse.pii import MissingPIIKey, pii_key

    try:
        pii_key(settings)  # present (never logged)
    except MissingPIIKey as exc:
        raise AirflowFailException(str(exc)) from exc
    if not (settings.warehouse_path.parent.exists() or settings.data_dir.exists()):
        settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    log.info(
        "night %s: business day [%s, %s) UTC; raw zone %s; warehouse %s",
        night.batch_id, night.start_utc, night.end_utc, settings.raw_dir, settings.warehouse_path,
    )
    return {"batch_id": night.batch_id, "start_utc": night.start_utc.isoformat(), "end_utc": night.end_utc.isoformat()}


def _kept(table: str, logical_date: datetime) -> dict[str, Any] | None:
    """An older night's existing batch, kept (loyalty.extract.batches.kept_older_batch)."""
    from dataclasses import asdict

    from loyalty.extract import batches

    night = night_of(logical_date)
    rec = batches.kept_older_batch(Settings.from_env(), table, night.batch_id)
    if rec is None:
        return None
    log.info("%s: night %s is older than the newest landed night (%s): keeping its batch as landed (read %d, "
             "landed %d, quarantined %d); the source no longer holds that night's versions of rows changed since",
             table, night.batch_id, batches.later_batches(Settings.from_env(), table, night.batch_id)[-1],
             rec.rows_read, rec.rows_landed, rec.rows_quarantined)
    return asdict(rec)


@measured
def land_shop_table(table: str, logical_date: datetime, full_refresh: bool) -> dict[str, Any]:
    from dataclasses import asdict

    from loyalty.extract.schema import SourceSchemaError
    from loyalty.extract.shop import extract_table, resolve_shop_db_url

    if (kept := _kept(table, logical_date)) is not None:
        return kept
    settings = Settings.from_env()
    try:
        record = extract_table(settings, table, night_of(logical_date), resolve_shop_db_url(settings=settings),
                               full_refresh=full_refresh)
    except SourceSchemaError as exc:  # the source changed: retrying cannot help
        raise AirflowFailException(str(exc)) from exc
    lineage.declare_landing(settings, table)
    return asdict(record)


@measured
def land_surveys(logical_date: datetime, full_refresh: bool) -> dict[str, Any]:
    from dataclasses import asdict

    from loyalty.extract.surveys import SurveyFileError, land_surveys

    if (kept := _kept("survey_responses", logical_date)) is not None:
        return kept
    try:
        record = land_surveys(Settings.from_env(), night_of(logical_date), full_refresh=full_refresh)
    except SurveyFileError as exc:
        raise AirflowFailException(str(exc)) from exc
    lineage.declare_landing(Settings.from_env(), "survey_responses")
    return asdict(record)


@measured
def land_tickets(logical_date: datetime, full_refresh: bool) -> dict[str, Any]:
    from dataclasses import asdict

    from loyalty.extract.tickets import land_tickets
    from loyalty.extract.tickets_client import client_from_airflow_connection

    if (kept := _kept("tickets", logical_date)) is not None:
        return kept
    client = client_from_airflow_connection("loyalty_tickets_api")
    try:
        record = land_tickets(Settings.from_env(), night_of(logical_date), client, full_refresh=full_refresh)
    except Exception as exc:
        if type(exc).__name__ in ("TicketsAuthError", "AuthenticationError", "SourceSchemaError"):
            raise AirflowFailException(str(exc)) from exc
        raise
    lineage.declare_landing(Settings.from_env(), "tickets")
    return asdict(record)


def reconcile_ledger(logical_date: datetime) -> dict[str, Any]:
    """read = landed + quarantined + duplicates for every table of the night, and a summary."""
    from loyalty import contracts
    from loyalty.extract import batches

    settings = Settings.from_env()
    night = night_of(logical_date)
    summary: dict[str, Any] = {}
    problems = []
    for name in contracts.ALL_TABLES:
        rec = batches.read_record(batches.batch_dir(settings, name, night.batch_id))
        if rec is None:
            problems.append(f"{name}: no batch {night.batch_id} landed")
            continue
        ok = rec.rows_read == rec.rows_landed + rec.rows_quarantined + rec.rows_duplicate
        if not ok:
            problems.append(f"{name}: read {rec.rows_read} != landed+quarantined+duplicates")
        summary[name] = {"read": rec.rows_read, "landed": rec.rows_landed, "quarantined": rec.rows_quarantined,
                         "duplicates": rec.rows_duplicate, "reconciled": ok}
        log.info("ledger %-18s read %8d = landed %8d + quarantined %6d + duplicates %6d  %s", name,
                 rec.rows_read, rec.rows_landed, rec.rows_quarantined, rec.rows_duplicate, "OK" if ok else "MISMATCH")
    if problems:
        raise AirflowFailException("load ledger does not reconcile: " + "; ".join(problems))
    return summary


@measured
def raw_gate(logical_date: datetime) -> dict[str, Any]:
    """The load ledger of every source (it must reconcile), then the GX suites over the night's
    batches. Either failure is a data failure (no retry)."""
    from loyalty.quality.gates import GateFailed, validate_raw_night

    ledger = reconcile_ledger(logical_date)
    lineage.declare_raw_gate(Settings.from_env())
    try:
        results = validate_raw_night(Settings.from_env(), night_of(logical_date).batch_id)
    except GateFailed as exc:
        raise AirflowFailException("raw gate failed:\n" + str(exc)) from exc
    return {"ledger": ledger, "suites": {table: str(res)[:200] for table, res in results.items()}}


@measured
def retention(logical_date: datetime) -> dict[str, Any]:
    _release_dbt_duckdb()
    from loyalty.quality.retention import apply_retention

    return apply_retention(Settings.from_env(), night_of(logical_date).batch_id)


@measured
def mart_gate(logical_date: datetime) -> str:
    _release_dbt_duckdb()
    from loyalty.quality.gates import GateFailed, validate_marts

    lineage.declare_mart_gate(Settings.from_env())
    try:
        res = validate_marts(Settings.from_env(), night_of(logical_date).batch_id)
    except GateFailed as exc:
        raise AirflowFailException(str(exc)) from exc
    return str(res)[:500]


@measured
def publish(logical_date: datetime) -> str:
    _release_dbt_duckdb()
    from airflow.sdk.exceptions import AirflowSkipException

    from loyalty.warehouse.publish import NewerNightPublished, publish

    settings = Settings.from_env()
    try:
        path = str(publish(settings, night_of(logical_date).batch_id))
    except NewerNightPublished as exc:  # never backwards: skipped, no Asset event
        raise AirflowSkipException(str(exc)) from exc
    lineage.emit_publication(settings)
    return path


def night_failed(context: Any) -> None:
    """Fail the run, naming the tasks that failed (the watcher task, trigger rule one_failed)."""
    dag_run = context.get("dag_run")
    failed: list[str] = []
    try:
        failed = sorted({ti.task_id for ti in dag_run.get_task_instances(state=["failed"])})  # type: ignore[union-attr]
    except Exception:  # pragma: no cover - the SDK's DagRun may not offer it
        pass
    raise AirflowFailException(
        f"night {night_of(context['logical_date']).batch_id} failed" + (f": {', '.join(failed)}" if failed else "")
        + "; see those tasks' logs and the audit report"
    )


@measured
def audit_report(logical_date: datetime) -> str:
    from loyalty.quality.morning import write_night_reports

    settings = Settings.from_env()
    batch_id = night_of(logical_date).batch_id
    evidence, path, morning = write_night_reports(settings, batch_id)
    log.info("EVIDENCE:     %s (sha256 %s); check it with: loyalty verify --night %s", evidence[0], evidence[1], batch_id)
    if morning is not None:  # drawn from the serving file: only for the night it holds
        log.info("MORNING:      %s", morning)
    else:
        log.info("no morning report: night %s is not the one being served", batch_id)
    try:
        from loyalty.quality.gates import data_docs_index

        docs = data_docs_index(settings)
    except Exception:  # pragma: no cover
        docs = settings.data_dir / "gx"
    log.info("AUDIT REPORT: %s", path)
    log.info("DATA DOCS:    %s", docs)
    return str(path)
