"""The quality gates of the nightly load.

* ``validate_raw_batch``: the landed Parquet of one table and night against
  ``expectations/raw/raw_<table>.json`` (before anything is registered in the warehouse); a
  batch above ``LOYALTY_GATE_COLUMNWISE_ROWS`` rows column by column (the same results).
* ``validate_raw_night``: every landed table's suite, then the quarantine-rate guard (a table
  whose night quarantined too much fails the gate; ``quarantine_limits``).
* ``validate_marts``: every suite under ``expectations/marts/`` against a read-only query of the
  warehouse, on the night's engine (after dbt, before publishing).

A failing expectation of severity ``error`` raises :class:`GateFailed` naming the suite, the
expectation and what was observed; ``warning`` ones are logged. Results are written to
``audit/validations/batch_id=<id>/<suite>.parquet`` and Data Docs are updated, pass or fail.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from loyalty import contracts
from loyalty.config import EXPECTATIONS_DIR, Settings
from loyalty.extract import batches
from loyalty.quality import results, runner
from loyalty.quality.suites import RuleContext, Suite, bind, load_suite, mart_suite_paths, raw_suite_path

log = logging.getLogger(__name__)


class GateFailed(Exception):
    """A quality gate found a failing expectation of severity ``error``: stop the night."""


def _read_batch(parquet: Path, columns: list[str] | None = None, *, empty: bool = False) -> pd.DataFrame:
    """The landed batch as a pandas frame (``_as_frame``): ``columns`` only (None: all);
    ``empty``: its columns without rows (for the expectations on the column names)."""
    import pyarrow.parquet as pq

    if empty:
        return _as_frame(pq.read_schema(parquet).empty_table())
    return _as_frame(pq.read_table(parquet, columns=columns))


def _parquet_rows(parquet: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(parquet).metadata.num_rows)


def _parquet_columns(parquet: Path) -> set[str]:
    import pyarrow.parquet as pq

    return set(pq.read_schema(parquet).names)


def columnwise_rows() -> int:
    """Batches above this many rows are validated column by column (``runner.validate_frame``):
    the same results, in the memory of a column or two instead of the whole table."""
    return int(os.environ.get("LOYALTY_GATE_COLUMNWISE_ROWS", "5000000"))


def _as_frame(table: Any) -> pd.DataFrame:
    """An Arrow table as the pandas frame a suite validates: DECIMAL money as float64 (pandas
    would hold each amount as a Python ``Decimal`` object, several times slower to read and to
    validate, and the suites only test amounts against bounds, which float64 answers exactly
    enough); text as Arrow-backed strings (``pd.ArrowDtype``), not one Python object per value:
    a large night's ``order_items`` (24.6M rows) took 5.5 GB as objects."""
    import pyarrow as pa

    strings = {pa.string(): pd.ArrowDtype(pa.string()), pa.large_string(): pd.ArrowDtype(pa.large_string())}
    return _decimals_as_float(table).to_pandas(types_mapper=strings.get)


def _decimals_as_float(table: Any) -> Any:
    import pyarrow as pa

    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.float64()))
    return table


def _naive_utc(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


_CHECKS: dict[tuple[str, str, str | None], str] = {}  # (suite, expectation type, column) -> what it checks


def _remember_checks(suite: Suite) -> None:
    """What each expectation of ``suite`` checks and why (its meta.check), for the messages."""
    from loyalty.quality.suites import expectation_column

    for e in suite.expectations:
        check = (e.get("meta") or {}).get("check")
        if check:
            _CHECKS[(suite.name, e["type"], expectation_column(e))] = str(check)


def _failure_line(row: dict[str, Any]) -> str:
    column = f" column={row['column']}" if row.get("column") else ""
    check = _CHECKS.get((row.get("suite_name", ""), row["expectation_type"], row.get("column")))
    why = f" [{check}]" if check else ""
    return f"  - {row['expectation_type']}{column} kwargs={row['kwargs_json']}: observed {row['observed_value']}{why}"


def _report(suite_runs: list[runner.SuiteRun], gate: str, batch_id: str, where: dict[str, str]) -> list[str]:
    """Log warnings (what was checked, what was seen, and why the bound holds); return the
    failure paragraphs (one per suite with failing errors)."""
    failures = []
    for run in suite_runs:
        for row in run.failed_with("warning"):
            log.warning("%s gate, suite %s (%s, batch %s): WARNING %s", gate, run.suite_name,
                        where.get(run.suite_name, ""), batch_id, _failure_line(row).strip())
        errors = run.failed_with("error")
        if errors:
            lines = [f"suite {run.suite_name} ({where.get(run.suite_name, '')}, batch {batch_id}): "
                     f"{len(errors)} error expectation(s) failed:"]
            lines += [_failure_line(r) for r in errors]
            failures.append("\n".join(lines))
    return failures


def _summary(run: runner.SuiteRun) -> dict[str, Any]:
    return {
        "suite": run.suite_name,
        "success": not run.failed_with("error"),
        "expectations": len(run.rows),
        "failed_errors": [f"{r['expectation_type']}({r['column'] or ''})" for r in run.failed_with("error")],
        "failed_warnings": [f"{r['expectation_type']}({r['column'] or ''})" for r in run.failed_with("warning")],
        "data_docs_page": run.docs_page,
    }


def validate_raw_batch(
    settings: Settings,
    table: str,
    batch_id: str,
    expectations_dir: Path = EXPECTATIONS_DIR,
    *,
    update_docs: bool = True,
    _runs: list[runner.SuiteRun] | None = None,
) -> dict:
    """Validate ``raw/<table>/batch_id=<batch_id>/part-0.parquet``; raise GateFailed on an error.

    ``update_docs=False`` leaves the Data Docs to the caller (``validate_raw_night`` renders
    them once for all tables); the run is appended to ``_runs`` for that."""
    if table not in contracts.ALL_TABLES:
        raise ValueError(f"unknown table {table!r}; one of {', '.join(contracts.ALL_TABLES)}")
    suite = load_suite(raw_suite_path(table, expectations_dir))
    _remember_checks(suite)
    folder = batches.batch_dir(settings, table, batch_id)
    record = batches.read_record(folder)
    parquet = folder / "part-0.parquet"
    if record is None or not parquet.exists():
        run_id = runner.new_run_id("raw", batch_id)
        row = _missing_row(suite, "raw", batch_id, run_id, f"no landed batch at {folder} (_batch.json or part-0.parquet missing)")
        results.write_results(settings, batch_id, suite.name, [row])
        raise GateFailed(
            f"raw gate: suite {suite.name}: batch {batch_id} of {table} is not landed ({folder} has no "
            "_batch.json/part-0.parquet); land the night first (`loyalty land --date ...`)"
        )
    rows = _parquet_rows(parquet)
    ctx = RuleContext(
        batch_id=batch_id,
        row_count=rows,
        data_interval_end=_naive_utc(record.data_interval_end),
        mode=record.mode,
        window_start=_naive_utc(record.window_start),
        window_end=_naive_utc(record.window_end),
    )
    bound = bind(suite, ctx)
    # column by column only when every column a check reads is in the batch (a missing column
    # is reported by GX on the whole frame)
    columnwise = rows > columnwise_rows() and runner.columnwise_possible(bound.expectations,
                                                                          _parquet_columns(parquet))
    frame = None if columnwise else _read_batch(parquet)
    run_id = runner.new_run_id("raw", batch_id)
    run = runner.validate_frame(settings, bound, frame, gate="raw", batch_id=batch_id, run_id=run_id,
                                update_docs=update_docs, rows=rows,
                                read_columns=lambda columns, empty=False: _read_batch(parquet, columns, empty=empty))
    if columnwise:
        log.info("raw gate %s: %s rows validated column by column (above LOYALTY_GATE_COLUMNWISE_ROWS=%s)",
                 suite.name, f"{rows:,}", f"{columnwise_rows():,}")
    if _runs is not None:
        _runs.append(run)
    path = results.write_results(settings, batch_id, suite.name, run.rows)
    summary = {**_summary(run), "table": table, "rows": rows, "results": str(path),
               "data_docs": str(runner.docs_index_path(settings))}
    failures = _report([run], "raw", batch_id, {suite.name: f"{parquet}"})
    if failures:
        raise GateFailed(
            "raw gate failed:\n" + "\n".join(failures)
            + f"\nResults: {path}\nData Docs: {runner.docs_index_path(settings)}\n"
            "Fix the source or the extractor, then re-land and re-run the night."
        )
    log.info("raw gate %s batch %s: %d expectations passed (%d warnings)", suite.name, batch_id,
             len(run.rows) - len(run.failed), len(run.failed_with("warning")))
    return summary


def quarantine_limits() -> tuple[float, int]:
    """(share, rows): a table's night fails the raw gate when it quarantines more than ``share``
    of the rows it read and at least ``rows`` rows (``LOYALTY_MAX_QUARANTINE_SHARE``, default 5%;
    ``LOYALTY_MIN_QUARANTINE_ROWS``, default 10, so that 2 bad rows of a 20-row night do not stop it)."""
    return (float(os.environ.get("LOYALTY_MAX_QUARANTINE_SHARE", "0.05")),
            int(os.environ.get("LOYALTY_MIN_QUARANTINE_ROWS", "10")))


def quarantine_rate_problems(settings: Settings, batch_id: str) -> list[str]:
    """Tables whose night quarantined too much: a systematic problem (a changed format, a broken
    export) must not pass as a few bad rows. Each problem names the reason codes and counts."""
    import duckdb

    from loyalty.extract import batches

    share, min_rows = quarantine_limits()
    problems = []
    for table in contracts.ALL_TABLES:
        rec = batches.read_record(batches.batch_dir(settings, table, batch_id))
        if rec is None or rec.rows_read == 0:
            continue
        q = rec.rows_quarantined
        if q >= min_rows and q / rec.rows_read > share:
            qfile = batches.quarantine_dir(settings, table, batch_id) / "part-0.parquet"
            reasons = ""
            if qfile.exists():
                rows = duckdb.execute(f"select reason_code, count(*) from read_parquet('{qfile}') group by 1 order by 2 desc"
                                      ).fetchall()
                reasons = ", ".join(f"{r} {n}" for r, n in rows)
            problems.append(f"{table}: {q} of {rec.rows_read} rows read were quarantined ({q / rec.rows_read:.1%}, "
                            f"limit {share:.0%}): {reasons or 'see the quarantine'}")
    return problems


def validate_raw_night(settings: Settings, batch_id: str, expectations_dir: Path = EXPECTATIONS_DIR) -> dict:
    """The raw gate of a night: every landed table's suite, Data Docs rendered once at the end
    (pass or fail); raises GateFailed naming every failing suite."""
    runs: list[runner.SuiteRun] = []
    summaries: dict[str, Any] = {}
    failures: list[str] = []
    try:
        for table in contracts.ALL_TABLES:
            try:
                summaries[table] = validate_raw_batch(settings, table, batch_id, expectations_dir,
                                                      update_docs=False, _runs=runs)
            except GateFailed as exc:
                failures.append(str(exc))
    finally:
        runner.update_docs(settings, runs)
    rate = quarantine_rate_problems(settings, batch_id)
    if rate:
        failures.append("too much quarantined: " + "; ".join(rate) + ". Look at the reasons in the audit report's "
                        "quarantine section; if the source changed, fix it or the contract, then re-run the night")
    if failures:
        raise GateFailed("\n".join(failures))
    return summaries


def _missing_row(suite: Suite, gate: str, batch_id: str, run_id: Any, observed: str) -> dict[str, Any]:
    return {
        "run_id": runner.run_id_text(run_id), "batch_id": batch_id, "suite_name": suite.name, "gate": gate,
        "expectation_type": "expect_table_to_exist", "column": None,
        "kwargs_json": f'{{"table": "{suite.table}"}}', "severity": "error", "success": False,
        "observed_value": observed, "unexpected_count": None, "element_count": None,
        "validated_at": run_id.run_time.astimezone(UTC).replace(tzinfo=None),
    }


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def validate_marts(settings: Settings, batch_id: str, expectations_dir: Path = EXPECTATIONS_DIR) -> dict:
    """Validate every mart/fact suite against the warehouse (read only; on the engine that
    ``LOYALTY_DBT_TARGET`` names)."""
    from loyalty.warehouse.engines import open_engine

    paths = mart_suite_paths(expectations_dir)
    if not paths:
        raise GateFailed(f"mart gate: no suites under {expectations_dir / 'marts'}")
    wh = open_engine(settings)
    if not wh.exists():
        raise GateFailed(f"mart gate: the warehouse {wh.describe()} does not exist; run dbt first")
    run_id = runner.new_run_id("mart", batch_id)
    known = sorted({d.name.split("=", 1)[1] for d in settings.raw_dir.glob("*/batch_id=*")
                    if d.name.split("=", 1)[1] <= batch_id})
    runs: list[runner.SuiteRun] = []
    missing: list[str] = []
    where: dict[str, str] = {}
    summary: dict[str, Any] = {}
    try:
        for path in paths:
            suite = load_suite(path)
            _remember_checks(suite)
            relation = suite.table
            where[suite.name] = relation
            if not wh.relation_exists(relation):
                observed = f"table {relation} does not exist in {wh.describe()}"
                results.write_results(settings, batch_id, suite.name, [_missing_row(suite, "mart", batch_id, run_id, observed)])
                missing.append(f"suite {suite.name}: {observed} (did its dbt model build?)")
                summary[suite.name] = {"suite": suite.name, "success": False, "failed_errors": ["expect_table_to_exist"]}
                continue
            query = suite.meta.get("query") or f"select * from {relation}"
            if suite.meta.get("scope") == "recomputed_tonight":
                # a period-incremental mart: the rows tonight's build computed (all of them on a
                # full build); the rest were validated the night that computed them
                query = f"select * from ({query}) as scoped where _batch_id = {_sql_literal(batch_id)}"
                where[suite.name] = f"{relation} (rows computed by batch {batch_id})"
            elif suite.meta.get("scope") == "changed_tonight":
                # an incremental fact: the rows whose newest version landed tonight (every row on a
                # first, full load); the rest were validated the night they landed, and dbt's
                # unique_written test checks tonight's keys against the whole table
                query = f"select * from ({query}) as scoped where source_batch_id = {_sql_literal(batch_id)}"
                where[suite.name] = f"{relation} (rows landed by batch {batch_id})"
            frame = _as_frame(wh.to_arrow(wh.dialect(query)))
            bound = bind(suite, RuleContext(batch_id=batch_id, row_count=len(frame), known_batches=known))
            run = runner.validate_frame(settings, bound, frame, gate="mart", batch_id=batch_id, run_id=run_id,
                                        update_docs=False)
            results.write_results(settings, batch_id, suite.name, run.rows)
            runs.append(run)
            summary[suite.name] = {**_summary(run), "table": relation, "rows": len(frame)}
    finally:
        wh.close()
        runner.update_docs(settings, runs)  # pass or fail
    failures = missing + _report(runs, "mart", batch_id, where)
    if failures:
        raise GateFailed(
            "mart gate failed:\n" + "\n".join(failures)
            + f"\nResults: {results.validations_dir(settings) / f'batch_id={batch_id}'}"
            f"\nData Docs: {runner.docs_index_path(settings)}\n"
            "The marts are not published; fix the model or its inputs and re-run the night."
        )
    log.info("mart gate batch %s: %d suites passed", batch_id, len(runs))
    return summary


def data_docs_index(settings: Settings) -> Path:
    """The Data Docs index page (built if it does not exist yet)."""
    index = runner.docs_index_path(settings)
    if not index.exists():
        runner.build_docs(settings)
    return index
