"""Incremental facts: two nights built incrementally give exactly the marts (and facts) of a
full refresh over the same raw zone."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import dbt_util
import pytest

from conftest import END_DATE

pytestmark = [pytest.mark.slow]


def test_two_incremental_nights_equal_full_refresh(landed_demo: Path, tmp_path: Path) -> None:
    # a private copy of the demo: this test advances the sources and lands a second night
    data_dir = tmp_path / "data"
    shutil.copytree(landed_demo, data_dir)
    env = dbt_util.data_env(data_dir)
    dbt_util.run([dbt_util._bin("loyalty"), "register-raw"], env)  # re-point the raw views at the copy
    target = tmp_path / "target"

    dbt_util.dbt("run", END_DATE, env, "--full-refresh", target_path=target)  # night 1

    night2 = (date.fromisoformat(END_DATE) + timedelta(days=1)).isoformat()
    dbt_util.advance(data_dir, 1)
    dbt_util.land_night(data_dir, night2)
    dbt_util.dbt("run", night2, env, target_path=target)  # night 2, incremental

    full = tmp_path / "full.duckdb"
    shutil.copy(data_dir / "warehouse" / "loyalty.duckdb", full)
    dbt_util.dbt("run", night2, dbt_util.data_env(data_dir, full), "--full-refresh", target_path=target)

    inc_marts = dbt_util.snapshot_duckdb(data_dir / "warehouse" / "loyalty.duckdb")
    full_marts = dbt_util.snapshot_duckdb(full)
    inc_facts = dbt_util.snapshot_duckdb(data_dir / "warehouse" / "loyalty.duckdb", dbt_util.FACTS, "core")
    full_facts = dbt_util.snapshot_duckdb(full, dbt_util.FACTS, "core")
    for name in dbt_util.MARTS:
        assert inc_marts[name] == full_marts[name], f"{name}: incremental != full refresh: " + "\n".join(
            dbt_util.diff(inc_marts[name], full_marts[name], 0.0))
    for name in dbt_util.FACTS:
        assert inc_facts[name] == full_facts[name], f"{name}: incremental != full refresh"
