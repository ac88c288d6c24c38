"""Builders of small clean inputs for the quality gates: landed raw batches (real Parquet + _batch.json) and
a tiny DuckDB warehouse with ``marts`` and ``core`` tables, all under a private data root."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from loyalty import contracts
from loyalty.config import Settings
from loyalty.extract import batches
from loyalty.extract.night import Night

BATCH = "2026-11-21"
NIGHT = Night.from_batch_id(BATCH)
_ARROW = {"BIGINT": pa.int64(), "INTEGER": pa.int32(), "VARCHAR": pa.string(), "DECIMAL(12,2)": pa.decimal128(12, 2),
          "TIMESTAMP": pa.timestamp("us"), "DATE": pa.date32()}
_SMALL_INTS = {"nps_score": lambda i: i % 11, "satisfaction": lambda i: 1 + i % 5, "satisfaction_after": lambda i: 1 + i % 5,
               "quantity": lambda i: 1 + i % 3, "reopen_count": lambda i: 0, "points": lambda i: 10}


def clean_rows(table_name: str, n: int, batch_id: str = BATCH) -> list[dict[str, Any]]:
    """``n`` rows that satisfy the table's contract and suite."""
    table = contracts.ALL_TABLES[table_name]
    night = Night.from_batch_id(batch_id)
    end = night.end_naive
    rows = []
    for i in range(n):
        row: dict[str, Any] = {}
        for c in table.columns:
            if c.nullable and c.accepted is None and c.name not in _SMALL_INTS:
                row[c.name] = None
            elif c.accepted:
                row[c.name] = c.accepted[i % len(c.accepted)]
            elif c.type in ("BIGINT", "INTEGER"):
                row[c.name] = _SMALL_INTS[c.name](i) if c.name in _SMALL_INTS else i + 1
            elif c.type == "VARCHAR":
                row[c.name] = f"{c.name}-{i + 1}"
            elif c.type == "DECIMAL(12,2)":
                row[c.name] = Decimal("10.00") + i
            elif c.type == "TIMESTAMP":
                row[c.name] = end - timedelta(hours=1 + i % 20)
            elif c.type == "DATE":
                row[c.name] = date(2026, 1, 1)
        row.update({"_batch_id": batch_id, "_extracted_at": end + timedelta(hours=2), "_source_file": None,
                    "_source_line": None})
        rows.append(row)
    return rows


def arrow_schema(table_name: str) -> pa.Schema:
    table = contracts.ALL_TABLES[table_name]
    return pa.schema([(c.name, _ARROW[c.type]) for c in (*table.columns, *contracts.RAW_METADATA_COLUMNS)])


def land(settings: Settings, table_name: str, rows: list[dict[str, Any]], batch_id: str = BATCH, *,
         mode: str = "incremental", schema: pa.Schema | None = None, quarantined: int = 0,
         window_start: datetime | None = None) -> Path:
    """Write ``raw/<table>/batch_id=<id>/part-0.parquet`` and its ``_batch.json``."""
    night = Night.from_batch_id(batch_id)
    folder = batches.batch_dir(settings, table_name, batch_id)
    folder.mkdir(parents=True, exist_ok=True)
    schema = schema or arrow_schema(table_name)
    cols = {name: [r.get(name) for r in rows] for name in schema.names}
    pq.write_table(pa.table(cols, schema=schema), folder / "part-0.parquet")
    record = batches.BatchRecord(
        table=table_name, source=contracts.ALL_TABLES[table_name].source, batch_id=batch_id,
        data_interval_start=night.start_utc.isoformat(), data_interval_end=night.end_utc.isoformat(),
        extracted_at=(night.end_utc + timedelta(hours=2)).isoformat(), mode=mode,
        window_start=window_start.isoformat() if window_start else None,
        window_end=night.end_utc.isoformat(), rows_read=len(rows) + quarantined, rows_landed=len(rows),
        rows_quarantined=quarantined, rows_duplicate=0,
    )
    batches.write_record(folder, record)
    return folder


# ------------------------------------------------------------------------------------------
# A tiny warehouse: core.fct_orders + the 8 marts with the METRICS.md columns.

PERIOD_COLS = "period_grain varchar, period_start date, segment_type varchar, segment_value varchar"
META_COLS = "_loaded_at timestamp, _batch_id varchar"
MART_DDL = {
    "mart_recommendation": "valid_nps_responses bigint, promoters bigint, passives bigint, detractors bigint, nps double,"
    " nps_ci_low double, nps_ci_high double, recommend_rate double, satisfaction_responses bigint, satisfied bigint,"
    " satisfaction_rate double, repurchase_intent_high_rate double, est_positive_mentions bigint,"
    " est_negative_mentions bigint, is_small_sample boolean",
    "mart_repurchase": "active_customers_at_start bigint, repurchasers bigint, repurchase_rate double,"
    " repurchase_band varchar, orders bigint, revenue decimal(18,2), buyers bigint, avg_order_value decimal(18,2),"
    " new_buyers bigint",
    "mart_churn": "active_customers_at_start bigint, churned bigint, churn_rate double, reactivated bigint,"
    " members_at_start bigint, members_cancelled bigint, member_churn_rate double",
    "mart_complaints": "complaints bigint, orders bigint, complaint_rate double, resolved bigint,"
    " median_resolution_hours double, p90_resolution_hours double, median_first_response_hours double,"
    " reopen_rate double, post_resolution_satisfaction double, compensation_amount decimal(18,2)",
    "mart_referrals": "invites bigint, registered bigint, converted bigint, conversion_rate double,"
    " rewards_cost decimal(18,2), referred_revenue decimal(18,2), active_referrers bigint, referral_rate double,"
    " suspicious_referrals bigint, verified_converted bigint",
    "mart_membership": "members_at_start bigint, new_members bigint, members_cancelled bigint, points_earned bigint,"
    " points_redeemed bigint, redemption_rate double, points_outstanding bigint, member_repurchase_rate double,"
    " non_member_repurchase_rate double",
}
MART_ROW = {
    "mart_recommendation": "40, 20, 10, 10, 25.0, 5.0, 45.0, 0.5, 40, 30, 0.75, 0.4, 150, 100, false",
    "mart_repurchase": "100, 40, 0.4, 'medium', 2, 150.00, 2, 75.00, 1",
    "mart_churn": "100, 10, 0.1, 3, 50, 2, 0.04",
    "mart_complaints": "3, 2, 0.5, 2, 5.0, 9.0, 1.0, 0.0, 4.0, 10.00",
    "mart_referrals": "10, 6, 4, 0.4, 400.00, 1000.00, 5, 0.05, 1, 3",
    "mart_membership": "50, 5, 2, 1000, 300, 0.3, 5000, 0.4, 0.2",
}


def build_warehouse(settings: Settings, batch_id: str = BATCH, *, skip: tuple[str, ...] = (),
                    extra_sql: tuple[str, ...] = ()) -> Path:
    """A DuckDB warehouse with one clean day of every mart (revenue reconciles with fct_orders)."""
    import duckdb

    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    day = date.fromisoformat(batch_id)
    loaded = Night.from_batch_id(batch_id).end_naive
    meta = f"timestamp '{loaded}', '{batch_id}'"
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute("create schema if not exists core; create schema if not exists marts")
        con.execute(
            "create or replace table core.fct_orders (order_id bigint, customer_id bigint, store_id integer,"
            " channel varchar, order_status varchar, is_valid boolean, order_amount decimal(12,2),"
            " discount_amount decimal(12,2), ordered_at timestamp, ordered_date date, source_batch_id varchar,"
            f" {META_COLS})"
        )
        con.execute(
            "insert into core.fct_orders values"
            f" (1, 11, 1, 'store', 'completed', true, 100.00, 0.00, timestamp '{day} 02:00:00', date '{day}', '{batch_id}',"
            f" {meta}),"
            f" (2, 12, null, 'online', 'paid', true, 50.00, 5.00, timestamp '{day} 03:00:00', date '{day}', '{batch_id}',"
            f" {meta}),"
            f" (3, 13, null, 'wechat', 'refunded', false, 70.00, 0.00, timestamp '{day} 04:00:00', date '{day}', '{batch_id}',"
            f" {meta})"
        )
        for name, ddl in MART_DDL.items():
            if name in skip:
                continue
            con.execute(f"create or replace table marts.{name} ({PERIOD_COLS}, {ddl}, {META_COLS})")
            con.execute(f"insert into marts.{name} values ('day', date '{day}', 'all', 'all', {MART_ROW[name]}, {meta})")
            con.execute(f"insert into marts.{name} values ('day', date '{day}', 'channel', 'store', {MART_ROW[name]}, {meta})")
        if "mart_repurchase" not in skip:
            # the channel row carries only the store order's revenue
            con.execute("update marts.mart_repurchase set revenue = 100.00, orders = 1, buyers = 1, new_buyers = 1"
                        " where segment_type = 'channel'")
        if "mart_care_campaign_roi" not in skip:
            con.execute(
                "create or replace table marts.mart_care_campaign_roi (campaign_id integer, campaign_name varchar,"
                " campaign_type varchar, treated_customers bigint, holdout_customers bigint, responses bigint,"
                " response_rate double, cost decimal(18,2), treated_revenue decimal(18,2), revenue_per_treated double,"
                " revenue_per_holdout double, incremental_revenue double, roi double, naive_roi double,"
                " repurchase_rate_treated double, repurchase_rate_holdout double, uplift_per_customer double,"
                " uplift_std_error double, incremental_revenue_ci_low double, incremental_revenue_ci_high double,"
                " roi_ci_low double, roi_ci_high double, uplift_p_value double, is_uplift_significant boolean,"
                f" repurchase_uplift double, repurchase_uplift_ci_low double, repurchase_uplift_ci_high double, {META_COLS})"
            )
            con.execute(
                "insert into marts.mart_care_campaign_roi values (1, 'spring', 'holiday_greeting', 100, 20, 30, 0.3,"
                " 500.00, 3000.00, 30.0, 20.0, 1000.0, 1.0, 5.0, 0.3, 0.2,"
                # uplift 10 with standard error 4: (10 -+ 1.96 x 4) x 100 treated, p = 2 P(Z > 2.5)
                f" 10.0, 4.0, 216.0, 1784.0, -0.568, 2.568, 0.012419, true, 0.1, 0.05, 0.15, {meta})"
            )
        if "mart_customer_360" not in skip:
            con.execute(
                "create or replace table marts.mart_customer_360 (customer_id bigint, signup_channel varchar, city varchar,"
                " member_tier varchar, member_status varchar, first_order_date date, last_order_date date, orders bigint,"
                " revenue decimal(18,2), avg_order_value decimal(18,2), recency_score integer, frequency_score integer,"
                " monetary_score integer, rfm_segment varchar, latest_nps_score integer, latest_satisfaction integer,"
                " complaints bigint, open_complaints bigint, referrals_made bigint, referrals_converted bigint,"
                f" care_touches_received bigint, is_active boolean, days_since_last_order integer, {META_COLS})"
            )
            con.execute(
                "insert into marts.mart_customer_360 values"
                f" (11, 'store', 'Shanghai', 'gold', 'active', date '{day}', date '{day}', 1, 100.00, 100.00, 5, 1, 3,"
                f" 'new', 9, 5, 0, 0, 0, 0, 1, true, 0, {meta}),"
                f" (12, 'online', 'Beijing', null, null, date '{day}', date '{day}', 1, 50.00, 50.00, 5, 1, 2,"
                f" 'new', null, null, 0, 0, 0, 0, 0, true, 0, {meta})"
            )
        if "mart_cohort_retention" not in skip:
            con.execute(
                "create or replace table marts.mart_cohort_retention (cohort_month date, months_since_first integer,"
                " segment_type varchar, segment_value varchar, activity_month date, cohort_customers bigint,"
                " active_customers bigint, retention_rate decimal(18,6), revenue decimal(18,2),"
                f" cumulative_revenue_per_customer decimal(18,6), is_complete_month boolean, {META_COLS})"
            )
            month = day.replace(day=1)
            con.execute(
                "insert into marts.mart_cohort_retention values"
                f" (date '{month}', 0, 'all', 'all', date '{month}', 2, 2, 1.0, 150.00, 75.0, false, {meta}),"
                f" (date '{month}', 0, 'channel', 'store', date '{month}', 1, 1, 1.0, 100.00, 100.0, false, {meta})"
            )
        if "mart_nps_value" not in skip:
            con.execute(
                "create or replace table marts.mart_nps_value (response_month date, nps_category varchar,"
                " responses bigint, respondents bigint, follow_up_revenue decimal(18,2),"
                " follow_up_revenue_per_response decimal(18,6), follow_up_repurchasers bigint,"
                " follow_up_repurchase_rate decimal(18,6), follow_up_referrals bigint,"
                " follow_up_referrals_per_response decimal(18,6), complete_windows bigint, is_window_complete boolean,"
                f" {META_COLS})"
            )
            month = day.replace(day=1)
            con.execute(
                "insert into marts.mart_nps_value values"
                f" (date '{month}', 'promoter', 2, 2, 300.00, 150.0, 2, 1.0, 1, 0.5, 0, false, {meta}),"
                f" (date '{month}', 'passive', 0, 0, 0.00, null, 0, null, 0, null, 0, true, {meta}),"
                f" (date '{month}', 'detractor', 1, 1, 0.00, 0.0, 0, 0.0, 0, 0.0, 0, false, {meta})"
            )
        for sql in extra_sql:
            con.execute(sql)
    finally:
        con.close()
    return settings.warehouse_path
