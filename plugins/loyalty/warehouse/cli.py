"""``loyalty register-raw`` and ``loyalty publish``: the warehouse steps without Airflow."""

from __future__ import annotations

import argparse


def cmd_register(args: argparse.Namespace) -> int:
    from loyalty.config import Settings
    from loyalty.quality.results import register_audit_views
    from loyalty.warehouse.engines import open_engine

    with open_engine(Settings.from_env()) as wh:
        counts = wh.register_raw(also=(register_audit_views,))
    for name, n in counts.items():
        print(f"raw.{name}: {n} rows")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from loyalty.config import Settings
    from loyalty.warehouse.publish import publish

    print(publish(Settings.from_env(), args.batch_id))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("register-raw", help="expose (DuckDB) or load (PostgreSQL) the raw zone, ledger, quarantine as schema raw")
    p.set_defaults(func=cmd_register)
    p = sub.add_parser("publish", help="copy the marts and BI dimensions atomically into the serving file")
    p.add_argument("--batch-id", required=True)
    p.set_defaults(func=cmd_publish)
