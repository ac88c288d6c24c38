"""The night's evidence manifest, and ``loyalty verify``: what produced the night's numbers,
as hashes an auditor can recompute without trusting the pipeline.

Every night, pass or fail, the audit step writes ``audit/evidence/evidence_<night>.json``:

- the project's version (git commit of the checkout, else the package version) and the pinned
  versions of Airflow, dbt, cosmos, GX and DuckDB;
- the SHA-256 of every landed file and quarantine file of the night's batches, and the
  ledger counts of each batch (read = landed + quarantined + duplicates);
- the digest of dbt's run results (and its counts by status) and every GX validation's run id
  and success;
- the night's OpenLineage file (``loyalty.quality.lineage``) as it was when the manifest was
  written: its bytes, events and SHA-256 (events appended later, the audit task's own end and
  the DAG run's, are outside the digest);
- when the night was published: the SHA-256 of each published table's content in a canonical,
  engine-independent form (see ``canonical_digest``) and of the serving file itself.

``verify(settings, night)`` recomputes every hash from the raw zone and the serving file and
returns one line per item: ``OK``, ``DIFFERS`` or ``MISSING``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from loyalty.config import Settings

MANIFEST_VERSION = 1
PINNED = ("apache-airflow", "dbt-core", "dbt-duckdb", "astronomer-cosmos", "great-expectations", "duckdb")


def evidence_dir(settings: Settings) -> Path:
    return settings.audit_dir / "evidence"


def manifest_path(settings: Settings, night: str) -> Path:
    return evidence_dir(settings) / f"evidence_{night}.json"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
             "UHUGEINT"}


def _canonical_expr(column: str, data_type: str) -> str:
    """SQL for one value as text, the same whichever engine built the table: NULL as \\N, every
    non-integer number with 6 decimals (numeric(18,2) 3.50 and double 3.5 are both 3.500000;
    -0.000000 is 0.000000), booleans true/false, dates and times as DuckDB writes them (ISO 8601),
    text with backslash, tab and newline escaped."""
    c = '"' + column.replace('"', '""') + '"'
    t = data_type.upper()
    if t == "BOOLEAN":
        expr = f"case when {c} then 'true' else 'false' end"
    elif t in _INTEGERS:
        expr = f"cast({c} as varchar)"
    elif t.startswith("DECIMAL") or t in ("DOUBLE", "FLOAT", "REAL"):
        num = f"cast(round(cast({c} as double), 6) as decimal(38, 6))"
        expr = (f"case when isnan(cast({c} as double)) then 'NaN' when {num} = 0 then '0.000000'"
                f" else cast({num} as varchar) end")
    elif t == "VARCHAR":
        expr = f"replace(replace(replace({c}, '\\', '\\\\'), chr(9), '\\t'), chr(10), '\\n')"
    else:
        expr = f"cast({c} as varchar)"
    return f"coalesce({expr}, '\\N')"


def canonical_digest(con: Any, relation: str) -> tuple[int, str]:
    """Rows and SHA-256 of a DuckDB table's content: a header of the sorted column names, then
    every row's values in that column order, tab-separated, rows sorted (byte order). Computed
    by DuckDB and streamed, so a medium night's marts take about a second."""
    schema, _, name = relation.rpartition(".")
    cols = sorted(con.execute("select column_name, data_type from information_schema.columns"
                              " where table_schema = ? and table_name = ?", [schema or "main", name]).fetchall())
    h = hashlib.sha256(("\t".join(c for c, _ in cols) + "\n").encode())
    line = " || chr(9) || ".join(_canonical_expr(c, t) for c, t in cols) or "''"
    quoted = ".".join('"' + p.replace('"', '""') + '"' for p in relation.split("."))
    reader = con.sql(f"select {line} as line from {quoted} order by line").to_arrow_reader(50_000)
    n = 0
    for batch in reader:
        lines = batch.column(0).to_pylist()
        n += len(lines)
        h.update(("\n".join(lines) + "\n").encode())
    return n, h.hexdigest()


def project_version() -> str:
    root = Path(__file__).resolve().parents[3]
    if (root / ".git").exists():
        try:
            commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                    check=True, timeout=10).stdout.strip()
            dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, check=True, timeout=10).stdout.strip()
            return f"git {commit}" + (" (with uncommitted changes)" if dirty else "")
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        return f"package loyalty-warehouse {metadata.version('loyalty-warehouse')}"
    except metadata.PackageNotFoundError:
        return "unknown"


def _versions() -> dict[str, str]:
    out = {}
    for name in PINNED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _night_files(root: Path, night: str) -> dict[str, str]:
    """relative path -> sha256 of every file of the night's batches under ``root``."""
    if not root.exists():
        return {}
    files = sorted(p for p in root.glob(f"*/batch_id={night}/*") if p.is_file())
    return {str(p.relative_to(root)): sha256_file(p) for p in files}


def _ledger(settings: Settings, night: str) -> dict[str, dict[str, Any]]:
    from loyalty.extract import batches

    out: dict[str, dict[str, Any]] = {}
    if not settings.raw_dir.exists():
        return out
    for table_dir in sorted(p for p in settings.raw_dir.iterdir() if p.is_dir()):
        rec = batches.read_record(batches.batch_dir(settings, table_dir.name, night))
        if rec is not None:
            out[table_dir.name] = {"source": rec.source, "mode": rec.mode, "rows_read": rec.rows_read,
                                   "rows_landed": rec.rows_landed, "rows_quarantined": rec.rows_quarantined,
                                   "rows_duplicate": rec.rows_duplicate}
    return out


def _dbt(run_results: Path | None) -> dict[str, Any]:
    if run_results is None or not run_results.exists():
        return {"run_results": None}
    results = json.loads(run_results.read_text()).get("results", [])
    by_status: dict[str, int] = {}
    for r in results:
        by_status[r.get("status", "?")] = by_status.get(r.get("status", "?"), 0) + 1
    return {"run_results": run_results.name, "sha256": sha256_file(run_results), "nodes": len(results),
            "by_status": dict(sorted(by_status.items()))}


def _gx(settings: Settings, night: str) -> list[dict[str, Any]]:
    from loyalty.quality.results import read_results

    runs: dict[tuple[str, str, str], bool] = {}
    for r in read_results(settings, night).to_pylist():
        key = (r["gate"] or "", r["suite_name"] or "", r["run_id"] or "")
        runs[key] = runs.get(key, True) and bool(r["success"] or r["severity"] == "warning")
    return [{"gate": g, "suite": s, "result_id": rid, "success": ok} for (g, s, rid), ok in sorted(runs.items())]


def _lineage(settings: Settings, night: str) -> dict[str, Any] | None:
    from loyalty.quality.lineage import file_record, lineage_path

    try:
        return file_record(settings, night)
    except OSError as exc:  # the manifest is written whatever else failed
        return {"file": str(lineage_path(settings, night).relative_to(settings.audit_dir)), "error": str(exc)}


def _check_lineage(settings: Settings, recorded: dict[str, Any] | None) -> list[Check]:
    """The lineage file's first ``bytes`` bytes must still hash to the recorded digest."""
    from loyalty.quality.lineage import prefix_sha256

    if recorded is None:
        return []
    path = settings.audit_dir / recorded["file"]
    item = f"lineage {recorded['file']}"
    if "error" in recorded:
        return [Check("MISSING", item, f"could not be read when the manifest was written: {recorded['error']}")]
    if not path.exists():
        return [Check("MISSING", item, "recorded in the manifest, not on disk")]
    digest, size = prefix_sha256(path, recorded["bytes"])
    if size < recorded["bytes"]:
        return [Check("DIFFERS", item, f"{size} bytes now, {recorded['bytes']} recorded")]
    if digest != recorded["sha256"]:
        return [Check("DIFFERS", item, f"sha256 of its first {recorded['bytes']} bytes {digest[:12]}…, "
                                       f"manifest {recorded['sha256'][:12]}…")]
    later = f"; {size - recorded['bytes']} bytes appended since (the night's last events)" if size > recorded["bytes"] else ""
    return [Check("OK", item, f"{recorded['events']} events{later}")]


def published_tables(serving: Path) -> dict[str, dict[str, Any]]:
    """schema.table -> rows and canonical digest, for every table of the serving file."""
    import duckdb

    con = duckdb.connect(str(serving), read_only=True)
    try:
        out = {}
        for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
                " order by 1, 2").fetchall():
            rows, digest = canonical_digest(con, f"{schema}.{name}")
            out[f"{schema}.{name}"] = {"rows": rows, "sha256": digest}
        return out
    finally:
        con.close()


def build_manifest(settings: Settings, night: str, run_results: Path | None) -> dict[str, Any]:
    from loyalty.warehouse.publish import published_night

    held = published_night(settings)
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "night": night,
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "project_version": project_version(),
        "versions": _versions(),
        "landed_files": _night_files(settings.raw_dir, night),
        "quarantine_files": _night_files(settings.quarantine_dir, night),
        "ledger": _ledger(settings, night),
        "dbt": _dbt(run_results),
        "gx_validations": _gx(settings, night),
        "lineage": _lineage(settings, night),
    }
    if held == night:
        manifest["published"] = {"serving_file": settings.serving_path.name,
                                 "serving_sha256": sha256_file(settings.serving_path),
                                 "tables": published_tables(settings.serving_path)}
    else:
        manifest["published"] = None
        manifest["not_published"] = (f"the serving file holds night {held}" if held else "no serving file") + \
            f": night {night} was not published (see its audit report)"
    return manifest


def write_manifest(settings: Settings, night: str, run_results: Path | None) -> tuple[Path, str]:
    """Write the night's manifest (atomically); its path and its own SHA-256."""
    path = manifest_path(settings, night)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps(build_manifest(settings, night, run_results), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(body)
    tmp.replace(path)
    return path, hashlib.sha256(body.encode()).hexdigest()


@dataclass
class Check:
    status: str  # OK | DIFFERS | MISSING
    item: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.status:8} {self.item}" + (f"  ({self.detail})" if self.detail else "")


def _compare_files(kind: str, root: Path, expected: dict[str, str], night: str) -> list[Check]:
    checks = []
    actual_paths = set(_night_files(root, night))
    for rel, digest in sorted(expected.items()):
        p = root / rel
        if not p.exists():
            checks.append(Check("MISSING", f"{kind} {rel}", "recorded in the manifest, not on disk"))
            continue
        got = sha256_file(p)
        checks.append(Check("OK" if got == digest else "DIFFERS", f"{kind} {rel}",
                            "" if got == digest else f"sha256 {got[:12]}…, manifest {digest[:12]}…"))
    for rel in sorted(actual_paths - set(expected)):
        checks.append(Check("DIFFERS", f"{kind} {rel}", "on disk, not in the manifest"))
    return checks


def verify(settings: Settings, night: str) -> list[Check]:
    """Recompute every hash of the night's manifest; one Check per item."""
    from loyalty.warehouse.publish import published_night

    path = manifest_path(settings, night)
    if not path.exists():
        return [Check("MISSING", f"manifest {path}", "no evidence was written for this night")]
    manifest = json.loads(path.read_text())
    checks = _compare_files("landed", settings.raw_dir, manifest["landed_files"], night)
    checks += _compare_files("quarantine", settings.quarantine_dir, manifest["quarantine_files"], night)
    checks += _check_lineage(settings, manifest.get("lineage"))
    pub = manifest.get("published")
    if pub is None:
        checks.append(Check("OK", "serving file", manifest.get("not_published", "not published")))
        return checks
    serving = settings.serving_path
    if not serving.exists():
        return [*checks, Check("MISSING", f"serving file {serving}")]
    held = published_night(settings)
    got = sha256_file(serving)
    note = "" if held == night else f"the serving file now holds night {held}"
    checks.append(Check("OK" if got == pub["serving_sha256"] else "DIFFERS", f"serving file {serving.name}",
                        "" if got == pub["serving_sha256"] else
                        f"sha256 {got[:12]}…, manifest {pub['serving_sha256'][:12]}…" + (f"; {note}" if note else "")))
    tables = published_tables(serving)
    for name, rec in sorted(pub["tables"].items()):
        now = tables.get(name)
        if now is None:
            checks.append(Check("MISSING", f"table {name}", "published that night, not in the serving file"))
        elif now["sha256"] != rec["sha256"]:
            checks.append(Check("DIFFERS", f"table {name}",
                                f"{now['rows']} rows now, {rec['rows']} then; content digest differs"
                                + (f"; {note}" if note else "")))
        else:
            checks.append(Check("OK", f"table {name}", f"{rec['rows']} rows"))
    for name in sorted(set(tables) - set(pub["tables"])):
        checks.append(Check("DIFFERS", f"table {name}", "in the serving file, not in the manifest"))
    return checks
