"""``loyalty register-raw | setup-airflow | run-night | backfill | demo``: the pipeline's commands:
the register step of the night's build by itself, the local Airflow's set-up, one night, a range
of nights, the demo."""

from __future__ import annotations

import argparse
import json
import logging
from datetime import date, timedelta

log = logging.getLogger("loyalty")


def _date(s: str) -> date:
    return date.fromisoformat(s)


def _state_ok(state: str) -> bool:
    return state.lower().endswith("success")


def cmd_register(args: argparse.Namespace) -> int:
    """The register step of ``dbt.dbt_build`` without Airflow: the raw zone and the audit views,
    on the night's engine."""
    from loyalty.config import Settings
    from loyalty.quality.results import register_audit_views
    from loyalty.warehouse.engines import open_engine

    with open_engine(Settings.from_env()) as wh:
        counts = wh.register_raw(also=(register_audit_views,))
    for name, n in counts.items():
        print(f"raw.{name}: {n} rows")
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    from loyalty.orchestration.runner import setup_airflow

    setup_airflow()
    print("Airflow metadata DB migrated, pool loyalty_warehouse created, dbt manifest parsed.")
    return 0


def cmd_run_night(args: argparse.Namespace) -> int:
    from loyalty.orchestration.runner import run_night

    state = run_night(args.date, full_refresh=args.full_refresh)
    print(f"loyalty_nightly {args.date}: {state}")
    _print_outputs(args.date.isoformat())
    return 0 if _state_ok(state) else 1


def cmd_backfill(args: argparse.Namespace) -> int:
    from loyalty.orchestration.runner import run_night

    day = args.start
    while day <= args.end:
        state = run_night(day)
        print(f"loyalty_nightly {day}: {state}")
        if not _state_ok(state):
            return 1
        day += timedelta(days=1)
    return 0


def _print_outputs(batch_id: str) -> None:
    from loyalty.config import Settings

    s = Settings.from_env()
    report = s.audit_dir / "reports" / f"audit_{batch_id}.html"
    docs = s.data_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    print("\nOutputs:")
    print(f"  warehouse (DuckDB):        {s.warehouse_path}")
    print(f"  serving file for BI:       {s.serving_path}")
    print(f"  raw zone (Parquet):        {s.raw_dir}")
    print(f"  quarantine (Parquet):      {s.quarantine_dir}")
    print(f"  audit report:              {report}{'' if report.exists() else '  (not written)'}")
    morning = s.audit_dir / "morning" / f"morning_{batch_id}.html"
    evidence = s.audit_dir / "evidence" / f"evidence_{batch_id}.json"
    print(f"  morning report:            {morning}{'' if morning.exists() else '  (not written: not published)'}")
    print(f"  evidence manifest:         {evidence}{'' if evidence.exists() else '  (not written)'}"
          f"  (check: loyalty verify --night {batch_id})")
    lineage = s.audit_dir / "lineage" / f"batch_id={batch_id}" / "openlineage.jsonl"
    print(f"  lineage (OpenLineage):     {lineage}{'' if lineage.exists() else '  (not written)'}")
    print(f"  GX Data Docs:              {docs}{'' if docs.exists() else '  (not written)'}")
    print(f"  dbt docs (lineage):        {s.data_dir / 'dbt_docs' / 'static_index.html'}")


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate the small demo sources (if absent) and run the nightly DAG for their last day."""
    from loyalty.config import Settings
    from loyalty.orchestration.runner import run_night, setup_airflow

    s = Settings.from_env()
    state_file = s.sources_dir / "state.json"
    if args.regenerate or not state_file.exists():
        from loyalty.generator import generate

        generate(out=s.sources_dir, scale=args.scale, seed=args.seed, end_date=args.end_date)
    current = date.fromisoformat(json.loads(state_file.read_text())["current_date"])
    setup_airflow(s)
    state = run_night(current)
    print(f"loyalty_nightly {current}: {state}")
    _print_outputs(current.isoformat())
    return 0 if _state_ok(state) else 1


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("register-raw", help="expose (DuckDB) or load (PostgreSQL) the raw zone, ledger, quarantine as schema raw")
    p.set_defaults(func=cmd_register)
    p = sub.add_parser("setup-airflow", help="migrate the local Airflow DB, create the pool, parse dbt")
    p.set_defaults(func=cmd_setup)
    p = sub.add_parser("run-night", help="run the nightly DAG for one business date (a real dag.test run)")
    p.add_argument("--date", type=_date, required=True, help="business date YYYY-MM-DD")
    p.add_argument("--full-refresh", action="store_true")
    p.set_defaults(func=cmd_run_night)
    p = sub.add_parser("backfill", help="run the nightly DAG for every business date in a range, in order")
    p.add_argument("--start", type=_date, required=True)
    p.add_argument("--end", type=_date, required=True)
    p.set_defaults(func=cmd_backfill)
    p = sub.add_parser("demo", help="the main job: generate demo sources and run a full nightly load")
    p.add_argument("--scale", default="small", choices=["tiny", "small", "medium", "large"])
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--end-date", type=_date, default=date(2026, 11, 21))
    p.add_argument("--regenerate", action="store_true", help="regenerate the sources even if present")
    p.set_defaults(func=cmd_demo)
