"""Where a night could leak a secret or raw personal data, searched (tests/quality/test_lineage.py
runs it on its night, which has every secret set: the PII key, the shop DB's password, the
tickets API token).

The secrets: in no file under the data root and ``dbt_project/target/`` (bytes, and every text
column of every DuckDB and Parquet file there, since compression could hide a string from a byte
search), in no table or column of the Airflow metadata DB, not in the night's console output.
Raw names, phones and e-mails: not in the marts, the serving file, the docs or the reports. Raw
files are the owner's only.
"""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path
from typing import Any

import duckdb

from loyalty.config import DBT_PROJECT_DIR, Settings


def _files(*roots: Path) -> list[Path]:
    return [p for r in roots if r.exists() for p in r.rglob("*") if p.is_file()]


def _automaton(needles: list[str]) -> Any:
    """Aho-Corasick over the needles: one pass per text finds every needle in it (a loop of
    ``needle in text`` over thousands of names, phones and e-mails took minutes)."""
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for n in needles:
        automaton.add_word(n, n)
    automaton.make_automaton()
    return automaton


def _found(automaton: Any, text: str) -> set[str]:
    return {needle for _, needle in automaton.iter(text)}


def _rows_hit(values: list[Any], needles: list[str]) -> int:
    automaton = _automaton(needles)
    return sum(1 for v in values if v is not None and next(automaton.iter(str(v)), None) is not None)


def _text_columns_hits(con: duckdb.DuckDBPyConnection, needles: list[str], where: str = "") -> list[str]:
    hits = []
    cols = con.execute(
        "select table_catalog, table_schema, table_name, column_name from information_schema.columns"
        " where data_type in ('VARCHAR', 'JSON') " + where).fetchall()
    for db, schema, table, col in cols:
        try:
            if len(needles) <= 8:  # the key: DuckDB searches the column
                q = f'select count(*) from "{db}"."{schema}"."{table}" where ' + " or ".join(
                    f'contains("{col}", ?)' for _ in needles)
                n = con.execute(q, needles).fetchone()[0]
            else:  # thousands of PII values: every value of the column through one automaton
                values = [v for (v,) in con.execute(
                    f'select "{col}" from "{db}"."{schema}"."{table}" where "{col}" is not null').fetchall()]
                n = _rows_hit(values, needles)
        except duckdb.Error:  # a view that needs the dbt-only function (staging): not shown to anyone
            continue
        if n:
            hits.append(f"{schema}.{table}.{col}: {n} rows")
    return hits


def _parquet_hits(path: Path, needles: list[str]) -> int:
    """Rows of the file with a needle in any of its byte-array (text or binary) columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    texts: list[list[str]] = []
    for name in table.column_names:
        kind = table.schema.field(name).type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            texts.append([v or "" for v in table.column(name).to_pylist()])
        elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            texts.append([(v or b"").decode("utf-8", errors="replace") for v in table.column(name).to_pylist()])
    if not texts:
        return 0
    return _rows_hit(["\x00".join(row) for row in zip(*texts, strict=True)], needles)


def assert_the_night_leaks_neither_secrets_nor_raw_pii(
    settings: Settings, airflow_db: Path, console_out: str, console_err: str, secrets: set[str],
    customers: list[tuple[str | None, str | None, str | None]],
) -> None:
    """``customers``: the source's (name, phone, email) rows."""
    from loyalty.generator.vocab import CITIES, COMMENTS_NEGATIVE, COMMENTS_NEUTRAL, COMMENTS_POSITIVE

    assert not (settings.data_dir / ".secrets" / "pii_key").exists()  # the key came from the environment
    files = _files(settings.data_dir, DBT_PROJECT_DIR / "target")
    assert len(files) > 100
    _assert_nowhere(sorted(secrets), airflow_db, files, console_out, console_err)

    # --- raw names, phones and e-mails: not in the marts, the serving file, docs or reports ----
    ordinary = {*(c[0] for c in CITIES), *COMMENTS_POSITIVE, *COMMENTS_NEUTRAL, *COMMENTS_NEGATIVE}
    names = {n for n, _, _ in customers if n and len(n) >= 2 and not any(n in w for w in ordinary)}
    phones = {p for _, p, _ in customers if p and len(p) >= 7}
    emails = {e for _, _, e in customers if e}
    pii = sorted(names | phones | emails)
    assert len(names) > 100 and len(phones) > 100 and len(emails) > 100
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        assert _text_columns_hits(con, pii) == []
    finally:
        con.close()
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        assert _text_columns_hits(con, pii, "and table_schema in ('marts', 'core')") == []
    finally:
        con.close()
    shown = _files(settings.data_dir / "dbt_docs", settings.data_dir / "gx" / "uncommitted" / "data_docs",
                   settings.audit_dir / "reports", settings.serving_path.parent / "parquet")
    assert any(f.name == "static_index.html" for f in shown) and any(f.suffix == ".html" for f in shown)
    leaks = []
    automaton = _automaton(pii)
    for f in shown:
        text = f.read_bytes().decode("utf-8", errors="replace") if f.suffix != ".parquet" else ""
        if f.suffix == ".parquet":
            leaks += [f.name] if _parquet_hits(f, pii) else []
            continue
        leaks += [f"{f.name}: {v}" for v in sorted(_found(automaton, text))]
    assert leaks == []

    # --- files holding raw PII are the owner's only ------------------------------------------
    for root in (settings.raw_dir, settings.quarantine_dir):
        for p in [root, *root.rglob("*")]:
            mode = stat.S_IMODE(p.stat().st_mode)
            assert mode & 0o077 == 0, f"{p} is readable by others ({oct(mode)})"


def _assert_nowhere(secrets: list[str], airflow_db: Path, files: list[Path], console_out: str,
                    console_err: str) -> None:
    for secret in secrets:
        raw = secret.encode()
        assert [str(f) for f in files if raw in f.read_bytes()] == [], secret
    for f in files:  # compressed storage could hide a string from a byte search: ask the engines too
        if f.suffix == ".duckdb":
            con = duckdb.connect(str(f), read_only=True)
            try:
                assert _text_columns_hits(con, secrets) == [], f
            finally:
                con.close()
        elif f.suffix == ".parquet":
            assert _parquet_hits(f, secrets) == 0, f
    metadata = sqlite3.connect(str(airflow_db / "airflow.db"))
    checked = 0
    for (table,) in metadata.execute("select name from sqlite_master where type = 'table'").fetchall():
        for col in [r[1] for r in metadata.execute(f'pragma table_info("{table}")').fetchall()]:
            for secret in secrets:
                n = metadata.execute(f'select count(*) from "{table}" where instr(cast("{col}" as text), ?) > 0',
                                     [secret]).fetchone()[0]
                assert n == 0, f"a secret is in the Airflow metadata DB: {table}.{col}"
            checked += 1
    assert checked > 200
    for secret in secrets:
        assert secret not in console_out and secret not in console_err
