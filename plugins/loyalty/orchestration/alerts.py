"""On-failure alerts: the DAG, the task, the night and the reason, to the log or a webhook.

Configure with ``LOYALTY_ALERT_WEBHOOK`` (a URL that accepts a JSON POST: Slack/Teams/
DingTalk-style incoming webhooks, or any HTTP endpoint). Without it the alert is logged.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger("loyalty.alerts")


def _describe(context: Any) -> dict[str, Any]:
    ti = context.get("ti") or context.get("task_instance")
    dag = context.get("dag")
    dag_run = context.get("dag_run")
    logical_date = context.get("logical_date")
    night = None
    if logical_date is not None:
        from loyalty.extract.night import Night

        night = Night.for_run(logical_date).batch_id
    exc = context.get("exception")
    return {
        "dag_id": getattr(dag, "dag_id", None) or getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(dag_run, "run_id", None) or context.get("run_id"),
        "night": night,
        "try_number": getattr(ti, "try_number", None),
        "reason": f"{type(exc).__name__}: {exc}" if exc is not None else context.get("reason", "failed"),
    }


class LoyaltyFailureNotifier(BaseNotifier):
    """Sends one message per failure; never raises (an alert must not hide the real error)."""

    def __init__(self, webhook_url: str | None = None, timeout: float = 10.0):
        super().__init__()
        self.webhook_url = webhook_url
        self.timeout = timeout

    def notify(self, context: Any) -> None:
        info = _describe(context)
        text = (
            f"[loyalty] {info['dag_id']} failed: task {info['task_id']} of night {info['night']} "
            f"(run {info['run_id']}): {info['reason']}"
        )
        url = self.webhook_url or os.environ.get("LOYALTY_ALERT_WEBHOOK")
        log.error("ALERT %s", text)
        if not url:
            return
        body = json.dumps({"text": text, **info}, default=str).encode()
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (configured URL)
                log.info("alert delivered to webhook (HTTP %s)", resp.status)
        except Exception as exc:  # pragma: no cover - reported, not raised
            log.error("alert webhook %s failed: %s", url.split("?")[0], exc)
