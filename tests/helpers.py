"""Helpers shared by the tests that run whole nights (importable: tests/ is on sys.path)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb


class Webhook:
    """A real HTTP endpoint on loopback that records every JSON alert POSTed to it."""

    def __init__(self) -> None:
        received: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"

    def close(self) -> None:
        self.server.shutdown()


def serving_night(serving: Path) -> str:
    """The night the serving file holds (meta.publication)."""
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return str(con.execute("select batch_id from meta.publication").fetchone()[0])
    finally:
        con.close()


def serving_tables(serving: Path, exclude_columns: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every table of a serving file but its publication record, each as its sorted rows (numbers
    to 6 places, dates as ISO strings): two serving files are equal value for value when these are."""
    from datetime import date, datetime
    from decimal import Decimal

    def norm(v: object) -> object:
        if isinstance(v, (Decimal, float)):
            return round(float(v), 6)
        if isinstance(v, (date, datetime)):
            return v.isoformat()
        return v

    con = duckdb.connect(str(serving), read_only=True)
    try:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_schema <> 'meta' order by 1, 2").fetchall()
        out = {}
        for schema, name in tables:
            cols = [c for (c,) in con.execute("select column_name from information_schema.columns where table_schema = ? "
                                              "and table_name = ? order by ordinal_position", [schema, name]).fetchall()
                    if c not in exclude_columns]
            rows = con.execute(f"select {', '.join(chr(34) + c + chr(34) for c in cols)} from {schema}.{name}").fetchall()
            out[f"{schema}.{name}"] = sorted((tuple(norm(v) for v in r) for r in rows), key=repr)
        return out
    finally:
        con.close()


def source_connections(sources_dir: Path, tickets_url: str, token: str) -> dict[str, str]:
    """The Airflow connections of a night's sources, as environment variables: the generated shop
    database (SQLite) and the ticket API server at ``tickets_url``."""
    host, port = tickets_url.split("://", 1)[1].rstrip("/").split(":")
    return {
        "AIRFLOW_CONN_LOYALTY_SHOP_DB": json.dumps({"conn_type": "sqlite", "host": str(sources_dir / "shop.sqlite")}),
        "AIRFLOW_CONN_LOYALTY_TICKETS_API": json.dumps(
            {"conn_type": "http", "host": host, "port": int(port), "schema": "http", "password": token}),
    }
