"""Shared pieces of the demo generator: scales, mess rates, random streams, the business
calendar and the vectorised text formatting of timestamps, dates and money.

Internal representation (every module): timestamps are ``int64`` epoch seconds UTC, money is
``int64`` cents, a NULL timestamp or id is ``NULL`` (the smallest int64).
"""

from __future__ import annotations

import logging
import time
import zlib
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

log = logging.getLogger("loyalty.generator")

NULL = np.iinfo(np.int64).min  # NULL timestamp / id inside int64 arrays
DAY = 86_400
HOUR = 3_600
GENERATOR_VERSION = 2
DEFAULT_END_DATE = date(2026, 11, 21)
HISTORY_DAYS = 730  # two years of history ending on the end date (inclusive)
SIDECAR_DIR = ".generator"  # the generator's own working state inside the output folder


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    orders: int
    stores: int
    products: int
    survey_responses: int
    tickets: int
    campaigns: int
    touch_share: float  # share of the customers a campaign targets (treatment + holdout)


SCALES: dict[str, Scale] = {
    # tiny: the smallest world that still has every kind of row and mess (the engine parity tests)
    "tiny": Scale("tiny", 400, 4_000, 8, 60, 800, 80, 6, 0.3),
    "small": Scale("small", 2_000, 20_000, 50, 300, 4_000, 400, 20, 0.15),
    "medium": Scale("medium", 100_000, 1_000_000, 200, 1_000, 200_000, 20_000, 30, 0.05),
    "large": Scale("large", 1_000_000, 10_000_000, 500, 3_000, 2_000_000, 200_000, 40, 0.03),
}


@dataclass(frozen=True)
class Rates:
    """Mess injected on purpose, at these rates; everything else is clean.

    Survey row defects are per data row; ``malformed_row`` (a truncated last record),
    ``bad_header`` and ``empty_file`` are per survey file. The kind names are the reason
    codes of ``loyalty.contracts.REASON_CODES`` / ``FILE_DEFECTS``. ``duplicate_row`` adds an
    exact copy of a line. ``late_arriving_customer`` is the share of new customers whose row
    arrives one business day after their first order; ``late_refund`` the share of completed
    orders refunded 2-7 months after they were placed. The last four are not defects but
    realistic variety, listed here so that they can be tuned too.
    """

    invalid_nps_score: float = 0.005
    invalid_submitted_at: float = 0.005
    duplicate_row: float = 0.005
    malformed_row: float = 0.005
    bad_header: float = 0.0
    empty_file: float = 0.0
    late_arriving_customer: float = 0.005
    late_refund: float = 0.005
    suspicious_referral: float = 0.03
    redelivery: float = 0.1
    bom: float = 0.2
    iso_submitted_at: float = 0.15

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Rates:
        names = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in d.items() if k in names})


SURVEY_ROW_DEFECTS = ("invalid_nps_score", "invalid_submitted_at", "malformed_row", "duplicate_row")
SURVEY_FILE_DEFECTS = ("bad_header", "empty_file")
SHOP_MESS = ("late_arriving_customer", "refund_flip")
DEFECT_KINDS = SURVEY_ROW_DEFECTS + SURVEY_FILE_DEFECTS + SHOP_MESS


def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """An independent, reproducible random stream per (seed, purpose...)."""
    words = [seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF] + [zlib.crc32(str(k).encode()) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(words))


class Timer:
    """Progress lines: ``<what>: <n> rows (<t> s)``."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.last = self.t0

    def lap(self, what: str, n: int | None = None) -> None:
        now = time.perf_counter()
        rows = f"{n:,} rows " if n is not None else ""
        log.info("%s: %s(%.1f s, total %.1f s)", what, rows, now - self.last, now - self.t0)
        self.last = now


# --------------------------------------------------------------------------- calendar

def local_midnight_utc(d: date, tz: str) -> int:
    return int(datetime.combine(d, dtime(0), tzinfo=ZoneInfo(tz)).astimezone(UTC).timestamp())


def day_window(d: date, tz: str) -> tuple[int, int]:
    """Business day ``d`` as ``[start, end)`` epoch seconds UTC."""
    return local_midnight_utc(d, tz), local_midnight_utc(d + timedelta(days=1), tz)


def local_date_of(t: int, tz: str) -> date:
    return datetime.fromtimestamp(int(t), ZoneInfo(tz)).date()


# Chinese New Year (demand dips around it): a fixed table is enough for a demo.
_CNY = {2022: date(2022, 2, 1), 2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29),
        2026: date(2026, 2, 17), 2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
        2030: date(2030, 2, 3)}
_SPIKES = {(11, 11): 3.0, (11, 10): 1.6, (11, 12): 1.4, (6, 18): 2.0, (6, 17): 1.4, (12, 12): 1.5, (3, 8): 1.3}


def day_weight(d: date) -> float:
    """Relative demand of a business day: weekends, shopping festivals, New Year dip, growth."""
    w = 1.0 + (0.2 if d.weekday() >= 5 else 0.0)
    w *= _SPIKES.get((d.month, d.day), 1.0)
    cny = _CNY.get(d.year) or _CNY.get(d.year + 1)
    for c in (cny, _CNY.get(d.year + 1)):
        if c is not None and -3 <= (d - c).days <= 6:
            w *= 0.55
    w *= 1.0 + 0.12 * ((d - date(2024, 1, 1)).days / 365.0)
    return w


# Local hour of day of shop activity (peaks at lunch and in the evening).
HOUR_P = np.array([0.4, 0.2, 0.1, 0.1, 0.1, 0.2, 0.6, 1.5, 3, 4.5, 6, 7, 7.5, 6, 5.5, 5.5, 5.5, 6, 6.5, 7.5, 8, 7, 4.5, 1.5])
HOUR_P = HOUR_P / HOUR_P.sum()


class Calendar:
    """The business days ``first..last`` (inclusive) and their demand weights."""

    def __init__(self, first: date, last: date, tz: str):
        self.first, self.last, self.tz = first, last, tz
        self.n_days = (last - first).days + 1
        self.dates = [first + timedelta(days=i) for i in range(self.n_days)]
        self.day_start = np.array([local_midnight_utc(first + timedelta(days=i), tz) for i in range(self.n_days + 1)],
                                  dtype=np.int64)
        self.weights = np.array([day_weight(d) for d in self.dates])
        self.cum = np.concatenate([[0.0], np.cumsum(self.weights)])

    @property
    def start(self) -> int:
        return int(self.day_start[0])

    @property
    def end(self) -> int:
        return int(self.day_start[-1])

    def day_index(self, t: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.day_start, t, side="right") - 1

    def position(self, t: np.ndarray) -> np.ndarray:
        """Cumulative demand weight up to time ``t`` (clipped to the calendar)."""
        t = np.clip(t, self.start, self.end)
        d = np.clip(self.day_index(t), 0, self.n_days - 1)
        frac = (t - self.day_start[d]) / (self.day_start[d + 1] - self.day_start[d])
        return self.cum[d] + frac * self.weights[d]

    def sample(self, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """One time in ``[lo, hi)`` per element, following day demand and the hour profile."""
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.asarray(hi, dtype=np.int64)
        u = rng.uniform(self.position(lo), self.position(hi))
        d = np.clip(np.searchsorted(self.cum, u, side="right") - 1, 0, self.n_days - 1)
        t = self.in_day(rng, d)
        bad = (t < lo) | (t >= hi)
        if bad.any():
            t[bad] = lo[bad] + (rng.random(int(bad.sum())) * (hi[bad] - lo[bad])).astype(np.int64)
        return t

    def in_day(self, rng: np.random.Generator, d: np.ndarray) -> np.ndarray:
        """A time inside business day index ``d`` following the hour profile."""
        d = np.asarray(d)
        length = self.day_start[d + 1] - self.day_start[d]
        hours = rng.choice(24, size=d.shape, p=HOUR_P) + rng.random(d.shape)
        return self.day_start[d] + (hours / 24.0 * length).astype(np.int64)


def times_in_window(rng: np.random.Generator, start: int, end: int, n: int) -> np.ndarray:
    """``n`` times inside ``[start, end)`` following the hour profile (one business day)."""
    hours = rng.choice(24, size=n, p=HOUR_P) + rng.random(n)
    return start + np.minimum((hours / 24.0 * (end - start)).astype(np.int64), end - start - 1)


# --------------------------------------------------------------------------- formatting

def _masked_ts(a: np.ndarray) -> pa.Array:
    a = np.asarray(a, dtype=np.int64)
    mask = a == NULL
    return pa.array(np.where(mask, 0, a), pa.timestamp("s"), mask=mask if mask.any() else None)


def ts_text(a: np.ndarray) -> pa.Array:
    """Epoch seconds -> ``'YYYY-MM-DD HH:MM:SS'`` (UTC), NULL stays NULL."""
    return _masked_ts(a).cast(pa.string())


def iso_z_text(a: np.ndarray) -> pa.Array:
    """Epoch seconds -> ``'YYYY-MM-DDTHH:MM:SSZ'``."""
    s = pc.replace_substring(ts_text(a), " ", "T")
    return pc.binary_join_element_wise(s, pa.scalar("Z"), "")


def date_text(days: np.ndarray) -> pa.Array:
    """Days since 1970-01-01 -> ``'YYYY-MM-DD'``; negative sentinel ``NULL`` -> NULL."""
    a = np.asarray(days, dtype=np.int64)
    mask = a == NULL
    return pa.array(np.where(mask, 0, a).astype(np.int32), pa.date32(), mask=mask if mask.any() else None).cast(
        pa.string()
    )


def money_text(cents: np.ndarray) -> pa.Array:
    """Cents -> ``'123.40'`` (exact decimal text), ``NULL`` -> NULL."""
    a = np.asarray(cents, dtype=np.int64)
    mask = a == NULL
    safe = np.where(mask, 0, a)
    neg = safe < 0
    absa = np.abs(safe)
    whole = pa.array(absa // 100).cast(pa.string())
    frac = pc.utf8_lpad(pa.array(absa % 100).cast(pa.string()), 2, "0")
    s = pc.binary_join_element_wise(whole, frac, ".")
    if neg.any():
        s = pc.if_else(pa.array(neg), pc.binary_join_element_wise(pa.scalar("-"), s, ""), s)
    if mask.any():
        s = pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), s)
    return s


def int_array(a: np.ndarray) -> pa.Array:
    a = np.asarray(a, dtype=np.int64)
    mask = a == NULL
    return pa.array(np.where(mask, 0, a), pa.int64(), mask=mask if mask.any() else None)


def epoch_days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def parse_ts_text(values: list | np.ndarray) -> np.ndarray:
    """DB timestamps (``'YYYY-MM-DD HH:MM:SS'`` text or naive ``datetime``, UTC) -> epoch seconds;
    None/NaN -> NULL."""
    import pandas as pd

    ser = pd.Series(list(values), dtype=object)
    mask = ser.isna().to_numpy()
    out = np.full(len(ser), NULL, dtype=np.int64)
    if (~mask).any():
        txt = ser[~mask].map(lambda v: v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else str(v)[:19])
        dt = pd.to_datetime(txt, format="%Y-%m-%d %H:%M:%S")
        out[~mask] = dt.to_numpy().astype("datetime64[s]").astype(np.int64)
    return out


def ts_to_text(t: int) -> str:
    return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%d %H:%M:%S")
