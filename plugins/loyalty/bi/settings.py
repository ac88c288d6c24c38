"""Where ``make bi`` puts things and where Superset listens; every value has an environment override.

==================  ======================================  ==========================================
what                default                                 override
==================  ======================================  ==========================================
Superset's venv     ``<repo>/.venv-bi``                     ``LOYALTY_BI_VENV``
Superset's state    ``<data>/bi`` (metadata DB, secret      ``LOYALTY_BI_HOME``
                    key, admin password, fonts, log)
serving file        the night's (``LOYALTY_SERVING``)       ``LOYALTY_SERVING``
address             ``127.0.0.1:8088``                      ``LOYALTY_BI_HOST``, ``LOYALTY_BI_PORT``
admin password      generated once into the state folder    ``LOYALTY_BI_ADMIN_PASSWORD``
==================  ======================================  ==========================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from loyalty.config import REPO_ROOT, Settings

BI_DIR = REPO_ROOT / "bi"  # config, requirements, constraints, the Superset-side script, the dashboards


@dataclass(frozen=True)
class BiSettings:
    venv: Path
    home: Path
    serving: Path
    host: str
    port: int
    bundle: Path = BI_DIR / "dashboards"

    @classmethod
    def from_env(cls) -> BiSettings:
        s = Settings.from_env()
        return cls(
            venv=Path(os.environ.get("LOYALTY_BI_VENV") or REPO_ROOT / ".venv-bi").expanduser().resolve(),
            home=Path(os.environ.get("LOYALTY_BI_HOME") or s.data_dir / "bi").expanduser().resolve(),
            serving=s.serving_path,
            host=os.environ.get("LOYALTY_BI_HOST", "127.0.0.1"),
            port=int(os.environ.get("LOYALTY_BI_PORT", "8088")),
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def password_file(self) -> Path:
        return self.home / "admin_password"

    @property
    def pid_file(self) -> Path:
        return self.home / "superset.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "superset.log"

    def superset_env(self) -> dict[str, str]:
        """The environment Superset's processes run in: its venv first on the PATH, our config."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        env.update({
            "PATH": f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "VIRTUAL_ENV": str(self.venv),
            "SUPERSET_CONFIG_PATH": str(BI_DIR / "superset_config.py"),
            "LOYALTY_BI_HOME": str(self.home),
            "LOYALTY_SERVING": str(self.serving),
            "FLASK_APP": "superset.app:create_app()",
        })
        return env
