"""``loyalty validate-raw | validate-marts | audit-report | report | verify``: the quality gates,
the night's reports and the check of its evidence, without Airflow."""

from __future__ import annotations

import argparse
import json
import sys


def cmd_validate_raw(args: argparse.Namespace) -> int:
    from loyalty import contracts
    from loyalty.config import Settings
    from loyalty.quality.gates import GateFailed, validate_raw_batch

    settings = Settings.from_env()
    tables = args.table or list(contracts.ALL_TABLES)
    failed = 0
    for name in tables:
        try:
            summary = validate_raw_batch(settings, name, args.batch_id)
            print(json.dumps({k: summary[k] for k in ("suite", "success", "expectations", "failed_warnings")}))
        except GateFailed as exc:
            failed += 1
            print(str(exc), file=sys.stderr)
    return 1 if failed else 0


def cmd_validate_marts(args: argparse.Namespace) -> int:
    from loyalty.config import Settings
    from loyalty.quality.gates import GateFailed, validate_marts

    try:
        summary = validate_marts(Settings.from_env(), args.batch_id)
    except GateFailed as exc:
        print(str(exc), file=sys.stderr)
        return 1
    for name, s in summary.items():
        print(json.dumps({"suite": name, "success": s["success"], "failed_warnings": s.get("failed_warnings", [])}))
    return 0


def cmd_audit_report(args: argparse.Namespace) -> int:
    from loyalty.config import Settings
    from loyalty.quality.evidence import manifest_path, sha256_file
    from loyalty.quality.report import build_audit_report
    from loyalty.warehouse.dbt_artifacts import merged_run_results

    settings = Settings.from_env()
    manifest = manifest_path(settings, args.batch_id)  # the night's own, never rewritten here
    evidence = (manifest, sha256_file(manifest)) if manifest.exists() else None
    print(build_audit_report(settings, args.batch_id, merged_run_results(settings, args.batch_id), evidence))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from loyalty.config import Settings
    from loyalty.quality.morning import NotPublished, build_morning_report

    try:
        print(build_morning_report(Settings.from_env(), args.night))
    except NotPublished as exc:
        print(f"error: {exc}")
        return 1
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from loyalty.config import Settings
    from loyalty.quality.evidence import manifest_path, sha256_file, verify

    settings = Settings.from_env()
    checks = verify(settings, args.night)
    manifest = manifest_path(settings, args.night)
    if manifest.exists():
        print(f"manifest {manifest} (sha256 {sha256_file(manifest)})")
    for c in checks:
        print(c.line())
    bad = [c for c in checks if c.status != "OK"]
    print(f"{len(checks) - len(bad)} of {len(checks)} items match" + (f"; {len(bad)} do not" if bad else ""))
    return 1 if bad else 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate-raw", help="run the raw quality gate (GX) on a landed night")
    p.add_argument("--batch-id", required=True, help="the night's batch id (business date YYYY-MM-DD)")
    p.add_argument("--table", action="append", help="a landed table (repeatable); default: all")
    p.set_defaults(func=cmd_validate_raw)

    p = sub.add_parser("validate-marts", help="run the mart quality gate (GX) on the warehouse")
    p.add_argument("--batch-id", required=True, help="the night's batch id (business date YYYY-MM-DD)")
    p.set_defaults(func=cmd_validate_marts)

    p = sub.add_parser("audit-report", help="write the night's HTML audit report")
    p.add_argument("--batch-id", required=True, help="the night's batch id (business date YYYY-MM-DD)")
    p.set_defaults(func=cmd_audit_report)

    p = sub.add_parser("report", help="rebuild the night's morning report (static HTML from the serving file)")
    p.add_argument("--night", required=True, help="the night (business date YYYY-MM-DD) the serving file holds")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("verify", help="recompute the night's evidence hashes (raw zone, quarantine, serving file); "
                                      "exit 1 on any difference")
    p.add_argument("--night", required=True, help="the night (business date YYYY-MM-DD)")
    p.set_defaults(func=cmd_verify)
