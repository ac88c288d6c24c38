"""The one place that builds cosmos's ProjectConfig/ProfileConfig/ExecutionConfig/RenderConfig.

The dbt project is parsed ahead of time (``dbt parse`` writes ``target/manifest.json``,
done by ``make setup`` / ``loyalty setup-airflow``) and cosmos reads that manifest
(``LoadMode.DBT_MANIFEST``), so drawing the DAG never runs dbt.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, LoadMode, TestBehavior

from loyalty.config import DBT_PROJECT_DIR, night_env  # noqa: F401  (night_env: re-exported)

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
WAREHOUSE_POOL = "loyalty_warehouse"


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else (shutil.which("dbt") or "dbt")


project_config = ProjectConfig(
    dbt_project_path=DBT_PROJECT_DIR,
    manifest_path=MANIFEST,
    project_name="loyalty",
    install_dbt_deps=False,  # the project uses no dbt packages (the package hub is not reachable)
)
profile_config = ProfileConfig(
    profile_name="loyalty",
    target_name=os.environ.get("LOYALTY_DBT_TARGET", "duckdb"),
    profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
)
execution_config = ExecutionConfig(execution_mode=ExecutionMode.LOCAL, dbt_executable_path=dbt_executable())
render_config = RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.BUILD)
