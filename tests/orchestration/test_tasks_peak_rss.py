"""The peak RSS a task logs (``@measured``, read by ``make bench``) covers what the task did.

A landing task runs in a fresh process on a tiny hand-made shop database; its extraction is the
real one, wrapped to also hold a buffer of known size once it has landed. The peak RSS the task
logs must include that buffer: a figure logged before the extraction (as when ``@measured``
decorated the helper ``_kept`` instead of ``land_shop_table``) cannot.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

BUFFER_MB = 256

CHILD = r"""
import json, logging, re, sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

logging.basicConfig(level=logging.INFO, stream=sys.stdout)
from loyalty.extract import shop
from loyalty.orchestration import tasks

buffer_mb = int(sys.argv[1])
real_extract_table = shop.extract_table


def status_mb(field):  # VmRSS (now) or VmHWM (the peak since the last reset), as the task reads it
    return int(re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M).group(1)) / 1024


def extract_then_hold_a_buffer(*args, **kwargs):
    record = real_extract_table(*args, **kwargs)
    size = buffer_mb * 2**20
    buffer = bytearray(size)
    buffer[::4096] = b"\x01" * len(range(0, size, 4096))  # touch every page: resident, not just reserved
    print("EXTRACTED", json.dumps({"peak_rss_mb": status_mb("VmHWM")}), flush=True)
    del buffer
    return record


shop.extract_table = extract_then_hold_a_buffer
before = status_mb("VmRSS")
night = datetime(2026, 11, 21, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # the run that loads 2026-11-20
record = tasks.land_shop_table("stores", night, False)
print("RESULT", json.dumps({"peak_rss_before_mb": before, "rows_landed": record["rows_landed"]}), flush=True)
"""


def _tiny_shop(path: Path) -> str:
    con = sqlite3.connect(path)
    con.execute("create table stores (store_id integer primary key, store_name text, city text, opened_at text, "
                "updated_at text)")
    con.executemany("insert into stores values (?, ?, ?, ?, ?)", [
        (1, "Store 1", "上海", "2020-01-01", "2026-11-20 03:00:00"),
        (2, "Store 2", "北京", "2021-06-01", "2026-11-20 04:00:00"),
    ])
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_a_landing_task_logs_a_peak_that_covers_its_extraction(tmp_path: Path) -> None:
    url = _tiny_shop(tmp_path / "shop.sqlite")
    env = {**os.environ, "LOYALTY_DATA_DIR": str(tmp_path / "data"), "LOYALTY_SHOP_DB_URL": url,
           "AIRFLOW_CONN_LOYALTY_SHOP_DB": json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "shop.sqlite")})}
    for var in ("LOYALTY_SOURCES_DIR", "LOYALTY_RAW_DIR", "LOYALTY_WAREHOUSE", "LOYALTY_SERVING"):
        env.pop(var, None)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(BUFFER_MB)], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    result = json.loads(re.search(r"^RESULT (.*)$", out, re.M).group(1))  # type: ignore[union-attr]
    extracted = json.loads(re.search(r"^EXTRACTED (.*)$", out, re.M).group(1))  # type: ignore[union-attr]
    assert result["rows_landed"] == 2  # the real extraction ran on the tiny source

    # Airflow's logging takes over once it is imported: match the message, whatever the format
    logged = [(m.group(1), float(m.group(2))) for m in re.finditer(r"(\w+): peak RSS (\d+) MB", out)]
    assert [name for name, _ in logged] == ["land_shop_table"], (
        f"the landing task should log its peak RSS once, as land_shop_table, when it ends; it logged {logged}\n{out}")
    peak = logged[0][1]
    # the buffer was resident on top of what the process held when the task started
    assert peak >= result["peak_rss_before_mb"] + 0.9 * BUFFER_MB, (result, extracted, logged)
    assert peak >= extracted["peak_rss_mb"] - 1  # and the figure is at least the high-water mark after extraction


def test_every_task_function_the_dag_calls_is_measured() -> None:
    """``@measured`` sits on the task functions themselves (functools.wraps leaves ``__wrapped__``),
    not on helpers they call first."""
    from loyalty.orchestration import tasks

    measured = ("check_config", "land_shop_table", "land_surveys", "land_tickets", "raw_gate", "retention",
                "mart_gate", "publish", "audit_report")
    assert [name for name in measured if not hasattr(getattr(tasks, name), "__wrapped__")] == []
    assert not hasattr(tasks._kept, "__wrapped__"), "_kept runs before the extraction: a peak logged there misses it"
