"""Readable models: every model names its inputs in its own file, and macros do plumbing.

Over dbt's manifest (a fresh ``dbt parse``):
- each model's ``depends_on`` (models, sources, seeds, snapshots) appears as ``ref(...)`` or
  ``source(...)`` in the model's own SQL, so "where does this column come from?" is answered
  in that file;
- no macro reads a model or a source on a model's behalf (no ``ref``/``source`` call in a
  macro's code);
- every macro has a description in ``macros/_macros.yml`` (engine-specific forms, dispatched
  to by a described macro, excepted), so dbt docs list them.
"""

from __future__ import annotations

import json
import re

import dbt_util
import pytest

from loyalty.config import DBT_PROJECT_DIR

ADAPTER_PREFIXES = ("default__", "duckdb__", "postgres__", "spark__")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    target = tmp_path_factory.mktemp("parse")
    dbt_util.run([dbt_util._bin("dbt"), "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                  str(DBT_PROJECT_DIR), "--target-path", str(target), "--log-path", str(target / "logs")],
                 dbt_util.data_env(target / "data"), cwd=DBT_PROJECT_DIR)
    return json.loads((target / "manifest.json").read_text())


def hidden_inputs(manifest: dict) -> dict[str, list[str]]:
    """Per model, the inputs dbt records for it that its own SQL does not name."""
    hidden = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        names = [d.split(".")[-1] for d in node["depends_on"]["nodes"]
                 if d.split(".")[0] in ("model", "source", "seed", "snapshot")]
        missing = [n for n in names
                   if not re.search(r"(ref|source)\([^)]*['\"]" + re.escape(n) + r"['\"]", node["raw_code"])]
        if missing:
            hidden[node["name"]] = missing
    return hidden


def test_every_model_names_its_inputs_in_its_own_file(manifest: dict) -> None:
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert len(models) > 40, "the manifest has fewer models than the project"
    hidden = hidden_inputs(manifest)
    assert not hidden, ("these models read inputs their own SQL does not name (add an import CTE "
                        "`<name> as (select * from {{ ref('<name>') }})` at the top): " + json.dumps(hidden, indent=1))


def test_the_check_finds_an_input_hidden_in_a_macro(manifest: dict) -> None:
    """The check above can fail: a model whose input is read by a macro is reported."""
    node = next(n for n in manifest["nodes"].values() if n["name"] == "mart_repurchase")
    hidden_copy = {**node, "raw_code": node["raw_code"].replace("{{ ref('int_customer_periods') }}", "{{ customer_periods() }}")}
    found = hidden_inputs({"nodes": {"model.loyalty.mart_repurchase": hidden_copy}})
    assert found == {"mart_repurchase": ["int_customer_periods"]}


def _code_without_comments(sql: str) -> str:
    return re.sub(r"\{#.*?#\}", "", sql, flags=re.S)


def test_no_macro_reads_a_model_or_a_source(manifest: dict) -> None:
    macros = [m for m in manifest["macros"].values() if m["package_name"] == "loyalty"]
    assert len(macros) > 50
    calling = [m["name"] for m in macros if re.search(r"\b(ref|source)\s*\(", _code_without_comments(m["macro_sql"]))]
    assert not calling, f"macros that call ref()/source() (pass the model's import CTE instead): {calling}"


def test_every_macro_is_described(manifest: dict) -> None:
    undescribed = sorted(
        m["name"] for m in manifest["macros"].values()
        if m["package_name"] == "loyalty" and m["original_file_path"].startswith("macros/")
        and not m["name"].startswith(ADAPTER_PREFIXES) and not m["description"].strip()
    )
    assert not undescribed, f"macros without a description in macros/_macros.yml: {undescribed}"


def test_macro_files_are_named_for_what_they_do() -> None:
    files = sorted(p.name for p in (DBT_PROJECT_DIR / "macros").glob("*.sql"))
    assert "utils.sql" not in files, "a macro belongs in a file named for what it does"
    assert len(list((DBT_PROJECT_DIR / "macros").glob("*.yml"))) >= 1
    # every macro file starts with a description of what its macros are for
    for name in files:
        text = (DBT_PROJECT_DIR / "macros" / name).read_text()
        assert text.lstrip().startswith("{#"), f"macros/{name} does not start with a description"

