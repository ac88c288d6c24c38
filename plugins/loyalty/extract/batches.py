"""The raw zone's batches: paths, ``_batch.json`` ledger records, atomic replacement, watermarks.

Layout (see docs/ARCHITECTURE.md)::

    raw/<table>/batch_id=<id>/part-0.parquet
    raw/<table>/batch_id=<id>/_batch.json
    quarantine/<table>/batch_id=<id>/part-0.parquet

A batch is written into a hidden temporary folder and renamed into place, so a reader
(or a crashed task) never sees half a batch, and re-running a night replaces the batch whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from loyalty.config import Settings


class LedgerMismatch(RuntimeError):
    """read != landed + quarantined + duplicates: something would be silently lost."""


@dataclass
class BatchRecord:
    table: str
    source: str
    batch_id: str
    data_interval_start: str
    data_interval_end: str
    extracted_at: str
    mode: str  # "full" or "incremental"
    window_start: str | None
    window_end: str
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    max_cursor: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    checksum: str | None = None  # content checksum of the landed rows (metadata columns excluded)
    schema_notes: list[str] = field(default_factory=list)  # additive source changes seen this night

    def check(self) -> None:
        if self.rows_read != self.rows_landed + self.rows_quarantined + self.rows_duplicate:
            raise LedgerMismatch(
                f"{self.table} batch {self.batch_id}: read {self.rows_read} != landed {self.rows_landed}"
                f" + quarantined {self.rows_quarantined} + duplicates {self.rows_duplicate};"
                " refusing to publish a batch that loses rows"
            )


def batch_dir(settings: Settings, table: str, batch_id: str) -> Path:
    return settings.raw_dir / table / f"batch_id={batch_id}"


def quarantine_dir(settings: Settings, table: str, batch_id: str) -> Path:
    return settings.quarantine_dir / table / f"batch_id={batch_id}"


def raw_glob(settings: Settings, table: str) -> str:
    return str(settings.raw_dir / table / "batch_id=*" / "part-0.parquet")


def quarantine_glob(settings: Settings) -> str:
    return str(settings.quarantine_dir / "*" / "batch_id=*" / "part-0.parquet")


def staging_dir(final: Path) -> Path:
    """A hidden sibling folder to build a batch in before it is renamed into place."""
    tmp = final.parent / f".tmp-{final.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    return tmp


def make_private(path: Path, *, up_to: Path | None = None) -> None:
    """Owner-only access: folders 0700 and files 0600 under ``path`` (the raw zone and the
    quarantine hold raw PII), and every folder from ``path``'s parent up to ``up_to``."""
    if path.is_dir():
        os.chmod(path, 0o700)
        for root, dirs, files in os.walk(path):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o700)
            for f in files:
                os.chmod(os.path.join(root, f), 0o600)
    elif path.exists():
        os.chmod(path, 0o600)
    if up_to is not None:
        parent = path.parent
        while True:
            os.chmod(parent, 0o700)
            if parent == up_to or up_to not in parent.parents:
                break
            parent = parent.parent


def replace_dir(tmp: Path, final: Path, *, private_root: Path | None = None) -> None:
    """Move ``tmp`` to ``final``, replacing what was there (rename-based). With
    ``private_root`` (the raw zone, the quarantine), the batch and every folder up to that root
    are made owner-only first (raw PII)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if private_root is not None:
        make_private(tmp, up_to=private_root)
    old = None
    if final.exists():
        old = final.parent / f".old-{final.name}-{uuid.uuid4().hex[:8]}"
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_record(directory: Path, record: BatchRecord) -> None:
    record.check()
    (directory / "_batch.json").write_text(json.dumps(asdict(record), indent=2, ensure_ascii=False))


def read_record(directory: Path) -> BatchRecord | None:
    path = directory / "_batch.json"
    if not path.exists():
        return None
    return BatchRecord(**json.loads(path.read_text()))


def later_batches(settings: Settings, table: str, batch_id: str) -> list[str]:
    """Batch ids of ``table`` landed for nights after ``batch_id``."""
    root = settings.raw_dir / table
    if not root.exists():
        return []
    return sorted(b for b in (d.name.split("=", 1)[1] for d in root.glob("batch_id=*")) if b > batch_id)


def kept_older_batch(settings: Settings, table: str, batch_id: str) -> BatchRecord | None:
    """The existing batch of an *older* night, kept as it is: when ``table`` already has
    batches of later nights, its source no longer holds this night's versions of the rows
    changed since, so extracting again would replace the batch with a poorer copy. None when
    the night has no batch yet, or is the newest."""
    rec = read_record(batch_dir(settings, table, batch_id))
    if rec is None or not later_batches(settings, table, batch_id):
        return None
    return rec


def prior_records(settings: Settings, table: str, batch_id: str) -> list[BatchRecord]:
    """Ledger records of the batches landed before ``batch_id`` (sorted by batch id)."""
    root = settings.raw_dir / table
    if not root.exists():
        return []
    records = []
    for d in sorted(root.glob("batch_id=*")):
        bid = d.name.split("=", 1)[1]
        if bid < batch_id:
            rec = read_record(d)
            if rec is not None:
                records.append(rec)
    return records


def prior_parquet_files(settings: Settings, table: str, batch_id: str) -> list[str]:
    root = settings.raw_dir / table
    if not root.exists():
        return []
    return [
        str(d / "part-0.parquet")
        for d in sorted(root.glob("batch_id=*"))
        if d.name.split("=", 1)[1] < batch_id and (d / "part-0.parquet").exists()
    ]


def watermark(settings: Settings, table: str, batch_id: str) -> datetime | None:
    """The newest cursor value landed by any earlier batch: what has been landed, not the clock."""
    marks = [r.max_cursor for r in prior_records(settings, table, batch_id) if r.max_cursor]
    return datetime.fromisoformat(max(marks)) if marks else None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
