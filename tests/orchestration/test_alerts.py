"""The on-failure notifier posts the DAG, task, night and reason to a real HTTP endpoint."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from loyalty.orchestration.alerts import LoyaltyFailureNotifier


class _Sink(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Sink.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def webhook() -> str:
    _Sink.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def _context() -> dict:
    return {
        "ti": SimpleNamespace(task_id="land_surveys", dag_id="loyalty_nightly", try_number=1),
        "dag": SimpleNamespace(dag_id="loyalty_nightly"),
        "dag_run": SimpleNamespace(run_id="scheduled__2026-11-22T02:00:00+08:00"),
        "logical_date": datetime(2026, 11, 22, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        "exception": RuntimeError("survey file surveys_20261121.csv rejected (bad_header)"),
    }


def test_webhook_receives_dag_task_night_and_reason(webhook: str) -> None:
    LoyaltyFailureNotifier(webhook_url=webhook).notify(_context())
    assert len(_Sink.received) == 1
    msg = _Sink.received[0]
    assert msg["dag_id"] == "loyalty_nightly" and msg["task_id"] == "land_surveys"
    assert msg["night"] == "2026-11-21"
    assert "bad_header" in msg["reason"] and "surveys_20261121.csv" in msg["text"]


def test_without_webhook_the_alert_is_logged(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOYALTY_ALERT_WEBHOOK", raising=False)
    with caplog.at_level(logging.ERROR, logger="loyalty.alerts"):
        LoyaltyFailureNotifier().notify(_context())
    assert any("ALERT" in r.message and "land_surveys" in r.message and "2026-11-21" in r.message for r in caplog.records)


def test_an_unreachable_webhook_does_not_raise(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="loyalty.alerts"):
        LoyaltyFailureNotifier(webhook_url="http://127.0.0.1:9/none", timeout=1).notify(_context())
    assert any("webhook" in r.message for r in caplog.records)
