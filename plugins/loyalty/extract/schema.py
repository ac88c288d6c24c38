"""Does a source table still match its contract? Checked before anything of it is landed.

A contract column that is missing (dropped or renamed) or whose source type cannot hold the
contract's values (a BLOB, a boolean, JSON, an interval where a number or a time is expected)
is a *breaking* change: the land task fails at once, naming the table, the missing or changed
columns, the columns the source has now, and what to do; nothing of that table lands, so the
night stops before the warehouse and BI keeps the last published night. Without this check
SQLite turns a renamed column's double-quoted name into a string literal and every row is
quarantined as ``invalid_type``, and the night "succeeds" with no orders.

A new column is an *additive* change: extraction goes on (it reads the contract's columns),
and the change is logged and recorded in the batch's ``_batch.json`` (``schema_notes``) for
the audit report. So is a column whose type changed to one the row-by-row typing can still
judge (e.g. text).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

from loyalty import contracts


class SourceSchemaError(RuntimeError):
    """A source no longer matches its contract: a data failure (no retry)."""


# Type families the contract types accept. "text" is accepted everywhere: its values are typed
# and judged row by row (a value that does not fit is quarantined with its reason).
ACCEPTS: dict[str, set[str]] = {
    "BIGINT": {"integer", "decimal", "text"},
    "INTEGER": {"integer", "decimal", "text"},
    "DECIMAL": {"integer", "decimal", "float", "text"},
    "VARCHAR": {"text", "integer", "decimal", "float", "date", "timestamp", "boolean", "other"},
    "TIMESTAMP": {"timestamp", "date", "text"},
    "DATE": {"date", "timestamp", "text"},
}
# the family each contract type would have at its source if nothing had changed
NATURAL = {"BIGINT": "integer", "INTEGER": "integer", "DECIMAL": "decimal", "VARCHAR": "text",
           "TIMESTAMP": "timestamp", "DATE": "date"}


def _contract_kind(type_: str) -> str:
    return "DECIMAL" if type_.startswith("DECIMAL") else type_


def pg_family(data_type: str) -> str:
    t = data_type.lower()
    if t in ("bigint", "integer", "smallint"):
        return "integer"
    if t in ("numeric", "decimal"):
        return "decimal"
    if t in ("real", "double precision"):
        return "float"
    if t in ("text", "character varying", "character", "citext", "name"):
        return "text"
    if t.startswith("timestamp"):
        return "timestamp"
    if t == "date":
        return "date"
    if t == "boolean":
        return "boolean"
    if t == "bytea":
        return "binary"
    return "other"  # json, arrays, intervals, uuid, …


def sqlite_family(declared: str) -> str:
    """The family of a SQLite declared type: its date/time/boolean name when it has one (SQLite
    stores those as text or numbers, the name says what the column holds), else SQLite's type
    affinity (https://sqlite.org/datatype3.html, 3.1)."""
    t = (declared or "").upper()
    if "TIMESTAMP" in t or "DATETIME" in t:
        return "timestamp"
    if "DATE" in t:
        return "date"
    if "BOOL" in t:
        return "boolean"
    if "INT" in t:
        return "integer"
    if any(k in t for k in ("CHAR", "CLOB", "TEXT")):
        return "text"
    if "BLOB" in t or not t:
        return "binary"
    if any(k in t for k in ("REAL", "FLOA", "DOUB")):
        return "float"
    return "decimal"  # NUMERIC affinity (DECIMAL, BOOLEAN, DATE, DATETIME, …)


@dataclass
class SchemaCheck:
    table: str
    source_columns: list[tuple[str, str]]  # (name, source type) in the source's order
    missing: list[str] = field(default_factory=list)
    incompatible: list[tuple[str, str, str]] = field(default_factory=list)  # (column, contract, source type)
    notes: list[str] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        return bool(self.missing or self.incompatible)

    def error(self, where: str) -> SourceSchemaError:
        parts = []
        if self.missing:
            parts.append("missing column(s) " + ", ".join(self.missing))
        if self.incompatible:
            parts.append("column(s) of a type that cannot hold the contract's values: " + ", ".join(
                f"{c} is {src} (contract {con})" for c, con, src in self.incompatible))
        now = ", ".join(f"{n} {t}" for n, t in self.source_columns) or "(no such table)"
        return SourceSchemaError(
            f"source table {self.table!r} ({where}) no longer matches its contract: {'; '.join(parts)}. "
            f"The table now has: {now}. Nothing of {self.table} was landed and the night stops before the "
            "warehouse (BI keeps the last published night). If a column was renamed, expose it under its contract "
            "name again (e.g. a view in the source) or change the contract (loyalty/contracts.py) and the staging "
            f"model together; then clear this task (land_shop_table[{self.table}])."
        )


def compare(table: contracts.Table, source_columns: list[tuple[str, str]], family: dict[str, str]) -> SchemaCheck:
    """``source_columns``: (name, type) as the source declares them; ``family``: name → family."""
    check = SchemaCheck(table.name, source_columns)
    have = {n for n, _ in source_columns}
    for col in table.columns:
        if col.name not in have:
            check.missing.append(col.name)
            continue
        kind = _contract_kind(col.type)
        fam = family[col.name]
        if fam not in ACCEPTS[kind]:
            check.incompatible.append((col.name, col.type, dict(source_columns)[col.name]))
        elif fam != NATURAL[kind] and not (kind == "DECIMAL" and fam == "integer"):
            check.notes.append(f"column {col.name} is now {dict(source_columns)[col.name]} (contract {col.type}): its "
                               "values are typed and judged row by row")
    extra = [n for n, _ in source_columns if n not in {c.name for c in table.columns}]
    if extra:
        check.notes.append("new column(s) in the source, not in the contract (not landed): " + ", ".join(extra))
    return check


def check_postgres(conn: object, table: contracts.Table) -> SchemaCheck:
    rows = conn.execute(  # type: ignore[attr-defined]
        "select column_name, data_type from information_schema.columns "
        "where table_schema = current_schema() and table_name = %s order by ordinal_position",
        [table.name],
    ).fetchall()
    cols = [(str(n), str(t)) for n, t in rows]
    return compare(table, cols, {n: pg_family(t) for n, t in cols})


def check_sqlite(conn: sqlite3.Connection, table: contracts.Table) -> SchemaCheck:
    rows = conn.execute(f'pragma table_info("{table.name}")').fetchall()
    cols = [(str(r[1]), str(r[2] or "")) for r in rows]
    check = compare(table, cols, {n: sqlite_family(t) for n, t in cols})
    # the demo's SQLite stores money, dates and timestamps as TEXT by design (generator/db.py):
    # not a change worth a note
    check.notes = [n for n in check.notes if not re.match(r"column \S+ is now TEXT ", n)]
    return check


def check_api_records(fields: list[str], record_keys: set[str], missing_counts: dict[str, int], rows: int,
                      source: str, lacking_keys: set[str] | None = None) -> list[str]:
    """The tickets API: a contract field absent from the records (not null: absent) is a breaking
    change; fields the API sends beyond the contract are notes."""
    gone = sorted(f for f in fields if missing_counts.get(f))
    if gone:
        raise SourceSchemaError(
            f"the {source} no longer sends field(s) {', '.join(gone)} (absent from "
            f"{max(missing_counts[f] for f in gone)} of {rows} records; a field without a value is sent as null). "
            f"Records without it have: {', '.join(sorted(lacking_keys or record_keys))}. "
            "Nothing of tickets was landed and the night stops before the warehouse. Ask the ticketing system's owners, "
            "or change the contract (loyalty/contracts.py) and the staging model together; then clear land_tickets."
        )
    extra = sorted(record_keys - set(fields))
    return ["new field(s) sent by the API, not in the contract (not landed): " + ", ".join(extra)] if extra else []
