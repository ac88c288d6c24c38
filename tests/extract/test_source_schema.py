"""A breaking source change stops its land task at once and lands nothing; an additive one is
reported; a night that quarantines too much fails the raw gate with its reason codes."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path

import psycopg
import pytest

from loyalty.config import Settings
from loyalty.extract import batches
from loyalty.extract.night import Night
from loyalty.extract.schema import SourceSchemaError
from loyalty.extract.shop import extract_table

NIGHT = Night.for_business_date(date(2026, 11, 20))
COLS = ("order_id, customer_id, store_id, channel, status, total_amount, discount_amount, referral_code, ordered_at,"
        " updated_at")
SQLITE_DDL = """create table orders (order_id integer primary key, customer_id integer, store_id integer, channel text,
 status text, total_amount text, discount_amount text, referral_code text, ordered_at text, updated_at text)"""
PG_DDL = """create table orders (order_id bigint primary key, customer_id bigint, store_id int, channel text, status text,
 total_amount numeric(12,2), discount_amount numeric(12,2), referral_code text, ordered_at timestamp, updated_at timestamp)"""
ROW = (1, 10, 3, "online", "paid", "100.50", "0.00", None, "2026-11-20 03:00:00", "2026-11-20 03:00:00")


def _sqlite(tmp_path: Path, ddl: str = SQLITE_DDL, *alter: str) -> str:
    db = tmp_path / "shop.sqlite"
    con = sqlite3.connect(db)
    con.execute(ddl)
    con.execute(f"insert into orders ({COLS}) values (?,?,?,?,?,?,?,?,?,?)", ROW)
    for sql in alter:
        con.execute(sql)
    con.commit()
    con.close()
    return f"sqlite:///{db}"


def _nothing_landed(settings: Settings) -> bool:
    return not batches.batch_dir(settings, "orders", NIGHT.batch_id).exists() and not (
        batches.quarantine_dir(settings, "orders", NIGHT.batch_id).exists())


def test_renamed_column_on_sqlite_stops_the_table(data_dir: Path, tmp_path: Path) -> None:
    url = _sqlite(tmp_path, SQLITE_DDL, "alter table orders rename column total_amount to total_amt")
    with pytest.raises(SourceSchemaError) as err:
        extract_table(Settings.from_env(), "orders", NIGHT, url)
    msg = str(err.value)
    assert "'orders'" in msg and "missing column(s) total_amount" in msg
    assert "total_amt text" in msg.lower() and "order_id" in msg  # the columns it has now
    assert "clear this task" in msg
    assert _nothing_landed(Settings.from_env())


def test_renamed_column_on_postgres_stops_the_table(data_dir: Path, pg_database: str) -> None:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(PG_DDL)
        conn.execute(f"insert into orders ({COLS}) values (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", ROW)
        conn.execute("alter table orders rename column total_amount to total_amt")
    with pytest.raises(SourceSchemaError, match=r"missing column\(s\) total_amount.*total_amt numeric"):
        extract_table(Settings.from_env(), "orders", NIGHT, pg_database)
    assert _nothing_landed(Settings.from_env())


def test_retyped_column_stops_the_table(data_dir: Path, pg_database: str) -> None:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(PG_DDL)
        conn.execute(f"insert into orders ({COLS}) values (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", ROW)
        conn.execute("alter table orders alter column ordered_at type boolean using true")
    with pytest.raises(SourceSchemaError, match=r"ordered_at is boolean \(contract TIMESTAMP\)"):
        extract_table(Settings.from_env(), "orders", NIGHT, pg_database)
    assert _nothing_landed(Settings.from_env())


def test_the_land_task_fails_without_retrying(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from loyalty.orchestration import tasks
    from loyalty.orchestration.runner import logical_date_for

    url = _sqlite(tmp_path, SQLITE_DDL, "alter table orders drop column discount_amount")
    monkeypatch.setenv("LOYALTY_SHOP_DB_URL", url)
    with pytest.raises(AirflowFailException, match="discount_amount"):
        tasks.land_shop_table("orders", logical_date_for(date(2026, 11, 20)), False)


def test_additive_column_is_landed_and_reported(data_dir: Path, tmp_path: Path) -> None:
    from loyalty.quality.report import build_audit_report

    url = _sqlite(tmp_path, SQLITE_DDL, "alter table orders add column coupon_code text")
    settings = Settings.from_env()
    rec = extract_table(settings, "orders", NIGHT, url)
    assert rec.rows_landed == 1
    assert rec.schema_notes == ["new column(s) in the source, not in the contract (not landed): coupon_code"]
    assert batches.read_record(batches.batch_dir(settings, "orders", NIGHT.batch_id)).schema_notes == rec.schema_notes
    report = build_audit_report(settings, NIGHT.batch_id, None).read_text()
    assert "Source schema changes" in report and "coupon_code" in report


class _Api:
    def __init__(self, records: list[dict]) -> None:
        self.records = records

    def iter_pages(self, since: datetime):
        yield self.records


def _ticket(**over: object) -> dict:
    t = {"id": 1, "customer_id": 5, "order_id": None, "category": "delivery", "channel": "phone", "status": "open",
         "severity": "low", "created_at": "2026-11-20T02:00:00Z", "first_response_at": None, "resolved_at": None,
         "reopen_count": 0,
         "updated_at": "2026-11-20T02:00:00Z", "compensation_amount": "0.00", "satisfaction_after": None}
    t.update(over)
    return t


def test_dropped_api_field_stops_tickets(data_dir: Path) -> None:
    from loyalty import contracts
    from loyalty.extract.tickets import land_tickets

    fields = {("id" if c == "ticket_id" else c) for c in contracts.TICKETS.column_names}
    assert fields <= set(_ticket())  # the fixture is a complete record
    gone = _ticket()
    del gone["category"]
    with pytest.raises(SourceSchemaError, match=r"no longer sends field\(s\) category.*Records without it have: channel"):
        land_tickets(Settings.from_env(), NIGHT, _Api([_ticket(id=2), gone]))
    assert not batches.batch_dir(Settings.from_env(), "tickets", NIGHT.batch_id).exists()
    # a new field is fine, and reported
    rec = land_tickets(Settings.from_env(), NIGHT, _Api([_ticket(priority="high")]))
    assert rec.rows_landed == 1 and "priority" in rec.schema_notes[0]


def test_too_much_quarantined_fails_the_raw_gate(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from loyalty.quality.gates import quarantine_rate_problems

    db = tmp_path / "shop.sqlite"
    con = sqlite3.connect(db)
    con.execute(SQLITE_DDL)
    rows = [(i, 10, 3, "online", "paid" if i % 4 else "PAID", "1.00", "0.00", None, "2026-11-20 03:00:00",
             "2026-11-20 03:00:00") for i in range(1, 101)]
    con.executemany(f"insert into orders ({COLS}) values (?,?,?,?,?,?,?,?,?,?)", rows)
    con.commit()
    settings = Settings.from_env()
    rec = extract_table(settings, "orders", NIGHT, f"sqlite:///{db}")
    assert rec.rows_quarantined == 25
    problems = quarantine_rate_problems(settings, NIGHT.batch_id)
    assert problems == ["orders: 25 of 100 rows read were quarantined (25.0%, limit 5%): invalid_value 25"]
    monkeypatch.setenv("LOYALTY_MAX_QUARANTINE_SHARE", "0.30")
    assert quarantine_rate_problems(settings, NIGHT.batch_id) == []
    monkeypatch.setenv("LOYALTY_MAX_QUARANTINE_SHARE", "0.05")
    monkeypatch.setenv("LOYALTY_MIN_QUARANTINE_ROWS", "30")  # 25 rows: too few to call it systematic
    assert quarantine_rate_problems(settings, NIGHT.batch_id) == []
