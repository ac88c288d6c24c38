"""What the BI tests share: the handle on the session's Superset (conftest.py starts it)."""

from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOYALTY = str(Path(sys.executable).with_name("loyalty"))
NIGHT = "2026-11-21"  # not the last day of its month: November is incomplete


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Superset:
    settings: object  # loyalty.bi.settings.BiSettings
    password: str
    data_dir: Path
    env: dict[str, str]  # the environment of the data root's nights (loyalty advance, run-night)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.settings.url  # type: ignore[attr-defined,no-any-return]

    @property
    def serving(self) -> Path:
        return self.data_dir / "serving" / "loyalty.duckdb"

    def loyalty(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        r = subprocess.run([LOYALTY, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        assert r.returncode == 0, f"loyalty {' '.join(args)} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        return r


