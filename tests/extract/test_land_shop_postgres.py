"""The PostgreSQL source path: COPY streaming, typing, quarantine and incremental nights on a real server."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import psycopg
import pytest

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


def _landed(settings: Settings, night: Night) -> list[tuple]:
    d = batches.batch_dir(settings, "orders", night.batch_id)
    return duckdb.sql(
        "select * exclude (_extracted_at), typeof(total_amount), typeof(ordered_at) "
        f"from '{d}/part-0.parquet' order by order_id"
    ).fetchall()


def test_typed_fast_path_equals_text_path(pg_database: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Source types that guarantee the contract (bigint, numeric(12,2), timestamp, text) are read
    as typed columns; the landed rows are the same as typing every value from text, and a
    segment holding a row the contract rejects is typed from text (exact reason and payload)."""
    from loyalty.extract import shop

    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(DDL)
        conn.execute(
            "insert into orders select i, i % 97, case when i % 3 = 0 then null else i % 7 end,"
            " (array['store','online','wechat'])[1 + i % 3], 'completed', (i % 1000) / 100.0, 0,"
            " case when i % 5 = 0 then '' when i % 5 = 1 then null else 'R,\"' || i || E'\\n' end,"
            " timestamp '2026-11-18 00:00:00.5' + i * interval '1 second', timestamp '2026-11-19 03:00'"
            " from generate_series(1, 3000) i"
        )
    assert shop.postgres_types_exact(pg_database, shop.contracts.SHOP_TABLES["orders"])
    night = Night.for_business_date(date(2026, 11, 19))
    seen: list[tuple[int, int]] = []
    original_close = shop.SegmentTyper.close

    def close(self: shop.SegmentTyper) -> None:
        original_close(self)
        seen.append((self.fast_segments, self.segments))

    monkeypatch.setattr(shop.SegmentTyper, "close", close)
    monkeypatch.setattr(shop, "SEGMENT_BYTES", 40_000)  # several segments
    fast = extract_table(settings := Settings.from_env(), "orders", night, pg_database)
    fast_rows = _landed(settings, night)
    assert seen[-1][0] == seen[-1][1] > 1, seen  # every segment by typed read

    exact = shop.postgres_types_exact
    monkeypatch.setattr(shop, "postgres_types_exact", lambda url, table: False)
    slow = extract_table(settings, "orders", night, pg_database)
    monkeypatch.setattr(shop, "postgres_types_exact", exact)
    assert seen[-1][0] == 0
    assert _landed(settings, night) == fast_rows and len(fast_rows) == 3000
    assert fast.checksum == slow.checksum and fast.rows_landed == slow.rows_landed == 3000
    assert {r[-2:] for r in fast_rows} == {("DECIMAL(12,2)", "TIMESTAMP")}

    # one bad status in one segment: that segment is typed from text, the others stay typed
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("update orders set status = 'lost' where order_id = 1500")
    rec = extract_table(settings, "orders", night, pg_database)
    fast_n, total = seen[-1]
    assert 0 < fast_n == total - 1, seen[-1]
    assert (rec.rows_landed, rec.rows_quarantined) == (2999, 1)
    q = duckdb.sql(
        f"select row_identity, reason_code, raw_payload from '{settings.quarantine_dir}/orders/*/part-0.parquet'"
    ).fetchall()
    assert [(r[0], r[1]) for r in q] == [("1500", "invalid_value")] and '"status":"lost"' in q[0][2]


def test_inexact_source_types_are_typed_from_text(pg_database: str, data_dir: Path) -> None:
    """An unconstrained numeric can hold 1.005: such a source is typed from text, so the value is
    quarantined (more precision than DECIMAL(12,2)) instead of being rounded by a typed read."""
    from loyalty.extract import shop

    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(DDL.replace("total_amount numeric(12,2)", "total_amount numeric"))
        conn.execute(
            "insert into orders values (1, 10, null, 'online', 'paid', 1.005, 0, null, '2026-11-19 03:00', '2026-11-19 03:00'),"
            " (2, 10, null, 'online', 'paid', 2.50, 0, null, '2026-11-19 03:00', '2026-11-19 03:00')"
        )
    assert not shop.postgres_types_exact(pg_database, shop.contracts.SHOP_TABLES["orders"])
    rec = extract_table(Settings.from_env(), "orders", Night.for_business_date(date(2026, 11, 19)), pg_database)
    assert (rec.rows_landed, rec.rows_quarantined) == (1, 1)


def test_exact_pg_type_rule() -> None:
    from loyalty.extract.shop import _exact_pg_type

    assert _exact_pg_type("DECIMAL(12,2)", "numeric", 12, 2)
    assert _exact_pg_type("DECIMAL(12,2)", "numeric", 10, 0)
    assert not _exact_pg_type("DECIMAL(12,2)", "numeric", 14, 2)  # could overflow
    assert not _exact_pg_type("DECIMAL(12,2)", "numeric", 12, 3)  # could round
    assert not _exact_pg_type("DECIMAL(12,2)", "numeric", None, None)
    assert _exact_pg_type("BIGINT", "integer", 32, 0) and not _exact_pg_type("INTEGER", "bigint", 64, 0)
    assert not _exact_pg_type("TIMESTAMP", "timestamp with time zone", None, None)
    assert not _exact_pg_type("DATE", "text", None, None)
