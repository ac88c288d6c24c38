"""The PostgreSQL source path: COPY streaming, typing, quarantine and incremental nights on a real server."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import psycopg

from loyalty.config import Settings
from loyalty.extract import batches
from loyalty.extract.night import Night
from loyalty.extract.shop import extract_table

DDL = """create table orders (order_id bigint primary key, customer_id bigint, store_id int, channel text, status text,
 total_amount numeric(12,2), discount_amount numeric(12,2), referral_code text, ordered_at timestamp, updated_at timestamp)"""


def test_postgres_incremental_nights(pg_database: str, data_dir: Path) -> None:
    settings = Settings.from_env()
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(DDL)
        conn.execute(
            "insert into orders values (1, 10, null, 'online', 'paid', 100.50, 0, '', '2026-11-19 03:00', '2026-11-19 03:00'),"
            " (2, 11, 3, 'store', 'completed', 20.00, 1.50, 'R-1', '2026-11-19 04:00', '2026-11-19 04:00'),"
            " (3, 12, 3, 'store', 'weird', 20.00, 1.50, null, '2026-11-19 04:00', '2026-11-19 04:00')"
        )
    n1 = Night.for_business_date(date(2026, 11, 19))
    rec = extract_table(settings, "orders", n1, pg_database)
    assert (rec.rows_read, rec.rows_landed, rec.rows_quarantined) == (3, 2, 1)
    rows = duckdb.sql(
        f"select order_id, referral_code, total_amount::varchar, updated_at::varchar "
        f"from '{batches.batch_dir(settings, 'orders', n1.batch_id)}/part-0.parquet' order by 1"
    ).fetchall()
    # '' and NULL stay apart, money stays DECIMAL
    assert rows == [(1, "", "100.50", "2026-11-19 03:00:00"), (2, "R-1", "20.00", "2026-11-19 04:00:00")]
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("update orders set status = 'refunded', updated_at = '2026-11-20 01:00' where order_id = 2")
    n2 = Night.for_business_date(date(2026, 11, 20))
    rec2 = extract_table(settings, "orders", n2, pg_database)
    assert rec2.mode == "incremental" and rec2.rows_landed == 1
    assert rec2.rows_read == rec2.rows_landed + rec2.rows_quarantined + rec2.rows_duplicate
    # the same night again: same content
    assert extract_table(settings, "orders", n2, pg_database).checksum == rec2.checksum
