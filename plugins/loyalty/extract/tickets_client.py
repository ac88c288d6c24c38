"""Client of the ticketing REST API (SOURCES.md section 3): pages of tickets since a time.

``TicketsApiClient.iter_pages(since)`` follows ``next_cursor`` and recovers on its own:

* ``429``: sleeps ``Retry-After`` seconds (or the backoff when absent) and retries;
* ``5xx`` and connection errors: exponential backoff, at most ``max_retries`` retries in a row,
  then ``TicketsApiError`` naming the URL and the last status;
* ``410`` (cursor expired): restarts the query from the largest ``updated_at`` already
  yielded (the last good watermark). Tickets at that instant are sent again; the loader
  deduplicates them;
* ``401``/``403``: ``TicketsAuthError`` at once (retrying a wrong token cannot help).

The token goes only into the ``Authorization`` header: it is never part of a URL, a
message or a log line (messages are scrubbed of it as well, in case a server echoes it).
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

log = logging.getLogger(__name__)

CONN_ID = "loyalty_tickets_api"
TICKETS_PATH = "/api/v1/tickets"
MAX_RETRY_AFTER = 300.0  # never sleep longer than this on one Retry-After
_CONN_HELP = (
    "define it, e.g. AIRFLOW_CONN_LOYALTY_TICKETS_API='{\"conn_type\":\"http\",\"host\":\"http://127.0.0.1:8765\","
    "\"password\":\"<token>\"}' (or in the Airflow UI: Admin > Connections, the token in the password field)"
)


class TicketsAuthError(RuntimeError):
    """The API rejected the token (401/403), or no token is configured. Not retryable."""


class TicketsApiError(RuntimeError):
    """The API kept failing (5xx, 429, connection errors) or answered something unusable."""


class _CursorExpired(Exception):
    pass


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _iso_z(dt: datetime) -> str:
    return _utc(dt).isoformat().replace("+00:00", "Z")


def _parse_ts(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return _utc(datetime.fromisoformat(str(value)))
    except ValueError:
        return None


def _safe_url(url: str) -> str:
    """The URL without user:password@ (a token must never reach a message)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class TicketsApiClient:
    """Reads ``{base_url}/api/v1/tickets`` with ``Authorization: Bearer <token>``."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        page_size: int = 500,
        max_retries: int = 6,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        timeout: float = 30.0,
        sleep: Callable[[float], Any] = time.sleep,
        conn_id: str = CONN_ID,
    ) -> None:
        if not base_url or "://" not in base_url:
            raise ValueError(f"tickets API base URL must look like http://host:port, got {_safe_url(base_url or '')!r}")
        if not 1 <= int(page_size) <= 1000:
            raise ValueError(f"page_size must be in 1..1000, got {page_size}")
        self.base_url = base_url.rstrip("/")
        self.endpoint = self.base_url + TICKETS_PATH
        self._token = token or ""
        self.page_size = int(page_size)
        self.max_retries = int(max_retries)
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.timeout = float(timeout)
        self.sleep = sleep
        self.conn_id = conn_id
        self._session = requests.Session()
        self._session.headers.update({"Accept": "application/json", "User-Agent": "loyalty-warehouse/tickets"})

    def __repr__(self) -> str:  # no token
        return f"TicketsApiClient({_safe_url(self.endpoint)!r}, page_size={self.page_size})"

    # -- public
    def iter_pages(self, since: datetime) -> Iterator[list[dict[str, Any]]]:
        """Pages (lists of ticket dicts) of every ticket with ``updated_at >= since``, ascending."""
        start = _utc(since)
        query_since = start
        watermark: datetime | None = None
        cursor: str | None = None
        pages = tickets = restarts = stalled = 0
        last_restart: datetime | None = None
        while True:
            params: dict[str, Any] = {"updated_since": _iso_z(query_since), "limit": self.page_size}
            if cursor:
                params["cursor"] = cursor
            try:
                body = self._get(params)
            except _CursorExpired:
                if cursor is None:
                    raise TicketsApiError(f"GET {_safe_url(self.endpoint)} answered 410 without a cursor") from None
                restart_at = watermark or start
                stalled = stalled + 1 if restart_at == last_restart else 0
                if stalled > self.max_retries:
                    raise TicketsApiError(
                        f"GET {_safe_url(self.endpoint)}: the cursor expired {stalled + 1} times in a row without "
                        f"getting past updated_at {_iso_z(restart_at)}; try a larger page_size"
                    ) from None
                restarts += 1
                last_restart = restart_at
                log.warning(
                    "tickets API: cursor expired (410) after %d page(s), %d ticket(s); restarting from "
                    "updated_since=%s (tickets at that instant are sent again and deduplicated by the loader)",
                    pages, tickets, _iso_z(restart_at),
                )
                query_since, cursor = restart_at, None
                continue
            page = body["tickets"]
            for t in page:
                upd = _parse_ts(t.get("updated_at")) if isinstance(t, dict) else None
                if upd is not None and (watermark is None or upd > watermark):
                    watermark = upd
            pages += 1
            tickets += len(page)
            log.info("tickets API: page %d, %d ticket(s) so far (updated_at up to %s)",
                     pages, tickets, _iso_z(watermark) if watermark else "-")
            if page:
                yield page
            cursor = body.get("next_cursor")
            if not cursor:
                break
        log.info("tickets API: done, %d page(s), %d ticket(s) since %s, %d cursor restart(s)",
                 pages, tickets, _iso_z(start), restarts)

    def fetch_all(self, since: datetime) -> list[dict[str, Any]]:
        return [t for page in self.iter_pages(since) for t in page]

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> TicketsApiClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- one request, with retries
    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))

    @staticmethod
    def _retry_after(resp: requests.Response) -> float | None:
        value = resp.headers.get("Retry-After")
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            seconds = (_utc(when) - datetime.now(UTC)).total_seconds()
        return min(max(seconds, 0.0), MAX_RETRY_AFTER)

    @staticmethod
    def _error_text(resp: requests.Response) -> str:
        try:
            doc = resp.json()
            text = str(doc.get("error", doc)) if isinstance(doc, dict) else str(doc)
        except ValueError:
            text = resp.text
        return text[:300]

    def _get(self, params: dict[str, Any]) -> dict[str, Any]:
        url = _safe_url(self.endpoint)
        headers = {"Authorization": f"Bearer {self._token}"}
        attempt = 0
        while True:
            try:
                resp = self._session.get(self.endpoint, params=params, headers=headers, timeout=self.timeout)
            except requests.RequestException as exc:
                problem = self._scrub(f"{type(exc).__name__}: {exc}")
                delay = None
            else:
                status = resp.status_code
                if status == 200:
                    return self._body(resp, url)
                if status in (401, 403):
                    raise TicketsAuthError(
                        f"tickets API {url} rejected the token (HTTP {status}): check the token in Airflow "
                        f"connection `{self.conn_id}` (password field)"
                    )
                if status == 410:
                    raise _CursorExpired()
                detail = self._scrub(self._error_text(resp))
                if status != 429 and status < 500:
                    raise TicketsApiError(f"GET {url} answered HTTP {status}: {detail}")
                problem = f"HTTP {status} ({detail})"
                delay = self._retry_after(resp)
            attempt += 1
            if attempt > self.max_retries:
                raise TicketsApiError(f"GET {url} failed {attempt} times in a row; last: {problem}")
            wait = self._backoff(attempt) if delay is None else delay
            log.warning("tickets API: %s; retry %d/%d in %.1f s", problem, attempt, self.max_retries, wait)
            self.sleep(wait)

    def _body(self, resp: requests.Response, url: str) -> dict[str, Any]:
        try:
            body = resp.json()
        except ValueError as exc:
            raise TicketsApiError(f"GET {url} answered 200 with a body that is not JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("tickets"), list):
            raise TicketsApiError(f"GET {url} answered 200 without a 'tickets' list: keys {sorted(body)[:10]}"
                                  if isinstance(body, dict) else f"GET {url} answered 200 with a non-object body")
        return body


def base_url_from_connection(conn: Any) -> str:
    """Base URL of an Airflow connection whose host is a full URL or host + port + schema."""
    host = (conn.host or "").strip()
    if not host:
        raise TicketsApiError(f"Airflow connection `{conn.conn_id}` has no host; {_CONN_HELP}")
    port = conn.port
    schema = (conn.schema or "").strip().lower()
    if "://" in host:
        parts = urlsplit(host)
        scheme, netloc, path = parts.scheme or "http", parts.netloc, parts.path
    else:
        netloc, _, rest = host.partition("/")
        path = "/" + rest if rest else ""
        scheme = schema if schema in ("http", "https") else "http"
    netloc = netloc.rpartition("@")[2]  # credentials belong in the password field, not the URL
    hostname = netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc
    if port and not urlsplit(f"//{netloc}").port:
        netloc = f"{hostname}:{int(port)}"
    return urlunsplit((scheme, netloc, path.rstrip("/"), "", ""))


def client_from_airflow_connection(conn_id: str = CONN_ID, **kw: Any) -> TicketsApiClient:
    """A client configured by the Airflow connection ``conn_id`` (base URL; token in the password).

    The connection's extra JSON may set ``page_size``, ``max_retries``, ``timeout``,
    ``backoff_base``, ``backoff_max``; keyword arguments win over it.
    """
    try:
        from airflow.sdk.bases.hook import BaseHook
    except ImportError:  # Airflow before 3.1
        from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined,unused-ignore]

    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:
        if "NotFound" in type(exc).__name__ or "isn't defined" in str(exc):
            raise TicketsApiError(f"Airflow connection `{conn_id}` is not defined; {_CONN_HELP}") from exc
        raise TicketsApiError(f"could not read Airflow connection `{conn_id}`: {type(exc).__name__}: {exc}") from exc
    token = conn.password or ""
    if not token:
        raise TicketsAuthError(f"Airflow connection `{conn_id}` has no token in its password field; {_CONN_HELP}")
    base_url = base_url_from_connection(conn)
    try:
        extra = conn.extra_dejson or {}
    except ValueError:
        extra = {}
    options: dict[str, Any] = {}
    for key, cast in (("page_size", int), ("max_retries", int), ("timeout", float), ("backoff_base", float),
                      ("backoff_max", float)):
        if extra.get(key) is not None:
            options[key] = cast(extra[key])
    options.update(kw)
    options.setdefault("conn_id", conn_id)
    log.info("tickets API client for connection `%s`: %s", conn_id, base_url)
    return TicketsApiClient(base_url, token, **options)
