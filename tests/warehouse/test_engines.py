"""Engine dispatch (``loyalty.warehouse.engines``): which engine a name or ``LOYALTY_DBT_TARGET``
gives, what an unknown one says, and that each engine hands every step to its own module
(DuckDB for real on a small file; PostgreSQL and Spark with their modules' functions replaced,
so neither server nor JVM is needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from loyalty.config import Settings
from loyalty.warehouse import engines, postgres, raw, spark
from loyalty.warehouse.engines import DuckDBEngine, PostgresEngine, SparkEngine, engine_name, open_engine


@pytest.fixture()
def settings(data_dir: Path) -> Settings:
    return Settings.from_env()


# --- which engine -------------------------------------------------------------------------------
def test_the_engines_are_the_profile_targets() -> None:
    assert engines.ENGINES == ("duckdb", "postgres", "spark")
    assert {name: cls.name for name, cls in engines.ENGINE_CLASSES.items()} == {n: n for n in engines.ENGINES}


def test_engine_name_defaults_to_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOYALTY_DBT_TARGET", raising=False)
    assert engine_name() == "duckdb"


@pytest.mark.parametrize(("target", "cls"), [("duckdb", DuckDBEngine), ("postgres", PostgresEngine),
                                             ("spark", SparkEngine)])
def test_open_engine_follows_the_target(monkeypatch: pytest.MonkeyPatch, settings: Settings, target: str,
                                        cls: type) -> None:
    monkeypatch.setenv("LOYALTY_DBT_TARGET", target)
    assert engine_name() == target
    wh = open_engine(settings)
    assert type(wh) is cls and wh.name == target and wh.settings == settings
    assert type(open_engine(settings, "duckdb")) is DuckDBEngine  # a name given wins over the target


def test_an_unknown_target_says_what_to_set(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("LOYALTY_DBT_TARGET", "snowflake")
    with pytest.raises(ValueError, match=r"LOYALTY_DBT_TARGET='snowflake': the warehouse engine must be one of "
                                         r"duckdb, postgres, spark .*unset it for duckdb"):
        engine_name()
    with pytest.raises(ValueError, match="LOYALTY_DBT_TARGET='snowflake'"):
        open_engine(settings)


def test_an_unknown_engine_name_is_an_error(settings: Settings) -> None:
    with pytest.raises(ValueError, match=r"no warehouse engine 'bigquery': the engines are duckdb, postgres, spark"):
        open_engine(settings, "bigquery")


# --- DuckDB, for real -----------------------------------------------------------------------------
def _warehouse(settings: Settings, nights: list[str]) -> None:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create schema intermediate; create schema marts")
    con.execute("create table intermediate.int_build_watermark (batch_id varchar)")
    for night in nights:
        con.execute("insert into intermediate.int_build_watermark values (?)", [night])
    con.execute("create table marts.mart_churn as select 1 as churned, 'all' as segment_type")
    con.close()


def test_duckdb_reads_the_warehouse_file(settings: Settings) -> None:
    wh = open_engine(settings, "duckdb")
    assert not wh.exists() and wh.newest_built_night() is None  # before the first build
    _warehouse(settings, ["2026-11-20", "2026-11-21"])
    with open_engine(settings, "duckdb") as wh:
        assert wh.exists() and wh.describe() == str(settings.warehouse_path)
        assert wh.relation_exists("marts.mart_churn") and not wh.relation_exists("marts.mart_nps")
        assert wh.to_arrow("select churned from marts.mart_churn").to_pylist() == [{"churned": 1}]
        assert wh.tables("table_schema = 'marts'") == [("marts", "mart_churn")]
        assert wh.newest_built_night() == "2026-11-21"
        assert wh.dialect("select 1") == "select 1"
        duck = duckdb.connect()
        wh.copy_into(duck, [("marts", "mart_churn")])
        assert duck.execute("select * from marts.mart_churn").fetchall() == [(1, "all")]
        assert wh.execute(lambda con: con.execute("select count(*) from intermediate.int_build_watermark")
                          .fetchone()[0]) == 2


def test_duckdb_without_a_completed_build_has_no_newest_night(settings: Settings) -> None:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(settings.warehouse_path)).close()
    with open_engine(settings, "duckdb") as wh:
        assert wh.newest_built_night() is None


def test_duckdb_registers_the_raw_zone_through_loyalty_warehouse_raw(monkeypatch: pytest.MonkeyPatch,
                                                                       settings: Settings) -> None:
    calls: list[tuple[Settings, Any]] = []
    monkeypatch.setattr(raw, "register_raw", lambda s, also=(): calls.append((s, also)) or {"orders": 3})
    _warehouse(settings, [])
    wh = open_engine(settings, "duckdb")
    wh.relation_exists("marts.mart_churn")  # opens the reading connection
    also = (lambda con, s: None,)
    assert wh.register_raw(also=also) == {"orders": 3}
    assert calls == [(settings, also)]
    assert wh._connection is None  # closed first: the register step writes the file


# --- PostgreSQL and Spark: each step goes to its module -----------------------------------------------
class Recorder:
    """Stands in for a module's functions: records each call, returns what it is told to."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, returns: dict[str, Any]) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        for name, value in returns.items():
            monkeypatch.setattr(module, name, self._fake(name, value))

    def _fake(self, name: str, value: Any) -> Any:
        def fake(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args + tuple(kwargs.values())))
            return value(*args, **kwargs) if callable(value) else value
        return fake

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


class FakeConnection:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> FakeConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_postgres_hands_every_step_to_loyalty_warehouse_postgres(monkeypatch: pytest.MonkeyPatch,
                                                                   settings: Settings) -> None:
    conn = FakeConnection()
    arrow = pa.table({"night": ["2026-11-21"]})
    pg = Recorder(monkeypatch, postgres, {
        "connect": conn, "describe": "postgresql://postgres@127.0.0.1:5432/loyalty_wh", "load_raw": {"orders": 5},
        "relation_exists": True, "query_arrow": arrow, "tables": [("marts", "mart_churn")],
        "copy_query_to_duckdb": 1,
    })
    wh = open_engine(settings, "postgres")
    assert wh.describe() == "postgresql://postgres@127.0.0.1:5432/loyalty_wh"
    assert wh.register_raw() == {"orders": 5}
    assert wh.relation_exists("marts.mart_churn") is True
    assert wh.to_arrow("select 1") is arrow
    assert wh.tables("true") == [("marts", "mart_churn")]
    assert wh.newest_built_night() == "2026-11-21"  # the base class's query, answered by PostgreSQL
    duck = duckdb.connect()
    wh.copy_into(duck, [("marts", "mart_churn")])
    assert ("copy_query_to_duckdb", (conn, 'select * from marts."mart_churn"', duck, "marts.mart_churn")) in pg.calls
    assert wh.execute(lambda c: c is conn)  # a committed connection of its own
    assert pg.calls[0] == ("describe", ())
    assert ("load_raw", (settings, ())) in pg.calls
    assert pg.names().count("connect") == 2  # the reading connection (autocommit), then execute's own
    assert ("connect", (True,)) in pg.calls
    wh.close()
    assert conn.closed


def test_spark_hands_every_step_to_loyalty_warehouse_spark(monkeypatch: pytest.MonkeyPatch, settings: Settings,
                                                             tmp_path: Path) -> None:
    session = object()
    answers = {"select * from marts.mart_churn": pa.table({"churned": [1]}),
               "select table_name from information_schema.tables": pa.table({"table_name": ["mart_churn"]})}
    sp = Recorder(monkeypatch, spark, {
        "session": session, "describe": "Spark local[1]", "register_raw": {"orders": 7}, "relation_exists": False,
        "query_arrow": lambda s, q: answers[q], "refresh_information_schema": None,
        "tables": [("marts", "mart_churn"), ("marts", "mart_nps"), ("staging", "stg_x")],
        "spark_dir": tmp_path / "spark",
    })
    wh = open_engine(settings, "spark")
    assert wh.describe() == "Spark local[1]"
    assert not wh.exists()  # no metastore yet
    (tmp_path / "spark" / "metastore_db").mkdir(parents=True)
    assert wh.exists()
    assert wh.register_raw() == {"orders": 7}
    assert wh.relation_exists("marts.mart_churn") is False
    assert wh.to_arrow("select * from marts.mart_churn").to_pylist() == [{"churned": 1}]
    for _ in range(2):
        wh.to_arrow("select table_name from information_schema.tables")
    assert sp.names().count("refresh_information_schema") == 1  # built once per engine, when first asked
    assert wh.tables("table_schema = 'marts' and table_name like 'mart_%'") == [("marts", "mart_churn"),
                                                                               ("marts", "mart_nps")]
    assert wh.dialect('select "a" from t') == "SELECT `a` FROM t"  # sqlglot, DuckDB to Spark
    assert wh.execute(lambda s: s) is session
    wh.close()  # leaves the session alone (a bare object(): closing or stopping it would raise)
    assert wh.connection is session  # the next use asks spark.session(), which gives the shared session
    assert ("register_raw", (settings, ())) in sp.calls
