"""Survey inbox landing on hand-made files: every kind of mess of SOURCES.md section 2."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from loyalty.config import Settings
from loyalty.extract import batches
from loyalty.extract.night import Night
from loyalty.extract.surveys import SurveyFileError, land_surveys

HEADER = "response_id,survey_id,customer_id,order_id,channel,submitted_at,nps_score,satisfaction,repurchase_intent,comment\n"


@pytest.fixture()
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("LOYALTY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOYALTY_SURVEY_INBOX", str(tmp_path / "inbox"))
    (tmp_path / "inbox").mkdir()
    return Settings.from_env()


def _write(settings: Settings, name: str, body: str, bom: bool = False) -> None:
    (settings.survey_inbox / name).write_bytes((b"\xef\xbb\xbf" if bom else b"") + body.encode())


def _landed(settings: Settings, batch_id: str) -> list[tuple]:
    d = batches.batch_dir(settings, "survey_responses", batch_id)
    return duckdb.sql(
        f"select response_id, customer_id, submitted_at::varchar, nps_score, satisfaction, repurchase_intent, comment "
        f"from '{d}/part-0.parquet' order by response_id"
    ).fetchall()


def _quarantined(settings: Settings) -> dict[str, str]:
    rows = duckdb.sql(
        f"select row_identity, reason_code from '{settings.quarantine_dir}/survey_responses/*/part-0.parquet'"
    ).fetchall()
    return dict(rows)


def test_every_row_defect_is_quarantined_with_its_reason(settings: Settings) -> None:
    body = HEADER + (
        'r1,s1,10,100,sms,2026-11-20 10:00:00,9,非常满意,很大可能,"great, ""really"" good\nsecond line"\n'
        "r2,s1,,,app,2026-11-20T10:00:00+08:00,0,2,不可能,\n"
        "r3,s1,11,,wechat,2026-11-20 11:00:00,11,3,,\n"
        "r4,s1,12,,wechat,2026-11-20 11:00:00,-1,3,,\n"
        "r5,s1,13,,wechat,2026-11-20 11:00:00,8.5,3,,\n"
        "r6,s1,14,,wechat,2026-11-20 11:00:00,十,3,,\n"
        "r7,s1,15,,wechat,2026-11-20 11:00:00,N/A,3,,\n"
        "r8,s1,16,,wechat,yesterday noon,7,3,,\n"
        "r9,s1,17,,email,2026-11-20 12:00:00,,,可能,\n"
        "r9,s1,17,,email,2026-11-20 12:00:00,,,可能,\n"
        "r10,s1,18,,fax,2026-11-20 12:00:00,5,3,,\n"
        'r11,s1,19,,sms,2026-11-20 13:00:00,6,4,,"cut off in the mid'
    )
    _write(settings, "surveys_20261120.csv", body, bom=True)
    rec = land_surveys(settings, Night.for_business_date(date(2026, 11, 20)))
    assert (rec.rows_read, rec.rows_landed, rec.rows_quarantined, rec.rows_duplicate) == (12, 3, 8, 1)
    landed = _landed(settings, "2026-11-20")
    assert landed[0] == ("r1", 10, "2026-11-20 02:00:00", 9, 5, "high", 'great, "really" good\nsecond line')
    assert landed[1] == ("r2", None, "2026-11-20 02:00:00", 0, 2, "low", None)
    assert landed[2][0] == "r9" and landed[2][3] is None and landed[2][5] == "medium"
    q = _quarantined(settings)
    assert {k: q[k] for k in ("r3", "r4", "r5", "r6", "r7")} == dict.fromkeys(("r3", "r4", "r5", "r6", "r7"), "invalid_nps_score")
    assert q["r8"] == "invalid_submitted_at" and q["r10"] == "invalid_value"
    assert "malformed_row" in q.values()
    # the original file is kept byte for byte
    kept = settings.raw_dir / "_files" / "surveys" / "batch_id=2026-11-20" / "surveys_20261120.csv"
    assert kept.read_bytes() == (settings.survey_inbox / "surveys_20261120.csv").read_bytes()


@pytest.mark.parametrize(
    ("body", "defect"),
    [("", "empty_file"), ("id,score\n1,2\n", "bad_header"), ("r1,s1,10,,sms,2026-11-20 10:00:00,9,5,,\n", "bad_header")],
)
def test_a_bad_file_fails_the_batch_and_lands_nothing(settings: Settings, body: str, defect: str) -> None:
    _write(settings, "surveys_20261119.csv", HEADER + "r0,s1,1,,sms,2026-11-19 10:00:00,9,5,,\n")
    _write(settings, "surveys_20261120.csv", body)
    with pytest.raises(SurveyFileError) as err:
        land_surveys(settings, Night.for_business_date(date(2026, 11, 20)))
    assert err.value.defect == defect and "surveys_20261120.csv" in str(err.value)
    assert not batches.batch_dir(settings, "survey_responses", "2026-11-20").exists()


def test_redelivery_lands_again_and_rerun_is_identical(settings: Settings) -> None:
    _write(settings, "surveys_20261119.csv", HEADER + "r1,s1,1,,sms,2026-11-19 10:00:00,3,5,,\n")
    n1, n2 = Night.for_business_date(date(2026, 11, 19)), Night.for_business_date(date(2026, 11, 20))
    first = land_surveys(settings, n1)
    assert land_surveys(settings, n1).checksum == first.checksum
    _write(settings, "surveys_20261120.csv", HEADER + "r2,s1,2,,sms,2026-11-20 10:00:00,10,5,,\n")
    # corrected re-delivery of the 19th, with a different score for r1
    _write(settings, "surveys_20261119.csv", HEADER + "r1,s1,1,,sms,2026-11-19 10:00:00,8,5,,\n")
    second = land_surveys(settings, n2)
    assert sorted(f["name"] for f in second.files) == ["surveys_20261119.csv", "surveys_20261120.csv"]
    assert [(r[0], r[3]) for r in _landed(settings, "2026-11-20")] == [("r1", 8), ("r2", 10)]
    third = land_surveys(settings, Night.for_business_date(date(2026, 11, 21)))
    assert third.rows_read == 0 and third.files == []
