"""Run one bound suite against one pandas DataFrame with GX 1.x (or, for a large batch, against
frames of the columns its expectations read, merged into one result), and turn the outcome into rows.

GX's SQL datasources do not work against DuckDB, so every batch is a pandas DataFrame:
the landed Parquet file, or the result of a read-only query of the warehouse. One file context per
data root (``<data>/gx``), cached for the process; every validation result is stored in its
validation results store and Data Docs are rebuilt from it, pass or fail.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from loyalty.config import Settings
from loyalty.quality.suites import BoundSuite, expectation_column, resolved_kwargs

log = logging.getLogger(__name__)
# GX 1.x logs "<Asset>.dict() - missing `config_provider`, skipping config substitution" at INFO
# for every asset it serialises, and "Skipping registering function ... because it is a closure"
# ~200 times on import: together a quarter of a night's task log, saying nothing about the data
for _noisy in ("great_expectations.datasource.fluent.fluent_base_model", "great_expectations._docs_decorators"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

DATASOURCE = "loyalty_pandas"
BATCH_DEFINITION = "whole_frame"
SITE = "local_site"
SAMPLE_SIZE = 10
_contexts: dict[str, Any] = {}
_lock = threading.Lock()


def gx_root(settings: Settings) -> Path:
    """The GX project folder (``<data>/gx``, as in docs/ARCHITECTURE.md)."""
    return settings.data_dir / "gx"


def get_context(settings: Settings) -> Any:
    """The file context under ``<data>/gx`` (created on first use), cached per data root."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    key = str(settings.data_dir)
    with _lock:
        ctx = _contexts.get(key)
        if ctx is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            ctx = gx.get_context(mode="file", project_root_dir=str(settings.data_dir))
            bars = ctx.variables.progress_bars
            globally = bars.get("globally", True) if isinstance(bars, dict) else getattr(bars, "globally", True)
            if bars is None or globally:
                ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
                ctx.variables.save()
            _contexts[key] = ctx
        return ctx


def docs_index_path(settings: Settings) -> Path:
    return gx_root(settings) / "uncommitted" / "data_docs" / SITE / "index.html"


def _batch_definition(ctx: Any, asset_name: str) -> Any:
    try:
        ds = ctx.data_sources.get(DATASOURCE)
    except (KeyError, ValueError, LookupError):
        ds = ctx.data_sources.add_pandas(DATASOURCE)
    try:
        asset = ds.get_asset(asset_name)
    except (KeyError, ValueError, LookupError):
        asset = ds.add_dataframe_asset(asset_name)
    try:
        return asset.get_batch_definition(BATCH_DEFINITION)
    except (KeyError, ValueError, LookupError):
        return asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)


@dataclass
class SuiteRun:
    suite_name: str
    rows: list[dict[str, Any]]
    docs_page: str | None
    identifiers: list[Any] = field(default_factory=list)  # GX ValidationResultIdentifier(s)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if not r["success"]]

    def failed_with(self, severity: str) -> list[dict[str, Any]]:
        return [r for r in self.failed if r["severity"] == severity]


def new_run_id(gate: str, batch_id: str) -> Any:
    from great_expectations.core.run_identifier import RunIdentifier

    return RunIdentifier(run_name=f"{gate}-{batch_id}", run_time=datetime.now(UTC))


def run_id_text(run_id: Any) -> str:
    return f"{run_id.run_name}@{run_id.run_time.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}"


def _save_suite_if_changed(ctx: Any, settings: Settings, suite: Any, source: dict[str, Any]) -> None:
    """Keep the suite in GX's expectations store (Data Docs shows its page), writing it only
    when its reviewed JSON changed: GX's add_or_update reads and rewrites the store every time
    (about 0.3 s a suite, more than validating a night's batch)."""
    digest = hashlib.sha256(json.dumps(source, sort_keys=True, default=str).encode()).hexdigest()
    marker = gx_root(settings) / "uncommitted" / "loyalty_suites" / f"{suite.name}.sha256"
    stored = gx_root(settings) / "expectations" / f"{suite.name}.json"
    if stored.exists() and marker.exists() and marker.read_text() == digest:
        return
    ctx.suites.add_or_update(suite)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(digest)


# the expectations that look at the column names only: validated on a frame without rows
SCHEMA_EXPECTATIONS = ("expect_table_columns_to_match_set", "expect_table_columns_to_match_ordered_list")


def _columns_of(expectation: dict[str, Any]) -> tuple[str, ...] | None:
    """The columns an expectation reads; () for a schema expectation; None when it reads the
    whole table in another way (it is then validated on the whole frame)."""
    if expectation["type"] in SCHEMA_EXPECTATIONS:
        return ()
    kw = expectation.get("kwargs") or {}
    if "row_condition" in kw:
        return None
    if "column" in kw:
        return (str(kw["column"]),)
    if "column_A" in kw:
        return (str(kw["column_A"]), str(kw["column_B"]))
    if "column_list" in kw:
        return tuple(str(c) for c in kw["column_list"])
    return None


def column_groups(expectations: list[dict[str, Any]]) -> dict[tuple[str, ...], list[int]] | None:
    """The suite's expectations (their positions) by the columns they read, or None when one of
    them reads the table in a way a projection would change."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, expectation in enumerate(expectations):
        cols = _columns_of(expectation)
        if cols is None:
            return None
        groups.setdefault(cols, []).append(i)
    return groups


def _gx_order(expectations: list[dict[str, Any]]) -> list[int]:
    """The order GX validates (and lists) a suite's expectations in, as positions: grouped by
    ``column`` in order of first appearance, the ones without a ``column`` together
    (``Validator.process_expectations_for_validation``). Column by column, the results are put
    in this order: a report reads the same either way."""
    groups: dict[str, list[int]] = {}
    for i, expectation in enumerate(expectations):
        column = (expectation.get("kwargs") or {}).get("column")
        groups.setdefault(column if isinstance(column, str) else "\0no column", []).append(i)
    return [i for positions in groups.values() for i in positions]


def columnwise_possible(expectations: list[dict[str, Any]], columns: set[str]) -> bool:
    """Whether these expectations can be validated column by column on a batch with these
    columns: each reads named columns, all present."""
    groups = column_groups(expectations)
    return groups is not None and all(c in columns for cols in groups for c in cols)


def _validate(ctx: Any, bound: BoundSuite, expectations: list[dict[str, Any]], frame: pd.DataFrame) -> Any:
    from great_expectations.core import ExpectationSuite
    from great_expectations.validator.v1_validator import Validator

    name = bound.suite.name
    validator = Validator(
        batch_definition=_batch_definition(ctx, name),
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE},
    )
    suite = ExpectationSuite(name=name, expectations=expectations, meta=dict(bound.suite.meta))
    try:
        return validator, validator.validate_expectation_suite(suite, bound.parameters)
    finally:
        _release_batch(validator)


def _release_batch(validator: Any) -> None:
    """Let go of the frame just validated. GX's pandas engine, one per data source and so one
    per process, keeps every asset's last batch and every metric computed on it (a boolean
    series per column and check) until the process ends: a raw gate held all twelve tables' frames
    at once (6.8 GB on a large night). The results are already made; nothing reads these again
    (the next validation of an asset computes its metrics afresh: checked in tests/quality)."""
    engine = getattr(getattr(validator, "_wrapped_validator_cache", None), "execution_engine", None)
    if engine is None:
        return
    manager = engine.batch_manager
    manager.reset_batch_cache()
    getattr(manager, "_batch_data_cache", {}).clear()
    getattr(engine, "_metric_cache", {}).clear()


def validate_frame(
    settings: Settings,
    bound: BoundSuite,
    frame: pd.DataFrame | None,
    *,
    gate: str,
    batch_id: str,
    run_id: Any,
    update_docs: bool = True,
    read_columns: Any = None,
    rows: int | None = None,
) -> SuiteRun:
    """Validate ``frame`` against ``bound`` and store the result in GX's validation results
    store (Data Docs reads it). Data Docs are rebuilt here unless ``update_docs`` is False:
    then call :func:`update_docs` once for a whole gate (the index is rendered once).

    Column by column (``frame`` None; ``read_columns(columns)`` gives a frame of those columns
    of the batch, None: all of them, ``empty=True``: no rows; ``rows`` its row count): the
    expectations that read the same columns are validated together on a frame of just those
    columns, and the results are put together in GX's order as one validation result.
    Every expectation sees every row of its columns, so the results are those of the whole
    frame; the memory is that of the widest group, not of the table (a large night's
    ``order_items``: 24.6M rows).

    GX's Validator is called directly, as ``ValidationDefinition.run`` does it, without
    re-saving a suite, validation definition and checkpoint to the file context for every
    batch: that bookkeeping cost GX ~0.7 s a suite, most of a gate's time on a small night."""
    from great_expectations.core import ExpectationSuite
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    ctx = get_context(settings)
    name = bound.suite.name
    suite = ExpectationSuite(name=name, expectations=bound.expectations, meta=dict(bound.suite.meta))
    _save_suite_if_changed(ctx, settings, suite, {"expectations": bound.expectations, "meta": bound.suite.meta})
    groups = column_groups(bound.expectations) if frame is None else None
    if frame is None and groups is None:
        frame = read_columns(None)  # an expectation reads the whole table
    if frame is not None:
        rows = len(frame)
        validator, result = _validate(ctx, bound, bound.expectations, frame)
        active_batch_id = validator.active_batch_id
    else:
        assert groups is not None and rows is not None
        results: list[tuple[int, Any]] = []
        result = active_batch_id = None
        for cols, positions in groups.items():
            part = read_columns(list(cols)) if cols else read_columns(None, empty=True)
            validator, part_result = _validate(ctx, bound, [bound.expectations[i] for i in positions], part)
            active_batch_id = validator.active_batch_id
            del part, validator  # the validator holds its frame: one group's columns at a time
            results += list(zip(positions, part_result.results, strict=True))
            result = result or part_result
        assert result is not None
        rank = {pos: k for k, pos in enumerate(_gx_order(bound.expectations))}
        result.results = [evr for _, evr in sorted(results, key=lambda pr: rank[pr[0]])]
        passed = sum(1 for evr in result.results if evr.success)
        result.success = passed == len(result.results)
        result.statistics = {"evaluated_expectations": len(result.results), "successful_expectations": passed,
                             "unsuccessful_expectations": len(result.results) - passed,
                             "success_percent": 100.0 * passed / len(result.results) if result.results else None}
    _redact_personal_data(result, bound)
    result.meta["run_id"] = run_id
    result.meta["validation_time"] = run_id.run_time
    result.meta["batch_parameters"] = {"dataframe": f"<{rows} rows of {gate} batch {batch_id}>"}
    suite_id = ExpectationSuiteIdentifier(name=name)
    identifier = ValidationResultIdentifier(
        batch_identifier=active_batch_id, expectation_suite_identifier=suite_id, run_id=run_id
    )
    ctx.validation_results_store.store_validation_results(
        suite_validation_result=result,
        suite_validation_result_identifier=identifier,
        expectation_suite_identifier=suite_id,
    )
    run = SuiteRun(name, [], None, [identifier])
    if update_docs:
        globals()["update_docs"](settings, [run])
    try:
        urls = ctx.get_docs_sites_urls(resource_identifier=identifier, site_name=SITE)
        run.docs_page = urls[0]["site_url"] if urls else None
    except Exception:  # pragma: no cover - the page link is a convenience
        run.docs_page = None
    validated_at = run_id.run_time.astimezone(UTC).replace(tzinfo=None)
    for evr in result.results:
        run.rows.append(_row(evr, bound, gate=gate, batch_id=batch_id, run_id=run_id, validated_at=validated_at))
    for expectation, why in bound.skipped:
        run.rows.append(
            {
                "run_id": run_id_text(run_id), "batch_id": batch_id, "suite_name": name, "gate": gate,
                "expectation_type": expectation["type"], "column": expectation_column(expectation),
                "kwargs_json": _json(expectation.get("kwargs") or {}), "severity": expectation["meta"]["severity"],
                "success": True, "observed_value": why, "unexpected_count": None, "element_count": rows,
                "validated_at": validated_at,
            }
        )
    return run


SAMPLE_KEYS = ("partial_unexpected_list", "partial_unexpected_counts", "partial_unexpected_index_list",
               "unexpected_list", "unexpected_index_list", "unexpected_index_query")


def _redact_personal_data(result: Any, bound: BoundSuite) -> None:
    """No sample value of a personal-data column (contracts.PII_COLUMNS) is kept in a result:
    results go to the validation store, Data Docs and the audit report. Counts stay."""
    from loyalty import contracts

    pii = set(contracts.PII_COLUMNS.get(str(bound.suite.meta.get("table", "")), ()))
    if not pii:
        return
    for evr in result.results:
        kwargs = evr.expectation_config.kwargs or {}
        columns = {kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"), *(kwargs.get("column_list") or [])}
        if pii & columns and evr.result:
            for key in SAMPLE_KEYS:
                evr.result.pop(key, None)


def _json(value: Any) -> str:
    return json.dumps(_plain(value), sort_keys=True, ensure_ascii=False)


def _plain(value: Any) -> Any:
    """JSON-friendly copy: NaN/NaT -> None, timestamps/decimals -> text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item") and not isinstance(value, (pd.Timestamp,)):
        try:
            return _plain(value.item())
        except (TypeError, ValueError):
            pass
    return str(value)


def observed_text(result: dict[str, Any], exception_info: dict[str, Any] | None) -> str:
    """What the expectation saw, in one line: the value, or the unexpected count and samples."""
    if exception_info and exception_info.get("raised_exception"):
        return f"exception: {exception_info.get('exception_message')}"
    if "observed_value" in result:
        text = json.dumps(_plain(result["observed_value"]), ensure_ascii=False)
        mismatched = (result.get("details") or {}).get("mismatched")
        if mismatched:
            text += f"; mismatched: {json.dumps(_plain(mismatched), ensure_ascii=False)}"
        return text
    if "unexpected_count" in result:
        n = result.get("unexpected_count") or 0
        total = result.get("element_count")
        pct = result.get("unexpected_percent")
        text = f"{n} unexpected of {total} rows"
        if pct is not None and n:
            text += f" ({pct:.3g}%)"
        counts = result.get("partial_unexpected_counts") or []
        if counts:
            sample = ", ".join(f"{json.dumps(_plain(c['value']), ensure_ascii=False)} x{c['count']}" for c in counts)
            text += f"; sample values: {sample}"
        elif result.get("partial_unexpected_list"):
            text += f"; sample values: {json.dumps(_plain(result['partial_unexpected_list']), ensure_ascii=False)}"
        return text
    return json.dumps(_plain(result), ensure_ascii=False) if result else ""


def _row(evr: Any, bound: BoundSuite, *, gate: str, batch_id: str, run_id: Any, validated_at: datetime) -> dict[str, Any]:
    config = evr.expectation_config
    expectation = {"type": config.type, "kwargs": dict(config.kwargs)}
    kwargs = {k: v for k, v in resolved_kwargs(expectation, bound.parameters).items() if k != "batch_id"}
    meta = config.meta or {}
    result = dict(evr.result or {})
    exception_info = evr.exception_info if isinstance(evr.exception_info, dict) else None
    if exception_info and "raised_exception" not in exception_info:  # {config_id: {...}} shape
        exception_info = next(iter(exception_info.values()), None)
    unexpected = result.get("unexpected_count")
    element = result.get("element_count")
    return {
        "run_id": run_id_text(run_id),
        "batch_id": batch_id,
        "suite_name": bound.suite.name,
        "gate": gate,
        "expectation_type": config.type,
        "column": expectation_column({"kwargs": kwargs}),
        "kwargs_json": _json(kwargs),
        "severity": meta.get("severity", bound.suite.severity),
        "success": bool(evr.success),
        "observed_value": observed_text(result, exception_info),
        "unexpected_count": int(unexpected) if unexpected is not None else None,
        "element_count": int(element) if element is not None else None,
        "validated_at": validated_at,
    }


def update_docs(settings: Settings, runs: list[SuiteRun]) -> Path:
    """Render the pages of these validations (and their suites) and the index, once."""
    import time

    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    from loyalty.quality.offline_docs import localize

    ctx = get_context(settings)
    ids: list[Any] = [i for run in runs for i in run.identifiers]
    ids += [ExpectationSuiteIdentifier(name=run.suite_name) for run in runs if run.identifiers]
    if ids:
        started = time.time() - 1
        ctx.build_data_docs(site_names=[SITE], resource_identifiers=ids)
        localize(docs_index_path(settings).parent, since=started)  # offline: vendored assets, no CDN
    return docs_index_path(settings)


def build_docs(settings: Settings) -> Path:
    from loyalty.quality.offline_docs import localize

    ctx = get_context(settings)
    ctx.build_data_docs(site_names=[SITE])
    localize(docs_index_path(settings).parent)
    return docs_index_path(settings)
