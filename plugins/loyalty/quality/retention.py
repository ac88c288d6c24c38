"""Keep the per-night artefacts of the newest N nights (``LOYALTY_RETENTION_NIGHTS``, default 90).

Every night writes GX validation results (``gx/uncommitted/validations``) and their Data Docs
pages, the night's result files (``audit/validations``), dbt's run results (``audit/dbt``)
and an audit report. Without pruning they grow for ever. The nightly DAG's ``retention`` task
removes what belongs to nights older than the newest N, *before* the raw gate renders the
Data Docs index (so the index lists only what is kept). A night's validation rows are copied
into the warehouse (``audit.validation_results_archive``) before its files go:
``audit.validation_results`` keeps the full history. The raw zone, the quarantine and the
evidence manifests (``audit/evidence``, a few kB a night, what an auditor verifies a night by)
are history and are not touched; the morning reports (``audit/morning``) are pruned with the
audit reports.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

from loyalty.config import Settings

log = logging.getLogger(__name__)
NIGHT = re.compile(r"\d{4}-\d{2}-\d{2}")


def retention_nights() -> int:
    n = int(os.environ.get("LOYALTY_RETENTION_NIGHTS", "90"))
    if n < 1:
        raise ValueError("LOYALTY_RETENTION_NIGHTS must be at least 1")
    return n


def _gx_run_dirs(settings: Settings) -> dict[str, list[Path]]:
    """GX's stored results and their pages, by night (run names are ``<gate>-<night>``)."""
    gx = settings.data_dir / "gx" / "uncommitted"
    out: dict[str, list[Path]] = {}
    for root in (gx / "validations", gx / "data_docs" / "local_site" / "validations"):
        if not root.exists():
            continue
        for suite in root.iterdir():
            if not suite.is_dir():
                continue
            for run in suite.iterdir():
                m = re.fullmatch(r"[a-z_]+-(\d{4}-\d{2}-\d{2})", run.name)
                if m and run.is_dir():
                    out.setdefault(m.group(1), []).append(run)
    return out


def _artefacts(settings: Settings) -> dict[str, list[Path]]:
    """Every per-night artefact on disk, by night."""
    found = _gx_run_dirs(settings)
    for folder in (settings.audit_dir / "validations", settings.audit_dir / "dbt"):
        if folder.exists():
            for d in folder.glob("batch_id=*"):
                found.setdefault(d.name.split("=", 1)[1], []).append(d)
    for folder, pattern in ((settings.audit_dir / "reports", "audit_*.html"), (settings.audit_dir / "morning", "morning_*")):
        if folder.exists():
            for f in folder.glob(pattern):
                m = NIGHT.search(f.name)
                if m:
                    found.setdefault(m.group(0), []).append(f)
    return {night: paths for night, paths in found.items() if NIGHT.fullmatch(night)}


def apply_retention(settings: Settings, tonight: str | None = None, keep: int | None = None) -> dict[str, object]:
    """Remove the artefacts of every night but the newest ``keep`` (``tonight``, whose artefacts
    this night is about to write, counts as one of them); returns what was done."""
    keep = keep or retention_nights()
    artefacts = _artefacts(settings)
    nights = sorted(set(artefacts) | ({tonight} if tonight else set()))
    artefacts.setdefault(tonight or "", [])
    drop = nights[:-keep] if len(nights) > keep else []
    archived = 0
    if drop:
        from loyalty.quality.results import archive_night
        from loyalty.warehouse.engines import open_engine

        with open_engine(settings) as wh:
            if wh.exists():
                archived = sum(wh.execute(lambda con: [archive_night(con, settings, night) for night in drop]))
    removed = 0
    for night in drop:
        for p in artefacts[night]:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed += 1
    if drop:
        log.info("retention (%d nights): removed the artefacts of %d night(s) (%s … %s, %d paths); %d validation rows "
                 "archived in audit.validation_results_archive", keep, len(drop), drop[0], drop[-1], removed, archived)
    else:
        log.info("retention (%d nights): %d night(s) of artefacts on disk, nothing to remove", keep, len(nights))
    return {"kept": nights[-keep:], "removed_nights": drop, "archived_rows": archived}
