"""The mart gate: real GX on read-only DuckDB query results of a tiny warehouse."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq
import pytest
from quality_data import BATCH, build_warehouse

from loyalty.config import Settings
from loyalty.quality import results
from loyalty.quality.gates import GateFailed, validate_marts


def test_clean_warehouse_passes_and_results_are_queryable(settings, warehouse):
    warehouse()
    summary = validate_marts(settings, BATCH)
    assert all(s["success"] for s in summary.values()), summary
    assert {"mart_recommendation", "mart_repurchase", "mart_churn", "mart_complaints", "mart_care_campaign_roi",
            "mart_referrals", "mart_membership", "mart_customer_360", "mart_cohort_retention", "mart_nps_value", "fct_orders",
            "reconcile_repurchase_revenue"} <= set(summary)
    con = duckdb.connect()
    results.register_audit_views(con, settings)
    n, failed, gates = con.execute(
        "select count(*), count(*) filter (where not success), list(distinct gate) from audit.validation_results"
    ).fetchone()
    assert n > 100 and failed == 0 and gates == ["mart"]


def test_audit_view_is_typed_and_empty_without_results(settings):
    con = duckdb.connect()
    results.register_audit_views(con, settings)
    assert con.execute("select count(*) from audit.validation_results").fetchone() == (0,)
    types = dict(con.execute("select column_name, data_type from information_schema.columns"
                             " where table_schema = 'audit'").fetchall())
    assert types["success"] == "BOOLEAN" and types["validated_at"] == "TIMESTAMP" and types["unexpected_count"] == "BIGINT"


CORRUPTIONS = (
    "update marts.mart_churn set churn_rate = 1.25 where segment_type = 'all'",
    "update marts.mart_recommendation set nps = 140, nps_ci_high = 150",
    "insert into marts.mart_referrals select * from marts.mart_referrals where segment_type = 'all'",
    "update marts.mart_recommendation set is_small_sample = true where segment_type = 'all'",
    "update marts.mart_repurchase set revenue = 150.02 where segment_type = 'all'",
)


@pytest.fixture(scope="module")
def corrupted(tmp_path_factory):
    """One mart-gate run over a warehouse corrupted on purpose in five ways (one per test below)."""
    data = tmp_path_factory.mktemp("corrupted") / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOYALTY_DATA_DIR", str(data))
        mp.setenv("LOYALTY_WAREHOUSE", str(data / "warehouse" / "loyalty.duckdb"))
        settings = Settings.from_env()
        build_warehouse(settings, extra_sql=CORRUPTIONS)
        with pytest.raises(GateFailed) as info:
            validate_marts(settings, BATCH)
    return settings, str(info.value)


def _suite_rows(settings, suite):
    return pq.read_table(results.result_path(settings, BATCH, suite)).to_pylist()


def _has(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, f"{part!r} not in gate message:\n{message}"


def test_rate_out_of_bounds_fails(corrupted):
    _has(corrupted[1], "suite mart_churn", "expect_column_values_to_be_between column=churn_rate", "1.25 x1")


def test_nps_out_of_bounds_fails(corrupted):
    _has(corrupted[1], "suite mart_recommendation", "column=nps ", '"min_value": -100', "140.0 x2")


def test_duplicate_grain_fails(corrupted):
    _has(corrupted[1], "suite mart_referrals", "expect_compound_columns_to_be_unique",
         "column=period_grain,period_start,segment_type,segment_value", "2 unexpected")


def test_small_sample_flag_inconsistent_fails(corrupted):
    _has(corrupted[1], "suite mart_recommendation", "expect_column_pair_values_to_be_equal",
         "column=is_small_sample,expected_is_small_sample")


def test_revenue_reconciliation_fails(corrupted):
    settings, message = corrupted
    _has(message, "suite reconcile_repurchase_revenue", "column=revenue_diff", '"max_value": 0.005', "0.02")
    diff = [r for r in _suite_rows(settings, "reconcile_repurchase_revenue")
            if r["column"] == "revenue_diff" and r["expectation_type"] == "expect_column_values_to_be_between"]
    assert diff[0]["success"] is False and diff[0]["unexpected_count"] == 1


def test_passing_suites_of_a_failed_gate_are_stored_too(corrupted):
    settings, message = corrupted
    assert "suite mart_complaints" not in message
    assert all(r["success"] for r in _suite_rows(settings, "mart_complaints"))


def test_missing_mart_fails_naming_the_table(settings, warehouse):
    warehouse(skip=("mart_membership",))
    with pytest.raises(GateFailed, match=r"marts\.mart_membership does not exist"):
        validate_marts(settings, BATCH)
    row = pq.read_table(results.result_path(settings, BATCH, "mart_membership")).to_pylist()[0]
    assert row["expectation_type"] == "expect_table_to_exist" and row["success"] is False
    # the other suites were still validated and stored
    assert results.result_path(settings, BATCH, "mart_churn").exists()


def test_ratios_over_one_are_correct_data(settings, warehouse):
    """METRICS.md: complaint_rate and redemption_rate may exceed 1 (a quiet day with more
    complaints than orders; members redeeming points earned earlier): no expectation fires."""
    warehouse(extra_sql=("update marts.mart_membership set redemption_rate = 1.4, points_redeemed = 1400",
                         "update marts.mart_complaints set complaint_rate = 1.5, complaints = 3, orders = 2"))
    summary = validate_marts(settings, BATCH)
    assert all(s["success"] and not s["failed_warnings"] for s in summary.values()), summary


def test_warning_expectation_does_not_raise(settings, warehouse):
    older = "2026-11-20"
    warehouse(extra_sql=(f"update marts.mart_customer_360 set _batch_id = '{older}' where customer_id = 12",))
    summary = validate_marts(settings, BATCH)
    assert summary["mart_customer_360"]["success"]
    assert "expect_column_values_to_be_in_set(_batch_id)" in summary["mart_customer_360"]["failed_warnings"]
