"""The ticket API simulator over real HTTP on a free loopback port."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from loyalty.ticket_api.server import TicketApiServer

TOKEN = "s3cret-test-token-xyz"

# id 3 has three versions (the last line wins), id 1 two; id 6 and 7 share an updated_at.
LINES = [
    {"id": 1, "status": "open", "updated_at": "2024-01-01T08:00:00Z"},
    {"id": 2, "status": "open", "updated_at": "2024-01-01T09:00:00Z"},
    {"id": 3, "status": "open", "updated_at": "2024-01-01T10:00:00Z"},
    {"id": 3, "status": "pending", "updated_at": "2024-01-02T10:00:00Z"},
    {"id": 4, "status": "open", "updated_at": "2024-01-02T11:00:00Z"},
    {"id": 1, "status": "solved", "updated_at": "2024-01-03T07:00:00Z"},
    {"id": 5, "status": "open", "updated_at": "2024-01-03T08:00:00Z"},
    {"id": 6, "status": "open", "updated_at": "2024-01-04T12:00:00Z"},
    {"id": 7, "status": "open", "updated_at": "2024-01-04T12:00:00Z"},
    {"id": 3, "status": "closed", "updated_at": "2024-01-05T09:30:00Z"},
]


def latest(lines: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for t in lines:
        out[t["id"]] = t
    return out


def write_jsonl(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(t) + "\n" for t in lines), encoding="utf-8")
    return path


@pytest.fixture()
def jsonl(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "tickets.jsonl", LINES)


@pytest.fixture()
def server(jsonl: Path):
    with TicketApiServer(jsonl, TOKEN) as s:
        yield s


def get(server: TicketApiServer, token: str | None = TOKEN, **params: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(f"{server.url}/api/v1/tickets", params=params, headers=headers, timeout=5)


def ids(resp: requests.Response) -> list[int]:
    return [t["id"] for t in resp.json()["tickets"]]


def test_healthz_needs_no_token(server: TicketApiServer) -> None:
    r = requests.get(f"{server.url}/healthz", timeout=5)
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_unknown_path_is_404(server: TicketApiServer) -> None:
    r = requests.get(f"{server.url}/api/v2/whatever", timeout=5)
    assert r.status_code == 404
    assert "error" in r.json()


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_missing_or_wrong_token_is_401(server: TicketApiServer, token: str | None) -> None:
    r = get(server, token=token)
    assert r.status_code == 401
    assert "error" in r.json()
    assert TOKEN not in r.text


def test_serves_latest_version_per_id_ascending(server: TicketApiServer) -> None:
    r = get(server, limit=1000)
    assert r.status_code == 200
    body = r.json()
    assert body["next_cursor"] is None
    want = latest(LINES)
    assert sorted(ids(r)) == sorted(want)
    assert len(ids(r)) == len(want)  # each id once
    for t in body["tickets"]:
        assert t == want[t["id"]]
    keys = [(t["updated_at"], t["id"]) for t in body["tickets"]]
    assert keys == sorted(keys)


def test_filter_by_updated_since(server: TicketApiServer) -> None:
    r = get(server, updated_since="2024-01-03T08:00:00Z")
    assert r.status_code == 200
    assert ids(r) == [5, 6, 7, 3]  # >= is inclusive; ties ordered by id
    r = get(server, updated_since="2024-01-03T16:00:00+08:00")  # same instant with an offset
    assert ids(r) == [5, 6, 7, 3]
    r = get(server, updated_since="2024-01-06T00:00:00Z")
    assert r.json() == {"tickets": [], "next_cursor": None}


def test_pagination_covers_all_exactly_once(server: TicketApiServer) -> None:
    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"updated_since": "2020-01-01T00:00:00Z", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = get(server, **params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["tickets"]) <= 2
        seen.extend(body["tickets"])
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    want = latest(LINES)
    assert pages == 4  # 7 tickets, 2 per page
    assert [t["id"] for t in seen] == [2, 4, 1, 5, 6, 7, 3]
    assert len({t["id"] for t in seen}) == len(seen) == len(want)
    keys = [(t["updated_at"], t["id"]) for t in seen]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 1001}, {"limit": "ten"}, {"updated_since": "yesterday"},
     {"updated_since": "2024-13-01T00:00:00Z"}, {"cursor": "not-a-cursor!"}],
)
def test_bad_parameters_are_400(server: TicketApiServer, params: dict[str, Any]) -> None:
    r = get(server, **params)
    assert r.status_code == 400
    assert r.json()["error"]


def test_limit_bounds_are_accepted(server: TicketApiServer) -> None:
    assert len(ids(get(server, limit=1))) == 1
    assert get(server, limit=1000).status_code == 200


def test_rate_limit_answers_429_with_retry_after(jsonl: Path) -> None:
    with TicketApiServer(jsonl, TOKEN, rate_limit_every=2, retry_after=7) as s:
        assert get(s).status_code == 200
        r = get(s)
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "7"
        assert get(s).status_code == 200


@pytest.mark.parametrize("status", [503, 500])
def test_error_injection(jsonl: Path, status: int) -> None:
    with TicketApiServer(jsonl, TOKEN, error_every=3, error_status=status) as s:
        codes = [get(s).status_code for _ in range(6)]
    assert codes == [200, 200, status, 200, 200, status]


def test_cursor_older_than_ttl_is_410(jsonl: Path) -> None:
    with TicketApiServer(jsonl, TOKEN, cursor_ttl=0.2) as s:
        cursor = get(s, limit=2).json()["next_cursor"]
        assert get(s, limit=2, cursor=cursor).status_code == 200  # fresh
        time.sleep(0.3)
        r = get(s, limit=2, cursor=cursor)
        assert r.status_code == 410
        assert "expired" in r.json()["error"]


def test_expire_cursor_every(jsonl: Path) -> None:
    with TicketApiServer(jsonl, TOKEN, expire_cursor_every=2) as s:
        c1 = get(s, limit=2).json()["next_cursor"]
        r1 = get(s, limit=2, cursor=c1)
        assert r1.status_code == 200
        assert get(s, limit=2, cursor=r1.json()["next_cursor"]).status_code == 410
        assert get(s, limit=2).status_code == 200  # requests without a cursor are never expired


def test_reloads_when_the_file_changes(jsonl: Path, server: TicketApiServer) -> None:
    assert 8 not in ids(get(server, limit=1000))
    with jsonl.open("a", encoding="utf-8") as f:  # the generator's "advance": appended versions
        f.write(json.dumps({"id": 8, "status": "open", "updated_at": "2024-01-06T01:00:00Z"}) + "\n")
        f.write(json.dumps({"id": 2, "status": "solved", "updated_at": "2024-01-06T02:00:00Z"}) + "\n")
    st = jsonl.stat()
    os.utime(jsonl, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    r = get(server, updated_since="2024-01-06T00:00:00Z")
    assert ids(r) == [8, 2]
    assert r.json()["tickets"][1]["status"] == "solved"
    assert ids(get(server, limit=1000)).count(2) == 1


def test_missing_file_is_503(tmp_path: Path) -> None:
    with TicketApiServer(tmp_path / "nope.jsonl", TOKEN) as s:
        assert get(s).status_code == 503


def test_token_is_never_logged(server: TicketApiServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    get(server)
    get(server, token="wrong-token")
    cursor = get(server, limit=2).json()["next_cursor"]
    get(server, limit=2, cursor=cursor)
    assert caplog.records, "the server logs its requests"
    assert TOKEN not in caplog.text
    assert "wrong-token" not in caplog.text
    assert TOKEN not in repr(server)


def test_url_and_stop(jsonl: Path) -> None:
    s = TicketApiServer(jsonl, TOKEN)
    with pytest.raises(RuntimeError):
        _ = s.url
    s.start()
    url = s.url
    assert url.startswith("http://127.0.0.1:")
    assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
    s.stop()
    s.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/healthz", timeout=2)
