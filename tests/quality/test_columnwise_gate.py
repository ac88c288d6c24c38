"""A raw batch validated column by column (the way batches above LOYALTY_GATE_COLUMNWISE_ROWS
rows are) gives the results of the whole frame, row for row, failures included; and GX lets go
of a frame once it is validated (its pandas engine kept every asset's last batch and metrics)."""

from __future__ import annotations

import gc
import weakref

import pandas as pd
import pyarrow.parquet as pq
import pytest
from quality_data import BATCH, clean_rows, land

from loyalty.quality import results, runner
from loyalty.quality.gates import GateFailed, validate_raw_batch
from loyalty.quality.suites import BoundSuite, Suite

VOLATILE = ("run_id", "validated_at")


def _results(settings, table: str) -> list[dict]:
    rows = pq.read_table(results.result_path(settings, BATCH, f"raw_{table}")).to_pylist()
    return sorted(({k: v for k, v in r.items() if k not in VOLATILE} for r in rows), key=repr)


def test_column_by_column_gives_the_whole_frames_results(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = clean_rows("orders", 40)
    rows[3]["order_id"] = None  # not null
    rows[9]["order_id"] = rows[10]["order_id"]  # unique
    rows[5]["status"] = "lost_in_mail"  # in set
    rows[7]["customer_id"] = None
    land(settings, "orders", rows)
    got = {}
    for mode, threshold in (("whole frame", "1000000000"), ("column by column", "0")):
        monkeypatch.setenv("LOYALTY_GATE_COLUMNWISE_ROWS", threshold)
        with pytest.raises(GateFailed) as info:
            validate_raw_batch(settings, "orders", BATCH)
        got[mode] = (_results(settings, "orders"), str(info.value).split("\nResults:")[0])
    whole, columnwise = got["whole frame"], got["column by column"]
    assert len(whole[0]) > 10 and sum(not r["success"] for r in whole[0]) >= 3
    assert columnwise[0] == whole[0]
    assert columnwise[1] == whole[1]  # the gate's message too


def test_a_validated_frame_is_let_go(settings) -> None:
    suite = Suite(name="raw_release_check", path=settings.data_dir / "raw_release_check.json",
                  meta={"severity": "error", "table": "t"},
                  expectations=[{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"},
                                 "meta": {"severity": "error"}}])
    bound = BoundSuite(suite=suite, expectations=suite.expectations)
    ctx = runner.get_context(settings)
    outcomes = []
    for values in ([1.0, None, 3.0], [1.0, 2.0, 3.0, 4.0]):
        frame = pd.DataFrame({"x": values})
        ref = weakref.ref(frame)
        validator, result = runner._validate(ctx, bound, bound.expectations, frame)
        outcomes.append((result.success, result.results[0].result["unexpected_count"],
                         result.results[0].result["element_count"]))
        del frame, result, validator  # (these name the frame: validate_frame lets go of them)
        gc.collect()
        assert ref() is None, "GX still holds the validated frame"
    # the second frame's metrics are its own, not the first one's
    assert outcomes == [(False, 1, 3), (True, 0, 4)]
