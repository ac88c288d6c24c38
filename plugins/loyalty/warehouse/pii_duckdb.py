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

    def pseudonyms(values: pa.Array) -> pa.Array:
        out = [None if v is None or v == "" else new(secret, v.encode(), hashlib.sha256).hexdigest()
               for v in values.to_pylist()]
        return pa.array(out, type=pa.string())

    try:
        conn.remove_function(FUNCTION)
    except Exception:  # not registered on this connection yet
        pass
    conn.create_function(FUNCTION, pseudonyms, [duckdb.sqltype("VARCHAR")], duckdb.sqltype("VARCHAR"), type="arrow",
                         null_handling="special", side_effects=False)


class Plugin(BasePlugin):
    def configure_connection(self, conn: Any) -> None:
        key = os.environ.get(KEY_ENV)
        if not key:
            raise MissingPIIKey(
                f"{KEY_ENV} is not set: dbt cannot pseudonymise phone and e-mail. Set it (or the Airflow Variable "
                "loyalty_pii_key); local runs: `loyalty run-night` creates data/.secrets/pii_key"
            )
        register(conn, key)
