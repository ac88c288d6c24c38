"""``loyalty publish`` and ``loyalty semantic-catalogue``: the warehouse's commands.

(``loyalty register-raw`` registers the audit views of the quality layer with the raw zone, as
the night's build does: it is in ``loyalty.orchestration.cli``.)
"""

from __future__ import annotations

import argparse


def cmd_publish(args: argparse.Namespace) -> int:
    from loyalty.config import Settings
    from loyalty.warehouse.publish import publish

    print(publish(Settings.from_env(), args.batch_id))
    return 0


def cmd_semantic_catalogue(args: argparse.Namespace) -> int:
    from pathlib import Path

    from loyalty.warehouse.semantic import catalogue_markdown

    text = catalogue_markdown()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(args.out)
    else:
        print(text, end="")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("publish", help="copy the marts and BI dimensions atomically into the serving file")
    p.add_argument("--batch-id", required=True)
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("semantic-catalogue", help="the metric catalogue (Markdown) generated from the semantic layer")
    p.add_argument("--out", help="write it to this file (docs/METRIC_CATALOGUE.md) instead of stdout")
    p.set_defaults(func=cmd_semantic_catalogue)
