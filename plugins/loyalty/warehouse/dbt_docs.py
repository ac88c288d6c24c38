"""dbt docs (the lineage page) for readers: regenerated when the dbt project changed.

The lineage, descriptions, tests and columns change only with the project's files, so the
nightly build regenerates the page only when their fingerprint differs from the one the page
was made from (``data/dbt_docs/.project_sha256``), or when the page is missing; deleting the
folder (or ``generate_docs(..., force=True)``) has the next build regenerate it. The page is dbt's
``docs generate --static`` one: self-contained, it opens from the file system.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from loyalty.config import DBT_PROJECT_DIR, Settings
from loyalty.warehouse.dbt_project import latest_partial_parse, target_name

log = logging.getLogger("loyalty.dbt_docs")
PROJECT_PARTS = ("dbt_project.yml", "models", "macros", "tests", "profiles.yml")


def docs_dir(settings: Settings) -> Path:
    return settings.data_dir / "dbt_docs"


def project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """sha256 over the project's own files (paths and contents), in a stable order."""
    h = hashlib.sha256()
    for part in PROJECT_PARTS:
        root = project_dir / part
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            h.update(str(f.relative_to(project_dir)).encode())
            h.update(b"\0")
            h.update(f.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


def docs_are_current(settings: Settings) -> bool:
    out = docs_dir(settings)
    stamp = out / ".project_sha256"
    return (out / "static_index.html").exists() and stamp.exists() and stamp.read_text().strip() == project_fingerprint()


def generate_docs(settings: Settings, env: dict[str, str], *, force: bool = False) -> Path | None:
    """Regenerate the static docs page when the project changed (or ``force``); returns its path,
    or None when the page was already current. Runs dbt in this process (dbt's runner)."""
    out = docs_dir(settings)
    if not force and docs_are_current(settings):
        log.info("dbt docs are current (project unchanged): %s", out / "static_index.html")
        return None
    from dbt.cli.main import dbtRunner

    from loyalty.warehouse.dbt_artifacts import release_duckdb

    fingerprint = project_fingerprint()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".dbt_docs-", dir=out.parent))
    try:
        partial = latest_partial_parse()
        if partial is not None:
            shutil.copy2(partial, work / "partial_parse.msgpack")
        args = ["docs", "generate", "--static", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                str(DBT_PROJECT_DIR), "--target", target_name(),
                "--target-path", str(work), "--log-path", str(work / "logs"), "--quiet"]
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            res = dbtRunner().invoke(args)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            release_duckdb()
        if not res.success:
            raise RuntimeError(f"dbt docs generate failed: {res.exception or 'see the log above'}")
        (work / ".project_sha256").write_text(fingerprint)
        work.chmod(0o755)  # mkdtemp makes it private; the page is for lineage readers (it holds no PII)
        keep = {"static_index.html", "index.html", "manifest.json", "catalog.json", ".project_sha256"}
        for p in list(work.iterdir()):
            if p.name not in keep:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        old = out.with_name(out.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if out.exists():
            os.replace(out, old)
        os.replace(work, out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("dbt docs (lineage) regenerated: %s", out / "static_index.html")
    return out / "static_index.html"
