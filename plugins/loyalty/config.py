"""Where everything lives. Every path has an environment-variable override.

Defaults keep the whole demo under ``<repo>/data`` so a fresh clone needs no set-up:

==========================  ===============================================  =========================
what                        default                                          override
==========================  ===============================================  =========================
data root                   ``<repo>/data``                                  ``LOYALTY_DATA_DIR``
demo source systems         ``<data>/sources`` (shop.sqlite, tickets.jsonl)  ``LOYALTY_SOURCES_DIR``
survey inbox                ``<sources>/survey_inbox``                       ``LOYALTY_SURVEY_INBOX``
raw zone (Parquet)          ``<data>/raw``                                   ``LOYALTY_RAW_DIR``
quarantine (Parquet)        ``<data>/quarantine``                            (under the data root)
warehouse (DuckDB)          ``<data>/warehouse/loyalty.duckdb``              ``LOYALTY_WAREHOUSE``
warehouse (Spark target)    ``<warehouse's folder>/spark``                   ``LOYALTY_SPARK_DIR``
serving file for BI         ``<data>/serving/loyalty.duckdb``                ``LOYALTY_SERVING``
audit trail                 ``<data>/audit``                                 (under the data root)
dbt project                 ``<repo>/dbt_project``                           ``LOYALTY_DBT_PROJECT_DIR``
==========================  ===============================================  =========================
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# the dbt project (LOYALTY_DBT_PROJECT_DIR: a deployment that keeps it elsewhere; read at import)
DBT_PROJECT_DIR = Path(os.environ.get("LOYALTY_DBT_PROJECT_DIR") or REPO_ROOT / "dbt_project").expanduser().resolve()
EXPECTATIONS_DIR = REPO_ROOT / "expectations"


def night_env(business_date: str, batch_id: str | None = None, loaded_at: str | None = None) -> dict[str, str]:
    """The night's "as of" values for dbt, as environment variables (macros/run_vars.sql).

    Environment variables, not ``--vars``: dbt re-parses the whole project whenever ``--vars``
    change (every night), but reads these only when it executes, so partial parsing holds.
    ``loaded_at`` defaults, in dbt, to the end of the business day in the business time zone.
    """
    env = {"LOYALTY_BUSINESS_DATE": business_date, "LOYALTY_BATCH_ID": batch_id or business_date}
    if loaded_at:
        env["LOYALTY_LOADED_AT"] = loaded_at
    return env


# OpenLineage for every night, with no network and no user setting: Airflow's OpenLineage
# provider (and what the tasks emit through it) writes each event to its night's file under
# audit/lineage (loyalty.quality.lineage_transport). Set for every Airflow process by the
# ``loyalty`` runner, the tests and the native deployment, as defaults (an environment that
# already sets one, e.g. a Marquez transport, keeps it); docker-compose.yml repeats them.
# The task events carry the run facet ``loyalty_night`` (loyalty.orchestration.lineage); the
# emission runs in a thread of the task process, not a fork of it (the build's process holds
# DuckDB and dbt's threads); the provider's own INFO lines are left out of the task logs.
OPENLINEAGE_ENV = {
    "AIRFLOW__OPENLINEAGE__TRANSPORT": '{"type": "loyalty.quality.lineage_transport.NightFileTransport"}',
    "AIRFLOW__OPENLINEAGE__NAMESPACE": "loyalty",
    "AIRFLOW__OPENLINEAGE__CUSTOM_RUN_FACETS": "loyalty.orchestration.lineage.night_run_facet",
    "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
    # one INFO line per event from the provider ("Successfully emitted ..."): 380 lines a night
    "AIRFLOW__LOGGING__NAMESPACE_LEVELS": "airflow.providers.openlineage=WARNING openlineage=WARNING",
}


def _path(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    sources_dir: Path
    survey_inbox: Path
    raw_dir: Path
    quarantine_dir: Path
    warehouse_path: Path
    serving_path: Path
    audit_dir: Path
    business_tz: str

    @classmethod
    def from_env(cls) -> Settings:
        data = _path("LOYALTY_DATA_DIR", REPO_ROOT / "data")
        sources = _path("LOYALTY_SOURCES_DIR", data / "sources")
        return cls(
            data_dir=data,
            sources_dir=sources,
            survey_inbox=_path("LOYALTY_SURVEY_INBOX", sources / "survey_inbox"),
            raw_dir=_path("LOYALTY_RAW_DIR", data / "raw"),
            quarantine_dir=data / "quarantine",
            warehouse_path=_path("LOYALTY_WAREHOUSE", data / "warehouse" / "loyalty.duckdb"),
            serving_path=_path("LOYALTY_SERVING", data / "serving" / "loyalty.duckdb"),
            audit_dir=data / "audit",
            business_tz=os.environ.get("LOYALTY_BUSINESS_TZ", "Asia/Shanghai"),
        )

    @property
    def default_shop_db_url(self) -> str:
        return f"sqlite:///{self.sources_dir / 'shop.sqlite'}"

    @property
    def tickets_jsonl(self) -> Path:
        return self.sources_dir / "tickets.jsonl"
