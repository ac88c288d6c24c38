"""End to end, as real Airflow DAG runs (``dag.test()``): the generator's demo sources, the
ticket API simulator on loopback, landing, the raw gate, dbt through cosmos, the mart gate,
publishing and the audit report; then the next night, incrementally, with a BI reader in
another process querying the serving file throughout; then a night whose survey file is
broken: it fails, alerts a real webhook, and BI keeps the previous version.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from helpers import serving_night
from loyalty.config import Settings

pytestmark = [pytest.mark.slow]  # a real night or more: left out of `make test-fast`

D1 = date(2026, 11, 21)
MARTS = (
    "mart_recommendation", "mart_repurchase", "mart_churn", "mart_complaints", "mart_care_campaign_roi",
    "mart_referrals", "mart_membership", "mart_customer_360", "mart_cohort_retention", "mart_nps_value",
)


def _reader(serving: str, stop_file: str, out: mp.Queue) -> None:
    """A BI client: opens the serving file read-only again and again and checks that every
    answer comes from one published version: the newest row of every mart (and every row of
    the fully rebuilt customer 360) carries meta.publication's batch. Period marts keep the
    rows an earlier night computed where nothing changed, so their min(_batch_id) is older."""
    queries = errors = mixed = 0
    versions: set[str] = set()
    last_error = ""
    while not Path(stop_file).exists():
        try:
            con = duckdb.connect(serving, read_only=True)
            row = con.execute(
                "select (select batch_id from meta.publication),"
                " (select max(_batch_id) from marts.mart_repurchase), (select max(_batch_id) from marts.mart_recommendation),"
                " (select min(_batch_id) from marts.mart_customer_360), (select max(_batch_id) from marts.mart_customer_360),"
                " (select sum(revenue) from marts.mart_repurchase where segment_type = 'all' and period_grain = 'month')"
            ).fetchone()
            con.close()
            queries += 1
            assert row is not None
            if len(set(row[:5])) != 1:
                mixed += 1
            versions.add(str(row[0]))
        except Exception as exc:
            errors += 1
            last_error = repr(exc)
        time.sleep(0.02)
    out.put({"queries": queries, "errors": errors, "mixed": mixed, "versions": sorted(versions), "last_error": last_error})


def _verify(night: date) -> tuple[int, str]:
    """``loyalty verify --night`` as a user runs it: its exit code and output."""
    import subprocess
    import sys

    r = subprocess.run([str(Path(sys.executable).with_name("loyalty")), "verify", "--night", night.isoformat()],
                       capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def _check_semantic_layer(settings: Settings) -> None:
    """MetricFlow's configs validate against the warehouse; its metrics at month grain, overall
    and by a segment, equal the marts' values; the serving file holds every saved query."""
    import os
    import subprocess
    import sys

    from loyalty.config import DBT_PROJECT_DIR
    from loyalty.warehouse.semantic import SemanticLayer, saved_query_names

    env = {**os.environ, "LOYALTY_WAREHOUSE": str(settings.warehouse_path), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    r = subprocess.run([str(Path(sys.executable).with_name("mf")), "validate-configs"], cwd=DBT_PROJECT_DIR, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "Successfully validated metrics against data warehouse" in r.stdout, r.stdout + r.stderr
    assert "ERRORS: 0" in r.stdout and not any(f"ERRORS: {n}" in r.stdout for n in range(1, 10))

    def by(table, *keys: str) -> dict:
        rows = table.to_pylist()
        return {tuple(str(row[k]) for k in keys): row for row in rows}

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        def mart(name: str, column: str, segment_type: str = "all") -> dict:
            return {(str(p), v): x for p, v, x in con.execute(
                f"select period_start, segment_value, cast({column} as double) from marts.{name}"
                " where period_grain = 'month' and segment_type = ?", [segment_type]).fetchall()}
        marts = {m: mart(t, m) for t, m in (("mart_recommendation", "nps"), ("mart_recommendation", "recommend_rate"),
                                            ("mart_recommendation", "satisfaction_rate"),
                                            ("mart_complaints", "complaint_rate"), ("mart_repurchase", "repurchase_rate"),
                                            ("mart_churn", "churn_rate"))}
        nps_channel = mart("mart_recommendation", "nps", "channel")
        tier_rate = mart("mart_repurchase", "repurchase_rate", "member_tier")
        roi = dict(con.execute("select campaign_id, cast(roi as double) from marts.mart_care_campaign_roi").fetchall())
        retention = {(str(c), str(k)): (r, v) for c, k, r, v in con.execute(
            "select cohort_month, months_since_first, cast(retention_rate as double),"
            " cast(cumulative_revenue_per_customer as double) from marts.mart_cohort_retention"
            " where segment_type = 'all'").fetchall()}
        follow_up = {(str(m), c): (v, r) for m, c, v, r in con.execute(
            "select response_month, nps_category, cast(follow_up_revenue_per_response as double),"
            " cast(follow_up_repurchase_rate as double) from marts.mart_nps_value").fetchall()}
    finally:
        con.close()
    with SemanticLayer(settings) as sl:
        overall = by(sl.query(list(marts), ["metric_time__month"]), "metric_time__month")
        channel = by(sl.query(["nps"], ["metric_time__month", "survey_response__survey_channel"]),
                     "metric_time__month", "survey_response__survey_channel")
        tiers = by(sl.query(["repurchase_rate_by_segment"], ["metric_time__month", "repurchase_period__segment_value"],
                            where=["{{ Dimension('repurchase_period__segment_type') }} = 'member_tier'"]),
                   "metric_time__month", "repurchase_period__segment_value")
        campaigns = by(sl.query(["campaign_roi"], ["campaign"]), "campaign")
        cohorts = by(sl.query(["cohort_retention_rate", "cumulative_revenue_per_customer"],
                              ["metric_time__month", "cohort_cell__months_since_first"]),
                     "metric_time__month", "cohort_cell__months_since_first")
        follow_ups = by(sl.query(["follow_up_revenue_per_response", "follow_up_repurchase_rate"],
                                 ["metric_time__month", "nps_follow_up__nps_category"]),
                        "metric_time__month", "nps_follow_up__nps_category")
    compared = 0
    # the old-customer metrics: by cohort month and month k, and by response month and category,
    # MetricFlow's values are the marts' (cohort months at month grain come back as dates)
    assert len(cohorts) == len(retention) > 100, (len(cohorts), len(retention))
    for (month, k), row in cohorts.items():
        rate, value = retention[(month[:10], k)]
        assert row["cohort_retention_rate"] == pytest.approx(rate, abs=1.5e-6), (month, k)
        assert row["cumulative_revenue_per_customer"] == pytest.approx(value, abs=1.5e-6), (month, k)
    assert len(follow_ups) == len(follow_up) > 10
    for (month, category), row in follow_ups.items():
        revenue, repurchase = follow_up[(month[:10], category)]
        for got, expected in ((row["follow_up_revenue_per_response"], revenue),
                              (row["follow_up_repurchase_rate"], repurchase)):
            assert (got is None) == (expected is None) and (expected is None or got == pytest.approx(expected, abs=1.5e-6))
    for metric, values in marts.items():
        for (month,), row in overall.items():
            expected = values[(month, "all")]
            assert (row[metric] is None) == (expected is None), (metric, month)
            if expected is not None:
                assert row[metric] == pytest.approx(expected, abs=1.5e-6), (metric, month)
                compared += 1
    for (month, ch), row in channel.items():
        if ch == "None":  # anonymous responses: overall only
            continue
        assert row["nps"] == pytest.approx(nps_channel[(month, ch)], abs=1.5e-6), (month, ch)
    for (month, tier), row in tiers.items():
        if tier_rate[(month, tier)] is not None:
            assert row["repurchase_rate_by_segment"] == pytest.approx(tier_rate[(month, tier)], abs=1.5e-6), (month, tier)
            compared += 1
    for (cid,), row in campaigns.items():
        assert (row["campaign_roi"] is None) == (roi[int(cid)] is None), cid
        if roi[int(cid)] is not None:
            assert row["campaign_roi"] == pytest.approx(roi[int(cid)], abs=1.5e-6), cid
    assert compared > 200 and len(channel) > 50 and len(campaigns) == len(roi), (compared, len(channel), len(campaigns))
    # the saved queries, materialised into the serving file by tonight's publish
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        served = {name: con.execute(f"select count(*) from semantic.{name}").fetchone()[0] for name in saved_query_names()}
        monthly = dict(con.execute("select cast(metric_time__month as varchar), nps from semantic.recommendation_monthly")
                       .fetchall())
    finally:
        con.close()
    assert len(served) >= 6 and all(n > 0 for n in served.values()), served
    assert {m: overall[(m,)]["nps"] for m in monthly} == pytest.approx(monthly)


def _check_morning_report(settings: Settings, night: date) -> None:
    """The DAG wrote the night's morning report; its numbers are the serving file's; a real
    browser with the network off draws every chart; the screenshot stays with the night."""
    import shutil as sh

    from playwright.sync_api import sync_playwright

    from loyalty.quality.morning import report_path

    page_file = report_path(settings, night.isoformat())
    text = page_file.read_text()
    payload = json.loads(text.split('<script type="application/json" id="report-data">', 1)[1].split("</script>", 1)[0])
    data = payload["data"]
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        for mart, key, column in (("mart_recommendation", "recommendation", "nps"),
                                  ("mart_recommendation", "recommendation", "nps_ci_low"),
                                  ("mart_repurchase", "repurchase", "repurchase_rate"),
                                  ("mart_churn", "churn", "churn_rate"),
                                  ("mart_complaints", "complaints", "p90_resolution_hours"),
                                  ("mart_referrals", "referrals", "suspicious_referrals")):
            shown = {r["period_start"]: r[column] for r in data[key]}
            assert len(shown) == 24, (key, len(shown))
            served = dict(con.execute(
                f"select cast(period_start as varchar), cast({column} as double) from marts.{mart}"
                " where period_grain = 'month' and segment_type = 'all'").fetchall())
            for month in list(shown)[::5]:
                assert shown[month] == pytest.approx(served[month], abs=1e-9), (mart, column, month)
        campaigns = con.execute("select campaign_id, cast(roi as double), is_uplift_significant"
                                " from marts.mart_care_campaign_roi where treated_customers > 0 order by 1").fetchall()
    finally:
        con.close()
    assert [(c["campaign_id"], c["roi"], c["is_uplift_significant"]) for c in data["campaigns"]] == campaigns
    significant = sum(1 for _, _, sig in campaigns if sig)

    exe = sh.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu",
                                                                "--proxy-server=127.0.0.1:9"])
        context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
        requests: list[str] = []
        context.on("request", lambda r: requests.append(r.url))
        page = context.new_page()
        page.goto(page_file.as_uri())
        page.wait_for_selector("body[data-charts]", timeout=30000)
        assert page.get_attribute("body", "data-charts") == "drawn", page.evaluate("window.chartErrors")
        months = len(data["recommendation"])
        assert page.locator("#chart-nps svg .mark-symbol.role-mark path").count() == months
        assert page.locator("#chart-nps svg .mark-area.role-mark path").count() == 1
        legends = {c: " ".join(page.locator(f"#chart-{c} svg text").all_text_contents())
                   for c in ("rates", "retention", "complaints", "referrals", "campaigns")}
        for chart, series in (("rates", ["recommend_rate", "satisfaction_rate"]),
                              ("retention", ["repurchase_rate", "churn_rate", "> 70%", "30-70%", "< 30%"]),
                              ("complaints", ["median_resolution_hours", "p90_resolution_hours"]),
                              ("referrals", ["converted", "suspicious_referrals"]),
                              ("campaigns", ["significant (p < 0.05)", "not significant"])):
            for name in series:
                assert name in legends[chart], (chart, name)
        assert page.locator("#chart-campaigns svg .mark-rule.role-mark line").count() >= len(
            [c for c in data["campaigns"] if c["roi"] is not None])
        assert page.locator("td .sig").count() == significant
        page.screenshot(path=str(page_file.with_suffix(".png")), full_page=True)
        browser.close()
    assert requests and all(u.startswith("file://") for u in requests), [u for u in requests if not u.startswith("file:")]
    assert page_file.with_suffix(".png").stat().st_size > 50_000


def test_three_nights(data_dir: Path, airflow_db: Path, webhook: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    from loyalty.generator import advance, generate
    from loyalty.orchestration.runner import run_night

    # the runner defines the demo connections from this test's data folder; undone afterwards
    monkeypatch.setenv("AIRFLOW_CONN_LOYALTY_SHOP_DB", "unset")  # records the original value...
    monkeypatch.delenv("AIRFLOW_CONN_LOYALTY_SHOP_DB")  # ...so the runner's definition is undone afterwards

    settings = Settings.from_env()
    generate(settings.sources_dir, scale="small", seed=42, end_date=D1)

    # --- night 1: a first, full load -----------------------------------------------------
    assert run_night(D1).endswith("success")
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        assert con.execute("select batch_id from meta.publication").fetchone() == (D1.isoformat(),)
        for mart in MARTS:
            n, batch = con.execute(f"select count(*), max(_batch_id) from marts.{mart}").fetchone()
            assert n > 0, f"{mart} is empty"
            assert batch == D1.isoformat(), mart
        # no raw PII reaches BI
        cols = {r[0] for r in con.execute("select column_name from information_schema.columns").fetchall()}
        assert not {"name", "phone", "email"} & cols
    finally:
        con.close()
    wh = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        assert wh.execute("select bool_and(is_reconciled), count(*) from raw.load_ledger").fetchone() == (True, 12)
        assert wh.execute("select count(*) from raw.quarantine").fetchone()[0] > 0
        assert wh.execute(
            "select count(*) from audit.validation_results where batch_id = ?", [D1.isoformat()]
        ).fetchone()[0] > 0
    finally:
        wh.close()
    report = settings.audit_dir / "reports" / f"audit_{D1.isoformat()}.html"
    assert report.exists() and "quarantine" in report.read_text().lower()
    # the night's evidence: linked from the report with its digest, and it verifies
    from loyalty.quality.evidence import manifest_path, sha256_file

    manifest = manifest_path(settings, D1.isoformat())
    assert sha256_file(manifest) in report.read_text() and manifest.name in report.read_text()
    evidence = json.loads(manifest.read_text())
    assert len(evidence["landed_files"]) >= 24 and evidence["quarantine_files"] and len(evidence["ledger"]) == 12
    assert evidence["published"]["tables"].keys() >= {f"marts.{m}" for m in MARTS}
    assert evidence["dbt"]["nodes"] > 50 and evidence["gx_validations"]
    assert all(v not in ("", "not installed") for v in evidence["versions"].values())
    rc, out = _verify(D1)
    assert rc == 0 and "DIFFERS" not in out and "MISSING" not in out, out
    night1_serving = data_dir / "night1-serving.duckdb"
    shutil.copy(settings.serving_path, night1_serving)

    # --- night 2: incremental, with a BI reader querying all the way through --------------
    advance(settings.sources_dir, days=1)
    d2 = D1 + timedelta(days=1)
    stop = data_dir / "stop-reader"
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    reader = ctx.Process(target=_reader, args=(str(settings.serving_path), str(stop), out))
    reader.start()
    try:
        time.sleep(1.0)
        state = run_night(d2)
        time.sleep(1.0)
    finally:
        stop.touch()
        stats = out.get(timeout=60)
        reader.join(timeout=30)
    print(f"concurrent BI reader during night {d2}: {stats}")
    assert state.endswith("success")
    assert stats["errors"] == 0, stats
    assert stats["mixed"] == 0, stats
    assert stats["queries"] > 20, stats
    assert set(stats["versions"]) <= {D1.isoformat(), d2.isoformat()}
    assert d2.isoformat() in stats["versions"]
    assert serving_night(settings.serving_path) == d2.isoformat()
    orders2 = json.loads((settings.raw_dir / "orders" / f"batch_id={d2.isoformat()}" / "_batch.json").read_text())
    assert orders2["mode"] == "incremental" and orders2["rows_landed"] > 0

    # clean nights (a full one, then an incremental one) raise no failed expectation in either
    # gate, warnings included: every alarm an auditor sees means something
    wh = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        failed = wh.execute(
            "select gate, suite_name, expectation_type, \"column\", observed_value from audit.validation_results"
            " where batch_id in (?, ?) and not success", [D1.isoformat(), d2.isoformat()]).fetchall()
        gates = {g for (g,) in wh.execute("select distinct gate from audit.validation_results where batch_id = ?",
                                          [d2.isoformat()]).fetchall()}
    finally:
        wh.close()
    assert failed == [], failed
    assert gates == {"raw", "mart"}, gates

    _check_morning_report(settings, d2)
    _check_semantic_layer(settings)

    # --- night 3: a broken survey file fails the night; BI keeps night 2 -------------------
    advance(settings.sources_dir, days=1, bad_file="bad_header")
    d3 = d2 + timedelta(days=1)
    assert not run_night(d3).endswith("success")
    assert serving_night(settings.serving_path) == d2.isoformat()
    alerts = [a for a in webhook if a.get("task_id") == "land_surveys"]
    assert alerts, f"no alert for land_surveys; received: {webhook}"
    assert alerts[0]["dag_id"] == "loyalty_nightly" and alerts[0]["night"] == d3.isoformat()
    assert "surveys_" in alerts[0]["reason"] and "header" in alerts[0]["reason"]
    # the audit report of the failed night is still written, and its evidence (not published)
    assert (settings.audit_dir / "reports" / f"audit_{d3.isoformat()}.html").exists()
    from loyalty.quality.evidence import manifest_path

    assert json.loads(manifest_path(settings, d3.isoformat()).read_text())["published"] is None
    assert _verify(d3)[0] == 0

    # --- tampering is caught and named ------------------------------------------------------
    rc, out = _verify(d2)
    assert rc == 0, out
    good = data_dir / "night2-serving.duckdb"
    shutil.copy(settings.serving_path, good)
    con = duckdb.connect(str(settings.serving_path))  # a changed row in a mart
    con.execute("update marts.mart_churn set churned = churned + 1 where churned > 0"
                " and rowid = (select min(rowid) from marts.mart_churn where churned > 0)")
    con.close()
    rc, out = _verify(d2)
    assert rc == 1 and "DIFFERS  table marts.mart_churn" in out and "DIFFERS  table marts.mart_repurchase" not in out, out
    shutil.copy(night1_serving, settings.serving_path)  # a swapped serving file (night 1's)
    rc, out = _verify(d2)
    assert rc == 1 and "DIFFERS  serving file" in out and "now holds night " + D1.isoformat() in out, out
    shutil.copy(good, settings.serving_path)
    landed = settings.raw_dir / "orders" / f"batch_id={d2.isoformat()}" / "part-0.parquet"
    data = bytearray(landed.read_bytes())  # one changed byte in a landed file
    data[len(data) // 2] ^= 0x01
    landed.write_bytes(bytes(data))
    rc, out = _verify(d2)
    assert rc == 1 and f"DIFFERS  landed orders/batch_id={d2.isoformat()}/part-0.parquet" in out, out
    assert out.count("DIFFERS") == 1, out
