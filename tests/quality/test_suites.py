"""The reviewed suites under expectations/ stay in step with loyalty.contracts and METRICS.md."""

from __future__ import annotations

from datetime import datetime, timedelta

from loyalty import contracts
from loyalty.config import EXPECTATIONS_DIR
from loyalty.quality.suites import RuleContext, bind, load_suite, mart_suite_paths, raw_suite_path

MARTS = ("mart_recommendation", "mart_repurchase", "mart_churn", "mart_complaints", "mart_care_campaign_roi",
         "mart_referrals", "mart_membership", "mart_customer_360", "mart_cohort_retention", "mart_nps_value")


def _of(suite, type_):
    return [e for e in suite.expectations if e["type"] == type_]


def test_one_raw_suite_per_landed_table_covering_the_contract():
    for name, table in contracts.ALL_TABLES.items():
        suite = load_suite(raw_suite_path(name))
        assert suite.name == f"raw_{name}" and suite.meta["owner"] and suite.severity == "error"
        cols = _of(suite, "expect_table_columns_to_match_set")[0]["kwargs"]["column_set"]
        assert cols == [*table.column_names, *(c.name for c in contracts.RAW_METADATA_COLUMNS)]
        not_null = {e["kwargs"]["column"] for e in _of(suite, "expect_column_values_to_not_be_null")}
        assert {c.name for c in table.columns if not c.nullable} <= not_null
        assert table.primary_key in {e["kwargs"]["column"] for e in _of(suite, "expect_column_values_to_be_unique")}
        in_set = {e["kwargs"]["column"]: e["kwargs"]["value_set"] for e in _of(suite, "expect_column_values_to_be_in_set")}
        for c in table.columns:
            if c.accepted:
                assert in_set[c.name] == list(c.accepted), (name, c.name)
        assert not _of(suite, "expect_table_row_count_to_be_between"), "no volume band: it fails on correct spikes"
        fresh = _of(suite, "expect_column_max_to_be_between")[0]
        assert fresh["meta"]["severity"] == "warning" and fresh["meta"]["rule"]["kind"] == "extraction_window"
        assert fresh["kwargs"]["column"] == table.cursor and "freshness" in fresh["meta"]["check"]
        assert all(isinstance(v, dict) and "$PARAMETER" in v for k, v in fresh["kwargs"].items() if k.endswith("_value"))


def test_mart_suites_exist_and_bind():
    names = {p.stem for p in mart_suite_paths()}
    assert set(MARTS) <= names and "fct_orders" in names and "reconcile_repurchase_revenue" in names
    for path in mart_suite_paths():
        suite = load_suite(path)
        bound = bind(suite, RuleContext(batch_id="2026-11-21", row_count=1))
        assert bound.expectations and all(e["meta"]["severity"] in ("error", "warning") for e in bound.expectations)
        if suite.name in MARTS and suite.name not in ("mart_care_campaign_roi", "mart_customer_360", "mart_cohort_retention",
                                                      "mart_nps_value"):
            grain = _of(suite, "expect_compound_columns_to_be_unique")[0]["kwargs"]["column_list"]
            assert grain == ["period_grain", "period_start", "segment_type", "segment_value"]


def test_extraction_window_rule_binds_the_batch_window():
    suite = load_suite(raw_suite_path("orders"))
    start, end = datetime(2026, 11, 19, 16), datetime(2026, 11, 21, 16)
    bound = bind(suite, RuleContext(batch_id="2026-11-21", row_count=5, window_start=start, window_end=end))
    assert bound.parameters["window_min_cursor"] == start and bound.parameters["window_max_cursor"] == end
    assert bound.parameters["batch_id_set"] == ["2026-11-21"]
    empty = bind(suite, RuleContext(batch_id="2026-11-21", row_count=0, window_start=start, window_end=end))
    assert [e["type"] for e, _ in empty.skipped] == ["expect_column_max_to_be_between"]
    surveys = bind(load_suite(raw_suite_path("survey_responses")),
                   RuleContext(batch_id="2026-11-21", row_count=5, window_end=end))
    assert surveys.parameters["window_min_cursor"] is None
    assert surveys.parameters["window_max_cursor"] == end + timedelta(hours=24)  # the tool's own day
    assert EXPECTATIONS_DIR.is_dir()
