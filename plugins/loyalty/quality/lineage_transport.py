"""OpenLineage's file transport, one file per night: each event is appended to
``audit/lineage/batch_id=<night>/openlineage.jsonl`` of the night it belongs to
(``loyalty.quality.lineage.night_of_event``), with no network.

The project configures it for Airflow's OpenLineage provider in every deployment
(``loyalty.config.OPENLINEAGE_ENV``: the ``loyalty`` runner, the tests, the native deployment;
the same values in docker-compose.yml):
``AIRFLOW__OPENLINEAGE__TRANSPORT={"type": "loyalty.quality.lineage_transport.NightFileTransport"}``.
The folder is read when an event is written (``Settings.from_env()``), or given as ``root``.
Appends hold an exclusive ``flock`` on the file (task processes write side by side; the evidence
manifest reads under a shared one). An event with no night (none seen so far) goes to
``audit/lineage/unassigned/openlineage.jsonl`` with a warning.
"""

from __future__ import annotations

import fcntl
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openlineage.client.serde import Serde
from openlineage.client.transport.file import FileConfig, FileTransport

from loyalty.config import Settings

if TYPE_CHECKING:
    from openlineage.client.client import Event

log = logging.getLogger(__name__)


@dataclass
class NightFileConfig(FileConfig):
    """``root``: the lineage folder (default ``<audit dir>/lineage``, read per event)."""

    log_file_path: str = ""
    append: bool = True
    root: str | None = None

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> NightFileConfig:
        return cls(log_file_path="", append=True, root=params.get("root"))


class NightFileTransport(FileTransport):
    """The file transport, appending every event to its night's file."""

    kind = "file"
    config_class = NightFileConfig

    def __init__(self, config: NightFileConfig) -> None:  # no remote file systems: local files only
        self.config: NightFileConfig = config

    def path_for(self, event: dict[str, Any]) -> Path:
        from loyalty.quality.lineage import FILE_NAME, night_of_event

        settings = Settings.from_env()
        root = Path(self.config.root) if self.config.root else settings.audit_dir / "lineage"
        night = night_of_event(event, settings.business_tz)
        if night is None:
            log.warning("OpenLineage event of job %s names no night: written to %s",
                        (event.get("job") or {}).get("name"), root / "unassigned")
            return root / "unassigned" / FILE_NAME
        return root / f"batch_id={night}" / FILE_NAME

    def emit(self, event: Event) -> None:
        body = Serde.to_json(event)
        path = self.path_for(json.loads(body))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                f.write(body.encode("utf-8") + b"\n")
                f.flush()
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
