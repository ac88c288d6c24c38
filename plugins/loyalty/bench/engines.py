"""Engine benchmark (``make bench-engines SCALE=small|medium``): the same landed nights built by
``dbt build`` on DuckDB and on Spark (session mode, local PySpark), a full first night and an
incremental second night on each, timed as users run them (a ``dbt`` process per build,
Spark's JVM start included). Prints a table and JSON (``bench-results/engines-<scale>-<time>.json``),
and the Spark/DuckDB ratios taken in this one run. Figures, not asserts.

The demo sources are generated once; both nights are landed once (tickets read straight from
the simulator's JSONL, as the dbt tests do); each engine then registers the raw zone and
builds night 1 (full), registers night 2's batches and builds night 2 (incremental).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from loyalty.config import REPO_ROOT

D1 = date(2026, 11, 21)
ENGINES = ("duckdb", "spark")
TABLES = ("stores", "products", "customers", "orders", "order_items", "memberships", "points_ledger", "referrals",
          "care_campaigns", "care_touches", "survey_responses")


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _run(cmd: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def _land_tickets(day: str) -> None:
    """Land the tickets of ``day`` from the simulator's JSONL (the API serves the same rows)."""
    from loyalty.config import Settings
    from loyalty.extract.night import Night
    from loyalty.extract.tickets import land_tickets

    class JsonlClient:
        def __init__(self, path: Path) -> None:
            self.path = path

        def iter_pages(self, since: datetime) -> Any:
            rows = [json.loads(line) for line in self.path.open(encoding="utf-8") if line.strip()]
            rows = sorted((r for r in rows if datetime.fromisoformat(r["updated_at"]) >= since),
                          key=lambda r: r["updated_at"])
            for i in range(0, len(rows), 500):
                yield rows[i:i + 500]

    s = Settings.from_env()
    land_tickets(s, Night.for_business_date(date.fromisoformat(day)), JsonlClient(s.tickets_jsonl))


def _land(env: dict[str, str], day: str) -> None:
    _run([_bin("loyalty"), "land", "--date", day, *[a for t in TABLES for a in ("--table", t)]], env)
    _run([_bin("python"), "-m", "loyalty.bench.engines", "_tickets", day], env)


def _build(env: dict[str, str], engine: str, day: str, *, full: bool) -> dict[str, Any]:
    from loyalty.config import DBT_PROJECT_DIR, night_env
    from loyalty.warehouse.dbt_project import BUILD_FLAGS
    from loyalty.warehouse.pii import dbt_environment

    env = {**env, "LOYALTY_DBT_TARGET": engine, **night_env(day, loaded_at=f"{day} 16:00:00"),
           **dbt_environment(env["LOYALTY_PII_KEY"], engine)}
    t0 = time.perf_counter()
    _run([_bin("loyalty"), "register-raw"], env)
    register = time.perf_counter() - t0
    target = Path(env["LOYALTY_DATA_DIR"]) / f"target-{engine}"
    cmd = [_bin("dbt"), "build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target", engine, "--target-path", str(target), "--log-path", str(target / "logs"), *BUILD_FLAGS, "--quiet"]
    if full:
        cmd.append("--full-refresh")
    t0 = time.perf_counter()
    _run(cmd, env)
    build = time.perf_counter() - t0
    results = json.loads((target / "run_results.json").read_text())
    models = sum(r["unique_id"].startswith("model.") for r in results["results"])
    return {"register_s": round(register, 1), "build_s": round(build, 1), "dbt_elapsed_s": round(results["elapsed_time"], 1),
            "models": models, "tests": len(results["results"]) - models}


def run(scale: str) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"loyalty-bench-engines-{scale}-"))
    d2 = D1 + timedelta(days=1)
    out: dict[str, Any] = {"scale": scale, "root": str(root), "engines": {}}
    sources_env = {**os.environ, "LOYALTY_DATA_DIR": str(root / "sources-data"), "LOYALTY_PII_KEY": "bench-pii-key"}
    for v in ("LOYALTY_SOURCES_DIR", "LOYALTY_SURVEY_INBOX", "LOYALTY_RAW_DIR", "LOYALTY_SERVING", "LOYALTY_WAREHOUSE",
              "LOYALTY_SPARK_DIR", "LOYALTY_DBT_TARGET"):
        sources_env.pop(v, None)
    t0 = time.perf_counter()
    _run([_bin("loyalty"), "generate", "--scale", scale, "--seed", "7", "--end-date", D1.isoformat()], sources_env)
    out["generate_s"] = round(time.perf_counter() - t0, 1)
    for engine in ENGINES:
        # each engine lands the same generated sources into its own data dir (same rows)
        data = root / engine
        env = {**sources_env, "LOYALTY_DATA_DIR": str(data),
               "LOYALTY_WAREHOUSE": str(data / "warehouse" / "loyalty.duckdb"),
               "LOYALTY_SPARK_DIR": str(data / "warehouse" / "spark")}
        shutil.copytree(root / "sources-data" / "sources", data / "sources")
        _land(env, D1.isoformat())
        night1 = _build(env, engine, D1.isoformat(), full=True)
        _run([_bin("loyalty"), "advance", "--days", "1"], env)
        _land(env, d2.isoformat())
        night2 = _build(env, engine, d2.isoformat(), full=False)
        out["engines"][engine] = {"full": night1, "incremental": night2}
        print(f"  {engine}: full build {night1['build_s']} s (register {night1['register_s']} s), "
              f"incremental {night2['build_s']} s (register {night2['register_s']} s)", flush=True)
    e = out["engines"]
    out["spark_over_duckdb"] = {k: round(e["spark"][k]["build_s"] / e["duckdb"][k]["build_s"], 2)
                                for k in ("full", "incremental")}
    return out


def print_table(res: dict[str, Any]) -> None:
    print(f"\ndbt build by engine, scale {res['scale']} (one run; wall time of the dbt process, JVM start included)")
    print(f"{'engine':8} {'night':12} {'register s':>10} {'build s':>8} {'dbt elapsed s':>13} {'models':>6} {'tests':>5}")
    for engine, nights in res["engines"].items():
        for night, r in nights.items():
            print(f"{engine:8} {night:12} {r['register_s']:>10} {r['build_s']:>8} {r['dbt_elapsed_s']:>13} "
                  f"{r['models']:>6} {r['tests']:>5}")
    print("Spark / DuckDB build time: " + ", ".join(f"{k} {v}x" for k, v in res["spark_over_duckdb"].items()))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_tickets":
        _land_tickets(argv[1])
        return 0
    p = argparse.ArgumentParser(prog="python -m loyalty.bench.engines")
    p.add_argument("--scale", default="small", choices=["tiny", "small", "medium", "large"])
    args = p.parse_args(argv)
    res = run(args.scale)
    print_table(res)
    folder = REPO_ROOT / "bench-results"
    folder.mkdir(exist_ok=True)
    path = folder / f"engines-{args.scale}-{datetime.now().strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(res, indent=1))
    print(f"\n{json.dumps(res, indent=1)}\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
