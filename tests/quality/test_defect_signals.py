"""Every kind of mess the generator can inject raises its own signal, and no other.

One world per kind (small scale, only that kind switched on), landed and gated for its night:
- a survey row defect is quarantined with its own reason code (``invalid_nps_score``,
  ``invalid_submitted_at``, ``malformed_row``) as often as the manifest says, or, for an exact
  duplicate line, counted as a duplicate in the ledger; the raw gate then raises no expectation;
- a survey file defect (``bad_header``, ``empty_file``) fails the landing loudly, naming the file
  and the kind, and lands nothing;
- the shop's documented variety (late-arriving customers, refunds months later) is correct data:
  nothing is quarantined and no expectation of the raw gate fails.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from loyalty import contracts
from loyalty.config import Settings
from loyalty.extract import batches
from loyalty.extract.night import Night
from loyalty.extract.shop import extract_table
from loyalty.extract.surveys import SurveyFileError, land_surveys
from loyalty.generator import generate
from loyalty.generator.core import Rates
from loyalty.quality.gates import validate_raw_batch

pytestmark = [pytest.mark.slow]

END = date(2026, 3, 10)
NONE = {k: 0.0 for k in ("invalid_nps_score", "invalid_submitted_at", "duplicate_row", "malformed_row", "bad_header",
                         "empty_file", "late_arriving_customer", "late_refund")}


def _world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **rates: float) -> tuple[Settings, dict, Night]:
    data = tmp_path / "data"
    monkeypatch.setenv("LOYALTY_DATA_DIR", str(data))
    for var in ("LOYALTY_SOURCES_DIR", "LOYALTY_SURVEY_INBOX", "LOYALTY_RAW_DIR"):
        monkeypatch.delenv(var, raising=False)
    settings = Settings.from_env()
    manifest = generate(settings.sources_dir, scale="small", seed=5, end_date=END, rates=Rates(**{**NONE, **rates}))
    return settings, manifest, Night.for_business_date(END)


def _quarantine_reasons(settings: Settings, table: str, batch_id: str) -> dict[str, int]:
    qfile = batches.quarantine_dir(settings, table, batch_id) / "part-0.parquet"
    if not qfile.exists():
        return {}
    return dict(duckdb.execute(f"select reason_code, count(*) from read_parquet('{qfile}') group by 1").fetchall())


def _gate_is_silent(settings: Settings, table: str, batch_id: str) -> None:
    summary = validate_raw_batch(settings, table, batch_id, update_docs=False)
    assert summary["success"] and summary["failed_errors"] == [] and summary["failed_warnings"] == [], summary


@pytest.mark.parametrize("kind", ["invalid_nps_score", "invalid_submitted_at", "malformed_row", "duplicate_row"])
def test_a_survey_row_defect_raises_its_own_reason_and_nothing_else(kind, tmp_path, monkeypatch):
    settings, manifest, night = _world(tmp_path, monkeypatch, **{kind: 0.02})
    injected = manifest["defect_counts"][kind]
    assert injected > 0 and all(n == 0 for k, n in manifest["defect_counts"].items() if k != kind), manifest["defect_counts"]
    record = land_surveys(settings, night, full_refresh=True)
    reasons = _quarantine_reasons(settings, "survey_responses", night.batch_id)
    if kind == "duplicate_row":
        assert reasons == {} and record.rows_duplicate == injected, (reasons, record.rows_duplicate)
    else:
        assert reasons == {kind: injected} and record.rows_duplicate == 0, (reasons, record.rows_duplicate)
    _gate_is_silent(settings, "survey_responses", night.batch_id)


@pytest.mark.parametrize("kind", ["bad_header", "empty_file"])
def test_a_survey_file_defect_fails_the_landing_naming_the_file(kind, tmp_path, monkeypatch):
    settings, manifest, night = _world(tmp_path, monkeypatch, **{kind: 0.01})
    bad = manifest["defects"][kind]
    assert bad and all(n == 0 for k, n in manifest["defect_counts"].items() if k != kind)
    with pytest.raises(SurveyFileError) as info:
        land_surveys(settings, night, full_refresh=True)
    assert info.value.defect == kind and info.value.path.name in {d["file"] for d in bad}
    assert not (batches.batch_dir(settings, "survey_responses", night.batch_id) / "part-0.parquet").exists()


def test_the_shops_documented_variety_is_correct_data(tmp_path, monkeypatch):
    settings, manifest, night = _world(tmp_path, monkeypatch, late_arriving_customer=0.05, late_refund=0.05)
    assert manifest["defect_counts"]["late_arriving_customer"] > 0 and manifest["defect_counts"]["refund_flip"] > 0
    url = f"sqlite:///{settings.sources_dir / 'shop.sqlite'}"
    for table in contracts.SHOP_TABLES:
        extract_table(settings, table, night, url, full_refresh=True)
        assert _quarantine_reasons(settings, table, night.batch_id) == {}, table
        _gate_is_silent(settings, table, night.batch_id)
