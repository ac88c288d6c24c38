"""The shop database: schema, bulk load and the nightly changes, for SQLite and PostgreSQL.

Storage (see SOURCES.md section 1):

* PostgreSQL (schema ``public``): the contract types (BIGINT, INTEGER, TEXT, NUMERIC(12,2),
  TIMESTAMP without time zone holding UTC, DATE); bulk load with ``COPY … FROM STDIN``.
* SQLite: integers as INTEGER (a primary key is ``INTEGER PRIMARY KEY``, a 64-bit rowid
  alias), text as TEXT, timestamps as ISO text ``'YYYY-MM-DD HH:MM:SS'`` (UTC), dates as
  ``'YYYY-MM-DD'``, money as **TEXT** ``'123.40'`` (declared ``TEXT``: a NUMERIC column
  would turn it into a binary float; text keeps DECIMAL exactness). Bulk load with
  ``executemany`` in one transaction, ``journal_mode=OFF``, ``synchronous=OFF``.

Both get the primary keys, ``UNIQUE (memberships.customer_id)`` and an index on
``updated_at`` per table (the extractor's cursor).
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pyarrow as pa
import pyarrow.csv as pacsv

from loyalty import contracts

CHUNK_ROWS = 200_000
TABLE_ORDER = tuple(contracts.SHOP_TABLES)


def is_postgres(url: str) -> bool:
    return urlsplit(url).scheme.split("+")[0] in ("postgresql", "postgres")


def is_sqlite(url: str) -> bool:
    return urlsplit(url).scheme.split("+")[0] == "sqlite"


def sqlite_file(url: str) -> Path:
    """``sqlite:///relative/path`` or ``sqlite:////abs/path`` -> the file."""
    rest = url.split("://", 1)[1]
    if not rest.startswith("/") or rest == "/":
        raise ValueError(f"not a SQLite file URL: {url!r} (expected sqlite:///path/to/file.sqlite)")
    return Path(unquote(rest[1:]))


def postgres_dsn(url: str) -> str:
    return urlsplit(url)._replace(scheme="postgresql").geturl()


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def _pg_type(col: contracts.Column) -> str:
    return {"VARCHAR": "TEXT", "DECIMAL(12,2)": "NUMERIC(12,2)"}.get(col.type, col.type)


def _sqlite_type(col: contracts.Column) -> str:
    return {"VARCHAR": "TEXT", "DECIMAL(12,2)": "TEXT", "BIGINT": "INTEGER"}.get(col.type, col.type)


def ddl(table: contracts.Table, postgres: bool) -> str:
    cols = []
    for c in table.columns:
        if c.name == table.primary_key:
            cols.append(f"{c.name} {_pg_type(c)} PRIMARY KEY" if postgres else f"{c.name} INTEGER PRIMARY KEY")
        else:
            typ = _pg_type(c) if postgres else _sqlite_type(c)
            cols.append(f"{c.name} {typ}{'' if c.nullable else ' NOT NULL'}")
    return f"CREATE TABLE {table.name} (\n  " + ",\n  ".join(cols) + "\n)"


def index_statements(table: contracts.Table) -> list[str]:
    out = [f"CREATE INDEX ix_{table.name}_updated_at ON {table.name} (updated_at)"]
    if table.name == "memberships":
        out.append("CREATE UNIQUE INDEX ux_memberships_customer_id ON memberships (customer_id)")
    return out


class ShopDB:
    """One connection to the shop database; writes happen inside one transaction."""

    def __init__(self, url: str):
        self.url = url
        self.postgres = is_postgres(url)
        if not self.postgres and not is_sqlite(url):
            raise ValueError(f"unsupported shop database URL {redact(url)!r}: use sqlite:///path or postgresql://…")
        # psycopg.Connection (PostgreSQL) or sqlite3.Connection; None until connect()
        self.conn: Any = None

    # ------------------------------------------------------------------ connection
    def connect(self, *, create: bool = False) -> ShopDB:
        if self.postgres:
            import psycopg

            try:
                self.conn = psycopg.connect(postgres_dsn(self.url))
            except psycopg.OperationalError as exc:
                raise RuntimeError(f"cannot connect to the shop database {redact(self.url)}: {exc}") from exc
        else:
            path = sqlite_file(self.url)
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
                for p in (path, path.with_name(path.name + "-journal"), path.with_name(path.name + "-wal")):
                    p.unlink(missing_ok=True)
            elif not path.exists():
                raise FileNotFoundError(f"shop database {path} does not exist: run `loyalty generate` first")
            self.conn = sqlite3.connect(path, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=OFF" if create else "PRAGMA journal_mode=DELETE")
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("PRAGMA cache_size=-200000")
            self.conn.execute("BEGIN")
        return self

    def commit(self) -> None:
        if self.postgres:
            self.conn.commit()
        else:
            self.conn.execute("COMMIT")
            self.conn.execute("BEGIN")

    def close(self) -> None:
        if self.conn is None:
            return
        if self.postgres:
            self.conn.close()
        else:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
            self.conn.close()
        self.conn = None

    def __enter__(self) -> ShopDB:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None and self.conn is not None:
            if self.postgres:
                self.conn.rollback()
            elif self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        self.close()

    # ------------------------------------------------------------------ schema
    def create_schema(self) -> None:
        cur = self.conn.cursor()
        if self.postgres:
            cur.execute("SET search_path TO public")
            for name in reversed(TABLE_ORDER):
                cur.execute(f"DROP TABLE IF EXISTS public.{name} CASCADE")
        for name in TABLE_ORDER:
            cur.execute(ddl(contracts.SHOP_TABLES[name], self.postgres))
        self.commit()

    def create_indexes(self) -> None:
        cur = self.conn.cursor()
        for name in TABLE_ORDER:
            for stmt in index_statements(contracts.SHOP_TABLES[name]):
                cur.execute(stmt)
        cur.execute("ANALYZE")
        self.commit()

    # ------------------------------------------------------------------ writes
    def insert(self, name: str, table: pa.Table) -> int:
        """Append rows (columns in contract order, values already in their stored text/int form)."""
        cols = contracts.SHOP_TABLES[name].column_names
        table = table.select(cols)
        if table.num_rows == 0:
            return 0
        if self.postgres:
            with self.conn.cursor() as cur, cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv)") as cp:
                for start in range(0, table.num_rows, CHUNK_ROWS):
                    buf = io.BytesIO()
                    pacsv.write_csv(table.slice(start, CHUNK_ROWS), buf, pacsv.WriteOptions(include_header=False))
                    cp.write(buf.getvalue())
        else:
            sql = f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            for start in range(0, table.num_rows, CHUNK_ROWS):
                chunk = table.slice(start, CHUNK_ROWS)
                self.conn.executemany(sql, zip(*(_pylist(chunk.column(c)) for c in cols), strict=True))
        return table.num_rows

    def update(self, name: str, key: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
        """``UPDATE name SET columns… WHERE key = ?`` for each row ``(*values, key_value)``."""
        rows = list(rows)
        if not rows:
            return 0
        ph = "%s" if self.postgres else "?"
        sets = ", ".join(f"{c} = {ph}" for c in columns)
        sql = f"UPDATE {name} SET {sets} WHERE {key} = {ph}"
        if self.postgres:
            with self.conn.cursor() as cur:
                cur.executemany(sql, rows)
        else:
            self.conn.executemany(sql, rows)
        return len(rows)

    # ------------------------------------------------------------------ reads
    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """Rows of ``sql`` (placeholders ``?``); select timestamps through :meth:`ts` and dates or
        money through :meth:`txt` to get the same text from both engines."""
        if self.postgres:
            sql = sql.replace("?", "%s")
            with self.conn.cursor() as cur:
                cur.execute(sql, list(params))
                return cur.fetchall()
        return self.conn.execute(sql, list(params)).fetchall()

    def ts(self, column: str) -> str:
        """Select expression: a TIMESTAMP column as ``'YYYY-MM-DD HH:MM:SS'`` text in both engines."""
        return f"to_char({column}, 'YYYY-MM-DD HH24:MI:SS')" if self.postgres else column

    def txt(self, column: str) -> str:
        """Select expression: a DATE or NUMERIC column as text in both engines."""
        return f"{column}::text" if self.postgres else column

    def counts(self) -> dict[str, int]:
        return {name: int(self.query(f"SELECT count(*) FROM {name}")[0][0]) for name in TABLE_ORDER}


def _pylist(col: pa.ChunkedArray) -> list:
    if pa.types.is_integer(col.type) and col.null_count == 0:
        return col.to_numpy().tolist()
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return col.to_numpy(zero_copy_only=False).tolist()
    return col.to_pylist()
