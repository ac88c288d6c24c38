"""No Docker engine runs here: check the compose file statically, as docker compose would need it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
REQUIRED_ENV = (
    "AIRFLOW__CORE__EXECUTOR", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW_CONN_LOYALTY_SHOP_DB",
    "AIRFLOW_CONN_LOYALTY_TICKETS_API", "LOYALTY_PII_KEY", "LOYALTY_DATA_DIR", "LOYALTY_WAREHOUSE", "LOYALTY_SERVING",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "AIRFLOW__API_AUTH__JWT_SECRET",
)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _pinned(image: str) -> bool:
    name, _, tag = image.rpartition(":")
    return bool(name) and tag not in ("", "latest") and re.search(r"\d", tag) is not None


def test_every_service_is_there(compose: dict) -> None:
    services = compose["services"]
    for s in (*AIRFLOW_SERVICES, "airflow-db", "airflow-init", "shop-db", "seed-sources", "ticket-api", "superset"):
        assert s in services, f"missing service {s}"
    assert [services[s]["command"] for s in AIRFLOW_SERVICES] == ["api-server", "scheduler", "dag-processor", "triggerer"]


def test_images_are_pinned_and_dockerfiles_exist(compose: dict) -> None:
    for name, svc in compose["services"].items():
        assert "image" in svc and _pinned(svc["image"]), f"{name}: image not pinned: {svc.get('image')}"
        if "build" in svc:
            dockerfile = REPO / svc["build"].get("context", ".") / svc["build"].get("dockerfile", "Dockerfile")
            assert dockerfile.exists(), f"{name}: {dockerfile} missing"
            for line in dockerfile.read_text().splitlines():
                if line.startswith("FROM "):
                    assert _pinned(line.split()[1]), f"{dockerfile.name}: base image not pinned: {line}"


def test_healthchecks_on_long_running_services(compose: dict) -> None:
    for name, svc in compose["services"].items():
        if name in ("airflow-init", "seed-sources"):
            continue
        assert "healthcheck" in svc, f"{name} has no healthcheck"


def test_bind_mounts_exist_in_the_repo(compose: dict) -> None:
    named = set(compose.get("volumes", {}))
    for name, svc in compose["services"].items():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src in named:
                continue
            assert (REPO / src).exists(), f"{name}: mounted path {src} does not exist"


def test_environment_is_complete(compose: dict) -> None:
    example = (REPO / ".env.example").read_text()
    defined = {line.split("=")[0] for line in example.splitlines() if "=" in line and not line.startswith("#")}
    text = (REPO / "docker-compose.yml").read_text()
    for var in re.findall(r"\$\{(\w+):\?", text):
        assert var in defined, f"{var} is required by docker-compose.yml but not in .env.example"
    for name in AIRFLOW_SERVICES:
        env = compose["services"][name]["environment"]
        for key in REQUIRED_ENV:
            assert key in env, f"{name}: {key} missing"
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
        deps = compose["services"][name]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully"


# --- the Celery variant: docker compose -f docker-compose.yml -f docker-compose.celery.yml ----------
CELERY_WORKERS = ("airflow-worker-warehouse", "airflow-worker-default")


def _merge(base: object, override: object) -> object:
    """docker compose's merge of an override file: mappings key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return override


@pytest.fixture(scope="module")
def celery_compose(compose: dict) -> dict:
    """The two files merged as docker compose merges them (``extends`` resolved)."""
    override = yaml.safe_load((REPO / "docker-compose.celery.yml").read_text())
    services = dict(compose["services"])
    for name, svc in override["services"].items():
        svc = dict(svc)
        ext = svc.pop("extends", None)
        if ext:
            assert ext["file"] == "docker-compose.yml" and ext["service"] in compose["services"], ext
            base = {k: v for k, v in compose["services"][ext["service"]].items() if k != "depends_on"}
        else:
            base = services.get(name, {})
        services[name] = _merge(base, svc)
    return {**compose, "services": services}


def test_celery_variant_runs_two_workers_on_redis_and_postgres(celery_compose: dict) -> None:
    from loyalty.orchestration import dbt_config

    services = celery_compose["services"]
    assert _pinned(services["redis"]["image"]) and "healthcheck" in services["redis"]
    for name in (*AIRFLOW_SERVICES, "airflow-init", *CELERY_WORKERS):
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql")
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
        for key in REQUIRED_ENV:
            assert key in env, f"{name}: {key} missing"
        if name != "airflow-init":
            assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy", name
    queues = {}
    for name in CELERY_WORKERS:
        cmd = services[name]["command"]
        assert cmd[:2] == ["celery", "worker"], cmd
        queues[name] = cmd[cmd.index("--queues") + 1].split(",")
        assert "healthcheck" in services[name] and "loyalty-data:/opt/loyalty/data" in services[name]["volumes"]
    # one worker serves the queue of the tasks that open the DuckDB file, and nothing else does
    warehouse_queue = services["airflow-worker-warehouse"]["environment"]["LOYALTY_WAREHOUSE_QUEUE"]
    assert warehouse_queue == dbt_config.WAREHOUSE_QUEUE
    assert queues["airflow-worker-warehouse"] == [warehouse_queue]
    assert warehouse_queue not in queues["airflow-worker-default"] and "default" in queues["airflow-worker-default"]
    # the required secrets of the override are in .env.example too
    example = (REPO / ".env.example").read_text()
    for var in re.findall(r"\$\{(\w+):\?", (REPO / "docker-compose.celery.yml").read_text()):
        assert f"\n{var}=" in example, var



# --- Superset: the same config and dashboards as `make bi` ------------------------------------------
def test_superset_runs_make_bis_config_and_dashboards(compose: dict) -> None:
    from pathlib import PurePosixPath

    svc = compose["services"]["superset"]
    env = svc["environment"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in svc["volumes"]}
    config = PurePosixPath(env["SUPERSET_CONFIG_PATH"])
    assert mounts[str(config.parent)] == "./bi" and (REPO / "bi" / config.name).exists(), "not bi/superset_config.py"
    assert not (REPO / "docker" / "superset_config.py").exists(), "a second Superset config"
    command = " ".join(svc["command"])
    assert f"python {config.parent}/assets.py setup --dashboards {config.parent}/dashboards" in command
    assert "--serving \"$${LOYALTY_SERVING}\"" in command and "superset.app:create_app()" in command
    # the serving file the nights publish, read-only; Superset's own state on a volume of its own
    airflow_env = compose["services"]["airflow-scheduler"]["environment"]
    assert env["LOYALTY_SERVING"] == airflow_env["LOYALTY_SERVING"]
    assert "loyalty-data:/opt/loyalty/data:ro" in svc["volumes"]
    assert mounts[env["LOYALTY_BI_HOME"]] in compose["volumes"]
    # secrets from .env (no default password), the font written where the config serves it
    assert env["SUPERSET_SECRET_KEY"].startswith("${SUPERSET_SECRET_KEY:?")
    assert env["LOYALTY_BI_ADMIN_PASSWORD"].startswith("${LOYALTY_BI_ADMIN_PASSWORD:?")
    dockerfile = (REPO / svc["build"]["context"] / svc["build"]["dockerfile"]).read_text()
    assert f"write_font_files(Path('{env['LOYALTY_BI_STATIC']}/fonts'))" in dockerfile
    for line in dockerfile.splitlines():  # what it copies is in the build context
        if line.startswith("COPY "):
            for src in line.split()[1:-1]:
                assert (REPO / svc["build"]["context"] / src).exists(), src
    superset = next(line.split("==")[1] for line in (REPO / "bi" / "requirements.txt").read_text().splitlines()
                    if line.startswith("apache-superset=="))
    assert svc["image"].endswith(f":{superset.split()[0]}") and f"FROM apache/superset:{superset.split()[0]}" in dockerfile
