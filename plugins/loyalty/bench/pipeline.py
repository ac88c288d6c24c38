"""Pipeline benchmark (``make bench SCALE=small|medium|large``): the nights users run, measured
three ways on the same sources, a full first night and an incremental night each:

- ``stages``: the DAG's stages called in one process per night, in the DAG's order (the floor);
- ``dag_test``: the same nights as real DAG runs with ``dag.test()`` (``loyalty run-night``);
- ``scheduler``: the same nights under the real scheduler: api-server, scheduler, dag-processor
  and triggerer as processes, LocalExecutor, PostgreSQL metadata DB (as the native deployment
  test runs it), wall time from the REST API trigger to the run's success.

It prints the overhead ratio DAG wall / stages, the dbt incremental/full ratio, the gates'
share and peak RSS (the stages' process; every task's own under the scheduler), as text and as
JSON (also written to ``bench-results/pipeline-<scale>-<time>.json``). Figures, not asserts.

Every mode starts from a copy of the same generated sources (a PostgreSQL shop DB is cloned
from a template database per mode), so the three see the same rows.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

END = date(2026, 11, 21)
ADMIN_DSN = os.environ.get("LOYALTY_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MODES = ("stages", "dag_test", "scheduler")
# The scheduler mode is measured as a worker with 4 GiB runs it, configured as docs/HOWTO.md says:
# dbt's DuckDB limited to the worker's memory less 1 GiB (LOYALTY_DBT_MEMORY_LIMIT; set it to
# measure another). DuckDB's own default in such a container, 80% of it (3276MiB), leaves the
# task's Python too little: the large full build's task peaked at 4,102 MB with it (DECISIONLOG)
WORKER_DUCKDB_MEMORY_LIMIT = "3GB"
# what the old-customer marts add to a build (issue 24): these models and nothing else
OLD_CUSTOMER_MODELS = ("int_customer_cohorts", "int_dirty_cohorts", "int_dirty_response_months",
                       "mart_cohort_retention", "mart_nps_value")


def _pg(db: str) -> str:
    return ADMIN_DSN.rsplit("/", 1)[0] + "/" + db


def _pg_exec(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(sql)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- sources -------------------------------------------------------------------------------
def pristine_sources(base: Path, scale: str, source: str) -> tuple[Path, str | None]:
    """Generated once per scale and source kind, then copied for every mode."""
    from loyalty.generator import generate

    src = base / f"sources-{scale}-{source}"
    template = f"loyalty_bench_shop_{scale}" if source == "postgres" else None
    if not (src / "state.json").exists():
        shutil.rmtree(src, ignore_errors=True)
        url = None
        if template:
            _pg_exec(f"drop database if exists {template} with (force)")
            _pg_exec(f"create database {template}")
            url = _pg(template)
        t0 = time.perf_counter()
        generate(src, scale=scale, seed=1, end_date=END, shop_db_url=url)
        print(f"  sources generated ({scale}, shop DB {source}) in {time.perf_counter() - t0:.1f}s")
    return src, template


def mode_root(base: Path, mode: str, src: Path, template: str | None) -> tuple[Path, str | None]:
    root = base / f"run-{mode}"
    shutil.rmtree(root, ignore_errors=True)
    (root / "data").mkdir(parents=True)
    shutil.copytree(src, root / "data" / "sources", symlinks=True)
    url = None
    if template:
        db = f"loyalty_bench_{mode}"
        _pg_exec(f"drop database if exists {db} with (force)")
        _pg_exec(f"create database {db} template {template}")
        url = _pg(db)
    return root, url


def _point_env_at(root: Path, shop_url: str | None) -> None:
    data = root / "data"
    os.environ["LOYALTY_DATA_DIR"] = str(data)
    os.environ["LOYALTY_WAREHOUSE"] = str(data / "warehouse" / "loyalty.duckdb")
    os.environ.pop("LOYALTY_SERVING", None)
    os.environ.setdefault("LOYALTY_PII_KEY", "bench-pii-key")
    if shop_url:
        os.environ["LOYALTY_SHOP_DB_URL"] = shop_url
    else:
        os.environ.pop("LOYALTY_SHOP_DB_URL", None)


# --- mode 1: the stages in one process (loyalty.orchestration.stages) -----------------------


def _child_stages(root: str, day: str, shop_url: str, full: str) -> None:
    """One night's stages in this fresh process. The heavy imports are done first, untimed, as
    the scheduler deployment does them once for every task (loyalty.orchestration.preload): the
    stages' figures are the night's work, not Python's imports (GX alone is ~3 s)."""
    os.environ.setdefault("AIRFLOW_HOME", str(Path(root) / "airflow-stages"))
    import loyalty.orchestration.preload  # noqa: F401
    from loyalty.config import Settings
    from loyalty.orchestration.stages import stages_night
    from loyalty.ticket_api.server import TicketApiServer

    _point_env_at(Path(root), shop_url or None)
    settings = Settings.from_env()
    token = "bench-token"
    with TicketApiServer(settings.tickets_jsonl, token) as server:
        res = stages_night(date.fromisoformat(day), full=full == "full", shop_url=shop_url or settings.default_shop_db_url,
                           tickets_url=server.url, token=token)
    print(json.dumps(res))


def _child(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "loyalty.bench.pipeline", *args], capture_output=True, text=True,
                          check=False)
    last = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not last:
        raise RuntimeError(f"{args[0]} {args[2:]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return dict(json.loads(last[-1]))


def run_stages(root: Path, shop_url: str | None) -> dict[str, Any]:
    from loyalty.generator import advance

    out = {"full": _child(["_stages", str(root), END.isoformat(), shop_url or "", "full"])}
    advance(root / "data" / "sources", days=1, shop_db_url=shop_url)
    out["incremental"] = _child(["_stages", str(root), (END + timedelta(days=1)).isoformat(), shop_url or "", "incr"])
    return out


# --- mode 2: dag.test() --------------------------------------------------------------------
def _child_dag_test(root: str, day: str, shop_url: str) -> None:
    """One ``loyalty run-night`` (dag.test) in this fresh process; prints its figures as JSON.
    The heavy imports are done first and timed apart (``preload_s``), as for the stages and as
    the scheduler's forkserver does them: ``dag_test_s`` is the night's run, not Python's imports."""
    _point_env_at(Path(root), shop_url or None)
    os.environ["AIRFLOW_HOME"] = str(Path(root) / "airflow-dagtest")
    from loyalty.orchestration.runner import prepare_environment, run_night, setup_airflow

    prepare_environment()  # Airflow's settings, before anything imports airflow
    t0 = time.perf_counter()
    import loyalty.orchestration.preload  # noqa: F401

    preload_s = time.perf_counter() - t0
    if not (Path(root) / "airflow-dagtest" / "airflow.db").exists():
        setup_airflow()
    t1 = time.perf_counter()
    state = run_night(date.fromisoformat(day))
    t2 = time.perf_counter()
    print(json.dumps({"state": state, "dag_test_s": round(t2 - t1, 3), "preload_s": round(preload_s, 3),
                      "setup_s": round(t1 - t0 - preload_s, 3),
                      "peak_rss_mb": round(_rss_mb())}))


def run_dag_test(root: Path, shop_url: str | None) -> dict[str, Any]:
    from loyalty.generator import advance

    out = {}
    for kind, day in (("full", END), ("incremental", END + timedelta(days=1))):
        if kind == "incremental":
            advance(root / "data" / "sources", days=1, shop_db_url=shop_url)
        t0 = time.perf_counter()
        res = _child(["_dagtest", str(root), day.isoformat(), shop_url or ""])
        if not str(res["state"]).endswith("success"):
            raise RuntimeError(f"dag.test night {day} ended {res['state']}")
        res["process_wall_s"] = round(time.perf_counter() - t0, 3)
        out[kind] = res
    return out


# --- mode 3: the real scheduler ------------------------------------------------------------
def _task_rss(home: Path, run_id: str) -> dict[str, float]:
    """Every task's own peak RSS, from the line each task logs when it ends (loyalty.orchestration.tasks)."""
    out: dict[str, float] = {}
    for f in (home / "logs").glob(f"dag_id=loyalty_nightly/run_id={run_id}/task_id=*/**/*.log"):
        for line in f.read_text(errors="replace").splitlines():
            if "peak RSS" in line:
                try:
                    event = json.loads(line)["event"]
                    mb = float(event.split("peak RSS ")[1].split(" MB")[0].replace(",", ""))
                except (ValueError, KeyError, IndexError):
                    continue
                task = f.relative_to(home / "logs").parts[2].removeprefix("task_id=")
                mi = f.parent.name if f.parent.name.startswith("map_index=") else ""
                key = task + (f"[{mi.removeprefix('map_index=')}]" if mi else "")
                out[key] = max(out.get(key, 0.0), mb)
    return out


def run_scheduler(root: Path, shop_url: str | None) -> dict[str, Any]:
    from loyalty.config import Settings
    from loyalty.generator import advance
    from loyalty.orchestration.deployment import NativeDeployment
    from loyalty.orchestration.runner import DEMO_TOKEN, parse_dbt
    from loyalty.ticket_api.server import TicketApiServer

    _point_env_at(root, shop_url)
    settings = Settings.from_env()
    parse_dbt()
    db = f"loyalty_bench_af_{uuid.uuid4().hex[:8]}"
    _pg_exec(f"create database {db}")
    server = TicketApiServer(settings.tickets_jsonl, DEMO_TOKEN)
    server.start()
    host, port = server.url.split("://", 1)[1].rstrip("/").split(":")
    shop_conn = (shop_url or json.dumps({"conn_type": "sqlite", "host": str(settings.sources_dir / "shop.sqlite")}))
    extra = {
        "AIRFLOW_CONN_LOYALTY_SHOP_DB": shop_conn,
        "AIRFLOW_CONN_LOYALTY_TICKETS_API": json.dumps(
            {"conn_type": "http", "host": host, "port": int(port), "schema": "http", "password": DEMO_TOKEN}),
        "LOYALTY_DBT_MEMORY_LIMIT": os.environ.get("LOYALTY_DBT_MEMORY_LIMIT", WORKER_DUCKDB_MEMORY_LIMIT),
    }
    out: dict[str, Any] = {"dbt_memory_limit": extra["LOYALTY_DBT_MEMORY_LIMIT"]}
    dep = NativeDeployment(home=root / "airflow", metadata_db_url=_pg(db), extra_env=extra)
    try:
        with dep:
            dep.wait_ready()
            for kind, day in (("full", END), ("incremental", END + timedelta(days=1))):
                if kind == "incremental":
                    advance(settings.sources_dir, days=1, shop_db_url=shop_url)
                logical = f"{day.isoformat()}T18:00:00Z"  # 02:00 Asia/Shanghai the next day
                t0 = time.perf_counter()
                run_id = dep.trigger(logical)
                state = dep.wait_for_run(run_id, timeout=7200)
                wall = time.perf_counter() - t0
                timings = dep.task_timings(run_id)
                if state != "success":
                    bad = [(t["task_id"], t["state"]) for t in timings["tasks"] if t["state"] != "success"]
                    raise RuntimeError(f"scheduler night {day} ended {state}: {bad}\n{dep.tails()}")
                rss = _task_rss(dep.home, run_id)
                tasks = sorted(((t["duration"] or 0.0, t["task_id"] + (f"[{t['map_index']}]" if t["map_index"] >= 0
                                                                         else "")) for t in timings["tasks"]),
                               reverse=True)
                seconds = {n: d for d, n in tasks}
                out[kind] = {"wall_s": round(wall, 3), "run_wall_s": round(timings["wall_s"] or 0.0, 3),
                             "timeline": timeline(timings),
                             # every task that runs in a worker: seconds and peak RSS (the per-model
                             # tasks end in the triggerer: their count and total seconds only)
                             "tasks": [(n, round(seconds.get(n, 0.0), 2), round(rss.get(n, 0.0)))
                                       for n in sorted(seconds, key=lambda n: -seconds[n])
                                       if not (n.startswith("dbt.") and n != "dbt.dbt_build")],
                             "model_tasks": [sum(1 for n in seconds if n.startswith("dbt.") and n != "dbt.dbt_build"),
                                             round(sum(v for n, v in seconds.items()
                                                       if n.startswith("dbt.") and n != "dbt.dbt_build"), 1)],
                             "slowest_tasks": [(n, round(d, 2)) for d, n in tasks[:6]],
                             "task_peak_rss_mb": {k: round(v) for k, v in sorted(rss.items(), key=lambda kv: -kv[1])[:6]},
                             "max_task_peak_rss_mb": round(max(rss.values(), default=0.0))}
    finally:
        server.stop()
        _pg_exec(f"drop database if exists {db} with (force)")
    return out


def timeline(timings: dict[str, Any]) -> list[tuple[str, float, float]]:
    """The tasks other than the per-model ones: (task, start, end) in seconds from the run's start."""
    from datetime import datetime

    def ts(v: str | None) -> datetime | None:
        return datetime.fromisoformat(v.replace("Z", "+00:00")) if v else None

    tasks = [t for t in timings["tasks"] if not (t["task_id"].startswith("dbt.") and t["task_id"] != "dbt.dbt_build")]
    starts = [ts(t["start"]) for t in timings["tasks"] if t["start"]]
    t0 = min(s for s in starts if s is not None) if starts else None
    out = []
    for t in sorted(tasks, key=lambda t: t["start"] or ""):
        a, b = ts(t["start"]), ts(t["end"])
        if t0 and a and b:
            name = t["task_id"] + (f"[{t['map_index']}]" if t["map_index"] >= 0 else "")
            out.append((name, round((a - t0).total_seconds(), 2), round((b - t0).total_seconds(), 2)))
    models = [t for t in timings["tasks"] if t["task_id"].startswith("dbt.") and t["task_id"] != "dbt.dbt_build"]
    ends = [ts(t["end"]) for t in models if t["end"]]
    if t0 and ends:
        out.append(("(last model task)", 0.0, round((max(e for e in ends if e) - t0).total_seconds(), 2)))
    return out


# --- the report ----------------------------------------------------------------------------
def summarize(res: dict[str, Any]) -> dict[str, Any]:
    s: dict[str, Any] = {}
    st = res.get("stages", {})
    for kind in ("full", "incremental"):
        floor = st.get(kind, {}).get("total")
        if not floor:
            continue
        row: dict[str, Any] = {"stages_s": floor}
        if kind in res.get("dag_test", {}):
            row["dag_test_s"] = res["dag_test"][kind]["dag_test_s"]
            row["dag_test_over_stages"] = round(row["dag_test_s"] / floor, 2)
        if kind in res.get("scheduler", {}):
            row["scheduler_s"] = res["scheduler"][kind]["wall_s"]
            row["scheduler_over_stages"] = round(row["scheduler_s"] / floor, 2)
        row["gate_share"] = round(st[kind]["gate_share"], 3)
        s[kind] = row
    if "full" in st and "incremental" in st:
        s["dbt_incremental_over_full"] = round(st["incremental"]["dbt_build"] / st["full"]["dbt_build"], 3)
    return s


def run(scale: str, *, modes: tuple[str, ...] = MODES, source: str | None = None) -> dict[str, Any]:
    source = source or ("postgres" if scale == "large" else "sqlite")
    base = Path(os.environ.get("LOYALTY_BENCH_DIR") or Path(tempfile.gettempdir()) / "loyalty-bench")
    base.mkdir(parents=True, exist_ok=True)
    print(f"== pipeline benchmark, scale {scale}, shop DB on {source}, in {base} ==")
    src, template = pristine_sources(base, scale, source)
    res: dict[str, Any] = {"scale": scale, "shop_db": source}
    runners = {"stages": run_stages, "dag_test": run_dag_test, "scheduler": run_scheduler}
    for mode in modes:
        root, url = mode_root(base, mode, src, template)
        t0 = time.perf_counter()
        res[mode] = runners[mode](root, url)
        print(f"  {mode:10s} ({time.perf_counter() - t0:.0f}s): {json.dumps(res[mode])}")
    if scale == "large" and source == "postgres" and "stages" in modes:
        res["sqlite_landing"] = sqlite_landing(base, scale)
    res["summary"] = summarize(res)
    print_table(res)
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    path = out / f"pipeline-{scale}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(res, indent=1))
    print(f"  (JSON: {path})")
    return {"pipeline": res}


def sqlite_landing(base: Path, scale: str) -> dict[str, Any]:
    """The same first night's landing from the SQLite shop file, for comparison."""
    from loyalty import contracts
    from loyalty.config import Settings
    from loyalty.extract.night import Night
    from loyalty.extract.shop import extract_table

    src, _ = pristine_sources(base, scale, "sqlite")
    root, _ = mode_root(base, "sqlite-landing", src, None)
    _point_env_at(root, None)
    settings = Settings.from_env()
    t0 = time.perf_counter()
    for table in contracts.SHOP_TABLES:
        extract_table(settings, table, Night.for_business_date(END), settings.default_shop_db_url, full_refresh=True)
    return {"shop_tables_s": round(time.perf_counter() - t0, 3)}


def print_table(res: dict[str, Any]) -> None:
    s = res["summary"]
    print(f"\n  night        stages   dag.test  (ratio)   scheduler (ratio)   gates' share   [{res['scale']}, targets: "
          "ratios <= 1.3, gates <= 15%]")
    for kind in ("full", "incremental"):
        r = s.get(kind)
        if not r:
            continue
        print(f"  {kind:11s} {r['stages_s']:7.1f}s  {r.get('dag_test_s', float('nan')):7.1f}s "
              f"({r.get('dag_test_over_stages', float('nan')):.2f})   {r.get('scheduler_s', float('nan')):7.1f}s "
              f"({r.get('scheduler_over_stages', float('nan')):.2f})   {r['gate_share']:.1%}")
    st = res.get("stages", {})
    if "dbt_incremental_over_full" in s:
        print(f"  dbt build: full {st['full']['dbt_build']:.1f}s, incremental {st['incremental']['dbt_build']:.1f}s, "
              f"ratio {s['dbt_incremental_over_full']:.2f}")
    for kind in ("full", "incremental"):
        if kind in st:
            stage_s = {k: v for k, v in st[kind].items()
                       if k in ("land", "raw_gate", "register_raw", "dbt_build", "dbt_docs", "mart_gate", "publish",
                                "audit_report")}
            print(f"  {kind} stages: {stage_s}; stages' process peak RSS {st[kind]['peak_rss_mb']:,} MB")
        if kind in res.get("scheduler", {}):
            sc = res["scheduler"][kind]
            print(f"  {kind} under the scheduler: wall {sc['wall_s']:.1f}s; largest task peak RSS "
                  f"{sc['max_task_peak_rss_mb']:,} MB (dbt's DuckDB memory limit "
                  f"{res['scheduler'].get('dbt_memory_limit', 'default')}, as in a 4 GiB worker); "
                  "task by task (seconds, peak RSS):")
            for name, sec, mb in sc.get("tasks", []):
                print(f"    {name:28s} {sec:8.1f}s {mb:8,} MB")
            if sc.get("model_tasks"):
                print(f"    + {sc['model_tasks'][0]} per-model tasks (ended by the triggerer), {sc['model_tasks'][1]}s in all")
    for kind in ("full", "incremental"):  # where the dbt build's time goes, by model
        profile = st.get(kind, {}).get("dbt_model_s") or {}
        if profile:
            slowest = sorted(profile.items(), key=lambda kv: -kv[1])[:12]
            old_customers = sum(v for k, v in profile.items() if k in OLD_CUSTOMER_MODELS)
            print(f"  {kind} dbt profile: models {sum(profile.values()):.1f}s, tests {st[kind].get('dbt_tests_s', 0):.1f}s; "
                  f"old-customer models {old_customers:.1f}s; slowest: "
                  + ", ".join(f"{k} {v:.1f}s" for k, v in slowest))
    if "sqlite_landing" in res:
        print(f"  landing the shop tables from SQLite instead: {res['sqlite_landing']['shop_tables_s']:.1f}s")


# issue 27's targets, by scale: (label, how to read it off a scale's results, the bound, unit)
TARGETS: dict[str, list[tuple[str, Any, float, str]]] = {
    "small": [
        ("incremental night: dag.test / stages", lambda s, r: s.get("incremental", {}).get("dag_test_over_stages"), 1.3, "x"),
        ("incremental night: scheduler / stages", lambda s, r: s.get("incremental", {}).get("scheduler_over_stages"), 1.3, "x"),
    ],
    "medium": [
        ("dbt build: incremental / full", lambda s, r: s.get("dbt_incremental_over_full"), 0.35, "x"),
        ("incremental night: dag.test / stages", lambda s, r: s.get("incremental", {}).get("dag_test_over_stages"), 1.3, "x"),
        ("incremental night: scheduler / stages", lambda s, r: s.get("incremental", {}).get("scheduler_over_stages"), 1.3, "x"),
    ],
    "large": [
        ("full night in-process (stages)", lambda s, r: s.get("full", {}).get("stages_s"), 240.0, "s"),
        ("incremental night in-process (stages)", lambda s, r: s.get("incremental", {}).get("stages_s"), 45.0, "s"),
        ("dbt build: incremental / full", lambda s, r: s.get("dbt_incremental_over_full"), 0.15, "x"),
        ("full night under the scheduler: largest task peak RSS",
         lambda s, r: r.get("scheduler", {}).get("full", {}).get("max_task_peak_rss_mb"), 4096.0, "MB"),
        ("incremental night under the scheduler: largest task peak RSS",
         lambda s, r: r.get("scheduler", {}).get("incremental", {}).get("max_task_peak_rss_mb"), 4096.0, "MB"),
    ],
}


def print_targets(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, Any, float, str, bool | None]]:
    """Every target's figure beside its target, for the scales run (one run: ratios taken together)."""
    rows = []
    for scale, res in results.items():
        for label, read, bound, unit in TARGETS.get(scale, []):
            value = read(res.get("summary", {}), res)
            rows.append((scale, label, value, bound, unit, None if value is None else value <= bound))
    print("\n  == targets (issue 27) ==")
    print(f"  {'scale':7s} {'figure':60s} {'measured':>10s} {'target':>10s}  met")
    for scale, label, value, bound, unit, met in rows:
        shown = "not run" if value is None else f"{value:,.2f}{unit}" if unit == "x" else f"{value:,.0f}{unit}" \
            if unit == "MB" else f"{value:,.1f}{unit}"
        target = f"<= {bound:g}{unit}"
        print(f"  {scale:7s} {label:60s} {shown:>10s} {target:>10s}  {'-' if met is None else 'yes' if met else 'NO'}")
    return rows


def main(argv: list[str]) -> int:
    if argv and argv[0] == "_dagtest":
        _child_dag_test(argv[1], argv[2], argv[3])
        return 0
    if argv and argv[0] == "_stages":
        _child_stages(argv[1], argv[2], argv[3], argv[4])
        return 0
    import argparse

    p = argparse.ArgumentParser(prog="python -m loyalty.bench.pipeline")
    p.add_argument("--scale", default="small", choices=["small", "medium", "large"])
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--source", choices=["sqlite", "postgres"], default=None)
    a = p.parse_args(argv)
    res = run(a.scale, modes=tuple(m for m in a.modes.split(",") if m), source=a.source)
    print_targets({a.scale: res["pipeline"]})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
