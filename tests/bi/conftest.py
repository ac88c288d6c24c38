"""One demo night and one Superset for the BI tests of a session.

``superset``: a private data root with the demo's night 2026-11-21 (``loyalty demo``, a real DAG
run), Superset installed and set up by the same code as ``make bi`` (``loyalty.bi``: the venv
``.venv-bi``, or ``LOYALTY_BI_VENV``; the state folder; ``bi/assets.py setup``), started in the
background on a free port, stopped at the end. Its figures (seconds) go to ``timings``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bi_util import NIGHT, REPO, Superset, free_port


@pytest.fixture(scope="session")
def superset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Superset]:
    from loyalty.bi import install, server
    from loyalty.bi.settings import BiSettings

    data = tmp_path_factory.mktemp("bi") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOYALTY_BI_", "LOYALTY_SERVING", "LOYALTY_WAREHOUSE",
                                                                    "LOYALTY_SOURCES_DIR", "LOYALTY_SURVEY_INBOX",
                                                                    "LOYALTY_RAW_DIR"))}
    env["LOYALTY_DATA_DIR"] = str(data)
    bi = Superset(settings=None, password="", data_dir=data, env=env)
    t0 = time.monotonic()
    bi.loyalty("demo")
    bi.timings["demo_night_s"] = time.monotonic() - t0
    settings = BiSettings(venv=Path(os.environ.get("LOYALTY_BI_VENV") or REPO / ".venv-bi").resolve(),
                          home=data / "bi", serving=bi.serving, host="127.0.0.1", port=free_port())
    bi.settings = settings
    bi.timings["install_s"] = install.ensure_venv(settings)  # 0 when .venv-bi is up to date
    t0 = time.monotonic()
    login = server.prepare_home(settings)
    summary = server.setup(settings, login)
    bi.timings["setup_s"] = time.monotonic() - t0
    assert summary["night"] == NIGHT and summary["imported"]["dashboards"] == 3, summary
    bi.password = login.password
    _, bi.timings["start_s"] = server.start(settings)
    try:
        yield bi
    finally:
        server.stop(settings)
        print(f"\nBI timings (s): {bi.timings}")
