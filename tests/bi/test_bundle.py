"""The dashboards as code (bi/dashboards), Superset's config and ``make bi``'s state, checked
without Superset: what the charts may compute, how they show the incomplete period, the titles,
the filters, that an export from any Superset gives the repository's files back byte for byte,
that the config lets nothing call out, and that the secrets stay private."""

from __future__ import annotations

import ast
import copy
import json
import re
import stat
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BI = REPO / "bi"
BUNDLE = BI / "dashboards"
sys.path.insert(0, str(BI))
import assets  # noqa: E402  (bi/assets.py: it imports only yaml at module level)

FLAGS = ("is_complete_period", "is_complete_month", "is_window_complete")
CJK = re.compile(r"[\u4e00-\u9fff]")
# dataset metrics that divide: none computes a number METRICS.md defines (those are charted from
# the marts' columns); each entry says why it exists
COMPUTED = {
    ("mart_referrals", "suspicious_share"): "suspicious_referrals / invites: no METRICS.md number, both the mart's columns",
    ("mart_referrals", "suspicious_share_incomplete"): "the same for the period still running",
}


def load(kind: str) -> dict[str, dict]:
    return {p.relative_to(BUNDLE).as_posix(): yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted((BUNDLE / kind).glob("*.yaml"))}


@pytest.fixture(scope="module")
def datasets() -> dict[str, dict]:
    return {d["uuid"]: d for d in load("datasets").values()}


@pytest.fixture(scope="module")
def charts() -> dict[str, dict]:
    return {c["uuid"]: c for c in load("charts").values()}


def test_the_database_is_the_serving_file_read_only_and_templated() -> None:
    assert yaml.safe_load((BUNDLE / "metadata.yaml").read_text()) == {"type": "assets", "version": "1.0.0"}
    (db,) = load("databases").values()
    assert db["sqlalchemy_uri"] == "duckdb:///${LOYALTY_SERVING}"
    assert "password" not in db and "encrypted_extra" not in db
    connect = db["extra"]["engine_params"]["connect_args"]
    assert connect["read_only"] is True
    # SQL Lab reads the serving file only: no other file (read_csv('/etc/…')), no extension download
    assert connect["config"] == {"enable_external_access": False, "autoinstall_known_extensions": False}
    assert db["allow_dml"] is False and db["allow_ctas"] is False and db["allow_file_upload"] is False


def test_datasets_read_the_marts_and_the_semantic_tables(datasets: dict[str, dict]) -> None:
    for d in datasets.values():
        assert d["schema"] in ("marts", "semantic"), d["table_name"]
        if d["sql"]:
            tables = set(re.findall(r"\b(?:from|join)\s+([a-z_]+\.[a-z_]+)", d["sql"]))
            assert tables and all(t.split(".")[0] in ("marts", "semantic") for t in tables), (d["table_name"], tables)
        else:
            assert d["table_name"].startswith("mart_"), d["table_name"]
    assert any(d["schema"] == "semantic" for d in datasets.values()), "no dataset uses the semantic tables"


def test_no_chart_computes_a_metric_formula(datasets: dict[str, dict], charts: dict[str, dict]) -> None:
    """Charts use the datasets' saved metrics only, and each saved metric picks one mart column
    (max/sum of it, or of it where a flag holds: one row per period and segment), or counts rows."""
    column = r"[a-z_][a-z0-9_]*"
    flag_case = rf"case when (?:not )?{column}(?: and (?:not )?{column})* then ({column}) end"
    allowed = re.compile(rf"^(?:(?:max|sum)\((?:({column})|{flag_case})\)|count\(\*\)(?: filter \(where {column}\))?)$")
    for d in datasets.values():
        columns = {c["column_name"] for c in d["columns"]}
        for m in d["metrics"]:
            if (d["table_name"], m["metric_name"]) in COMPUTED:
                continue
            match = allowed.match(m["expression"].strip().lower())  # Superset adds COUNT(*) as `count`
            assert match, f"{d['table_name']}.{m['metric_name']} computes a formula: {m['expression']}"
            picked = [g for g in match.groups() if g]
            assert all(p in columns for p in picked), (d["table_name"], m["metric_name"], picked)
        for c in d["columns"]:
            assert "/" not in (c["expression"] or ""), f"{d['table_name']}.{c['column_name']} divides"
    for c in charts.values():
        p = c["params"]
        metrics = [*(p.get("metrics") or []), *([p["metric"]] if p.get("metric") else [])]
        assert all(isinstance(m, str) for m in metrics), f"{c['slice_name']}: an ad-hoc metric {metrics}"
        metric_names = {m["metric_name"] for m in datasets[c["dataset_uuid"]]["metrics"]}
        assert set(metrics) <= metric_names, (c["slice_name"], set(metrics) - metric_names)
        assert all(f["expressionType"] == "SIMPLE" for f in p.get("adhoc_filters", [])), c["slice_name"]


def test_every_period_chart_keeps_the_incomplete_period_apart(datasets: dict[str, dict], charts: dict[str, dict]) -> None:
    """Left out (a filter on the flag, and the title says so) or drawn apart in grey (a series of
    its own, ``*_incomplete``, or a group labelled 本期未完), never in the trend series."""
    dashboards = list(load("dashboards").values())
    checked = 0
    for c in charts.values():
        d = datasets[c["dataset_uuid"]]
        flags = {col["column_name"] for col in d["columns"]} & set(FLAGS)
        if not flags:
            continue
        checked += 1
        p, name = c["params"], c["slice_name"]
        metrics = {m["metric_name"]: m["expression"] for m in d["metrics"]}
        calculated = {col["column_name"]: col["expression"] for col in d["columns"] if col["expression"]}
        used = [*(p.get("metrics") or []), *([p["metric"]] if p.get("metric") else [])]
        if any(f.get("subject") in flags and f["operator"] == "IS TRUE" for f in p["adhoc_filters"]):
            title = name + (c.get("description") or "")
            assert ("未完" in title or "未满" in title or c["viz_type"].startswith("big_number")), \
                f"{name}: leaves the incomplete period out without saying so"
            continue
        group = [g for g in p.get("groupby") or [] if "is_complete_period" in (calculated.get(g) or "")]
        if group:
            assert "本期未完" in calculated[group[0]], name
            colors = [dash["metadata"]["label_colors"] for dash in dashboards]
            assert any(_grey(cols.get("本期未完 incomplete", "")) for cols in colors), name
            continue
        apart = [m for m in used if m.endswith("_incomplete")]
        trend = [m for m in used if not m.endswith("_incomplete")]
        assert apart, f"{name}: draws the incomplete period like a finished one"
        for m in trend:
            conditions = re.findall(r"case when (.+?) then", metrics[m])
            assert conditions and all(c.startswith("is_complete_period") for c in conditions), (name, m)
        for m in apart:
            conditions = re.findall(r"case when (.+?) then", metrics[m])
            assert conditions and all(c == "not is_complete_period" for c in conditions), (name, m)
            on = [dash for dash in dashboards if any(
                isinstance(v, dict) and v.get("meta", {}).get("uuid") == c["uuid"] for v in dash["position"].values())]
            assert on and all(_grey(dash["metadata"]["label_colors"].get(m, "")) for dash in on), f"{name}: {m} not grey"
    assert checked >= 20, checked


def _grey(color: str) -> bool:
    m = re.fullmatch(r"#([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})", color)
    return bool(m) and len({int(x, 16) for x in m.groups()}) == 1


def test_titles_are_chinese_with_english(charts: dict[str, dict]) -> None:
    titles = [c["slice_name"] for c in charts.values()] + [d["dashboard_title"] for d in load("dashboards").values()]
    for t in titles:
        assert CJK.search(t) and re.search(r"[A-Za-z]{3}", t), f"title not Chinese with English: {t!r}"
    assert {d["dashboard_title"] for d in load("dashboards").values()} == {
        "经营晨报 Morning overview", "关怀活动 Care campaigns", "老客户 Old customers"}


def test_dashboards_filter_period_grain_and_segment(datasets: dict[str, dict]) -> None:
    dashboards = {d["slug"]: d for d in load("dashboards").values()}
    for slug, columns in (("morning-overview", ["period_grain", "segment_type", "segment_value"]),
                          ("old-customers", ["segment_type", "segment_value"]),
                          ("care-campaigns", ["campaign_type", "campaign_channel"])):
        filters = dashboards[slug]["metadata"]["native_filter_configuration"]
        assert [f["targets"][0]["column"]["name"] for f in filters] == columns, slug
        for f in filters:
            assert f["targets"][0]["datasetUuid"] in datasets, (slug, f["name"])
            assert CJK.search(f["name"]) and re.search("[A-Za-z]", f["name"]), f["name"]
    morning = dashboards["morning-overview"]["metadata"]["native_filter_configuration"]
    defaults = {f["targets"][0]["column"]["name"]: f for f in morning}
    assert defaults["period_grain"]["defaultDataMask"]["filterState"]["value"] == ["month"]
    assert defaults["segment_type"]["defaultDataMask"]["filterState"]["value"] == ["all"]
    # one segment at a time: the metrics pick the one row of each period (max of one value)
    assert all(f["controlValues"]["enableEmptyFilter"] and not f["controlValues"]["multiSelect"] for f in defaults.values())
    assert defaults["segment_value"]["cascadeParentIds"] == [defaults["segment_type"]["id"]]
    # 'channel' is a different channel in each mart (survey, order, ticket, referral): the
    # morning overview offers the segments every one of its marts shares
    (prefilter,) = defaults["segment_type"]["adhoc_filters"]
    assert prefilter["operator"] == "IN" and prefilter["comparator"] == ["all", "city", "member_tier"]
    for f in defaults.values():  # a chart the filter cannot apply to is out of its scope, and says so
        on = {c["meta"]["chartId"] for c in dashboards["morning-overview"]["position"].values()
              if isinstance(c, dict) and c.get("type") == "CHART"}
        assert set(f["chartsInScope"]) | set(f["scope"]["excluded"]) == on and f["scope"]["excluded"], f["name"]


def test_an_export_from_any_superset_gives_the_repository_files_back() -> None:
    """Superset's own export of the bundle as imported into some Superset (its ids, its file
    names, its key order, the real path, a masked password, the colour maps it records) cleans
    back to the repository's files, byte for byte."""
    repo = {p.relative_to(BUNDLE).as_posix(): p.read_text(encoding="utf-8") for p in BUNDLE.rglob("*.yaml")}
    charts = {k: yaml.safe_load(v) for k, v in repo.items() if k.startswith("charts/")}
    ids = {c["uuid"]: 500 + i for i, c in enumerate(charts.values())}
    exported: dict[str, str] = {"metadata.yaml": yaml.safe_dump({"version": "1.0.0", "type": "Dashboard",
                                                                 "timestamp": "2026-12-06T00:00:00+00:00"})}
    for path, text in repo.items():
        cfg = yaml.safe_load(text)
        kind = path.split("/")[0]
        if kind == "charts":
            real = ids[cfg["uuid"]]
            cfg["params"].update(datasource="7__table", slice_id=real, dashboards=[3])
            qc = json.loads(cfg["query_context"])
            qc["datasource"] = {"id": 7, "type": "table"}
            qc["form_data"].update(datasource="7__table", slice_id=real, dashboards=[3])
            for q in qc["queries"]:
                q["datasource"] = {"id": 7, "type": "table"}
            cfg["query_context"] = json.dumps(qc)  # one line, as Superset stores it
            path = f"charts/{cfg['slice_name'][:10]}_{real}.yaml"
        elif kind == "datasets":
            cfg["columns"].reverse()
            cfg["metrics"].reverse()
        elif kind == "databases":
            cfg.update(sqlalchemy_uri="duckdb:////srv/loyalty/data/serving/loyalty.duckdb", password="XXXXXXXXXX")
        elif kind == "dashboards":
            canonical = {c["meta"]["chartId"]: ids[c["meta"]["uuid"]] for c in cfg["position"].values()
                         if isinstance(c, dict) and c.get("type") == "CHART"}
            cfg = assets._remap_dashboard_ids(copy.deepcopy(cfg), canonical)
            cfg["metadata"].update(shared_label_colors=["nps"], map_label_colors={"nps": "#123456"},
                                   color_scheme_domain=["#1FA8C9"])
            path = f"dashboards/{cfg['dashboard_title'][:4]}_{len(path)}.yaml"
        exported[path] = yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True)
    assert assets.clean_export(exported) == repo


def _config_literals() -> dict[str, object]:
    """The literal settings of bi/superset_config.py (it imports Flask, which only Superset's venv has)."""
    tree = ast.parse((BI / "superset_config.py").read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name) and node.value is not None:
                try:
                    out[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    pass
    return out


def test_superset_config_lets_nothing_call_out() -> None:
    config = _config_literals()
    text = (BI / "superset_config.py").read_text() + (BI / "templates" / "head_custom_extra.html").read_text()
    assert "https://" not in text and "http://" not in text, "a remote URL in the config or the page template"
    csp = config["TALISMAN_CONFIG"]["content_security_policy"]  # type: ignore[index]
    local = {"'self'", "'unsafe-inline'", "'strict-dynamic'", "data:", "blob:", "'none'"}
    for directive, sources in csp.items():
        sources = [sources] if isinstance(sources, str) else sources
        assert set(sources) <= local, f"CSP {directive} lets the browser reach {set(sources) - local}"
    assert config["TALISMAN_ENABLED"] is True
    assert config["THEME_FONT_URL_ALLOWED_DOMAINS"] == [] and config["MAPBOX_API_KEY"] == ""
    assert all(not url.split("://", 1)[-1].startswith(("http", "mapbox")) for url, _ in config["DECKGL_BASE_MAP"])  # type: ignore[union-attr]
    assert config["DATA_CACHE_CONFIG"] == {"CACHE_TYPE": "NullCache"} == config["CACHE_CONFIG"]
    flags = config["FEATURE_FLAGS"]
    assert flags["ALERT_REPORTS"] is False and flags["THUMBNAILS"] is False  # type: ignore[index]
    assert "SECRET_KEY" not in config, "the secret key is a literal in the repository"


def test_state_folder_keeps_secrets_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from loyalty.bi import server
    from loyalty.bi.settings import BiSettings

    monkeypatch.delenv("LOYALTY_BI_ADMIN_PASSWORD", raising=False)
    settings = BiSettings(venv=tmp_path / "venv", home=tmp_path / "bi", serving=tmp_path / "s.duckdb", host="127.0.0.1",
                          port=8088)
    first = server.prepare_home(settings)
    assert first.source == "generated" and len(first.password) >= 16 and first.password in first.describe(settings)
    key = (settings.home / "secret_key").read_text()
    for path in (settings.home / "secret_key", settings.password_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(settings.home.stat().st_mode) == 0o700
    again = server.prepare_home(settings)  # a re-run: the same key and password, which it no longer prints
    assert (again.source, again.password) == ("file", first.password) and first.password not in again.describe(settings)
    assert (settings.home / "secret_key").read_text() == key
    monkeypatch.setenv("LOYALTY_BI_ADMIN_PASSWORD", "from-the-environment")
    given = server.prepare_home(settings)
    assert given.source == "env" and "from-the-environment" not in given.describe(settings)
    fonts = sorted(p.name for p in (settings.home / "static" / "fonts").iterdir())
    template = (BI / "templates" / "head_custom_extra.html").read_text()
    assert fonts and all(f in template for f in fonts), (fonts, "the @font-face rules name other files")


def test_superset_is_pinned_apart_from_the_project() -> None:
    def pins(path: Path) -> dict[str, str]:
        out = {}
        for line in path.read_text().splitlines():
            line = line.split("#")[0].strip()
            if "==" in line:
                name, version = line.split("==")
                out[re.sub(r"[-_.]+", "-", name.lower())] = version.strip()
        return out

    bi, project = pins(BI / "constraints.txt"), pins(REPO / "constraints.txt")
    required = pins(BI / "requirements.txt")
    assert required["apache-superset"] == bi["apache-superset"] == "6.1.0"
    assert all(bi.get(name) == version for name, version in required.items()), required
    assert bi["sqlalchemy"].startswith("1.4.") and not project["sqlalchemy"].startswith("1.4.")
    assert bi["duckdb"] == project["duckdb"], "the serving file is written by the project's DuckDB, read by Superset's"
    dockerfile = (REPO / "docker" / "superset.Dockerfile").read_text()
    assert f"FROM apache/superset:{bi['apache-superset']}" in dockerfile
    assert f"duckdb=={bi['duckdb']}" in dockerfile and f"duckdb-engine=={bi['duckdb-engine']}" in dockerfile
