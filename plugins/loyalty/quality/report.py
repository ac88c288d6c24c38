"""The night's audit report: one self-contained HTML page (no external assets) for auditors.

Sections: load ledger reconciliation, quarantine by table and reason (with sample rows),
Great Expectations results (failing first), dbt test/model results, link to Data Docs, and the
night's evidence manifest with its SHA-256 (when given). Quarantined rows show their Chinese text
(survey comments, cities) in the shipped Noto Sans SC, embedded as a subset of the page's own
characters (``loyalty.quality.fonts``), so it reads where no CJK font is installed.
"""

from __future__ import annotations

import html
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loyalty import contracts
from loyalty.config import Settings
from loyalty.extract import batches
from loyalty.quality import fonts, results

log = logging.getLogger(__name__)
SAMPLE_ROWS = 5
_CSS = """
body{font-family:__STACK__;margin:2em;color:#222}
h1{font-size:1.6em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right}
tr.fail td{background:#fde2e2}tr.warn td{background:#fff4d6}tr.ok td{background:#fff}
.badge{display:inline-block;padding:.1em .5em;border-radius:.4em;color:#fff;font-weight:600}
.badge.fail{background:#c0392b}.badge.warn{background:#d68910}.badge.ok{background:#1e8449}
code,.mono{font-family:ui-monospace,Menlo,Consolas,'__FAMILY__',monospace;font-size:.85em;word-break:break-all}
.muted{color:#777}
""".replace("__STACK__", fonts.FONT_STACK).replace("__FAMILY__", fonts.FAMILY)
_FONT_FACES = "/*font-faces*/"


# CJK radicals, punctuation, kana, ideographs and compatibility ideographs, fullwidth forms: what
# the shipped font is for. Latin punctuation (… · – Σ) stays in the page's Latin font: Noto Sans SC
# draws an ellipsis full-width and centred.
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


def font_faces(text: str) -> str:
    """``fonts.font_face_css`` of the CJK characters of ``text`` (a page's whole HTML: its text,
    and the labels and data its charts draw), without fontTools' INFO lines about every table it cuts."""
    subset_log = logging.getLogger("fontTools.subset")
    level = subset_log.level
    subset_log.setLevel(max(level, logging.WARNING))
    try:
        return fonts.font_face_css("".join(sorted(set(_CJK.findall(text)))))
    finally:
        subset_log.setLevel(level)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _table(headers: list[str], rows: list[list[Any]], classes: list[str] | None = None, num: set[int] | None = None) -> str:
    num = num or set()
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in headers), "</tr></thead><tbody>"]
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes else ""
        cells = "".join(f'<td class="num">{_e(v)}</td>' if j in num else f"<td>{v if isinstance(v, _Raw) else _e(v)}</td>"
                        for j, v in enumerate(row))
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


class _Raw(str):
    """Already-escaped HTML for a cell."""


def _badge(ok: bool | None, text: str | None = None) -> _Raw:
    cls = "ok" if ok else ("warn" if ok is None else "fail")
    return _Raw(f'<span class="badge {cls}">{_e(text or ("yes" if ok else "no"))}</span>')


def _ledger_section(settings: Settings, batch_id: str) -> str:
    names = list(contracts.ALL_TABLES)
    if settings.raw_dir.exists():
        names += sorted(p.name for p in settings.raw_dir.iterdir() if p.is_dir() and p.name not in names and p.name != "_files")
    rows: list[list[Any]] = []
    classes: list[str] = []
    notes: list[list[Any]] = []
    for name in names:
        rec = batches.read_record(batches.batch_dir(settings, name, batch_id))
        notes += [[name, n] for n in (rec.schema_notes if rec is not None else [])]
        if rec is None:
            rows.append([name, "", "", "", "", "", "", _badge(False, "no batch landed")])
            classes.append("fail")
            continue
        ok = rec.rows_read == rec.rows_landed + rec.rows_quarantined + rec.rows_duplicate
        rows.append([name, rec.source, rec.mode, rec.rows_read, rec.rows_landed, rec.rows_quarantined, rec.rows_duplicate,
                     _badge(ok)])
        classes.append("ok" if ok else "fail")
    return ("<h2 id=\"ledger\">Load ledger reconciliation</h2>"
            "<p>read = landed + quarantined + duplicates, from every <code>raw/&lt;table&gt;/batch_id="
            f"{_e(batch_id)}/_batch.json</code>.</p>"
            + _table(["table", "source", "mode", "read", "landed", "quarantined", "duplicates", "reconciled"], rows, classes,
                     {3, 4, 5, 6})
            + "<h3 id=\"schema\">Source schema changes</h3>"
            + (_table(["table", "change (additive: the night went on)"], notes) if notes
               else "<p>None: every source matched its contract.</p>"))


def display_payload(table: str, payload: str | None) -> str:
    """A quarantined row's payload as the report shows it: non-ASCII text as text (not \\u
    escapes), and the table's personal-data fields (contracts.PII_COLUMNS) redacted."""
    import json

    if not payload:
        return ""
    try:
        row = json.loads(payload)
    except ValueError:
        return "<redacted: not a JSON row>" if table in contracts.PII_COLUMNS else payload
    if isinstance(row, dict):
        for col in contracts.PII_COLUMNS.get(table, ()):
            if row.get(col) not in (None, ""):
                row[col] = "<redacted>"
    return json.dumps(row, ensure_ascii=False)


def _quarantine_section(settings: Settings, batch_id: str) -> str:
    import duckdb

    root = settings.quarantine_dir
    files = sorted(root.glob(f"*/batch_id={batch_id}/part-0.parquet")) if root.exists() else []
    head = "<h2 id=\"quarantine\">Quarantine</h2>"
    if not files:
        return head + "<p>No quarantined rows this night.</p>"
    con = duckdb.connect()
    try:
        src = "read_parquet([" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "], union_by_name=true)"
        counts = con.execute(
            f"select table_name, reason_code, count(*) from {src} group by all order by 1, 2"
        ).fetchall()
        samples = con.execute(
            f"""select table_name, reason_code, row_identity, reason_detail, raw_payload, source_file, source_line
                from (select *, row_number() over (partition by table_name, reason_code order by row_identity) as rn
                      from {src}) where rn <= {SAMPLE_ROWS} order by 1, 2, 3"""
        ).fetchall()
    finally:
        con.close()
    if not counts:
        return head + "<p>No quarantined rows this night.</p>"
    count_rows = [[t, r, contracts.REASON_CODES.get(r, ""), n] for t, r, n in counts]
    sample_rows = [[t, r, ident, detail, _Raw(f"<span class=\"mono\">{_e(display_payload(t, payload)[:300])}</span>"),
                    f or "", line or ""] for t, r, ident, detail, payload, f, line in samples]
    return (head + f"<p>{sum(n for *_, n in counts)} rows quarantined, by table and reason code.</p>"
            + _table(["table", "reason_code", "meaning", "rows"], count_rows, num={3})
            + f"<h3>Sample rows (up to {SAMPLE_ROWS} per table and reason)</h3>"
            + _table(["table", "reason_code", "row_identity", "reason_detail", "raw_payload", "source_file", "source_line"],
                     sample_rows))


def _gx_section(settings: Settings, batch_id: str) -> str:
    rows = results.read_results(settings, batch_id).to_pylist()
    head = "<h2 id=\"gx\">Great Expectations results</h2>"
    if not rows:
        return head + "<p>No validation results for this night (the gates did not run).</p>"

    def rank(r: dict[str, Any]) -> tuple[int, str, str]:
        if not r["success"]:
            return (0 if r["severity"] == "error" else 1, r["gate"], r["suite_name"])
        return (2, r["gate"], r["suite_name"])

    rows.sort(key=rank)
    failed_err = sum(1 for r in rows if not r["success"] and r["severity"] == "error")
    failed_warn = sum(1 for r in rows if not r["success"] and r["severity"] == "warning")
    suites: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        suites.setdefault(r["suite_name"], []).append(r)
    suite_rows = []
    suite_classes = []
    for name in sorted(suites, key=lambda s: (all(r["success"] or r["severity"] != "error" for r in suites[s]), s)):
        rs = suites[name]
        errs = sum(1 for r in rs if not r["success"] and r["severity"] == "error")
        warns = sum(1 for r in rs if not r["success"] and r["severity"] == "warning")
        suite_rows.append([name, rs[0]["gate"], len(rs), errs, warns, _badge(errs == 0, "passed" if errs == 0 else "FAILED")])
        suite_classes.append("fail" if errs else ("warn" if warns else "ok"))
    detail_rows, classes = [], []
    for r in rows:
        status = "passed" if r["success"] else ("FAILED" if r["severity"] == "error" else "warning")
        detail_rows.append([r["suite_name"], r["gate"], _Raw(f"<code>{_e(r['expectation_type'])}</code>"), r["column"] or "",
                            r["severity"], _badge(True if r["success"] else (False if r["severity"] == "error" else None),
                                                  status),
                            _Raw(f"<span class=\"mono\">{_e(r['observed_value'])}</span>"),
                            _Raw(f"<span class=\"mono\">{_e(r['kwargs_json'])}</span>")])
        classes.append("ok" if r["success"] else ("fail" if r["severity"] == "error" else "warn"))
    return (head + f"<p>{len(rows)} expectations in {len(suites)} suites: {failed_err} failing errors, "
            f"{failed_warn} failing warnings.</p>"
            + _table(["suite", "gate", "expectations", "failed errors", "failed warnings", "status"], suite_rows,
                     suite_classes, {2, 3, 4})
            + "<h3>Every expectation (failing first)</h3>"
            + _table(["suite", "gate", "expectation", "column", "severity", "result", "observed value", "kwargs"],
                     detail_rows, classes))


def _dbt_section(run_results: Path | None) -> str:
    head = "<h2 id=\"dbt\">dbt tests and models</h2>"
    if run_results is None or not Path(run_results).exists():
        return head + "<p>No dbt run_results.json for this night.</p>"
    try:
        entries = json.loads(Path(run_results).read_text()).get("results", [])
    except (OSError, json.JSONDecodeError) as exc:
        return head + f"<p>Cannot read {_e(run_results)}: {_e(exc)}</p>"
    bad = {"error", "fail", "runtime error"}
    entries = sorted(entries, key=lambda r: (0 if r.get("status") in bad else (1 if r.get("status") == "warn" else 2),
                                             r.get("unique_id", "")))
    rows, classes = [], []
    for r in entries:
        status = r.get("status")
        uid = r.get("unique_id", "")
        kind = uid.split(".", 1)[0] if uid else ""
        rows.append([uid, kind, _badge(None if status == "warn" else status not in bad, str(status)),
                     r.get("failures") if r.get("failures") is not None else "", r.get("message") or "",
                     f"{float(r.get('execution_time') or 0):.2f}"])
        classes.append("fail" if status in bad else ("warn" if status == "warn" else "ok"))
    n_bad = sum(1 for r in entries if r.get("status") in bad)
    return (head + f"<p>{len(entries)} nodes, {n_bad} failed or errored; from <code>{_e(run_results)}</code>.</p>"
            + _table(["node", "type", "status", "failures", "message", "seconds"], rows, classes, {3, 5}))


def _evidence_section(evidence: tuple[Path, str] | None) -> str:
    if evidence is None:
        return ""
    path, digest = evidence
    return ("<h2 id=\"evidence\">Evidence manifest</h2>"
            f"<p><a href=\"{_e(path.as_uri())}\">{_e(path.name)}</a>, SHA-256 <code>{_e(digest)}</code>: the hashes of "
            "every landed and quarantine file, the ledger, dbt's run results, the GX validations and each published "
            "table. Recompute them with <code>loyalty verify --night "
            f"{_e(path.stem.removeprefix('evidence_'))}</code>.</p>")


def build_audit_report(settings: Settings, batch_id: str, dbt_run_results: Path | None,
                       evidence: tuple[Path, str] | None = None) -> Path:
    """Write ``audit/reports/audit_<batch_id>.html`` and return its path; ``evidence`` is the
    night's manifest and its SHA-256 (linked and shown)."""
    from loyalty.quality.lineage_report import lineage_section
    from loyalty.quality.runner import docs_index_path

    out = settings.audit_dir / "reports" / f"audit_{batch_id}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    docs = docs_index_path(settings)
    docs_html = (f'<a href="{_e(docs.as_uri())}">{_e(docs)}</a>' if docs.exists()
                 else f"{_e(docs)} <span class=\"muted\">(not built yet)</span>")
    body = "".join([
        _ledger_section(settings, batch_id),
        _quarantine_section(settings, batch_id),
        _gx_section(settings, batch_id),
        _dbt_section(dbt_run_results),
        lineage_section(settings, batch_id),
        f"<h2 id=\"docs\">Data Docs</h2><p>Great Expectations Data Docs: {docs_html}</p>",
        _evidence_section(evidence),
    ])
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    evidence_link = ' · <a href="#evidence">evidence</a>' if evidence else ""
    page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Audit report {_e(batch_id)}</title>"
            f"<style>{_FONT_FACES}{_CSS}</style></head><body><h1>Loyalty warehouse audit report: night {_e(batch_id)}</h1>"
            f"<p class=\"muted\">Generated {generated}. Sections: <a href=\"#ledger\">ledger</a> · "
            "<a href=\"#quarantine\">quarantine</a> · <a href=\"#gx\">GX results</a> · <a href=\"#dbt\">dbt</a> · "
            "<a href=\"#docs\">Data Docs</a>" + evidence_link + f"</p>{body}</body></html>")
    # the shipped CJK font, cut to the characters this page shows (none: no @font-face at all)
    page = page.replace(_FONT_FACES, font_faces(page), 1)
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    log.info("audit report for %s: %s", batch_id, out)
    return out
