"""Keyed pseudonyms for PII: ``HMAC-SHA256(key, normalised value)`` as 64 lowercase hex digits.

Phone numbers and e-mail addresses reach the warehouse only as pseudonyms (``phone_hash``,
``email_hash``), made in ``stg_shop__customers``. The key never appears in SQL: dbt calls a
function that reads it from the process's environment, so compiled SQL, dbt docs, run
results, task logs and rendered fields hold only the function's name.

- DuckDB: the scalar function ``loyalty_pseudonym(varchar)``, registered on every dbt
  connection by the dbt-duckdb plugin ``loyalty.warehouse.pii_duckdb`` (``profiles.yml``).
- PostgreSQL: ``hmac()`` of pgcrypto with ``current_setting('loyalty.pii_key')``, a session
  setting that libpq sets from ``PGOPTIONS`` (``-c loyalty.pii_key=…``) at connection time.

Both give the same pseudonym for the same normalised value (tested), on every night.

Where the key comes from (first found): ``LOYALTY_PII_KEY`` in the environment; the Airflow
Variable ``loyalty_pii_key`` read through the configured secrets backend (Vault, AWS/GCP
secret managers, or ``AIRFLOW_VAR_LOYALTY_PII_KEY``); for local runs only, a key file created
on first use at ``<data>/.secrets/pii_key`` (owner-only). Rotating the key changes every
pseudonym: set the new key and rebuild with ``--full-refresh`` (README).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from loyalty.config import Settings
from loyalty.warehouse.dbt_project import target_name

log = logging.getLogger(__name__)

KEY_ENV = "LOYALTY_PII_KEY"
AIRFLOW_VARIABLE = "loyalty_pii_key"
PG_SETTING = "loyalty.pii_key"


class MissingPIIKey(RuntimeError):
    pass


def key_file(settings: Settings) -> Path:
    return settings.data_dir / ".secrets" / "pii_key"


def _from_airflow_variable() -> str | None:
    try:
        from airflow.sdk import Variable

        value = Variable.get(AIRFLOW_VARIABLE, default=None)
    except Exception:  # no Airflow context (a CLI run) or no such variable
        return None
    return str(value) if value else None


def create_local_key(settings: Settings) -> str:
    """The local runs' key file (``<data>/.secrets/pii_key``, mode 0600 in a 0700 folder),
    created with 256 random bits on first use."""
    path = key_file(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        log.info("created the PII key file of local runs: %s (owner-only)", path)
    return path.read_text().strip()


def pii_key(settings: Settings | None = None, *, local: bool = False) -> str:
    """The pseudonymisation key; ``local=True`` (local runs) falls back to the key file."""
    key = os.environ.get(KEY_ENV) or _from_airflow_variable()
    if not key and local:
        key = create_local_key(settings or Settings.from_env())
    if not key:
        raise MissingPIIKey(
            f"no PII pseudonymisation key: set {KEY_ENV} in the environment of the Airflow workers, or the "
            f"Airflow Variable {AIRFLOW_VARIABLE} in your secrets backend (docker-compose: .env; local runs: "
            "`loyalty run-night` creates data/.secrets/pii_key)"
        )
    _mask(key)
    return key


def _mask(key: str) -> None:
    """Have Airflow redact the key wherever it might be logged (a defence: it is never logged)."""
    try:
        from airflow.sdk.log import mask_secret
    except Exception:  # pragma: no cover - outside Airflow
        return
    mask_secret(key)


def hmac_pads(key: str) -> tuple[str, str]:
    """HMAC-SHA256's inner and outer pads of ``key`` (RFC 2104), as hex: what the Spark SQL form
    of the pseudonym (``spark__pii_pseudonym``) hashes with. They are as secret as the key."""
    k = key.encode()
    if len(k) > 64:
        k = hashlib.sha256(k).digest()
    k = k.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in k).hex(), bytes(b ^ 0x5C for b in k).hex()


def dbt_environment(key: str, target: str | None = None) -> dict[str, str]:
    """What a dbt process needs to pseudonymise: the key for the DuckDB plugin, for PostgreSQL
    the session setting pgcrypto's ``hmac`` reads, for Spark the key's HMAC pads as session
    settings (profiles.yml); never in SQL."""
    env = {KEY_ENV: key}
    target = target or target_name()
    if target == "spark":
        env["LOYALTY_SPARK_PII_IPAD"], env["LOYALTY_SPARK_PII_OPAD"] = hmac_pads(key)
    if target == "postgres":
        options = os.environ.get("PGOPTIONS", "")
        options = " ".join(o for o in options.split() if PG_SETTING not in o)
        env["PGOPTIONS"] = f"{options} -c {PG_SETTING}={key}".strip()
    return env


def pseudonym(value: str | None, key: str) -> str | None:
    """The pseudonym of an already normalised value; NULL and '' stay NULL."""
    if value is None or value == "":
        return None
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
