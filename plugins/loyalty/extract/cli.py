"""``loyalty land …``: land one night of one or all sources without Airflow (debugging, scripts)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import date


def cmd_land(args: argparse.Namespace) -> int:
    from loyalty import contracts
    from loyalty.config import Settings
    from loyalty.extract.night import Night

    settings = Settings.from_env()
    night = Night.for_business_date(args.date, settings.business_tz)
    tables = args.table or [*contracts.SHOP_TABLES, "survey_responses", "tickets"]
    for name in tables:
        if name in contracts.SHOP_TABLES:
            from loyalty.extract.shop import extract_table, resolve_shop_db_url

            url = args.shop_db_url or resolve_shop_db_url(settings=settings)
            rec = extract_table(settings, name, night, url, full_refresh=args.full_refresh)
        elif name == "survey_responses":
            from loyalty.extract.surveys import land_surveys

            rec = land_surveys(settings, night, full_refresh=args.full_refresh)
        elif name == "tickets":
            from loyalty.extract.tickets import land_tickets
            from loyalty.extract.tickets_client import TicketsApiClient, client_from_airflow_connection

            client = (
                TicketsApiClient(args.tickets_url, args.tickets_token)
                if args.tickets_url
                else client_from_airflow_connection("loyalty_tickets_api")
            )
            rec = land_tickets(settings, night, client, full_refresh=args.full_refresh)
        else:
            raise SystemExit(f"unknown table {name!r}; one of {', '.join(contracts.ALL_TABLES)}")
        print(json.dumps({k: v for k, v in asdict(rec).items() if k != "files"}))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("land", help="extract and land one night of one or all sources into the raw zone")
    p.add_argument("--date", type=date.fromisoformat, required=True, help="business date YYYY-MM-DD")
    p.add_argument("--table", action="append", help="a table (repeatable); default: all")
    p.add_argument("--full-refresh", action="store_true", help="ignore the watermark, take everything")
    p.add_argument("--shop-db-url", help="SQLAlchemy URL; default: the loyalty_shop_db connection or the demo SQLite")
    p.add_argument("--tickets-url", help="tickets API base URL; default: the loyalty_tickets_api connection")
    p.add_argument("--tickets-token", default="demo-token")
    p.set_defaults(func=cmd_land)
