"""Helpers of the dbt tests: a landed demo warehouse, dbt runs, and mart snapshots to compare."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from loyalty.config import DBT_PROJECT_DIR

MARTS = (
    "mart_recommendation", "mart_repurchase", "mart_churn", "mart_complaints", "mart_care_campaign_roi",
    "mart_referrals", "mart_membership", "mart_customer_360", "mart_cohort_retention", "mart_nps_value",
)
FACTS = ("fct_orders", "fct_order_items", "fct_points", "fct_survey_responses", "fct_tickets")
SHOP_AND_SURVEYS = (
    "stores", "products", "customers", "orders", "order_items", "memberships", "points_ledger", "referrals",
    "care_campaigns", "care_touches", "survey_responses",
)
PII_KEY = "dbt-test-pii-key"


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def data_env(data_dir: Path, warehouse: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("LOYALTY_SOURCES_DIR", "LOYALTY_SURVEY_INBOX", "LOYALTY_RAW_DIR", "LOYALTY_SERVING"):
        env.pop(var, None)
    env.update({
        "LOYALTY_DATA_DIR": str(data_dir),
        "LOYALTY_WAREHOUSE": str(warehouse or data_dir / "warehouse" / "loyalty.duckdb"),
        "LOYALTY_PII_KEY": PII_KEY,
    })
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc.stdout


_TICKETS_SCRIPT = r"""
import json, sys
from datetime import date, datetime
from loyalty.config import Settings
from loyalty.extract.night import Night
from loyalty.extract.tickets import land_tickets

class JsonlClient:  # serves tickets.jsonl like the API would (ascending updated_at)
    def __init__(self, path): self.path = path
    def iter_pages(self, since):
        rows = [json.loads(l) for l in open(self.path, encoding="utf-8") if l.strip()]
        rows = [r for r in rows if datetime.fromisoformat(r["updated_at"]) >= since]
        rows.sort(key=lambda r: r["updated_at"])
        for i in range(0, len(rows), 500):
            yield rows[i:i + 500]

s = Settings.from_env()
land_tickets(s, Night.for_business_date(date.fromisoformat(sys.argv[1])), JsonlClient(s.tickets_jsonl))
"""


def land_night(data_dir: Path, business_date: str) -> None:
    """Land every source of one night (tickets straight from the simulator's JSONL) and register raw."""
    env = data_env(data_dir)
    tables = [a for t in SHOP_AND_SURVEYS for a in ("--table", t)]
    run([_bin("loyalty"), "land", "--date", business_date, *tables], env)
    run([_bin("python"), "-c", _TICKETS_SCRIPT, business_date], env)
    run([_bin("loyalty"), "register-raw"], env)


def generate(data_dir: Path, end_date: str, seed: int = 7) -> None:
    run([_bin("loyalty"), "generate", "--scale", "small", "--seed", str(seed), "--end-date", end_date],
        data_env(data_dir))


def advance(data_dir: Path, days: int = 1) -> None:
    run([_bin("loyalty"), "advance", "--days", str(days)], data_env(data_dir))


def dbt(command: str, business_date: str, env: dict[str, str], *extra: str, target_path: Path | None = None,
        project_dir: Path = DBT_PROJECT_DIR) -> str:
    """``dbt <command>`` for one night, the way the DAG runs it: the night in environment
    variables (``night_env``), not ``--vars``."""
    from loyalty.config import night_env

    args = [_bin("dbt"), command, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir), *extra]
    if target_path is not None:
        args += ["--target-path", str(target_path), "--log-path", str(target_path / "logs")]
    from loyalty.warehouse.pii import dbt_environment

    night = night_env(business_date, loaded_at=f"{business_date} 16:00:00")
    target = extra[extra.index("--target") + 1] if "--target" in extra else "duckdb"
    secret = dbt_environment(env.get("LOYALTY_PII_KEY") or PII_KEY, target)
    return run(args, {**env, **night, **secret}, cwd=project_dir)


def _norm(v: Any) -> Any:
    if isinstance(v, (Decimal, float)):
        return round(float(v), 6)
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    return v


def snapshot_duckdb(warehouse: Path, tables: tuple[str, ...] = MARTS, schema: str = "marts",
                    exclude: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row of each table, sorted; ``exclude`` leaves columns out (e.g. ``_loaded_at`` and
    ``_batch_id``, which say when a row was last recomputed)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    cols = f"* exclude ({', '.join(exclude)})" if exclude else "*"
    try:
        return {t: sorted(tuple(_norm(v) for v in r) for r in con.execute(f"select {cols} from {schema}.{t}").fetchall())
                for t in tables}
    finally:
        con.close()


def batch_shares(warehouse: Path, tables: tuple[str, ...] = MARTS, where: str = "true") -> dict[str, dict[str, int]]:
    """Rows per ``_batch_id`` (the night that last recomputed them) of each mart."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {t: dict(con.execute(f"select _batch_id, count(*) from marts.{t} where {where} group by 1").fetchall())
                for t in tables}
    finally:
        con.close()


def snapshot_postgres(dsn: str, tables: tuple[str, ...] = MARTS, schema: str = "marts") -> dict[str, list[tuple]]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return {t: sorted(tuple(_norm(v) for v in r) for r in conn.execute(f"select * from {schema}.{t}").fetchall())
                for t in tables}


def diff(a: list[tuple], b: list[tuple], tolerance: float = 1.5e-6) -> list[str]:
    """Row-by-row differences between two sorted snapshots. Numbers are equal within 1.5e-6:
    values are rounded to 6 places, and DuckDB and PostgreSQL round an exact tie of a double
    differently (half-even vs half-away), so a tie may differ by one unit in the 6th place."""
    problems: list[str] = []
    if len(a) != len(b):
        problems.append(f"row counts differ: {len(a)} vs {len(b)}")
    for ra, rb in zip(a, b, strict=False):
        for va, vb in zip(ra, rb, strict=True):
            same = (abs(va - vb) <= tolerance) if isinstance(va, float) and isinstance(vb, float) else va == vb
            if not same:
                problems.append(f"{ra} != {rb}")
                break
        if len(problems) > 5:
            break
    return problems


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst)
