"""Session-wide test environment: a private Airflow home and data root, and PostgreSQL.

Environment variables are set here, at import, before any test imports Airflow.
PostgreSQL at 127.0.0.1:5432 (user postgres) is required: tests that need it FAIL,
never skip, when it cannot be reached.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SESSION_DIR = Path(tempfile.mkdtemp(prefix="loyalty-tests-"))
os.environ["AIRFLOW_HOME"] = str(SESSION_DIR / "airflow")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] = "False"
# cosmos keeps partial-parse state in a cache folder: one per test session (pytest-xdist runs
# two sessions side by side)
os.environ["AIRFLOW__COSMOS__CACHE_DIR"] = str(SESSION_DIR / "cosmos")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{SESSION_DIR / 'airflow' / 'airflow.db'}"
os.environ.setdefault("LOYALTY_DATA_DIR", str(SESSION_DIR / "data"))
os.environ.setdefault("LOYALTY_PII_KEY", "test-pii-key")
# every night's OpenLineage events in its audit folder, as the runner and the deployments set them
# (here before anything imports Airflow, which reads them when it loads the provider's listener)
from loyalty.config import OPENLINEAGE_ENV  # noqa: E402

for _k, _v in OPENLINEAGE_ENV.items():
    os.environ.setdefault(_k, _v)
(SESSION_DIR / "airflow").mkdir(parents=True, exist_ok=True)

PG_HOST = os.environ.get("LOYALTY_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("LOYALTY_PG_PORT", "5432"))
PG_USER = os.environ.get("LOYALTY_PG_USER", "postgres")


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated Airflow metadata DB, the warehouse pool, and a parsed dbt manifest."""
    subprocess.run([_bin("airflow"), "db", "migrate"], check=True, capture_output=True)
    subprocess.run([_bin("airflow"), "pools", "set", "loyalty_warehouse", "1", "warehouse writer"], check=True,
                   capture_output=True)
    from loyalty.orchestration.runner import parse_dbt

    parse_dbt()
    return Path(os.environ["AIRFLOW_HOME"])


def pg_admin_dsn(dbname: str = "postgres") -> str:
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{dbname}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    import psycopg

    try:
        with psycopg.connect(pg_admin_dsn(), connect_timeout=5) as conn:
            conn.execute("select 1")
    except Exception as exc:  # fail, never skip: the Postgres paths are part of the contract
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} as {PG_USER} ({exc}). "
            "Start it (Debian: pg_ctlcluster 15 main start; Docker: docker run -p 5432:5432 "
            "-e POSTGRES_HOST_AUTH_METHOD=trust postgres:16) and re-run."
        )
    return pg_admin_dsn()


@pytest.fixture()
def pg_databases(pg_server: str) -> Iterator[Callable[[], str]]:
    """Makes fresh, empty databases for one test (each call one more), dropped afterwards."""
    import psycopg

    names: list[str] = []

    def make() -> str:
        name = f"loyalty_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        names.append(name)
        return pg_admin_dsn(name)

    try:
        yield make
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            for name in names:
                conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture()
def pg_database(pg_databases: Callable[[], str]) -> str:
    """A fresh, empty database for one test, dropped afterwards; its URL."""
    return pg_databases()


@pytest.fixture(scope="session")
def redis_server() -> str:
    """Redis at 127.0.0.1:6379 (the Celery broker); tests that need it fail, never skip, without it."""
    import redis

    url = os.environ.get("LOYALTY_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except Exception as exc:
        pytest.fail(f"Redis is not reachable at {url} ({exc}). Start it (Debian: service redis-server start; "
                    "Docker: docker run -p 6379:6379 redis:7) and re-run.")
    return url


@pytest.fixture()
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict]]:
    """LOYALTY_ALERT_WEBHOOK pointed at a real endpoint; yields the alerts it received."""
    from helpers import Webhook

    hook = Webhook()
    monkeypatch.setenv("LOYALTY_ALERT_WEBHOOK", hook.url)
    yield hook.received
    hook.close()


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data root for one test (sources, raw zone, warehouse, serving, audit)."""
    d = tmp_path / "data"
    monkeypatch.setenv("LOYALTY_DATA_DIR", str(d))
    for var in ("LOYALTY_SOURCES_DIR", "LOYALTY_SURVEY_INBOX", "LOYALTY_RAW_DIR", "LOYALTY_WAREHOUSE", "LOYALTY_SERVING"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LOYALTY_WAREHOUSE", str(d / "warehouse" / "loyalty.duckdb"))
    return d


# The reference world of the engine and Celery tests: tests/reference_world.py
from reference_world import REFERENCE_NIGHTS, REFERENCE_SCALE, REFERENCE_SEED, duckdb_reference_nights  # noqa: E402


@pytest.fixture(scope="session")
def reference_sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The reference world's sources as each of its two nights sees them (generated once per worker:
    the generator is deterministic, so every worker's copies are the same)."""
    from loyalty.generator import advance, generate

    root = tmp_path_factory.mktemp("reference-sources")
    night1, night2 = root / "night1", root / "night2"
    generate(night1, scale=REFERENCE_SCALE, seed=REFERENCE_SEED, end_date=REFERENCE_NIGHTS[0])
    shutil.copytree(night1, night2)
    advance(night2, days=1)
    return night1, night2


def _shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every pytest-xdist worker of this run sees (the parent of the workers' temp roots)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if base.name.startswith("popen-gw") else base


@pytest.fixture(scope="session")
def duckdb_reference(tmp_path_factory: pytest.TempPathFactory,
                     reference_sources: tuple[Path, Path]) -> Callable[[], dict[str, Any]]:
    """The serving tables of the reference world's two nights on DuckDB, the default engine
    (``nights``: one dict of tables per night), and the names of the Parquet exports (the
    ``exports``). The DAG's stages run in-process: DuckDB's DAG runs are the pipeline tests' subject. Computed once per
    test run, by the first test that asks, under a lock the workers share; the others read them."""
    from filelock import FileLock

    shared = _shared_dir(tmp_path_factory)
    result = shared / "duckdb-reference.pickle"

    def get() -> dict[str, Any]:
        with FileLock(str(shared / "duckdb-reference.lock")):
            if not result.exists():
                nights = duckdb_reference_nights(shared / "duckdb-reference", reference_sources)
                tmp = result.with_suffix(".tmp")
                tmp.write_bytes(pickle.dumps(nights))
                tmp.replace(result)
        return pickle.loads(result.read_bytes())

    return get


# The tests that take minutes (DAG runs, whole dbt builds), longest first, in the order the
# two pytest-xdist workers should start them: `--dist load` hands each worker two tests to
# begin with (1st and 2nd to one, 3rd and 4th to the other), then one at a time as they free
# up. So the Spark nights and the native deployment start at once on different workers, and
# the short tests fill in around them.
LONG_TESTS_FIRST = (
    # the longest (two Spark nights) with a short one: the other worker starts two long ones
    "tests/pipeline/test_engine_nights.py::test_two_nights_on_spark_publish_what_duckdb_publishes",
    "tests/dbt/test_dbt_unit_tests.py::test_dbt_unit_tests_pass",
    "tests/deploy/test_native_deployment.py::test_nights_under_the_scheduler_a_failed_model_and_its_recovery",
    "tests/pipeline/test_older_nights.py::test_backfill_in_any_order_then_a_moved_serving_file",
    # two nights and Superset in Chromium (tests/bi/conftest.py)
    "tests/bi/test_dashboards.py::test_dashboards_in_a_browser_and_a_night_published_while_superset_runs",
    "tests/pipeline/test_nightly_pipeline.py::test_three_nights",
    "tests/pipeline/test_engine_nights.py::test_two_nights_on_postgres_publish_what_duckdb_publishes",
    "tests/deploy/test_native_deployment.py::test_night_1_on_two_celery_workers_publishes_what_duckdb_publishes",
    "tests/dbt/test_period_marts.py::test_marts_are_unchanged_and_an_incremental_night_equals_a_full_refresh",
    "tests/quality/test_lineage.py::test_a_nights_lineage",
    "tests/dbt/test_period_marts.py::test_a_new_period_mart_by_the_recipe",
)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {nodeid: i for i, nodeid in enumerate(LONG_TESTS_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid, len(rank)))  # stable: the rest keep their order
