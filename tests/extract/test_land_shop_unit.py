"""Shop-table landing on a tiny hand-made SQLite database: typing, quarantine, ledger, re-runs."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import duckdb
import pytest

from loyalty.config import Settings
from loyalty.extract import batches
from loyalty.extract.night import Night
from loyalty.extract.shop import extract_table

DDL = """create table orders (order_id integer primary key, customer_id integer, store_id integer, channel text,
 status text, total_amount text, discount_amount text, referral_code text, ordered_at text, updated_at text)"""


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, str, sqlite3.Connection]:
    monkeypatch.setenv("LOYALTY_DATA_DIR", str(tmp_path / "data"))
    db = tmp_path / "shop.sqlite"
    con = sqlite3.connect(db)
    con.execute(DDL)
    return Settings.from_env(), f"sqlite:///{db}", con


def _rows(con: sqlite3.Connection, rows: list[tuple]) -> None:
    con.executemany("insert or replace into orders values (?,?,?,?,?,?,?,?,?,?)", rows)
    con.commit()


def test_types_quarantines_and_reconciles(env: tuple[Settings, str, sqlite3.Connection]) -> None:
    settings, url, con = env
    _rows(
        con,
        [
            (1, 10, None, "online", "paid", "100.50", "0.00", None, "2026-11-20 03:00:00", "2026-11-20 03:00:00"),
            (2, 11, 3, "store", "PAID", "20.00", "0.00", "", "2026-11-20 04:00:00", "2026-11-20 04:00:00"),
            (3, 12, 3, "store", "completed", "abc", "0.00", None, "2026-11-20 05:00:00", "2026-11-20 05:00:00"),
            (4, None, 3, "store", "completed", "1.00", "0.00", None, "2026-11-20 05:00:00", "2026-11-20 05:00:00"),
            (5, 13, 3, "store", "completed", "1.005", "0.00", None, "2026-11-20 05:00:00", "2026-11-20 05:00:00"),
            # updated after the night's end (2026-11-20 16:00 UTC): belongs to the next night
            (6, 14, 3, "store", "completed", "9.00", "0.00", None, "2026-11-20 17:00:00", "2026-11-20 17:00:00"),
        ],
    )
    night = Night.for_business_date(date(2026, 11, 20))
    rec = extract_table(settings, "orders", night, url)
    assert (rec.rows_read, rec.rows_landed, rec.rows_quarantined, rec.rows_duplicate) == (5, 1, 4, 0)
    assert rec.mode == "full" and rec.max_cursor == "2026-11-20T03:00:00"
    d = batches.batch_dir(settings, "orders", night.batch_id)
    landed = duckdb.sql(f"select order_id, total_amount, typeof(total_amount) from '{d}/part-0.parquet'").fetchall()
    assert landed == [(1, pytest.approx(100.5), "DECIMAL(12,2)")]
    q = duckdb.sql(
        f"select row_identity, reason_code from '{settings.quarantine_dir}/orders/*/part-0.parquet' order by 1"
    ).fetchall()
    assert q == [("2", "invalid_value"), ("3", "invalid_type"), ("4", "missing_value"), ("5", "invalid_type")]
    payload = duckdb.sql(
        f"select raw_payload from '{settings.quarantine_dir}/orders/*/part-0.parquet' where row_identity = '2'"
    ).fetchall()
    assert json.loads(payload[0][0])["status"] == "PAID"


def test_rerun_is_identical_and_next_night_lands_only_changes(env: tuple[Settings, str, sqlite3.Connection]) -> None:
    settings, url, con = env
    base = (10, None, "online", "paid", "100.50", "0.00", None, "2026-11-19 03:00:00")
    _rows(con, [(1, *base, "2026-11-19 03:00:00"), (2, *base, "2026-11-19 05:00:00")])
    n1 = Night.for_business_date(date(2026, 11, 19))
    first = extract_table(settings, "orders", n1, url)
    again = extract_table(settings, "orders", n1, url)
    assert first.checksum == again.checksum and again.rows_landed == 2
    # next night: order 2 is refunded, order 3 is new; order 1 is re-read by the lookback
    _rows(con, [(2, 10, None, "online", "refunded", "100.50", "0.00", None, "2026-11-19 03:00:00", "2026-11-20 02:00:00")])
    _rows(con, [(3, *base, "2026-11-20 06:00:00")])
    n2 = Night.for_business_date(date(2026, 11, 20))
    second = extract_table(settings, "orders", n2, url)
    assert second.mode == "incremental"
    assert (second.rows_landed, second.rows_duplicate) == (2, second.rows_read - 2)
    ids = duckdb.sql(
        f"select order_id, status from '{batches.batch_dir(settings, 'orders', n2.batch_id)}/part-0.parquet' order by 1"
    ).fetchall()
    assert ids == [(2, "refunded"), (3, "paid")]
