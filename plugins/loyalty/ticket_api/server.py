"""HTTP simulator of the ticketing API: ``GET /api/v1/tickets`` served from a JSON Lines file.

Contract (SOURCES.md section 3)::

    GET /api/v1/tickets?updated_since=<ISO-8601>&cursor=<opaque>&limit=<1..1000>
    Authorization: Bearer <token>
    -> 200 {"tickets": [...], "next_cursor": "<opaque>" | null}

* The file may hold several versions (lines) of one ticket id: the last line of an id wins.
  The file is re-read whenever its mtime or size changes (the generator's ``advance``).
* Tickets with ``updated_at >= updated_since`` are served in ascending ``(updated_at, id)``.
* The cursor is base64url JSON ``{"u": updated_at, "i": id, "t": issued epoch seconds}``:
  the position after the last ticket of the page and when it was issued. A cursor older
  than ``cursor_ttl`` seconds answers ``410``.
* Errors are JSON ``{"error": "..."}``: 400 bad parameter, 401 missing/wrong token,
  404 unknown path, 410 expired cursor, 429 rate limited (``Retry-After``), 5xx injected.
* Fault switches (0 = off), counted over authenticated ticket requests:
  ``rate_limit_every=N`` every Nth request answers 429 with ``Retry-After: retry_after``;
  ``error_every=N`` every Nth request answers ``error_status``; ``expire_cursor_every=N``
  every Nth request that carries a cursor answers 410.
* ``GET /healthz`` answers 200 without auth (docker health checks).

The token is compared in constant time and never logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import os
import threading
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("loyalty.ticket_api")

TICKETS_PATH = "/api/v1/tickets"
HEALTH_PATH = "/healthz"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadRequest(ValueError):
    """A request parameter is invalid (answered with 400)."""


def parse_timestamp(text: str) -> datetime:
    """ISO-8601 text (``Z``, an offset, or naive = UTC) to an aware UTC datetime."""
    text = text.strip()
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        # "+00:00" arrives as " 00:00" when a client forgot to URL-encode the plus sign
        head, sep, tail = text.rpartition(" ")
        if not sep or "T" not in head:
            raise
        dt = datetime.fromisoformat(f"{head}+{tail}")
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class _Snapshot:
    """The latest version of every ticket, sorted by (updated_at, id); raw JSON text per ticket."""

    keys: list[tuple[datetime, int]]
    lines: list[str]
    stamp: tuple[int, int] | None  # (mtime_ns, size) of the file it was read from

    @classmethod
    def read(cls, path: Path) -> _Snapshot:
        st = path.stat()
        latest: dict[int, tuple[datetime, str]] = {}
        skipped = 0
        with path.open("r", encoding="utf-8") as f:
            for lineno, raw in enumerate(f, 1):
                line = raw.strip()
                if not line:
                    continue
                try:
                    obj = json.loads(line)
                    tid = obj["id"]
                    if isinstance(tid, bool) or not isinstance(tid, int):
                        raise TypeError(f"id {tid!r} is not an integer")
                    upd = parse_timestamp(str(obj["updated_at"]))
                except (ValueError, KeyError, TypeError) as exc:
                    skipped += 1
                    if skipped <= 5:
                        log.warning("%s line %d skipped: %s", path, lineno, exc)
                    continue
                latest[tid] = (upd, line)  # a later line of the same id replaces the earlier one
        if skipped:
            log.warning("%s: %d line(s) skipped (not a JSON ticket with integer id and updated_at)", path, skipped)
        ordered = sorted(((upd, tid), line) for tid, (upd, line) in latest.items())
        log.info("loaded %d ticket(s) from %s", len(ordered), path)
        return cls([k for k, _ in ordered], [line for _, line in ordered], (st.st_mtime_ns, st.st_size))


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    server_version = "loyalty-ticket-api/1.0"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: avoid the 40 ms delayed-ACK stall

    # -- plumbing
    def log_message(self, format: str, *args: Any) -> None:
        # request line and status only: headers (and so the token) are never logged
        level = logging.DEBUG if urlsplit(self.path or "").path.startswith(HEALTH_PATH) else logging.INFO
        log.log(level, "%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes | str, headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps({"error": message}), headers)

    # -- routes
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        if path == HEALTH_PATH:
            self._send(200, json.dumps({"status": "ok"}))
        elif path == TICKETS_PATH:
            try:
                self._tickets(parts.query)
            except Exception:  # a bug must answer 500, not hang the client
                log.exception("tickets request failed")
                self._error(500, "internal error")
        else:
            self._error(404, f"no such endpoint {parts.path}; use {TICKETS_PATH}")

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return False
        return hmac.compare_digest(given.strip().encode("utf-8"), self.server.api.token.encode("utf-8"))

    def _tickets(self, query: str) -> None:
        api = self.server.api
        if not self._authorized():
            self._error(401, "missing or invalid bearer token", {"WWW-Authenticate": 'Bearer realm="tickets"'})
            return
        n = api.count_request()
        if api.rate_limit_every and n % api.rate_limit_every == 0:
            self._error(429, "rate limited, retry later", {"Retry-After": str(api.retry_after)})
            return
        if api.error_every and n % api.error_every == 0:
            self._error(api.error_status, f"simulated server error (request {n})")
            return
        params = parse_qs(query, keep_blank_values=True)
        try:
            since, limit, cursor = _parse_params(params)
        except BadRequest as exc:
            self._error(400, str(exc))
            return
        if cursor is not None:
            m = api.count_cursor_request()
            if api.expire_cursor_every and m % api.expire_cursor_every == 0:
                self._error(410, "cursor expired (simulated); restart from your last updated_at")
                return
            try:
                c_upd, c_id, issued = _decode_cursor(cursor)
            except BadRequest as exc:
                self._error(400, str(exc))
                return
            if api.cursor_ttl <= 0 or time.time() - issued > api.cursor_ttl:
                self._error(410, f"cursor expired (older than {api.cursor_ttl:g} s); restart from your last updated_at")
                return
            position: tuple[datetime, int] | None = (c_upd, c_id)
        else:
            position = None
        try:
            snap = api.snapshot()
        except FileNotFoundError:
            self._error(503, "tickets source file is not there yet")
            return
        start = bisect_left(snap.keys, (since,))
        if position is not None:
            start = max(start, bisect_right(snap.keys, position))
        end = min(start + limit, len(snap.keys))
        page = snap.lines[start:end]
        next_cursor = _encode_cursor(*snap.keys[end - 1]) if page and end < len(snap.keys) else None
        body = '{"tickets": [' + ", ".join(page) + '], "next_cursor": ' + json.dumps(next_cursor) + "}"
        self._send(200, body)


def _parse_params(params: dict[str, list[str]]) -> tuple[datetime, int, str | None]:
    def one(name: str) -> str | None:
        values = params.get(name)
        return values[-1] if values else None

    raw_since = one("updated_since")
    if raw_since is None or raw_since == "":
        since = _EPOCH
    else:
        try:
            since = parse_timestamp(raw_since)
        except ValueError as exc:
            raise BadRequest(f"updated_since={raw_since!r} is not an ISO-8601 timestamp") from exc
    raw_limit = one("limit")
    if raw_limit is None or raw_limit == "":
        limit = DEFAULT_LIMIT
    else:
        try:
            limit = int(raw_limit)
        except ValueError as exc:
            raise BadRequest(f"limit={raw_limit!r} is not an integer in 1..{MAX_LIMIT}") from exc
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"limit={limit} is out of range 1..{MAX_LIMIT}")
    cursor = one("cursor") or None
    return since, limit, cursor


def _encode_cursor(upd: datetime, tid: int, issued: float | None = None) -> str:
    doc = {"u": _iso(upd), "i": tid, "t": round(time.time() if issued is None else issued, 3)}
    return base64.urlsafe_b64encode(json.dumps(doc, separators=(",", ":")).encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int, float]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        doc = json.loads(raw)
        return parse_timestamp(doc["u"]), int(doc["i"]), float(doc["t"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadRequest("cursor is not one this API issued; start again without a cursor") from exc


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    api: TicketApiServer


class TicketApiServer:
    """The simulator on a background thread. ``port=0`` picks a free port; see ``url``.

    Use as a context manager (``with TicketApiServer(path, token) as s: s.url``) or call
    ``start()`` / ``stop()``.
    """

    def __init__(
        self,
        jsonl_path: str | os.PathLike[str],
        token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        rate_limit_every: int = 0,
        retry_after: int = 1,
        error_every: int = 0,
        error_status: int = 503,
        expire_cursor_every: int = 0,
        cursor_ttl: float = 600.0,
    ) -> None:
        if not token:
            raise ValueError("the ticket API simulator needs a non-empty token")
        for name, value in (("rate_limit_every", rate_limit_every), ("error_every", error_every),
                            ("expire_cursor_every", expire_cursor_every), ("retry_after", retry_after)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if not 500 <= error_status <= 599:
            raise ValueError(f"error_status must be a 5xx status, got {error_status}")
        self.path = Path(jsonl_path)
        self.token = token
        self.host = host
        self.port = port
        self.rate_limit_every = rate_limit_every
        self.retry_after = retry_after
        self.error_every = error_every
        self.error_status = error_status
        self.expire_cursor_every = expire_cursor_every
        self.cursor_ttl = cursor_ttl
        self._lock = threading.Lock()
        self._requests = 0
        self._cursor_requests = 0
        self._snapshot: _Snapshot | None = None
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:  # no token
        return f"TicketApiServer(path={str(self.path)!r}, url={self.url if self._httpd else None!r})"

    # -- counters and data
    def count_request(self) -> int:
        with self._lock:
            self._requests += 1
            return self._requests

    def count_cursor_request(self) -> int:
        with self._lock:
            self._cursor_requests += 1
            return self._cursor_requests

    def snapshot(self) -> _Snapshot:
        """The file's tickets, re-read when the file's mtime or size changed."""
        st = self.path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            snap = self._snapshot
        if snap is not None and snap.stamp == stamp:
            return snap
        with self._lock:  # one reload at a time; others wait and then use it
            if self._snapshot is None or self._snapshot.stamp != stamp:
                self._snapshot = _Snapshot.read(self.path)
            return self._snapshot

    # -- lifecycle
    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the ticket API simulator is not started; call start() or use it in a with block")
        host, port = self._httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}"

    def start(self) -> TicketApiServer:
        if self._httpd is not None:
            return self
        httpd = _HttpServer((self.host, self.port), _Handler)
        httpd.api = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="ticket-api", daemon=True)
        self._thread.start()
        log.info("ticket API simulator serving %s at %s", self.path, self.url)
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Start and block until KeyboardInterrupt (the CLI)."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def __enter__(self) -> TicketApiServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
