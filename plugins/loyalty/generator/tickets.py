"""Complaint tickets (SOURCES.md section 3) as the JSON Lines file the API simulator serves.

Each ticket's whole life is planned when it is created (first response, resolution, reopen,
closing); every state change is a *version*: one JSON line with the ticket's full state and
``updated_at`` = the time of the change. ``tickets.jsonl`` holds the versions up to the
current business day, in ``updated_at`` order; the later ones wait in the generator's
sidecar (``.generator/tickets_pending.parquet``) and are appended by ``advance`` on their day.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loyalty.generator import vocab
from loyalty.generator.core import DAY, HOUR, NULL, iso_z_text, money_text

STATUS = ("open", "pending", "solved", "closed")
FIELDS = ("id", "customer_id", "order_id", "category", "severity", "channel", "status", "created_at",
          "first_response_at", "resolved_at", "updated_at", "reopen_count", "compensation_amount",
          "satisfaction_after")


def plan(rng: np.random.Generator, created: np.ndarray, h: np.ndarray, refunded: np.ndarray,
         channel: np.ndarray) -> pd.DataFrame:
    """The life of new tickets. ``channel``: order channel code (0 store, 1 online, 2 wechat, -1 none)."""
    n = len(created)
    u = rng.random(n)
    # category: depends on how the order was bought and whether it was refunded
    cat_store = rng.choice(5, n, p=[0.35, 0.0, 0.45, 0.10, 0.10])
    cat_deliv = rng.choice(5, n, p=[0.25, 0.45, 0.10, 0.10, 0.10])
    cat_refund = rng.choice(5, n, p=[0.40, 0.10, 0.05, 0.40, 0.05])
    cat_none = rng.choice(5, n, p=[0.20, 0.10, 0.30, 0.20, 0.20])
    cat = np.where(refunded, cat_refund, np.where(channel == 0, cat_store, np.where(channel < 0, cat_none, cat_deliv)))
    sev = rng.choice(3, n, p=[0.5, 0.35, 0.15])
    tch = np.where((channel == 0) & (u < 0.4), 3, rng.choice(3, n, p=[0.35, 0.40, 0.25]))
    speed = np.where(sev == 2, 0.5, 1.0)
    no_fr = rng.random(n) < 0.03
    fr = np.where(no_fr, NULL, created + (rng.lognormal(np.log(3 * HOUR), 1.0, n) * speed).astype(np.int64) + 60)
    start = np.where(no_fr, created, fr)
    r1 = start + (rng.lognormal(np.log(24 * HOUR), 1.1, n) * speed).astype(np.int64) + 600
    ur = rng.random(n)
    ro1 = np.where(ur < 0.10, r1 + rng.integers(HOUR, 5 * DAY, n), NULL)
    r2 = np.where(ro1 != NULL, ro1 + rng.lognormal(np.log(12 * HOUR), 1.0, n).astype(np.int64) + 600, NULL)
    ro2 = np.where(ur < 0.02, r2 + rng.integers(HOUR, 3 * DAY, n), NULL)
    r3 = np.where(ro2 != NULL, ro2 + rng.lognormal(np.log(12 * HOUR), 1.0, n).astype(np.int64) + 600, NULL)
    final = np.where(ro2 != NULL, r3, np.where(ro1 != NULL, r2, r1))
    reopen = (ro1 != NULL).astype(np.int64) + (ro2 != NULL)
    closed = final + rng.integers(2 * DAY, 7 * DAY, n)
    comp_p = np.array([0.15, 0.30, 0.55])[sev] + 0.2 * refunded
    comp = np.where(rng.random(n) < comp_p, rng.choice([1000, 2000, 5000, 10000, 20000], n,
                                                       p=[0.25, 0.3, 0.25, 0.15, 0.05]), 0)
    comp = np.where(sev == 2, comp * 2, comp)
    hours = (final - created) / HOUR
    score = 1 + 4 * h - 0.8 * (sev == 2) - 0.6 * (reopen > 0) - 0.3 * np.log1p(hours / 24) + rng.normal(0, 0.7, n)
    sat = np.where(rng.random(n) < 0.75, np.clip(np.round(score), 1, 5), -1).astype(np.int64)
    return pd.DataFrame({
        "category": cat, "severity": sev, "channel": tch, "created_at": created, "fr": fr, "r1": r1, "ro1": ro1,
        "r2": r2, "ro2": ro2, "r3": r3, "final": final, "reopen": reopen, "closed": closed, "comp": comp, "sat": sat,
    })


def versions(tk: pd.DataFrame) -> pd.DataFrame:
    """One row per state of each ticket (``tk`` has id, customer_id, order_id and the plan)."""
    base = ["id", "customer_id", "order_id", "category", "severity", "channel", "created_at"]
    parts = []

    def add(mask: np.ndarray, seq: int, status: int, fr: bool, res: str | None, reopen, comp: bool, sat: bool,
            upd: str) -> None:
        s = tk.loc[mask, base].copy()
        sub = tk[mask]
        s["status"] = status
        s["first_response_at"] = sub["fr"].to_numpy() if fr else NULL
        s["resolved_at"] = sub[res].to_numpy() if res else NULL
        s["reopen_count"] = reopen if isinstance(reopen, int) else sub[reopen].to_numpy()
        s["comp"] = sub["comp"].to_numpy() if comp else 0
        s["sat"] = sub["sat"].to_numpy() if sat else -1
        s["updated_at"] = sub[upd].to_numpy()
        s["seq"] = seq
        parts.append(s)

    every = np.ones(len(tk), dtype=bool)
    has_fr = tk["fr"].to_numpy() != NULL
    r1_ = tk["ro1"].to_numpy() != NULL
    r2_ = tk["ro2"].to_numpy() != NULL
    add(every, 0, 0, False, None, 0, False, False, "created_at")
    add(has_fr, 1, 1, True, None, 0, False, False, "fr")
    add(every, 2, 2, True, "r1", 0, True, False, "r1")
    add(r1_, 3, 0, True, None, 1, True, False, "ro1")
    add(r1_, 4, 2, True, "r2", 1, True, False, "r2")
    add(r2_, 5, 0, True, None, 2, True, False, "ro2")
    add(r2_, 6, 2, True, "r3", 2, True, False, "r3")
    add(every, 7, 3, True, "final", "reopen", True, True, "closed")
    v = pd.concat(parts, ignore_index=True)
    v = v.sort_values(["updated_at", "id", "seq"], kind="stable").reset_index(drop=True)
    return v


def _json_num(a: np.ndarray, null: int = NULL) -> pa.Array:
    a = np.asarray(a, dtype=np.int64)
    s = pa.array(a).cast(pa.string())
    return pc.if_else(pa.array(a == null), pa.scalar("null"), s)


def _json_ts(a: np.ndarray) -> pa.Array:
    s = iso_z_text(a)
    quoted = pc.binary_join_element_wise(pa.scalar('"'), s, pa.scalar('"'), "")
    return pc.fill_null(quoted, "null")


def _json_str(values: np.ndarray, labels: tuple[str, ...]) -> pa.Array:
    return pa.array(np.array([f'"{x}"' for x in labels], dtype=object)[values], pa.string())


def render(v: pd.DataFrame) -> list[str]:
    """JSON lines (fields in SOURCES.md order), vectorised."""
    if len(v) == 0:
        return []
    parts = {
        "id": _json_num(v["id"].to_numpy()),
        "customer_id": _json_num(v["customer_id"].to_numpy()),
        "order_id": _json_num(v["order_id"].to_numpy()),
        "category": _json_str(v["category"].to_numpy(), vocab.TICKET_CATEGORIES),
        "severity": _json_str(v["severity"].to_numpy(), vocab.TICKET_SEVERITIES),
        "channel": _json_str(v["channel"].to_numpy(), vocab.TICKET_CHANNELS),
        "status": _json_str(v["status"].to_numpy(), STATUS),
        "created_at": _json_ts(v["created_at"].to_numpy()),
        "first_response_at": _json_ts(v["first_response_at"].to_numpy()),
        "resolved_at": _json_ts(v["resolved_at"].to_numpy()),
        "updated_at": _json_ts(v["updated_at"].to_numpy()),
        "reopen_count": _json_num(v["reopen_count"].to_numpy()),
        "compensation_amount": pc.binary_join_element_wise(pa.scalar('"'), money_text(v["comp"].to_numpy()),
                                                           pa.scalar('"'), ""),
        "satisfaction_after": _json_num(v["sat"].to_numpy(), -1),
    }
    pieces: list = []
    for i, name in enumerate(FIELDS):
        pieces.append(pa.scalar(("{" if i == 0 else ", ") + f'"{name}": '))
        pieces.append(parts[name])
    pieces.append(pa.scalar("}"))
    return pc.binary_join_element_wise(*pieces, "").to_pylist()


def append_lines(path: Path, v: pd.DataFrame) -> int:
    lines = render(v)
    if lines:
        with path.open("a", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines))
            f.write("\n")
    return len(lines)


PENDING_COLUMNS = ["id", "customer_id", "order_id", "category", "severity", "channel", "created_at", "status",
                   "first_response_at", "resolved_at", "reopen_count", "comp", "sat", "updated_at", "seq"]


def read_pending(path: Path) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype=np.int64) for c in PENDING_COLUMNS})
    return pd.read_parquet(path)


def write_pending(path: Path, v: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    v[PENDING_COLUMNS].astype(np.int64).reset_index(drop=True).to_parquet(path, index=False)
