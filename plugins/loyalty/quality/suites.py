"""The JSON suites under ``expectations/`` and the run-time parameters their rules ask for.

A suite file is GX 1.x's own suite JSON (``name``, ``meta``, ``expectations`` of
``type``/``kwargs``/``meta``) plus our conventions:

* ``meta.owner``; ``meta.severity`` (``error`` | ``warning``, default ``error``); an
  expectation's ``meta.severity`` overrides it.
* raw suites: ``meta.table`` (the landed table).
* mart suites: ``meta.scope`` = ``recomputed_tonight`` validates only the rows the night's
  build computed (``_batch_id`` = the batch; every row on a full build), for the
  period-incremental marts; ``changed_tonight`` the rows whose newest version landed tonight
  (``source_batch_id`` = the batch), for the incremental facts;
* mart suites: ``meta.table`` (``schema.name`` that must exist) and optionally ``meta.query``
  (the SQL whose result is validated; default ``select * from <table>``).
* ``meta.rule`` on an expectation: a kwarg written as ``{"$PARAMETER": "name"}`` is bound at
  validation time by the rule (``extraction_window``: the window the night extracted,
  ``batch_id``, ``batches_up_to``); the bounds are never hard-coded in the suite, and a rule
  only states what holds for correct data by construction.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from loyalty.config import EXPECTATIONS_DIR

SEVERITIES = ("error", "warning")
_GX_SEVERITY = {"error": "critical", "warning": "warning"}


class SuiteError(ValueError):
    """A suite file is malformed (wrong severity, unknown rule, unbound parameter)."""


@dataclass
class Suite:
    name: str
    path: Path
    meta: dict[str, Any]
    expectations: list[dict[str, Any]]

    @property
    def severity(self) -> str:
        return str(self.meta.get("severity", "error"))

    @property
    def table(self) -> str:
        return str(self.meta.get("table", self.name))


@dataclass
class BoundSuite:
    """A suite ready for one validation: parameters bound, skipped expectations set aside."""

    suite: Suite
    expectations: list[dict[str, Any]]
    parameters: dict[str, Any] = field(default_factory=dict)
    skipped: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (expectation, why)


def expectation_severity(suite: Suite, expectation: dict[str, Any]) -> str:
    sev = (expectation.get("meta") or {}).get("severity", suite.severity)
    if sev not in SEVERITIES:
        raise SuiteError(f"{suite.path}: severity {sev!r} of {expectation.get('type')} is not one of {SEVERITIES}")
    return str(sev)


def expectation_column(expectation: dict[str, Any]) -> str | None:
    kw = expectation.get("kwargs") or {}
    if "column" in kw:
        return str(kw["column"])
    if "column_A" in kw:
        return f"{kw['column_A']},{kw['column_B']}"
    if "column_list" in kw:
        return ",".join(str(c) for c in kw["column_list"])
    return None


def load_suite(path: Path) -> Suite:
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}: not valid JSON ({exc})") from exc
    for key in ("name", "expectations"):
        if key not in doc:
            raise SuiteError(f"{path}: missing {key!r}")
    suite = Suite(name=doc["name"], path=path, meta=dict(doc.get("meta") or {}), expectations=list(doc["expectations"]))
    if suite.severity not in SEVERITIES:
        raise SuiteError(f"{path}: meta.severity {suite.severity!r} is not one of {SEVERITIES}")
    if not suite.meta.get("owner"):
        raise SuiteError(f"{path}: meta.owner is required")
    for e in suite.expectations:
        expectation_severity(suite, e)
    return suite


def raw_suite_path(table: str, root: Path = EXPECTATIONS_DIR) -> Path:
    return root / "raw" / f"raw_{table}.json"


def mart_suite_paths(root: Path = EXPECTATIONS_DIR) -> list[Path]:
    return sorted((root / "marts").glob("*.json"))


# ---------------------------------------------------------------------------------------------
# Run-time rules


@dataclass
class RuleContext:
    """What the rules may look at: the batch being validated and the ledger of earlier ones."""

    batch_id: str
    row_count: int
    data_interval_end: datetime | None = None  # naive UTC
    mode: str | None = None
    known_batches: list[str] = field(default_factory=list)  # every landed batch id up to this one
    window_start: datetime | None = None  # naive UTC: the extraction's lower bound (watermark - lookback)
    window_end: datetime | None = None  # naive UTC: the extraction's upper bound (the night's end)


def _extraction_window(rule: dict[str, Any], ctx: RuleContext) -> dict[str, Any] | None:
    """The newest cursor value of the batch lies in the window the night extracted: at or after
    its lower bound (the table's watermark minus the lookback; none on a full night), before its
    upper bound (the night's end). The extract selects exactly that window, so correct data
    always passes; a value outside says the extract, the landing or the source's clock is wrong."""
    if ctx.row_count == 0:
        return None
    end = ctx.window_end or ctx.data_interval_end
    if end is None:
        raise SuiteError("the extraction_window rule needs the batch's window_end (_batch.json)")
    return {"min_value": ctx.window_start, "max_value": end + timedelta(hours=float(rule.get("max_ahead_hours", 0)))}


def _batch_id(rule: dict[str, Any], ctx: RuleContext) -> dict[str, Any]:
    return {"value_set": [ctx.batch_id]}


def _batches_up_to(rule: dict[str, Any], ctx: RuleContext) -> dict[str, Any]:
    """The landed batches up to this one: a period-incremental mart keeps the rows an earlier
    night computed where no change since could alter them."""
    return {"value_set": sorted({*ctx.known_batches, ctx.batch_id})}


RULES = {"extraction_window": _extraction_window, "batch_id": _batch_id, "batches_up_to": _batches_up_to}


def _is_param(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"$PARAMETER"}


def describe(expectation: dict[str, Any], severity: str) -> str:
    """The line Data Docs shows for an expectation: its type, column and arguments, severity."""
    kw = {k: v for k, v in (expectation.get("kwargs") or {}).items() if k not in ("column", "column_A", "column_B")}
    parts = [expectation["type"]]
    col = expectation_column(expectation)
    if col:
        parts.append(f"column {col}")
    if kw:
        text = json.dumps(kw, default=str, ensure_ascii=False)
        parts.append(text if len(text) < 300 else text[:297] + "...")
    parts.append(f"severity {severity}")
    return " | ".join(parts).replace("$", "")


def bind(suite: Suite, ctx: RuleContext) -> BoundSuite:
    """Copy the suite's expectations, compute each rule's parameters, note skipped ones."""
    bound = BoundSuite(suite=suite, expectations=[])
    for original in suite.expectations:
        e = copy.deepcopy(original)
        meta = e.setdefault("meta", {})
        severity = expectation_severity(suite, e)
        rule = meta.get("rule")
        kwargs = e.setdefault("kwargs", {})
        if rule is not None:
            fn = RULES.get(rule.get("kind"))
            if fn is None:
                raise SuiteError(f"{suite.path}: unknown rule kind {rule.get('kind')!r}; one of {sorted(RULES)}")
            values = fn(rule, ctx)
            if values is None:
                bound.skipped.append((e, f"not evaluated: the batch landed {ctx.row_count} rows"))
                continue
            for key, value in list(kwargs.items()):
                if _is_param(value):
                    if key not in values:
                        raise SuiteError(f"{suite.path}: rule {rule['kind']} does not compute {key!r}")
                    bound.parameters[value["$PARAMETER"]] = values[key]
        for key, value in kwargs.items():
            if _is_param(value) and value["$PARAMETER"] not in bound.parameters:
                raise SuiteError(f"{suite.path}: {e['type']}.{key} is a parameter without a rule to compute it")
        meta["severity"] = severity
        e["severity"] = _GX_SEVERITY[severity]
        e.setdefault("description", describe(e, severity))
        bound.expectations.append(e)
    return bound


def resolved_kwargs(expectation: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """The kwargs with parameters replaced by the values they were bound to (for the results table)."""
    out = {}
    for key, value in (expectation.get("kwargs") or {}).items():
        out[key] = parameters.get(value["$PARAMETER"]) if _is_param(value) else value
    return out
