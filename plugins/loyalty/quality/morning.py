"""The morning report: one static page per published night, drawn from the serving file.

``audit/morning/morning_<night>.html`` shows, by month (the last ``MONTHS``): NPS with its 95%
interval band (small-sample months grey), recommend and satisfaction rates; repurchase and churn
rates with the seed's repurchase bands (>70% / 30-70% / <30%); complaint rate and resolution
times; every care campaign's ROI with its 95% interval (significant ones marked); referral
conversions and suspicious referrals; cohort retention (a triangle) and cumulative value per
customer by cohort; follow-up revenue and repurchase by NPS category; and the night's data quality
(quarantined rows by table and reason, failed expectations) with links into the audit report.

A period that is not over (the marts' ``is_complete_period`` / ``is_complete_month``, read, never
recomputed: the month holding the night's business date) is never drawn like a finished one: it
sits on a grey band with the legend entry ``本月未完 incomplete month``, its points and bars are
hollow and dashed, and trend lines stop at the last complete month.

``write_night_reports`` is the night's whole audit step (evidence manifest, audit report, then
this page for the night being served), as the DAG's ``audit_report`` task and the stages run it.

Every number is a value of a mart in the serving file, or (NPS value) a ratio of sums of a mart's
columns, the mart's own formula over pooled rows: the page embeds them as JSON
(``<script id="report-data">``) and Vega-Lite draws them as SVG. The charting assets are the
vendored, pinned copies the Data Docs use (``web_assets.zip``), so the page opens from disk with no
network; the Chinese labels use the shipped Noto Sans SC, embedded as a subset of the page's own
characters (``loyalty.quality.fonts``), so no box ("tofu") is drawn where no CJK font is installed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import html
import json
import logging
from pathlib import Path
from typing import Any

from loyalty.config import Settings
from loyalty.quality import fonts
from loyalty.quality.report import font_faces

log = logging.getLogger(__name__)

MONTHS = 24
COHORT_LINES = 12  # cohorts drawn in the cumulative-value chart (the newest)
VENDOR = "static/vendor"
INCOMPLETE = "本月未完 incomplete month"
BAND_GREY = "#d9d9d9"
HOLLOW_DASH = [3, 2]
NPS_CATEGORIES = {"promoter": "推荐者 promoter|NPS 9-10", "passive": "中立者 passive|NPS 7-8",
                  "detractor": "贬损者 detractor|NPS 0-6"}
NPS_COLOURS = {"promoter": "#54a24b", "passive": "#9d9d9d", "detractor": "#e45756"}


class NotPublished(RuntimeError):
    """The serving file does not hold the night asked for."""


def report_path(settings: Settings, night: str) -> Path:
    return settings.audit_dir / "morning" / f"morning_{night}.html"


def _json_value(v: Any) -> Any:
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    return v


def _rows(con: Any, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [{c: _json_value(v) for c, v in zip(cols, r, strict=True)} for r in cur.fetchall()]


def _monthly(con: Any, mart: str, columns: str) -> list[dict[str, Any]]:
    return _rows(con, f"""
        select period_start, period_end, is_complete_period, {columns}
        from marts.{mart}
        where period_grain = 'month' and segment_type = 'all'
          and period_start >= (select max(period_start) from marts.{mart} where period_grain = 'month')
                              - interval '{MONTHS - 1} months'
        order by period_start""")


def _cohorts(con: Any) -> list[dict[str, Any]]:
    """mart_cohort_retention, segment 'all', the cohorts of the last MONTHS months, as they are."""
    return _rows(con, f"""
        select cohort_month, months_since_first, activity_month, cohort_customers, active_customers,
               retention_rate, cumulative_revenue_per_customer, is_complete_month
        from marts.mart_cohort_retention
        where segment_type = 'all'
          and cohort_month >= (select max(cohort_month) from marts.mart_cohort_retention where segment_type = 'all')
                              - interval '{MONTHS - 1} months'
        order by cohort_month, months_since_first""")


def _nps_value(con: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """mart_nps_value's rows of the last MONTHS response months, and per category the same ratios
    over the pooled rows of the months whose follow-up windows are all complete (every category's
    ``is_window_complete``): Σ follow_up_revenue / Σ responses and Σ follow_up_repurchasers /
    Σ responses, i.e. the mart's per-row formulas on the pooled responses (weighted by responses)."""
    window = f"""response_month >= (select max(response_month) from marts.mart_nps_value)
                                    - interval '{MONTHS - 1} months'"""
    rows = _rows(con, f"""
        select response_month, nps_category, responses, follow_up_revenue, follow_up_revenue_per_response,
               follow_up_repurchasers, follow_up_repurchase_rate, complete_windows, is_window_complete
        from marts.mart_nps_value
        where {window}
        order by response_month, nps_category""")
    pooled = _rows(con, f"""
        with complete_months as (
            select response_month
            from marts.mart_nps_value
            where {window}
            group by response_month
            having bool_and(is_window_complete)
        ),
        pooled as (
            select nps_category,
                   count(*) as months,
                   min(response_month) as first_month,
                   max(response_month) as last_month,
                   sum(responses) as responses,
                   sum(follow_up_revenue) as follow_up_revenue,
                   sum(follow_up_repurchasers) as follow_up_repurchasers
            from marts.mart_nps_value
            inner join complete_months using (response_month)
            group by nps_category
        )
        select *,
               cast(follow_up_revenue as double) / nullif(responses, 0) as follow_up_revenue_per_response,
               cast(follow_up_repurchasers as double) / nullif(responses, 0) as follow_up_repurchase_rate
        from pooled
        order by case nps_category when 'promoter' then 1 when 'passive' then 2 else 3 end""")
    return rows, pooled


def collect(settings: Settings, night: str) -> dict[str, Any]:
    """Everything the page shows, read from the serving file (and, for data quality, from the
    night's quarantine files and GX results)."""
    import duckdb

    from loyalty.quality.results import read_results
    from loyalty.warehouse.publish import published_night

    held = published_night(settings)
    if held != night:
        raise NotPublished(
            f"the serving file holds night {held or 'none'}, not {night}: the morning report is drawn from the "
            f"published marts, so it can only be built for the night being served (an older night's page was "
            f"written when it was published: {report_path(settings, night)})")
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        nps_value, nps_value_pooled = _nps_value(con)
        data: dict[str, Any] = {
            "night": night,
            "recommendation": _monthly(con, "mart_recommendation",
                                       "valid_nps_responses, nps, nps_ci_low, nps_ci_high, is_small_sample, "
                                       "recommend_rate, satisfaction_rate"),
            "repurchase": _monthly(con, "mart_repurchase",
                                   "active_customers_at_start, repurchasers, repurchase_rate, repurchase_band"),
            "churn": _monthly(con, "mart_churn", "active_customers_at_start, churned, churn_rate"),
            "complaints": _monthly(con, "mart_complaints",
                                   "complaints, orders, complaint_rate, median_resolution_hours, p90_resolution_hours"),
            "referrals": _monthly(con, "mart_referrals", "invites, converted, conversion_rate, suspicious_referrals"),
            "campaigns": _rows(con, """
                select campaign_id, campaign_name, campaign_type, treated_customers, holdout_customers, cost,
                       incremental_revenue, roi, roi_ci_low, roi_ci_high, uplift_p_value, is_uplift_significant,
                       naive_roi
                from marts.mart_care_campaign_roi
                where treated_customers > 0
                order by campaign_id"""),
            "cohorts": _cohorts(con),
            "nps_value": nps_value,
            "nps_value_pooled": nps_value_pooled,
        }
    finally:
        con.close()
    data["quarantine"] = _quarantine(settings, night)
    data["failed_expectations"] = sorted(
        ({"gate": r["gate"], "suite": r["suite_name"], "expectation": r["expectation_type"], "column": r["column"],
          "severity": r["severity"], "unexpected_count": r["unexpected_count"]}
         for r in read_results(settings, night).to_pylist() if not r["success"]),
        key=lambda r: (r["severity"] != "error", r["suite"], r["expectation"]))
    return data


def _quarantine(settings: Settings, night: str) -> list[dict[str, Any]]:
    import duckdb

    files = sorted(settings.quarantine_dir.glob(f"*/batch_id={night}/part-0.parquet")) \
        if settings.quarantine_dir.exists() else []
    if not files:
        return []
    con = duckdb.connect()
    try:
        src = "read_parquet([" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "], union_by_name=true)"
        return _rows(con, f"select table_name, reason_code, count(*) as quarantined_rows from {src} group by all order by 1, 2")
    finally:
        con.close()


# --- charts --------------------------------------------------------------------------------
# Dates are ISO dates, which browsers read as UTC midnight: every time unit and scale is UTC, so
# a month stays that month in any time zone. Points and lines sit in the middle of their month.

COMPLETE = "datum.is_complete_period"
NOT_COMPLETE = "!datum.is_complete_period"


def _x(*, middle: bool = True) -> dict[str, Any]:
    x: dict[str, Any] = {"field": "period_start", "type": "temporal", "timeUnit": "utcyearmonth",
                         "scale": {"type": "utc"}, "title": None}
    if middle:
        x["bandPosition"] = 0.5
    return x


def _band(chart: str, data: str, pre: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A grey band over each incomplete month [period_start, period_end), with the legend entry.
    Layer names (``<chart>_incomplete_band``, ``_complete_line``, ``_complete_points``,
    ``_incomplete_points``, ...) are unique in a page: Vega names its marks, and the SVG's groups,
    after them."""
    return {
        "name": f"{chart}_incomplete_band", "data": {"name": data},
        "transform": [*(pre or []), {"filter": NOT_COMPLETE},
                      {"aggregate": [{"op": "count", "as": "rows"}], "groupby": ["period_start", "period_end"]}],
        "mark": {"type": "rect", "opacity": 0.6},
        "encoding": {"x": {"field": "period_start", "type": "temporal", "scale": {"type": "utc"}, "title": None},
                     "x2": {"field": "period_end"},
                     "fill": {"datum": INCOMPLETE, "type": "nominal", "scale": {"range": [BAND_GREY]},
                              "legend": {"title": None, "symbolType": "square", "orient": "bottom"}}},
    }


def _trend(chart: str, data: str, y: dict[str, Any], *, colour: dict[str, Any] | None = None, mark_colour: str | None = None,
           pre: list[dict[str, Any]] | None = None, tooltip: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Layers of a monthly trend: the incomplete month's band, the line over complete months only,
    filled points for complete months and hollow dashed points for the incomplete one."""
    pre = pre or []

    def enc(**extra: Any) -> dict[str, Any]:
        e: dict[str, Any] = {"x": _x(), "y": y, **extra}
        if colour is not None:
            e["color"] = colour
        if tooltip is not None:
            e["tooltip"] = tooltip
        return e

    fixed = {"color": mark_colour} if mark_colour else {}
    return [
        _band(chart, data, pre),
        {"name": f"{chart}_complete_line", "data": {"name": data}, "transform": [*pre, {"filter": COMPLETE}],
         "mark": {"type": "line", **fixed}, "encoding": enc()},
        {"name": f"{chart}_complete_points", "data": {"name": data}, "transform": [*pre, {"filter": COMPLETE}],
         "mark": {"type": "point", "filled": True, "size": 36, **fixed}, "encoding": enc()},
        {"name": f"{chart}_incomplete_points", "data": {"name": data}, "transform": [*pre, {"filter": NOT_COMPLETE}],
         "mark": {"type": "point", "filled": False, "size": 64, "strokeWidth": 1.5, "strokeDash": HOLLOW_DASH, **fixed},
         "encoding": enc()},
    ]


def _month_tip(*fields: str) -> list[dict[str, Any]]:
    return [{"field": "period_start", "type": "temporal", "timeUnit": "utcyearmonth", "title": "month"},
            *({"field": f} for f in fields), {"field": "is_complete_period", "title": "complete month"}]


def specs() -> dict[str, dict[str, Any]]:
    """The Vega-Lite specification of every chart (data by name, from the embedded JSON)."""
    width, height = 620, 220
    pct = {"format": ".0%"}
    series = {"field": "series", "type": "nominal", "legend": {"title": None}}
    nps_y = {"field": "nps", "type": "quantitative", "title": "NPS 净推荐值"}
    return {
        "nps": {
            "width": width, "height": height,
            "layer": [
                _band("nps", "recommendation"),
                {"data": {"name": "recommendation"}, "transform": [{"filter": COMPLETE}],
                 "mark": {"type": "area", "opacity": 0.25, "color": "#4c78a8"},
                 "encoding": {"x": _x(), "y": {"field": "nps_ci_low", "type": "quantitative", "title": "NPS 净推荐值"},
                              "y2": {"field": "nps_ci_high"}}},
                {"name": "nps_incomplete_interval", "data": {"name": "recommendation"}, "transform": [{"filter": NOT_COMPLETE}],
                 "mark": {"type": "rule", "color": "#4c78a8", "strokeDash": HOLLOW_DASH},
                 "encoding": {"x": _x(), "y": {"field": "nps_ci_low", "type": "quantitative"},
                              "y2": {"field": "nps_ci_high"}}},
                {"name": "nps_complete_line", "data": {"name": "recommendation"}, "transform": [{"filter": COMPLETE}],
                 "mark": {"type": "line", "color": "#4c78a8"}, "encoding": {"x": _x(), "y": nps_y}},
                {"name": "nps_complete_points", "data": {"name": "recommendation"}, "transform": [{"filter": COMPLETE}],
                 "mark": {"type": "point", "filled": True, "size": 50},
                 "encoding": {"x": _x(), "y": nps_y,
                              "color": {"field": "is_small_sample", "type": "nominal",
                                        "scale": {"domain": [False, True], "range": ["#4c78a8", "#bbbbbb"]},
                                        "legend": {"title": "small sample (< 30)"}},
                              "tooltip": _month_tip("nps", "nps_ci_low", "nps_ci_high", "valid_nps_responses")}},
                {"name": "nps_incomplete_points", "data": {"name": "recommendation"}, "transform": [{"filter": NOT_COMPLETE}],
                 "mark": {"type": "point", "filled": False, "size": 64, "strokeWidth": 1.5, "strokeDash": HOLLOW_DASH,
                          "color": "#4c78a8"},
                 "encoding": {"x": _x(), "y": nps_y,
                              "tooltip": _month_tip("nps", "nps_ci_low", "nps_ci_high", "valid_nps_responses")}},
            ],
        },
        "rates": {
            "width": width, "height": height,
            "layer": _trend("rates", "recommendation",
                            {"field": "value", "type": "quantitative", "axis": pct, "title": "比率 rate"}, colour=series,
                            pre=[{"fold": ["recommend_rate", "satisfaction_rate"], "as": ["series", "value"]}],
                            tooltip=_month_tip("series", "value")),
        },
        "retention": {
            "width": width, "height": height,
            "layer": [
                {"data": {"values": [{"from": 0.7, "to": 1.0, "band": "> 70%"}, {"from": 0.3, "to": 0.7, "band": "30-70%"},
                                     {"from": 0.0, "to": 0.3, "band": "< 30%"}]},
                 "mark": {"type": "rect", "opacity": 0.12},
                 "encoding": {"y": {"field": "from", "type": "quantitative", "scale": {"domain": [0, 1]}},
                              "y2": {"field": "to"},
                              "color": {"field": "band", "type": "nominal", "legend": {"title": "repurchase band"},
                                        "scale": {"domain": ["> 70%", "30-70%", "< 30%"],
                                                  "range": ["#54a24b", "#eeca3b", "#e45756"]}}}},
                {"layer": _trend("retention", "retention", {"field": "value", "type": "quantitative", "axis": pct,
                                                            "title": "复购率 / 流失率 rate"},
                                 colour={**series, "scale": {"domain": ["repurchase_rate", "churn_rate"],
                                                             "range": ["#4c78a8", "#f58518"]}},
                                 tooltip=_month_tip("series", "value", "active_customers_at_start"))},
            ],
            "resolve": {"scale": {"color": "independent"}},
        },
        "complaints": {
            "hconcat": [
                {"width": 290, "height": height,
                 "layer": _trend("complaint_rate", "complaints", {"field": "complaint_rate", "type": "quantitative",
                                                "axis": {"format": ".2%"}, "title": "投诉率 complaints per order"},
                                 mark_colour="#e45756", tooltip=_month_tip("complaints", "orders", "complaint_rate"))},
                {"width": 290, "height": height,
                 "layer": _trend("resolution", "complaints", {"field": "hours", "type": "quantitative",
                                                "title": "处理时长 resolution (hours)"},
                                 colour=series,
                                 pre=[{"fold": ["median_resolution_hours", "p90_resolution_hours"],
                                       "as": ["series", "hours"]}],
                                 tooltip=_month_tip("series", "hours"))},
            ],
        },
        "campaigns": {
            "width": width, "height": {"step": 16}, "data": {"name": "campaigns_with_interval"},
            "layer": [
                {"mark": {"type": "rule"},
                 "encoding": {"y": {"field": "label", "type": "nominal", "sort": None, "title": None},
                              "x": {"field": "roi_ci_low", "type": "quantitative", "title": "ROI (95% interval)"},
                              "x2": {"field": "roi_ci_high"}}},
                {"mark": {"type": "point", "filled": True, "size": 60},
                 "encoding": {"y": {"field": "label", "type": "nominal", "sort": None},
                              "x": {"field": "roi", "type": "quantitative"},
                              "color": {"field": "significance", "type": "nominal", "legend": {"title": None},
                                        "scale": {"domain": ["significant (p < 0.05)", "not significant"],
                                                  "range": ["#54a24b", "#999999"]}},
                              "tooltip": [{"field": "campaign_name"}, {"field": "roi"}, {"field": "roi_ci_low"},
                                          {"field": "roi_ci_high"}, {"field": "uplift_p_value"}]}},
                {"data": {"values": [{"x": 0}]}, "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#333"},
                 "encoding": {"x": {"field": "x", "type": "quantitative"}}},
            ],
        },
        "referrals": _referrals_spec(width, height),
        "cohort_triangle": _cohort_triangle_spec(),
        "cohort_value": _cohort_value_spec(width, height),
        "nps_value": _nps_value_spec(),
    }


def _referrals_spec(width: int, height: int) -> dict[str, Any]:
    fold = [{"fold": ["converted", "suspicious_referrals"], "as": ["series", "referrals"]}]
    colour = {"field": "series", "type": "nominal", "legend": {"title": None},
              "scale": {"domain": ["converted", "suspicious_referrals"], "range": ["#4c78a8", "#e45756"]}}

    def bars(name: str, test: str, mark: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "data": {"name": "referrals"}, "transform": [*fold, {"filter": test}],
                "mark": {"type": "bar", **mark},
                "encoding": {"x": _x(middle=False), "xOffset": {"field": "series"},
                             "y": {"field": "referrals", "type": "quantitative", "title": "推荐 referrals"},
                             "tooltip": _month_tip("series", "referrals", "invites"), **extra}}

    return {
        "width": width, "height": height,
        "layer": [
            _band("referrals", "referrals"),
            bars("referrals_complete_bars", COMPLETE, {}, {"color": colour}),
            bars("referrals_incomplete_bars", NOT_COMPLETE, {"fillOpacity": 0.12, "strokeWidth": 1.5, "strokeDash": HOLLOW_DASH},
                 {"color": colour, "stroke": {"field": "series", "type": "nominal", "legend": None,
                                              "scale": {"domain": ["converted", "suspicious_referrals"],
                                                        "range": ["#4c78a8", "#e45756"]}}}),
        ],
    }


def _cohort_triangle_spec() -> dict[str, Any]:
    x = {"field": "months_since_first", "type": "ordinal", "title": "距首单月数 months since the first order",
         "axis": {"labelAngle": 0}}
    y = {"field": "cohort_month", "type": "ordinal", "timeUnit": "utcyearmonth", "title": "首单月 cohort",
         "sort": "descending"}
    tip = [{"field": "cohort_month", "type": "temporal", "timeUnit": "utcyearmonth", "title": "cohort"},
           {"field": "months_since_first", "title": "months since first"},
           {"field": "activity_month", "type": "temporal", "timeUnit": "utcyearmonth", "title": "month"},
           {"field": "active / cohort customers"},
           {"field": "retention_rate", "format": ".1%"},
           {"field": "is_complete_month", "title": "complete month"}]
    shown = [{"calculate": "datum.active_customers + ' / ' + datum.cohort_customers",
              "as": "active / cohort customers"}]
    return {
        "width": {"step": 25}, "height": {"step": 16}, "data": {"name": "cohorts"},
        "transform": shown,
        "layer": [
            {"name": "cohort_triangle_complete_cells", "transform": [{"filter": "datum.is_complete_month"}],
             "mark": {"type": "rect"},
             "encoding": {"x": x, "y": y, "tooltip": tip,
                          "color": {"field": "retention_rate", "type": "quantitative",
                                    "scale": {"scheme": "yellowgreenblue", "domain": [0, 1]},
                                    "legend": {"title": "留存率 retention", "format": ".0%"}}}},
            {"name": "cohort_triangle_incomplete_cells", "transform": [{"filter": "!datum.is_complete_month"}],
             "mark": {"type": "rect", "fill": "#ffffff", "strokeWidth": 1, "strokeDash": HOLLOW_DASH},
             "encoding": {"x": x, "y": y, "tooltip": tip,
                          "stroke": {"datum": INCOMPLETE, "type": "nominal", "scale": {"range": ["#888888"]},
                                     "legend": {"title": None, "symbolType": "square", "symbolFillColor": "#ffffff",
                                                "symbolDash": HOLLOW_DASH}}}},
            {"name": "cohort_triangle_text", "mark": {"type": "text", "fontSize": 8},
             "encoding": {"x": x, "y": y, "text": {"field": "retention_rate", "format": ".0%"},
                          "color": {"condition": [{"test": "!datum.is_complete_month", "value": "#777777"},
                                                  {"test": "datum.retention_rate > 0.6", "value": "#ffffff"}],
                                    "value": "#222222"}}},
        ],
        "resolve": {"scale": {"color": "independent"}},
    }


def _cohort_value_spec(width: int, height: int) -> dict[str, Any]:
    x = {"field": "months_since_first", "type": "quantitative", "title": "距首单月数 months since the first order",
         "axis": {"tickMinStep": 1, "format": "d"}}
    y = {"field": "cumulative_revenue_per_customer", "type": "quantitative",
         "title": "累计人均收入 revenue per customer (CNY)"}
    colour = {"field": "cohort_month", "type": "ordinal", "timeUnit": "utcyearmonth", "title": "首单月 cohort",
              "scale": {"scheme": "viridis"}}
    tip = [{"field": "cohort_month", "type": "temporal", "timeUnit": "utcyearmonth", "title": "cohort"},
           {"field": "months_since_first"}, {"field": "cumulative_revenue_per_customer", "format": ",.2f"},
           {"field": "cohort_customers"}, {"field": "is_complete_month", "title": "complete month"}]
    return {
        "width": width, "height": height, "data": {"name": "cohort_value"},
        "layer": [
            {"name": "cohort_value_complete_line", "transform": [{"filter": "datum.is_complete_month"}],
             "mark": {"type": "line", "point": {"filled": True, "size": 20}},
             "encoding": {"x": x, "y": y, "color": colour, "tooltip": tip}},
            {"name": "cohort_value_incomplete_points", "transform": [{"filter": "!datum.is_complete_month"}],
             "mark": {"type": "point", "filled": False, "size": 64, "strokeWidth": 1.5, "strokeDash": HOLLOW_DASH},
             "encoding": {"x": x, "y": y, "color": colour, "tooltip": tip,
                          "shape": {"datum": INCOMPLETE, "type": "nominal", "scale": {"range": ["circle"]},
                                    "legend": {"title": None, "symbolFillColor": "#ffffff", "symbolStrokeColor": "#555555",
                                               "symbolDash": HOLLOW_DASH, "orient": "bottom"}}}},
        ],
    }


def _nps_value_spec() -> dict[str, Any]:
    x = {"field": "category_label", "type": "nominal", "sort": None, "title": None,
         "axis": {"labelAngle": 0, "labelExpr": "split(datum.label, '|')", "labelLineHeight": 13, "labelPadding": 6}}
    colour = {"field": "nps_category", "type": "nominal", "legend": None,
              "scale": {"domain": list(NPS_COLOURS), "range": list(NPS_COLOURS.values())}}
    tip = [{"field": "nps_category"}, {"field": "responses", "format": ","},
           {"field": "follow_up_revenue", "format": ",.2f"}, {"field": "follow_up_repurchasers", "format": ","},
           {"field": "follow_up_revenue_per_response", "format": ",.2f"},
           {"field": "follow_up_repurchase_rate", "format": ".1%"}, {"field": "months"}]

    def panel(name: str, field: str, title: str, fmt: str) -> dict[str, Any]:
        y = {"field": field, "type": "quantitative", "title": title, **({"axis": {"format": fmt}} if "%" in fmt else {})}
        return {"width": 300, "height": 200, "data": {"name": "nps_value_pooled"},
                "layer": [{"name": f"nps_value_{name}_bars", "mark": {"type": "bar"},
                           "encoding": {"x": x, "y": y, "color": colour, "tooltip": tip}},
                          {"name": f"nps_value_{name}_labels", "mark": {"type": "text", "dy": -6, "baseline": "bottom"},
                           "encoding": {"x": x, "y": y, "text": {"field": field, "format": fmt}}}]}

    return {"hconcat": [
        panel("revenue", "follow_up_revenue_per_response", "90天收入 revenue per response (CNY)", ",.0f"),
        panel("repurchase", "follow_up_repurchase_rate", "90天复购率 repurchase rate", ".1%"),
    ]}


def _datasets(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The named datasets the charts read: the marts' rows as they are, stacked, subset or
    labelled for display only (each row keeps its own mart's completeness flag)."""
    retention = [{"period_start": r["period_start"], "period_end": r["period_end"],
                  "is_complete_period": r["is_complete_period"], "series": series, "value": r[column],
                  "active_customers_at_start": r["active_customers_at_start"]}
                 for key, series, column in (("repurchase", "repurchase_rate", "repurchase_rate"),
                                             ("churn", "churn_rate", "churn_rate"))
                 for r in data[key]]
    campaigns = [{**c, "label": f"{c['campaign_id']} {c['campaign_name']}",
                  "significance": "significant (p < 0.05)" if c["is_uplift_significant"] else "not significant"}
                 for c in data["campaigns"] if c["roi"] is not None]
    cohort_months = sorted({r["cohort_month"] for r in data["cohorts"]})[-COHORT_LINES:]
    cohort_value = [r for r in data["cohorts"] if r["cohort_month"] in set(cohort_months)]
    nps_value = [{**r, "category_label": f"{NPS_CATEGORIES.get(r['nps_category'], r['nps_category'])}|"
                                         f"n = {r['responses']:,}"}
                 for r in data["nps_value_pooled"]]
    return {"recommendation": data["recommendation"], "retention": retention, "complaints": data["complaints"],
            "referrals": data["referrals"], "campaigns_with_interval": campaigns, "cohorts": data["cohorts"],
            "cohort_value": cohort_value, "nps_value_pooled": nps_value}


def vega_config() -> dict[str, Any]:
    """Every text of every chart in the page's font stack (the embedded CJK font first)."""
    f = fonts.FONT_STACK
    return {"font": f, "axis": {"labelFont": f, "titleFont": f}, "legend": {"labelFont": f, "titleFont": f},
            "header": {"labelFont": f, "titleFont": f}, "title": {"font": f, "subtitleFont": f},
            "text": {"font": f}, "mark": {"font": f}}


def incomplete_months(data: dict[str, Any]) -> list[str]:
    """The months the marts mark as not over (``is_complete_period`` false), as 'YYYY-MM'."""
    return sorted({r["period_start"][:7] for key in ("recommendation", "repurchase", "churn", "complaints", "referrals")
                   for r in data[key] if r["is_complete_period"] is False})


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _fmt(v: Any, kind: str = "num") -> str:
    if v is None:
        return "<span class=\"muted\">–</span>"
    if kind == "pct":
        return f"{v:.1%}"
    if kind == "p":
        return f"{v:.4f}"
    return f"{v:,.2f}" if isinstance(v, float) else f"{v:,}"


def _campaign_table(rows: list[dict[str, Any]]) -> str:
    head = ("<tr><th>campaign</th><th>type</th><th>treated</th><th>holdout</th><th>cost</th>"
            "<th>incremental revenue</th><th>ROI</th><th>95% interval</th><th>p-value</th><th></th></tr>")
    body = []
    for c in rows:
        sig = c["is_uplift_significant"]
        mark = ("<span class=\"sig\">significant</span>" if sig else
                "<span class=\"muted\">no holdout or too few customers</span>" if sig is None else "")
        interval = (f"{_fmt(c['roi_ci_low'])} … {_fmt(c['roi_ci_high'])}" if c["roi_ci_low"] is not None else _fmt(None))
        body.append(
            f"<tr data-campaign-id=\"{c['campaign_id']}\"><td>{_e(c['campaign_id'])} {_e(c['campaign_name'])}</td>"
            f"<td>{_e(c['campaign_type'])}</td><td class=\"n\">{_fmt(c['treated_customers'])}</td>"
            f"<td class=\"n\">{_fmt(c['holdout_customers'])}</td><td class=\"n\">{_fmt(c['cost'])}</td>"
            f"<td class=\"n\">{_fmt(c['incremental_revenue'])}</td><td class=\"n roi\">{_fmt(c['roi'])}</td>"
            f"<td class=\"n\">{interval}</td><td class=\"n\">{_fmt(c['uplift_p_value'], 'p')}</td><td>{mark}</td></tr>")
    return f"<table>{head}{''.join(body)}</table>"


def _dq(data: dict[str, Any], audit_href: str) -> str:
    q = data["quarantine"]
    total = sum(r["quarantined_rows"] for r in q)
    qt = ("<table><tr><th>table</th><th>reason</th><th>rows</th></tr>" + "".join(
        f"<tr><td>{_e(r['table_name'])}</td><td>{_e(r['reason_code'])}</td><td class=\"n\">{r['quarantined_rows']:,}</td></tr>"
        for r in q) + "</table>") if q else "<p>No rows quarantined.</p>"
    f = data["failed_expectations"]
    ft = ("<table><tr><th>severity</th><th>gate</th><th>suite</th><th>expectation</th><th>column</th>"
          "<th>unexpected</th></tr>" + "".join(
              f"<tr><td>{_e(r['severity'])}</td><td>{_e(r['gate'])}</td><td>{_e(r['suite'])}</td>"
              f"<td>{_e(r['expectation'])}</td><td>{_e(r['column'])}</td><td class=\"n\">{_e(r['unexpected_count'])}</td></tr>"
              for r in f) + "</table>") if f else "<p>Every expectation passed.</p>"
    return (f"<p>{total:,} rows quarantined (<a href=\"{audit_href}#quarantine\">samples and details in the audit "
            f"report</a>); {len(f)} expectations failed (<a href=\"{audit_href}#gx\">all results</a>).</p>"
            f"<div class=\"two\"><div><h3>Quarantine by reason</h3>{qt}</div>"
            f"<div><h3>Failed expectations</h3>{ft}</div></div>")


_CSS = """
body{font-family:__STACK__;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
.muted{color:#888}table{border-collapse:collapse;font-size:.9em;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.sig{color:#2e7d32;font-weight:600}
.two{display:flex;gap:24px;flex-wrap:wrap}.chart{min-height:120px}
.incomplete-note{background:#f5f5f5;border-left:4px solid __GREY__;padding:6px 10px}
.swatch{display:inline-block;width:.9em;height:.9em;background:__GREY__;border:1px dashed #888;margin-right:.4em;
vertical-align:-1px}
#vg-tooltip-element,#vg-tooltip-element td{font-family:__STACK__}
""".replace("__STACK__", fonts.FONT_STACK).replace("__GREY__", BAND_GREY)
_FONT_FACES = "/*font-faces*/"


def _incomplete_note(data: dict[str, Any]) -> str:
    months = incomplete_months(data)
    if not months:
        return ("<p class=\"incomplete-note\" data-incomplete-months=\"\">Every month shown is complete: the night "
                f"{_e(data['night'])} is the last day of its month.</p>")
    return (f"<p class=\"incomplete-note\" data-incomplete-months=\"{_e(' '.join(months))}\"><span class=\"swatch\"></span>"
            f"<b>{_e(INCOMPLETE)}</b>: {_e(', '.join(months))} holds the night's business date ({_e(data['night'])}) "
            "and is not over, so the marts mark it incomplete (<code>is_complete_period</code>, "
            "<code>is_complete_month</code> = false). Every chart draws it on a grey band, with hollow dashed points, "
            "bars and cells, and no trend line runs into it: its figures cover part of a month, they are not a change.</p>")


def _nps_value_note(data: dict[str, Any]) -> str:
    pooled = data["nps_value_pooled"]
    if not pooled:
        return "No response month has all its 90-day follow-up windows complete yet."
    p = pooled[0]
    return (f"Pooled over the {p['months']} response months {p['first_month'][:7]} … {p['last_month'][:7]} whose 90-day "
            "follow-up windows are all complete (mart_nps_value.is_window_complete for every category); later months "
            "are left out. Revenue per response = Σ follow_up_revenue / Σ responses and repurchase rate = "
            "Σ follow_up_repurchasers / Σ responses: the mart's own per-row formulas applied to the pooled responses "
            "(so each month weighs by its responses), not a new formula. Under each bar: its number of responses.")


def render(data: dict[str, Any], audit_href: str, evidence_href: str | None) -> str:
    night = data["night"]
    band = "The grey band is the month not yet over (本月未完)."
    sections = [
        ("recommendation", "Recommendation (顾客推荐率) and NPS",
         "NPS by month with its 95% interval; grey points are months with fewer than 30 valid answers. " + band,
         ["nps", "rates"]),
        ("retention", "Repurchase and churn",
         "Repurchase rate (复购率) of customers active at the month's start, and churn rate; the background marks "
         "the repurchase bands (> 70% / 30-70% / < 30%). " + band, ["retention"]),
        ("cohorts", "Cohort retention (老客留存)",
         "Customers by the month of their first valid order (rows) and months since it (columns): the share of the "
         "cohort with a valid order in that month (mart_cohort_retention, all customers). Hover a cell for active / "
         "cohort customers. Dashed white cells: the month not yet over (本月未完).", ["cohort_triangle"]),
        ("cohort_value", "Cumulative value per customer (客户生命周期价值)",
         f"Revenue of a cohort's customers up to each month since their first order, per customer of the cohort "
         f"(cumulative_revenue_per_customer), the newest {COHORT_LINES} cohorts. Hollow dashed points: the month not "
         "yet over (本月未完); the lines stop at the last complete month.", ["cohort_value"]),
        ("nps_value", "What the NPS answer predicts (推荐率与客户价值)", _nps_value_note(data), ["nps_value"]),
        ("complaints", "Complaints",
         "Complaints per valid order; median and 90th-percentile resolution time. " + band, ["complaints"]),
        ("campaigns", "Care campaigns (关怀活动投入产出)",
         "ROI against the holdout with its 95% interval; green: the uplift is significant (p < 0.05).", ["campaigns"]),
        ("referrals", "Referral programme",
         "Converted and suspicious referrals by invite month; hollow bars on the grey band: the month not yet over.",
         ["referrals"]),
    ]
    body = []
    for sid, title, note, charts in sections:
        divs = "".join(f"<div class=\"chart\" id=\"chart-{c}\"></div>" for c in charts)
        extra = _campaign_table(data["campaigns"]) if sid == "campaigns" else ""
        body.append(f"<h2 id=\"{sid}\">{_e(title)}</h2><p class=\"muted\">{_e(note)}</p>{divs}{extra}")
    body.append(f"<h2 id=\"quality\">Data quality of the night</h2>{_dq(data, audit_href)}")
    datasets = _datasets(data)
    # a dataset that is a mart's rows as they are is embedded once, under "data"
    shared = [name for name, rows in datasets.items() if rows is data.get(name)]
    payload = json.dumps({"data": data, "datasets": {k: v for k, v in datasets.items() if k not in shared},
                          "shared_datasets": shared, "specs": specs(), "config": vega_config()},
                         ensure_ascii=False, allow_nan=False).replace("</", "<\\/")
    links = f"<a href=\"{audit_href}\">audit report</a>" + (
        f" · <a href=\"{evidence_href}\">evidence manifest</a>" if evidence_href else "")
    script = """
<script>
(function () {
  var payload = JSON.parse(document.getElementById('report-data').textContent);
  var names = Object.keys(payload.specs), done = 0, failed = [];
  var datasets = Object.assign({}, payload.datasets);
  payload.shared_datasets.forEach(function (name) { datasets[name] = payload.data[name]; });
  window.views = {};
  function draw() {
    names.forEach(function (name) {
      var spec = JSON.parse(JSON.stringify(payload.specs[name]));
      spec.$schema = 'https://vega.github.io/schema/vega-lite/v5.json';
      spec.datasets = datasets;
      spec.config = payload.config;
      vegaEmbed('#chart-' + name, spec, {renderer: 'svg', actions: false})
        .then(function (result) { window.views[name] = result.view; })
        .catch(function (e) { failed.push(name + ': ' + e); })
        .finally(function () { done += 1; if (done === names.length) {
          document.body.setAttribute('data-charts', failed.length ? 'failed' : 'drawn');
          window.chartErrors = failed; } });
    });
  }
  // Vega measures label widths on a canvas: the embedded font must be loaded before it draws
  var f = document.fonts;
  var loading = (f && f.load) ? Promise.all([f.load("400 12px 'FAMILY'", "\\u4e2d"), f.load("700 12px 'FAMILY'", "\\u4e2d")])
                              : Promise.resolve();
  loading.catch(function () {}).then(draw);
})();
</script>""".replace("FAMILY", fonts.FAMILY)
    page = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Morning report {_e(night)}</title><style>{_FONT_FACES}{_CSS}</style>"
        f"<script src=\"{VENDOR}/vega/vega.min.js\"></script>"
        f"<script src=\"{VENDOR}/vega-lite/vega-lite.min.js\"></script>"
        f"<script src=\"{VENDOR}/vega-embed/vega-embed.min.js\"></script></head><body>"
        f"<h1>Loyalty warehouse: the morning of night {_e(night)}</h1>"
        f"<p class=\"muted\">The last {MONTHS} months from the published marts (serving file, night {_e(night)}). "
        f"{links}</p>{_incomplete_note(data)}{''.join(body)}"
        f"<script type=\"application/json\" id=\"report-data\">{payload}</script>{script}</body></html>")
    # the shipped CJK font, cut to every character the page shows (its text, the charts' labels,
    # titles and data values are all in it)
    return page.replace(_FONT_FACES, font_faces(page), 1)


def build_morning_report(settings: Settings, night: str) -> Path:
    """Write ``audit/morning/morning_<night>.html`` (and its vendored chart assets) from the
    serving file; raises NotPublished when the serving file holds another night."""
    from loyalty.quality.evidence import manifest_path
    from loyalty.quality.offline_docs import install_assets

    data = collect(settings, night)
    out = report_path(settings, night)
    out.parent.mkdir(parents=True, exist_ok=True)
    install_assets(out.parent)
    audit = settings.audit_dir / "reports" / f"audit_{night}.html"
    evidence = manifest_path(settings, night)
    page = render(data, Path("..", "reports", audit.name).as_posix(),
                  Path("..", "evidence", evidence.name).as_posix() if evidence.exists() else None)
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    log.info("morning report for %s: %s", night, out)
    return out


def write_night_reports(settings: Settings, batch_id: str) -> tuple[tuple[Path, str], Path, Path | None]:
    """The night's audit step (the DAG's ``audit_report`` task, and the stages): the evidence
    manifest, the audit report linking it and, when the serving file holds this night, the
    morning report. Returns the manifest with its SHA-256, the audit report, the morning report
    (None for a night not being served)."""
    from loyalty.quality.evidence import write_manifest
    from loyalty.quality.report import build_audit_report
    from loyalty.warehouse.dbt_artifacts import merged_run_results
    from loyalty.warehouse.publish import published_night

    run_results = merged_run_results(settings, batch_id)
    evidence = write_manifest(settings, batch_id, run_results)
    report = build_audit_report(settings, batch_id, run_results, evidence)
    morning = build_morning_report(settings, batch_id) if published_night(settings) == batch_id else None
    return evidence, report, morning
