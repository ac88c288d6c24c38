"""The PII key never leaves the pipeline, and raw personal data never reaches what is shown.

A real night (``dag.test()``) runs with a known key; then every file under the data root and
``dbt_project/target/``, every table of every DuckDB and Parquet file there, every table and
column of the Airflow metadata DB and the night's console output are searched for the key, and
the marts, the serving file, the docs and the reports for every name, phone and e-mail of the
source. Pseudonyms are the same on DuckDB, in Python and on PostgreSQL.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from loyalty.config import DBT_PROJECT_DIR, Settings

D1 = date(2026, 11, 21)
KEY = "pii-key-" + uuid.uuid4().hex  # a known key, unique to this run


def test_pseudonyms_are_the_same_on_duckdb_python_and_postgres(pg_database: str) -> None:
    import psycopg

    from loyalty.warehouse.pii import dbt_environment, pseudonym
    from loyalty.warehouse.pii_duckdb import register

    values = ["13800138000", "wang.wei@example.com", "李娜@例子.中国", "0"]
    con = duckdb.connect()
    register(con, KEY)
    on_duckdb = [con.execute("select loyalty_pseudonym(?)", [v]).fetchone()[0] for v in values]
    assert con.execute("select loyalty_pseudonym(null), loyalty_pseudonym('')").fetchone() == (None, None)
    options = dbt_environment(KEY, "postgres")["PGOPTIONS"]
    with psycopg.connect(pg_database, options=options) as pg:
        pg.execute("create extension if not exists pgcrypto")
        on_postgres = [pg.execute(
            "select encode(hmac(convert_to(%s, 'UTF8'), convert_to(current_setting('loyalty.pii_key'), 'UTF8'),"
            " 'sha256'), 'hex')", [v]).fetchone()[0] for v in values]
    assert on_duckdb == [pseudonym(v, KEY) for v in values] == on_postgres
    assert all(len(p) == 64 for p in on_duckdb)
    assert pseudonym("13800138000", KEY) != pseudonym("13800138000", KEY + "x")  # keyed


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


@pytest.mark.slow  # a real night: left out of `make test-fast`
def test_a_night_leaks_neither_the_key_nor_raw_pii(
    data_dir: Path, airflow_db: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from loyalty.generator import generate
    from loyalty.generator.vocab import CITIES, COMMENTS_NEGATIVE, COMMENTS_NEUTRAL, COMMENTS_POSITIVE
    from loyalty.orchestration.runner import run_night

    monkeypatch.setenv("LOYALTY_PII_KEY", KEY)
    monkeypatch.setenv("AIRFLOW_CONN_LOYALTY_SHOP_DB", "unset")
    monkeypatch.delenv("AIRFLOW_CONN_LOYALTY_SHOP_DB")
    settings = Settings.from_env()
    generate(settings.sources_dir, scale="small", seed=11, end_date=D1)
    assert run_night(D1).endswith("success")
    console = capfd.readouterr()

    # --- the key: nowhere ------------------------------------------------------------------
    key = KEY.encode()
    assert not (settings.data_dir / ".secrets" / "pii_key").exists()  # given by the environment
    files = _files(settings.data_dir, DBT_PROJECT_DIR / "target")
    assert len(files) > 100
    assert [str(f) for f in files if key in f.read_bytes()] == []
    for f in files:  # compressed storage could hide a string from a byte search: ask the engines too
        if f.suffix == ".duckdb":
            con = duckdb.connect(str(f), read_only=True)
            try:
                assert _text_columns_hits(con, [KEY]) == [], f
            finally:
                con.close()
        elif f.suffix == ".parquet":
            assert _parquet_hits(f, [KEY]) == 0, f
    metadata = sqlite3.connect(str(airflow_db / "airflow.db"))
    checked = 0
    for (table,) in metadata.execute("select name from sqlite_master where type = 'table'").fetchall():
        for col in [r[1] for r in metadata.execute(f'pragma table_info("{table}")').fetchall()]:
            n = metadata.execute(f'select count(*) from "{table}" where instr(cast("{col}" as text), ?) > 0',
                                 [KEY]).fetchone()[0]
            assert n == 0, f"the key is in the Airflow metadata DB: {table}.{col}"
            checked += 1
    assert checked > 200
    assert KEY not in console.out and KEY not in console.err

    # --- raw names, phones and e-mails: not in the marts, the serving file, docs or reports ----
    shop = sqlite3.connect(str(settings.sources_dir / "shop.sqlite"))
    ordinary = {*(c[0] for c in CITIES), *COMMENTS_POSITIVE, *COMMENTS_NEUTRAL, *COMMENTS_NEGATIVE}
    names = {n for (n,) in shop.execute("select name from customers where name is not null")
             if len(n) >= 2 and not any(n in w for w in ordinary)}
    phones = {p for (p,) in shop.execute("select phone from customers where phone is not null") if len(p) >= 7}
    emails = {e for (e,) in shop.execute("select email from customers where email is not null")}
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
    assert os.environ["LOYALTY_PII_KEY"] == KEY
