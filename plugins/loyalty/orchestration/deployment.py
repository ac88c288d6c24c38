"""The docker-compose deployment, run natively as processes: PostgreSQL as Airflow's metadata
DB, the api-server, scheduler, dag-processor and triggerer, driven through Airflow's REST API.
The deployment tests and ``make bench`` use it.

    with NativeDeployment(home, metadata_db_url, env) as dep:            # LocalExecutor
        run_id = dep.trigger("2026-11-21T18:00:00Z")
        state = dep.wait_for_run(run_id)
        print(dep.task_timings(run_id))

    NativeDeployment.celery(home, metadata_db_url, env)                  # CeleryExecutor

The Celery variant (docker-compose's ``celery`` profile) adds Redis as the broker, the metadata
DB as the result backend, and one ``airflow celery worker`` process per entry of
``CELERY_WORKERS``: ``worker-warehouse`` serves only the ``warehouse`` queue (every task that
opens the DuckDB file, so it has one writer), ``worker-default`` the rest (extraction, raw gate,
report). On one machine the workers are told apart by name (``LOYALTY_WORKER_NAME``, reported
as the task instances' hostname by ``worker_hostname``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from loyalty.config import OPENLINEAGE_ENV, REPO_ROOT

DAG_ID = "loyalty_nightly"
COMPONENTS = {
    "api-server": ["api-server"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer"],
}


# worker name → the queues it serves (docker-compose.yml's celery profile has the same two)
CELERY_WORKERS = {"worker-warehouse": "warehouse", "worker-default": "default"}


def worker_hostname() -> str:
    """``[core] hostname_callable`` for several workers on one machine: ``<worker>@<host>``."""
    name = os.environ.get("LOYALTY_WORKER_NAME")
    fqdn = socket.getfqdn()
    return f"{name}@{fqdn}" if name else fqdn


class DeploymentError(RuntimeError):
    """A component exited, or something did not happen in time; the message has the logs' tails."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@dataclass
class NativeDeployment:
    home: Path
    metadata_db_url: str  # postgresql://… (psycopg2 driver is filled in)
    extra_env: dict[str, str] = field(default_factory=dict)
    executor: str = "LocalExecutor"
    parallelism: int = 4
    components: dict[str, list[str]] = field(default_factory=lambda: dict(COMPONENTS))
    # environment of one component only (a Celery worker's name and log-server port)
    component_env: dict[str, dict[str, str]] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    port: int = 0
    _token: str | None = None

    @classmethod
    def celery(cls, home: Path, metadata_db_url: str, extra_env: dict[str, str] | None = None, *,
               workers: dict[str, str] | None = None, concurrency: int = 4,
               broker_url: str = "redis://127.0.0.1:6379/0") -> NativeDeployment:
        """The CeleryExecutor deployment: Redis broker, the metadata DB as result backend, one
        worker process per ``workers`` entry (name → comma-separated queues). The broker's keys
        are prefixed with the deployment's port, so deployments sharing a Redis never meet."""
        workers = dict(workers or CELERY_WORKERS)
        dep = cls(home=home, metadata_db_url=metadata_db_url, extra_env=dict(extra_env or {}),
                  executor="CeleryExecutor")
        dep.port = free_port()
        db = metadata_db_url.replace("postgresql://", "postgresql+psycopg2://", 1)
        dep.extra_env.update({
            "AIRFLOW__CELERY__BROKER_URL": broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{db}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(concurrency),
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": f"loyalty-{dep.port}:",
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "21600",
            **dep.extra_env,
        })
        for name, queues in workers.items():
            dep.components[name] = ["celery", "worker", "--queues", queues, "--celery-hostname", f"{name}@%h",
                                    "--concurrency", str(concurrency), "--without-gossip", "--without-mingle"]
            dep.component_env[name] = {
                "LOYALTY_WORKER_NAME": name,
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "loyalty.orchestration.deployment.worker_hostname",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            }
        return dep

    # --- life cycle --------------------------------------------------------------------------
    @property
    def logs(self) -> Path:
        return self.home / "component-logs"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        url = self.metadata_db_url
        if url.startswith("postgresql://"):
            url = url.replace("postgresql://", "postgresql+psycopg2://", 1)
        env = dict(os.environ)
        env.update({
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
            "AIRFLOW__CORE__EXECUTOR": self.executor,
            "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API_AUTH__JWT_SECRET": env.get("AIRFLOW__API_AUTH__JWT_SECRET", "native-deployment-secret"),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "LOYALTY_NIGHTLY_CRON": "none",  # only the runs that are triggered
            # task processes start with the heavy imports done (loyalty.orchestration.preload)
            "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
            "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": "loyalty.orchestration.preload",
            # a task's supervisor that has read every socket's EOF before the process is reaped
            # sleeps until the next heartbeat (5 s by default) holding its worker slot; 1 s bounds it
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
            # an idle scheduler loops again after 0.25 s, not 1 s: each task's downstream starts sooner
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.25",
        })
        for k, v in OPENLINEAGE_ENV.items():  # each night's lineage in its audit folder
            env.setdefault(k, v)
        env.update(self.extra_env)
        return env

    def start(self) -> NativeDeployment:
        self.port = self.port or free_port()
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        env = self.environment()
        subprocess.run([_bin("airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([_bin("airflow"), "pools", "set", "loyalty_warehouse", "1", "DuckDB warehouse: one writer"],
                       env=env, check=True, capture_output=True)
        for name, args in self.components.items():
            out = (self.logs / f"{name}.log").open("w")
            self.procs[name] = subprocess.Popen([_bin("airflow"), *args], env={**env, **self.component_env.get(name, {})},
                                                stdout=out,
                                                stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def stop(self) -> None:
        for p in self.procs.values():
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in self.procs.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        self.procs.clear()

    def __enter__(self) -> NativeDeployment:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- waiting -----------------------------------------------------------------------------
    def tails(self, n: int = 2000) -> str:
        return "\n".join(f"--- {name}\n{(self.logs / f'{name}.log').read_text()[-n:]}" for name in self.procs)

    def wait(self, what: str, probe: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise DeploymentError(f"{name} exited ({p.returncode}) while waiting for {what}:\n"
                                          + (self.logs / f"{name}.log").read_text()[-3000:])
            try:
                result = probe()
            except requests.RequestException:
                result = None
            if result:
                return result
            time.sleep(interval)
        raise DeploymentError(f"timed out after {timeout:.0f}s waiting for {what}\n{self.tails()}")

    # --- REST API ----------------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        if self._token is None:
            self._token = requests.get(f"{self.base}/auth/token", timeout=10).json()["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.base}/api/v2{path}", headers=self.headers(), timeout=15, **kwargs)

    def wait_ready(self, timeout: float = 240) -> None:
        """The api-server answers and the DAG is parsed and unpaused."""
        self.wait("the api-server", lambda: requests.get(f"{self.base}/api/v2/monitor/health", timeout=5).ok, timeout)
        self.wait("the DAG to be parsed", lambda: self.api("GET", f"/dags/{DAG_ID}").status_code == 200, timeout)
        r = self.api("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
        r.raise_for_status()
        # the api-server builds its Execution API (versioned schemas) on the first request to it:
        # ~3 s that a long-running deployment pays once, not on a night's first task
        requests.get(f"{self.base}/execution/health", timeout=60)

    def trigger(self, logical_date: str, conf: dict[str, Any] | None = None) -> str:
        r = self.api("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": logical_date, "conf": conf or {}})
        if not r.ok:
            raise DeploymentError(f"trigger failed: {r.status_code} {r.text}")
        return str(r.json()["dag_run_id"])

    def run(self, run_id: str) -> dict[str, Any]:
        return dict(self.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}").json())

    def wait_for_run(self, run_id: str, timeout: float = 900) -> str:
        def finished() -> str | None:
            state = self.run(run_id)["state"]
            return state if state in ("success", "failed") else None

        return str(self.wait(f"dag run {run_id}", finished, timeout))

    def task_instances(self, run_id: str) -> list[dict[str, Any]]:
        r = self.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})
        r.raise_for_status()
        return list(r.json()["task_instances"])

    def task_log(self, run_id: str, task_id: str, map_index: int = -1) -> str:
        """The task's log as written to disk by its worker and by the triggerer, every attempt."""
        folder = self.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / f"task_id={task_id}"
        if map_index >= 0:
            folder = folder / f"map_index={map_index}"
        parts = []
        for f in sorted(folder.glob("attempt=*.log*")):
            parts.append(f.read_text(errors="replace"))
        return "\n".join(parts)

    def wait_for_log(self, run_id: str, task_id: str, *needles: str, timeout: float = 180.0) -> str:
        """The task's log once it holds every needle. The triggerer writes a trigger's lines
        after the event that ends the task, so a log read right after the run ends may lack them."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.task_log(run_id, task_id)
            if all(n in log for n in needles) or time.monotonic() > deadline:
                return log
            time.sleep(0.5)

    def task_timings(self, run_id: str) -> dict[str, Any]:
        """Wall time of the run (queued → end) and every task's duration, for the benchmark."""
        run = self.run(run_id)
        start = _ts(run.get("queued_at")) or _ts(run.get("start_date"))
        end = _ts(run.get("end_date"))
        tasks = []
        for ti in self.task_instances(run_id):
            tasks.append({"task_id": ti["task_id"], "map_index": ti.get("map_index", -1), "state": ti["state"],
                          "duration": ti.get("duration"), "hostname": ti.get("hostname"), "queue": ti.get("queue"),
                          "start": ti.get("start_date"), "end": ti.get("end_date")})
        return {"wall_s": (end - start).total_seconds() if start and end else None, "tasks": tasks}
