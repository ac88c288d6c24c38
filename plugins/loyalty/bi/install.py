"""Superset's virtualenv: ``bi/requirements.txt`` under ``bi/constraints.txt``, from PyPI with uv (pip without it).

Reinstalled only when either file changes (their digest is kept in ``<venv>/.installed``). About a
minute on two cores; nothing is downloaded when Superset runs.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import time
from pathlib import Path

from loyalty.bi.settings import BI_DIR, BiSettings

log = logging.getLogger(__name__)
REQUIREMENTS = BI_DIR / "requirements.txt"
CONSTRAINTS = BI_DIR / "constraints.txt"


def _digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes() + b"\0" + CONSTRAINTS.read_bytes()).hexdigest()


def is_installed(settings: BiSettings) -> bool:
    marker = settings.venv / ".installed"
    return settings.python.exists() and marker.exists() and marker.read_text().strip() == _digest()


def ensure_venv(settings: BiSettings) -> float:
    """Create or update the venv; the seconds it took (0 when it was up to date)."""
    if is_installed(settings):
        return 0.0
    started = time.monotonic()
    log.info("installing Apache Superset into %s (bi/requirements.txt, pinned by bi/constraints.txt)", settings.venv)
    if not settings.python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(settings.venv)], check=True)
    # uv (pinned in constraints.txt, beside this interpreter) installs the pins about 3x faster
    # than pip; pip when uv is not there
    uv = Path(sys.executable).with_name("uv")
    if uv.exists():
        pip = [str(uv), "pip", "--quiet"]
        target = ["--python", str(settings.python)]
    else:
        pip = [str(settings.python), "-m", "pip", "--disable-pip-version-check", "--quiet"]
        target = []
    r = subprocess.run([*pip, "install", *target, "-c", str(CONSTRAINTS), "-r", str(REQUIREMENTS)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"could not install bi/requirements.txt into {settings.venv} ({pip[0]}):\n"
                           f"{r.stdout[-3000:]}{r.stderr[-3000:]}")
    check = subprocess.run([*pip, "check", *target], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"`pip check` in {settings.venv} failed:\n{check.stdout}{check.stderr}")
    (settings.venv / ".installed").write_text(_digest() + "\n")
    return time.monotonic() - started
