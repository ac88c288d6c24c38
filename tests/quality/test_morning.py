"""The morning report on a small serving file: its numbers are the marts', the month that is not
over is drawn as such (in the embedded spec and in the SVG Chromium draws), the new cohort and
NPS-value sections, and no Chinese label is a box ("tofu") in a headless Chromium with no CJK font."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import duckdb
import pytest
from fontcheck import CJK, chromium, font_problems

from loyalty.config import Settings
from loyalty.quality import fonts, morning

NIGHT = "2026-11-21"  # the demo's night: 21 days into November
FIRST = date(2024, 11, 1)  # 25 months of history; the page shows the last 24
CATEGORIES = ("promoter", "passive", "detractor")
# the period charts: (chart key, layer-name prefix, series drawn)
TRENDS = [("nps", "nps", 1), ("rates", "rates", 2), ("retention", "retention", 2), ("complaints", "complaint_rate", 1),
          ("complaints", "resolution", 2)]


def _month(i: int) -> date:
    y, m = divmod(FIRST.year * 12 + FIRST.month - 1 + i, 12)
    return date(y, m + 1, 1)


def _serving(settings: Settings, night: str) -> dict[str, Any]:
    """A serving file holding night ``night``: every mart the page reads, monthly, with
    ``period_end`` and ``is_complete_period`` as dbt writes them (the month holding the night is
    incomplete unless the night is its last day). On the incomplete month the rates look like a
    collapse (repurchase 2% against 50%, complaints 25% against 2%), as on the morning of 1 November.
    Rows of other grains and segments carry absurd values: the page must not show them."""
    day = date.fromisoformat(night)
    months = [_month(i) for i in range(25)]

    def complete(start: date) -> bool:
        return _month_after(start) <= day + timedelta(days=1)

    path = settings.serving_path
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    period = "period_grain varchar, period_start date, period_end date, is_complete_period boolean, " \
             "segment_type varchar, segment_value varchar"
    marts: dict[str, tuple[str, Any]] = {
        "mart_recommendation": (
            "valid_nps_responses bigint, nps decimal(18,6), nps_ci_low decimal(18,6), nps_ci_high decimal(18,6), "
            "is_small_sample boolean, recommend_rate decimal(18,6), satisfaction_rate decimal(18,6)",
            lambda i, ok: (100 if ok else 12, 30 + i % 5, 20 + i % 5, 40 + i % 5, not ok, 0.5, 0.9)),
        "mart_repurchase": (
            "active_customers_at_start bigint, repurchasers bigint, repurchase_rate decimal(18,6), repurchase_band varchar",
            lambda i, ok: (1000, 500 if ok else 20, 0.5 if ok else 0.02, "medium" if ok else "low")),
        "mart_churn": ("active_customers_at_start bigint, churned bigint, churn_rate decimal(18,6)",
                       lambda i, ok: (1000, 50 if ok else 900, 0.05 if ok else 0.9)),
        "mart_complaints": (
            "complaints bigint, orders bigint, complaint_rate decimal(18,6), median_resolution_hours decimal(18,6), "
            "p90_resolution_hours decimal(18,6)",
            lambda i, ok: (20 if ok else 5, 1000 if ok else 20, 0.02 if ok else 0.25, 24, 72)),
        "mart_referrals": ("invites bigint, converted bigint, conversion_rate decimal(18,6), suspicious_referrals bigint",
                           lambda i, ok: (10, 4 if ok else 1, 0.4 if ok else 0.1, 1)),
    }
    try:
        con.execute("create schema marts; create schema meta")
        con.execute(f"create table meta.publication as select '{night}' as batch_id")
        for mart, (columns, values) in marts.items():
            con.execute(f"create table marts.{mart} ({period}, {columns})")
            width = len(values(0, True))
            rows = []
            for i, start in enumerate(months):
                keys = ("month", start, _month_after(start), complete(start))
                rows.append((*keys, "all", "all", *values(i, complete(start))))
                rows.append((*keys, "channel", "app", *([999] * width)))
                rows.append(("week", start, start + timedelta(days=7), True, "all", "all", *([999] * width)))
            _insert(con, f"marts.{mart}", rows)
        con.execute(
            "create table marts.mart_care_campaign_roi (campaign_id integer, campaign_name varchar, campaign_type varchar,"
            " treated_customers bigint, holdout_customers bigint, cost decimal(18,2), incremental_revenue double,"
            " roi double, roi_ci_low double, roi_ci_high double, uplift_p_value double, is_uplift_significant boolean,"
            " naive_roi double)")
        con.execute("insert into marts.mart_care_campaign_roi values"
                    " (1, '生日礼遇 2026-05', 'birthday_gift', 100, 20, 500, 1000, 1.0, -0.5, 2.5, 0.01, true, 5.0),"
                    " (2, '健康关怀回访 2026-06', 'health_care', 80, 0, 300, null, null, null, null, null, null, 2.0)")
        con.execute(
            "create table marts.mart_cohort_retention (cohort_month date, months_since_first integer,"
            " segment_type varchar, segment_value varchar, activity_month date, cohort_customers bigint,"
            " active_customers bigint, retention_rate decimal(18,6), revenue decimal(18,2),"
            " cumulative_revenue_per_customer decimal(18,6), is_complete_month boolean)")
        cohorts = []
        for c, cohort in enumerate(months):
            size = 40 + c
            for k in range(25 - c):
                active = size if k == 0 else round(size * max(0.1, 0.5 - 0.015 * k))
                activity = _month(c + k)
                cohorts.append((cohort, k, "all", "all", activity, size, active, active / size, 100.0 * active,
                                500 + 300 * k + c, complete(activity)))
                if c == 24:
                    cohorts.append((cohort, k, "channel", "app", activity, 7, 7, 1.0, 1.0, 1.0, complete(activity)))
        _insert(con, "marts.mart_cohort_retention", cohorts)
        con.execute(
            "create table marts.mart_nps_value (response_month date, nps_category varchar, responses bigint,"
            " respondents bigint, follow_up_revenue decimal(18,2), follow_up_revenue_per_response decimal(18,6),"
            " follow_up_repurchasers bigint, follow_up_repurchase_rate decimal(18,6), follow_up_referrals bigint,"
            " follow_up_referrals_per_response decimal(18,6), complete_windows bigint, is_window_complete boolean)")
        nps = []
        for i, m in enumerate(months):
            for j, cat in enumerate(CATEGORIES):
                responses = 0 if (i, cat) == (3, "detractor") else (50 + i, 30 + i % 4, 20 + i % 3)[j]
                revenue = responses * (300, 200, 100)[j] + i
                buyers = responses * (8, 7, 6)[j] // 10
                # windows: complete up to 2026-07; in 2026-08 only the promoters' (a partial month: left
                # out for every category); none after
                done = responses if i <= 20 or (i == 21 and cat == "promoter") else responses // 2 if i == 21 else 0
                per = (revenue / responses, buyers / responses) if responses else (None, None)
                nps.append((m, cat, responses, responses, revenue, per[0], buyers, per[1], 0,
                            0.0 if responses else None, done, done == responses))
        _insert(con, "marts.mart_nps_value", nps)
    finally:
        con.close()
    return {"months": months}


def _insert(con: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
    """One statement for all the rows (executemany binds row by row: seconds)."""
    one = "(" + ", ".join(["?"] * len(rows[0])) + ")"
    con.execute(f"insert into {table} values " + ", ".join([one] * len(rows)), [v for r in rows for v in r])


def _month_after(start: date) -> date:
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def _payload(html: str) -> dict[str, Any]:
    return json.loads(html.split('<script type="application/json" id="report-data">', 1)[1].split("</script>", 1)[0])


def _walk(spec: Any) -> Iterator[dict[str, Any]]:
    """Every unit spec (a dict with a mark) inside a layered / concatenated spec."""
    if isinstance(spec, dict):
        if "mark" in spec:
            yield spec
        for key in ("layer", "hconcat", "vconcat", "concat"):
            for child in spec.get(key, []):
                yield from _walk(child)


def _filters(unit: dict[str, Any]) -> list[str]:
    return [t["filter"] for t in unit.get("transform", []) if isinstance(t.get("filter"), str)]


@pytest.fixture()
def report(settings: Settings):
    def build(night: str = NIGHT) -> tuple[str, dict[str, Any]]:
        _serving(settings, night)
        path = morning.build_morning_report(settings, night)
        assert path == morning.report_path(settings, night)
        return path.read_text(encoding="utf-8"), _payload(path.read_text(encoding="utf-8"))

    return build


def test_embedded_data_marks_the_month_not_over_and_every_chart_draws_it_apart(report, settings):
    html, payload = report()
    data, specs = payload["data"], payload["specs"]
    # every monthly series: the marts' last 24 months, segment 'all'; November (the night's month) incomplete
    for key in ("recommendation", "repurchase", "churn", "complaints", "referrals"):
        rows = data[key]
        assert [r["period_start"] for r in rows] == [_month(i).isoformat() for i in range(1, 25)], key
        assert [r["period_start"] for r in rows if not r["is_complete_period"]] == ["2026-11-01"], key
        assert rows[-1]["period_end"] == "2026-12-01" and all(r["is_complete_period"] is True for r in rows[:-1]), key
    assert data["repurchase"][-1]["repurchase_rate"] == 0.02 and data["complaints"][-1]["complaint_rate"] == 0.25
    assert morning.incomplete_months(data) == ["2026-11"]
    assert 'data-incomplete-months="2026-11"' in html and morning.INCOMPLETE in html
    # the values are the serving file's, read, not recomputed
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        served = con.execute("select cast(period_start as varchar), is_complete_period, cast(repurchase_rate as double)"
                             " from marts.mart_repurchase where period_grain = 'month' and segment_type = 'all'"
                             " and period_start >= date '2024-12-01' order by 1").fetchall()
    finally:
        con.close()
    assert [(r["period_start"], r["is_complete_period"], r["repurchase_rate"]) for r in data["repurchase"]] == served

    # the spec: every line runs over complete periods only; every chart of months has a grey band and
    # a hollow, dashed mark for the incomplete month
    for name in ("nps", "rates", "retention", "complaints", "referrals", "cohort_value", "cohort_triangle"):
        units = list(_walk(specs[name]))
        for u in units:
            if u["mark"]["type"] in ("line", "area"):
                assert any(f in ("datum.is_complete_period", "datum.is_complete_month") for f in _filters(u)), (name, u)
        hollow = [u for u in units if any(f.startswith("!datum.is_complete") for f in _filters(u))
                  and u["mark"].get("strokeDash") == morning.HOLLOW_DASH]
        assert hollow, name
        for u in hollow:
            assert (u["mark"]["type"] == "rule" or u["mark"].get("filled") is False or u["mark"].get("fillOpacity", 1) < 0.5
                    or u["mark"].get("fill") == "#ffffff"), (name, u["mark"])
    for name in ("nps", "rates", "retention", "complaints", "referrals"):
        bands = [u for u in _walk(specs[name]) if u.get("name", "").endswith("_incomplete_band")]
        assert bands and all(u["encoding"]["fill"]["datum"] == morning.INCOMPLETE for u in bands), name
    # every chart's text in the page font, the embedded CJK font first
    assert payload["config"]["font"] == fonts.FONT_STACK and payload["config"]["axis"]["labelFont"] == fonts.FONT_STACK
    assert f"font-family:{fonts.FONT_STACK}" in html


def test_cohort_and_nps_value_sections_embed_mart_values(report):
    _, payload = report()
    data, datasets = payload["data"], payload["datasets"]
    cohorts = data["cohorts"]
    # the triangle: segment 'all', the last 24 cohorts, every month since the first up to the night's
    assert {r["cohort_month"] for r in cohorts} == {_month(i).isoformat() for i in range(1, 25)}
    assert len(cohorts) == sum(range(1, 25)) and all(r["cohort_customers"] != 7 for r in cohorts)
    assert {r["activity_month"] for r in cohorts if not r["is_complete_month"]} == {"2026-11-01"}
    assert sum(not r["is_complete_month"] for r in cohorts) == 24
    row = next(r for r in cohorts if r["cohort_month"] == "2025-03-01" and r["months_since_first"] == 4)
    assert row["retention_rate"] == pytest.approx(row["active_customers"] / row["cohort_customers"], abs=1e-6)
    # cumulative value: the newest 12 cohorts, rows as they are
    assert {r["cohort_month"] for r in datasets["cohort_value"]} == {_month(i).isoformat() for i in range(13, 25)}
    assert all(r in cohorts for r in datasets["cohort_value"])
    # NPS value: pooled over the months whose windows are all complete (2024-12 .. 2026-07: 2026-08 is
    # complete for promoters only, so it is left out for every category), weighted by responses
    rows = data["nps_value"]
    complete_months = sorted(m for m in {r["response_month"] for r in rows}
                             if all(r["is_window_complete"] for r in rows if r["response_month"] == m))
    assert complete_months[0] == "2024-12-01" and complete_months[-1] == "2026-07-01" and len(complete_months) == 20
    pooled = {p["nps_category"]: p for p in data["nps_value_pooled"]}
    assert list(pooled) == list(CATEGORIES)
    for cat, p in pooled.items():
        mine = [r for r in rows if r["nps_category"] == cat and r["response_month"] in complete_months]
        responses = sum(r["responses"] for r in mine)
        assert (p["months"], p["first_month"], p["last_month"]) == (20, "2024-12-01", "2026-07-01")
        assert p["responses"] == responses
        assert p["follow_up_revenue_per_response"] == pytest.approx(sum(r["follow_up_revenue"] for r in mine) / responses)
        assert p["follow_up_repurchase_rate"] == pytest.approx(sum(r["follow_up_repurchasers"] for r in mine) / responses)
        # not the mean of the monthly rates (the months weigh by their responses)
        rates = [r["follow_up_revenue_per_response"] for r in mine if r["responses"]]
        assert p["follow_up_revenue_per_response"] != pytest.approx(sum(rates) / len(rates), rel=1e-9)
    shown = {r["nps_category"]: r["category_label"] for r in datasets["nps_value_pooled"]}
    assert all(shown[c].endswith(f"n = {pooled[c]['responses']:,}") for c in CATEGORIES)


def test_the_font_subset_covers_every_chinese_character_of_the_page(report):
    from fontTools.ttLib import TTFont

    html, _ = report()
    page_cjk = {c for c in html if CJK.match(c)}
    assert {"复", "购", "本", "月", "未", "完", "留", "存", "礼", "遇"} <= page_cjk  # headings, charts, data
    faces = re.findall(r"font-weight: (\d+);[^}]*url\(data:font/woff2;base64,([A-Za-z0-9+/=]+)\)", html)
    assert [w for w, _ in faces] == ["400", "700"]
    for weight, data in faces:
        cmap = TTFont(io.BytesIO(base64.b64decode(data))).getBestCmap()
        missing = sorted(c for c in page_cjk if ord(c) not in cmap)
        assert not missing, (weight, missing)
    assert len(html.encode()) < 400_000  # one page: the subset, not the 1.5 MB font


@contextmanager
def _page(html_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(),
                                     args=["--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9"])
        try:
            context = browser.new_context(offline=True, viewport={"width": 1300, "height": 900})
            requests: list[str] = []
            context.on("request", lambda r: requests.append(r.url))
            page = context.new_page()
            page.goto(html_path)
            page.wait_for_selector("body[data-charts]", timeout=30000)
            assert page.get_attribute("body", "data-charts") == "drawn", page.evaluate("window.chartErrors")
            yield page
        finally:
            browser.close()
    assert requests and all(u.startswith("file://") for u in requests), [u for u in requests if not u.startswith("file:")]


def _marks(page: Any, layer: str) -> list[dict[str, str]]:
    """The SVG shapes (paths; lines for rules) Vega drew for the layer named ``layer`` (in the group
    ``<layer>_marks``)."""
    return page.evaluate("""name => Array.from(document.querySelectorAll(
        `g.${name}_marks > path, g.${name}_marks > line`)).map(p => ({
        label: p.getAttribute('aria-label') || '', fill: p.getAttribute('fill'), d: p.getAttribute('d') || '',
        opacity: p.getAttribute('fill-opacity'), dash: p.getAttribute('stroke-dasharray')}))""", layer)


# Chinese text in HTML and in SVG: a heading, a chart title, an axis label (data: a campaign's name), a legend
CHINESE = ["h2#cohorts", "#chart-retention svg .role-axis-title text", "#chart-campaigns svg .role-axis-label text",
           "#chart-nps svg .role-legend-label text", "#chart-cohort_triangle svg .role-legend-title text"]


def test_chromium_draws_chinese_with_the_shipped_font_and_the_month_not_over_hollow(report, settings):
    html, payload = report()
    with _page(morning.report_path(settings, NIGHT).as_uri()) as page:
        assert font_problems(page, CHINESE) == []

        for chart, layer, series in TRENDS:
            band = _marks(page, f"{layer}_incomplete_band")
            assert len(band) == 1 and "period_start: Nov 01, 2026" in band[0]["label"], (layer, band)
            hollow = _marks(page, f"{layer}_incomplete_points")
            assert len(hollow) == series, (layer, hollow)
            for m in hollow:
                assert "Nov 2026" in m["label"] and "complete month: false" in m["label"], m
                assert m["fill"] == "transparent" and m["dash"] == "3,2", m
            filled = _marks(page, f"{layer}_complete_points")
            assert len(filled) == 23 * series and all("complete month: true" in m["label"] for m in filled), layer
            assert all(m["fill"] not in (None, "transparent") and m["dash"] is None for m in filled), layer
            # each line joins the 23 complete months only
            lines = _marks(page, f"{layer}_complete_line")
            assert [1 + m["d"].count("L") for m in lines] == [23] * series, (layer, [m["d"][:80] for m in lines])
            legend = " ".join(page.locator(f"#chart-{chart} svg .role-legend text").all_text_contents())
            assert morning.INCOMPLETE in legend, (chart, legend)
        bars = _marks(page, "referrals_incomplete_bars")
        assert len(bars) == 2 and all("Nov 2026" in b["label"] and b["opacity"] == "0.12" and b["dash"] == "3,2"
                                      for b in bars), bars
        assert all(b["opacity"] is None for b in _marks(page, "referrals_complete_bars"))
        # the NPS interval of the month not over: a dashed rule, not the band
        assert [m["dash"] for m in _marks(page, "nps_incomplete_interval")] == ["3,2"]

        # the retention triangle: the incomplete month's cells hollow and dashed; a tooltip gives the count
        cells = _marks(page, "cohort_triangle_incomplete_cells")
        assert len(cells) == 24 and all("month: Nov 2026" in c["label"] and c["fill"] == "#ffffff" and c["dash"] == "3,2"
                                        for c in cells)
        full = _marks(page, "cohort_triangle_complete_cells")
        assert len(full) == sum(range(1, 25)) - 24 and all(c["fill"] != "#ffffff" and c["dash"] is None for c in full)
        row = next(r for r in payload["data"]["cohorts"]
                   if r["cohort_month"] == "2025-03-01" and r["months_since_first"] == 4)
        at = next(i for i, c in enumerate(full) if "cohort: Mar 2025;" in c["label"] and "months since first: 4;" in c["label"])
        page.locator("g.cohort_triangle_complete_cells_marks > path").nth(at).hover(position={"x": 2, "y": 2})
        tip = page.locator("#vg-tooltip-element")
        tip.wait_for(state="visible", timeout=5000)
        text = tip.inner_text()
        assert f"{row['active_customers']} / {row['cohort_customers']}" in text and "retention_rate" in text, text
        assert f"{row['retention_rate']:.1%}" in text, text
        # cumulative value: one line per cohort with a complete month, hollow points for the month not over
        assert len(_marks(page, "cohort_value_incomplete_points")) == 12
        assert all(m["fill"] == "transparent" for m in _marks(page, "cohort_value_incomplete_points"))
        assert len(_marks(page, "cohort_value_complete_line")) == 11  # the newest cohort has no complete month
        # NPS value: a bar per category, its number of responses under it
        axis = " ".join(page.locator("#chart-nps_value svg .role-axis-label text").all_text_contents())
        for p in payload["data"]["nps_value_pooled"]:
            assert f"n = {p['responses']:,}" in axis, axis
        assert len(_marks(page, "nps_value_revenue_bars")) == 3 and len(_marks(page, "nps_value_repurchase_bars")) == 3


def test_a_page_without_the_embedded_font_fails_the_tofu_check(report, settings, monkeypatch):
    """The check above fails when the font is not embedded (Chromium here has no CJK font)."""
    monkeypatch.setattr(morning, "font_faces", lambda text: "")
    html, _ = report()
    assert "@font-face" not in html
    with _page(morning.report_path(settings, NIGHT).as_uri()) as page:
        problems = font_problems(page, CHINESE[:3])
    assert any("not all loaded" in p for p in problems), problems
    for selector in CHINESE[:3]:
        assert any(p.startswith(selector) and "not one em each" in p for p in problems), (selector, problems)
        assert any(p.startswith(selector) and "not with the embedded" in p for p in problems), (selector, problems)


def test_on_the_last_day_of_a_month_nothing_is_drawn_as_incomplete(report, settings):
    html, payload = report("2026-11-30")
    assert morning.incomplete_months(payload["data"]) == []
    assert 'data-incomplete-months=""' in html and "Every month shown is complete" in html
    assert all(r["is_complete_month"] for r in payload["data"]["cohorts"])
    with _page(morning.report_path(settings, "2026-11-30").as_uri()) as page:
        for _, layer, series in TRENDS:
            assert _marks(page, f"{layer}_incomplete_band") == [] and _marks(page, f"{layer}_incomplete_points") == []
            assert [1 + m["d"].count("L") for m in _marks(page, f"{layer}_complete_line")] == [24] * series, layer
        assert _marks(page, "cohort_triangle_incomplete_cells") == []
        assert _marks(page, "referrals_incomplete_bars") == []
