"""The reference world of the engine and Celery tests, and its nights on DuckDB (the fixtures
``reference_sources`` and ``duckdb_reference`` in tests/conftest.py)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

# The generator's tiny world (seed 11: 400
# customers, 8 stores, every kind of row and mess; tests/generator) on two nights, 2026-11-21
# and the next day. Its DuckDB serving tables are what a night on another engine or executor
# must publish, value for value. Tiny, because Spark's time grows with the rows (the cities x
# periods grids above all) far more than DuckDB's.
REFERENCE_SCALE = "tiny"
REFERENCE_SEED = 11
REFERENCE_NIGHTS = (date(2026, 11, 21), date(2026, 11, 22))


def duckdb_reference_nights(root: Path, sources: tuple[Path, Path]) -> dict[str, Any]:
    """The DAG's stages in-process for both nights, in ``root``: each night's serving tables
    (``nights``) and the Parquet exports' names (``exports``)."""
    from helpers import serving_night, serving_tables
    from loyalty.config import Settings
    from loyalty.orchestration.runner import DEMO_TOKEN
    from loyalty.orchestration.stages import stages_night
    from loyalty.ticket_api.server import TicketApiServer

    nights = []
    with pytest.MonkeyPatch.context() as mp:
        data = root / "data"
        mp.setenv("LOYALTY_DATA_DIR", str(data))
        mp.setenv("LOYALTY_WAREHOUSE", str(data / "warehouse" / "loyalty.duckdb"))
        for var in ("LOYALTY_DBT_TARGET", "LOYALTY_SERVING", "LOYALTY_SOURCES_DIR", "LOYALTY_SURVEY_INBOX",
                    "LOYALTY_RAW_DIR", "LOYALTY_SPARK_DIR", "AIRFLOW_CONN_LOYALTY_SHOP_DB",
                    "AIRFLOW_CONN_LOYALTY_TICKETS_API"):
            mp.delenv(var, raising=False)
        settings = Settings.from_env()
        for day, night_sources in zip(REFERENCE_NIGHTS, sources, strict=True):
            shutil.rmtree(settings.sources_dir, ignore_errors=True)
            shutil.copytree(night_sources, settings.sources_dir)
            with TicketApiServer(settings.tickets_jsonl, DEMO_TOKEN) as server:
                stages_night(day, full=False, shop_url=settings.default_shop_db_url, tickets_url=server.url,
                             token=DEMO_TOKEN, target_path=root / "target", docs=False, report=False)
            assert serving_night(settings.serving_path) == day.isoformat()
            nights.append(serving_tables(settings.serving_path))
        exports = sorted(p.name for p in (settings.data_dir / "serving").rglob("*.parquet"))
    return {"nights": nights, "exports": exports}
