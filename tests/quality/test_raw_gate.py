"""The raw gate: real GX on real landed Parquet, one test per kind of expectation."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from quality_data import BATCH, NIGHT, arrow_schema, clean_rows, land

from loyalty import contracts
from loyalty.quality import results, runner
from loyalty.quality.gates import GateFailed, validate_raw_batch


@pytest.fixture(autouse=True, params=["whole frame", "column by column"])
def validation_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs both ways a raw batch is validated: as one frame, and column by
    column (batches above LOYALTY_GATE_COLUMNWISE_ROWS rows, loyalty.quality.gates)."""
    monkeypatch.setenv("LOYALTY_GATE_COLUMNWISE_ROWS", "1000000000" if request.param == "whole frame" else "0")
    return str(request.param)


def _rows(settings, batch_id=BATCH, suite="raw_orders"):
    return pq.read_table(results.result_path(settings, batch_id, suite)).to_pylist()


def _row(settings, expectation_type, column=None, suite="raw_orders"):
    found = [r for r in _rows(settings, suite=suite) if r["expectation_type"] == expectation_type
             and (column is None or r["column"] == column)]
    assert found, f"no result row for {expectation_type} {column}"
    return found[0]


def _fails(settings, rows, *, table="orders", expect: tuple[str, ...]) -> str:
    land(settings, table, rows)
    with pytest.raises(GateFailed) as info:
        validate_raw_batch(settings, table, BATCH)
    message = str(info.value)
    for part in (f"raw_{table}", *expect):
        assert part in message, f"{part!r} not in gate message:\n{message}"
    return message


def test_every_raw_suite_passes_on_clean_batches(settings, landed):
    for name in contracts.ALL_TABLES:
        landed(name, 25)
    for name in contracts.ALL_TABLES:
        summary = validate_raw_batch(settings, name, BATCH)
        assert summary["success"], summary
        assert summary["failed_warnings"] == [], summary
        rows = _rows(settings, suite=f"raw_{name}")
        assert rows and all(r["success"] for r in rows)
        assert {r["gate"] for r in rows} == {"raw"} and {r["batch_id"] for r in rows} == {BATCH}


def test_schema_missing_column_fails(settings):
    schema = arrow_schema("orders")
    schema = schema.remove(schema.get_field_index("discount_amount"))
    land(settings, "orders", clean_rows("orders", 10), schema=schema)
    with pytest.raises(GateFailed) as info:
        validate_raw_batch(settings, "orders", BATCH)
    message = str(info.value)
    assert "raw_orders" in message and "expect_table_columns_to_match_set" in message
    assert "discount_amount" in message and "missing" in message
    assert not _row(settings, "expect_table_columns_to_match_set")["success"]


def test_null_key_fails(settings):
    rows = clean_rows("orders", 10)
    rows[4]["order_id"] = None
    msg = _fails(settings, rows, expect=("expect_column_values_to_not_be_null", "column=order_id", "1 unexpected of 10"))
    assert "null x1" in msg
    row = _row(settings, "expect_column_values_to_not_be_null", "order_id")
    assert row["success"] is False and row["unexpected_count"] == 1 and row["element_count"] == 10
    assert row["severity"] == "error"


def test_duplicate_key_fails(settings):
    rows = clean_rows("customers", 10)
    rows[7]["customer_id"] = rows[2]["customer_id"]
    _fails(settings, rows, table="customers",
           expect=("expect_column_values_to_be_unique", "column=customer_id", "2 unexpected", f"{rows[2]['customer_id']} x2"))


def test_accepted_values_fail(settings):
    rows = clean_rows("orders", 10)
    rows[1]["status"] = "lost_in_mail"
    _fails(settings, rows, expect=("expect_column_values_to_be_in_set", "column=status", '"lost_in_mail" x1', "value_set"))


def test_range_fails(settings):
    rows = clean_rows("survey_responses", 12)
    rows[0]["nps_score"] = 11
    _fails(settings, rows, table="survey_responses",
           expect=("expect_column_values_to_be_between", "column=nps_score", '"max_value": 10', "11 x1"))


def test_a_busy_or_a_quiet_night_is_correct_data(settings):
    """No volume band: a holiday with 12x the usual orders, or a night with none, raises nothing."""
    for back in range(1, 4):
        bid = (NIGHT.business_date - timedelta(days=back)).isoformat()
        land(settings, "orders", clean_rows("orders", 5, bid), batch_id=bid)
    land(settings, "orders", clean_rows("orders", 60))
    summary = validate_raw_batch(settings, "orders", BATCH)
    assert summary["success"] and summary["failed_warnings"] == [], summary
    land(settings, "stores", [])
    summary = validate_raw_batch(settings, "stores", BATCH)
    assert summary["success"] and summary["failed_warnings"] == []
    fresh = _row(settings, "expect_column_max_to_be_between", "updated_at", suite="raw_stores")
    assert fresh["success"] and fresh["observed_value"].startswith("not evaluated")


def test_an_old_change_inside_the_window_passes(settings):
    """A table quiet for ten days whose one change lies inside the extraction window: correct."""
    rows = clean_rows("orders", 3)
    for r in rows:
        r["updated_at"] = NIGHT.end_naive - timedelta(days=10)
    land(settings, "orders", rows, window_start=NIGHT.end_naive - timedelta(days=12))
    summary = validate_raw_batch(settings, "orders", BATCH)
    assert summary["success"] and summary["failed_warnings"] == [], summary


@pytest.mark.parametrize("where", ["before the window", "after the night's end"])
def test_a_cursor_outside_the_extraction_window_is_a_freshness_warning(settings, caplog, where):
    rows = clean_rows("orders", 10)
    start = NIGHT.end_naive - timedelta(days=3)
    newest = start - timedelta(days=2) if where == "before the window" else NIGHT.end_naive + timedelta(hours=5)
    for r in rows:
        r["updated_at"] = newest
    land(settings, "orders", rows, window_start=start)
    with caplog.at_level("WARNING"):
        summary = validate_raw_batch(settings, "orders", BATCH)  # a warning: no raise
    assert summary["success"] and "expect_column_max_to_be_between(updated_at)" in summary["failed_warnings"]
    row = _row(settings, "expect_column_max_to_be_between", "updated_at")
    assert row["success"] is False and row["severity"] == "warning"
    # the warning says which table, the newest timestamp seen, the allowed window and why it holds
    line = next(r.getMessage() for r in caplog.records if "expect_column_max_to_be_between" in r.getMessage())
    text = line.replace("T", " ")
    assert "raw_orders" in line and "the extract selects exactly" in line
    for moment in (newest, start, NIGHT.end_naive):
        assert moment.isoformat(sep=" ")[:16] in text, (moment, line)


def test_results_written_on_failure_and_rerun_replaces(settings):
    rows = clean_rows("orders", 10)
    rows[0]["order_id"] = None
    land(settings, "orders", rows)
    with pytest.raises(GateFailed):
        validate_raw_batch(settings, "orders", BATCH)
    first = _rows(settings)
    assert any(not r["success"] for r in first)
    land(settings, "orders", clean_rows("orders", 10))
    runner._contexts.clear()  # as a new process would: reopen the file context from disk
    validate_raw_batch(settings, "orders", BATCH)
    second = _rows(settings)
    assert len(second) == len(first) and all(r["success"] for r in second)
    assert len({r["run_id"] for r in second}) == 1 and second[0]["run_id"] != first[0]["run_id"]
    files = list((settings.audit_dir / "validations" / f"batch_id={BATCH}").iterdir())
    assert [f.name for f in files] == ["raw_orders.parquet"]
    table = pq.read_table(files[0])
    assert table.schema.field("validated_at").type == pa.timestamp("us")
    assert table.schema.names == results.RESULT_SCHEMA.names


def test_missing_batch_fails_naming_the_table(settings):
    with pytest.raises(GateFailed, match="batch 2026-11-21 of tickets is not landed"):
        validate_raw_batch(settings, "tickets", BATCH)
    assert _row(settings, "expect_table_to_exist", suite="raw_tickets")["success"] is False
