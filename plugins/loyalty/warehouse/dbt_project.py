"""How this package runs the dbt project: its target (``LOYALTY_DBT_TARGET``), the manifest the
DAG is drawn from, the flags of the nightly build, the dbt executable, and where the newest
partial-parse state is.

The warehouse layer (``dbt_docs``) and the orchestration layer (cosmos's configuration in
``loyalty.orchestration.dbt_config``, the stages without Airflow) both read these, so they live
here, below both. Where the project itself is: ``loyalty.config.DBT_PROJECT_DIR``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from loyalty.config import DBT_PROJECT_DIR, Settings

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
PROFILES_YML = DBT_PROJECT_DIR / "profiles.yml"
DEFAULT_TARGET = "duckdb"
# the nightly build: models and their data tests; dbt's unit tests test the SQL on fixed inputs,
# which is CI's job (tests/dbt), as dbt advises for production runs
BUILD_FLAGS = ["--exclude-resource-type", "unit_test"]


def target_name() -> str:
    """The target of ``profiles.yml`` this process builds and reads with: ``LOYALTY_DBT_TARGET``,
    default ``duckdb`` (``loyalty.warehouse.engines.engine_name`` checks it is one we support)."""
    return os.environ.get("LOYALTY_DBT_TARGET", DEFAULT_TARGET)


def dbt_executable() -> str:
    """The ``dbt`` beside this Python (the virtualenv's), else the one on the PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else (shutil.which("dbt") or "dbt")


def cache_dir() -> Path:
    """cosmos's partial-parse cache for the night's build, kept with the deployment's data (the
    newer of it and ``dbt_project/target/`` is used). dbt re-parses the whole project when the
    rendered profile differs from the one the state was saved with (the warehouse path is in
    it), so a cache shared by several deployments on one machine would re-parse every night."""
    return Settings.from_env().data_dir / "cache" / "dbt"


def latest_partial_parse() -> Path | None:
    """The newest saved partial-parse state: the nightly build's cache or ``target/``."""
    candidates = [p for p in (cache_dir() / "target" / "partial_parse.msgpack",
                              DBT_PROJECT_DIR / "target" / "partial_parse.msgpack") if p.exists()]
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None
