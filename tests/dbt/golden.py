"""Golden digests of every mart: a full build and two incremental nights on the demo (small,
seed 7). Re-recorded only when the marts are meant to change, in a commit of its own that says
why (CHANGELOG.md lists when and why).

    python tests/dbt/golden.py write   # records tests/dbt/golden_marts.json (only when the marts
                                       # are meant to change: the file is the reviewed reference)

A digest is the sha256 of the mart's rows in a canonical form: every column (the night a row
was computed included), numbers to 6 decimal places, rows sorted.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dbt_util

GOLDEN = Path(__file__).with_name("golden_marts.json")
END_DATE = "2026-11-21"
NIGHTS = [END_DATE, (date.fromisoformat(END_DATE) + timedelta(days=1)).isoformat(),
          (date.fromisoformat(END_DATE) + timedelta(days=2)).isoformat()]


def canonical(rows: list[tuple]) -> str:
    return "\n".join(sorted(json.dumps([dbt_util._norm(v) for v in r], default=str, ensure_ascii=False) for r in rows))


def digests(warehouse: Path) -> dict[str, str]:
    snap = dbt_util.snapshot_duckdb(warehouse)
    return {m: hashlib.sha256(canonical(rows).encode()).hexdigest() for m, rows in snap.items()}


def build_three_nights(data_dir: Path, target: Path, on_night: Any = None) -> dict[str, dict[str, str]]:
    """Land and build the demo's three nights (full, then incremental twice); the digests of each."""
    dbt_util.generate(data_dir, END_DATE)
    env = dbt_util.data_env(data_dir)
    out = {}
    for i, night in enumerate(NIGHTS):
        if i:
            dbt_util.advance(data_dir, 1)
        dbt_util.land_night(data_dir, night)
        dbt_util.dbt("run", night, env, *(["--full-refresh"] if i == 0 else []), target_path=target)
        out[night] = digests(data_dir / "warehouse" / "loyalty.duckdb")
        if on_night is not None:
            on_night(night, data_dir / "warehouse" / "loyalty.duckdb")
    return out


if __name__ == "__main__" and sys.argv[1:] == ["write"]:
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="golden-"))
    keep = Path(sys.argv[0]).resolve().parent / "golden_warehouses"
    shutil.rmtree(keep, ignore_errors=True)

    def save(night: str, wh: Path) -> None:
        keep.mkdir(exist_ok=True)
        shutil.copy(wh, keep / f"{night}.duckdb")

    result = build_three_nights(tmp / "data", tmp / "target", save)
    GOLDEN.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN} ({len(result)} nights); warehouses kept in {keep} for EXCEPT ALL comparisons")
