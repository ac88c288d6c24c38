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

    incremental = data_dir / "warehouse" / "loyalty.duckdb"
    # _loaded_at/_batch_id say which night last recomputed a row: on the incremental night only
    # the periods its changes can alter (and every city row) were recomputed
    meta = ("_loaded_at", "_batch_id")
    inc_marts = dbt_util.snapshot_duckdb(incremental, exclude=meta)
    full_marts = dbt_util.snapshot_duckdb(full, exclude=meta)
    inc_facts = dbt_util.snapshot_duckdb(incremental, dbt_util.FACTS, "core")
    full_facts = dbt_util.snapshot_duckdb(full, dbt_util.FACTS, "core")
    for name in dbt_util.MARTS:
        assert inc_marts[name] == full_marts[name], f"{name}: incremental != full refresh: " + "\n".join(
            dbt_util.diff(inc_marts[name], full_marts[name], 0.0))
    for name in dbt_util.FACTS:
        assert inc_facts[name] == full_facts[name], f"{name}: incremental != full refresh"

    # the incremental night really was incremental: the period marts kept most of night 1's
    # rows (city rows are recomputed every night: the city is the customer's current one)
    period_marts = ("mart_recommendation", "mart_repurchase", "mart_churn", "mart_complaints", "mart_referrals",
                    "mart_membership")
    shares = dbt_util.batch_shares(incremental, period_marts, where="segment_type <> 'city'")
    for name in period_marts:
        kept, recomputed = shares[name].get(END_DATE, 0), shares[name].get(night2, 0)
        assert set(shares[name]) == {END_DATE, night2}, (name, shares[name])
        assert kept > recomputed > 0, f"{name}: night 2 recomputed {recomputed} rows and kept {kept}"
    assert set(dbt_util.batch_shares(full, period_marts)["mart_repurchase"]) == {night2}
    assert set(dbt_util.batch_shares(incremental, period_marts, where="segment_type = 'city'")["mart_repurchase"]) == {
        night2}
