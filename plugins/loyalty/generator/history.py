"""Two years of shop history, vectorised: customers, stores, products, memberships, care
campaigns and touches, orders (with their status life cycle), order items, referrals and
the points ledger.

The behaviour the metrics need is built in, not painted on:

* every customer has a latent satisfaction ``h`` and purchase rate; the rate differs by
  city, signup channel and member tier (tier is given by the rate rank among members);
* customers are active for a while, then lapse (no orders); some come back after > 180 days;
  low ``h`` means a shorter life; a complaint ticket can end it early (see ``tickets``);
* treated customers of a care campaign get extra orders in the 30 days after the touch
  (true uplift per campaign type); holdout customers do not;
* promoters (answered 9-10) invite friends in the 90 days after answering (promoter_inviters);
  a detractor often lapses within weeks of answering, the likelier the less satisfied
  (full._after_answers);
* order status follows paid -> shipped -> completed, or cancelled, or refunded after
  completion (a few months later for ``Rates.late_refund``);
* members earn floor(total/10) points when a member order completes (10 per 100 CNY),
  reversed (reason ``adjust``) when it is refunded; redeem/expire/referral_reward/care_gift.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loyalty.generator import vocab
from loyalty.generator.core import (
    DAY,
    HOUR,
    NULL,
    Calendar,
    Rates,
    Scale,
    date_text,
    epoch_days,
    int_array,
    local_midnight_utc,
    money_text,
    rng_for,
    ts_text,
)

# Order status codes (index into STATUSES).
STATUSES = ("paid", "shipped", "completed", "cancelled", "refunded")
PAID, SHIPPED, COMPLETED, CANCELLED, REFUNDED = range(5)

CUSTOMER_ID0 = 100_000
ORDER_ID0 = 20_000_000
MEMBER_ID0 = 5_000_000
TICKET_ID0 = 300_000
PRODUCT_ID0 = 1_000
REFERRAL_REWARD_POINTS = 300
NORMAL_REFUND_P = 0.04
CANCEL_P = 0.04
ATTRIBUTION = 30 * DAY
NON_MEMBER_MULT = 0.7  # purchase frequency of non-members against bronze members (1.4)
CHURN_COMPENSATION = 1.25  # complaint churn, detractors lapsing or buying less after answering remove ~20% of the drawn orders


@dataclass
class Customers:
    id: np.ndarray
    reg: np.ndarray  # registered_at
    upd: np.ndarray
    h: np.ndarray  # latent satisfaction 0..1
    rate: np.ndarray  # orders per unit of day weight (after calibration)
    city: np.ndarray  # index into vocab.CITY_NAMES
    channel: np.ndarray  # index into vocab.CHANNELS
    a1: np.ndarray
    b1: np.ndarray
    a2: np.ndarray  # NULL: no second active period
    b2: np.ndarray
    birth: np.ndarray  # epoch days or NULL
    gender: np.ndarray  # 0 F, 1 M, 2 NULL
    name: np.ndarray
    phone: np.ndarray
    email: np.ndarray  # object, None = NULL
    member: np.ndarray  # index into memberships or -1
    late: np.ndarray  # bool: the row arrives one business day after the first order
    referee: np.ndarray  # bool

    @property
    def n(self) -> int:
        return len(self.id)


# --------------------------------------------------------------------------- dimensions

def make_stores(seed: int, scale: Scale, cal: Calendar) -> pd.DataFrame:
    rng = rng_for(seed, "stores")
    n = scale.stores
    ncity = len(vocab.CITY_NAMES)
    city = np.concatenate([np.arange(ncity), rng.choice(ncity, n - ncity, p=vocab.CITY_P)]) if n > ncity else \
        np.arange(n) % ncity
    order = np.lexsort((np.arange(n), city))
    city = city[order]
    first_of_city = np.r_[True, city[1:] != city[:-1]]
    opened_days = np.where(
        first_of_city | (rng.random(n) < 0.85),
        epoch_days(cal.first) - rng.integers(200, 3650, n),
        epoch_days(cal.first) + rng.integers(0, cal.n_days - 30, n),
    )
    names = []
    seen: dict[str, int] = {}
    for c, d in zip(city, rng.integers(0, len(vocab.DISTRICTS), n), strict=True):
        base = f"{vocab.CITY_NAMES[c]}{vocab.DISTRICTS[d]}店"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}{seen[base]}号")
    opened_ts = np.array([local_midnight_utc(date(1970, 1, 1) + timedelta(days=int(d)), cal.tz) for d in opened_days])
    updated = np.minimum(opened_ts - rng.integers(1, 30, n) * DAY + rng.integers(0, DAY, n), cal.end - HOUR)
    return pd.DataFrame({
        "store_id": np.arange(1, n + 1), "store_name": names, "city_idx": city,
        "city": np.array(vocab.CITY_NAMES, dtype=object)[city], "opened_days": opened_days, "opened_ts": opened_ts,
        "updated_at": updated,
    })


def make_products(seed: int, scale: Scale, cal: Calendar) -> pd.DataFrame:
    rng = rng_for(seed, "products")
    n = scale.products
    cats = [c[0] for c in vocab.PRODUCT_CATEGORIES]
    cat = rng.choice(len(cats), n, p=np.array([c[1] for c in vocab.PRODUCT_CATEGORIES]))
    median = np.array([c[2] for c in vocab.PRODUCT_CATEGORIES])[cat]
    yuan = np.clip(median * rng.lognormal(0, 0.6, n), 5, 3000)
    cents = (np.floor(yuan) * 100 + np.where(rng.random(n) < 0.6, 90, 0)).astype(np.int64)
    names = []
    seen: set[str] = set()
    for i in range(n):
        c = cats[cat[i]]
        base = (f"{vocab.PRODUCT_BRANDS[rng.integers(len(vocab.PRODUCT_BRANDS))]}"
                f"{vocab.PRODUCT_WORDS[c][rng.integers(len(vocab.PRODUCT_WORDS[c]))]}"
                f"{vocab.PRODUCT_SIZES[rng.integers(len(vocab.PRODUCT_SIZES))]}")
        name = base
        k = 2
        while name in seen:
            name, k = f"{base} {k}代", k + 1
        seen.add(name)
        names.append(name)
    created = cal.start - rng.integers(30, 1500, n) * DAY + rng.integers(0, DAY, n)
    change = rng.random(n) < 0.12
    change_at = np.where(change, cal.start + rng.integers(10, cal.n_days - 2, n) * DAY + rng.integers(0, DAY, n), NULL)
    new_cents = np.where(change, np.round(cents * rng.choice([0.9, 1.05, 1.1, 1.2], n) / 10).astype(np.int64) * 10,
                         cents)
    popularity = rng.pareto(1.2, n) + 0.05
    return pd.DataFrame({
        "product_id": PRODUCT_ID0 + np.arange(1, n + 1), "product_name": names,
        "category": np.array(cats, dtype=object)[cat], "old_cents": cents, "price_cents": new_cents,
        "change_at": change_at, "updated_at": np.where(change, change_at, created),
        "popularity": popularity / popularity.sum(),
    })


def make_customers(seed: int, scale: Scale, cal: Calendar, rates: Rates) -> Customers:
    rng = rng_for(seed, "customers")
    n = scale.customers
    n_pre = int(0.35 * n)
    reg = np.concatenate([
        cal.start - rng.integers(HOUR, 3 * 365 * DAY, n_pre),
        cal.sample(rng, np.full(n - n_pre, cal.start), np.full(n - n_pre, cal.end - 2 * HOUR)),
    ])
    reg.sort(kind="stable")
    lat = latent_attrs(rng, reg)
    h, city, channel, value = lat["h"], lat["city"], lat["channel"], lat["value"]
    a1, b1, a2, b2 = lat["a1"], lat["b1"], lat["a2"], lat["b2"]
    ids = CUSTOMER_ID0 + np.arange(1, n + 1)
    p = person_attrs(rng, ids, reg)
    upd = np.where(rng.random(n) < 0.10, reg + (rng.random(n) * (cal.end - 1 - np.maximum(reg, cal.start))).astype(
        np.int64), reg)
    upd = np.maximum(upd, reg)
    # Late-arriving candidates: customers registered inside the history (decided after orders).
    late = (reg >= cal.start) & (reg < cal.end - 2 * DAY) & (rng.random(n) < rates.late_arriving_customer)
    return Customers(ids, reg, upd, h, value, city, channel, a1, b1, a2, b2, p["birth"], p["gender"], p["name"],
                     p["phone"], p["email"], np.full(n, -1), late, np.zeros(n, dtype=bool))


def latent_attrs(rng: np.random.Generator, reg: np.ndarray) -> dict[str, np.ndarray]:
    """Satisfaction, city, channel, relative purchase rate and active periods of new customers."""
    n = len(reg)
    h = rng.beta(2.5, 1.2, n)
    city = rng.choice(len(vocab.CITY_NAMES), n, p=vocab.CITY_P)
    channel = rng.choice(3, n, p=vocab.CHANNEL_P)
    value = rng.gamma(2.0, 0.5, n) * vocab.CITY_MULT[city] * vocab.CHANNEL_MULT[channel] * (0.6 + 0.8 * h)
    mean_life = 60 + 1100 * h**3
    a1 = np.asarray(reg, dtype=np.int64).copy()
    b1 = a1 + (rng.exponential(mean_life) * DAY).astype(np.int64)
    back = rng.random(n) < 0.30
    a2 = np.where(back, b1 + ((181 + rng.exponential(150, n)) * DAY).astype(np.int64), NULL)
    b2 = np.where(back, a2 + (rng.exponential(mean_life) * DAY).astype(np.int64), NULL)
    return {"h": h, "city": city, "channel": channel, "value": value, "a1": a1, "b1": b1, "a2": a2, "b2": b2}


def person_attrs(rng: np.random.Generator, ids: np.ndarray, reg: np.ndarray) -> dict[str, np.ndarray]:
    """Name, phone (unique: the last 8 digits are a bijection of the id), e-mail, gender, birth date."""
    n = len(ids)
    age_days = (rng.uniform(18, 72, n) * 365.25).astype(np.int64)
    birth = np.where(rng.random(n) < 0.10, NULL, reg // DAY - age_days)
    gender = rng.choice(3, n, p=[0.55, 0.40, 0.05])
    sur = np.array(vocab.SURNAMES, dtype=object)[rng.integers(0, len(vocab.SURNAMES), n)]
    g1 = np.array(vocab.GIVEN, dtype=object)[rng.integers(0, len(vocab.GIVEN), n)]
    g2 = np.where(rng.random(n) < 0.6, np.array(vocab.GIVEN, dtype=object)[rng.integers(0, len(vocab.GIVEN), n)], "")
    prefix = rng.choice([130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 157, 158, 159, 177, 180, 182,
                         186, 187, 188, 189, 199], n)
    tail = (np.asarray(ids, dtype=np.int64) * 7_919 + 13_579_246) % 100_000_000
    phone = pc.binary_join_element_wise(
        pa.array(prefix).cast(pa.string()), pc.utf8_lpad(pa.array(tail).cast(pa.string()), 8, "0"), ""
    ).to_numpy(zero_copy_only=False)
    return {"birth": birth, "gender": gender, "name": sur + g1 + g2, "phone": phone, "email": new_emails(rng, ids, 0.65)}


def new_emails(rng: np.random.Generator, ids: np.ndarray, share: float) -> np.ndarray:
    n = len(ids)
    has_email = rng.random(n) < share
    letters = np.array(list("abcdefghjkmnpqrstwxyz"), dtype=object)
    handle = letters[rng.integers(0, len(letters), n)] + letters[rng.integers(0, len(letters), n)]
    dom = np.array(vocab.EMAIL_DOMAINS, dtype=object)[rng.integers(0, len(vocab.EMAIL_DOMAINS), n)]
    idtxt = pa.array(np.asarray(ids, dtype=np.int64)).cast(pa.string()).to_numpy(zero_copy_only=False)
    # numpy stubs do not accept None as the "y" operand of where(); the result is an object array
    return cast(np.ndarray, np.where(has_email, handle + idtxt + "@" + dom, None))


def make_memberships(seed: int, cust: Customers, cal: Calendar) -> pd.DataFrame:
    """~40% of customers, more likely the frequent buyers; tier by value rank among members."""
    rng = rng_for(seed, "memberships")
    n = cust.n
    w = cust.rate**0.6
    p = np.clip(0.40 * w / w.mean(), 0, 0.92)
    is_m = (rng.random(n) < p) & ~cust.late
    idx = np.flatnonzero(is_m)
    m = len(idx)
    rank = np.empty(m)
    rank[np.argsort(-cust.rate[idx], kind="stable")] = np.arange(m) / max(m, 1)
    cut = np.cumsum(vocab.TIER_SHARE[::-1])  # platinum share first
    tier = 3 - np.searchsorted(cut, rank, side="right")
    tier = np.clip(tier, 0, 3)
    reg = cust.reg[idx]
    life = np.maximum(cust.b1[idx] - cust.a1[idx], DAY)
    joined = np.where(rng.random(m) < 0.5, reg + rng.integers(60, 2 * DAY, m),
                      reg + (rng.random(m) * np.minimum(life, 365 * DAY)).astype(np.int64))
    joined = np.minimum(joined, cal.end - 3 * HOUR - rng.integers(0, HOUR, m))
    joined = np.maximum(joined, reg + 60)
    span = np.maximum(cal.end - 1 - joined, 1)
    u = rng.random(m)
    status = np.where(u < 0.06, 2, np.where(u < 0.09, 1, 0))  # 0 active, 1 frozen, 2 cancelled
    event_at = joined + (rng.random(m) * span).astype(np.int64)
    cancelled_at = np.where(status == 2, event_at, NULL)
    tier_at = np.where(tier > 0, joined + (rng.random(m) * span).astype(np.int64), joined)
    updated = np.maximum(np.maximum(joined, tier_at), np.where(status > 0, event_at, joined))
    order = np.argsort(joined, kind="stable")
    df = pd.DataFrame({
        "cust_idx": idx[order], "customer_id": cust.id[idx][order], "tier": tier[order], "status": status[order],
        "joined_at": joined[order], "cancelled_at": cancelled_at[order], "updated_at": updated[order],
    })
    df.insert(0, "member_id", MEMBER_ID0 + np.arange(1, m + 1))
    cust.member[df["cust_idx"].to_numpy()] = np.arange(m)
    cust.rate = cust.rate * np.where(cust.member >= 0, vocab.TIER_MULT[np.clip(
        df["tier"].to_numpy()[np.maximum(cust.member, 0)], 0, 3)], NON_MEMBER_MULT)
    return df


def member_at(members: pd.DataFrame, cust: Customers, cust_idx: np.ndarray, t: np.ndarray) -> np.ndarray:
    """member_id of each (customer, time) when they are a member then, else NULL."""
    mi = cust.member[cust_idx]
    ok = mi >= 0
    j = np.maximum(mi, 0)
    joined = members["joined_at"].to_numpy()[j]
    canc = members["cancelled_at"].to_numpy()[j]
    ok &= (joined < t) & ((canc == NULL) | (canc >= t))
    return np.where(ok, members["member_id"].to_numpy()[j], NULL)


# --------------------------------------------------------------------------- care

def make_campaigns(seed: int, scale: Scale, cal: Calendar) -> pd.DataFrame:
    rng = rng_for(seed, "campaigns")
    n = scale.campaigns
    types = np.array(list(vocab.CAMPAIGN_TYPES) * (n // 5 + 1), dtype=object)[:n]
    rng.shuffle(types)
    first, last = 30, cal.n_days - 12
    starts = np.linspace(first, last, n).astype(int) + rng.integers(-6, 7, n)
    starts = np.clip(starts, 20, cal.n_days - 8)
    duration = rng.integers(7, 29, n)
    rows = []
    for i in range(n):
        t = types[i]
        chans, p = vocab.CAMPAIGN_CHANNELS[t]
        ch = chans[rng.choice(len(chans), p=np.array(p))]
        lo, hi = vocab.CAMPAIGN_FIXED_COST[t]
        sd = cal.dates[starts[i]]
        rows.append({
            "campaign_id": i + 1, "campaign_name": f"{vocab.CAMPAIGN_LABELS[t]} {sd:%Y-%m}", "campaign_type": t,
            "channel": ch, "start_idx": int(starts[i]), "end_idx": int(starts[i] + duration[i] - 1),
            "start_date": epoch_days(sd), "end_date": epoch_days(sd) + int(duration[i]) - 1,
            "fixed_cost": int(rng.integers(lo // 100, hi // 100 + 1)) * 10_000,
            "updated_at": int(cal.day_start[starts[i]] - rng.integers(5, 20) * DAY + rng.integers(2, 10) * HOUR),
        })
    df = pd.DataFrame(rows).sort_values(["updated_at", "campaign_id"], kind="stable")
    df["campaign_id"] = np.arange(1, n + 1)
    return df.reset_index(drop=True)


def audience_mask(ctype: str, cust: Customers, members: pd.DataFrame, t: int, month: int,
                  birth_month: np.ndarray) -> np.ndarray:
    ok = (cust.reg < t) & ~cust.late
    if ctype == "birthday_gift":
        ok &= birth_month == month
    elif ctype == "health_care":
        ok &= (cust.birth != NULL) & ((t // DAY - cust.birth) > 40 * 365)
    elif ctype in ("exclusive_event", "points_bonus"):
        mi = cust.member
        j = np.maximum(mi, 0)
        ok &= (mi >= 0) & (members["joined_at"].to_numpy()[j] < t) & (members["status"].to_numpy()[j] != 2)
        if ctype == "exclusive_event":
            ok &= members["tier"].to_numpy()[j] >= 2
    return ok


def birth_months(cust: Customers) -> np.ndarray:
    b = np.where(cust.birth == NULL, 0, cust.birth)
    months = pd.to_datetime(b, unit="D").month.to_numpy()
    return np.where(cust.birth == NULL, 0, months)


def active_weight(cust: Customers, t: int) -> np.ndarray:
    act = ((cust.a1 <= t) & (t < cust.b1)) | ((cust.a2 != NULL) & (cust.a2 <= t) & (t < cust.b2))
    return np.where(act, 1.0, 0.25)


def pick_weighted(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """``k`` indices without replacement, weighted (Efraimidis-Spirakis), in index order."""
    cand = np.flatnonzero(weights > 0)
    if k >= len(cand):
        return cand
    keys = np.log(rng.random(len(cand))) / weights[cand]
    top = np.argpartition(-keys, k - 1)[:k]
    return np.sort(cand[top])


def make_touches(seed: int, scale: Scale, cal: Calendar, cust: Customers, members: pd.DataFrame,
                 campaigns: pd.DataFrame) -> pd.DataFrame:
    rng = rng_for(seed, "touches")
    bm = birth_months(cust)
    parts = []
    for c in campaigns.itertuples(index=False):
        t0 = int(cal.day_start[c.start_idx])
        month = cal.dates[c.start_idx].month
        ok = audience_mask(c.campaign_type, cust, members, t0, month, bm)
        size = int(scale.touch_share * cust.n * (0.5 if c.campaign_type == "exclusive_event" else 1.0))
        chosen = pick_weighted(rng, ok * active_weight(cust, t0), size)
        k = len(chosen)
        if k == 0:
            continue
        day = rng.integers(c.start_idx, c.end_idx + 1, k)
        inside = day < cal.n_days  # later days are touched by `advance`
        chosen, day = chosen[inside], day[inside]
        k = len(chosen)
        touched = cal.in_day(rng, day)
        treat = rng.random(k) < 0.8
        p_resp = vocab.RESPONSE_P[c.channel] * (0.5 + cust.h[chosen])
        resp_at = touched + (rng.exponential(12, k) * HOUR).astype(np.int64) + 60
        responded = treat & (rng.random(k) < p_resp) & (resp_at < cal.end)
        parts.append(pd.DataFrame({
            "campaign_id": c.campaign_id, "cust_idx": chosen, "customer_id": cust.id[chosen],
            "treat": treat, "touched_at": touched,
            "touch_cost": np.where(treat, vocab.TOUCH_COST_CENTS[c.channel], 0),
            "responded_at": np.where(responded, resp_at, NULL), "ctype": c.campaign_type,
        }))
    df = pd.concat(parts, ignore_index=True)
    df = df.sort_values(["touched_at", "campaign_id", "customer_id"], kind="stable").reset_index(drop=True)
    df.insert(0, "touch_id", np.arange(1, len(df) + 1))
    df["updated_at"] = np.where(df["responded_at"] != NULL, df["responded_at"], df["touched_at"])
    return df


# --------------------------------------------------------------------------- orders

def _period_orders(rng: np.random.Generator, cal: Calendar, rate: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                   ) -> tuple[np.ndarray, np.ndarray]:
    lo = np.clip(lo, cal.start, cal.end)
    hi = np.clip(hi, cal.start, cal.end)
    valid = hi > lo
    expected = np.where(valid, rate * (cal.position(hi) - cal.position(lo)), 0.0)
    counts = rng.poisson(expected)
    idx = np.repeat(np.arange(len(rate)), counts)
    t = cal.sample(rng, lo[idx], hi[idx])
    return idx, t


def order_times(seed: int, scale: Scale, cal: Calendar, cust: Customers, touches: pd.DataFrame,
                ) -> tuple[np.ndarray, np.ndarray, float]:
    """(customer index, ordered_at) of every order before any complaint churn, and the rate scale."""
    rng = rng_for(seed, "orders", "times")
    # Extra orders of treated customers in the 30 days after the touch (true uplift).
    tr = touches[touches["treat"]]
    upl = tr["ctype"].map(vocab.CAMPAIGN_UPLIFT).to_numpy()
    upl = upl * np.where(tr["responded_at"].to_numpy() != NULL, 1.6, 0.85)
    n_extra = rng.poisson(upl)
    ex_idx = np.repeat(tr["cust_idx"].to_numpy(), n_extra)
    ex_lo = np.repeat(tr["touched_at"].to_numpy(), n_extra) + 60
    ex_t = ex_lo + (rng.random(len(ex_lo)) * ATTRIBUTION).astype(np.int64)
    keep = ex_t < cal.end
    ex_idx, ex_t = ex_idx[keep], ex_t[keep]
    # Late-arriving customers order within hours of registering (the CRM row comes a day later).
    late = np.flatnonzero(cust.late)
    late_t = cust.reg[late] + rng.integers(10 * 60, 20 * HOUR, len(late))
    # Base orders: calibrate the rate so that the total lands near the target (+3% for churn losses).
    span1 = np.clip(cust.b1, cal.start, cal.end) - np.clip(cust.a1, cal.start, cal.end)
    w1 = np.where(span1 > 0, cal.position(cust.b1) - cal.position(cust.a1), 0.0)
    has2 = cust.a2 != NULL
    w2 = np.where(has2, cal.position(np.where(has2, cust.b2, 0)) - cal.position(np.where(has2, cust.a2, 0)), 0.0)
    target = max(scale.orders * CHURN_COMPENSATION - len(ex_t) - len(late_t), scale.orders * 0.5)
    k = target / float(np.sum(cust.rate * (w1 + w2)))
    rate = cust.rate * k
    i1, t1 = _period_orders(rng, cal, rate, cust.a1, cust.b1)
    i2, t2 = _period_orders(rng, cal, rate, np.where(has2, cust.a2, cal.end), np.where(has2, cust.b2, cal.end))
    idx = np.concatenate([i1, i2, ex_idx, late])
    t = np.concatenate([t1, t2, ex_t, late_t])
    return idx, t, k


def order_attributes(rng: np.random.Generator, city: np.ndarray, channel_pref: np.ndarray, stores: pd.DataFrame,
                     idx: np.ndarray, t: np.ndarray, rates: Rates) -> pd.DataFrame:
    """Channel, store and the status life cycle of each order (times of each transition).

    ``city``/``channel_pref``: per customer index; ``idx``: customer index of each order.
    """
    n = len(idx)
    pref = channel_pref[idx]
    channel = np.where(rng.random(n) < 0.7, pref, rng.choice(3, n, p=vocab.CHANNEL_P))
    store = pick_store(rng, stores, city[idx], t)
    at_store = (channel == 0) | ((channel == 2) & (rng.random(n) < 0.4))
    store_id = np.where(at_store, store, NULL)
    in_store = channel == 0
    pickup = (channel == 2) & at_store
    delivery = ~in_store & ~pickup
    cancel = ~in_store & (rng.random(n) < CANCEL_P)
    cancel_at = np.where(cancel, t + rng.integers(300, 12 * HOUR, n), NULL)
    ship_at = np.where(delivery & ~cancel, t + rng.integers(4 * HOUR, 48 * HOUR, n), NULL)
    complete_at = np.where(in_store, t, np.where(pickup, t + rng.integers(HOUR, 24 * HOUR, n),
                                                 ship_at + rng.integers(DAY, 6 * DAY, n)))
    complete_at = np.where(cancel, NULL, complete_at)
    u = rng.random(n)
    normal_refund = ~cancel & (u < NORMAL_REFUND_P)
    late_refund = ~cancel & ~normal_refund & (u < NORMAL_REFUND_P + rates.late_refund)
    refund_at = np.where(normal_refund, complete_at + rng.integers(DAY, 20 * DAY, n),
                         np.where(late_refund, t + rng.integers(60 * DAY, 210 * DAY, n), NULL))
    refund_at = np.where(late_refund, np.maximum(refund_at, complete_at + DAY), refund_at)
    return pd.DataFrame({
        "cust_idx": idx.astype(np.int64), "ordered_at": t, "channel": channel.astype(np.int8), "store_id": store_id,
        "ship_at": ship_at, "complete_at": complete_at, "cancel_at": cancel_at, "refund_at": refund_at,
        "late_refund": late_refund,
    })


def pick_store(rng: np.random.Generator, stores: pd.DataFrame, city: np.ndarray, t: np.ndarray) -> np.ndarray:
    """A store of the customer's city open at ``t`` (else the city's oldest store)."""
    s_city = stores["city_idx"].to_numpy()
    first = np.searchsorted(s_city, np.arange(len(vocab.CITY_NAMES)))
    count = np.searchsorted(s_city, np.arange(len(vocab.CITY_NAMES)), side="right") - first
    opened = stores["opened_ts"].to_numpy()
    oldest = np.array([first[c] + int(np.argmin(opened[first[c]:first[c] + count[c]])) if count[c] else 0
                       for c in range(len(vocab.CITY_NAMES))])
    has = count[city] > 0
    pos = np.where(has, first[city] + (rng.random(len(city)) * np.maximum(count[city], 1)).astype(np.int64),
                   rng.integers(0, len(stores), len(city)))
    pos = np.where(opened[pos] > t, oldest[city], pos)
    return stores["store_id"].to_numpy()[pos]


def status_as_of(o: pd.DataFrame, end: int) -> tuple[np.ndarray, np.ndarray]:
    """(status code, updated_at) of each order as of ``end`` (exclusive)."""
    status = np.full(len(o), PAID, dtype=np.int8)
    upd = o["ordered_at"].to_numpy().copy()
    for col, code in (("ship_at", SHIPPED), ("complete_at", COMPLETED), ("cancel_at", CANCELLED),
                      ("refund_at", REFUNDED)):
        at = o[col].to_numpy()
        hit = (at != NULL) & (at < end) & (at >= upd)
        status[hit] = code
        upd[hit] = at[hit]
    return status, upd


# --------------------------------------------------------------------------- items and amounts

def make_items(rng: np.random.Generator, products: pd.DataFrame, orders: pd.DataFrame, first_item_id: int,
               sink: Callable[[pa.Table], object], chunk: int = 500_000) -> tuple[int, np.ndarray, np.ndarray]:
    """Order items in stored form, handed to ``sink`` chunk by chunk; returns the number of items
    and each order's (total_amount, discount_amount) in cents.

    Sum over the items of quantity * unit_price = total_amount + discount_amount, exactly.
    """
    pid = products["product_id"].to_numpy()
    pop = products["popularity"].to_numpy()
    old, new, change = (products[c].to_numpy() for c in ("old_cents", "price_cents", "change_at"))
    n = len(orders)
    total = np.empty(n, dtype=np.int64)
    discount = np.empty(n, dtype=np.int64)
    next_id = first_item_id
    ordered = orders["ordered_at"].to_numpy()
    oid = orders["order_id"].to_numpy()
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        m = e - s
        k = 1 + np.minimum(rng.poisson(1.5, m), 7)
        oi = np.repeat(np.arange(m), k)
        p = rng.choice(len(pid), len(oi), p=pop)
        qty = rng.choice([1, 2, 3, 4, 5], len(oi), p=[0.70, 0.20, 0.07, 0.02, 0.01])
        t = ordered[s:e][oi]
        price = np.where((change[p] != NULL) & (t < change[p]), old[p], new[p])
        promo = rng.random(len(oi)) < 0.15
        price = np.where(promo, np.round(price * rng.uniform(0.8, 0.95, len(oi))).astype(np.int64), price)
        price = np.maximum(price, 1)
        starts = np.r_[0, np.cumsum(k)[:-1]]
        gross = np.add.reduceat(qty * price, starts)
        u = rng.random(m)
        pct = np.round(gross * rng.uniform(0.03, 0.2, m)).astype(np.int64)
        coupon = rng.choice([1000, 2000, 5000], m)
        disc = np.where(u < 0.2, pct, np.where((u < 0.3) & (gross > 2 * coupon), coupon, 0))
        total[s:e] = gross - disc
        discount[s:e] = disc
        ids = np.arange(next_id, next_id + len(oi))
        next_id += len(oi)
        sink(pa.table({
            "order_item_id": pa.array(ids), "order_id": pa.array(oid[s:e][oi]), "product_id": pa.array(pid[p]),
            "quantity": pa.array(qty), "unit_price": money_text(price), "updated_at": ts_text(t),
        }))
    return next_id - first_item_id, total, discount


# --------------------------------------------------------------------------- referrals

def referral_code(customer_id: np.ndarray) -> np.ndarray:
    """A unique 8-character code per customer (bijective in the id)."""
    x = (np.asarray(customer_id, dtype=np.int64) * 7_919) % (36**6)
    digits = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"), dtype=object)
    out = np.full(len(x), "RF", dtype=object)
    for p in range(5, -1, -1):
        out = out + digits[(x // 36**p) % 36]
    return out


PROMOTER_INVITE_SHARE = 0.6
PROMOTER_WINDOW = 90 * DAY


def promoter_inviters(rng: np.random.Generator, cust: Customers, invited: np.ndarray, inviter: np.ndarray,
                      invitee: np.ndarray, promoters: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """The seeds' promoters recommend: for about PROMOTER_INVITE_SHARE of the invitations, the
    inviter becomes a customer who answered 9-10 in the PROMOTER_WINDOW before it (one drawn at
    random among those answers), when there is one registered before the invitation."""
    if promoters is None or len(promoters[0]) == 0:
        return inviter
    p_idx, p_t = promoters  # by answer time
    lo = np.searchsorted(p_t, invited - PROMOTER_WINDOW, "left")
    hi = np.searchsorted(p_t, invited, "left")
    pick = np.minimum(lo + (rng.random(len(invited)) * np.maximum(hi - lo, 1)).astype(np.int64), len(p_idx) - 1)
    cand = p_idx[pick]
    ok = (hi > lo) & (rng.random(len(invited)) < PROMOTER_INVITE_SHARE) & (cand != invitee) & (cust.reg[cand] < invited)
    return np.where(ok, cand, inviter)


def make_referrals(seed: int, cal: Calendar, cust: Customers, o: pd.DataFrame, rates: Rates,
                   promoters: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """Referrals as of the end, the referral codes put on orders, and the suspicious ones.
    ``promoters``: (customer index, answered_at) of the 9-10 answers, by time (promoter_inviters)."""
    rng = rng_for(seed, "referrals")
    n = cust.n
    cidx = o["cust_idx"].to_numpy()
    status = o["status"].to_numpy()
    t = o["ordered_at"].to_numpy()
    complete = o["complete_at"].to_numpy()
    not_cancelled = o["cancel_at"].to_numpy() == NULL
    # First non-cancelled order per customer (orders are sorted by time).
    nc = np.flatnonzero(not_cancelled)
    cu, first_pos = np.unique(cidx[nc], return_index=True)
    first_order = np.full(n, -1)
    first_order[cu] = nc[first_pos]
    ambassadors = np.flatnonzero(rng.random(n) < 0.10)
    # Referred newcomers.
    eligible = (cust.reg >= cal.start + 7 * DAY) & ~cust.late & (np.arange(n) > 0)
    referee = np.flatnonzero(eligible & (rng.random(n) < 0.06))
    k = np.searchsorted(ambassadors, referee)  # ambassadors registered earlier (ids follow registration)
    referee = referee[k > 0]
    k = k[k > 0]
    referrer = ambassadors[(rng.random(len(k)) * k).astype(np.int64)]
    invited = cust.reg[referee] - rng.integers(600, 10 * DAY, len(referee))
    invited = np.maximum(invited, cust.reg[referrer] + HOUR)
    ok = invited < cust.reg[referee]
    referee, referrer, invited = referee[ok], referrer[ok], invited[ok]
    referrer = promoter_inviters(rng, cust, invited, referrer, referee, promoters)
    cust.referee[referee] = True
    kind = np.full(len(referee), "", dtype=object)
    # Suspicious: the referee shares the referrer's phone or e-mail.
    n_susp = int(round(rates.suspicious_referral * len(referee)))
    if rates.suspicious_referral > 0:
        n_susp = max(n_susp, 2)
    perm = rng.permutation(len(referee))
    n_pick = min(n_susp, len(referee))
    half = n_pick // 2
    # the shared e-mails need a referrer with an e-mail: the second half prefers those
    rest = perm[half:]
    has_email = np.array([cust.email[referrer[j]] is not None for j in rest], dtype=bool)
    pick = np.concatenate([perm[:half], rest[has_email], rest[~has_email]])[:n_pick]
    for j in pick[:half]:
        cust.phone[referee[j]] = cust.phone[referrer[j]]
        kind[j] = "shared_phone"
    for j in pick[half:]:
        if cust.email[referrer[j]] is None:
            cust.phone[referee[j]] = cust.phone[referrer[j]]
            kind[j] = "shared_phone"
        else:
            cust.email[referee[j]] = cust.email[referrer[j]]
            kind[j] = "shared_email"
    fo = first_order[referee]
    rows = pd.DataFrame({
        "referrer": referrer, "referee": referee, "invited_at": invited, "first_pos": fo,
        "registered_at": cust.reg[referee], "kind": kind,
    })
    # Suspicious: an existing buyer "referred" after their first valid order.
    valid = not_cancelled & (status != REFUNDED)
    vpos = np.flatnonzero(valid)
    by_c = vpos[np.argsort(cidx[vpos], kind="stable")]  # grouped by customer, in time order
    gc = cidx[by_c]
    starts = np.flatnonzero(np.r_[True, gc[1:] != gc[:-1]])
    counts = np.diff(np.r_[starts, len(by_c)])
    two = starts[counts >= 2]
    cand_c = gc[two]
    keep = ~cust.referee[cand_c] & ~cust.late[cand_c]
    two, cand_c = two[keep], cand_c[keep]
    n_prior = max(int(round(rates.suspicious_referral * len(referee) / 2)), 1 if rates.suspicious_referral > 0 else 0)
    sel = np.sort(rng.permutation(len(two))[: min(5 * n_prior, len(two))])
    p1, p2, pc_ = by_c[two[sel]], by_c[two[sel] + 1], cand_c[sel]
    gap = t[p2] - t[p1]
    inv = t[p1] + HOUR + (rng.random(len(sel)) * np.maximum(gap - HOUR, 1)).astype(np.int64)
    ref = ambassadors[rng.integers(0, len(ambassadors), len(sel))]
    ok = (gap > 2 * HOUR) & (ref != pc_) & (cust.reg[ref] < inv)
    ok &= np.cumsum(ok) <= n_prior
    prior_rows = pd.DataFrame({"referrer": ref[ok], "referee": pc_[ok], "invited_at": inv[ok], "first_pos": p2[ok],
                               "registered_at": cust.reg[pc_[ok]], "kind": "prior_order"})
    rows = pd.concat([rows, prior_rows], ignore_index=True)
    m = len(rows)
    fo = rows["first_pos"].to_numpy().astype(np.int64)
    has_fo = fo >= 0
    fo_safe = np.maximum(fo, 0)
    fo_time = np.where(has_fo, t[fo_safe], NULL)
    done = has_fo & (complete[fo_safe] != NULL) & (complete[fo_safe] < cal.end)
    susp = rows["kind"].to_numpy() != ""
    rejected = (susp & (rng.random(m) < 0.5)) | (~susp & (rng.random(m) < 0.03))
    reg = rows["registered_at"].to_numpy()
    rejected_at = np.maximum(np.where(has_fo, fo_time, reg) + rng.integers(HOUR, 3 * DAY, m), reg + HOUR)
    rejected &= rejected_at < cal.end
    converted = done & ~rejected
    reward = np.where(converted, np.where(rng.random(m) < 0.9, 10_000, 15_000), NULL)
    rewarded = np.where(converted, complete[fo_safe], NULL)
    st = np.where(rejected, "rejected", np.where(converted, "converted", "registered"))
    upd = np.maximum.reduce([rows["invited_at"].to_numpy(), np.maximum(reg, rows["invited_at"].to_numpy()),
                             np.where(has_fo, fo_time, 0), np.where(converted, rewarded, 0),
                             np.where(rejected, rejected_at, 0)])
    out = pd.DataFrame({
        "referrer": rows["referrer"].to_numpy(), "referee": rows["referee"].to_numpy(),
        "invited_at": rows["invited_at"].to_numpy(), "first_pos": np.where(has_fo, fo, -1),
        "status": st, "reward": reward, "rewarded_at": rewarded, "updated_at": upd, "kind": rows["kind"].to_numpy(),
    })
    # Invitations nobody accepted (yet).
    n_inv = len(referee) // 2 + 1
    inv_ref = ambassadors[rng.integers(0, len(ambassadors), n_inv)]
    lo = np.maximum(cust.reg[inv_ref] + HOUR, cal.start)
    ok = lo < cal.end - HOUR
    inv_ref, lo = inv_ref[ok], lo[ok]
    inv_t = lo + (rng.random(len(lo)) * (cal.end - HOUR - lo)).astype(np.int64)
    inv_ref = promoter_inviters(rng, cust, inv_t, inv_ref, np.full(len(inv_t), -1), promoters)
    out = pd.concat([out, pd.DataFrame({
        "referrer": inv_ref, "referee": -1, "invited_at": inv_t, "first_pos": -1, "status": "invited",
        "reward": NULL, "rewarded_at": NULL, "updated_at": inv_t, "kind": "",
    })], ignore_index=True)
    out = out.sort_values(["invited_at", "referrer"], kind="stable").reset_index(drop=True)
    out.insert(0, "referral_id", np.arange(1, len(out) + 1))
    out["channel"] = np.array(vocab.REFERRAL_CHANNELS, dtype=object)[
        rng.choice(len(vocab.REFERRAL_CHANNELS), len(out), p=vocab.REFERRAL_CHANNEL_P)]
    out["code"] = referral_code(cust.id[out["referrer"].to_numpy()])
    susp_list = [{"referral_id": int(r.referral_id), "kind": r.kind, "status": r.status}
                 for r in out[out["kind"] != ""].itertuples(index=False)]
    return out, susp_list


# --------------------------------------------------------------------------- points

def care_gift_points(rng: np.random.Generator, ctype: np.ndarray) -> np.ndarray:
    """Points a treated member gets with a touch: birthday 100, points bonus 20/50/100."""
    return np.where(ctype == "birthday_gift", 100, rng.choice([20, 50, 100], len(ctype)))


def make_points(seed: int, cal: Calendar, cust: Customers, members: pd.DataFrame, o: pd.DataFrame,
                touches: pd.DataFrame, referrals: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The points ledger as of the end, and the order plan for points of later completions.

    Returns (ledger, order_points) where order_points has member_id/points per order (NULL/0
    when the order earns nothing) for the transitions after the end.
    """
    rng = rng_for(seed, "points")
    cidx = o["cust_idx"].to_numpy()
    t = o["ordered_at"].to_numpy()
    mid = member_at(members, cust, cidx, t)
    pts = np.where(mid != NULL, o["total_cents"].to_numpy() // 1000, 0)
    earn = (mid != NULL) & (pts > 0)
    comp = o["complete_at"].to_numpy()
    refund = o["refund_at"].to_numpy()
    parts = []
    got = earn & (comp != NULL) & (comp < cal.end)
    parts.append(pd.DataFrame({"member_id": mid[got], "occurred_at": comp[got], "points": pts[got],
                               "reason": "purchase", "order_id": o["order_id"].to_numpy()[got]}))
    rev = got & (refund != NULL) & (refund < cal.end)
    parts.append(pd.DataFrame({"member_id": mid[rev], "occurred_at": refund[rev], "points": -pts[rev],
                               "reason": "adjust", "order_id": o["order_id"].to_numpy()[rev]}))
    # Redeem at some later visits: at most 60% of what was earned since the last redemption.
    pur = parts[0].sort_values(["member_id", "occurred_at"], kind="stable")
    cum = pur.groupby("member_id")["points"].cumsum().to_numpy()
    sel = rng.random(len(pur)) < 0.25
    red = pur[sel].copy()
    red["cum"] = cum[sel]
    red["prev"] = red.groupby("member_id")["cum"].shift(1, fill_value=0)
    red["points"] = -((0.6 * (red["cum"] - red["prev"])) // 100 * 100).astype(np.int64)
    red["occurred_at"] = red["occurred_at"] + rng.integers(DAY, 30 * DAY, len(red))
    red = red[(red["points"] <= -100) & (red["occurred_at"] < cal.end)]
    parts.append(pd.DataFrame({"member_id": red["member_id"].to_numpy(), "occurred_at": red["occurred_at"].to_numpy(),
                               "points": red["points"].to_numpy(), "reason": "redeem", "order_id": NULL}))
    # Care gifts for treated members (birthday gift, points bonus).
    tr = touches[touches["treat"] & touches["ctype"].isin(["birthday_gift", "points_bonus"])]
    tm = member_at(members, cust, tr["cust_idx"].to_numpy(), tr["touched_at"].to_numpy())
    gift = care_gift_points(rng, tr["ctype"].to_numpy())
    ok = tm != NULL
    parts.append(pd.DataFrame({"member_id": tm[ok], "occurred_at": tr["touched_at"].to_numpy()[ok] + 1,
                               "points": gift[ok], "reason": "care_gift", "order_id": NULL}))
    # Referral rewards for member referrers.
    conv = referrals[referrals["status"] == "converted"]
    rm = member_at(members, cust, conv["referrer"].to_numpy(), conv["rewarded_at"].to_numpy())
    ok = rm != NULL
    parts.append(pd.DataFrame({"member_id": rm[ok], "occurred_at": conv["rewarded_at"].to_numpy()[ok] + 1,
                               "points": REFERRAL_REWARD_POINTS, "reason": "referral_reward", "order_id": NULL}))
    # Goodwill adjustments by customer service.
    mm = members.sample(frac=0.02, random_state=rng.integers(2**31)) if len(members) else members
    lo = np.maximum(mm["joined_at"].to_numpy(), cal.start)
    adj_t = lo + (rng.random(len(mm)) * np.maximum(cal.end - 1 - lo, 1)).astype(np.int64)
    parts.append(pd.DataFrame({"member_id": mm["member_id"].to_numpy(), "occurred_at": adj_t,
                               "points": rng.choice([50, 100, 200], len(mm)), "reason": "adjust", "order_id": NULL}))
    ledger = pd.concat(parts, ignore_index=True)
    # Expiry of 30% of the balance for some members on a 1 January.
    jan1 = [int(cal.day_start[i]) for i, d in enumerate(cal.dates) if d.month == 1 and d.day == 1]
    if jan1 and len(ledger):
        srt = ledger.sort_values(["occurred_at", "member_id"], kind="stable")
        exp_m = rng.choice(members["member_id"].to_numpy(), max(1, len(members) // 12), replace=False)
        exp_t = np.array(jan1)[rng.integers(0, len(jan1), len(exp_m))] + rng.integers(0, 3600, len(exp_m))
        probe = pd.DataFrame({"member_id": exp_m, "occurred_at": exp_t}).sort_values("occurred_at", kind="stable")
        srt = srt.assign(balance=srt.groupby("member_id")["points"].cumsum())
        hit = pd.merge_asof(probe, srt[["member_id", "occurred_at", "balance"]], on="occurred_at", by="member_id",
                            allow_exact_matches=False)
        hit["points"] = -(0.3 * hit["balance"].fillna(0)).astype(np.int64)
        hit = hit[hit["points"] < 0]
        ledger = pd.concat([ledger, pd.DataFrame({"member_id": hit["member_id"].to_numpy(),
                                                  "occurred_at": hit["occurred_at"].to_numpy(),
                                                  "points": hit["points"].to_numpy(), "reason": "expire",
                                                  "order_id": NULL})], ignore_index=True)
    ledger = ledger[ledger["occurred_at"] < cal.end]
    ledger = ledger.sort_values(["occurred_at", "member_id", "reason"], kind="stable").reset_index(drop=True)
    ledger.insert(0, "entry_id", np.arange(1, len(ledger) + 1))
    order_points = pd.DataFrame({"order_id": o["order_id"].to_numpy(), "member_id": np.where(earn, mid, NULL),
                                 "points": np.where(earn, pts, 0)})
    return ledger, order_points


# --------------------------------------------------------------------------- stored forms

def stores_table(stores: pd.DataFrame) -> pa.Table:
    return pa.table({"store_id": pa.array(stores["store_id"].to_numpy()), "store_name": pa.array(stores["store_name"]),
                     "city": pa.array(stores["city"]), "opened_at": date_text(stores["opened_days"].to_numpy()),
                     "updated_at": ts_text(stores["updated_at"].to_numpy())})


def products_table(p: pd.DataFrame) -> pa.Table:
    return pa.table({"product_id": pa.array(p["product_id"].to_numpy()), "product_name": pa.array(p["product_name"]),
                     "category": pa.array(p["category"]), "list_price": money_text(p["price_cents"].to_numpy()),
                     "updated_at": ts_text(p["updated_at"].to_numpy())})


def customers_table(c: Customers, rows: np.ndarray | None = None) -> pa.Table:
    r = np.arange(c.n) if rows is None else rows
    gender = np.array(["F", "M", None], dtype=object)[c.gender[r]]
    return pa.table({
        "customer_id": pa.array(c.id[r]), "name": pa.array(c.name[r], pa.string()),
        "phone": pa.array(c.phone[r], pa.string()), "email": pa.array(c.email[r], pa.string()),
        "gender": pa.array(gender, pa.string()), "birth_date": date_text(c.birth[r]),
        "city": pa.array(np.array(vocab.CITY_NAMES, dtype=object)[c.city[r]], pa.string()),
        "registered_at": ts_text(c.reg[r]),
        "signup_channel": pa.array(np.array(vocab.CHANNELS, dtype=object)[c.channel[r]], pa.string()),
        "updated_at": ts_text(c.upd[r]),
    })


def orders_table(o: pd.DataFrame, cust_ids: np.ndarray) -> pa.Table:
    return pa.table({
        "order_id": pa.array(o["order_id"].to_numpy()), "customer_id": pa.array(cust_ids[o["cust_idx"].to_numpy()]),
        "store_id": int_array(o["store_id"].to_numpy()),
        "channel": pa.array(np.array(vocab.CHANNELS, dtype=object)[o["channel"].to_numpy()], pa.string()),
        "status": pa.array(np.array(STATUSES, dtype=object)[o["status"].to_numpy()], pa.string()),
        "total_amount": money_text(o["total_cents"].to_numpy()),
        "discount_amount": money_text(o["discount_cents"].to_numpy()),
        "referral_code": pa.array(o["referral_code"].to_numpy(dtype=object, na_value=None), pa.string()),
        "ordered_at": ts_text(o["ordered_at"].to_numpy()), "updated_at": ts_text(o["updated_at"].to_numpy()),
    })


def memberships_table(m: pd.DataFrame) -> pa.Table:
    return pa.table({
        "member_id": pa.array(m["member_id"].to_numpy()), "customer_id": pa.array(m["customer_id"].to_numpy()),
        "tier": pa.array(np.array(vocab.TIERS, dtype=object)[m["tier"].to_numpy()], pa.string()),
        "status": pa.array(np.array(["active", "frozen", "cancelled"], dtype=object)[m["status"].to_numpy()],
                           pa.string()),
        "joined_at": ts_text(m["joined_at"].to_numpy()), "cancelled_at": ts_text(m["cancelled_at"].to_numpy()),
        "updated_at": ts_text(m["updated_at"].to_numpy()),
    })


def points_table(p: pd.DataFrame) -> pa.Table:
    return pa.table({
        "entry_id": pa.array(p["entry_id"].to_numpy()), "member_id": pa.array(p["member_id"].to_numpy()),
        "occurred_at": ts_text(p["occurred_at"].to_numpy()), "points": pa.array(p["points"].to_numpy()),
        "reason": pa.array(p["reason"].to_numpy(dtype=object), pa.string()),
        "order_id": int_array(p["order_id"].to_numpy()), "updated_at": ts_text(p["occurred_at"].to_numpy()),
    })


def referrals_table(r: pd.DataFrame, cust_ids: np.ndarray, order_ids: np.ndarray) -> pa.Table:
    referee = r["referee"].to_numpy()
    fp = r["first_pos"].to_numpy()
    return pa.table({
        "referral_id": pa.array(r["referral_id"].to_numpy()),
        "referrer_customer_id": pa.array(cust_ids[r["referrer"].to_numpy()]),
        "referral_code": pa.array(r["code"].to_numpy(dtype=object), pa.string()),
        "channel": pa.array(r["channel"].to_numpy(dtype=object), pa.string()),
        "invited_at": ts_text(r["invited_at"].to_numpy()),
        "referee_customer_id": int_array(np.where(referee >= 0, cust_ids[np.maximum(referee, 0)], NULL)),
        "first_order_id": int_array(np.where(fp >= 0, order_ids[np.maximum(fp, 0)], NULL)),
        "status": pa.array(r["status"].to_numpy(dtype=object), pa.string()),
        "reward_amount": money_text(r["reward"].to_numpy()), "rewarded_at": ts_text(r["rewarded_at"].to_numpy()),
        "updated_at": ts_text(r["updated_at"].to_numpy()),
    })


def campaigns_table(c: pd.DataFrame) -> pa.Table:
    return pa.table({
        "campaign_id": pa.array(c["campaign_id"].to_numpy()), "campaign_name": pa.array(c["campaign_name"]),
        "campaign_type": pa.array(c["campaign_type"]), "channel": pa.array(c["channel"]),
        "start_date": date_text(c["start_date"].to_numpy()), "end_date": date_text(c["end_date"].to_numpy()),
        "fixed_cost": money_text(c["fixed_cost"].to_numpy()), "updated_at": ts_text(c["updated_at"].to_numpy()),
    })


def touches_table(t: pd.DataFrame) -> pa.Table:
    return pa.table({
        "touch_id": pa.array(t["touch_id"].to_numpy()), "campaign_id": pa.array(t["campaign_id"].to_numpy()),
        "customer_id": pa.array(t["customer_id"].to_numpy()),
        "assigned_group": pa.array(np.where(t["treat"].to_numpy(), "treatment", "holdout").astype(object), pa.string()),
        "touched_at": ts_text(t["touched_at"].to_numpy()), "touch_cost": money_text(t["touch_cost"].to_numpy()),
        "responded_at": ts_text(t["responded_at"].to_numpy()), "updated_at": ts_text(t["updated_at"].to_numpy()),
    })
