"""``generate``: two years of history of all sources, ending on a business date."""

from __future__ import annotations

import json
import logging
import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from loyalty.generator import db as shopdb
from loyalty.generator import history as H
from loyalty.generator import surveys as S
from loyalty.generator import tickets as T
from loyalty.generator.core import (
    DAY,
    DEFAULT_END_DATE,
    DEFECT_KINDS,
    GENERATOR_VERSION,
    HISTORY_DAYS,
    HOUR,
    NULL,
    SCALES,
    SIDECAR_DIR,
    Calendar,
    Rates,
    Timer,
    rng_for,
    ts_to_text,
)

log = logging.getLogger("loyalty.generator")


def default_db_url(out: Path) -> str:
    return f"sqlite:///{(out / 'shop.sqlite').resolve()}"


def write_json(path: Path, obj: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def generate(
    out: str | Path | None = None,
    *,
    scale: str = "small",
    seed: int = 42,
    end_date: date | str = DEFAULT_END_DATE,
    shop_db_url: str | None = None,
    rates: Rates | None = None,
    bad_files: bool = False,
    business_tz: str | None = None,
) -> dict:
    """Generate all demo sources into ``out``; returns the manifest (also ``out/manifest.json``)."""
    from loyalty.config import Settings

    settings = Settings.from_env()
    out = Path(out) if out is not None else settings.sources_dir
    out = out.resolve()
    if isinstance(end_date, str):
        end_date = date.fromisoformat(end_date)
    tz = business_tz or settings.business_tz
    rates = rates or Rates()
    sc = SCALES[scale]
    url = shop_db_url or default_db_url(out)
    timer = Timer()
    log.info("generate: scale=%s seed=%d end=%s out=%s db=%s", scale, seed, end_date, out, shopdb.redact(url))

    out.mkdir(parents=True, exist_ok=True)
    inbox = out / "survey_inbox"
    side = out / SIDECAR_DIR
    for p in (inbox, side):
        if p.exists():
            shutil.rmtree(p)
    side.mkdir()
    for fname in ("tickets.jsonl", "manifest.json", "state.json"):
        (out / fname).unlink(missing_ok=True)

    cal = Calendar(end_date - timedelta(days=HISTORY_DAYS - 1), end_date, tz)
    counts: dict[str, int] = {}
    dbw = shopdb.ShopDB(url).connect(create=True)
    with dbw:
        dbw.create_schema()

        # ---- dimensions
        stores = H.make_stores(seed, sc, cal)
        counts["stores"] = dbw.insert("stores", H.stores_table(stores))
        timer.lap("stores", counts["stores"])
        products = H.make_products(seed, sc, cal)
        counts["products"] = dbw.insert("products", H.products_table(products))
        timer.lap("products", counts["products"])
        cust = H.make_customers(seed, sc, cal, rates)
        members = H.make_memberships(seed, cust, cal)
        campaigns = H.make_campaigns(seed, sc, cal)
        touches = H.make_touches(seed, sc, cal, cust, members, campaigns)
        timer.lap("customers, memberships, campaigns, touches (in memory)", cust.n)

        # ---- orders before complaint churn
        idx, t, k_rate = H.order_times(seed, sc, cal, cust, touches)
        cust.rate = cust.rate * k_rate
        o = H.order_attributes(rng_for(seed, "orders", "attributes"), cust.city, cust.channel, stores, idx, t, rates)
        timer.lap("orders drawn", len(o))

        # ---- tickets (they reference orders) and the churn they cause
        tk = _history_tickets(seed, sc, cal, cust, o)
        o, tk = _complaint_churn(seed, cal, cust, o, tk)
        o = o.sort_values(["ordered_at", "cust_idx"], kind="stable")
        old_pos = o.index.to_numpy()
        o = o.reset_index(drop=True)
        o.insert(0, "order_id", H.ORDER_ID0 + np.arange(1, len(o) + 1))
        new_id = np.full(old_pos.max() + 1 if len(old_pos) else 1, NULL, dtype=np.int64)
        new_id[old_pos] = o["order_id"].to_numpy()
        op = tk["order_pos"].to_numpy()
        tk["order_id"] = np.where(op >= 0, new_id[np.maximum(op, 0)], NULL)
        timer.lap("tickets planned, complaint churn applied", len(tk))

        # ---- survey answers, drawn before what follows them: what a customer answers shapes
        # what they do next (detractors often lapse; promoters invite friends)
        answers = _survey_answers(seed, sc, cal, cust, o, tk)
        o, answers = _after_answers(seed, cal, cust, o, tk, answers)
        timer.lap("survey answers drawn, detractors' lapses applied", len(answers["cidx"]))

        # ---- late-arriving customers: their row arrives the business day after their first order
        late_items = _late_customers(seed, cal, cust, o)
        status, upd = H.status_as_of(o, cal.end)
        o["status"], o["updated_at"] = status, upd

        # ---- referrals (put codes on orders)
        promoted = (answers["cidx"] >= 0) & (answers["nps"] >= 9)
        by_time = np.argsort(answers["sub"][promoted], kind="stable")
        promoters = (answers["cidx"][promoted][by_time], answers["sub"][promoted][by_time])
        refs, suspicious = H.make_referrals(seed, cal, cust, o, rates, promoters=promoters)
        code = np.full(len(o), None, dtype=object)
        has = refs["first_pos"].to_numpy() >= 0
        code[refs["first_pos"].to_numpy()[has]] = refs["code"].to_numpy()[has]
        o["referral_code"] = code
        timer.lap("referrals", len(refs))

        # ---- items and amounts
        counts["order_items"], total, discount = H.make_items(
            rng_for(seed, "items"), products, o, 1, lambda tbl: dbw.insert("order_items", tbl))
        o["total_cents"], o["discount_cents"] = total, discount
        timer.lap("order_items", counts["order_items"])

        # ---- points
        ledger, order_points = H.make_points(seed, cal, cust, members, o, touches, refs)

        # ---- write the shop tables
        counts["customers"] = dbw.insert("customers", H.customers_table(cust))
        timer.lap("customers", counts["customers"])
        counts["orders"] = 0
        for start in range(0, len(o), 1_000_000):
            counts["orders"] += dbw.insert("orders", H.orders_table(o.iloc[start:start + 1_000_000], cust.id))
        timer.lap("orders", counts["orders"])
        counts["memberships"] = dbw.insert("memberships", H.memberships_table(members))
        counts["points_ledger"] = dbw.insert("points_ledger", H.points_table(ledger))
        timer.lap("memberships + points_ledger", counts["memberships"] + counts["points_ledger"])
        counts["referrals"] = dbw.insert("referrals", H.referrals_table(refs, cust.id, o["order_id"].to_numpy()))
        counts["care_campaigns"] = dbw.insert("care_campaigns", H.campaigns_table(campaigns))
        counts["care_touches"] = dbw.insert("care_touches", H.touches_table(touches))
        timer.lap("referrals, care_campaigns, care_touches",
                  counts["referrals"] + counts["care_campaigns"] + counts["care_touches"])
        dbw.create_indexes()
        timer.lap("indexes")

    # ---- order transitions after the end (advance applies them on their day)
    plan = _order_plan(o, cust, order_points, cal.end)
    plan.to_parquet(side / "order_plan.parquet", index=False)

    # ---- surveys
    s_res, n_resp = _history_surveys(seed, cal, answers, cust, rates, inbox, bad_files)
    timer.lap("survey files", s_res.records)

    # ---- tickets file
    tk = tk.sort_values(["created_at", "cust_idx"], kind="stable").reset_index(drop=True)
    tk["id"] = H.TICKET_ID0 + np.arange(1, len(tk) + 1)
    tk["customer_id"] = np.where(tk["cust_idx"].to_numpy() >= 0, cust.id[np.maximum(tk["cust_idx"].to_numpy(), 0)],
                                 NULL)
    v = T.versions(tk)
    now = v["updated_at"].to_numpy() < cal.end
    (out / "tickets.jsonl").write_text("", encoding="utf-8")
    n_lines = T.append_lines(out / "tickets.jsonl", v[now])
    T.write_pending(side / "tickets_pending.parquet", v[~now])
    timer.lap("tickets.jsonl", n_lines)

    # ---- latent customer state for `advance`
    last_ticket = _last_ticket(cust.n, tk, cal.end)
    pd.DataFrame({
        "customer_id": cust.id, "h": cust.h, "rate": cust.rate, "city": cust.city, "channel": cust.channel,
        "a1": cust.a1, "b1": cust.b1, "a2": cust.a2, "b2": cust.b2, "last_ticket": last_ticket,
    }).to_parquet(side / "customers.parquet", index=False)

    # ---- manifest and state
    refund_flips = [
        {"order_id": int(r.order_id), "ordered_at": ts_to_text(r.ordered_at), "refunded_at": ts_to_text(r.refund_at)}
        for r in o[(o["status"] == H.REFUNDED) & o["late_refund"]].itertuples(index=False)
    ]
    defects: dict[str, list[dict]] = {k: [] for k in DEFECT_KINDS}
    for k, items in s_res.defects.items():
        defects[k] = items
    defects["late_arriving_customer"] = late_items
    defects["refund_flip"] = refund_flips
    counts["survey_records"] = s_res.records
    counts["survey_responses"] = s_res.responses
    counts["survey_files"] = len(s_res.files)
    counts["ticket_lines"] = n_lines
    counts["tickets"] = int(tk["created_at"].lt(cal.end).sum())
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "scale": scale,
        "business_tz": tz,
        "start_date": cal.first.isoformat(),
        "end_date": cal.last.isoformat(),
        "current_date": cal.last.isoformat(),
        "shop_db": "postgresql" if shopdb.is_postgres(url) else "sqlite",
        "rates": rates.as_dict(),
        "bad_files": bad_files,
        "row_counts": counts,
        "defect_counts": {k: len(v) for k, v in defects.items()},
        "defects": defects,
        "suspicious_referrals": suspicious,
        "survey_files": s_res.files,
        "redeliveries": [],
        "days": {},
    }
    state = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "scale": scale,
        "business_tz": tz,
        "start_date": cal.first.isoformat(),
        "end_date": cal.last.isoformat(),
        "current_date": cal.last.isoformat(),
        "rates": rates.as_dict(),
        "shop_db_url": None if url == default_db_url(out) else shopdb.redact(url),
        "next_ids": {
            "customer_id": int(cust.id.max()) + 1,
            "order_id": int(o["order_id"].max()) + 1 if len(o) else H.ORDER_ID0 + 1,
            "order_item_id": counts["order_items"] + 1,
            "member_id": int(members["member_id"].max()) + 1 if len(members) else H.MEMBER_ID0 + 1,
            "entry_id": int(ledger["entry_id"].max()) + 1 if len(ledger) else 1,
            "referral_id": int(refs["referral_id"].max()) + 1 if len(refs) else 1,
            "campaign_id": int(campaigns["campaign_id"].max()) + 1,
            "touch_id": int(touches["touch_id"].max()) + 1 if len(touches) else 1,
            "ticket_id": int(tk["id"].max()) + 1 if len(tk) else H.TICKET_ID0 + 1,
            "response_seq": n_resp,
        },
        "calibration": {
            "orders_per_day": sc.orders / HISTORY_DAYS,
            "customers_per_day": 0.65 * sc.customers / HISTORY_DAYS,
            "survey_post_share": 0.85 * sc.survey_responses / max(len(o), 1),
            "survey_general_per_day": 0.11 * sc.survey_responses / HISTORY_DAYS,
            "survey_anonymous_per_day": 0.04 * sc.survey_responses / HISTORY_DAYS,
            "tickets_per_order": 0.9 * sc.tickets / max(len(o), 1),
            "tickets_other_per_day": 0.1 * sc.tickets / HISTORY_DAYS,
            "touch_share": sc.touch_share,
            "rate_scale": float(k_rate),
            "invites_per_day": (int((refs["status"] == "invited").sum()) + len(refs)) / HISTORY_DAYS / 2,
            "customers": sc.customers,
        },
        "pending_customers": [],
    }
    write_json(out / "manifest.json", manifest)
    write_json(out / "state.json", state)
    timer.lap("generate done")
    return manifest


# --------------------------------------------------------------------------- helpers

def _history_tickets(seed: int, sc, cal: Calendar, cust: H.Customers, o: pd.DataFrame) -> pd.DataFrame:
    rng = rng_for(seed, "tickets")
    n = len(o)
    cidx = o["cust_idx"].to_numpy()
    refund_at = o["refund_at"].to_numpy()
    refunded = (refund_at != NULL) & (refund_at < cal.end)
    chan = o["channel"].to_numpy().astype(np.int64)
    w = (1.6 - cust.h[cidx]) * np.where(refunded, 4.0, 1.0) * np.where(chan != 0, 1.3, 1.0)
    p = np.minimum(0.9 * sc.tickets * w / w.sum(), 0.9)
    chosen = np.flatnonzero(rng.random(n) < p)
    created = o["ordered_at"].to_numpy()[chosen] + rng.integers(2 * HOUR, 10 * DAY, len(chosen))
    ok = created < cal.end - 60
    chosen, created = chosen[ok], created[ok]
    # tickets without an order: a customer, or nobody known
    n_c = int(0.08 * sc.tickets)
    wc = (1.6 - cust.h) * H.active_weight(cust, cal.end - 180 * DAY)
    c2 = rng.choice(cust.n, n_c, p=wc / wc.sum())
    lo = np.maximum(cust.reg[c2], cal.start)
    t2 = lo + (rng.random(n_c) * (cal.end - 60 - lo)).astype(np.int64)
    n_a = int(0.02 * sc.tickets)
    t3 = cal.start + (rng.random(n_a) * (cal.end - 60 - cal.start)).astype(np.int64)
    cust_idx = np.concatenate([cidx[chosen], c2, np.full(n_a, -1)])
    order_pos = np.concatenate([chosen, np.full(n_c + n_a, -1)])
    created = np.concatenate([created, t2, t3])
    h = np.where(cust_idx >= 0, cust.h[np.maximum(cust_idx, 0)], 0.7)
    refd = np.concatenate([refunded[chosen], np.zeros(n_c + n_a, dtype=bool)])
    ch = np.concatenate([chan[chosen], np.full(n_c + n_a, -1)])
    plan = T.plan(rng, created, h, refd, ch)
    plan.insert(0, "cust_idx", cust_idx)
    plan.insert(1, "order_pos", order_pos)
    return plan


def _complaint_churn(seed: int, cal: Calendar, cust: H.Customers, o: pd.DataFrame, tk: pd.DataFrame,
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A complaint can end the customer's active period: their later orders disappear."""
    rng = rng_for(seed, "churn")
    has = tk["cust_idx"].to_numpy() >= 0
    sat = tk["sat"].to_numpy()
    p = 0.25 + 0.25 * (tk["severity"].to_numpy() == 2) + 0.25 * ((sat >= 1) & (sat <= 2))
    churn = has & (rng.random(len(tk)) < p)
    cut = tk["created_at"].to_numpy() + rng.integers(7 * DAY, 30 * DAY, len(tk))
    c_cut = np.full(cust.n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(c_cut, tk["cust_idx"].to_numpy()[churn], cut[churn])
    cidx = o["cust_idx"].to_numpy()
    t = o["ordered_at"].to_numpy()
    cc = c_cut[cidx]
    a2 = cust.a2[cidx]
    back = (a2 != NULL) & (a2 > cc) & (t >= a2)
    drop = (t > cc) & ~back
    # never drop an order a ticket refers to
    ref = tk["order_pos"].to_numpy()
    protected = np.zeros(len(o), dtype=bool)
    protected[ref[ref >= 0]] = True
    drop &= ~protected
    hit = c_cut < np.iinfo(np.int64).max
    in1 = hit & (cust.a1 <= c_cut) & (c_cut < cust.b1)
    cust.b1 = np.where(in1, c_cut, cust.b1)
    in2 = hit & (cust.a2 != NULL) & (cust.a2 <= c_cut) & (c_cut < cust.b2)
    cust.b2 = np.where(in2, c_cut, cust.b2)
    return o[~drop], tk


def _late_customers(seed: int, cal: Calendar, cust: H.Customers, o: pd.DataFrame) -> list[dict]:
    """Move the late customers' registration into the business day after their first order."""
    rng = rng_for(seed, "late")
    cidx = o["cust_idx"].to_numpy()
    uc, first = np.unique(cidx, return_index=True)  # orders are sorted by time
    first_pos = np.full(cust.n, -1)
    first_pos[uc] = first
    items = []
    for c in np.flatnonzero(cust.late):
        fp = first_pos[c]
        if fp < 0:
            cust.late[c] = False
            continue
        ft = int(o["ordered_at"].iat[fp])
        d = int(cal.day_index(np.array([ft]))[0])
        if d + 1 >= cal.n_days:
            cust.late[c] = False
            continue
        new_reg = int(cal.in_day(rng, np.array([d + 1]))[0])
        cust.reg[c] = new_reg
        cust.upd[c] = new_reg
        cust.a1[c] = min(cust.a1[c], new_reg)
        items.append({
            "customer_id": int(cust.id[c]), "first_order_id": int(o["order_id"].iat[fp]),
            "order_business_date": cal.dates[d].isoformat(), "customer_business_date": cal.dates[d + 1].isoformat(),
            "ordered_at": ts_to_text(ft), "customer_updated_at": ts_to_text(new_reg),
        })
    return items


def _order_plan(o: pd.DataFrame, cust: H.Customers, order_points: pd.DataFrame, end: int) -> pd.DataFrame:
    parts = []
    for col, code in (("ship_at", H.SHIPPED), ("complete_at", H.COMPLETED), ("cancel_at", H.CANCELLED),
                      ("refund_at", H.REFUNDED)):
        at = o[col].to_numpy()
        m = (at != NULL) & (at >= end)
        parts.append(pd.DataFrame({"order_id": o["order_id"].to_numpy()[m], "at": at[m], "status": code,
                                   "member_id": order_points["member_id"].to_numpy()[m],
                                   "points": order_points["points"].to_numpy()[m],
                                   "late_refund": (o["late_refund"].to_numpy()[m] & (code == H.REFUNDED)),
                                   "ordered_at": o["ordered_at"].to_numpy()[m]}))
    plan = pd.concat(parts, ignore_index=True).sort_values(["at", "order_id"], kind="stable")
    return plan.reset_index(drop=True).astype(np.int64)


def _last_ticket(n: int, tk: pd.DataFrame, end: int) -> np.ndarray:
    out = np.full(n, NULL, dtype=np.int64)
    m = (tk["cust_idx"].to_numpy() >= 0) & (tk["created_at"].to_numpy() < end)
    np.maximum.at(out, tk["cust_idx"].to_numpy()[m], tk["created_at"].to_numpy()[m])
    return out


def _survey_answers(seed: int, sc, cal: Calendar, cust: H.Customers, o: pd.DataFrame, tk: pd.DataFrame,
                    ) -> dict[str, np.ndarray]:
    """Every survey answer of the history: after an order (85%), general (11%) or anonymous (4%),
    with its scores (from the customer's latent satisfaction, a recent complaint or refund)."""
    rng = rng_for(seed, "surveys")
    nc = np.flatnonzero(o["cancel_at"].to_numpy() == NULL)
    p_s = min(0.85 * sc.survey_responses / max(len(nc), 1), 1.0)
    sel = nc[rng.random(len(nc)) < p_s]
    comp = o["complete_at"].to_numpy()[sel]
    base = np.where((comp != NULL) & (comp < cal.end), comp, o["ordered_at"].to_numpy()[sel])
    sub1 = base + rng.integers(HOUR, 5 * DAY, len(sel))
    ok = sub1 < cal.end
    sel, sub1 = sel[ok], sub1[ok]
    c1 = o["cust_idx"].to_numpy()[sel]
    refund = o["refund_at"].to_numpy()[sel]
    ref1 = (refund != NULL) & (refund < sub1)
    n_g = int(0.11 * sc.survey_responses)
    w = cust.rate / cust.rate.sum()
    c2 = rng.choice(cust.n, n_g, p=w)
    lo = np.maximum(cust.reg[c2], cal.start)
    sub2 = lo + (rng.random(n_g) * (cal.end - 1 - lo)).astype(np.int64)
    n_a = int(0.04 * sc.survey_responses)
    sub3 = cal.sample(rng, np.full(n_a, cal.start), np.full(n_a, cal.end))
    cidx = np.concatenate([c1, c2, np.full(n_a, -1)])
    sub = np.concatenate([sub1, sub2, sub3])
    tk_ok = tk["created_at"].to_numpy() < cal.end
    last = S.last_complaint(cidx, sub, tk["cust_idx"].to_numpy()[tk_ok], tk["created_at"].to_numpy()[tk_ok])
    complained = (cidx >= 0) & (last != NULL) & (sub - last < S.COMPLAINT_MEMORY)
    refunded = np.concatenate([ref1, np.zeros(n_g + n_a, dtype=bool)])
    h = np.where(cidx >= 0, cust.h[np.maximum(cidx, 0)], 0.7)
    nps, sat, intent = S.score(rng, h, complained, refunded)
    return {
        "survey_kind": np.concatenate([np.zeros(len(sel), dtype=np.int64), np.ones(n_g + n_a, dtype=np.int64)]),
        "cidx": cidx, "order_id": np.concatenate([o["order_id"].to_numpy()[sel], np.full(n_g + n_a, NULL)]),
        "sub": sub, "nps": nps, "sat": sat, "intent": intent,
    }


DAMPEN_DAYS = 90
DAMPEN_P = 0.5


def _after_answers(seed: int, cal: Calendar, cust: H.Customers, o: pd.DataFrame, tk: pd.DataFrame,
                   answers: dict[str, np.ndarray]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """What a detractor does next (the seeds: an unhappy customer leaves and tells others): at
    their first answer of 0-6, a customer lapses within weeks with probability 0.7 x (1 - h), the
    less satisfied the likelier (their later orders and answers disappear, unless they come back in
    a later active period); a detractor who stays buys less for DAMPEN_DAYS; a passive or promoter
    keeps buying. Orders a ticket or a kept answer refers to are never dropped."""
    rng = rng_for(seed, "after answers")
    cidx_a, sub, nps = answers["cidx"], answers["sub"], answers["nps"]
    detractor = (cidx_a >= 0) & (nps >= 0) & (nps <= 6)
    order = np.lexsort((sub, cidx_a))
    first = np.zeros(len(sub), dtype=bool)
    d_sorted = order[detractor[order]]
    _, first_pos = np.unique(cidx_a[d_sorted], return_index=True)
    first[d_sorted[first_pos]] = True
    h = cust.h[np.maximum(cidx_a, 0)]
    lapse = first & (rng.random(len(sub)) < 0.7 * (1 - h))
    cut = sub + rng.integers(3 * DAY, 45 * DAY, len(sub))
    c_cut = np.full(cust.n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(c_cut, cidx_a[lapse], cut[lapse])
    hit = c_cut < np.iinfo(np.int64).max

    def gone(cidx: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Events after the customer's lapse, outside a later active period they come back in."""
        safe = np.maximum(cidx, 0)
        cc = np.where(cidx >= 0, c_cut[safe], np.iinfo(np.int64).max)
        a2 = cust.a2[safe]
        back = (cidx >= 0) & (a2 != NULL) & (a2 > cc) & (t >= a2)
        return (t > cc) & ~back

    keep_answer = ~gone(cidx_a, sub)
    answers = {k: v[keep_answer] for k, v in answers.items()}
    o_cidx, o_t = o["cust_idx"].to_numpy(), o["ordered_at"].to_numpy()
    drop = gone(o_cidx, o_t)
    # and a detractor who stays buys less for a while: each order in the DAMPEN_DAYS after one of
    # their 0-6 answers is dropped with probability DAMPEN_P
    kept_detractor = keep_answer[detractor]
    d_key = np.sort(cidx_a[detractor][kept_detractor] * (1 << 32) + sub[detractor][kept_detractor])
    o_key = np.maximum(o_cidx, 0) * (1 << 32) + o_t
    before = np.searchsorted(d_key, o_key, "left") - 1  # the customer's last detractor answer before the order
    last_d = d_key[np.maximum(before, 0)]
    recent = (o_cidx >= 0) & (before >= 0) & (last_d >> 32 == o_cidx) & (o_key - last_d < DAMPEN_DAYS * DAY)
    drop |= recent & (rng.random(len(o_t)) < DAMPEN_P)
    referenced = np.isin(o["order_id"].to_numpy(), np.concatenate([tk["order_id"].to_numpy(), answers["order_id"]]))
    drop &= ~referenced
    in1 = hit & (cust.a1 <= c_cut) & (c_cut < cust.b1)
    cust.b1 = np.where(in1, c_cut, cust.b1)
    in2 = hit & (cust.a2 != NULL) & (cust.a2 <= c_cut) & (c_cut < cust.b2)
    cust.b2 = np.where(in2, c_cut, cust.b2)
    return o[~drop].reset_index(drop=True), answers


def _history_surveys(seed: int, cal: Calendar, answers: dict[str, np.ndarray], cust: H.Customers, rates: Rates,
                     inbox: Path, bad_files: bool) -> tuple[S.InboxResult, int]:
    rng = rng_for(seed, "survey files")
    cidx = answers["cidx"]
    resp = S.build(
        rng, seq0=1, survey_kind=answers["survey_kind"],
        customer_id=np.where(cidx >= 0, cust.id[np.maximum(cidx, 0)], NULL),
        order_id=answers["order_id"], submitted=answers["sub"], nps=answers["nps"], sat=answers["sat"],
        intent=answers["intent"], tz=cal.tz, rates=rates,
    )
    forced = {cal.dates[-2]: "empty_file", cal.dates[-1]: "bad_header"} if bad_files else {}
    res = S.write_inbox(inbox, resp, cal.dates, rng, rates, forced)
    return res, resp.n + 1
