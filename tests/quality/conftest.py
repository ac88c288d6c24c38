"""Fixtures of the quality tests: a private data root, landed batches, a tiny warehouse."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from quality_data import BATCH, build_warehouse, clean_rows, land

from loyalty.config import Settings


@pytest.fixture()
def settings(data_dir: Path) -> Settings:
    s = Settings.from_env()
    assert s.data_dir == data_dir
    return s


@pytest.fixture()
def landed(settings: Settings) -> Callable[..., Path]:
    def _land(table_name: str, n: int = 20, **kw: Any) -> Path:
        return land(settings, table_name, clean_rows(table_name, n, kw.get("batch_id", BATCH)), **kw)

    return _land


@pytest.fixture()
def warehouse(settings: Settings) -> Callable[..., Path]:
    def _build(**kw: Any) -> Path:
        return build_warehouse(settings, **kw)

    return _build
