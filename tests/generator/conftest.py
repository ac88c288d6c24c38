"""Generated small-scale sources, shared by the generator tests (each generation takes ~1 s)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # gen_util


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., tuple[Path, dict]]:
    """``generated(name, scale="small", **kwargs)``: a generation into its own folder, made once per session."""
    from loyalty.generator import generate

    cache: dict[str, tuple[Path, dict]] = {}

    def make(name: str, scale: str = "small", **kwargs) -> tuple[Path, dict]:
        if name not in cache:
            out = tmp_path_factory.mktemp(name)
            cache[name] = (out, generate(out, scale=scale, **kwargs))
        return cache[name]

    return make


@pytest.fixture(scope="session")
def small(generated) -> tuple[Path, dict]:
    return generated("small_seed7", seed=7)


@pytest.fixture(scope="session")
def tiny(generated) -> tuple[Path, dict]:
    """The tiny world (the engine parity tests' reference world: tests/conftest.py)."""
    return generated("tiny_seed11", scale="tiny", seed=11)
