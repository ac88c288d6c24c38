"""Run the nightly DAG for real on one machine, without a scheduler: ``dag.test()``.

``prepare_environment()`` sets up a self-contained Airflow home (SQLite metadata DB under
``<data>/airflow``), the connections (env ``AIRFLOW_CONN_*`` unless already set), the Spark
target's paths and the PII key (in this process's environment only). ``setup_airflow()`` also
migrates the metadata DB, creates the warehouse pool and parses the dbt project (``parse_dbt``:
``target/manifest.json``). ``run_night()`` runs one real DAG run for a business date; the ticket
API simulator is started on a free loopback port when no tickets connection is configured (the
embedded demo default).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from contextlib import ExitStack
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from loyalty.config import DBT_PROJECT_DIR, OPENLINEAGE_ENV, REPO_ROOT, Settings

log = logging.getLogger("loyalty.runner")
DEMO_TOKEN = "demo-token"


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def prepare_environment(settings: Settings | None = None) -> dict[str, str]:
    """Environment for a local Airflow: call before importing anything from airflow."""
    settings = settings or Settings.from_env()
    home = Path(os.environ.get("AIRFLOW_HOME") or settings.data_dir / "airflow")
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",  # no calls home (and no network here)
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
        "LOYALTY_WAREHOUSE": str(settings.warehouse_path),
        "LOYALTY_DATA_DIR": str(settings.data_dir),
    }
    from loyalty.warehouse.spark import environment as spark_environment

    env.update(spark_environment(settings))  # where the spark target keeps its warehouse
    if "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in os.environ:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home / 'airflow.db'}"
    if "AIRFLOW_CONN_LOYALTY_SHOP_DB" not in os.environ:
        url = os.environ.get("LOYALTY_SHOP_DB_URL", settings.default_shop_db_url)
        if url.startswith("sqlite:///"):
            env["AIRFLOW_CONN_LOYALTY_SHOP_DB"] = json.dumps({"conn_type": "sqlite", "host": url[len("sqlite:///"):]})
        else:
            env["AIRFLOW_CONN_LOYALTY_SHOP_DB"] = url
    for k, v in env.items():
        os.environ.setdefault(k, v) if k.startswith("AIRFLOW_CONN") else os.environ.__setitem__(k, v)
    for k, v in OPENLINEAGE_ENV.items():  # the night's lineage file (an environment's own transport wins)
        os.environ.setdefault(k, v)
    # local runs: the PII key from LOYALTY_PII_KEY, else the owner-only key file of local runs
    # (created on first use); in this process's environment only, never in the returned env
    from loyalty.warehouse.pii import KEY_ENV, pii_key

    os.environ[KEY_ENV] = pii_key(settings, local=True)
    home.mkdir(parents=True, exist_ok=True)
    return env


def setup_airflow(settings: Settings | None = None) -> None:
    """Migrate the metadata DB, create the warehouse pool, parse the dbt project (manifest)."""
    prepare_environment(settings)
    log.info("airflow db migrate (AIRFLOW_HOME=%s)", os.environ["AIRFLOW_HOME"])
    subprocess.run([_bin("airflow"), "db", "migrate"], check=True, capture_output=True)
    subprocess.run(
        [_bin("airflow"), "pools", "set", "loyalty_warehouse", "1", "DuckDB warehouse: one writer at a time"],
        check=True, capture_output=True,
    )
    parse_dbt()


def parse_dbt(project_dir: Path | None = None, env: dict[str, str] | None = None) -> Path:
    """``dbt parse`` writes target/manifest.json, from which the DAG draws its dbt tasks.

    The parse runs in a private target folder (seeded with the last partial-parse state, so
    it stays a partial parse) and its manifest and partial-parse file are then moved into
    ``target/`` with an atomic rename: a DAG being drawn, or a second parse running at the
    same time (parallel test workers, a scheduler beside ``loyalty setup-airflow``), never
    reads a half-written manifest. ``project_dir``/``env``: another copy of the project and
    the environment of the deployment that will run it (its warehouse path is in the profile).
    """
    import shutil
    import tempfile

    project_dir = project_dir or DBT_PROJECT_DIR
    target = project_dir / "target"
    target.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".parse-", dir=target))
    try:
        if (target / "partial_parse.msgpack").exists():
            shutil.copy2(target / "partial_parse.msgpack", work / "partial_parse.msgpack")
        proc = subprocess.run(
            [_bin("dbt"), "parse", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
             "--target-path", str(work), "--log-path", str(work / "logs")],
            capture_output=True, text=True, check=False, env={**os.environ, **(env or {})},
        )
        if proc.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        for name in ("partial_parse.msgpack", "semantic_manifest.json", "manifest.json"):  # manifest last
            if (work / name).exists():
                os.replace(work / name, target / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target / "manifest.json"


def logical_date_for(business_date: date, tz: str = "Asia/Shanghai") -> datetime:
    """The scheduled run that loads ``business_date``: 02:00 business time the next day."""
    return datetime.combine(business_date + timedelta(days=1), time(2, 0), tzinfo=ZoneInfo(tz))


def load_dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.get_dag("loyalty_nightly")


def run_night(business_date: date, *, full_refresh: bool = False, settings: Settings | None = None) -> str:
    """One real DAG run (``dag.test``) for ``business_date``; returns the run's final state."""
    settings = settings or Settings.from_env()
    prepare_environment(settings)
    with ExitStack() as stack:
        if "AIRFLOW_CONN_LOYALTY_TICKETS_API" not in os.environ:
            from loyalty.ticket_api.server import TicketApiServer

            server = stack.enter_context(TicketApiServer(settings.tickets_jsonl, DEMO_TOKEN))
            host_port = server.url.split("://", 1)[1].rstrip("/")
            host, port = host_port.split(":")
            conn = {"conn_type": "http", "host": host, "port": int(port), "schema": "http", "password": DEMO_TOKEN}
            os.environ["AIRFLOW_CONN_LOYALTY_TICKETS_API"] = json.dumps(conn)
            stack.callback(os.environ.pop, "AIRFLOW_CONN_LOYALTY_TICKETS_API", None)
            log.info("ticket API simulator serving %s at %s", settings.tickets_jsonl, server.url)
        dag = load_dag()
        ld = logical_date_for(business_date, settings.business_tz)
        log.info("running loyalty_nightly for business date %s (logical date %s)", business_date, ld.isoformat())
        dr = dag.test(logical_date=ld, run_conf={"full_refresh": full_refresh})
        state = str(getattr(dr, "state", "unknown"))
        from loyalty.orchestration.lineage import flush

        flush()  # the DAG run's own lineage event, written before returning
    log.info("loyalty_nightly %s: %s", business_date, state)
    return state
