"""Each vocabulary is defined once, in ``loyalty.contracts``; the copies dbt needs agree with it.

- the segment vocabularies: dbt's macro ``segment_vocabulary`` (found in whichever file under
  ``dbt_project/macros/`` defines it, rendered with Jinja as dbt renders it) and every
  ``accepted_values`` test on a segment column in the dbt project's YAML;
- the generator draws from the contracts' vocabularies, not from copies;
- the load ledger's columns are keys of every ``_batch.json``; the quarantine files are written
  with the contracts' columns, in their order.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from loyalty import contracts
from loyalty.config import DBT_PROJECT_DIR

MACRO = "segment_vocabulary"
# the dbt columns that hold a segment vocabulary's values, and which values they may hold: the
# dimension of members holds tiers only (a customer with no membership has no row there)
SEGMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "fct_orders.channel": contracts.SEGMENT_VOCABULARIES["order_channel"],
    "dim_members.member_tier": contracts.MEMBER_TIERS,
}


# --- dbt's macro ----------------------------------------------------------------------------------
class _MacroReturned(Exception):  # noqa: N818  (dbt's own mechanism: return() raises with the value)
    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


def _dbt_return(value: Any) -> None:
    raise _MacroReturned(value)


def macro_file() -> Path:
    defining = [p for p in sorted((DBT_PROJECT_DIR / "macros").rglob("*.sql"))
                if re.search(rf"\bmacro\s+{MACRO}\s*\(", p.read_text(encoding="utf-8"))]
    assert len(defining) == 1, f"macro {MACRO} should be defined once under dbt_project/macros/; found in {defining}"
    return defining[0]


def macro_values(name: str) -> list[str]:
    """What dbt's ``segment_vocabulary(name)`` returns, rendered with Jinja as dbt does (dbt's
    ``return()`` raises with its value)."""
    template = jinja2.Environment(extensions=["jinja2.ext.do"]).from_string(macro_file().read_text(encoding="utf-8"))
    module = template.make_module({"return": _dbt_return})
    try:
        getattr(module, MACRO)(name)
    except _MacroReturned as returned:
        return list(returned.value)
    raise AssertionError(f"{macro_file()}: {MACRO}({name!r}) did not return() a list")


def macro_vocabulary_names() -> list[str]:
    """The vocabulary names the macro's mapping lists (``'name': [...]``)."""
    text = macro_file().read_text(encoding="utf-8")
    body = text[re.search(rf"\bmacro\s+{MACRO}\s*\(", text).start():]  # type: ignore[union-attr]
    body = body[: body.index("endmacro")]
    return re.findall(r"['\"](\w+)['\"]\s*:\s*\[", body)


def test_dbt_has_the_contracts_segment_vocabularies_and_no_other() -> None:
    assert sorted(macro_vocabulary_names()) == sorted(contracts.SEGMENT_VOCABULARIES), (
        f"{macro_file()}: {MACRO} lists {macro_vocabulary_names()}, loyalty.contracts.SEGMENT_VOCABULARIES "
        f"{list(contracts.SEGMENT_VOCABULARIES)}: add a new vocabulary to contracts first, then to the macro")


@pytest.mark.parametrize("name", sorted(contracts.SEGMENT_VOCABULARIES))
def test_dbt_macro_returns_the_contracts_values(name: str) -> None:
    assert macro_values(name) == list(contracts.SEGMENT_VOCABULARIES[name]), (
        f"{macro_file()}: {MACRO}({name!r}) differs from loyalty.contracts.SEGMENT_VOCABULARIES[{name!r}]; "
        "change the contract (and the landing, which quarantines other values), then the macro")


# --- dbt's accepted_values tests ---------------------------------------------------------------------
def _accepted_values(test: Any) -> tuple[str | None, list[str]] | None:
    """(column_name given in the test or None, values) of an ``accepted_values`` test entry."""
    if not isinstance(test, dict) or "accepted_values" not in test:
        return None
    spec = test["accepted_values"] or {}
    args = spec.get("arguments") or {}
    values = args.get("values", spec.get("values"))
    return args.get("column_name", spec.get("column_name")), [str(v) for v in values]


def accepted_values_tests() -> list[tuple[str, str, list[str], Path]]:
    """Every ``accepted_values`` test of the dbt project's YAML: (model or source table, column,
    values, file), whether written under a column or on the model with ``column_name``."""
    found = []
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        nodes = list(doc.get("models") or [])
        for source in doc.get("sources") or []:
            nodes.extend(source.get("tables") or [])
        for node in nodes:
            for test in (node.get("data_tests") or node.get("tests") or []):
                if (av := _accepted_values(test)) is not None and av[0]:
                    found.append((node["name"], av[0], av[1], path))
            for column in node.get("columns") or []:
                for test in (column.get("data_tests") or column.get("tests") or []):
                    if (av := _accepted_values(test)) is not None:
                        found.append((node["name"], column["name"], av[1], path))
    return found


def test_every_accepted_values_test_on_a_segment_column_has_the_contracts_values() -> None:
    tests = accepted_values_tests()
    vocabulary_values = {v for values in contracts.SEGMENT_VOCABULARIES.values() for v in values}
    wrong, unknown, seen = [], [], set()
    for node, column, values, path in tests:
        key = f"{node}.{column}"
        if key in SEGMENT_COLUMNS:
            seen.add(key)
            if sorted(values) != sorted(SEGMENT_COLUMNS[key]):
                wrong.append(f"{path.relative_to(DBT_PROJECT_DIR)}: {key} accepts {values}, the contracts "
                             f"{list(SEGMENT_COLUMNS[key])}")
        elif vocabulary_values & set(values):
            unknown.append(f"{path.relative_to(DBT_PROJECT_DIR)}: {key} accepts {values}")
    assert not wrong, "accepted_values tests that differ from loyalty.contracts:\n  " + "\n  ".join(wrong)
    assert not unknown, ("accepted_values tests on a segment vocabulary's values that this test does not know: add "
                         "each to SEGMENT_COLUMNS in tests/test_vocabularies.py\n  " + "\n  ".join(unknown))
    assert seen == set(SEGMENT_COLUMNS), f"no accepted_values test found any more on {set(SEGMENT_COLUMNS) - seen}"


# --- the Python side ---------------------------------------------------------------------------
def test_the_segment_vocabularies_are_the_source_contracts_accepted_values() -> None:
    tables = contracts.ALL_TABLES
    assert contracts.SEGMENT_VOCABULARIES == {
        "order_channel": tables["orders"].column("channel").accepted,
        "survey_channel": tables["survey_responses"].column("channel").accepted,
        "ticket_channel": tables["tickets"].column("channel").accepted,
        "referral_channel": tables["referrals"].column("channel").accepted,
        "ticket_category": tables["tickets"].column("category").accepted,
        "member_tier": (*tables["memberships"].column("tier").accepted, "non_member"),  # type: ignore[misc]
    }


def test_the_generator_draws_from_the_contracts_vocabularies() -> None:
    from loyalty.generator import vocab

    assert vocab.CHANNELS is contracts.ORDER_CHANNELS
    assert vocab.TIERS is contracts.MEMBER_TIERS
    assert vocab.SURVEY_CHANNELS is contracts.SURVEY_CHANNELS
    assert vocab.TICKET_CHANNELS is contracts.TICKET_CHANNELS
    assert vocab.TICKET_CATEGORIES is contracts.TICKET_CATEGORIES
    assert vocab.REFERRAL_CHANNELS is contracts.REFERRAL_CHANNELS
    # the shares are index-aligned with the vocabularies
    assert len(vocab.CHANNEL_P) == len(vocab.CHANNELS) and len(vocab.SURVEY_CHANNEL_P) == len(vocab.SURVEY_CHANNELS)
    assert len(vocab.REFERRAL_CHANNEL_P) == len(vocab.REFERRAL_CHANNELS)


def test_the_ledger_columns_are_keys_of_every_batch_record() -> None:
    from loyalty.extract.batches import BatchRecord

    fields = [f.name for f in dataclasses.fields(BatchRecord)]
    assert [c for c in contracts.LEDGER_COLUMNS if c not in fields] == []


def test_quarantine_files_are_written_with_the_contracts_columns_in_order() -> None:
    from loyalty.extract.conform import quarantine_select

    select = quarantine_select(contracts.SHOP_TABLES["orders"], "2026-11-20", datetime(2026, 11, 21))
    assert re.findall(r" as (\w+)(?:,|$)", select) == list(contracts.QUARANTINE_COLUMNS)
