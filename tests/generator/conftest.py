"""Generated small-scale sources, shared by the generator tests (each generation takes ~1 s)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # gen_util


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., tuple[Path, dict]]:
    """``generated(name, **kwargs)``: a small generation into its own folder, made once per session."""
    from loyalty.generator import generate

    cache: dict[str, tuple[Path, dict]] = {}

    def make(name: str, **kwargs) -> tuple[Path, dict]:
        if name not in cache:
            out = tmp_path_factory.mktemp(name)
            cache[name] = (out, generate(out, scale="small", **kwargs))
        return cache[name]

    return make


@pytest.fixture(scope="session")
def small(generated) -> tuple[Path, dict]:
    return generated("small_seed7", seed=7)
