"""The `loyalty` command lists every sub-command, and each one answers --help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

LOYALTY = str(Path(sys.executable).with_name("loyalty"))
COMMANDS = (
    "generate", "advance", "serve-tickets", "land", "publish", "semantic-catalogue", "validate-raw", "validate-marts",
    "audit-report", "report", "verify", "register-raw", "setup-airflow", "run-night", "backfill", "demo",
)


def test_help_lists_every_command() -> None:
    out = subprocess.run([LOYALTY, "--help"], capture_output=True, text=True, check=True).stdout
    missing = [c for c in COMMANDS if c not in out]
    assert not missing, f"not in `loyalty --help`: {missing}"


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command: str) -> None:
    proc = subprocess.run([LOYALTY, command, "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "usage: loyalty " + command in proc.stdout
