"""Lineage for every night: one real night (``dag.test()``) with its shop database on PostgreSQL
behind a connection with a password, the tickets API behind a token of its own and a known PII
key; then its OpenLineage file:

- every event is valid against the OpenLineage JSON schema (spec 2-0-2, and each facet against
  its own schema where it has one: ``openlineage_spec/``, see its README; the dbt facets'
  schemas are the ones openlineage-integration-common installs);
- every dbt model is one job with its inputs and its output; every mart's upstream chain, walked
  through the night's jobs, ends at the night's source tables (shop DB, survey inbox, tickets
  API) and nowhere else, through staging and the raw zone;
- every event names the night: its batch and its DAG run (``loyalty_night``), the DAG run's
  OpenLineage run as the root of every task and child job;
- no secret (PII key, tickets token, the shop DB's password) and no raw PII value is in it, nor
  anywhere else the night wrote or printed (tests/leaks.py: every file under the data root and
  dbt's target, every DuckDB and Parquet text column, the Airflow metadata DB, the console; the
  marts, serving file, docs and reports for raw names, phones and e-mails);
- the evidence manifest holds its digest and ``loyalty verify`` checks it (tampering is caught);
- the audit report shows each mart's chain.

Negative controls show the checks can fail: a broken event fails the schema, a night without
its registration jobs does not reach its sources, a planted key and phone number are found.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from loyalty.config import OPENLINEAGE_ENV, Settings

D1 = date(2026, 11, 21)
MARTS = (
    "mart_recommendation", "mart_repurchase", "mart_churn", "mart_complaints", "mart_care_campaign_roi",
    "mart_referrals", "mart_membership", "mart_customer_360", "mart_cohort_retention", "mart_nps_value",
)
KEY = "pii-key-" + uuid.uuid4().hex
TOKEN = "tickets-token-" + uuid.uuid4().hex
PG_PASSWORD = "shop-password-" + uuid.uuid4().hex  # trust auth ignores it; the URL carries it
SPEC = Path(__file__).parent / "openlineage_spec"


@dataclass
class NightRun:
    settings: Settings
    events: list[dict[str, Any]]
    lineage_file: Path
    shop_url: str
    tickets_url: str
    dag_run_id: str
    logical_date: datetime
    clear_number: int
    task_instances: list[tuple[str, int, str]]
    seconds: float


@contextmanager
def a_night(tmp_path_factory: pytest.TempPathFactory, airflow_db: Path, pg_server: str) -> Iterator[NightRun]:
    """One real night in a private data folder, its shop DB on PostgreSQL (dropped afterwards)."""
    import time
    from urllib.parse import urlsplit

    import psycopg

    from loyalty.generator import generate
    from loyalty.orchestration.runner import run_night
    from loyalty.quality.lineage import night_events
    from loyalty.ticket_api.server import TicketApiServer

    data = tmp_path_factory.mktemp("lineage") / "data"
    shop_db = f"loyalty_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'create database "{shop_db}"')
    pg = urlsplit(pg_server)
    shop_url = f"postgresql://{pg.username}:{PG_PASSWORD}@{pg.hostname}:{pg.port or 5432}/{shop_db}"
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("LOYALTY_DATA_DIR", str(data))
            for var in ("LOYALTY_SOURCES_DIR", "LOYALTY_SURVEY_INBOX", "LOYALTY_RAW_DIR", "LOYALTY_SERVING"):
                mp.delenv(var, raising=False)
            mp.setenv("LOYALTY_WAREHOUSE", str(data / "warehouse" / "loyalty.duckdb"))
            mp.setenv("LOYALTY_PII_KEY", KEY)
            mp.setenv("AIRFLOW_CONN_LOYALTY_SHOP_DB", shop_url)
            settings = Settings.from_env()
            generate(settings.sources_dir, scale="small", seed=7, end_date=D1, shop_db_url=shop_url)
            with TicketApiServer(settings.tickets_jsonl, TOKEN) as server:
                tickets_url = server.url.rstrip("/")
                host, port = tickets_url.split("://", 1)[1].split(":")
                mp.setenv("AIRFLOW_CONN_LOYALTY_TICKETS_API", json.dumps(
                    {"conn_type": "http", "host": host, "port": int(port), "schema": "http", "password": TOKEN}))
                started = time.perf_counter()
                state = run_night(D1)
                seconds = time.perf_counter() - started
            assert state.endswith("success"), state
            meta = sqlite3.connect(str(airflow_db / "airflow.db"))
            run_id, logical, clear = meta.execute(
                "select run_id, logical_date, clear_number from dag_run where dag_id = 'loyalty_nightly'"
                " order by id desc limit 1").fetchone()
            tis = meta.execute("select task_id, map_index, state from task_instance where run_id = ?", [run_id]).fetchall()
            meta.close()
            when = datetime.fromisoformat(str(logical))
            yield NightRun(settings, night_events(settings, D1.isoformat()), settings.audit_dir / "lineage"
                           / f"batch_id={D1.isoformat()}" / "openlineage.jsonl", shop_url, tickets_url,
                           run_id, when if when.tzinfo else when.replace(tzinfo=UTC),
                           int(clear or 0), [tuple(t) for t in tis], seconds)
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{shop_db}" with (force)')


# ---------------------------------------------------------------------------------------------
# the schema


def _registry() -> Any:
    """The core spec and every facet schema, by their ``$id``."""
    import openlineage.common
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    dbt_schemas = Path(openlineage.common.__file__).parent / "schema"  # openlineage-integration-common's dbt facets
    resources = []
    for f in [SPEC / "OpenLineage.json", *sorted((SPEC / "facets").glob("*.json")), *sorted(dbt_schemas.glob("dbt-*.json"))]:
        doc = json.loads(f.read_text())
        resources.append((doc["$id"], DRAFT202012.create_resource(doc)))  # some name no (or an old) dialect
    return Registry().with_resources(resources)


def _facets(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    def walk(o: Any) -> Iterator[dict[str, Any]]:
        if isinstance(o, dict):
            if "_schemaURL" in o and "_producer" in o:
                yield o
            for v in o.values():
                yield from walk(v)
        elif isinstance(o, list):
            for v in o:
                yield from walk(v)

    for part in ("run", "job", "inputs", "outputs"):
        yield from walk(event.get(part))


def schema_errors(events: list[dict[str, Any]]) -> tuple[list[str], dict[str, int]]:
    """Every violation (event index and message) and how many facets each schema validated."""
    from jsonschema import Draft202012Validator

    registry = _registry()
    core = json.loads((SPEC / "OpenLineage.json").read_text())
    whole = Draft202012Validator(core, registry=registry)
    run_event = Draft202012Validator({"$ref": core["$id"] + "#/$defs/RunEvent"}, registry=registry)
    known = {uri for uri in registry}
    by_file = {uri.rsplit("/", 1)[-1]: uri for uri in known}
    errors: list[str] = []
    validated: dict[str, int] = {}
    for i, e in enumerate(events):
        errors += [f"event {i} ({e.get('job', {}).get('name')}): {err.message[:300]}" for err in whole.iter_errors(e)]
        errors += [f"event {i}: not a RunEvent: {err.message}" for err in run_event.iter_errors(e)]
        try:
            datetime.fromisoformat(e["eventTime"])
        except (KeyError, ValueError):
            errors.append(f"event {i}: eventTime {e.get('eventTime')!r} is not an ISO 8601 date-time")
        for uri in (e.get("producer", ""), e.get("schemaURL", "")):
            if not re.match(r"^[a-z][a-z0-9+.-]*:", uri or ""):
                errors.append(f"event {i}: {uri!r} is not a URI")
        for facet in _facets(e):
            url = facet["_schemaURL"]
            base, _, fragment = url.partition("#")
            if "OpenLineage.json" in base:  # a custom facet that names the generic facet schema
                continue
            resource = base if base in known else by_file.get(base.rsplit("/", 1)[-1])
            if resource is None:
                validated.setdefault("(no schema) " + base.rsplit("/", 1)[-1], 0)
                continue
            try:
                checker = Draft202012Validator({"$ref": resource + ("#" + fragment if fragment else "")},
                                               registry=registry)
                errors += [f"event {i}: facet {base.rsplit('/', 1)[-1]}: {err.message}" for err in checker.iter_errors(facet)]
                validated[base.rsplit("/", 1)[-1]] = validated.get(base.rsplit("/", 1)[-1], 0) + 1
            except Exception as exc:  # a schema that refers to a spec version not shipped
                validated.setdefault(f"(unresolvable: {type(exc).__name__}) " + base.rsplit("/", 1)[-1], 0)
    return errors, validated


def check_every_event_is_valid_openlineage(night: NightRun) -> None:
    events = night.events
    assert len(events) > 200, len(events)
    errors, validated = schema_errors(events)
    print(f"{len(events)} events; facets validated against their schemas: {validated}")
    assert errors == [], errors[:20]
    assert sum(validated.values()) > 1000 and "ParentRunFacet.json" in validated and "SQLJobFacet.json" in validated
    # the check can fail: a broken event and a broken facet are rejected
    broken = copy.deepcopy(events[0])
    broken["eventType"] = "FINISHED"
    del broken["eventTime"]
    facet_broken = copy.deepcopy(next(e for e in events if "parent" in e["run"]["facets"]))
    del facet_broken["run"]["facets"]["parent"]["job"]["name"]
    bad, _ = schema_errors([broken, facet_broken])
    assert any("FINISHED" in m for m in bad) and any("eventTime" in m for m in bad), bad
    assert any("ParentRunFacet" in m and "'name' is a required property" in m for m in bad), bad


# ---------------------------------------------------------------------------------------------
# the chains


def _sources(night: NightRun) -> set[tuple[str, str]]:
    from loyalty import contracts
    from loyalty.quality import lineage as names

    ds = [names.shop_table(night.shop_url, t) for t in contracts.SHOP_TABLES]
    ds += [names.survey_inbox(night.settings), names.tickets_api(night.tickets_url)]
    return {(d.namespace, d.name) for d in ds}


def check_every_model_is_a_job_and_every_mart_reaches_its_sources(night: NightRun) -> None:
    from loyalty.orchestration.dbt_config import manifest_models
    from loyalty.quality.lineage import Lineage, mart_chains, serving_table, warehouse_relation

    settings = night.settings
    lineage = Lineage.from_events(night.events)
    models, _ = manifest_models()
    model_runs = {r.job[1]: r for r in lineage.runs.values() if r.job[1].endswith(".build.run")}
    # one job per model of the build, each with its inputs and its one output, START then COMPLETE
    assert len(model_runs) == len(models), (len(model_runs), len(models))
    for node in models.values():
        relation = f"{node['schema']}.{node['alias']}"
        out = warehouse_relation(settings, relation)
        runs = [r for r in model_runs.values() if r.outputs == {(out.namespace, out.name)}]
        assert len(runs) == 1, (relation, [r.job for r in runs])
        assert runs[0].inputs and runs[0].types == {"START", "COMPLETE"}, (relation, runs[0].types)
    # every mart: its serving table back to the night's sources, through every layer
    expected = _sources(night)
    shop = {s for s in expected if s[0].startswith("postgres://")}
    chains = {c.mart[1].rsplit(".", 1)[-1]: c for c in mart_chains(night.events, settings)}
    assert set(chains) == set(MARTS), sorted(chains)
    for mart, chain in chains.items():
        top = serving_table(settings, f"marts.{mart}")
        assert chain.by_layer["serving"] == [(top.namespace, top.name)], mart
        assert set(chain.sources) <= expected, (mart, set(chain.sources) - expected)
        assert set(chain.sources) & shop, (mart, chain.sources)  # every mart reads the shop DB
        for layer in ("mart", "core", "staging", "raw (warehouse)", "raw zone", "source"):
            assert chain.by_layer.get(layer), (mart, layer)
    # nothing of the night comes from nowhere: what no job of the night wrote is exactly its sources
    assert {d for r in lineage.runs.values() for d in r.inputs} - set(lineage.producers()) == expected
    # the check can fail: without the registration jobs, the chain stops at the warehouse's raw views
    cut = [e for e in night.events if ".register." not in e["job"]["name"]]
    cut_chains = mart_chains(cut, settings)
    assert cut_chains and all(not set(c.sources) & expected for c in cut_chains)


def check_every_event_names_the_night_and_its_run(night: NightRun) -> None:
    from airflow.providers.openlineage.plugins.adapter import OpenLineageAdapter

    settings = night.settings
    assert night.lineage_file.exists()
    assert not (settings.audit_dir / "lineage" / "unassigned").exists()
    dag_ol_run = OpenLineageAdapter.build_dag_run_id("loyalty_nightly", night.logical_date, night.clear_number)
    jobs: dict[str, set[str]] = {}
    for e in night.events:
        facets = e["run"]["facets"]
        assert e["job"]["namespace"] == "loyalty", e["job"]
        jobs.setdefault(e["job"]["name"], set()).add(e["eventType"])
        if e["job"]["name"] == "loyalty_nightly":  # the DAG run's own event
            assert e["run"]["runId"] == dag_ol_run
            assert facets["airflowDagRun"]["dagRun"]["run_id"] == night.dag_run_id
            continue
        night_facet = facets["loyalty_night"]
        assert (night_facet["batchId"], night_facet["dagId"], night_facet["dagRunId"]) == (
            D1.isoformat(), "loyalty_nightly", night.dag_run_id), (e["job"]["name"], night_facet)
        assert facets["parent"]["root"]["run"]["runId"] == dag_ol_run, e["job"]["name"]
    assert jobs.get("loyalty_nightly") == {"COMPLETE"}
    # every task instance of the run reported its start and its end
    for task_id, map_index, state in night.task_instances:
        if state == "skipped":  # never started (night_failed: nothing failed)
            continue
        kinds = jobs.get(f"loyalty_nightly.{task_id}", set())
        assert {"START", "COMPLETE"} <= kinds, (task_id, map_index, state, kinds)
    starts = sum(1 for e in night.events if e["job"]["name"] == "loyalty_nightly.land_shop_table"
                 and e["eventType"] == "START")
    assert starts == 10, starts  # one per mapped shop table
    print(f"events per night: {len(night.events)} ({night.lineage_file.stat().st_size:,} bytes), "
          f"jobs: {len(jobs)}; the night took {night.seconds:.1f} s")


def leaks(text: str, values: set[str]) -> list[str]:
    """Every value of ``values`` found in ``text`` (one Aho-Corasick pass)."""
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for v in values:
        automaton.add_word(v, v)
    automaton.make_automaton()
    return sorted({v for _, v in automaton.iter(text)})


def check_no_secret_and_no_raw_pii_in_the_events(night: NightRun) -> None:
    import psycopg

    text = night.lineage_file.read_text(encoding="utf-8")
    assert PG_PASSWORD in night.shop_url  # the connection the night used had it
    with psycopg.connect(night.shop_url.replace(f":{PG_PASSWORD}", "")) as conn:
        rows = conn.execute("select name, phone, email from customers").fetchall()
    pii = {v for row in rows for v in row if v and len(v) >= 7}
    assert len(pii) > 1000
    secrets = {KEY, TOKEN, PG_PASSWORD}
    assert leaks(text, secrets | pii) == []
    # the scan finds what is there: a planted key and phone number are found
    phone = next(v for v in pii if v.isdigit())
    assert leaks(text + f'{{"x": "{KEY}", "y": "{phone}"}}', secrets | pii) == sorted([KEY, phone])
    # what the provider could put there and must not: environment variables, connection URIs
    for event in night.events:
        assert "environmentVariables" not in event["run"]["facets"]
    assert "postgresql://" not in text and "Bearer" not in text


# ---------------------------------------------------------------------------------------------
# evidence, verify, the report


def _verify(night: NightRun) -> tuple[int, str]:
    env = {**os.environ, "LOYALTY_DATA_DIR": str(night.settings.data_dir),
           "LOYALTY_WAREHOUSE": str(night.settings.warehouse_path)}
    r = subprocess.run([str(Path(sys.executable).with_name("loyalty")), "verify", "--night", D1.isoformat()],
                       capture_output=True, text=True, timeout=300, env=env)
    return r.returncode, r.stdout + r.stderr


def check_the_evidence_holds_the_file_digest_and_verify_checks_it(night: NightRun) -> None:
    import hashlib

    from loyalty.quality.evidence import manifest_path

    settings = night.settings
    recorded = json.loads(manifest_path(settings, D1.isoformat()).read_text())["lineage"]
    body = night.lineage_file.read_bytes()
    assert recorded["file"] == f"lineage/batch_id={D1.isoformat()}/openlineage.jsonl"
    assert 0 < recorded["bytes"] <= len(body) and hashlib.sha256(body[:recorded["bytes"]]).hexdigest() == recorded["sha256"]
    assert recorded["events"] == body[:recorded["bytes"]].count(b"\n") > 200
    rc, out = _verify(night)
    assert rc == 0 and re.search(r"^OK +lineage lineage/batch_id=\S+/openlineage.jsonl", out, re.M), out
    try:
        tampered = bytearray(body)
        tampered[recorded["bytes"] // 2] ^= 0x01
        night.lineage_file.write_bytes(bytes(tampered))
        rc, out = _verify(night)
        assert rc == 1 and "DIFFERS  lineage" in out and out.count("DIFFERS") == 1, out
        night.lineage_file.unlink()
        rc, out = _verify(night)
        assert rc == 1 and "MISSING  lineage" in out, out
    finally:
        night.lineage_file.write_bytes(body)
    assert _verify(night)[0] == 0


def check_the_audit_report_shows_each_marts_chain(night: NightRun) -> None:
    report = (night.settings.audit_dir / "reports" / f"audit_{D1.isoformat()}.html").read_text(encoding="utf-8")
    section = report.split('<h2 id="lineage">', 1)[1].split("<h2", 1)[0]
    rows = section.split("<tr>")[2:]
    assert len(rows) == len(MARTS), len(rows)
    for mart in MARTS:
        row = next(r for r in rows if f"<code>marts.{mart}</code>" in r.split("</td>", 1)[0])
        assert "staging." in row and "raw." in row and "raw/" in row and ".public." in row, (mart, row[:500])


def check_no_secret_and_no_raw_pii_anywhere_else(night: NightRun, airflow_db: Path, console: Any) -> None:
    """The night's files, engines, Airflow metadata DB and console (tests/leaks.py)."""
    import psycopg

    from leaks import assert_the_night_leaks_neither_secrets_nor_raw_pii

    with psycopg.connect(night.shop_url.replace(f":{PG_PASSWORD}", "")) as conn:
        customers = conn.execute("select name, phone, email from customers").fetchall()
    assert_the_night_leaks_neither_secrets_nor_raw_pii(night.settings, airflow_db, console.out, console.err,
                                                       {KEY, TOKEN, PG_PASSWORD}, customers)


@pytest.mark.slow  # a real night: left out of `make test-fast`
def test_a_nights_lineage(tmp_path_factory: pytest.TempPathFactory, airflow_db: Path, pg_server: str,
                          capfd: pytest.CaptureFixture[str]) -> None:
    """One night, every check on it (one test: pytest-xdist would run a module's night on each worker)."""
    with a_night(tmp_path_factory, airflow_db, pg_server) as night:
        console = capfd.readouterr()
        check_no_secret_and_no_raw_pii_anywhere_else(night, airflow_db, console)
        check_every_event_is_valid_openlineage(night)
        check_every_model_is_a_job_and_every_mart_reaches_its_sources(night)
        check_every_event_names_the_night_and_its_run(night)
        check_no_secret_and_no_raw_pii_in_the_events(night)
        check_the_evidence_holds_the_file_digest_and_verify_checks_it(night)
        check_the_audit_report_shows_each_marts_chain(night)


def test_every_deployment_configures_the_same_transport() -> None:
    import yaml

    from loyalty.config import REPO_ROOT

    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    env = compose["x-airflow-common"]["environment"]
    assert {k: str(env.get(k)) for k in OPENLINEAGE_ENV} == OPENLINEAGE_ENV
    json.loads(OPENLINEAGE_ENV["AIRFLOW__OPENLINEAGE__TRANSPORT"])
