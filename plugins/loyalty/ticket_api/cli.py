"""``loyalty serve-tickets``: run the ticket API simulator in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

DEFAULT_PORT = 8765
DEFAULT_TOKEN = "demo-token"


def cmd_serve_tickets(args: argparse.Namespace) -> int:
    from loyalty.ticket_api.server import TicketApiServer

    jsonl = args.jsonl
    if jsonl is None:
        from loyalty.config import Settings

        jsonl = Settings.from_env().tickets_jsonl
    if not Path(jsonl).exists():
        print(f"note: {jsonl} does not exist yet; requests answer 503 until it does (run `loyalty generate`)")
    server = TicketApiServer(
        jsonl, args.token, args.host, args.port,
        rate_limit_every=args.rate_limit_every, retry_after=args.retry_after,
        error_every=args.error_every, error_status=args.error_status,
        expire_cursor_every=args.expire_cursor_every, cursor_ttl=args.cursor_ttl,
    )
    server.start()
    print(f"ticket API simulator: {server.url}/api/v1/tickets (serving {jsonl}); Ctrl-C to stop", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.stop()
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve-tickets", help="serve tickets.jsonl as the ticketing REST API (simulator)")
    p.add_argument("--jsonl", "--file", dest="jsonl", type=Path, default=None,
                   help="the tickets JSON Lines file (default: Settings.tickets_jsonl)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default %(default)s; 0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default %(default)s; 0 = any free port)")
    p.add_argument("--token", default=os.environ.get("LOYALTY_TICKETS_TOKEN") or DEFAULT_TOKEN,
                   help="the bearer token clients must send (default: env LOYALTY_TICKETS_TOKEN, else demo-token)")
    g = p.add_argument_group("fault injection (0 = off)")
    g.add_argument("--rate-limit-every", type=int, default=0, metavar="N", help="every Nth request answers 429")
    g.add_argument("--retry-after", type=int, default=1, metavar="S", help="Retry-After seconds of a 429 (default 1)")
    g.add_argument("--error-every", type=int, default=0, metavar="N", help="every Nth request answers --error-status")
    g.add_argument("--error-status", type=int, default=503, choices=(500, 502, 503, 504))
    g.add_argument("--expire-cursor-every", type=int, default=0, metavar="N",
                   help="every Nth request with a cursor answers 410")
    g.add_argument("--cursor-ttl", type=float, default=600.0, metavar="S",
                   help="seconds a cursor stays valid (default 600)")
    p.set_defaults(func=cmd_serve_tickets)
