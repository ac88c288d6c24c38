"""The audit report and Data Docs: written pass or fail, and rendered by a real headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from quality_data import BATCH, clean_rows, land

from loyalty.extract import batches
from loyalty.quality.gates import GateFailed, data_docs_index, validate_raw_batch
from loyalty.quality.report import build_audit_report

FAILING = "expect_column_values_to_be_in_set"


def _failed_night(settings, tmp_path):
    """orders with a bad status (error), stores clean, some quarantine rows and a dbt run_results.json."""
    rows = clean_rows("orders", 10)
    rows[2]["status"] = "teleported"
    land(settings, "orders", rows, quarantined=2)
    land(settings, "stores", clean_rows("stores", 3))
    with pytest.raises(GateFailed) as info:
        validate_raw_batch(settings, "orders", BATCH)
    summary = validate_raw_batch(settings, "stores", BATCH)
    q = batches.quarantine_dir(settings, "orders", BATCH)
    q.mkdir(parents=True)
    pq.write_table(pa.table({
        "table_name": ["orders", "orders"], "source": ["shop", "shop"], "batch_id": [BATCH, BATCH],
        "row_identity": ["901", "902"], "reason_code": ["invalid_value", "null_key"],
        "reason_detail": ["channel 'fax' not accepted", "order_id is empty"],
        "raw_payload": ['{"order_id": 901, "channel": "fax"}', '{"order_id": null}'],
        "source_file": [None, None], "source_line": pa.array([None, None], pa.int64()),
        "quarantined_at": pa.array([None, None], pa.timestamp("us")),
    }), q / "part-0.parquet")
    run_results = tmp_path / "run_results.json"
    run_results.write_text(json.dumps({"results": [
        {"unique_id": "model.loyalty.fct_orders", "status": "success", "failures": None, "message": "OK",
         "execution_time": 0.4},
        {"unique_id": "test.loyalty.unique_fct_orders_order_id", "status": "fail", "failures": 3,
         "message": "Got 3 results, configured to fail if != 0", "execution_time": 0.1},
    ]}))
    return str(info.value), summary, run_results


def test_audit_report_sections(settings, tmp_path):
    message, _, run_results = _failed_night(settings, tmp_path)
    assert "teleported" in message
    path = build_audit_report(settings, BATCH, run_results)
    assert path == settings.audit_dir / "reports" / f"audit_{BATCH}.html"
    html = path.read_text()
    assert "Load ledger reconciliation" in html and "no batch landed" in html  # e.g. tickets
    assert "invalid_value" in html and "channel &#x27;fax&#x27; not accepted" in html
    assert FAILING in html and "teleported" in html
    # failing expectations come first and are highlighted
    gx = html[html.index('id="gx"'):]
    assert gx.index(FAILING) < gx.index("expect_table_columns_to_match_set")
    assert '<tr class="fail"><td>raw_orders</td>' in gx
    assert "unique_fct_orders_order_id" in html and "Got 3 results" in html
    assert data_docs_index(settings).as_uri() in html
    assert "http://" not in html and "https://" not in html  # self-contained


def test_audit_report_without_anything(settings):
    html = build_audit_report(settings, BATCH, None).read_text()
    assert "No validation results" in html and "No dbt run_results.json" in html


def _chromium() -> str:
    exe = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if exe is None:
        pytest.fail("chromium is not installed: run `apt-get install -y chromium` (as root) and re-run")
    return exe


def _dump_dom(exe: str, paths: list[Path]) -> list[str]:
    """Render the pages in parallel with headless Chromium; return each page's DOM after scripts ran."""
    procs = []
    for p in paths:
        profile = tempfile.mkdtemp(prefix="chromium-")
        procs.append((subprocess.Popen(
            [exe, "--headless", "--disable-gpu", "--no-sandbox", f"--user-data-dir={profile}", "--dump-dom", p.as_uri()],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True), profile))
    doms = []
    for proc, profile in procs:
        out, _ = proc.communicate(timeout=60)
        shutil.rmtree(profile, ignore_errors=True)
        assert proc.returncode == 0, f"chromium exited {proc.returncode}"
        doms.append(out)
    return doms


def test_data_docs_and_report_render_in_chromium(settings, tmp_path):
    exe = _chromium()
    _, stores_summary, run_results = _failed_night(settings, tmp_path)
    index = data_docs_index(settings)
    assert index.exists() and index == settings.data_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    pages = sorted((index.parent / "validations" / "raw_orders").rglob("*.html"))
    assert len(pages) == 1
    report = build_audit_report(settings, BATCH, run_results)
    index_dom, page_dom, report_dom = _dump_dom(exe, [index, pages[0], report])
    assert "raw_orders" in index_dom and "raw_stores" in index_dom
    assert FAILING in page_dom and "teleported" in page_dom
    assert FAILING in report_dom and "teleported" in report_dom
    assert stores_summary["data_docs_page"] and "raw_stores" in stores_summary["data_docs_page"]


def test_data_docs_work_offline_in_a_browser(settings, tmp_path):
    """Data Docs from disk with the network off: the index lists the night's validations (drawn by
    bootstrap-table in JavaScript), the failing validation shows its failed expectation, every
    asset is the vendored copy, and no request leaves the machine."""
    from playwright.sync_api import sync_playwright

    exe = _chromium()
    _failed_night(settings, tmp_path)
    index = data_docs_index(settings)
    site = index.parent
    pages = list(site.rglob("*.html"))
    text = "".join(p.read_text() for p in pages)
    for remote in ("unpkg.com", "cdnjs.", "jsdelivr", "bootstrapcdn", "code.jquery.com", "amazonaws.com",
                   "dataContextId"):
        assert remote not in text, remote
    failing = next(p for p in (site / "validations" / "raw_orders").rglob("*.html"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--proxy-server=127.0.0.1:9"])
        context = browser.new_context(offline=True)
        requests: list[str] = []
        context.on("request", lambda r: requests.append(r.url))
        page = context.new_page()
        page.goto(index.as_uri())
        page.wait_for_selector("table tbody tr td a", timeout=15000)
        rows = page.locator("table tbody tr").all_inner_texts()
        assert any("raw_orders" in r for r in rows) and any("raw_stores" in r for r in rows)
        # bootstrap's stylesheet applied (not an unstyled page)
        assert page.evaluate("getComputedStyle(document.querySelector('.navbar')).display") == "flex"
        page.goto(failing.as_uri())
        page.wait_for_load_state("load")
        body = page.inner_text("body")
        assert "teleported" in body and "expect_column_values_to_be_in_set" in page.content()
        browser.close()
    assert requests and all(u.startswith("file://") for u in requests), [u for u in requests if not u.startswith("file:")]
    assert any("static/vendor/bootstrap-table/bootstrap-table.min.js" in u for u in requests)


def test_audit_report_shows_non_ascii_payloads_as_text_and_redacts_pii():
    from loyalty.quality.report import display_payload

    assert display_payload("survey_responses", '{"comment": "\\u5f88\\u597d"}') == '{"comment": "很好"}'
    shown = display_payload("customers", '{"customer_id": 7, "name": "\\u738b\\u4f1f", "phone": "13800138000",'
                                         ' "email": "w@x.cn", "city": "\\u4e0a\\u6d77"}')
    assert shown == '{"customer_id": 7, "name": "<redacted>", "phone": "<redacted>", "email": "<redacted>", "city": "上海"}'


def test_audit_report_draws_chinese_payloads_with_the_shipped_font(settings, tmp_path):
    """A quarantined survey row's Chinese comment, in the sample table's monospace cell, is drawn
    with the embedded Noto Sans SC subset (headless Chromium here has no CJK font: boxes otherwise)."""
    from fontcheck import font_problems
    from playwright.sync_api import sync_playwright

    q = batches.quarantine_dir(settings, "survey_responses", BATCH)
    q.mkdir(parents=True)
    pq.write_table(pa.table({
        "table_name": ["survey_responses"], "source": ["survey_inbox"], "batch_id": [BATCH], "row_identity": ["rsp_1"],
        "reason_code": ["invalid_nps_score"], "reason_detail": ["nps_score '十' is not an integer 0-10"],
        "raw_payload": ['{"response_id": "rsp_1", "nps_score": "十", "comment": "物流很快，包装很好"}'],
        "source_file": ["surveys_20261121.csv"], "source_line": pa.array([2], pa.int64()),
        "quarantined_at": pa.array([None], pa.timestamp("us")),
    }), q / "part-0.parquet")
    html = build_audit_report(settings, BATCH, None).read_text(encoding="utf-8")
    assert "物流很快" in html and html.count("@font-face") == 2
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto((settings.audit_dir / "reports" / f"audit_{BATCH}.html").as_uri())
        page.wait_for_load_state("load")
        problems = font_problems(page, ["#quarantine ~ table td .mono", "#quarantine ~ table td"])
        browser.close()
    assert problems == []
