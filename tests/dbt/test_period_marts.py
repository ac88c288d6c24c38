"""The period-mart machinery (macros/period_marts.sql, the periods/ folder's config):

- every mart is what it was before the machinery moved into macros: a full build and two
  incremental nights on the demo give the recorded digests (tests/dbt/golden.py); and the
  incremental night 2 gives exactly the marts and facts of a full refresh over the same raw
  zone, recomputing only the periods its changes can alter;
- a new period mart made by the README's three steps (SQL with its measures, YAML with its
  grain, its definition in the docs) is right on an incremental night without knowing the
  bookkeeping exists: full, then incremental, equals a full refresh.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dbt_util
import golden
import pytest

from loyalty.config import DBT_PROJECT_DIR

pytestmark = [pytest.mark.slow]

THROWAWAY_SQL = """{{ config(dirty_sources=['orders']) }}
-- One row per period_grain, period_start, segment_type and segment_value: valid orders and their
-- revenue by order channel and customer city (a test's throwaway mart).
with

all_periods as (select * from {{ ref('int_periods') }}),

dirty_periods as (select * from {{ ref('int_dirty_periods') }}),

orders as (

    select * from {{ ref('fct_orders') }}
    where is_valid
        and ordered_date <= {{ business_date() }}

),

customers as (select * from {{ ref('dim_customers') }}),

periods as ({{ periods_flagged('all_periods', 'dirty_periods') }}),

orders_located as (

    select orders.*, coalesce(customers.city, 'unknown') as city
    from orders
    left join customers
        on orders.customer_id = customers.customer_id

),

orders_in_periods as ({{ events_in_periods('orders_located', 'ordered_date', 'periods') }}),

segmented as ({{ segment_rows('orders_in_periods', {'channel': 'channel', 'city': 'city'}) }}),

aggregated as ({{ sum_by_segment('segmented', {'orders': 'count(*)', 'revenue': 'sum(order_amount)'}) }}),

filled as (

    {{ filled_grid('periods', 'aggregated', 'aggregated', {'channel': 'order_channel'}, counts=['orders', 'revenue']) }}

)

select
    {{ period_keys() }},
    cast(orders as bigint) as orders,
    cast(revenue as numeric(18, 2)) as revenue,
    cast({{ safe_divide('revenue', 'orders') }} as numeric(18, 6)) as avg_order_value,
    {{ mart_metadata() }}
from filled
"""
THROWAWAY_YML = """version: 2
models:
- name: mart_test_orders
  description: One row per period and segment (all, channel, city); valid orders and revenue.
  data_tests:
  - unique_combination_written:
      arguments:
        combination_of_columns: [period_grain, period_start, segment_type, segment_value]
        scope: __recomputed_tonight__
      config:
        where: ''
  columns:
  - name: orders
    data_tests:
    - not_null
"""


PERIOD_MARTS = ("mart_recommendation", "mart_repurchase", "mart_churn", "mart_complaints", "mart_referrals",
                "mart_membership")


def _incremental_equals_full_refresh(data_dir: Path, incremental: Path, night: str, previous: str, tmp_path: Path) -> None:
    """The incremental night's marts and facts against a full refresh of a copy of the same warehouse."""
    full = tmp_path / "full.duckdb"
    shutil.copy(incremental, full)
    dbt_util.dbt("run", night, dbt_util.data_env(data_dir, full), "--full-refresh", target_path=tmp_path / "target")
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

    # the incremental night really was incremental: the period marts kept most of the previous
    # night's rows (city rows are recomputed every night: the city is the customer's current one)
    shares = dbt_util.batch_shares(incremental, PERIOD_MARTS, where="segment_type <> 'city'")
    for name in PERIOD_MARTS:
        kept, recomputed = shares[name].get(previous, 0), shares[name].get(night, 0)
        assert set(shares[name]) == {previous, night}, (name, shares[name])
        assert kept > recomputed > 0, f"{name}: night {night} recomputed {recomputed} rows and kept {kept}"
    assert set(dbt_util.batch_shares(full, PERIOD_MARTS)["mart_repurchase"]) == {night}
    assert set(dbt_util.batch_shares(incremental, PERIOD_MARTS, where="segment_type = 'city'")["mart_repurchase"]) == {
        night}


def test_marts_are_unchanged_and_an_incremental_night_equals_a_full_refresh(tmp_path: Path) -> None:
    expected = json.loads(golden.GOLDEN.read_text())
    data_dir = tmp_path / "data"
    checked = []

    def on_night(night: str, warehouse: Path) -> None:
        if night == golden.NIGHTS[1]:  # the first incremental night (night 3 builds on it afterwards)
            _incremental_equals_full_refresh(data_dir, warehouse, night, golden.NIGHTS[0], tmp_path)
            checked.append(night)

    got = golden.build_three_nights(data_dir, tmp_path / "target", on_night)
    assert checked == [golden.NIGHTS[1]]
    for night in golden.NIGHTS:
        for mart, digest in expected[night].items():
            assert got[night][mart] == digest, f"{mart} on night {night} differs from the recorded marts"


def test_a_new_period_mart_by_the_recipe(landed_demo: Path, tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    folder = project / "models" / "marts" / "metrics" / "periods"
    (folder / "mart_test_orders.sql").write_text(THROWAWAY_SQL)  # step 1
    (folder / "_test_orders.yml").write_text(THROWAWAY_YML)  # step 2 (step 3, the docs, is prose)

    data_dir = tmp_path / "data"
    shutil.copytree(landed_demo, data_dir)
    env = dbt_util.data_env(data_dir)
    dbt_util.run([dbt_util._bin("loyalty"), "register-raw"], env)
    target = tmp_path / "target"
    build = ("--exclude-resource-type", "unit_test", "--quiet")
    dbt_util.dbt("build", golden.END_DATE, env, "--full-refresh", *build, target_path=target, project_dir=project)
    night2 = golden.NIGHTS[1]
    dbt_util.advance(data_dir, 1)
    dbt_util.land_night(data_dir, night2)
    dbt_util.dbt("build", night2, env, *build, target_path=target, project_dir=project)
    incremental = data_dir / "warehouse" / "loyalty.duckdb"
    full = tmp_path / "full.duckdb"
    shutil.copy(incremental, full)
    dbt_util.dbt("build", night2, dbt_util.data_env(data_dir, full), "--full-refresh", *build, target_path=target,
                 project_dir=project)

    meta = ("_loaded_at", "_batch_id")
    inc = dbt_util.snapshot_duckdb(incremental, ("mart_test_orders",), exclude=meta)["mart_test_orders"]
    ref = dbt_util.snapshot_duckdb(full, ("mart_test_orders",), exclude=meta)["mart_test_orders"]
    assert inc and inc == ref, dbt_util.diff(inc, ref, 0.0)
    # the bookkeeping came from the folder: incremental, and most rows kept from night 1
    shares = dbt_util.batch_shares(incremental, ("mart_test_orders",), where="segment_type <> 'city'")["mart_test_orders"]
    assert shares[golden.END_DATE] > shares[night2] > 0, shares
    # and the build watermark waited for the new mart
    import duckdb

    con = duckdb.connect(str(incremental), read_only=True)
    try:
        assert con.execute("select max(batch_id) from intermediate.int_build_watermark").fetchone()[0] == night2
    finally:
        con.close()
