"""The morning report: one static page per published night, drawn from the serving file.

``audit/morning/morning_<night>.html`` shows, by month (the last ``MONTHS``): NPS with its 95%
interval band (small-sample months grey), recommend and satisfaction rates; repurchase and churn
rates with the seed's repurchase bands (>70% / 30-70% / <30%); complaint rate and resolution
times; every care campaign's ROI with its 95% interval (significant ones marked); referral
conversions and suspicious referrals; and the night's data quality (quarantined rows by table
and reason, failed expectations) with links into the audit report.

Every number is a value of a mart in the serving file (no second computation): the page embeds
them as JSON (``<script id="report-data">``) and Vega-Lite draws them as SVG. The charting
assets are the vendored, pinned copies the Data Docs use (``web_assets.zip``), so the page opens
from disk with no network.
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

log = logging.getLogger(__name__)

MONTHS = 24
VENDOR = "static/vendor"


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
        select period_start, {columns}
        from marts.{mart}
        where period_grain = 'month' and segment_type = 'all'
          and period_start >= (select max(period_start) from marts.{mart} where period_grain = 'month')
                              - interval '{MONTHS - 1} months'
        order by period_start""")


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


def _x() -> dict[str, Any]:
    return {"field": "period_start", "type": "temporal", "timeUnit": "yearmonth", "title": None}


def specs() -> dict[str, dict[str, Any]]:
    """The Vega-Lite specification of every chart (data by name, from the embedded JSON)."""
    width, height = 620, 220
    pct = {"format": ".0%"}
    return {
        "nps": {
            "width": width, "height": height, "data": {"name": "recommendation"},
            "layer": [
                {"mark": {"type": "area", "opacity": 0.25, "color": "#4c78a8"},
                 "encoding": {"x": _x(), "y": {"field": "nps_ci_low", "type": "quantitative", "title": "NPS"},
                              "y2": {"field": "nps_ci_high"}}},
                {"mark": {"type": "line", "color": "#4c78a8"},
                 "encoding": {"x": _x(), "y": {"field": "nps", "type": "quantitative"}}},
                {"mark": {"type": "point", "filled": True, "size": 50},
                 "encoding": {"x": _x(), "y": {"field": "nps", "type": "quantitative"},
                              "color": {"field": "is_small_sample", "type": "nominal",
                                        "scale": {"domain": [False, True], "range": ["#4c78a8", "#bbbbbb"]},
                                        "legend": {"title": "small sample (< 30)"}},
                              "tooltip": [{"field": "period_start", "timeUnit": "yearmonth"}, {"field": "nps"},
                                          {"field": "nps_ci_low"}, {"field": "nps_ci_high"},
                                          {"field": "valid_nps_responses"}]}},
            ],
        },
        "rates": {
            "width": width, "height": height, "data": {"name": "recommendation"},
            "transform": [{"fold": ["recommend_rate", "satisfaction_rate"], "as": ["series", "value"]}],
            "mark": {"type": "line", "point": True},
            "encoding": {"x": _x(), "y": {"field": "value", "type": "quantitative", "axis": pct, "title": "rate"},
                         "color": {"field": "series", "type": "nominal"}},
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
                {"data": {"name": "retention"},
                 "transform": [{"fold": ["repurchase_rate", "churn_rate"], "as": ["series", "value"]}],
                 "mark": {"type": "line", "point": True},
                 "encoding": {"x": _x(), "y": {"field": "value", "type": "quantitative", "axis": pct, "title": "rate"},
                              "strokeDash": {"field": "series", "type": "nominal", "legend": {"title": None}}}},
            ],
            "resolve": {"scale": {"color": "independent"}},
        },
        "complaints": {
            "hconcat": [
                {"width": 290, "height": height, "data": {"name": "complaints"},
                 "mark": {"type": "line", "point": True, "color": "#e45756"},
                 "encoding": {"x": _x(), "y": {"field": "complaint_rate", "type": "quantitative",
                                               "axis": {"format": ".2%"}, "title": "complaints per order"}}},
                {"width": 290, "height": height, "data": {"name": "complaints"},
                 "transform": [{"fold": ["median_resolution_hours", "p90_resolution_hours"], "as": ["series", "hours"]}],
                 "mark": {"type": "line", "point": True},
                 "encoding": {"x": _x(), "y": {"field": "hours", "type": "quantitative", "title": "resolution (hours)"},
                              "color": {"field": "series", "type": "nominal"}}},
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
        "referrals": {
            "width": width, "height": height, "data": {"name": "referrals"},
            "transform": [{"fold": ["converted", "suspicious_referrals"], "as": ["series", "referrals"]}],
            "mark": {"type": "bar"},
            "encoding": {"x": _x(), "xOffset": {"field": "series"},
                         "y": {"field": "referrals", "type": "quantitative"},
                         "color": {"field": "series", "type": "nominal",
                                   "scale": {"domain": ["converted", "suspicious_referrals"],
                                             "range": ["#4c78a8", "#e45756"]}}},
        },
    }


def _datasets(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The named datasets the charts read: the marts' rows as they are, joined by month or
    labelled for display only."""
    churn = {r["period_start"]: r for r in data["churn"]}
    retention = [{"period_start": r["period_start"], "repurchase_rate": r["repurchase_rate"],
                  "churn_rate": churn.get(r["period_start"], {}).get("churn_rate")} for r in data["repurchase"]]
    campaigns = [{**c, "label": f"{c['campaign_id']} {c['campaign_name']}",
                  "significance": "significant (p < 0.05)" if c["is_uplift_significant"] else "not significant"}
                 for c in data["campaigns"] if c["roi"] is not None]
    return {"recommendation": data["recommendation"], "retention": retention, "complaints": data["complaints"],
            "referrals": data["referrals"], "campaigns_with_interval": campaigns}


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
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans CJK SC",sans-serif;margin:24px auto;max-width:1100px;
color:#222;padding:0 16px}h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
.muted{color:#888}table{border-collapse:collapse;font-size:.9em;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}.sig{color:#2e7d32;font-weight:600}
.two{display:flex;gap:24px;flex-wrap:wrap}.chart{min-height:120px}
"""


def render(data: dict[str, Any], audit_href: str, evidence_href: str | None) -> str:
    night = data["night"]
    sections = [
        ("recommendation", "Recommendation (顾客推荐率) and NPS",
         "NPS by month with its 95% interval; grey points are months with fewer than 30 valid answers.",
         ["nps", "rates"]),
        ("retention", "Repurchase and churn",
         "Repurchase rate (复购率) of customers active at the month's start, and churn rate; the background marks "
         "the repurchase bands (> 70% / 30-70% / < 30%).", ["retention"]),
        ("complaints", "Complaints", "Complaints per valid order; median and 90th-percentile resolution time.",
         ["complaints"]),
        ("campaigns", "Care campaigns (关怀活动投入产出)",
         "ROI against the holdout with its 95% interval; green: the uplift is significant (p < 0.05).", ["campaigns"]),
        ("referrals", "Referral programme", "Converted and suspicious referrals by invite month.", ["referrals"]),
    ]
    body = []
    for sid, title, note, charts in sections:
        divs = "".join(f"<div class=\"chart\" id=\"chart-{c}\"></div>" for c in charts)
        extra = _campaign_table(data["campaigns"]) if sid == "campaigns" else ""
        body.append(f"<h2 id=\"{sid}\">{_e(title)}</h2><p class=\"muted\">{_e(note)}</p>{divs}{extra}")
    body.append(f"<h2 id=\"quality\">Data quality of the night</h2>{_dq(data, audit_href)}")
    payload = json.dumps({"data": data, "datasets": _datasets(data), "specs": specs()}, ensure_ascii=False,
                         allow_nan=False).replace("</", "<\\/")
    links = f"<a href=\"{audit_href}\">audit report</a>" + (
        f" · <a href=\"{evidence_href}\">evidence manifest</a>" if evidence_href else "")
    script = """
<script>
(function () {
  var payload = JSON.parse(document.getElementById('report-data').textContent);
  var names = Object.keys(payload.specs), done = 0, failed = [];
  names.forEach(function (name) {
    var spec = JSON.parse(JSON.stringify(payload.specs[name]));
    spec.$schema = 'https://vega.github.io/schema/vega-lite/v5.json';
    spec.datasets = payload.datasets;
    vegaEmbed('#chart-' + name, spec, {renderer: 'svg', actions: false})
      .catch(function (e) { failed.push(name + ': ' + e); })
      .finally(function () { done += 1; if (done === names.length) {
        document.body.setAttribute('data-charts', failed.length ? 'failed' : 'drawn');
        window.chartErrors = failed; } });
  });
})();
</script>"""
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Morning report {_e(night)}</title><style>{_CSS}</style>"
        f"<script src=\"{VENDOR}/vega/vega.min.js\"></script>"
        f"<script src=\"{VENDOR}/vega-lite/vega-lite.min.js\"></script>"
        f"<script src=\"{VENDOR}/vega-embed/vega-embed.min.js\"></script></head><body>"
        f"<h1>Loyalty warehouse: the morning of night {_e(night)}</h1>"
        f"<p class=\"muted\">The last {MONTHS} months from the published marts (serving file, night {_e(night)}). "
        f"{links}</p>{''.join(body)}"
        f"<script type=\"application/json\" id=\"report-data\">{payload}</script>{script}</body></html>")


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
