"""Land the survey inbox: one CSV file per day, parsed row by row with the reasons kept.

Which files a night takes: every ``surveys_YYYYMMDD.csv`` dated on or before the night's
business date whose content (sha256) no earlier batch landed. A corrected re-delivery of
an older day has new content, so it lands again; the newest delivery of a
``response_id`` wins downstream (staging).

A bad *row* is quarantined with its reason. A bad *file* (empty, wrong or missing header,
not UTF-8) fails the whole survey batch with a ``SurveyFileError`` naming the file and the
defect: nothing of that night's survey batch lands, the night stops before the warehouse
and the marts keep last night's version. The operator moves the file away (or has it
re-delivered) and clears the task.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa

from loyalty import contracts
from loyalty.config import Settings
from loyalty.extract import batches, conform
from loyalty.extract.night import Night

log = logging.getLogger(__name__)

FILE_RE = re.compile(r"^surveys_(\d{8})\.csv$")
LOCAL_TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
ISO_OFFSET_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")
INT_RE = re.compile(r"^\d+$")


class SurveyFileError(RuntimeError):
    """A survey file cannot be read as a whole. Deterministic: retrying does not help."""

    def __init__(self, path: Path, defect: str, detail: str):
        self.path, self.defect = path, defect
        super().__init__(
            f"survey file {path.name} rejected ({defect}): {detail}. Nothing of tonight's survey batch was landed. "
            f"Move the file out of {path.parent} (or have it re-delivered), then clear this task."
        )


@dataclass
class ParsedRow:
    values: dict[str, str | None]  # canonical text per contract column
    line: int
    reason: str | None = None
    detail: str | None = None
    payload: str | None = None


def inbox_files(inbox: Path, up_to: date) -> list[Path]:
    files = []
    for p in sorted(inbox.glob("surveys_*.csv")):
        m = FILE_RE.match(p.name)
        if m and datetime.strptime(m.group(1), "%Y%m%d").date() <= up_to:
            files.append(p)
    return files


def _names(names: Iterable[str], show: int = 6) -> str:
    """A short list of file names for the log: the first and last few."""
    items = list(names)
    if len(items) <= show:
        return ", ".join(items) or "-"
    half = show // 2
    return ", ".join(items[:half]) + f", ... ({len(items) - show} more) ..., " + ", ".join(items[-half:])


def _parse_ts(text: str, tz: ZoneInfo) -> str | None:
    try:
        if LOCAL_TS_RE.match(text):
            local = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
        elif ISO_OFFSET_RE.match(text):
            local = datetime.fromisoformat(text)
        else:
            return None
    except ValueError:  # well-shaped but impossible, e.g. 2026-02-30
        return None
    return local.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _judge(raw: dict[str, str], tz: ZoneInfo) -> tuple[dict[str, str | None], str | None, str | None]:
    """Canonicalise the survey-specific fields; the generic contract checks follow in DuckDB."""
    v: dict[str, str | None] = {k: (raw[k] if raw[k] != "" else None) for k in contracts.SURVEY_HEADER}
    if v["submitted_at"] is not None:
        ts = _parse_ts(v["submitted_at"].strip(), tz)
        if ts is None:
            return v, "invalid_submitted_at", f"submitted_at {raw['submitted_at']!r} is not a timestamp"
        v["submitted_at"] = ts
    nps = v["nps_score"]
    if nps is not None:
        s = nps.strip()
        if not INT_RE.match(s) or not 0 <= int(s) <= 10:
            return v, "invalid_nps_score", f"nps_score {nps!r} is not an integer 0-10"
        v["nps_score"] = str(int(s))
    sat = v["satisfaction"]
    if sat is not None:
        s = sat.strip()
        if s in contracts.SATISFACTION_LABELS:
            v["satisfaction"] = str(contracts.SATISFACTION_LABELS[s])
        elif s in {"1", "2", "3", "4", "5"}:
            v["satisfaction"] = s
        else:
            return v, "invalid_satisfaction", f"satisfaction {sat!r} is neither a label nor 1-5"
    intent = v["repurchase_intent"]
    if intent is not None:
        s = intent.strip()
        if s not in contracts.REPURCHASE_INTENT_LABELS:
            return v, "invalid_repurchase_intent", f"repurchase_intent {intent!r} is not a known label"
        v["repurchase_intent"] = contracts.REPURCHASE_INTENT_LABELS[s]
    return v, None, None


def parse_file(path: Path, tz: ZoneInfo) -> list[ParsedRow]:
    """Parse one survey file; raises SurveyFileError for a file that is unreadable as a whole."""
    data = path.read_bytes()
    if not data.strip(b"\xef\xbb\xbf \r\n\t"):
        raise SurveyFileError(path, "empty_file", "the file has no header and no rows")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SurveyFileError(path, "bad_header", f"not UTF-8 ({exc})") from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise SurveyFileError(path, "bad_header", f"the header cannot be read ({exc})") from exc
    if tuple(h.strip() for h in header) != contracts.SURVEY_HEADER:
        raise SurveyFileError(
            path, "bad_header", f"expected header {','.join(contracts.SURVEY_HEADER)!r}, got {','.join(header)[:200]!r}"
        )
    rows: list[ParsedRow] = []
    n = 0
    ends_cleanly = text.endswith("\n") or text.endswith("\r")
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # an unclosed quote at the end of the file: the rest is one broken record
            n += 1
            rest = text.splitlines()[reader.line_num - 1 :] if reader.line_num else []
            rows.append(
                ParsedRow({}, n, "malformed_row", f"unreadable CSV record ({exc})", json.dumps({"raw": "\n".join(rest)}))
            )
            break
        n += 1
        if not record:
            continue  # a blank line is not a record
        if len(record) != len(contracts.SURVEY_HEADER):
            rows.append(
                ParsedRow(
                    {}, n, "malformed_row", f"{len(record)} fields instead of {len(contracts.SURVEY_HEADER)}",
                    json.dumps({"raw": record}, ensure_ascii=False),
                )
            )
            continue
        raw = dict(zip(contracts.SURVEY_HEADER, record, strict=True))
        values, reason, detail = _judge(raw, tz)
        rows.append(ParsedRow(values, n, reason, detail, json.dumps(raw, ensure_ascii=False) if reason else None))
    if rows and not ends_cleanly and rows[-1].reason is None:
        last = rows[-1]
        last.reason, last.detail = "malformed_row", "the file does not end with a line break: last record truncated"
        last.payload = json.dumps({k: last.values.get(k) for k in contracts.SURVEY_HEADER}, ensure_ascii=False)
    return rows


def _to_arrow(path: Path, rows: list[ParsedRow]) -> pa.Table:
    arrays = {c: pa.array([r.values.get(c) for r in rows], pa.string()) for c in contracts.SURVEY_HEADER}
    arrays["_source_file"] = pa.array([path.name] * len(rows), pa.string())
    arrays["_source_line"] = pa.array([r.line for r in rows], pa.int64())
    arrays["_pre_reason"] = pa.array([r.reason for r in rows], pa.string())
    arrays["_pre_detail"] = pa.array([r.detail for r in rows], pa.string())
    arrays["_pre_payload"] = pa.array([r.payload for r in rows], pa.string())
    return pa.table(arrays)


def land_surveys(
    settings: Settings, night: Night, *, inbox: Path | None = None, full_refresh: bool = False
) -> batches.BatchRecord:
    inbox = inbox or settings.survey_inbox
    if not inbox.is_dir():
        raise FileNotFoundError(f"survey inbox {inbox} does not exist (set LOYALTY_SURVEY_INBOX)")
    tz = ZoneInfo(settings.business_tz)
    seen: set[str] = set()
    if not full_refresh:
        for rec in batches.prior_records(settings, "survey_responses", night.batch_id):
            seen.update(f["sha256"] for f in rec.files)
    todo = []
    for p in inbox_files(inbox, night.business_date):
        digest = batches.sha256_file(p)
        if digest not in seen:
            todo.append((p, digest))
    extracted_at = datetime.now(UTC).replace(tzinfo=None)
    parts = [_to_arrow(p, parse_file(p, tz)) for p, _ in todo]  # a bad file raises before anything is written
    src = pa.concat_tables(parts) if parts else _to_arrow(inbox / "none", [])

    table = contracts.SURVEY_RESPONSES
    final = batches.batch_dir(settings, table.name, night.batch_id)
    work = batches.staging_dir(final)
    qwork = batches.staging_dir(batches.quarantine_dir(settings, table.name, night.batch_id))
    files_dir = settings.raw_dir / "_files" / "surveys" / f"batch_id={night.batch_id}"
    fwork = batches.staging_dir(files_dir)
    try:
        con = conform.connect(work / "_spill")
        con.register("_src", src)
        counts = conform.land(
            con, table, "_src", batch_id=night.batch_id, extracted_at=extracted_at, out_dir=work,
            quarantine_out=qwork, prior_files=[], cursor_floor=None, has_source_position=True,
            dedup_columns=[*table.column_names, "_source_file"], pre_checked=True,
        )
        con.close()
        shutil.rmtree(work / "_spill", ignore_errors=True)
        for p, _ in todo:  # keep the original files, byte for byte
            shutil.copy2(p, fwork / p.name)
        prior_marks = [r.max_cursor for r in batches.prior_records(settings, table.name, night.batch_id) if r.max_cursor]
        marks = [m for m in [*prior_marks, counts.max_cursor.isoformat() if counts.max_cursor else None] if m]
        record = batches.BatchRecord(
            table=table.name, source="survey", batch_id=night.batch_id,
            data_interval_start=night.start_utc.isoformat(), data_interval_end=night.end_utc.isoformat(),
            extracted_at=extracted_at.isoformat(), mode="full" if full_refresh or not prior_marks else "incremental",
            window_start=None, window_end=night.end_naive.isoformat(),
            rows_read=counts.read, rows_landed=counts.landed, rows_quarantined=counts.quarantined,
            rows_duplicate=counts.duplicates, max_cursor=max(marks) if marks else None,
            files=[{"name": p.name, "sha256": d, "bytes": p.stat().st_size} for p, d in todo],
            checksum=counts.checksum,
        )
        batches.write_record(work, record)
        batches.replace_dir(fwork, files_dir, private_root=settings.raw_dir)
        batches.replace_dir(qwork, batches.quarantine_dir(settings, table.name, night.batch_id),
                            private_root=settings.quarantine_dir)
        batches.replace_dir(work, final, private_root=settings.raw_dir)
    except BaseException:
        for d in (work, qwork, fwork):
            shutil.rmtree(d, ignore_errors=True)
        raise
    log.info(
        "survey_responses: %d new file(s) %s; read %d, landed %d, quarantined %d, duplicates %d",
        len(todo), _names(p.name for p, _ in todo), record.rows_read, record.rows_landed,
        record.rows_quarantined, record.rows_duplicate,
    )
    return record
