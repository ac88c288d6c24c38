"""The ``loyalty`` command line: one entry point for every job of the project.

Each sub-package contributes its sub-commands through ``add_commands(subparsers)`` in its
own ``cli.py``; run ``loyalty --help`` for the full list.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Sub-packages that contribute commands, in the order they appear in --help.
_COMMAND_MODULES = (
    "loyalty.generator.cli",
    "loyalty.ticket_api.cli",
    "loyalty.extract.cli",
    "loyalty.warehouse.cli",
    "loyalty.quality.cli",
    "loyalty.pipeline_cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loyalty",
        description="Customer-loyalty data warehouse: demo sources, nightly load, quality gates, publishing.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # that part of the project is not there (yet)
            raise
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
