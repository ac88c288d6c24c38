"""The deployment of docker-compose.yml, run natively: PostgreSQL as Airflow's metadata DB,
the api-server, scheduler and dag-processor as real processes (LocalExecutor), the nightly
DAG triggered through Airflow's REST API and awaited, then the serving file queried.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
import requests

from loyalty.config import Settings

BUSINESS_DATE = date(2026, 11, 21)
LOGICAL_DATE = "2026-11-21T18:00:00Z"  # 02:00 Asia/Shanghai on 11-22: loads business day 11-21
RUN_TIMEOUT_S = 780  # the test timeout is 900 s; two pytest workers share the machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@pytest.fixture()
def deployment(tmp_path: Path, data_dir: Path, pg_database: str) -> Iterator[dict]:
    from loyalty.generator import generate
    from loyalty.orchestration.runner import DEMO_TOKEN, parse_dbt
    from loyalty.ticket_api.server import TicketApiServer

    settings = Settings.from_env()
    generate(settings.sources_dir, scale="small", seed=5, end_date=BUSINESS_DATE)
    parse_dbt()
    port = _free_port()
    home = tmp_path / "airflow-home"
    home.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    server = TicketApiServer(settings.tickets_jsonl, DEMO_TOKEN)
    server.start()
    tickets_host, tickets_port = server.url.split("://", 1)[1].rstrip("/").split(":")
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg_database.replace("postgresql://", "postgresql+psycopg2://", 1),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API_AUTH__JWT_SECRET": "native-deployment-test-secret",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "LOYALTY_NIGHTLY_CRON": "none",  # only the run this test triggers
        "AIRFLOW_CONN_LOYALTY_SHOP_DB": json.dumps({"conn_type": "sqlite", "host": str(settings.sources_dir / "shop.sqlite")}),
        "AIRFLOW_CONN_LOYALTY_TICKETS_API": json.dumps(
            {"conn_type": "http", "host": tickets_host, "port": int(tickets_port), "schema": "http", "password": DEMO_TOKEN}
        ),
    })
    subprocess.run([_bin("airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([_bin("airflow"), "pools", "set", "loyalty_warehouse", "1", "warehouse writer"], env=env, check=True,
                   capture_output=True)
    procs: dict[str, subprocess.Popen] = {}
    for name, args in {
        "api-server": ["api-server", "--port", str(port)],
        "scheduler": ["scheduler"],
        "dag-processor": ["dag-processor"],
    }.items():
        out = (logs / f"{name}.log").open("w")
        procs[name] = subprocess.Popen([_bin("airflow"), *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
    try:
        yield {"base": f"http://127.0.0.1:{port}", "procs": procs, "logs": logs, "settings": settings, "home": home}
    finally:
        for p in procs.values():
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        server.stop()


def _wait(what: str, probe, timeout: float, procs: dict, logs: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, p in procs.items():
            if p.poll() is not None:
                pytest.fail(f"{name} exited ({p.returncode}) while waiting for {what}:\n"
                            + (logs / f"{name}.log").read_text()[-3000:])
        try:
            result = probe()
        except requests.RequestException:
            result = None
        if result:
            return result
        time.sleep(2)
    tails = "\n".join(f"--- {n}\n{(logs / f'{n}.log').read_text()[-2000:]}" for n in procs)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}")


def test_nightly_dag_runs_under_scheduler_via_rest_api(deployment: dict) -> None:
    base, procs, logs = deployment["base"], deployment["procs"], deployment["logs"]
    settings: Settings = deployment["settings"]

    _wait("the api-server", lambda: requests.get(f"{base}/api/v2/monitor/health", timeout=5).ok, 120, procs, logs)
    token = requests.get(f"{base}/auth/token", timeout=10).json()["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    _wait("the DAG to be parsed",
          lambda: requests.get(f"{base}/api/v2/dags/loyalty_nightly", headers=h, timeout=5).status_code == 200,
          180, procs, logs)
    r = requests.patch(f"{base}/api/v2/dags/loyalty_nightly", headers=h, json={"is_paused": False}, timeout=10)
    assert r.ok, r.text
    r = requests.post(f"{base}/api/v2/dags/loyalty_nightly/dagRuns", headers=h, timeout=10,
                      json={"logical_date": LOGICAL_DATE, "conf": {"full_refresh": False}})
    assert r.ok, r.text
    run_id = r.json()["dag_run_id"]

    def finished() -> str | None:
        state = requests.get(f"{base}/api/v2/dags/loyalty_nightly/dagRuns/{run_id}", headers=h, timeout=10).json()["state"]
        return state if state in ("success", "failed") else None

    state = _wait(f"dag run {run_id}", finished, RUN_TIMEOUT_S, procs, logs)
    if state != "success":
        tis = requests.get(f"{base}/api/v2/dags/loyalty_nightly/dagRuns/{run_id}/taskInstances?limit=200", headers=h,
                           timeout=10).json()
        bad = [(t["task_id"], t["state"]) for t in tis["task_instances"] if t["state"] != "success"]
        pytest.fail(f"dag run {run_id} ended {state}; task states: {bad}")

    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        assert con.execute("select batch_id from meta.publication").fetchone() == (BUSINESS_DATE.isoformat(),)
        n = con.execute("select count(*) from marts.mart_repurchase where segment_type = 'all'").fetchone()[0]
        assert n > 0
    finally:
        con.close()
    # the asset event of the publish task is visible through the API too
    events = requests.get(f"{base}/api/v2/assets/events", headers=h, timeout=10).json()
    assert any(e.get("source_run_id") == run_id for e in events.get("asset_events", []))
