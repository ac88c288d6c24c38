"""Helpers of the generator tests: reading the shop DB and the survey files independently."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from loyalty import contracts

TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONEY_RE = re.compile(r"^-?\d+\.\d{2}$")
ISO_OFFSET_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
NPS_RE = re.compile(r"^(10|[0-9])$")


def window(d: date, tz: str = "Asia/Shanghai") -> tuple[str, str]:
    """Business day ``d`` as UTC text bounds ``[start, end)``."""
    z = ZoneInfo(tz)
    s = datetime.combine(d, time(0), tzinfo=z).astimezone(UTC)
    e = datetime.combine(d + timedelta(days=1), time(0), tzinfo=z).astimezone(UTC)
    return s.strftime("%Y-%m-%d %H:%M:%S"), e.strftime("%Y-%m-%d %H:%M:%S")


def business_date(ts: str, tz: str = "Asia/Shanghai") -> date:
    return datetime.fromisoformat(ts).replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date()


def sqlite_rows(path: Path, table: str) -> list[tuple]:
    t = contracts.SHOP_TABLES[table]
    with sqlite3.connect(path) as c:
        return c.execute(f"select {', '.join(t.column_names)} from {table} order by {t.primary_key}").fetchall()


def _norm(row: tuple) -> tuple:
    return tuple(None if v is None else str(v) for v in row)


def checksum(rows: list[tuple]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(repr(_norm(r)).encode())
    return h.hexdigest()


def sqlite_checksums(path: Path) -> dict[str, tuple[int, str]]:
    out = {}
    for name in contracts.SHOP_TABLES:
        rows = sqlite_rows(path, name)
        out[name] = (len(rows), checksum(rows))
    return out


def pg_select(table: contracts.Table) -> str:
    cols = []
    for c in table.columns:
        if c.type == "TIMESTAMP":
            cols.append(f"to_char({c.name}, 'YYYY-MM-DD HH24:MI:SS')")
        elif c.type in ("DATE", contracts.MONEY):
            cols.append(f"{c.name}::text")
        else:
            cols.append(c.name)
    return f"select {', '.join(cols)} from {table.name} order by {table.primary_key}"


def pg_checksums(dsn: str) -> dict[str, tuple[int, str]]:
    import psycopg

    out = {}
    with psycopg.connect(dsn) as conn:
        for name, t in contracts.SHOP_TABLES.items():
            rows = conn.execute(pg_select(t)).fetchall()
            out[name] = (len(rows), checksum(rows))
    return out


def snapshot(path: Path) -> dict[str, dict]:
    """Every shop row keyed by primary key."""
    return {name: {r[0]: r for r in sqlite_rows(path, name)} for name in contracts.SHOP_TABLES}


def read_survey(path: Path) -> dict:
    """An independent reading of one survey file."""
    raw = path.read_bytes()
    info: dict = {"bom": raw.startswith(b"\xef\xbb\xbf"), "bytes": len(raw), "records": [], "truncated": False}
    if not raw:
        info["empty"] = True
        return info
    text = raw.decode("utf-8-sig")
    info["ends_cleanly"] = text.endswith("\n")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    info["header"] = next(reader)
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error:
            info["records"].append(None)  # the rest is one unreadable record
            info["truncated"] = True
            break
        info["records"].append(rec)
    if not info["ends_cleanly"]:
        info["truncated"] = True
    return info


def valid_submitted_at(s: str) -> bool:
    try:
        if TS_RE.match(s):
            datetime.strptime(s, "%Y-%m-%d %H:%M:%S")
            return True
        if ISO_OFFSET_RE.match(s):
            datetime.fromisoformat(s.replace("Z", "+00:00"))
            return True
    except ValueError:
        return False
    return False


def survey_defects(inbox: Path) -> dict[str, set]:
    """Defects found by reading the files independently: (file, line, response_id)."""
    found: dict[str, set] = {k: set() for k in ("invalid_nps_score", "invalid_submitted_at", "duplicate_row",
                                                 "malformed_row")}
    for p in sorted(inbox.glob("surveys_*.csv")):
        info = read_survey(p)
        if info.get("empty") or tuple(info["header"]) != contracts.SURVEY_HEADER:
            continue
        seen = set()
        recs = info["records"]
        for n, rec in enumerate(recs, start=1):
            last = n == len(recs)
            if last and info["truncated"]:
                assert rec is None or len(rec) != len(contracts.SURVEY_HEADER) or not info["ends_cleanly"]
                rid = rec[0] if rec else None
                found["malformed_row"].add((p.name, n, rid))
                continue
            assert len(rec) == 10, (p.name, n)
            t = tuple(rec)
            if t in seen:
                found["duplicate_row"].add((p.name, n, rec[0]))
                continue
            seen.add(t)
            if rec[6] != "" and not NPS_RE.match(rec[6]):
                found["invalid_nps_score"].add((p.name, n, rec[0]))
            if not valid_submitted_at(rec[5]):
                found["invalid_submitted_at"].add((p.name, n, rec[0]))
            # everything else is clean
            assert rec[0] and rec[4] in contracts.SURVEY_CHANNELS
            assert rec[7] in ("", "1", "2", "3", "4", "5", *contracts.SATISFACTION_LABELS)
            assert rec[8] in ("", *contracts.REPURCHASE_INTENT_LABELS)
            assert rec[2] == "" or rec[2].isdigit()
            assert rec[3] == "" or rec[3].isdigit()
    return found
