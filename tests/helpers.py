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
