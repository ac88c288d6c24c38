"""The survey inbox (SOURCES.md section 2): one ``surveys_YYYYMMDD.csv`` per business day.

Scores follow the customer's latent satisfaction, drop after a complaint ticket (120 days)
and after a refund, so NPS and satisfaction predict repurchase. Files are UTF-8 (some with a
BOM), CRLF records, RFC 4180 minimal quoting (``csv.writer``): comments hold commas, quotes
and newlines, in Chinese and English.

Injected mess (``Rates``), each recorded in the manifest with its identity:
row defects ``invalid_nps_score``, ``invalid_submitted_at``, ``duplicate_row`` (an exact copy
of a record, right after it); per file ``malformed_row`` (the file ends inside its last
record), ``bad_header``, ``empty_file``. A file with a file-level defect carries no row
defects (its rows never land), and the truncated record is never a defect of another kind.
``line`` in an identity is the 1-based record number after the header, as the loader's
``_source_line``; ``physical_line`` is the text line where the record starts.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loyalty import contracts
from loyalty.generator import vocab
from loyalty.generator.core import DAY, HOUR, NULL, Rates, iso_z_text, ts_text

COMPLAINT_MEMORY = 120 * DAY
BAD_HEADER_VARIANTS = ("missing", "renamed", "reordered", "extra_column")


def file_name(d: date) -> str:
    return f"surveys_{d:%Y%m%d}.csv"


# --------------------------------------------------------------------------- scores

def score(rng: np.random.Generator, h: np.ndarray, complained: np.ndarray, refunded: np.ndarray,
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(nps 0..10 or -1, satisfaction 1..5 or -1, intent 0 high / 1 medium / 2 low or -1)."""
    n = len(h)
    mean = 2.0 + 8.2 * h - 3.5 * complained - 1.5 * refunded
    nps = np.clip(np.round(rng.normal(mean, 1.1)), 0, 10).astype(np.int64)
    sat = np.clip(np.round(1 + nps * 0.4 + rng.normal(0, 0.6, n)), 1, 5).astype(np.int64)
    u = rng.random(n)
    p_high = np.where(nps >= 9, 0.80, np.where(nps >= 7, 0.35, 0.05))
    p_med = np.where(nps >= 9, 0.18, np.where(nps >= 7, 0.55, 0.35))
    intent = np.where(u < p_high, 0, np.where(u < p_high + p_med, 1, 2))
    nps = np.where(rng.random(n) < 0.07, -1, nps)
    sat = np.where(rng.random(n) < 0.06, -1, sat)
    intent = np.where(rng.random(n) < 0.10, -1, intent)
    return nps, sat, intent


def comments(rng: np.random.Generator, nps: np.ndarray) -> np.ndarray:
    n = len(nps)
    pos = np.array(vocab.COMMENTS_POSITIVE, dtype=object)
    neu = np.array(vocab.COMMENTS_NEUTRAL, dtype=object)
    neg = np.array(vocab.COMMENTS_NEGATIVE, dtype=object)
    c = np.where(nps >= 9, pos[rng.integers(0, len(pos), n)],
                 np.where((nps >= 7) | (nps < 0), neu[rng.integers(0, len(neu), n)], neg[rng.integers(0, len(neg), n)]))
    return np.where(rng.random(n) < 0.45, "", c)


def last_complaint(cust_idx: np.ndarray, t: np.ndarray, tk_cust: np.ndarray, tk_created: np.ndarray) -> np.ndarray:
    """Time of the customer's latest ticket created before ``t`` (NULL if none)."""
    probe = pd.DataFrame({"c": cust_idx, "t": t, "i": np.arange(len(t))}).sort_values("t", kind="stable")
    tk = pd.DataFrame({"c": tk_cust, "t": tk_created, "last": tk_created}).sort_values("t", kind="stable")
    tk = tk[tk["c"] >= 0]
    m = pd.merge_asof(probe, tk, on="t", by="c", allow_exact_matches=False)
    out = np.full(len(t), NULL, dtype=np.int64)
    out[m["i"].to_numpy()] = m["last"].fillna(NULL).astype(np.int64).to_numpy()
    return out


# --------------------------------------------------------------------------- rendering

def _offsets(t: np.ndarray, tz: str) -> np.ndarray:
    """UTC offset (seconds) of the business time zone at each instant."""
    zone = ZoneInfo(tz)
    hours = t // HOUR
    uniq, inv = np.unique(hours, return_inverse=True)
    offs = np.array([int(cast(timedelta, datetime.fromtimestamp(int(hh) * HOUR, zone).utcoffset()).total_seconds())
                     for hh in uniq])
    return offs[inv] if len(uniq) else np.zeros(0, dtype=np.int64)


def _offset_text(off: np.ndarray) -> np.ndarray:
    uniq, inv = np.unique(off, return_inverse=True)
    txt = []
    for o in uniq:
        sign = "+" if o >= 0 else "-"
        a = abs(int(o))
        txt.append(f"{sign}{a // 3600:02d}:{a % 3600 // 60:02d}")
    return np.array(txt, dtype=object)[inv]


@dataclass
class Responses:
    """Survey responses in delivered (text) form, sorted by file day then submission time."""

    day: np.ndarray  # local business date as epoch days
    response_id: np.ndarray
    cols: dict[str, np.ndarray]  # SURVEY_HEADER -> object arrays of str

    @property
    def n(self) -> int:
        return len(self.response_id)


def build(rng: np.random.Generator, *, seq0: int, survey_kind: np.ndarray, customer_id: np.ndarray,
          order_id: np.ndarray, submitted: np.ndarray, nps: np.ndarray, sat: np.ndarray, intent: np.ndarray,
          tz: str, rates: Rates) -> Responses:
    """Render responses as delivered text. ``survey_kind``: 0 post-purchase, 1 relationship NPS."""
    order = np.lexsort((customer_id, submitted))
    (survey_kind, customer_id, order_id, submitted, nps, sat, intent) = (
        a[order] for a in (survey_kind, customer_id, order_id, submitted, nps, sat, intent))
    n = len(submitted)
    off = _offsets(submitted, tz)
    local = submitted + off
    day = local // DAY
    rid = np.array([f"rsp_{i:010d}" for i in range(seq0, seq0 + n)], dtype=object)
    quarter = pd.to_datetime(local, unit="s")
    qlabel = (quarter.year.astype(str) + "Q" + quarter.quarter.astype(str)).to_numpy(dtype=object)
    sid = np.where(survey_kind == 0, "SV-POST-", "SV-NPS-").astype(object) + qlabel
    fmt = rng.random(n)
    local_txt = ts_text(local).to_numpy(zero_copy_only=False)
    iso_local = pc.replace_substring(ts_text(local), " ", "T").to_numpy(zero_copy_only=False) + _offset_text(off)
    iso_z = iso_z_text(submitted).to_numpy(zero_copy_only=False)
    iso_share = rates.iso_submitted_at
    sub_txt = np.where(fmt < 1 - iso_share, local_txt, np.where(fmt < 1 - iso_share / 3, iso_local, iso_z))
    chan = np.array(vocab.SURVEY_CHANNELS, dtype=object)[rng.choice(4, n, p=vocab.SURVEY_CHANNEL_P)]
    nps_txt = np.where(nps < 0, "", pa.array(np.maximum(nps, 0)).cast(pa.string()).to_numpy(zero_copy_only=False))
    as_label = rng.random(n) < 0.55
    sat_lbl = np.array(vocab.SAT_LABELS, dtype=object)[np.clip(sat - 1, 0, 4)]
    sat_dig = pa.array(np.maximum(sat, 0)).cast(pa.string()).to_numpy(zero_copy_only=False)
    sat_txt = np.where(sat < 0, "", np.where(as_label, sat_lbl, sat_dig))
    intent_txt = np.where(intent < 0, "", np.array(vocab.INTENT_LABELS, dtype=object)[np.clip(intent, 0, 2)])
    cid_txt = np.where(customer_id == NULL, "",
                       pa.array(np.maximum(customer_id, 0)).cast(pa.string()).to_numpy(zero_copy_only=False))
    oid_txt = np.where(order_id == NULL, "",
                       pa.array(np.maximum(order_id, 0)).cast(pa.string()).to_numpy(zero_copy_only=False))
    cols = {
        "response_id": rid, "survey_id": sid, "customer_id": cid_txt.astype(object), "order_id": oid_txt.astype(object),
        "channel": chan, "submitted_at": sub_txt.astype(object), "nps_score": nps_txt.astype(object),
        "satisfaction": sat_txt.astype(object), "repurchase_intent": intent_txt.astype(object),
        "comment": comments(rng, nps).astype(object),
    }
    return Responses(day, rid, cols)


def _bad_timestamp(rng: np.random.Generator, good: str) -> str:
    """An unparsable submitted_at derived from a good local timestamp text."""
    y, mo, d = good[0:4], good[5:7], good[8:10]
    hh, mm, ss = good[11:13], good[14:16], good[17:19]
    pool = [
        f"{y}-02-30 {hh}:{mm}:{ss}",
        f"{y}-{mo}-{d} 24:{mm}:{ss}",
        f"{d}/{mo}/{y} {hh}:{mm}",
        f"{y}/{mo}/{d} {hh}:{mm}:{ss}",
        f"昨天 {hh}:{mm}",
        "not a date",
        f"{y}-13-{d}T{hh}:{mm}:{ss}+08:00",
        f"{y}{mo}{d}",
    ]
    return pool[int(rng.integers(0, len(pool)))]


# --------------------------------------------------------------------------- writing

@dataclass
class InboxResult:
    files: dict[str, dict] = field(default_factory=dict)
    defects: dict[str, list[dict]] = field(default_factory=dict)
    records: int = 0
    responses: int = 0


def _render_record(fields: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(fields)
    return buf.getvalue()[:-2]


def write_inbox(inbox: Path, resp: Responses, days: list[date], rng: np.random.Generator, rates: Rates,
                forced: dict[date, str] | None = None) -> InboxResult:
    """Write one file per day in ``days`` (every day gets a file, maybe header only)."""
    inbox.mkdir(parents=True, exist_ok=True)
    forced = forced or {}
    res = InboxResult(defects={k: [] for k in ("invalid_nps_score", "invalid_submitted_at", "malformed_row",
                                               "duplicate_row", "bad_header", "empty_file")})
    day_keys = np.array([(d - date(1970, 1, 1)).days for d in days])
    n_files = len(days)
    f_of_row = np.searchsorted(day_keys, resp.day)
    inside = (f_of_row < n_files) & (day_keys[np.minimum(f_of_row, n_files - 1)] == resp.day)
    assert inside.all(), "a response falls outside the files' days"
    starts = np.searchsorted(f_of_row, np.arange(n_files))
    ends = np.searchsorted(f_of_row, np.arange(n_files), side="right")
    count = ends - starts
    # --- file-level choices
    u = rng.random(n_files)
    kind = np.full(n_files, "", dtype=object)
    kind[u < rates.empty_file] = "empty_file"
    kind[(u >= rates.empty_file) & (u < rates.empty_file + rates.bad_header)] = "bad_header"
    i: int | np.integer[Any]
    for i, d in enumerate(days):
        if d in forced:
            kind[i] = forced[d]
    truncate = (kind == "") & (count > 0) & (rng.random(n_files) < rates.malformed_row)
    trunc_variant = rng.choice(["cut_in_quoted_comment", "missing_fields"], n_files)
    header_variant = np.array(BAD_HEADER_VARIANTS, dtype=object)[rng.integers(0, len(BAD_HEADER_VARIANTS), n_files)]
    bom = rng.random(n_files) < rates.bom
    # --- row-level choices
    n = resp.n
    clean_file = kind[f_of_row] == ""
    last_of_trunc = np.zeros(n, dtype=bool)
    last_of_trunc[ends[truncate] - 1] = True
    eligible = clean_file & ~last_of_trunc
    ur = rng.random(n)
    bad_nps = eligible & (ur < rates.invalid_nps_score)
    bad_ts = eligible & ~bad_nps & (ur < rates.invalid_nps_score + rates.invalid_submitted_at)
    dup = eligible & ~bad_nps & ~bad_ts & (rng.random(n) < rates.duplicate_row)
    cols = {k: v.copy() for k, v in resp.cols.items()}
    nps_vals = np.array(vocab.INVALID_NPS, dtype=object)[rng.integers(0, len(vocab.INVALID_NPS), n)]
    cols["nps_score"] = np.where(bad_nps, nps_vals, cols["nps_score"])
    local_for_bad = cols["submitted_at"]
    for i in np.flatnonzero(bad_ts):
        good = local_for_bad[i]
        if not good[:4].isdigit() or len(good) < 19:
            good = "2026-01-01 12:00:00"
        cols["submitted_at"][i] = _bad_timestamp(rng, good)
    # truncated records: force a quoted comment for the "cut inside a quoted comment" variant
    f: int | np.integer[Any]
    for f in np.flatnonzero(truncate):
        if trunc_variant[f] == "cut_in_quoted_comment":
            cols["comment"][ends[f] - 1] = vocab.LONG_QUOTED_COMMENT
    # --- expand duplicates (the copy follows its original) and number the records
    rep = 1 + dup.astype(np.int64)
    src = np.repeat(np.arange(n), rep)
    is_copy = np.r_[False, src[1:] == src[:-1]]
    f_exp = f_of_row[src]
    exp_starts = np.searchsorted(f_exp, np.arange(n_files))
    exp_ends = np.searchsorted(f_exp, np.arange(n_files), side="right")
    recno = np.arange(len(src)) - exp_starts[f_exp] + 1
    nl = np.asarray(pc.count_substring(pa.array(cols["comment"].tolist(), pa.string()), "\n"), dtype=np.int64)[src]
    lines_used = 1 + nl
    cum = np.cumsum(lines_used) - lines_used  # lines before this record, globally
    header_lines = np.where((kind == "bad_header") & (header_variant == "missing"), 0, 1)
    phys = cum - cum[np.minimum(exp_starts, len(src) - 1)][f_exp] + header_lines[f_exp] + 1 if len(src) else cum
    out_cols = [cols[c][src] for c in contracts.SURVEY_HEADER]
    # --- identities
    names = [file_name(d) for d in days]
    rid = resp.response_id[src]

    def ident(mask: np.ndarray, **extra_cols) -> list[dict]:
        out = []
        for j in np.flatnonzero(mask):
            item = {"file": names[f_exp[j]], "line": int(recno[j]), "physical_line": int(phys[j]),
                    "response_id": rid[j]}
            for k, arr in extra_cols.items():
                item[k] = arr[j] if not isinstance(arr[j], np.integer) else int(arr[j])
            out.append(item)
        return out

    res.defects["invalid_nps_score"] = ident(bad_nps[src] & ~is_copy, value=out_cols[6])
    res.defects["invalid_submitted_at"] = ident(bad_ts[src] & ~is_copy, value=out_cols[5])
    res.defects["duplicate_row"] = ident(is_copy, original_line=recno - 1)
    # --- write
    header = ",".join(contracts.SURVEY_HEADER)
    for f in range(n_files):
        name = names[f]
        path = inbox / name
        s, e = exp_starts[f], exp_ends[f]
        info: dict[str, Any] = {"records": int(e - s), "responses": int(count[f]), "bom": bool(bom[f]), "defect": None}
        if kind[f] == "empty_file":
            path.write_bytes(b"")
            info.update(records=0, bom=False, defect="empty_file")
            res.defects["empty_file"].append({"file": name, "lost_responses": int(count[f])})
            info["bytes"] = 0
            res.files[name] = info
            continue
        buf = io.StringIO()
        if bom[f]:
            buf.write("\ufeff")
        if kind[f] == "bad_header":
            hv = header_variant[f]
            info["defect"] = "bad_header"
            info["variant"] = hv
            res.defects["bad_header"].append({"file": name, "variant": hv, "records": int(e - s)})
            if hv == "renamed":
                buf.write(header.replace("nps_score", "nps") + "\r\n")
            elif hv == "reordered":
                buf.write(header.replace("channel,submitted_at", "submitted_at,channel") + "\r\n")
            elif hv == "extra_column":
                buf.write(header + ",source\r\n")
        else:
            buf.write(header + "\r\n")
        writer = csv.writer(buf, lineterminator="\r\n")
        last = e - 1 if truncate[f] else e
        writer.writerows(zip(*(c[s:last] for c in out_cols), strict=True))
        if truncate[f]:
            fields = [c[last] for c in out_cols]
            variant = trunc_variant[f]
            if variant == "cut_in_quoted_comment":
                prefix = _render_record(fields[:9]) + ","
                buf.write(prefix + '"' + fields[9][:6])
            else:
                buf.write(_render_record(fields[:7]))
            info["truncated"] = variant
            res.defects["malformed_row"].append({"file": name, "line": int(recno[last]),
                                                 "physical_line": int(phys[last]), "response_id": rid[last],
                                                 "variant": str(variant)})
        data = buf.getvalue().encode("utf-8")
        path.write_bytes(data)
        info["bytes"] = len(data)
        res.files[name] = info
    res.records = int(sum(i["records"] for i in res.files.values()))
    res.responses = int(sum(i["responses"] for i in res.files.values() if i["defect"] != "empty_file"))
    return res


# --------------------------------------------------------------------------- re-delivery

def redeliver(path: Path, rng: np.random.Generator, max_rows: int = 5) -> list[dict]:
    """Overwrite a delivered file with corrected scores for a few clean records.

    The other records (defects included) are written back byte for byte in the same
    order, so the file's defect identities stay valid. Returns the corrections.
    """
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    header, rows = records[0], records[1:]
    seen = Counter(r[0] for r in rows)
    once = {i for i, c in seen.items() if c == 1}
    cand = [k for k, r in enumerate(rows) if r[0] in once and r[6].isdigit() and 0 <= int(r[6]) <= 10
            and len(r[5]) >= 19 and r[5][:4].isdigit() and _parsable(r[5])]
    if not cand:
        return []
    pick = sorted(rng.choice(cand, min(max_rows, len(cand)), replace=False).tolist())
    out = []
    for k in pick:
        old = int(rows[k][6])
        delta = int(rng.choice([-3, -2, -1, 1, 2]))
        new = old + delta if 0 <= old + delta <= 10 else old - delta
        rows[k][6] = str(new)
        out.append({"line": k + 1, "response_id": rows[k][0], "field": "nps_score", "old": str(old), "new": str(new)})
    buf = io.StringIO()
    if bom:
        buf.write("\ufeff")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return out


def _parsable(s: str) -> bool:
    try:
        if "T" in s:
            datetime.fromisoformat(s.replace("Z", "+00:00"))
        else:
            datetime.strptime(s, "%Y-%m-%d %H:%M:%S")
        return True
    except ValueError:
        return False
