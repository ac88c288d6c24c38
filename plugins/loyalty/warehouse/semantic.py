"""The semantic layer: MetricFlow over the dbt project's semantic models and metrics
(``dbt_project/models/semantic/``), in-process.

    with SemanticLayer(settings) as sl:
        table = sl.query(["nps", "recommend_rate"], ["metric_time__month"])
        tables = sl.saved_queries()   # every saved query of _saved_queries.yml, by name

MetricFlow reads ``dbt_project/target/semantic_manifest.json`` (``dbt parse`` writes it with the
manifest: ``loyalty setup-airflow``, ``loyalty demo``) and queries the warehouse through the project's dbt
profile and target (``LOYALTY_DBT_TARGET``), the same connection dbt builds with. The nightly
publish step materialises every saved query into the serving file's ``semantic`` schema, so a
BI tool with no MetricFlow client reads the governed numbers (``semantic.<saved query>``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import os
from pathlib import Path
from typing import Any

import pyarrow as pa

from loyalty.config import DBT_PROJECT_DIR, Settings

log = logging.getLogger(__name__)
SCHEMA = "semantic"


def semantic_manifest_path(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    return project_dir / "target" / "semantic_manifest.json"


def saved_query_names(project_dir: Path = DBT_PROJECT_DIR) -> list[str]:
    path = semantic_manifest_path(project_dir)
    if not path.exists():
        return []
    return sorted(q["name"] for q in json.loads(path.read_text()).get("saved_queries", []))


def _cell(v: Any) -> Any:
    if isinstance(v, decimal.Decimal):
        return float(v)
    return v


def _to_arrow(table: Any) -> pa.Table:
    columns = list(table.column_names)
    data = {c: [_cell(r[i]) for r in table.rows] for i, c in enumerate(columns)}
    out = {}
    for c, values in data.items():
        if values and all(isinstance(v, dt.datetime) or v is None for v in values):
            # MetricFlow returns a metric_time at day grain or coarser as a midnight timestamp: a date
            out[c] = pa.array([v.date() if v is not None else None for v in values], pa.date32()) \
                if all(v is None or (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0) for v in values) \
                else pa.array(values)
        else:
            out[c] = pa.array(values)
    return pa.table(out) if out else pa.table({c: pa.array([], pa.string()) for c in columns})


class SemanticLayer:
    """A MetricFlow engine on the warehouse (one connection, closed by ``close``)."""

    def __init__(self, settings: Settings, project_dir: Path = DBT_PROJECT_DIR) -> None:
        from dbt_metricflow.cli.cli_configuration import CLIConfiguration

        if not semantic_manifest_path(project_dir).exists():
            raise FileNotFoundError(
                f"{semantic_manifest_path(project_dir)} is missing: run `loyalty setup-airflow` (or `dbt parse`) first")
        self.settings = settings
        saved = {k: os.environ.get(k) for k in ("LOYALTY_WAREHOUSE",)}
        os.environ["LOYALTY_WAREHOUSE"] = str(settings.warehouse_path)  # what profiles.yml reads
        try:
            self._cfg = CLIConfiguration()
            self._cfg.setup(dbt_profiles_path=project_dir, dbt_project_path=project_dir, configure_file_logging=False)
            self.engine = self._cfg.mf
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def __enter__(self) -> SemanticLayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._cfg.dbt_artifacts.adapter.cleanup_connections()
        except Exception:  # pragma: no cover - nothing was opened
            pass
        from loyalty.warehouse.dbt_artifacts import release_duckdb

        release_duckdb()

    def query(self, metrics: list[str] | None = None, group_by: list[str] | None = None,
              where: list[str] | None = None, order_by: list[str] | None = None,
              saved_query: str | None = None) -> pa.Table:
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        request = MetricFlowQueryRequest.create(
            saved_query_name=saved_query, metric_names=metrics, group_by_names=group_by,
            where_constraints=where, order_by_names=order_by)
        result = self.engine.query(request)
        if result.result_df is None:  # pragma: no cover - only with an output table
            raise RuntimeError("MetricFlow returned no rows table")
        return _to_arrow(result.result_df)

    def saved_queries(self) -> dict[str, pa.Table]:
        """Every saved query's result, by name."""
        out = {}
        for name in saved_query_names():
            out[name] = self.query(saved_query=name)
            log.info("semantic layer: saved query %s: %d rows", name, out[name].num_rows)
        return out


def _definition(metric: dict[str, Any]) -> str:
    tp = metric["type_params"]
    kind = metric["type"]
    if kind == "simple":
        text = f"measure `{tp['measure']['name']}`"
        if tp["measure"].get("fill_nulls_with") is not None:
            text += f" (0 when absent: fill_nulls_with {tp['measure']['fill_nulls_with']})"
    elif kind == "ratio":
        text = f"`{tp['numerator']['name']}` / `{tp['denominator']['name']}`"
    elif kind == "derived":
        text = f"`{tp['expr']}`"
    else:  # pragma: no cover - not used here
        text = kind
    filters = [f["where_sql_template"].strip() for f in (metric.get("filter") or {}).get("where_filters", [])]
    return text + (f", where {'; '.join(f'`{f}`' for f in filters)}" if filters else "")


def catalogue_markdown(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """The metric catalogue, generated from the semantic manifest (docs/METRIC_CATALOGUE.md)."""
    manifest = json.loads(semantic_manifest_path(project_dir).read_text())
    measure_model = {m["name"]: sm["name"] for sm in manifest["semantic_models"] for m in sm.get("measures", [])}

    def models_of(metric: dict[str, Any]) -> str:
        names = sorted({measure_model.get(m["name"], "?") for m in metric["type_params"].get("input_measures", [])})
        return ", ".join(f"`{n}`" for n in names)

    lines = ["# Metric catalogue", "",
             "Generated from the semantic layer (`dbt_project/models/semantic/`) by `loyalty semantic-catalogue`;",
             "do not edit by hand. Definitions: ../shared/METRICS.md. Query with `mf query --metrics <name> "
             "--group-by metric_time__month` (README, \"The semantic layer\").", "",
             "## Metrics", "", "| metric | label | type | definition | semantic models | description |",
             "|---|---|---|---|---|---|"]
    for m in sorted(manifest["metrics"], key=lambda m: m["name"]):
        desc = " ".join((m.get("description") or "").split()).replace("|", "\\|")
        definition = _definition(m).replace("|", "\\|")
        lines.append(f"| `{m['name']}` | {m.get('label') or ''} | {m['type']} | {definition} | {models_of(m)} | {desc} |")
    lines += ["", "## Dimensions and entities", "", "| semantic model | dbt model | entities | dimensions |",
              "|---|---|---|---|"]
    for sm in sorted(manifest["semantic_models"], key=lambda s: s["name"]):
        ents = ", ".join(f"`{e['name']}` ({e['type']})" for e in sm.get("entities", []))
        dims = ", ".join(f"`{d['name']}`" + (f" ({d['type_params']['time_granularity']})" if d["type"] == "time" else "")
                         for d in sm.get("dimensions", []))
        lines.append(f"| `{sm['name']}` | `{sm['node_relation']['alias']}` | {ents} | {dims} |")
    lines += ["", "## Saved queries (materialised nightly as `semantic.<name>` in the serving file)", "",
              "| saved query | label | metrics | group by | where |", "|---|---|---|---|---|"]
    for q in sorted(manifest.get("saved_queries", []), key=lambda q: q["name"]):
        p = q["query_params"]
        where = "; ".join(f"`{w['where_sql_template'].strip()}`" for w in (p.get("where") or {}).get("where_filters", [])) \
            if isinstance(p.get("where"), dict) else ""
        lines.append(f"| `{q['name']}` | {q.get('label') or ''} | {', '.join(f'`{x}`' for x in p['metrics'])} "
                     f"| {', '.join(f'`{g}`' for g in p['group_by'])} | {where} |")
    return "\n".join(lines) + "\n"
