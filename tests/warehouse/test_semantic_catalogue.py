"""The metric catalogue in docs/ is the one the semantic layer's definitions generate (never
written twice), and every metric BI asks for is in it. MetricFlow's values against the marts:
tests/pipeline/test_nightly_pipeline.py."""

from __future__ import annotations

from pathlib import Path

from loyalty.config import REPO_ROOT
from loyalty.warehouse.semantic import catalogue_markdown


def test_the_committed_catalogue_is_the_generated_one(airflow_db: Path) -> None:  # airflow_db parses the project
    generated = catalogue_markdown()
    committed = (REPO_ROOT / "docs" / "METRIC_CATALOGUE.md").read_text(encoding="utf-8")
    assert committed == generated, (
        "docs/METRIC_CATALOGUE.md is stale: run `loyalty semantic-catalogue --out docs/METRIC_CATALOGUE.md`")
    for metric in ("nps", "recommend_rate", "satisfaction_rate", "complaint_rate", "repurchase_rate", "churn_rate",
                   "campaign_roi"):
        assert f"| `{metric}` |" in generated, metric
