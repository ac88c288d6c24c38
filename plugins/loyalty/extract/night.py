"""A night of the nightly load: which business day it covers and its UTC window.

The DAG runs at 02:00 business time for the *previous* business day D. The night's
data interval is ``[D 00:00, D+1 00:00)`` in the business time zone, in UTC; its batch
id is ``D`` as ``YYYY-MM-DD``. Everything a task reads or writes is keyed by it, so
re-running a night replaces exactly that night's slice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Night:
    business_date: date
    start_utc: datetime  # aware, UTC
    end_utc: datetime  # aware, UTC (exclusive)
    business_tz: str = "Asia/Shanghai"

    @property
    def batch_id(self) -> str:
        return self.business_date.isoformat()

    @property
    def start_naive(self) -> datetime:
        return self.start_utc.astimezone(UTC).replace(tzinfo=None)

    @property
    def end_naive(self) -> datetime:
        return self.end_utc.astimezone(UTC).replace(tzinfo=None)

    @classmethod
    def for_business_date(cls, business_date: date, business_tz: str = "Asia/Shanghai") -> Night:
        tz = ZoneInfo(business_tz)
        start = datetime.combine(business_date, time(0), tzinfo=tz)
        end = datetime.combine(business_date + timedelta(days=1), time(0), tzinfo=tz)
        return cls(business_date, start.astimezone(UTC), end.astimezone(UTC), business_tz)

    @classmethod
    def for_run(cls, logical_date: datetime, business_tz: str = "Asia/Shanghai") -> Night:
        """The night a run at ``logical_date`` (02:00 business time) loads: the day before."""
        local = logical_date.astimezone(ZoneInfo(business_tz))
        return cls.for_business_date(local.date() - timedelta(days=1), business_tz)

    @classmethod
    def from_batch_id(cls, batch_id: str, business_tz: str = "Asia/Shanghai") -> Night:
        return cls.for_business_date(date.fromisoformat(batch_id), business_tz)
