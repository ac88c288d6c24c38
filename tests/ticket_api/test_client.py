"""The tickets client against the real simulator (HTTP on loopback, faults switched on)."""

from __future__ import annotations

import json
import logging
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from loyalty.extract.tickets_client import (
    TicketsApiClient,
    TicketsApiError,
    TicketsAuthError,
    base_url_from_connection,
    client_from_airflow_connection,
)
from loyalty.ticket_api.server import TicketApiServer

TOKEN = "s3cret-client-token-abc"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def make_lines(n: int = 25) -> list[dict[str, Any]]:
    """n tickets over n hours, then a second version of every third one, then a third of id 1."""
    lines = [{"id": i, "status": "open", "updated_at": f"2024-03-{1 + i // 24:02d}T{i % 24:02d}:00:00Z"}
             for i in range(1, n + 1)]
    lines += [{"id": i, "status": "solved", "updated_at": f"2024-04-01T{i % 24:02d}:30:00Z"}
              for i in range(3, n + 1, 3)]
    lines.append({"id": 1, "status": "closed", "updated_at": "2024-04-02T00:00:00Z"})
    return lines


def latest(lines: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for t in lines:
        out[t["id"]] = t
    return out


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture()
def jsonl(tmp_path: Path) -> Path:
    p = tmp_path / "tickets.jsonl"
    p.write_text("".join(json.dumps(t) + "\n" for t in make_lines()), encoding="utf-8")
    return p


def test_fetch_all_plain(jsonl: Path) -> None:
    with TicketApiServer(jsonl, TOKEN) as s, TicketsApiClient(s.url, TOKEN, page_size=4) as c:
        pages = list(c.iter_pages(EPOCH))
    got = [t for p in pages for t in p]
    want = latest(make_lines())
    assert len(pages) == -(-len(want) // 4)
    assert {t["id"]: t for t in got} == want
    assert len(got) == len(want)
    keys = [(t["updated_at"], t["id"]) for t in got]
    assert keys == sorted(keys)


def test_since_is_honoured(jsonl: Path) -> None:
    with TicketApiServer(jsonl, TOKEN) as s:
        got = TicketsApiClient(s.url, TOKEN, page_size=3).fetch_all(datetime(2024, 4, 1, tzinfo=UTC))
    want = {i for i, t in latest(make_lines()).items() if t["updated_at"] >= "2024-04-01"}
    assert {t["id"] for t in got} == want
    # a naive datetime is taken as UTC
    with TicketApiServer(jsonl, TOKEN) as s:
        got2 = TicketsApiClient(s.url, TOKEN).fetch_all(datetime(2024, 4, 1))
    assert {t["id"] for t in got2} == want


def test_recovers_from_429_5xx_and_expired_cursors(jsonl: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    sleep = RecordingSleep()
    with TicketApiServer(jsonl, TOKEN, rate_limit_every=3, retry_after=2, error_every=4,
                         expire_cursor_every=2) as s:
        client = TicketsApiClient(s.url, TOKEN, page_size=3, sleep=sleep, backoff_base=0.01)
        got = client.fetch_all(EPOCH)
    want = latest(make_lines())
    assert {t["id"] for t in got} == set(want)
    by_id: dict[int, dict[str, Any]] = {}
    for t in got:  # re-sent tickets (after a cursor restart) are allowed; the newest state wins
        by_id[t["id"]] = t
    assert by_id == want
    assert 2 in sleep.calls, "a 429 waits Retry-After seconds"
    assert 0.01 in sleep.calls, "a 503 waits the first backoff step"
    assert "cursor expired" in caplog.text
    assert "ticket(s) so far" in caplog.text
    assert TOKEN not in caplog.text


def test_restart_after_expired_cursor_resumes_at_watermark(jsonl: Path) -> None:
    with TicketApiServer(jsonl, TOKEN, expire_cursor_every=2) as s:
        pages = list(TicketsApiClient(s.url, TOKEN, page_size=5).iter_pages(EPOCH))
    got = [t for p in pages for t in p]
    ids = [t["id"] for t in got]
    assert set(ids) == set(latest(make_lines()))
    # only the tickets at the restart instants are sent twice, not whole pages again
    assert len(ids) - len(set(ids)) <= len(pages)


def test_wrong_token_raises_auth_error_at_once(jsonl: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bad = "wrong-token-that-must-not-leak"
    sleep = RecordingSleep()
    with TicketApiServer(jsonl, TOKEN) as s:
        client = TicketsApiClient(s.url, bad, sleep=sleep)
        t0 = time.monotonic()
        with pytest.raises(TicketsAuthError) as err:
            client.fetch_all(EPOCH)
        assert time.monotonic() - t0 < 2
    text = str(err.value)
    assert "loyalty_tickets_api" in text and "password" in text
    assert bad not in text and bad not in repr(err.value)
    assert TOKEN not in text
    assert bad not in caplog.text and TOKEN not in caplog.text
    assert sleep.calls == []
    assert isinstance(err.value, RuntimeError)


def test_5xx_forever_raises_after_max_retries(jsonl: Path, caplog: pytest.LogCaptureFixture) -> None:
    sleep = RecordingSleep()
    with TicketApiServer(jsonl, TOKEN, error_every=1, error_status=500) as s:
        client = TicketsApiClient(s.url, TOKEN, max_retries=3, backoff_base=0.5, backoff_max=1.5, sleep=sleep)
        with pytest.raises(TicketsApiError) as err:
            client.fetch_all(EPOCH)
        url = s.url
    text = str(err.value)
    assert f"{url}/api/v1/tickets" in text
    assert "500" in text
    assert TOKEN not in text and TOKEN not in caplog.text
    assert sleep.calls == [0.5, 1.0, 1.5]  # exponential, capped at backoff_max


def test_connection_refused_raises_after_max_retries() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleep = RecordingSleep()
    client = TicketsApiClient(f"http://127.0.0.1:{port}", TOKEN, max_retries=2, sleep=sleep, timeout=2)
    with pytest.raises(TicketsApiError, match="ConnectionError"):
        client.fetch_all(EPOCH)
    assert len(sleep.calls) == 2


def test_bad_request_is_not_retried(jsonl: Path) -> None:
    sleep = RecordingSleep()
    with TicketApiServer(jsonl, TOKEN) as s:
        client = TicketsApiClient(s.url, TOKEN, sleep=sleep)
        client.endpoint = s.url + "/api/v1/nothing-here"
        with pytest.raises(TicketsApiError, match="404"):
            client.fetch_all(EPOCH)
    assert sleep.calls == []


@pytest.mark.parametrize(
    ("host", "port", "schema", "want"),
    [
        ("http://127.0.0.1:8765", None, None, "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765/", None, "", "http://127.0.0.1:8765"),
        ("127.0.0.1", 8765, "http", "http://127.0.0.1:8765"),
        ("ticket-api", 8765, None, "http://ticket-api:8765"),
        ("https://tickets.example.com/base", None, None, "https://tickets.example.com/base"),
        ("http://tickets.example.com", 9000, None, "http://tickets.example.com:9000"),
        ("tickets.example.com", None, "https", "https://tickets.example.com"),
    ],
)
def test_base_url_from_connection(host: str, port: int | None, schema: str | None, want: str) -> None:
    conn = SimpleNamespace(conn_id="loyalty_tickets_api", host=host, port=port, schema=schema)
    assert base_url_from_connection(conn) == want


def test_client_from_airflow_connection(jsonl: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with TicketApiServer(jsonl, TOKEN) as s:
        host, port = s.url.split("://", 1)[1].split(":")
        conn = {"conn_type": "http", "host": host, "port": int(port), "schema": "http", "password": TOKEN,
                "extra": {"page_size": 7}}
        monkeypatch.setenv("AIRFLOW_CONN_LOYALTY_TICKETS_API", json.dumps(conn))
        client = client_from_airflow_connection("loyalty_tickets_api")
        assert client.base_url == s.url
        assert client.page_size == 7
        assert TOKEN not in repr(client)
        assert {t["id"] for t in client.fetch_all(EPOCH)} == set(latest(make_lines()))


def test_missing_airflow_connection_says_how_to_define_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_LOYALTY_TICKETS_API_MISSING", raising=False)
    with pytest.raises(TicketsApiError, match="AIRFLOW_CONN_LOYALTY_TICKETS_API"):
        client_from_airflow_connection("loyalty_tickets_api_missing")


def test_cursor_expiring_without_progress_gives_up(tmp_path: Path) -> None:
    p = tmp_path / "same_instant.jsonl"
    p.write_text("".join(json.dumps({"id": i, "updated_at": "2024-05-01T00:00:00Z"}) + "\n" for i in range(1, 6)))
    with TicketApiServer(p, TOKEN, expire_cursor_every=1) as s:
        client = TicketsApiClient(s.url, TOKEN, page_size=2, max_retries=2)
        with pytest.raises(TicketsApiError, match="without getting past updated_at 2024-05-01T00:00:00Z"):
            client.fetch_all(EPOCH)
