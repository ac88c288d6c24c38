"""``loyalty generate`` and ``loyalty advance``: the demo source systems."""

from __future__ import annotations

import argparse
from dataclasses import fields
from datetime import date
from pathlib import Path

from loyalty.generator.core import DEFAULT_END_DATE, SCALES, Rates


def _rates_from_args(args: argparse.Namespace) -> Rates:
    values = {f.name: getattr(args, f"rate_{f.name}") for f in fields(Rates)}
    return Rates(**values)


def cmd_generate(args: argparse.Namespace) -> int:
    from loyalty.generator.full import generate

    m = generate(args.out, scale=args.scale, seed=args.seed, end_date=args.end_date, shop_db_url=args.shop_db_url,
                 rates=_rates_from_args(args), bad_files=args.bad_files)
    print(f"generated {m['scale']} sources {m['start_date']}..{m['end_date']} (seed {m['seed']})")
    print("rows:", ", ".join(f"{k}={v:,}" for k, v in m["row_counts"].items()))
    print("defects:", ", ".join(f"{k}={v}" for k, v in m["defect_counts"].items()))
    return 0


def cmd_advance(args: argparse.Namespace) -> int:
    from loyalty.generator.daily import advance

    m = advance(args.out, days=args.days, shop_db_url=args.shop_db_url, bad_file=args.bad_file)
    d = m["days"][m["current_date"]]
    print(f"advanced to {m['current_date']}")
    print("new:", ", ".join(f"{k}={v}" for k, v in d["new"].items() if v))
    print("updated:", ", ".join(f"{k}={v}" for k, v in d["updated"].items() if v))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="generate the demo sources: shop DB, survey inbox, tickets JSONL, manifest")
    p.add_argument("--scale", choices=sorted(SCALES), default="small")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--end-date", type=date.fromisoformat, default=DEFAULT_END_DATE,
                   help="last business date of the two years of history (default %(default)s)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: Settings.sources_dir)")
    p.add_argument("--shop-db-url", default=None, help="SQLAlchemy URL of the shop DB (default: sqlite file in --out)")
    defaults = Rates()
    for f in fields(Rates):
        p.add_argument(f"--rate-{f.name.replace('_', '-')}", dest=f"rate_{f.name}", type=float,
                       default=getattr(defaults, f.name), metavar="P", help=f"(default {getattr(defaults, f.name)})")
    p.add_argument("--bad-files", action="store_true",
                   help="make the survey file of the day before the end date empty and the last one's header wrong")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("advance", help="append the next business day(s) of changes to the demo sources")
    p.add_argument("--out", type=Path, default=None, help="the generated folder (default: Settings.sources_dir)")
    p.add_argument("--shop-db-url", default=None,
                   help="the shop DB (default: LOYALTY_SHOP_DB_URL, else the one generation used)")
    p.add_argument("--days", type=int, default=1)
    p.add_argument("--bad-file", choices=["bad_header", "empty_file"], default=None,
                   help="make each new day's survey file bad (tests of the failing night)")
    p.set_defaults(func=cmd_advance)
