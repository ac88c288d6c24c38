"""The ``loyalty`` command line: one entry point for every job of the project.

Each layer's package holds its own commands in its ``cli.py`` (``add_commands(subparsers)``);
this module only puts them together, lowest layer first, which is their order in ``--help``:

- ``loyalty.generator.cli``: ``generate``, ``advance``; ``loyalty.ticket_api.cli``: ``serve-tickets``
- ``loyalty.extract.cli``: ``land``
- ``loyalty.warehouse.cli``: ``publish``, ``semantic-catalogue``
- ``loyalty.quality.cli``: ``validate-raw``, ``validate-marts``, ``audit-report``, ``report``, ``verify``
- ``loyalty.orchestration.cli``: ``register-raw``, ``setup-airflow``, ``run-night``, ``backfill``, ``demo``

The benchmarks are not commands of it: ``python -m loyalty.bench`` (``loyalty.bench``).
"""

from __future__ import annotations

import argparse
import logging
import sys

from loyalty.extract import cli as extract_cli
from loyalty.generator import cli as generator_cli
from loyalty.orchestration import cli as orchestration_cli
from loyalty.quality import cli as quality_cli
from loyalty.ticket_api import cli as ticket_api_cli
from loyalty.warehouse import cli as warehouse_cli

# in the order they appear in --help
COMMAND_MODULES = (generator_cli, ticket_api_cli, extract_cli, warehouse_cli, quality_cli, orchestration_cli)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loyalty",
        description="Customer-loyalty data warehouse: demo sources, nightly load, quality gates, publishing.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    result = args.func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
