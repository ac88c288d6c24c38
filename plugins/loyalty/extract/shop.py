"""Extract one shop-database table for a night, incrementally by ``updated_at``, and land it.

PostgreSQL streams through ``COPY (SELECT …) TO STDOUT`` (the ``psql`` client when it is on the
PATH, else psycopg 3; ``LOYALTY_EXTRACT_CLIENT=psycopg`` chooses psycopg) into temporary CSV
segments, so no table is ever held in Python memory; SQLite streams through ``fetchmany``.
DuckDB types each segment against the contract on a background thread while the next one is
written (``SegmentTyper``); ``conform`` writes the landed Parquet and the quarantine, ``batches``
the ledger record. The source's schema is checked against the contract first (``schema``).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import queue
import shutil
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast
from urllib.parse import unquote, urlsplit

import duckdb
import psycopg

from loyalty import contracts
from loyalty.config import Settings
from loyalty.extract import batches, conform, schema
from loyalty.extract.night import Night

log = logging.getLogger(__name__)

ROWS_PER_SEGMENT = int(os.environ.get("LOYALTY_ROWS_PER_SEGMENT", "500000"))
DEFAULT_LOOKBACK = timedelta(hours=int(os.environ.get("LOYALTY_LOOKBACK_HOURS", "48")))


class SourceError(RuntimeError):
    """The source could not be read (connection, missing table): retryable infrastructure trouble."""


def resolve_shop_db_url(conn_id: str = "loyalty_shop_db", settings: Settings | None = None) -> str:
    """The shop database URL: the Airflow connection if defined, else ``LOYALTY_SHOP_DB_URL``,
    else the demo SQLite file."""
    settings = settings or Settings.from_env()
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception:  # no Airflow context or no such connection: the documented fallbacks
        return os.environ.get("LOYALTY_SHOP_DB_URL", settings.default_shop_db_url)
    if conn.conn_type == "sqlite":
        path = conn.host or conn.schema or ""
        return f"sqlite:///{path}"
    auth = ""
    if conn.login:
        auth = conn.login + (f":{conn.password}" if conn.password else "") + "@"
    port = f":{conn.port}" if conn.port else ""
    return f"postgresql://{auth}{conn.host or '127.0.0.1'}{port}/{conn.schema or 'postgres'}"


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme.split("+")[0] in ("postgresql", "postgres")


def postgres_dsn(url: str) -> str:
    """A libpq DSN from a SQLAlchemy/Airflow URL (drops a ``+driver`` suffix)."""
    parts = urlsplit(url)
    return parts._replace(scheme="postgresql").geturl()


def sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a SQLite URL: {url!r} (expected sqlite:///path/to/file)")
    return Path(unquote(url[len("sqlite:///") :]))


# PostgreSQL column types whose text output always parses as the contract type, losslessly
_EXACT_PG_TYPES: dict[str, tuple[str, ...]] = {
    "BIGINT": ("bigint", "integer", "smallint"),
    "INTEGER": ("integer", "smallint"),
    "DATE": ("date",),
    "TIMESTAMP": ("timestamp without time zone",),
    "VARCHAR": ("text", "character varying", "character"),
}


def _exact_pg_type(contract_type: str, data_type: str, precision: int | None, scale: int | None) -> bool:
    if contract_type.startswith("DECIMAL("):
        p, s = (int(x) for x in contract_type[len("DECIMAL("):-1].split(","))
        # numeric(p', s') with s' <= s and no more integer digits: no rounding, no overflow
        return data_type == "numeric" and precision is not None and scale is not None and scale <= s \
            and precision - scale <= p - s
    return data_type in _EXACT_PG_TYPES.get(contract_type, ())


def postgres_types_exact(url: str, table: contracts.Table) -> bool:
    """True when every contract column of ``table`` has a PostgreSQL type that guarantees its
    contract type (the typed fast path of ``SegmentTyper`` then gives the exact path's result)."""
    import psycopg

    try:
        with psycopg.connect(postgres_dsn(url), autocommit=True) as conn:
            rows = conn.execute(
                "select column_name, data_type, numeric_precision, numeric_scale from information_schema.columns "
                "where table_schema = current_schema() and table_name = %s",
                [table.name],
            ).fetchall()
    except psycopg.Error as exc:
        raise SourceError(f"cannot read the shop database (connection loyalty_shop_db): {exc}") from exc
    found = {name: (dtype, prec, scale) for name, dtype, prec, scale in rows}
    inexact = [c.name for c in table.columns if c.name not in found or not _exact_pg_type(c.type, *found[c.name])]
    if inexact:
        log.info("%s: source types of %s do not guarantee the contract's; typing from text", table.name, inexact)
    return not inexact


def check_source_schema(url: str, table: contracts.Table) -> schema.SchemaCheck:
    """The source table against its contract (loyalty.extract.schema): raises SourceSchemaError
    on a breaking change, returns the additive ones as notes."""
    if _is_postgres(url):
        import psycopg

        try:
            with psycopg.connect(postgres_dsn(url), autocommit=True) as conn:
                check = schema.check_postgres(conn, table)
        except psycopg.Error as exc:
            raise SourceError(f"cannot read the shop database (connection loyalty_shop_db): {exc}") from exc
    else:
        path = sqlite_path(url)
        if not path.exists():
            raise SourceError(f"the shop database file {path} does not exist; run `loyalty generate` or fix loyalty_shop_db")
        lite = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = schema.check_sqlite(lite, table)
        finally:
            lite.close()
    if check.breaking:
        raise check.error("connection loyalty_shop_db")
    for note in check.notes:
        log.warning("%s: source schema change: %s", table.name, note)
    return check


def _select_sql(table: contracts.Table, lower: datetime | None, upper: datetime, placeholder: str) -> tuple[str, list]:
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    where = f'"{table.cursor}" < {placeholder}'
    params: list = [upper.isoformat(sep=" ")]
    if lower is not None:
        where = f'"{table.cursor}" >= {placeholder} and ' + where
        params.insert(0, lower.isoformat(sep=" "))
    return f'select {cols} from "{table.name}" where {where}', params


class SegmentTyper:
    """Types CSV segments in DuckDB on a background thread while the extractor writes the next.

    The source hands rows over one by one; the client core would otherwise sit idle while the
    server produces them. Each closed segment is typed into its own table ``_seg_<n>``;
    ``close()`` unites them as view ``_typed``.

    ``exact_types``: the source's column types already guarantee the contract's (PostgreSQL
    ``bigint``, ``numeric(12,2)``, ``timestamp``, …). Segments are then read with typed columns
    (about half the CPU of text plus ``try_cast``), and only a segment that fails to parse or
    holds a row the contract could reject is typed again from its text, by ``typed_select``,
    so a quarantined row always gets its exact reason and raw payload.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        table: contracts.Table,
        work: Path,
        rows_per_segment: int,
        *,
        exact_types: bool = False,
    ):
        self.con, self.table, self.work, self.rows_per_segment = con, table, work, rows_per_segment
        self.exact_types = exact_types
        self.queue: queue.Queue[Path | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.segments = 0
        self.typed_tables: list[str] = []
        self.fast_segments = 0
        self.thread = threading.Thread(target=self._consume, name=f"type-{table.name}", daemon=True)
        self.thread.start()

    def _read_csv(self, path: Path, typed: bool) -> str:
        types = {c.name: (c.type if typed else "VARCHAR") for c in self.table.columns}
        columns = "{" + ", ".join(f"'{name}': '{type_}'" for name, type_ in types.items()) + "}"
        return (
            f"read_csv('{path}', header=false, columns={columns}, quote='\"', escape='\"', "
            "allow_quoted_nulls=false, auto_detect=false, strict_mode=true)"
        )

    def _type_fast(self, path: Path, target: str) -> bool:
        """Typed read of a segment; False (nothing kept) when it needs the exact path."""
        sql, suspect = conform.clean_select(self.table, self._read_csv(path, typed=True))
        try:
            self.con.execute(f"create or replace table {target} as {sql}")
        except duckdb.Error as exc:  # a value that does not parse as its type: judge the text
            log.info("%s: %s does not read as typed columns (%s); typing it from text", self.table.name, path.name,
                     str(exc).splitlines()[0])
            return False
        dirty = self.con.execute(f"select count(*) from {target} where {suspect}").fetchone()
        if dirty and dirty[0]:
            log.info("%s: %s holds %d rows the contract may reject; typing it from text", self.table.name, path.name,
                     dirty[0])
            self.con.execute(f"drop table {target}")
            return False
        return True

    def _consume(self) -> None:
        while (path := self.queue.get()) is not None:
            if self.error is not None:
                continue
            try:
                target = f"_seg_{len(self.typed_tables) + 1:05d}"
                if self.exact_types and self._type_fast(path, target):
                    self.fast_segments += 1
                else:
                    sql = conform.typed_select(self.table, self._read_csv(path, typed=False))
                    self.con.execute(f"create or replace table {target} as {sql}")
                self.typed_tables.append(target)
                path.unlink()
            except BaseException as exc:  # re-raised by close()
                self.error = exc

    def new_segment(self) -> Path:
        self.segments += 1
        return self.work / f"_segment-{self.segments:05d}.csv"

    def submit(self, path: Path) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(path)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
        union = " union all ".join(f"select * from {t}" for t in self.typed_tables)
        self.con.execute(f"create or replace view _typed as {union}")


PSQL = shutil.which("psql")
SEGMENT_BYTES = int(os.environ.get("LOYALTY_SEGMENT_BYTES", str(16 << 20)))


def _record_boundary(block: bytes | bytearray, quotes_before: int, end: int | None = None) -> int:
    """Offset just after the last line break of ``block[:end]`` that ends a CSV record (outside
    quotes: an even number of ``"`` before it, counting ``quotes_before``), or -1."""
    end = len(block) if end is None else end
    while (nl := block.rfind(b"\n", 0, end)) >= 0:
        if (quotes_before + block.count(b'"', 0, nl)) % 2 == 0:
            return nl + 1
        end = nl
    return -1


def _copy_postgres_psql(url: str, query: str, typer: SegmentTyper) -> int:
    """Stream ``COPY (query) TO STDOUT`` through the ``psql`` client: libpq in C moves the rows,
    Python only cuts the byte stream into segments at record boundaries (no per-row work)."""
    import subprocess

    parts = urlsplit(postgres_dsn(url))
    env = dict(os.environ)
    if parts.password:  # never on the command line (visible in ps)
        env["PGPASSWORD"] = unquote(parts.password)
        netloc = parts.netloc.rsplit("@", 1)
        user = netloc[0].split(":", 1)[0] if len(netloc) == 2 else ""
        parts = parts._replace(netloc=(user + "@" if user else "") + netloc[-1])
    if PSQL is None:  # callers check PSQL first; Popen would raise this TypeError on a None argument
        raise TypeError("psql client not found on PATH")
    cmd = [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", parts.geturl(),
           "-c", f"\\copy ({query}) to stdout with (format csv)"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, bufsize=0)
    assert proc.stdout is not None
    nbytes, size, quotes = 0, 0, 0
    path = typer.new_segment()
    f = path.open("wb")
    buf = bytearray(1 << 20)  # one buffer for every read: no allocation per pipe read
    view = memoryview(buf)
    try:
        stream = cast(io.RawIOBase, proc.stdout)  # unbuffered (bufsize=0): a raw pipe
        while n := stream.readinto(buf):
            nbytes += n
            start = 0
            if size + n >= SEGMENT_BYTES and (cut := _record_boundary(buf, quotes, n)) >= 0:
                # close the segment after the last complete record; the rest opens the next one
                f.write(view[:cut])
                f.close()
                typer.submit(path)
                path = typer.new_segment()
                f = path.open("wb")
                start, size, quotes = cut, 0, 0
            f.write(view[start:n])
            size += n - start
            quotes += buf.count(b'"', start, n)
        f.close()
        typer.submit(path)
    finally:
        if not f.closed:
            f.close()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0:
            raise SourceError(f"cannot read the shop database (connection loyalty_shop_db): psql: {err.strip()}")
    return nbytes


def _copy_postgres(url: str, sql: str, params: list, typer: SegmentTyper) -> int:
    if PSQL and os.environ.get("LOYALTY_EXTRACT_CLIENT", "psql") == "psql":
        from psycopg import sql as psql_sql

        literal = psql_sql.SQL(sql.replace("%s", "{}")).format(*[psql_sql.Literal(p) for p in params])
        return _copy_postgres_psql(url, literal.as_string(None), typer)

    try:
        conn = psycopg.connect(postgres_dsn(url), autocommit=True)
    except psycopg.OperationalError as exc:
        raise SourceError(f"cannot connect to the shop database (connection loyalty_shop_db): {exc}") from exc
    nbytes = 0
    limit = typer.rows_per_segment
    with conn, conn.cursor() as cur:
        # Literal parameters: COPY cannot take bind parameters.
        query = psycopg.sql.SQL(sql.replace("%s", "{}")).format(*[psycopg.sql.Literal(p) for p in params])
        with cur.copy(psycopg.sql.SQL("copy ({}) to stdout with (format csv)").format(query)) as copy:
            path = typer.new_segment()
            f = path.open("wb", buffering=1 << 22)
            n = 0
            write = f.write
            for chunk in copy:  # one row per chunk
                write(chunk)
                n += 1
                if n == limit:
                    nbytes += f.tell()
                    f.close()
                    typer.submit(path)
                    path = typer.new_segment()
                    f = path.open("wb", buffering=1 << 22)
                    write, n = f.write, 0
            nbytes += f.tell()
            f.close()
            typer.submit(path)
    return nbytes


class _Null(float):
    """Written by csv as an unquoted empty field (Python 3.11's csv writes None as \"\")."""

    def __repr__(self) -> str:
        return ""

    __str__ = __repr__


_NULL = _Null(0)


def _copy_sqlite(url: str, sql: str, params: list, typer: SegmentTyper) -> int:
    path = sqlite_path(url)
    if not path.exists():
        raise SourceError(f"the shop database file {path} does not exist; run `loyalty generate` or fix loyalty_shop_db")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    nbytes = 0
    try:
        cur = conn.execute(sql.replace("%s", "?"), params)
        while True:
            seg = typer.new_segment()
            with seg.open("w", newline="", encoding="utf-8") as f:
                # QUOTE_NONNUMERIC quotes text, so '' is written as "" and stays ''; NULL becomes
                # the _Null sentinel (a number, hence unquoted, printing as nothing) = NULL for DuckDB.
                writer = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
                rows = cur.fetchmany(typer.rows_per_segment)
                writer.writerows([_NULL if v is None else v for v in row] for row in rows)
            nbytes += seg.stat().st_size
            typer.submit(seg)
            if len(rows) < typer.rows_per_segment:
                break
    finally:
        conn.close()
    return nbytes


def extract_table(
    settings: Settings,
    table_name: str,
    night: Night,
    shop_db_url: str,
    *,
    full_refresh: bool = False,
    lookback: timedelta = DEFAULT_LOOKBACK,
) -> batches.BatchRecord:
    """Land one shop table for ``night``; returns its ledger record (also in ``_batch.json``)."""
    table = contracts.SHOP_TABLES[table_name]
    schema_check = check_source_schema(shop_db_url, table)  # before anything is read or written
    mark = None if full_refresh else batches.watermark(settings, table_name, night.batch_id)
    lower = None if mark is None else mark - lookback
    upper = night.end_naive
    mode = "incremental" if lower is not None else "full"
    final = batches.batch_dir(settings, table_name, night.batch_id)
    work = batches.staging_dir(final)
    qwork = batches.staging_dir(batches.quarantine_dir(settings, table_name, night.batch_id))
    extracted_at = datetime.now(UTC).replace(tzinfo=None)
    t0 = time.perf_counter()
    log.info("%s: %s extract, %s <= updated_at < %s", table_name, mode, lower or "-inf", upper)
    try:
        sql, params = _select_sql(table, lower, upper, "%s")
        con = conform.connect(work / "_spill")
        postgres = _is_postgres(shop_db_url)
        exact = postgres and postgres_types_exact(shop_db_url, table)
        typer = SegmentTyper(con, table, work, ROWS_PER_SEGMENT, exact_types=exact)
        try:
            if postgres:
                nbytes = _copy_postgres(shop_db_url, sql, params, typer)
            else:
                nbytes = _copy_sqlite(shop_db_url, sql, params, typer)
        finally:
            typer.close()
        t1 = time.perf_counter()
        counts = conform.classify_and_write(
            con,
            table,
            batch_id=night.batch_id,
            extracted_at=extracted_at,
            out_dir=work,
            quarantine_out=qwork,
            prior_files=batches.prior_parquet_files(settings, table_name, night.batch_id),
            cursor_floor=lower,
            dedup_within_batch=False,  # the source enforces the primary key
        )
        con.close()
        shutil.rmtree(work / "_spill", ignore_errors=True)
        record = batches.BatchRecord(
            table=table_name,
            source="shop",
            batch_id=night.batch_id,
            data_interval_start=night.start_utc.isoformat(),
            data_interval_end=night.end_utc.isoformat(),
            extracted_at=extracted_at.isoformat(),
            mode=mode,
            window_start=lower.isoformat() if lower else None,
            window_end=upper.isoformat(),
            rows_read=counts.read,
            rows_landed=counts.landed,
            rows_quarantined=counts.quarantined,
            rows_duplicate=counts.duplicates,
            # An empty night keeps the watermark where it was.
            max_cursor=(counts.max_cursor.isoformat() if counts.max_cursor else (mark.isoformat() if mark else None)),
            checksum=counts.checksum,
            schema_notes=schema_check.notes,
        )
        batches.write_record(work, record)
        batches.replace_dir(qwork, batches.quarantine_dir(settings, table_name, night.batch_id),
                            private_root=settings.quarantine_dir)
        batches.replace_dir(work, final, private_root=settings.raw_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(qwork, ignore_errors=True)
        raise
    log.info(
        "%s: read %d, landed %d, quarantined %d, duplicates %d (%.1f MB streamed+typed %.2fs, %d of %d segments "
        "by typed read, judged+written %.2fs)",
        table_name,
        record.rows_read,
        record.rows_landed,
        record.rows_quarantined,
        record.rows_duplicate,
        nbytes / 1e6,
        t1 - t0,
        typer.fast_segments,
        typer.segments,
        time.perf_counter() - t1,
    )
    return record
