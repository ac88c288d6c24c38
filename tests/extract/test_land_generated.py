"""Landing the generator's demo sources, from SQLite and from PostgreSQL.

Every defect the generator injected (its manifest) must be found again: row defects in
quarantine with the right reason code and row identity, duplicates in the ledger. Then the
generator advances one day and the next night lands exactly the rows that changed.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import duckdb
import psycopg
import pytest

from loyalty import contracts
from loyalty.config import Settings
from loyalty.extract import batches
from loyalty.extract.night import Night
from loyalty.extract.shop import extract_table
from loyalty.extract.surveys import land_surveys
from loyalty.generator import advance, generate

END = date(2026, 3, 10)
ROW_DEFECT_REASONS = {"invalid_nps_score", "invalid_submitted_at", "malformed_row"}


def _land_night(settings: Settings, night: Night, url: str) -> dict[str, batches.BatchRecord]:
    records = {t: extract_table(settings, t, night, url) for t in contracts.SHOP_TABLES}
    records["survey_responses"] = land_surveys(settings, night)
    return records


def _source_rows(url: str, sql: str) -> list[tuple]:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return conn.execute(sql).fetchall()
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture(params=["sqlite", "postgresql"])
def sources(request: pytest.FixtureRequest, data_dir: Path) -> tuple[Settings, str, dict]:
    settings = Settings.from_env()
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_database")
    manifest = generate(settings.sources_dir, scale="small", seed=11, end_date=END, shop_db_url=url)
    return settings, url or settings.default_shop_db_url, manifest


def test_every_injected_defect_is_caught_and_the_ledger_reconciles(sources: tuple[Settings, str, dict]) -> None:
    settings, url, manifest = sources
    night = Night.for_business_date(END)
    records = _land_night(settings, night, url)

    for name, rec in records.items():
        assert rec.rows_read == rec.rows_landed + rec.rows_quarantined + rec.rows_duplicate, name
        assert rec.mode == "full"
        src = manifest["row_counts"].get(name)
        if name in contracts.SHOP_TABLES:
            assert rec.rows_read == src, f"{name}: read {rec.rows_read}, source has {src}"

    quarantined = duckdb.sql(
        f"select reason_code, source_file, source_line from read_parquet('{batches.quarantine_glob(settings)}')"
    ).fetchall()
    found = {(r, f, int(line)) for r, f, line in quarantined}
    expected = {
        (kind, d["file"], int(d["line"]))
        for kind in ROW_DEFECT_REASONS
        for d in manifest["defects"].get(kind, [])
    }
    assert expected, "the generator injected no row defects: the test would prove nothing"
    missing = expected - found
    assert not missing, f"injected defects not found in quarantine: {sorted(missing)[:5]}"
    # nothing else was quarantined (clean rows are not rejected)
    assert len(quarantined) == len(expected)
    surveys = records["survey_responses"]
    assert surveys.rows_duplicate == manifest["defect_counts"]["duplicate_row"]

    # re-running the night lands the same content
    again = _land_night(settings, night, url)
    assert {k: r.checksum for k, r in again.items()} == {k: r.checksum for k, r in records.items()}


def test_next_night_lands_exactly_the_changed_rows(sources: tuple[Settings, str, dict]) -> None:
    settings, url, _ = sources
    n1 = Night.for_business_date(END)
    _land_night(settings, n1, url)
    manifest = advance(settings.sources_dir, days=1, shop_db_url=url if not url.startswith("sqlite") else None)
    d2 = END + timedelta(days=1)
    assert manifest["current_date"] == d2.isoformat()
    n2 = Night.for_business_date(d2)
    records = _land_night(settings, n2, url)
    start, end = n2.start_naive.isoformat(sep=" "), n2.end_naive.isoformat(sep=" ")
    changed_any = 0
    for name, table in contracts.SHOP_TABLES.items():
        rec = records[name]
        assert rec.mode == "incremental"
        key = table.primary_key
        changed = {
            r[0]
            for r in _source_rows(url, f"select {key} from {name} where updated_at >= '{start}' and updated_at < '{end}'")
        }
        landed = {
            r[0]
            for r in duckdb.sql(
                f"select {key} from '{batches.batch_dir(settings, name, n2.batch_id)}/part-0.parquet'"
            ).fetchall()
        }
        assert landed == changed, f"{name}: landed {len(landed)} rows, {len(changed)} changed on {d2}"
        changed_any += len(changed)
        # the lookback re-reads recent rows; unchanged ones are counted as duplicates, not landed again
        assert rec.rows_read == rec.rows_landed + rec.rows_quarantined + rec.rows_duplicate
    assert changed_any > 0, "advance() changed nothing: the test would prove nothing"
    assert records["orders"].rows_landed > 0
    day = json.loads((settings.sources_dir / "manifest.json").read_text())["days"][d2.isoformat()]
    assert records["survey_responses"].rows_read >= 1 and day


def _latest_tickets(jsonl: Path, before: str) -> dict[int, str]:
    """id -> updated_at of each ticket's newest version updated before ``before`` (UTC text)."""
    from datetime import UTC, datetime

    latest: dict[int, str] = {}
    for line in jsonl.read_text().splitlines():
        t = json.loads(line)
        upd = datetime.fromisoformat(t["updated_at"]).astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        if upd < before and upd >= latest.get(t["id"], ""):
            latest[t["id"]] = upd
    return latest


def test_tickets_land_through_a_flaky_api(data_dir: Path) -> None:
    """Real HTTP with 429 + Retry-After, 503 and expiring cursors injected: every ticket lands
    once, in its newest version; the next night lands exactly the tickets that changed."""
    from loyalty.extract.tickets import land_tickets
    from loyalty.extract.tickets_client import TicketsApiClient
    from loyalty.ticket_api.server import TicketApiServer

    settings = Settings.from_env()
    generate(settings.sources_dir, scale="small", seed=11, end_date=END)
    waits: list[float] = []
    with TicketApiServer(settings.tickets_jsonl, "tok-123", rate_limit_every=4, retry_after=2, error_every=5,
                         expire_cursor_every=3) as server:
        client = TicketsApiClient(server.url, "tok-123", page_size=50, sleep=waits.append)
        n1 = Night.for_business_date(END)
        rec = land_tickets(settings, n1, client)
        assert rec.rows_read == rec.rows_landed + rec.rows_quarantined + rec.rows_duplicate
        expected = _latest_tickets(settings.tickets_jsonl, n1.end_naive.isoformat(sep=" "))
        landed = dict(duckdb.sql(
            f"select ticket_id, max(updated_at)::varchar from '{batches.batch_dir(settings, 'tickets', n1.batch_id)}"
            "/part-0.parquet' group by 1"
        ).fetchall())
        assert set(landed) == set(expected)
        assert 2 in waits, "the client did not honour Retry-After"

        advance(settings.sources_dir, days=1)
        n2 = Night.for_business_date(END + timedelta(days=1))
        rec2 = land_tickets(settings, n2, client)
        assert rec2.mode == "incremental"
        changed = {
            k for k, v in _latest_tickets(settings.tickets_jsonl, n2.end_naive.isoformat(sep=" ")).items()
            if v >= n2.start_naive.isoformat(sep=" ")
        }
        landed2 = {r[0] for r in duckdb.sql(
            f"select ticket_id from '{batches.batch_dir(settings, 'tickets', n2.batch_id)}/part-0.parquet'"
        ).fetchall()}
        assert changed and landed2 == changed
