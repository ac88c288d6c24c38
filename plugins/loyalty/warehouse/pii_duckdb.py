"""dbt-duckdb plugin: registers ``loyalty_pseudonym(varchar) -> varchar`` on each connection
dbt opens (``profiles.yml``: ``plugins: [{module: loyalty.warehouse.pii_duckdb}]``).

The function is HMAC-SHA256 with the key from ``LOYALTY_PII_KEY`` (see
``loyalty.warehouse.pii``), read when the connection is configured: the key is in this
process's memory only, never in the SQL dbt compiles, stores or shows. Vectorised over Arrow
batches (about 1 µs a value).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from loyalty.warehouse.pii import KEY_ENV, MissingPIIKey

FUNCTION = "loyalty_pseudonym"


def register(conn: Any, key: str) -> None:
    import duckdb
    import pyarrow as pa

    secret = key.encode()
    new = hmac.new

    def pseudonyms(values):  # type: ignore[no-untyped-def]  # DuckDB inspects it: no annotations
        out = [None if v is None or v == "" else new(secret, v.encode(), hashlib.sha256).hexdigest()
               for v in values.to_pylist()]
        return pa.array(out, type=pa.string())

    try:
        conn.remove_function(FUNCTION)
    except Exception:  # not registered on this connection yet
        pass
    conn.create_function(FUNCTION, pseudonyms, [duckdb.sqltype("VARCHAR")], duckdb.sqltype("VARCHAR"), type="arrow",
                         null_handling="special", side_effects=False)


MISSING = (f"{KEY_ENV} is not set: dbt cannot pseudonymise phone and e-mail. Set it (or the Airflow Variable "
           "loyalty_pii_key in the secrets backend); local runs: `loyalty run-night` creates data/.secrets/pii_key")


def register_missing(conn: Any) -> None:
    """Without a key, the function exists and fails with what to do (docs, tests and models that
    do not pseudonymise work without the key)."""
    import duckdb

    def no_key(values):  # type: ignore[no-untyped-def]
        raise MissingPIIKey(MISSING)

    try:
        conn.remove_function(FUNCTION)
    except Exception:
        pass
    conn.create_function(FUNCTION, no_key, [duckdb.sqltype("VARCHAR")], duckdb.sqltype("VARCHAR"), type="arrow",
                         null_handling="special", side_effects=True)


class Plugin(BasePlugin):
    def configure_connection(self, conn: Any) -> None:
        key = os.environ.get(KEY_ENV)
        if key:
            register(conn, key)
        else:
            register_missing(conn)
