"""``advance``: append one more business day D of changes to every source.

Everything written has its ``updated_at`` (tickets: ``updated_at``; surveys: the file of
day D) inside ``[D 00:00, D+1 00:00)`` business time, in UTC:

* shop: new customers (a few withheld one night: late-arriving), profile changes, new orders
  with items and points, status flips due today (shipping, completion, cancellation, refunds
  months later), new members, tier changes, cancellations and freezes, points (purchase,
  reversal, redeem, care gift, referral reward, goodwill, 1 January expiry), new invites,
  registrations, first orders, conversions and rejections of referrals, care touches of
  running campaigns, responses, a new campaign when the schedule runs dry;
* surveys: ``surveys_D.csv``; now and then an older file re-delivered with corrections;
* tickets: new tickets and the state changes due today, appended to ``tickets.jsonl``.

The manifest gets a ``days[D]`` section with the new and updated row counts per table.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from loyalty import contracts
from loyalty.generator import db as shopdb
from loyalty.generator import history as H
from loyalty.generator import surveys as S
from loyalty.generator import tickets as T
from loyalty.generator import vocab
from loyalty.generator.core import (
    DAY,
    DEFECT_KINDS,
    HOUR,
    NULL,
    SCALES,
    SIDECAR_DIR,
    Calendar,
    Rates,
    Timer,
    date_text,
    day_weight,
    day_window,
    epoch_days,
    int_array,
    local_midnight_utc,
    money_text,
    parse_ts_text,
    rng_for,
    times_in_window,
    ts_text,
    ts_to_text,
)
from loyalty.generator.full import default_db_url, write_json

log = logging.getLogger("loyalty.generator")
STATUS_CODE = {s: i for i, s in enumerate(H.STATUSES)}
MEMBER_STATUS = ("active", "frozen", "cancelled")


def advance(out: str | Path | None = None, *, days: int = 1, shop_db_url: str | None = None,
            bad_file: str | None = None) -> dict:
    """Advance the sources in ``out`` by ``days`` business days; returns the updated manifest.

    ``bad_file`` ('bad_header' or 'empty_file') makes each new day's survey file bad.
    """
    from loyalty.config import Settings

    out = Path(out) if out is not None else Settings.from_env().sources_dir
    out = out.resolve()
    state_path, manifest_path = out / "state.json", out / "manifest.json"
    if not state_path.exists():
        raise FileNotFoundError(f"{state_path} not found: run `loyalty generate --out {out}` first")
    state = json.loads(state_path.read_text(encoding="utf-8"))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    url = _resolve_url(out, state, shop_db_url)
    for _ in range(days):
        _one_day(out, url, state, manifest, bad_file)
        write_json(manifest_path, manifest)
        write_json(state_path, state)
    return manifest


def _resolve_url(out: Path, state: dict, explicit: str | None) -> str:
    if explicit:
        return explicit
    if os.environ.get("LOYALTY_SHOP_DB_URL"):
        return os.environ["LOYALTY_SHOP_DB_URL"]
    stored = state.get("shop_db_url")
    if stored:
        if "***" in stored:
            raise ValueError(f"the sources were generated into {stored}: pass --shop-db-url with the password")
        return stored
    return default_db_url(out)


class Changes:
    """New rows and in-place updates of one day, per shop table."""

    def __init__(self) -> None:
        self.inserts: dict[str, list[pa.Table]] = defaultdict(list)
        self.new_keys: dict[str, set] = defaultdict(set)
        self.updates: dict[str, dict] = defaultdict(dict)

    def insert(self, table: str, rows: pa.Table) -> None:
        if rows.num_rows:
            self.inserts[table].append(rows)
            key = H_KEYS[table]
            self.new_keys[table].update(rows.column(key).to_pylist())

    def update(self, table: str, key: int, at: int, **cols) -> None:
        if key in self.new_keys[table]:
            raise AssertionError(f"{table} {key}: a row inserted today is written in its final form")
        d = self.updates[table].setdefault(int(key), {})
        d.update(cols)
        d["updated_at"] = max(d.get("updated_at", at), at)

    def apply(self, db: shopdb.ShopDB) -> None:
        for table in shopdb.TABLE_ORDER:
            for tbl in self.inserts.get(table, []):
                db.insert(table, tbl)
        for table, rows in self.updates.items():
            groups: dict[tuple, list] = defaultdict(list)
            for key, cols in sorted(rows.items()):
                names = tuple(sorted(cols))
                groups[names].append([ts_to_text(cols[c]) if c.endswith("_at") and cols[c] is not None
                                      and not isinstance(cols[c], str) else cols[c] for c in names] + [key])
            for names, vals in groups.items():
                db.update(table, H_KEYS[table], names, vals)

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        new = {t: sum(x.num_rows for x in self.inserts.get(t, [])) for t in shopdb.TABLE_ORDER}
        upd = {t: len(self.updates.get(t, {})) for t in shopdb.TABLE_ORDER}
        return new, upd


H_KEYS = {name: t.primary_key for name, t in contracts.SHOP_TABLES.items()}


def _one_day(out: Path, url: str, state: dict, manifest: dict, bad_file: str | None) -> None:
    timer = Timer()
    D = date.fromisoformat(state["current_date"]) + timedelta(days=1)
    tz, seed = state["business_tz"], int(state["seed"])
    rates = Rates.from_dict(state["rates"])
    cal_state = state["calibration"]
    ids = state["next_ids"]
    s, e = day_window(D, tz)
    w = day_weight(D)
    key = D.isoformat()

    def R(*k: object) -> np.random.Generator:
        return rng_for(seed, "advance", key, *k)

    side = out / SIDECAR_DIR
    lat = pd.read_parquet(side / "customers.parquet")
    plan = pd.read_parquet(side / "order_plan.parquet")
    ch = Changes()
    day: dict = {"business_date": key, "window_utc": [ts_to_text(s), ts_to_text(e)]}
    defects_today: dict[str, list] = {k: [] for k in DEFECT_KINDS}
    db = shopdb.ShopDB(url).connect()
    with db:
        # ------------------------------------------------------------ customers
        pend = state.get("pending_customers", [])
        if pend:
            t_arr = np.sort(times_in_window(R("late-arrive"), s, e, len(pend)))
            rows = []
            for p, t in zip(pend, t_arr, strict=True):
                rows.append({**p, "registered_at": ts_to_text(t), "updated_at": ts_to_text(t)})
                for item in manifest["defects"]["late_arriving_customer"]:
                    if item["customer_id"] == p["customer_id"]:
                        item["customer_updated_at"] = ts_to_text(t)
            ch.insert("customers", pa.Table.from_pylist(rows, schema=_customer_schema()))
        day["late_arriving_customers_arrived"] = [p["customer_id"] for p in pend]

        rng = R("customers")
        n_new = int(rng.poisson(cal_state["customers_per_day"] * w))
        new_ids = np.arange(ids["customer_id"], ids["customer_id"] + n_new)
        ids["customer_id"] += n_new
        reg = np.sort(times_in_window(rng, s, e - 120, n_new))
        la = H.latent_attrs(rng, reg)
        person = H.person_attrs(rng, new_ids, reg)
        late = rng.random(n_new) < rates.late_arriving_customer
        new_lat = pd.DataFrame({
            "customer_id": new_ids, "h": la["h"], "rate": la["value"] * cal_state["rate_scale"], "city": la["city"],
            "channel": la["channel"], "a1": la["a1"], "b1": la["b1"], "a2": la["a2"], "b2": la["b2"],
            "last_ticket": NULL,
        })
        lat = pd.concat([lat, new_lat], ignore_index=True)
        lat_ids = lat["customer_id"].to_numpy()
        new_pos = len(lat) - n_new + np.arange(n_new)
        cust_rows = pd.DataFrame({
            "customer_id": new_ids, "name": person["name"], "phone": person["phone"], "email": person["email"],
            "gender": np.array(["F", "M", None], dtype=object)[person["gender"]],
            "birth_date": date_text(person["birth"]).to_numpy(zero_copy_only=False),
            "city": np.array(vocab.CITY_NAMES, dtype=object)[la["city"]],
            "registered_at": ts_text(reg).to_numpy(zero_copy_only=False),
            "signup_channel": np.array(vocab.CHANNELS, dtype=object)[la["channel"]],
            "updated_at": ts_text(reg).to_numpy(zero_copy_only=False),
        })
        # Referral registrations among today's newcomers (not the late ones).
        reg_ref = _referral_registrations(db, R("referrals", "register"), ch, cust_rows, late, rates, manifest)
        # Existing customers' profile changes.
        _profile_changes(R("customers", "profile"), ch, lat_ids[: len(lat) - n_new], s, e, pend)
        # ------------------------------------------------------------ orders
        stores = _stores(db, tz)
        products = _products(db, state)
        mem = _memberships(db)
        uplift = _uplift(db, lat_ids, s)
        a1, b1, a2, b2 = (lat[c].to_numpy() for c in ("a1", "b1", "a2", "b2"))
        active = ((a1 <= s) & (s < b1)) | ((a2 != NULL) & (a2 <= s) & (s < b2))
        active[new_pos] = False
        rng = R("orders")
        expected = np.where(active, lat["rate"].to_numpy() * w, 0.0) + uplift
        counts = rng.poisson(expected)
        late_pos = new_pos[late]
        idx = np.concatenate([np.repeat(np.arange(len(lat)), counts), late_pos])
        t = times_in_window(rng, s, e, len(idx))
        # a late customer's first order: after the (withheld) registration time
        if len(late_pos):
            t[-len(late_pos):] = np.minimum(reg[late] + rng.integers(60, 3 * HOUR, len(late_pos)), e - 1)
        o = H.order_attributes(R("orders", "attributes"), lat["city"].to_numpy(), lat["channel"].to_numpy(), stores,
                               idx, t, rates)
        o = o.sort_values(["ordered_at", "cust_idx"], kind="stable").reset_index(drop=True)
        o.insert(0, "order_id", np.arange(ids["order_id"], ids["order_id"] + len(o)))
        ids["order_id"] += len(o)
        status, upd = H.status_as_of(o, e)
        o["status"], o["updated_at"] = status, upd
        o_cust = lat_ids[o["cust_idx"].to_numpy()]
        # referral codes on the first orders of registered referees
        o["referral_code"] = None
        first_orders = _referral_first_orders(db, ch, o, o_cust)
        n_items, total, discount = H.make_items(R("items"), products, o, ids["order_item_id"],
                                                lambda tbl: ch.insert("order_items", tbl))
        ids["order_item_id"] += n_items
        o["total_cents"], o["discount_cents"] = total, discount
        ch.insert("orders", H.orders_table(o, lat_ids))
        # member orders earn points on completion
        mid = _member_at(mem, o_cust, o["ordered_at"].to_numpy())
        pts = np.where(mid != NULL, total // 1000, 0)
        earn = (mid != NULL) & (pts > 0)
        ledger: list[pd.DataFrame] = []
        comp = o["complete_at"].to_numpy()
        done = earn & (comp != NULL) & (comp < e)
        ledger.append(pd.DataFrame({"member_id": mid[done], "occurred_at": comp[done], "points": pts[done],
                                    "reason": "purchase", "order_id": o["order_id"].to_numpy()[done]}))
        completed_today = {int(k): int(v) for k, v in zip(o["order_id"].to_numpy()[(comp != NULL) & (comp < e)],
                                                          comp[(comp != NULL) & (comp < e)], strict=True)}
        # future transitions of today's orders, and yesterday's plan due today
        fut = []
        for col, code in (("ship_at", H.SHIPPED), ("complete_at", H.COMPLETED), ("cancel_at", H.CANCELLED),
                          ("refund_at", H.REFUNDED)):
            at = o[col].to_numpy()
            m = (at != NULL) & (at >= e)
            fut.append(pd.DataFrame({"order_id": o["order_id"].to_numpy()[m], "at": at[m], "status": code,
                                     "member_id": np.where(earn, mid, NULL)[m], "points": np.where(earn, pts, 0)[m],
                                     "late_refund": (o["late_refund"].to_numpy()[m] & (code == H.REFUNDED)),
                                     "ordered_at": o["ordered_at"].to_numpy()[m]}))
        due = plan[plan["at"] < e]
        if len(due) and due["at"].min() < s:
            raise RuntimeError(f"order transitions before {key} were never applied: the state is inconsistent")
        due = due.sort_values(["at", "order_id"], kind="stable")
        for oid, at, st in zip(due["order_id"].tolist(), due["at"].tolist(), due["status"].tolist(), strict=True):
            ch.update("orders", oid, at, status=H.STATUSES[st])
        d_st, d_mid, d_pts = due["status"].to_numpy(), due["member_id"].to_numpy(), due["points"].to_numpy()
        d_oid, d_at = due["order_id"].to_numpy(), due["at"].to_numpy()
        d_comp = d_st == H.COMPLETED
        completed_today.update(zip(d_oid[d_comp].tolist(), d_at[d_comp].tolist(), strict=True))
        d_earn = (d_mid != NULL) & (d_pts > 0)
        for mask, sign, reason in ((d_comp & d_earn, 1, "purchase"), ((d_st == H.REFUNDED) & d_earn, -1, "adjust")):
            ledger.append(pd.DataFrame({"member_id": d_mid[mask], "occurred_at": d_at[mask],
                                        "points": sign * d_pts[mask], "reason": reason, "order_id": d_oid[mask]}))
        lr = due[(d_st == H.REFUNDED) & (due["late_refund"].to_numpy() != 0)]
        flips = [{"order_id": int(r.order_id), "ordered_at": ts_to_text(r.ordered_at), "refunded_at": ts_to_text(r.at)}
                 for r in lr.itertuples(index=False)]
        defects_today["refund_flip"] = flips
        plan = pd.concat([plan[plan["at"] >= e], *fut], ignore_index=True)
        plan = plan.sort_values(["at", "order_id"], kind="stable").reset_index(drop=True).astype(np.int64)
        # late-arriving customers: the order is in tonight, the customer row tomorrow
        pend_next = []
        late_rows = cust_rows[late]
        for r in late_rows.to_dict("records"):
            cid = int(r["customer_id"])
            first = o[o_cust == cid]
            fo = first.iloc[0]
            rr = {k: v for k, v in r.items() if k not in ("registered_at", "updated_at")}
            rr["customer_id"] = cid
            pend_next.append(rr)
            defects_today["late_arriving_customer"].append({
                "customer_id": cid, "first_order_id": int(fo["order_id"]), "order_business_date": key,
                "customer_business_date": (D + timedelta(days=1)).isoformat(),
                "ordered_at": ts_to_text(fo["ordered_at"]), "customer_updated_at": None,
            })
        state["pending_customers"] = pend_next
        day["late_arriving_customers_withheld"] = [p["customer_id"] for p in pend_next]
        ch.insert("customers", pa.Table.from_pandas(cust_rows[~late].reset_index(drop=True),
                                                    schema=_customer_schema(), preserve_index=False))
        timer.lap(f"{key}: orders", len(o))
        # ------------------------------------------------------------ referrals, memberships, care
        conv = _conversions(db, ch, completed_today, first_orders, mem, lat_ids)
        _new_invites(R("referrals", "invite"), ch, ids, lat_ids[: len(lat) - n_new], cal_state, w, s, e)
        _rejections(db, R("referrals", "reject"), ch, s, e, reg_ref)
        new_members = _membership_changes(R("memberships"), ch, ids, mem, cust_rows, late, lat, cal_state, s, e,
                                          {p["customer_id"] for p in pend})
        touches = _care(db, R("care"), ch, ids, lat, mem, state, D, s, e)
        # ------------------------------------------------------------ points
        ledger += _points_extra(db, R("points"), D, mem, touches, conv, s, e)
        pts_df = pd.concat(ledger, ignore_index=True) if ledger else pd.DataFrame()
        if len(pts_df):
            pts_df = pts_df.sort_values(["occurred_at", "member_id", "reason"], kind="stable").reset_index(drop=True)
            pts_df.insert(0, "entry_id", np.arange(ids["entry_id"], ids["entry_id"] + len(pts_df)))
            ids["entry_id"] += len(pts_df)
            pts_df["order_id"] = pts_df["order_id"].astype(np.int64)
            ch.insert("points_ledger", H.points_table(pts_df))
        day["new_members"] = new_members
        ch.apply(db)  # committed after the files below are written: a failure leaves the DB as it was
        new, updated = ch.counts()
        timer.lap(f"{key}: shop database", sum(new.values()) + sum(updated.values()))

        # ------------------------------------------------------------ tickets
        t_new, t_upd, t_lines = _tickets(db, R("tickets"), out, lat, ids, cal_state, s, e, w)
        # ------------------------------------------------------------ surveys
        sres, redelivered = _surveys(db, R("surveys"), out, lat, ids, cal_state, rates, D, s, e, w, bad_file,
                                     manifest)
        db.commit()
    _bound(ch, s, e, key)
    lat.to_parquet(side / "customers.parquet", index=False)
    plan.to_parquet(side / "order_plan.parquet", index=False)

    for k, items in sres.defects.items():
        defects_today[k] = items
    for k, items in defects_today.items():
        manifest["defects"].setdefault(k, []).extend(items)
    manifest["defect_counts"] = {k: len(v) for k, v in manifest["defects"].items()}
    manifest["survey_files"].update(sres.files)
    rc = manifest["row_counts"]
    for tname in shopdb.TABLE_ORDER:
        rc[tname] = rc.get(tname, 0) + new[tname]
    rc["survey_records"] += sres.records
    rc["survey_responses"] += sres.responses
    rc["survey_files"] = len(manifest["survey_files"])
    rc["ticket_lines"] += t_lines
    rc["tickets"] += t_new
    day.update({
        "new": new, "updated": updated,
        "survey_file": S.file_name(D), "survey_records": sres.records,
        "redelivered": redelivered,
        "tickets": {"new": t_new, "updated": t_upd, "lines": t_lines},
        "defects": {k: len(v) for k, v in defects_today.items() if v},
    })
    manifest["redeliveries"].extend(redelivered)
    manifest["days"][key] = day
    manifest["current_date"] = key
    state["current_date"] = key
    timer.lap(f"{key}: advanced")


# --------------------------------------------------------------------------- reads

def _customer_schema() -> pa.Schema:
    return pa.schema([(c, pa.int64() if c == "customer_id" else pa.string())
                      for c in contracts.SHOP_TABLES["customers"].column_names])


def _stores(db: shopdb.ShopDB, tz: str) -> pd.DataFrame:
    rows = db.query(f"SELECT store_id, city, {db.txt('opened_at')} FROM stores ORDER BY store_id")
    df = pd.DataFrame(rows, columns=["store_id", "city", "opened_at"])
    df["city_idx"] = [vocab.CITY_NAMES.index(c) if c in vocab.CITY_NAMES else 0 for c in df["city"]]
    df["opened_ts"] = [local_midnight_utc(date.fromisoformat(d), tz) for d in df["opened_at"]]
    return df.sort_values(["city_idx", "store_id"], kind="stable").reset_index(drop=True)


def _products(db: shopdb.ShopDB, state: dict) -> pd.DataFrame:
    cal = Calendar(date.fromisoformat(state["start_date"]), date.fromisoformat(state["end_date"]), state["business_tz"])
    base = H.make_products(int(state["seed"]), SCALES[state["scale"]], cal)[["product_id", "popularity"]]
    rows = db.query(f"SELECT product_id, {db.txt('list_price')} FROM products ORDER BY product_id")
    cur = pd.DataFrame(rows, columns=["product_id", "price"])
    cur["price_cents"] = [_cents(x) for x in cur["price"]]
    df = cur.merge(base, on="product_id", how="left").fillna({"popularity": 0.0})
    df["popularity"] = df["popularity"] / df["popularity"].sum()
    df["old_cents"] = df["price_cents"]
    df["change_at"] = NULL
    return df


def _cents(text: str) -> int:
    whole, _, frac = str(text).partition(".")
    neg = whole.startswith("-")
    v = abs(int(whole)) * 100 + int((frac + "00")[:2])
    return -v if neg else v


def _memberships(db: shopdb.ShopDB) -> pd.DataFrame:
    rows = db.query(f"SELECT member_id, customer_id, tier, status, {db.ts('joined_at')}, {db.ts('cancelled_at')} "
                    "FROM memberships ORDER BY customer_id")
    df = pd.DataFrame(rows, columns=["member_id", "customer_id", "tier", "status", "joined_at", "cancelled_at"])
    df["joined_at"] = parse_ts_text(df["joined_at"].tolist())
    df["cancelled_at"] = parse_ts_text(df["cancelled_at"].tolist())
    df["member_id"] = df["member_id"].astype(np.int64)
    df["customer_id"] = df["customer_id"].astype(np.int64)
    return df


def _member_at(mem: pd.DataFrame, cust_ids: np.ndarray, t: np.ndarray) -> np.ndarray:
    mc = mem["customer_id"].to_numpy()
    pos = np.searchsorted(mc, cust_ids)
    pos_c = np.minimum(pos, max(len(mc) - 1, 0))
    if len(mc) == 0:
        return np.full(len(cust_ids), NULL, dtype=np.int64)
    found = mc[pos_c] == cust_ids
    joined = mem["joined_at"].to_numpy()[pos_c]
    canc = mem["cancelled_at"].to_numpy()[pos_c]
    ok = found & (joined < t) & ((canc == NULL) | (canc >= t))
    return np.where(ok, mem["member_id"].to_numpy()[pos_c], NULL)


def _uplift(db: shopdb.ShopDB, lat_ids: np.ndarray, s: int) -> np.ndarray:
    """Extra expected orders today of customers treated in the last 30 days."""
    rows = db.query(
        f"SELECT t.customer_id, c.campaign_type, {db.ts('t.responded_at')} FROM care_touches t "
        "JOIN care_campaigns c ON c.campaign_id = t.campaign_id "
        "WHERE t.assigned_group = 'treatment' AND t.touched_at >= ? AND t.touched_at < ? ORDER BY t.touch_id",
        [ts_to_text(s - H.ATTRIBUTION), ts_to_text(s)],
    )
    out = np.zeros(len(lat_ids))
    for cid, ctype, resp in rows:
        pos = np.searchsorted(lat_ids, cid)
        if pos < len(lat_ids) and lat_ids[pos] == cid:
            out[pos] += vocab.CAMPAIGN_UPLIFT[ctype] * (1.6 if resp else 0.85) / 30.0
    return out


# --------------------------------------------------------------------------- customers and referrals

def _profile_changes(rng: np.random.Generator, ch: Changes, existing: np.ndarray, s: int, e: int,
                     pend: list[dict]) -> None:
    n = int(rng.poisson(max(len(existing) * 0.0005, 0.5)))
    if n == 0 or len(existing) == 0:
        return
    skip = {p["customer_id"] for p in pend}
    who = np.unique(rng.choice(existing, min(n, len(existing)), replace=False))
    t = times_in_window(rng, s, e, len(who))
    emails = H.new_emails(rng, who, 1.0)
    cities = rng.integers(0, len(vocab.CITY_NAMES), len(who))
    for i, cid in enumerate(who):
        if int(cid) in skip:
            continue
        if rng.random() < 0.5:
            ch.update("customers", int(cid), int(t[i]), city=vocab.CITY_NAMES[cities[i]])
        else:
            ch.update("customers", int(cid), int(t[i]), email=emails[i])


def _referral_registrations(db: shopdb.ShopDB, rng: np.random.Generator, ch: Changes, cust_rows: pd.DataFrame,
                            late: np.ndarray, rates: Rates, manifest: dict) -> set[int]:
    """Some newcomers accept an open invitation; a few are the referrer in disguise (same phone)."""
    cand = np.flatnonzero(~late & (rng.random(len(cust_rows)) < 0.06))
    if len(cand) == 0:
        return set()
    open_inv = db.query(f"SELECT referral_id, referrer_customer_id, {db.ts('invited_at')} FROM referrals "
                        "WHERE status = 'invited' AND referee_customer_id IS NULL ORDER BY referral_id LIMIT ?",
                        [len(cand)])
    touched = set()
    for j, (rid, referrer, _inv) in zip(cand, open_inv, strict=False):
        reg = cust_rows.at[j, "registered_at"]
        cid = int(cust_rows.at[j, "customer_id"])
        t = int(parse_ts_text([reg])[0])
        ch.update("referrals", int(rid), t, referee_customer_id=cid, status="registered")
        touched.add(int(rid))
        if rng.random() < rates.suspicious_referral * 3:
            phone = db.query("SELECT phone FROM customers WHERE customer_id = ?", [int(referrer)])
            if phone and phone[0][0]:
                cust_rows.at[j, "phone"] = phone[0][0]
                manifest["suspicious_referrals"].append({"referral_id": int(rid), "kind": "shared_phone",
                                                         "status": "registered"})
    return touched


def _referral_first_orders(db: shopdb.ShopDB, ch: Changes, o: pd.DataFrame, o_cust: np.ndarray) -> dict[int, int]:
    """Registered referees ordering today: their first order carries the code. order_id -> referral_id."""
    if len(o) == 0:
        return {}
    rows = db.query("SELECT referral_id, referee_customer_id, referral_code FROM referrals "
                    "WHERE status = 'registered' AND first_order_id IS NULL AND referee_customer_id IS NOT NULL "
                    "ORDER BY referral_id")
    pending = {int(r[1]): (int(r[0]), r[2]) for r in rows}
    for rid, upd in ch.updates.get("referrals", {}).items():
        if upd.get("status") == "registered" and "referee_customer_id" in upd:
            code = db.query("SELECT referral_code FROM referrals WHERE referral_id = ?", [rid])[0][0]
            pending[int(upd["referee_customer_id"])] = (rid, code)
    out = {}
    valid = o["cancel_at"].to_numpy() == NULL
    for pos in np.flatnonzero(valid):
        cid = int(o_cust[pos])
        if cid in pending:
            rid, code = pending.pop(cid)
            oid = int(o.at[pos, "order_id"])
            o.at[pos, "referral_code"] = code
            ch.update("referrals", rid, int(o.at[pos, "ordered_at"]), first_order_id=oid)
            out[oid] = rid
    return out


def _conversions(db: shopdb.ShopDB, ch: Changes, completed: dict[int, int], first_orders: dict[int, int],
                 mem: pd.DataFrame, lat_ids: np.ndarray) -> list[tuple[int, int]]:
    """Registered referrals whose first order completed today convert: (referrer customer_id, time)."""
    if not completed:
        return []
    out = []
    todo = {}
    oids = sorted(completed)
    for i in range(0, len(oids), 500):
        chunk = oids[i:i + 500]
        rows = db.query(f"SELECT referral_id, referrer_customer_id, first_order_id FROM referrals WHERE status = "
                        f"'registered' AND first_order_id IN ({', '.join('?' * len(chunk))}) ORDER BY referral_id",
                        chunk)
        for rid, referrer, oid in rows:
            todo[int(rid)] = (int(referrer), int(oid))
    for oid, rid in first_orders.items():
        if oid in completed:
            referrer = db.query("SELECT referrer_customer_id FROM referrals WHERE referral_id = ?", [rid])[0][0]
            todo[rid] = (int(referrer), oid)
    for rid in sorted(todo):
        referrer, oid = todo[rid]
        t = completed[oid]
        ch.update("referrals", rid, t, status="converted", reward_amount="100.00", rewarded_at=t)
        out.append((referrer, t))
    return out


def _new_invites(rng: np.random.Generator, ch: Changes, ids: dict, existing: np.ndarray, cal_state: dict, w: float,
                 s: int, e: int) -> None:
    n = int(rng.poisson(cal_state.get("invites_per_day", 0.2) * w))
    if n == 0 or len(existing) == 0:
        return
    referrer = rng.choice(existing, n)
    t = np.sort(times_in_window(rng, s, e, n))
    rid = np.arange(ids["referral_id"], ids["referral_id"] + n)
    ids["referral_id"] += n
    ch.insert("referrals", pa.table({
        "referral_id": pa.array(rid), "referrer_customer_id": pa.array(referrer),
        "referral_code": pa.array(H.referral_code(referrer), pa.string()),
        "channel": pa.array(np.array(vocab.REFERRAL_CHANNELS, dtype=object)[
            rng.choice(len(vocab.REFERRAL_CHANNELS), n, p=vocab.REFERRAL_CHANNEL_P)], pa.string()),
        "invited_at": ts_text(t), "referee_customer_id": int_array(np.full(n, NULL)),
        "first_order_id": int_array(np.full(n, NULL)), "status": pa.array(["invited"] * n, pa.string()),
        "reward_amount": money_text(np.full(n, NULL)), "rewarded_at": ts_text(np.full(n, NULL)),
        "updated_at": ts_text(t),
    }))


def _rejections(db: shopdb.ShopDB, rng: np.random.Generator, ch: Changes, s: int, e: int, skip: set[int]) -> None:
    rows = db.query("SELECT referral_id FROM referrals WHERE status = 'registered' ORDER BY referral_id")
    for (rid,) in rows:
        rid = int(rid)
        if rid in skip or rid in ch.updates.get("referrals", {}):
            continue
        if rng.random() < 0.01:
            ch.update("referrals", rid, int(times_in_window(rng, s, e, 1)[0]), status="rejected")


# --------------------------------------------------------------------------- memberships

def _membership_changes(rng: np.random.Generator, ch: Changes, ids: dict, mem: pd.DataFrame, cust_rows: pd.DataFrame,
                        late: np.ndarray, lat: pd.DataFrame, cal_state: dict, s: int, e: int,
                        arrived: set[int]) -> int:
    # tier changes, cancellations, freezes of existing members
    u = rng.random(len(mem))
    st = mem["status"].to_numpy()
    tier = np.array([vocab.TIERS.index(x) for x in mem["tier"]], dtype=np.int64) if len(mem) else np.zeros(0, int)
    t = times_in_window(rng, s, e, len(mem))
    up = rng.random(len(mem)) < 0.7
    for i in np.flatnonzero((st == "active") & (u < 0.003)):
        nt = min(tier[i] + 1, 3) if up[i] else max(tier[i] - 1, 0)
        if nt == tier[i]:
            nt = tier[i] - 1 if tier[i] == 3 else tier[i] + 1
        ch.update("memberships", int(mem.at[i, "member_id"]), int(t[i]), tier=vocab.TIERS[nt])
    for i in np.flatnonzero((st == "active") & (u >= 0.003) & (u < 0.0035)):
        ch.update("memberships", int(mem.at[i, "member_id"]), int(t[i]), status="cancelled", cancelled_at=int(t[i]))
    for i in np.flatnonzero((st == "active") & (u >= 0.0035) & (u < 0.0037)):
        ch.update("memberships", int(mem.at[i, "member_id"]), int(t[i]), status="frozen")
    for i in np.flatnonzero((st == "frozen") & (u < 0.02)):
        ch.update("memberships", int(mem.at[i, "member_id"]), int(t[i]), status="active")
    # new members: some of today's newcomers, some existing non-members
    joiners_new = [int(c) for c, lt in zip(cust_rows["customer_id"], late, strict=True) if not lt and rng.random() < 0.3]
    reg_of = dict(zip(cust_rows["customer_id"].astype(int), cust_rows["registered_at"], strict=True))
    members = set(mem["customer_id"].tolist())
    n_old = int(rng.poisson(cal_state["customers_per_day"] * 0.3))
    n_exist = len(lat) - len(cust_rows)
    old: np.ndarray | list[int] = (
        rng.choice(lat["customer_id"].to_numpy()[:n_exist], min(n_old, n_exist), replace=False) if n_exist else []
    )
    rows = []
    for cid in joiners_new:
        r0 = int(parse_ts_text([reg_of[cid]])[0])
        rows.append((cid, min(r0 + int(rng.integers(60, HOUR)), e - 1)))
    for cid in sorted(int(c) for c in old):
        if cid not in members and cid not in arrived:
            rows.append((cid, int(times_in_window(rng, s, e, 1)[0])))
    rows.sort(key=lambda x: (x[1], x[0]))
    if rows:
        n = len(rows)
        mid = np.arange(ids["member_id"], ids["member_id"] + n)
        ids["member_id"] += n
        joined = np.array([r[1] for r in rows], dtype=np.int64)
        ch.insert("memberships", pa.table({
            "member_id": pa.array(mid), "customer_id": pa.array(np.array([r[0] for r in rows], dtype=np.int64)),
            "tier": pa.array(["bronze"] * n, pa.string()), "status": pa.array(["active"] * n, pa.string()),
            "joined_at": ts_text(joined), "cancelled_at": ts_text(np.full(n, NULL)), "updated_at": ts_text(joined),
        }))
    return len(rows)


# --------------------------------------------------------------------------- care

def _care(db: shopdb.ShopDB, rng: np.random.Generator, ch: Changes, ids: dict, lat: pd.DataFrame, mem: pd.DataFrame,
          state: dict, D: date, s: int, e: int) -> pd.DataFrame:
    """Touches of running campaigns, responses to recent touches, a new campaign when needed."""
    cal_state = state["calibration"]
    d_txt = D.isoformat()
    camps = db.query(f"SELECT campaign_id, campaign_type, channel, {db.txt('start_date')}, {db.txt('end_date')} "
                     "FROM care_campaigns ORDER BY campaign_id")
    lat_ids = lat["customer_id"].to_numpy()
    new_touches = []
    birth = None
    for cid, ctype, chan, sd, ed in camps:
        if not (sd <= d_txt <= ed):
            continue
        dur = (date.fromisoformat(ed) - date.fromisoformat(sd)).days + 1
        size = cal_state["touch_share"] * cal_state["customers"] * (0.5 if ctype == "exclusive_event" else 1.0) / dur
        k = int(rng.poisson(size))
        if k == 0:
            continue
        done = {int(r[0]) for r in db.query("SELECT customer_id FROM care_touches WHERE campaign_id = ?", [cid])}
        ok = (lat["a1"].to_numpy() < s) & ~np.isin(lat_ids, np.fromiter(done, dtype=np.int64, count=len(done)))
        if ctype in ("birthday_gift", "health_care"):
            if birth is None:
                rows = db.query(f"SELECT customer_id, {db.txt('birth_date')} FROM customers ORDER BY customer_id")
                bmap = dict(rows)
                birth = np.array([bmap.get(int(c)) for c in lat_ids], dtype=object)
            if ctype == "birthday_gift":
                ok &= np.array([b is not None and int(b[5:7]) == D.month for b in birth])
            else:
                ok &= np.array([b is not None and (D - date.fromisoformat(b)).days > 40 * 365 for b in birth])
        elif ctype in ("exclusive_event", "points_bonus"):
            m_ok = mem[(mem["status"] != "cancelled") & (mem["joined_at"] < s)]
            if ctype == "exclusive_event":
                m_ok = m_ok[m_ok["tier"].isin(["gold", "platinum"])]
            ok &= np.isin(lat_ids, m_ok["customer_id"].to_numpy())
        pick = H.pick_weighted(rng, ok * 1.0, k)
        if len(pick) == 0:
            continue
        t: np.ndarray | int = times_in_window(rng, s, e, len(pick))
        treat = rng.random(len(pick)) < 0.8
        resp_at = t + (rng.exponential(12, len(pick)) * HOUR).astype(np.int64) + 60
        p_resp = vocab.RESPONSE_P[chan] * (0.5 + lat["h"].to_numpy()[pick])
        responded = treat & (rng.random(len(pick)) < p_resp) & (resp_at < e)
        new_touches.append(pd.DataFrame({
            "campaign_id": cid, "customer_id": lat_ids[pick], "treat": treat, "touched_at": t,
            "touch_cost": np.where(treat, vocab.TOUCH_COST_CENTS[chan], 0),
            "responded_at": np.where(responded, resp_at, NULL), "ctype": ctype,
        }))
    touches = pd.concat(new_touches, ignore_index=True) if new_touches else pd.DataFrame(
        columns=["campaign_id", "customer_id", "treat", "touched_at", "touch_cost", "responded_at", "ctype"])
    if len(touches):
        touches = touches.sort_values(["touched_at", "campaign_id", "customer_id"], kind="stable").reset_index(drop=True)
        touches.insert(0, "touch_id", np.arange(ids["touch_id"], ids["touch_id"] + len(touches)))
        ids["touch_id"] += len(touches)
        touches["updated_at"] = np.where(touches["responded_at"] != NULL, touches["responded_at"], touches["touched_at"])
        for c in ("touched_at", "responded_at", "updated_at", "touch_cost", "customer_id", "campaign_id"):
            touches[c] = touches[c].astype(np.int64)
        ch.insert("care_touches", H.touches_table(touches))
    # responses to touches of the last three days
    rows = db.query("SELECT t.touch_id, c.channel FROM care_touches t JOIN care_campaigns c "
                    "ON c.campaign_id = t.campaign_id WHERE t.assigned_group = 'treatment' AND t.responded_at IS NULL "
                    "AND t.touched_at >= ? AND t.touched_at < ? ORDER BY t.touch_id",
                    [ts_to_text(s - 3 * DAY), ts_to_text(s)])
    for tid, chan in rows:
        if rng.random() < vocab.RESPONSE_P[chan] * 0.3:
            t = int(times_in_window(rng, s, e, 1)[0])
            ch.update("care_touches", int(tid), t, responded_at=t)
    # a new campaign when nothing starts in the coming week
    last_start = max((r[3] for r in camps), default="0000-00-00")
    if last_start < (D + timedelta(days=7)).isoformat():
        ctype = vocab.CAMPAIGN_TYPES[int(rng.integers(0, 5))]
        chans, p = vocab.CAMPAIGN_CHANNELS[ctype]
        chan = chans[int(rng.choice(len(chans), p=np.array(p)))]
        start = D + timedelta(days=int(rng.integers(7, 21)))
        dur = int(rng.integers(7, 29))
        lo, hi = vocab.CAMPAIGN_FIXED_COST[ctype]
        cid = ids["campaign_id"]
        ids["campaign_id"] += 1
        t = int(times_in_window(rng, s, e, 1)[0])
        ch.insert("care_campaigns", pa.table({
            "campaign_id": pa.array([cid], pa.int64()),
            "campaign_name": pa.array([f"{vocab.CAMPAIGN_LABELS[ctype]} {start:%Y-%m}"], pa.string()),
            "campaign_type": pa.array([ctype], pa.string()), "channel": pa.array([chan], pa.string()),
            "start_date": date_text(np.array([epoch_days(start)])),
            "end_date": date_text(np.array([epoch_days(start) + dur - 1])),
            "fixed_cost": money_text(np.array([int(rng.integers(lo // 100, hi // 100 + 1)) * 10_000])),
            "updated_at": ts_text(np.array([t])),
        }))
    return touches


# --------------------------------------------------------------------------- points

def _points_extra(db: shopdb.ShopDB, rng: np.random.Generator, D: date, mem: pd.DataFrame, touches: pd.DataFrame,
                  conv: list[tuple[int, int]], s: int, e: int) -> list[pd.DataFrame]:
    out = []
    if len(touches):
        tr = touches[touches["treat"] & touches["ctype"].isin(["birthday_gift", "points_bonus"])]
        mid = _member_at(mem, tr["customer_id"].to_numpy(), tr["touched_at"].to_numpy())
        gift = H.care_gift_points(rng, tr["ctype"].to_numpy())
        ok = mid != NULL
        out.append(pd.DataFrame({"member_id": mid[ok], "occurred_at": tr["touched_at"].to_numpy()[ok] + 1,
                                 "points": gift[ok], "reason": "care_gift", "order_id": NULL}))
    if conv:
        rc = np.array([c[0] for c in conv], dtype=np.int64)
        rt = np.array([c[1] for c in conv], dtype=np.int64)
        mid = _member_at(mem, rc, rt)
        ok = mid != NULL
        out.append(pd.DataFrame({"member_id": mid[ok], "occurred_at": np.minimum(rt[ok] + 1, e - 1),
                                 "points": H.REFERRAL_REWARD_POINTS, "reason": "referral_reward", "order_id": NULL}))
    active = mem[mem["status"] == "active"]
    if len(active):
        u = rng.random(len(active))
        cand = active["member_id"].to_numpy()[u < 0.003]
        good = active["member_id"].to_numpy()[(u >= 0.003) & (u < 0.0032)]
        expire = active["member_id"].to_numpy()[u >= 1 - 1 / 12] if (D.month, D.day) == (1, 1) else np.zeros(0, int)
        bal = _balances(db, np.concatenate([cand, expire]))
        red = [(m, -int(bal[m] * 0.5) // 100 * 100) for m in cand if bal.get(m, 0) >= 200]
        if red:
            out.append(pd.DataFrame({"member_id": [r[0] for r in red], "points": [r[1] for r in red],
                                     "occurred_at": times_in_window(rng, s, e, len(red)), "reason": "redeem",
                                     "order_id": NULL}))
        exp = [(m, -int(bal[m] * 0.3)) for m in expire if bal.get(m, 0) >= 10]
        if exp:
            out.append(pd.DataFrame({"member_id": [r[0] for r in exp], "points": [r[1] for r in exp],
                                     "occurred_at": s + rng.integers(0, HOUR, len(exp)), "reason": "expire",
                                     "order_id": NULL}))
        if len(good):
            out.append(pd.DataFrame({"member_id": good, "points": rng.choice([50, 100, 200], len(good)),
                                     "occurred_at": times_in_window(rng, s, e, len(good)), "reason": "adjust",
                                     "order_id": NULL}))
    for df in out:
        df["member_id"] = df["member_id"].astype(np.int64)
        df["occurred_at"] = df["occurred_at"].astype(np.int64)
        df["points"] = df["points"].astype(np.int64)
    return out


def _balances(db: shopdb.ShopDB, members: np.ndarray) -> dict[int, int]:
    out: dict[int, int] = {}
    ms = sorted({int(m) for m in members})
    for i in range(0, len(ms), 500):
        chunk = ms[i:i + 500]
        rows = db.query(f"SELECT member_id, sum(points) FROM points_ledger WHERE member_id IN "
                        f"({', '.join('?' * len(chunk))}) GROUP BY member_id ORDER BY member_id", chunk)
        out.update({int(m): int(p or 0) for m, p in rows})
    return out


# --------------------------------------------------------------------------- tickets and surveys

def _recent_orders(db: shopdb.ShopDB, lo: int, hi: int) -> pd.DataFrame:
    rows = db.query(
        f"SELECT order_id, customer_id, channel, status, {db.ts('ordered_at')} FROM orders "
        "WHERE updated_at >= ? AND ordered_at >= ? AND ordered_at < ? ORDER BY order_id",
        [ts_to_text(lo), ts_to_text(lo), ts_to_text(hi)],
    )
    df = pd.DataFrame(rows, columns=["order_id", "customer_id", "channel", "status", "ordered_at"])
    df["ordered_at"] = parse_ts_text(df["ordered_at"].tolist())
    return df


def _lat_index(lat_ids: np.ndarray, cust_ids: np.ndarray) -> np.ndarray:
    pos = np.minimum(np.searchsorted(lat_ids, cust_ids), len(lat_ids) - 1)
    return np.where(lat_ids[pos] == cust_ids, pos, -1)


def _tickets(db: shopdb.ShopDB, rng: np.random.Generator, out: Path, lat: pd.DataFrame, ids: dict, cal_state: dict,
             s: int, e: int, w: float) -> tuple[int, int, int]:
    side = out / SIDECAR_DIR
    recent = _recent_orders(db, s - 10 * DAY, s)
    lat_ids = lat["customer_id"].to_numpy()
    li = _lat_index(lat_ids, recent["customer_id"].to_numpy().astype(np.int64))
    h = np.where(li >= 0, lat["h"].to_numpy()[np.maximum(li, 0)], 0.7)
    refunded = recent["status"].to_numpy() == "refunded"
    p = cal_state["tickets_per_order"] / 10.0 * (1.6 - h) / 0.95 * np.where(refunded, 4.0, 1.0)
    sel = np.flatnonzero(rng.random(len(recent)) < np.minimum(p, 0.9))
    n_other = int(rng.poisson(cal_state["tickets_other_per_day"] * w))
    other_c = rng.choice(lat_ids[lat["a1"].to_numpy() < s], n_other) if n_other else np.zeros(0, dtype=np.int64)
    other_c = np.where(rng.random(n_other) < 0.2, NULL, other_c)
    n = len(sel) + n_other
    created = np.sort(times_in_window(rng, s, e - 60, n))
    cust_id = np.concatenate([recent["customer_id"].to_numpy()[sel].astype(np.int64), other_c])
    order_id = np.concatenate([recent["order_id"].to_numpy()[sel].astype(np.int64), np.full(n_other, NULL)])
    chan_code = {channel: i for i, channel in enumerate(vocab.CHANNELS)}
    och = np.concatenate([np.array([chan_code[c] for c in recent["channel"].to_numpy()[sel]], dtype=np.int64),
                          np.full(n_other, -1)])
    refd = np.concatenate([refunded[sel], np.zeros(n_other, dtype=bool)])
    li_all = _lat_index(lat_ids, np.where(cust_id == NULL, -1, cust_id))
    hh = np.where(li_all >= 0, lat["h"].to_numpy()[np.maximum(li_all, 0)], 0.7)
    tk = T.plan(rng, created, hh, refd, och)
    tk.insert(0, "id", np.arange(ids["ticket_id"], ids["ticket_id"] + n))
    ids["ticket_id"] += n
    tk.insert(1, "customer_id", cust_id)
    tk.insert(2, "order_id", order_id)
    # complaint effects: NPS memory and churn
    if n:
        has = li_all >= 0
        last = lat["last_ticket"].to_numpy().copy()
        last[li_all[has]] = np.maximum(last[li_all[has]], created[has])
        lat["last_ticket"] = last
        sat = tk["sat"].to_numpy()
        pc_ = 0.25 + 0.25 * (tk["severity"].to_numpy() == 2) + 0.25 * ((sat >= 1) & (sat <= 2))
        churn = has & (rng.random(n) < pc_)
        cut = created + rng.integers(7 * DAY, 30 * DAY, n)
        b1, a2, b2 = (lat[c].to_numpy().copy() for c in ("b1", "a2", "b2"))
        a1 = lat["a1"].to_numpy()
        for j in np.flatnonzero(churn):
            i = li_all[j]
            if a1[i] <= cut[j] < b1[i]:
                b1[i] = cut[j]
            elif a2[i] != NULL and a2[i] <= cut[j] < b2[i]:
                b2[i] = cut[j]
        lat["b1"], lat["b2"] = b1, b2
    v_new = T.versions(tk) if n else None
    pending = T.read_pending(side / "tickets_pending.parquet")
    frames = [x for x in (pending, None if v_new is None else v_new[T.PENDING_COLUMNS]) if x is not None and len(x)]
    allv = pd.concat(frames, ignore_index=True) if frames else pending
    if len(allv) and allv["updated_at"].min() < s:
        raise RuntimeError("ticket versions before the new day were never written: the state is inconsistent")
    allv = allv.sort_values(["updated_at", "id", "seq"], kind="stable").reset_index(drop=True)
    now = allv["updated_at"].to_numpy() < e
    lines = T.append_lines(out / "tickets.jsonl", allv[now])
    T.write_pending(side / "tickets_pending.parquet", allv[~now])
    today_ids = set(allv["id"].to_numpy()[now].tolist())
    new_ids = set(tk["id"].tolist())
    return len(new_ids), len(today_ids - new_ids), lines


def _surveys(db: shopdb.ShopDB, rng: np.random.Generator, out: Path, lat: pd.DataFrame, ids: dict, cal_state: dict,
             rates: Rates, D: date, s: int, e: int, w: float, bad_file: str | None,
             manifest: dict) -> tuple[S.InboxResult, list[dict]]:
    recent = _recent_orders(db, s - 5 * DAY, s)
    recent = recent[recent["status"] != "cancelled"]
    p = min(cal_state["survey_post_share"] / 5.0, 1.0)
    sel = np.flatnonzero(rng.random(len(recent)) < p)
    lat_ids = lat["customer_id"].to_numpy()
    c1 = recent["customer_id"].to_numpy()[sel].astype(np.int64)
    n_g = int(rng.poisson(cal_state["survey_general_per_day"] * w))
    eligible = lat_ids[lat["a1"].to_numpy() < s]
    rate = lat["rate"].to_numpy()[lat["a1"].to_numpy() < s]
    c2 = rng.choice(eligible, n_g, p=rate / rate.sum()) if n_g and len(eligible) else np.zeros(0, dtype=np.int64)
    n_a = int(rng.poisson(cal_state["survey_anonymous_per_day"] * w))
    cust = np.concatenate([c1, c2, np.full(n_a, NULL)])
    oid = np.concatenate([recent["order_id"].to_numpy()[sel].astype(np.int64), np.full(n_g + n_a, NULL)])
    n = len(cust)
    sub = times_in_window(rng, s, e, n)
    li = _lat_index(lat_ids, np.where(cust == NULL, -1, cust))
    h = np.where(li >= 0, lat["h"].to_numpy()[np.maximum(li, 0)], 0.7)
    last = np.where(li >= 0, lat["last_ticket"].to_numpy()[np.maximum(li, 0)], NULL)
    complained = (last != NULL) & (sub - last < S.COMPLAINT_MEMORY) & (last < sub)
    refunded = np.concatenate([recent["status"].to_numpy()[sel] == "refunded", np.zeros(n_g + n_a, dtype=bool)])
    nps, sat, intent = S.score(rng, h, complained, refunded)
    resp = S.build(rng, seq0=ids["response_seq"], survey_kind=np.r_[np.zeros(len(sel), int), np.ones(n_g + n_a, int)],
                   customer_id=cust, order_id=oid, submitted=sub, nps=nps, sat=sat, intent=intent, tz=manifest[
                       "business_tz"], rates=rates)
    ids["response_seq"] += resp.n
    forced = {D: bad_file} if bad_file else {}
    res = S.write_inbox(out / "survey_inbox", resp, [D], rng, rates, forced)
    redelivered = []
    if rng.random() < rates.redelivery:
        files = manifest["survey_files"]
        cands = []
        for k in range(1, 15):
            name = S.file_name(D - timedelta(days=k))
            info = files.get(name)
            if info and info.get("defect") is None and not info.get("truncated") and info.get("records", 0) > 0:
                cands.append(name)
        if cands:
            name = sorted(cands)[int(rng.integers(0, len(cands)))]
            fixes = S.redeliver(out / "survey_inbox" / name, rng)
            if fixes:
                files[name]["bytes"] = (out / "survey_inbox" / name).stat().st_size
                files[name].setdefault("redelivered_on", []).append(D.isoformat())
                redelivered.append({"file": name, "redelivered_on": D.isoformat(), "corrections": fixes})
    return res, redelivered


def _bound(ch: Changes, s: int, e: int, key: str) -> None:
    """Every update of the day lies inside the day (inserts are checked by the tests)."""
    for table, rows in ch.updates.items():
        for k, cols in rows.items():
            if not s <= cols["updated_at"] < e:
                raise AssertionError(f"{table} {k}: updated_at {ts_to_text(cols['updated_at'])} outside {key}")
