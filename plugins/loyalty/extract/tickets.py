"""Land tickets from the ticketing REST API (SOURCES.md section 3), incrementally.

``updated_since`` = the newest ``updated_at`` landed before this night minus the lookback
(the first run asks for everything). Tickets updated at or after the night's end are left
for the next night, so a re-run of a night asks the same question and lands the same rows.
The client (``tickets_client``) retries 429/5xx with backoff and restarts an expired
cursor from the last good watermark; re-sent tickets become ledger duplicates.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from loyalty import contracts
from loyalty.config import Settings
from loyalty.extract import batches, conform, schema
from loyalty.extract.night import Night
from loyalty.extract.shop import DEFAULT_LOOKBACK

log = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1)
_TS_FIELDS = ("created_at", "first_response_at", "resolved_at", "updated_at")


def _utc_text(value: Any) -> str | None:
    """ISO-8601 (with Z or offset) to naive-UTC text; unparseable text is passed on as is
    so the contract check quarantines it with its reason."""
    if value is None or value == "":
        return None
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.isoformat(sep=" ")


def _as_text(value: Any) -> str | None:
    return None if value is None else str(value)


def land_tickets(
    settings: Settings,
    night: Night,
    client: Any,
    *,
    full_refresh: bool = False,
    lookback: timedelta = DEFAULT_LOOKBACK,
) -> batches.BatchRecord:
    table = contracts.TICKETS
    mark = None if full_refresh else batches.watermark(settings, table.name, night.batch_id)
    lower = None if mark is None else mark - lookback
    since = (lower or EPOCH).replace(tzinfo=UTC)
    extracted_at = datetime.now(UTC).replace(tzinfo=None)
    end = night.end_naive
    rows: list[dict[str, str | None]] = []
    later = 0
    api_fields = ["id" if c == "ticket_id" else c for c in table.column_names]
    keys_seen: set[str] = set()
    missing: dict[str, int] = {}
    lacking_keys: set[str] = set()  # the fields of the first record that lacks one
    n_records = 0
    for page in client.iter_pages(since):
        for t in page:
            n_records += 1
            keys_seen.update(t)
            for f in api_fields:
                if f not in t:
                    missing[f] = missing.get(f, 0) + 1
                    lacking_keys = lacking_keys or set(t)
            rec = {c: _as_text(t.get("id" if c == "ticket_id" else c)) for c in table.column_names}
            for f in _TS_FIELDS:
                rec[f] = _utc_text(t.get(f))
            upd = rec["updated_at"]
            try:
                if upd is not None and datetime.fromisoformat(upd) >= end:
                    later += 1  # belongs to a later night
                    continue
            except ValueError:
                pass  # unparseable: the contract check quarantines it
            rows.append(rec)
    # a field the API stopped sending is a breaking change (a field without a value comes as null)
    schema_notes = schema.check_api_records(api_fields, keys_seen, missing, n_records, "tickets API",
                                            lacking_keys)
    for note in schema_notes:
        log.warning("tickets: source schema change: %s", note)
    if later:
        log.info("tickets: %d ticket version(s) updated after %s left for the next night", later, end)
    src = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in table.column_names})
    final = batches.batch_dir(settings, table.name, night.batch_id)
    work = batches.staging_dir(final)
    qwork = batches.staging_dir(batches.quarantine_dir(settings, table.name, night.batch_id))
    try:
        con = conform.connect(work / "_spill")
        con.register("_src", src)
        counts = conform.land(
            con, table, "_src", batch_id=night.batch_id, extracted_at=extracted_at, out_dir=work,
            quarantine_out=qwork, prior_files=batches.prior_parquet_files(settings, table.name, night.batch_id),
            cursor_floor=lower,
        )
        con.close()
        shutil.rmtree(work / "_spill", ignore_errors=True)
        record = batches.BatchRecord(
            table=table.name, source="tickets", batch_id=night.batch_id,
            data_interval_start=night.start_utc.isoformat(), data_interval_end=night.end_utc.isoformat(),
            extracted_at=extracted_at.isoformat(), mode="incremental" if lower else "full",
            window_start=lower.isoformat() if lower else None, window_end=end.isoformat(),
            rows_read=counts.read, rows_landed=counts.landed, rows_quarantined=counts.quarantined,
            rows_duplicate=counts.duplicates,
            max_cursor=(counts.max_cursor.isoformat() if counts.max_cursor else (mark.isoformat() if mark else None)),
            checksum=counts.checksum,
            schema_notes=schema_notes,
        )
        batches.write_record(work, record)
        batches.replace_dir(qwork, batches.quarantine_dir(settings, table.name, night.batch_id),
                            private_root=settings.quarantine_dir)
        batches.replace_dir(work, final, private_root=settings.raw_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(qwork, ignore_errors=True)
        raise
    log.info(
        "tickets: read %d, landed %d, quarantined %d, duplicates %d",
        record.rows_read, record.rows_landed, record.rows_quarantined, record.rows_duplicate,
    )
    return record
