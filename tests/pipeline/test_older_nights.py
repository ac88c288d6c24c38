"""Re-running older nights, as a backfill or a clear in the UI would, in any order; the
retention of per-night artefacts; and a serving file that moves.

A straight run loads three nights (across a week's boundary). Re-running all three in a shuffled order then succeeds
night by night (an older night rebuilds from the raw batches up to itself and keeps its landed
batches), every night's audit report says what the straight run's said, the serving file never
goes back (BI keeps the newest night) and ends equal, value for value, to the straight run's.
With LOYALTY_RETENTION_NIGHTS=2 only two nights of artefacts stay on disk while
``audit.validation_results`` keeps all three. The last re-run has the serving file moved, and
publishes there (the Asset's identity does not depend on the path).
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from helpers import serving_night
from loyalty.config import Settings

pytestmark = [pytest.mark.slow]  # a real night or more: left out of `make test-fast`

D0 = date(2026, 11, 15)
NIGHTS = [D0 + timedelta(days=i) for i in range(3)]  # Sunday to Tuesday: a week starts inside
SHUFFLED = [NIGHTS[i] for i in (1, 0, 2)]  # backwards, further back, then forwards to the newest


def _serving(settings: Settings) -> dict[str, list[tuple]]:
    """Every published table's rows, sorted; the columns saying which night computed a row left out."""
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        tables = con.execute("select table_schema || '.' || table_name from information_schema.tables "
                             "where table_schema in ('marts', 'core')").fetchall()
        out = {}
        for (t,) in tables:
            cols = [c for (c,) in con.execute(f"select column_name from information_schema.columns where "
                                              f"table_schema || '.' || table_name = '{t}'").fetchall()
                    if c not in ("_loaded_at", "_batch_id")]
            rows = con.execute(f"select {', '.join(cols)} from {t}").fetchall()
            out[t] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def _report_facts(settings: Settings, night: date) -> dict[str, object]:
    """What a night's audit report says: ledger and quarantine sections as written, every
    expectation's outcome, every dbt node's status."""
    from loyalty.quality.results import read_results
    from loyalty.warehouse.dbt_artifacts import merged_run_results

    html = (settings.audit_dir / "reports" / f"audit_{night.isoformat()}.html").read_text()
    sections = {name: re.search(rf'<h2 id="{name}">.*?(?=<h2 id=)', html, re.S).group(0)
                for name in ("ledger", "quarantine")}
    # every expectation and its outcome; what was observed too on the raw batches (the same files
    # every time: an older night keeps its batches). A mart gate validates the rows the night
    # computed, and an older night's re-run recomputes every row, so its counts are larger.
    gx = sorted((r["suite_name"], r["expectation_type"], r["column"] or "", r["kwargs_json"], r["success"],
                 r["observed_value"] if r["gate"] == "raw" else "")
                for r in read_results(settings, night.isoformat()).to_pylist())
    rr = merged_run_results(settings, night.isoformat())
    dbt = sorted((r["unique_id"], r["status"]) for r in json.loads(rr.read_text())["results"]) if rr else []
    return {**sections, "gx": gx, "dbt": dbt}


def test_backfill_in_any_order_then_a_moved_serving_file(
    data_dir: Path, airflow_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from loyalty.generator import advance, generate
    from loyalty.orchestration.runner import run_night

    monkeypatch.setenv("AIRFLOW_CONN_LOYALTY_SHOP_DB", "unset")
    monkeypatch.delenv("AIRFLOW_CONN_LOYALTY_SHOP_DB")
    monkeypatch.setenv("LOYALTY_RETENTION_NIGHTS", "2")
    settings = Settings.from_env()
    generate(settings.sources_dir, scale="small", seed=3, end_date=D0)

    # --- the straight run ------------------------------------------------------------------------
    facts = {}
    for i, night in enumerate(NIGHTS):
        if i:
            advance(settings.sources_dir, days=1)
        assert run_night(night).endswith("success"), night
        assert serving_night(settings.serving_path) == night.isoformat()
        facts[night] = _report_facts(settings, night)
        assert facts[night]["gx"] and facts[night]["dbt"]
    straight = _serving(settings)
    assert straight["marts.mart_repurchase"]

    # retention: two nights of artefacts on disk, every night in audit.validation_results
    reports = sorted(p.name for p in (settings.audit_dir / "reports").glob("audit_*.html"))
    assert reports == [f"audit_{n.isoformat()}.html" for n in NIGHTS[-2:]]
    assert sorted(p.name for p in (settings.audit_dir / "validations").iterdir()) == [
        f"batch_id={n.isoformat()}" for n in NIGHTS[-2:]]
    runs = {p.name for p in (settings.data_dir / "gx" / "uncommitted" / "validations").glob("*/*")}
    assert runs and all(r.endswith(tuple(n.isoformat() for n in NIGHTS[-2:])) for r in runs)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        kept = con.execute("select distinct batch_id from audit.validation_results order by 1").fetchall()
    finally:
        con.close()
    assert [k for (k,) in kept] == [n.isoformat() for n in NIGHTS]

    # --- the same nights again, in any order; the last one with the serving file moved ----------
    moved = tmp_path / "elsewhere" / "bi.duckdb"
    for night in SHUFFLED:
        if night == SHUFFLED[-1]:
            monkeypatch.setenv("LOYALTY_SERVING", str(moved))
        assert run_night(night).endswith("success"), night
        assert serving_night(Settings.from_env().serving_path) == NIGHTS[-1].isoformat()  # never backwards
        again = _report_facts(settings, night)
        for part in ("ledger", "quarantine", "gx", "dbt"):
            assert again[part] == facts[night][part], (night, part)
    assert _serving(Settings.from_env()) == straight

    # --- the serving file that moved: the night published there (the Asset's identity does not
    # depend on the path) ---------------------------------------------------------------------
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.execute(select(AssetEvent.extra).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                                 .where(AssetModel.name == "loyalty_serving")).all()
    paths = [e.extra.get("path") for e in events]
    assert str(moved) in paths and str(settings.serving_path) in paths
