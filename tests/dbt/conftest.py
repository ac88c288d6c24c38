"""One landed demo night shared by the dbt tests (small scale, seed 7)."""

from __future__ import annotations

from pathlib import Path

import dbt_util
import pytest

END_DATE = "2026-11-21"


@pytest.fixture(scope="session")
def landed_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("dbt-demo") / "data"
    dbt_util.generate(data_dir, END_DATE)
    dbt_util.land_night(data_dir, END_DATE)
    return data_dir
