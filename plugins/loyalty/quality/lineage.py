"""The night's lineage (OpenLineage): where its events are kept, how its datasets are named,
and each mart's upstream chain as that night's events tell it.

Every night's events are one file, ``audit/lineage/batch_id=<night>/openlineage.jsonl`` (one
JSON event a line, appended by ``loyalty.quality.lineage_transport``): Airflow's OpenLineage
provider reports the DAG run and every task; the tasks declare the datasets they read and write,
and the night's dbt build, raw-zone registration and publishing report one child job per model
or table (``loyalty.orchestration.lineage``). Every event names its night in the run facet
``loyalty_night`` (``NightRunFacet``), or, for the provider's DAG-run events, in their Airflow
run facet.

Datasets follow OpenLineage's naming spec (https://openlineage.io/docs/spec/naming), paths as
the night's machine sees them (``Settings``):

=========================  ===================================  ====================================
dataset                    namespace                            name
=========================  ===================================  ====================================
shop DB table (SQLite)     ``sqlite://<absolute file path>``    ``main.<table>``
shop DB table (PostgreSQL) ``postgres://<host>:<port>``         ``<database>.public.<table>``
survey inbox (its files)   ``file``                             ``<survey inbox folder>``
tickets API                ``<scheme>://<host>:<port>``         ``/api/v1/tickets``
raw zone table             ``file``                             ``<raw dir>/<table>``
quarantine table           ``file``                             ``<data dir>/quarantine/<table>``
original survey files      ``file``                             ``<raw dir>/_files/surveys``
warehouse relation         ``duckdb://<warehouse file>``        ``<database>.<schema>.<table>``
  (PostgreSQL target)      ``postgres://<host>:<port>``         ``<database>.<schema>.<table>``
serving table              ``duckdb://<serving file>``          ``<database>.<schema>.<table>``
serving Parquet copy       ``file``                             ``<serving dir>/parquet/<file>``
=========================  ===================================  ====================================

Warehouse names are those openlineage's dbt processor gives dbt's models and sources (the
database of a DuckDB file is its stem), so the registration's outputs are the staging models'
inputs. A folder dataset (raw zone, quarantine, inbox) is partitioned by night: the night
writes ``batch_id=<night>`` (its files and their hashes are in the batch's ``_batch.json`` and
the evidence manifest). No credentials: connection URLs lose their user, password and query.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attr
from openlineage.client.event_v2 import Dataset
from openlineage.client.facet_v2 import RunFacet

from loyalty.config import Settings

FACET = "loyalty_night"
FILE_NAME = "openlineage.jsonl"
TICKETS_PATH = "/api/v1/tickets"  # loyalty.extract.tickets_client.TICKETS_PATH (SOURCES.md section 3)


@attr.define
class NightRunFacet(RunFacet):
    """Which night a run belongs to: its batch id, and the DAG run that loaded it."""

    batchId: str  # noqa: N815 (OpenLineage facets are camelCase)
    dagId: str | None = None  # noqa: N815
    dagRunId: str | None = None  # noqa: N815

    @staticmethod
    def _get_schema() -> str:
        # a custom facet: the generic run facet's schema, as Airflow's own run facets do
        return "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunFacet"


# ---------------------------------------------------------------------------------------------
# Where


def lineage_dir(settings: Settings) -> Path:
    return settings.audit_dir / "lineage"


def lineage_path(settings: Settings, night: str) -> Path:
    return lineage_dir(settings) / f"batch_id={night}" / FILE_NAME


# ---------------------------------------------------------------------------------------------
# Names


def _ds(namespace: str, name: str) -> Dataset:
    return Dataset(namespace=namespace, name=name)


def _file(path: Path) -> Dataset:
    from openlineage.client.naming.dataset import LocalFileSystem

    naming = LocalFileSystem(path=str(path))
    return _ds(naming.get_namespace(), naming.get_name())


def shop_table(shop_db_url: str, table: str) -> Dataset:
    """A table of the shop database (SQLite file or PostgreSQL), without credentials."""
    parts = urlsplit(shop_db_url)
    scheme = parts.scheme.split("+")[0]
    if scheme == "sqlite":
        from loyalty.extract.shop import sqlite_path

        return _ds(f"sqlite://{sqlite_path(shop_db_url)}", f"main.{table}")
    if scheme in ("postgresql", "postgres"):
        from openlineage.client.naming.dataset import Postgres

        naming = Postgres(host=parts.hostname or "127.0.0.1", port=str(parts.port or 5432),
                          database=(parts.path.lstrip("/") or "postgres"), schema="public", table=table)
        return _ds(naming.get_namespace(), naming.get_name())
    return _ds(f"{scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}", f"{table}")


def survey_inbox(settings: Settings) -> Dataset:
    return _file(settings.survey_inbox)


def tickets_api(base_url: str) -> Dataset:
    """The tickets endpoint of the API at ``base_url`` (scheme, host and port only)."""
    parts = urlsplit(base_url)
    return _ds(f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}", TICKETS_PATH)


def raw_table(settings: Settings, table: str) -> Dataset:
    return _file(settings.raw_dir / table)


def quarantine_table(settings: Settings, table: str) -> Dataset:
    return _file(settings.quarantine_dir / table)


def survey_files(settings: Settings) -> Dataset:
    return _file(settings.raw_dir / "_files" / "surveys")


def validations(settings: Settings) -> Dataset:
    return _file(settings.audit_dir / "validations")


def warehouse_relation(settings: Settings, relation: str, engine: str = "duckdb") -> Dataset:
    """``schema.table`` of the warehouse as dbt's lineage names it on ``engine``."""
    if engine == "postgres":
        from openlineage.client.naming.dataset import Postgres

        schema, _, table = relation.partition(".")
        naming = Postgres(host=os.environ.get("LOYALTY_PG_HOST", "127.0.0.1"),
                          port=os.environ.get("LOYALTY_PG_PORT", "5432"),
                          database=os.environ.get("LOYALTY_PG_DBNAME", "loyalty_wh"), schema=schema, table=table)
        return _ds(naming.get_namespace(), naming.get_name())
    if engine == "spark":  # session mode: no host (openlineage's dbt processor has no name for it)
        return _ds("spark://session", relation)
    return _ds(f"duckdb://{settings.warehouse_path}", f"{settings.warehouse_path.stem}.{relation}")


def serving_table(settings: Settings, relation: str) -> Dataset:
    return _ds(f"duckdb://{settings.serving_path}", f"{settings.serving_path.stem}.{relation}")


def serving_parquet(settings: Settings, relation: str) -> Dataset:
    schema, _, name = relation.partition(".")
    file = f"semantic_{name}.parquet" if schema == "semantic" else f"{name}.parquet"  # loyalty.warehouse.publish
    return _file(settings.serving_path.parent / "parquet" / file)


# ---------------------------------------------------------------------------------------------
# Which night an event belongs to


def night_of_event(event: dict[str, Any], business_tz: str) -> str | None:
    """The night an event (as JSON) belongs to: its ``loyalty_night`` run facet, else the
    logical date in the Airflow provider's run facets (the night that run loads), else None."""
    from loyalty.extract.night import Night

    facets = (event.get("run") or {}).get("facets") or {}
    night = (facets.get(FACET) or {}).get("batchId")
    if night:
        return str(night)
    for key in ("airflow", "airflowDagRun"):
        dag_run = (facets.get(key) or {}).get("dagRun") or {}
        when = dag_run.get("logical_date") or dag_run.get("run_after")
        if when:
            return Night.for_run(datetime.fromisoformat(str(when)), business_tz).batch_id
    return None


# ---------------------------------------------------------------------------------------------
# Reading a night


def _locked(path: Path) -> bytes:
    """The file's bytes, read while no event is being appended (the transport's lock)."""
    with path.open("rb") as f:
        fcntl.flock(f, fcntl.LOCK_SH)
        try:
            return f.read()
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in _locked(path).decode("utf-8").splitlines() if line.strip()]


def night_events(settings: Settings, night: str) -> list[dict[str, Any]]:
    return read_events(lineage_path(settings, night))


def file_record(settings: Settings, night: str) -> dict[str, Any] | None:
    """For the evidence manifest: the night's file as it is now (its path under the audit
    folder, bytes, events, SHA-256). Events are appended after it (the audit task's own end and
    the DAG run's), so ``verify`` checks this prefix."""
    path = lineage_path(settings, night)
    if not path.exists():
        return None
    body = _locked(path)
    end = body.rfind(b"\n") + 1  # whole lines only
    return {"file": str(path.relative_to(settings.audit_dir)), "bytes": end, "events": body[:end].count(b"\n"),
            "sha256": hashlib.sha256(body[:end]).hexdigest()}


def prefix_sha256(path: Path, size: int) -> tuple[str, int]:
    """SHA-256 of the first ``size`` bytes of ``path``, and the file's size now."""
    body = _locked(path)
    return hashlib.sha256(body[:size]).hexdigest(), len(body)


# ---------------------------------------------------------------------------------------------
# The graph of a night: runs, what each read and wrote, each mart's upstream chain

Key = tuple[str, str]  # (namespace, name)


@dataclass
class RunInfo:
    run_id: str
    job: Key
    types: set[str] = field(default_factory=set)
    inputs: set[Key] = field(default_factory=set)
    outputs: set[Key] = field(default_factory=set)


@dataclass
class Lineage:
    """A night's runs merged from its events (a run's datasets may come in any of its events)."""

    runs: dict[str, RunInfo]

    @classmethod
    def from_events(cls, events: Iterable[dict[str, Any]]) -> Lineage:
        runs: dict[str, RunInfo] = {}
        for e in events:
            run = e.get("run") or {}
            job = e.get("job") or {}
            info = runs.setdefault(run["runId"], RunInfo(run["runId"], (job.get("namespace", ""), job.get("name", ""))))
            info.types.add(str(e.get("eventType")))
            info.inputs.update((d["namespace"], d["name"]) for d in e.get("inputs") or [])
            info.outputs.update((d["namespace"], d["name"]) for d in e.get("outputs") or [])
        return cls(runs)

    def producers(self) -> dict[Key, list[RunInfo]]:
        out: dict[Key, list[RunInfo]] = {}
        for r in self.runs.values():
            for o in r.outputs:
                out.setdefault(o, []).append(r)
        return out

    def datasets(self) -> set[Key]:
        return {d for r in self.runs.values() for d in (*r.inputs, *r.outputs)}

    def upstream(self, dataset: Key) -> dict[Key, int]:
        """Every dataset upstream of ``dataset`` and its distance (in jobs), ``dataset`` at 0."""
        producers = self.producers()
        seen = {dataset: 0}
        frontier = [dataset]
        while frontier:
            nxt = []
            for d in frontier:
                for run in producers.get(d, []):
                    for i in run.inputs:
                        if i not in seen and i != d:
                            seen[i] = seen[d] + 1
                            nxt.append(i)
            frontier = nxt
        return seen


def _is_warehouse_mart(d: Key, lineage: Lineage) -> bool:
    """A ``marts.mart_*`` relation written by a dbt model job (the warehouse, not the serving file)."""
    if d[1].split(".")[-2:-1] != ["marts"] or not d[1].rsplit(".", 1)[-1].startswith("mart_"):
        return False
    return any(d in r.outputs and ".build.run" in r.job[1] for r in lineage.runs.values())


def layer(d: Key, settings: Settings, sources: set[Key]) -> str:
    """Where a dataset sits in the chain: source (nothing of the night wrote it), raw zone,
    the warehouse's schemas, or the serving file (and its Parquet copies)."""
    namespace, name = d
    if d in sources:
        return "source"
    if namespace == f"duckdb://{settings.serving_path}" or name.startswith(str(settings.serving_path.parent) + "/"):
        return "serving"
    if namespace == "file":
        return "raw zone"
    schema = name.split(".")[-2] if name.count(".") >= 1 else ""
    return {"marts": "mart", "intermediate": "intermediate", "core": "core", "staging": "staging",
            "raw": "raw (warehouse)"}.get(schema, schema or "other")


WAREHOUSE_SCHEMAS = ("raw", "staging", "intermediate", "core", "marts", "semantic", "audit")


def short_name(d: Key, settings: Settings) -> str:
    """A dataset as the report shows it: a relation's ``schema.table``, a path under the data
    folder, a source with its system."""
    namespace, name = d
    if namespace == "file":
        p = Path(name)
        return str(p.relative_to(settings.data_dir)) if p.is_relative_to(settings.data_dir) else name
    if namespace.startswith("sqlite://"):
        return f"{Path(namespace[len('sqlite://'):]).name} {name}"
    if namespace.startswith(("http://", "https://")):
        return namespace + name
    parts = name.split(".")
    if len(parts) >= 2 and parts[-2] in WAREHOUSE_SCHEMAS:
        return ".".join(parts[-2:])
    return f"{namespace}/{name}"


@dataclass
class Chain:
    mart: Key
    by_layer: dict[str, list[Key]]
    sources: list[Key]


def mart_chains(events: Iterable[dict[str, Any]], settings: Settings) -> list[Chain]:
    """For every metric mart the night's dbt build wrote: every dataset upstream of it by
    layer, starting from its serving table when the night published it."""
    lineage = Lineage.from_events(events)
    producers = lineage.producers()
    out = []
    for mart in sorted({o for r in lineage.runs.values() for o in r.outputs if _is_warehouse_mart(o, lineage)}):
        relation = ".".join(mart[1].split(".")[-2:])
        start = serving_table(settings, relation)
        top = (start.namespace, start.name) if (start.namespace, start.name) in producers else mart
        sources = {d for d in lineage.upstream(top) if d not in producers}
        groups: dict[str, list[Key]] = {}
        for d in lineage.upstream(top):
            groups.setdefault(layer(d, settings, sources), []).append(d)
        out.append(Chain(mart, {k: sorted(v) for k, v in groups.items()}, sorted(sources)))
    return out
