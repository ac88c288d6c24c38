"""dbt's unit tests (every metric formula on hand-made inputs, expected values worked out by
hand in the YAML). The nightly build leaves them out (they test the SQL, not the night's
data), so CI runs them here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dbt_util
import pytest

from conftest import END_DATE

pytestmark = [pytest.mark.slow]


def test_dbt_unit_tests_pass(landed_demo: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "unit.duckdb"
    shutil.copy(landed_demo / "warehouse" / "loyalty.duckdb", warehouse)
    env = dbt_util.data_env(landed_demo, warehouse)
    target = tmp_path / "target"
    dbt_util.dbt("run", END_DATE, env, target_path=target)  # unit tests read the input models' columns
    dbt_util.dbt("test", END_DATE, env, "--select", "test_type:unit", target_path=target)
    results = json.loads((target / "run_results.json").read_text())["results"]
    unit = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert len(unit) >= 12, sorted(unit)
    assert set(unit.values()) == {"pass"}, {k: v for k, v in unit.items() if v != "pass"}
    models = {uid.split(".")[2] for uid in unit}
    for model in ("mart_recommendation", "mart_repurchase", "mart_churn", "mart_care_campaign_roi", "mart_referrals",
                  "int_customer_period_keys", "int_customer_periods", "int_active_customer_counts",
                  "int_member_tier_ranges", "dim_members"):
        assert model in models, f"no unit test ran for {model}"
