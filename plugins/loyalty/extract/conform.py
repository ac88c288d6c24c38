"""Type rows at the edge with the contract's explicit schema, in DuckDB.

Input: a DuckDB relation of VARCHAR columns named as the contract (plus optional
``_source_file``/``_source_line``). Every row ends in exactly one place:

* landed: typed, written to ``part-0.parquet``;
* quarantined: the first contract rule it breaks, as a reason code from
  ``contracts.REASON_CODES``, with its raw payload;
* duplicate: the same key and cursor value was already landed by an earlier batch
  (the extraction lookback re-reads it) or appears twice in this batch.

So ``read = landed + quarantined + duplicates`` by construction, and the counts are checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from loyalty.contracts import QUARANTINE_COLUMNS, Column, Table


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class LandCounts:
    read: int
    landed: int
    quarantined: int
    duplicates: int
    max_cursor: datetime | None
    checksum: str | None


def _checks(table: Table, col: Column) -> list[tuple[str, str, str]]:
    """(condition, reason_code, detail) for one column, in the order they are tested.

    Conditions see the raw text as ``"r.<name>"`` and the typed value as ``"<name>"``.
    """
    raw, typed = _raw(col.name), _q(col.name)
    empty = f"({raw} is null or trim({raw}) = '')" if col.type != "VARCHAR" else f"{raw} is null"
    checks: list[tuple[str, str, str]] = []
    if col.name == table.primary_key:
        checks.append((f"({raw} is null or trim({raw}) = '')", "null_key", f"{col.name} is empty"))
    elif not col.nullable:
        checks.append((empty, "missing_value", f"{col.name} is required"))
    if col.type != "VARCHAR":
        checks.append((f"({typed} is null and not {empty})", "invalid_type", f"{col.name} is not a valid {col.type}"))
        if col.type.startswith("DECIMAL"):
            # the cheap text test first: only values with more than 2 digits after the point are cast again
            checks.append(
                (
                    f"(length({raw}) - strpos({raw}, '.') > 2 and strpos({raw}, '.') > 0 "
                    f"and try_cast(trim({raw}) as DECIMAL(38,10)) <> {typed})",
                    "invalid_type",
                    f"{col.name} has more precision than {col.type}",
                )
            )
    if col.accepted:
        allowed = ", ".join(_lit(v) for v in col.accepted)
        cond = f"({typed} is not null and {typed} not in ({allowed}))"
        checks.append((cond, "invalid_value", f"{col.name} not in ({allowed})"))
    return checks


def _suspect(table: Table, col: Column) -> list[str]:
    """Cheap conditions, true for every row that ``_checks`` could reject (and for a few it
    will not): clean rows, nearly all of them, skip the detailed checks and their trims."""
    raw, typed = _raw(col.name), _q(col.name)
    conds: list[str] = []
    if col.name == table.primary_key or not col.nullable:
        conds.append(f"{typed} is null" if col.type != "VARCHAR" else f"{raw} is null")
        if col.type == "VARCHAR" and col.name == table.primary_key:
            conds.append(f"trim({raw}) = ''")
    elif col.type != "VARCHAR":
        conds.append(f"({typed} is null and {raw} is not null)")
    if col.type.startswith("DECIMAL"):
        conds.append(f"(strpos({raw}, '.') > 0 and length({raw}) - strpos({raw}, '.') > 2)")
    if col.accepted:
        allowed = ", ".join(_lit(v) for v in col.accepted)
        conds.append(f"{typed} not in ({allowed})")
    return conds


def quarantine_select(table: Table, batch_id: str, quarantined_at: datetime) -> str:
    """The select list of a quarantine file's rows (``contracts.QUARANTINE_COLUMNS``, in its
    order) over the classified rows."""
    identity = "coalesce(_row_key_raw, _source_file || ':' || _source_line::varchar, '(no key)')"
    expressions = {
        "table_name": _lit(table.name), "source": _lit(table.source), "batch_id": _lit(batch_id),
        "row_identity": identity, "reason_code": "_reason_code", "reason_detail": "_reason_detail",
        "raw_payload": "_raw_payload", "source_file": "_source_file", "source_line": "_source_line",
        "quarantined_at": f"{_lit(quarantined_at.isoformat(sep=' '))}::timestamp",
    }
    if list(expressions) != list(QUARANTINE_COLUMNS):
        raise RuntimeError(f"conform.quarantine_select writes {list(expressions)}, but contracts.QUARANTINE_COLUMNS is "
                           f"{list(QUARANTINE_COLUMNS)}: give every contract column an expression here, in its order")
    return ", ".join(f"{expressions[c]} as {c}" for c in QUARANTINE_COLUMNS)


def _raw(name: str) -> str:
    """The column holding a value's text as received (beside its typed twin)."""
    return _q(f"__raw_{name}")


def _typed(col: Column) -> str:
    c = _q(col.name)
    if col.type == "VARCHAR":
        return f"{_raw(col.name)} as {c}"
    # DuckDB's cast ignores surrounding blanks and gives NULL for '' (no trim per value: it is costly)
    return f"try_cast({_raw(col.name)} as {col.type}) as {c}"


def connect(spill_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for one landing, bounded in memory (spills to ``spill_dir``)."""
    import os

    return duckdb.connect(
        config={
            "memory_limit": os.environ.get("LOYALTY_DUCKDB_MEMORY_LIMIT", "1GB"),
            "temp_directory": str(spill_dir),
            "preserve_insertion_order": False,
        }
    )


def typed_select(table: Table, src: str, *, has_source_position: bool = False, pre_checked: bool = False) -> str:
    """SQL that types every value of ``src`` once and judges every row (reason code, detail, payload)."""
    checks = [chk for col in table.columns for chk in _checks(table, col)]
    suspect = " or ".join(c for col in table.columns for c in _suspect(table, col)) or "false"
    reason = (
        f"case when {suspect} then case "
        + " ".join(f"when {cond} then {_lit(code)}" for cond, code, _ in checks)
        + " end end"
    )
    detail = "case " + " ".join(f"when {cond} then {_lit(d)}" for cond, _, d in checks) + " end"
    payload = "to_json(struct_pack(" + ", ".join(f"{_q(c.name)} := {_raw(c.name)}" for c in table.columns) + "))"
    extra = ""
    if pre_checked:  # the reader already judged some rows (e.g. survey scores): its verdict comes first
        reason = f"coalesce(_pre_reason, {reason})"
        detail = f"case when _pre_reason is not null then _pre_detail else {detail} end"
        payload = f"coalesce(_pre_payload, {payload})"
        extra = ", r._pre_reason, r._pre_detail, r._pre_payload"
    pos = "r._source_file, r._source_line"
    if not has_source_position:
        pos = "null::varchar as _source_file, null::bigint as _source_line"
    typed_cols = ", ".join(_q(c.name) for c in table.columns)
    raw_cols = ", ".join(f"r.{_q(c.name)} as {_raw(c.name)}" for c in table.columns)
    return f"""
        select {typed_cols}, _reason_code,
               case when _reason_code is not null then {detail} end as _reason_detail,
               case when _reason_code is not null then {payload} end as _raw_payload,
               _row_key_raw, _source_file, _source_line
        from (
            select *, {reason} as _reason_code
            from (
                select *, {", ".join(_typed(c) for c in table.columns)}
                from (
                    select {raw_cols}, r.{_q(table.primary_key)}::varchar as _row_key_raw, {pos}{extra}
                    from {src} as r
                )
            )
        )"""


def clean_select(table: Table, src: str) -> tuple[str, str]:
    """The fast twin of ``typed_select`` for a source whose column types already guarantee the
    contract's types (``src`` reads typed columns): the same output columns, with no reason
    (the row lands), plus the condition true for every row that ``typed_select`` could judge.

    Returns ``(select_sql, suspect_condition)``. The caller checks the condition over the
    segment first and takes ``typed_select`` over the raw text for any segment where it holds,
    so quarantined rows always get the exact reason, detail and raw payload.
    """
    conds: list[str] = []
    for col in table.columns:
        c = _q(col.name)
        if col.name == table.primary_key or not col.nullable:
            conds.append(f"{c} is null")
            if col.type == "VARCHAR" and col.name == table.primary_key:
                conds.append(f"trim({c}) = ''")
        if col.accepted:
            conds.append(f"{c} not in ({', '.join(_lit(v) for v in col.accepted)})")
    suspect = " or ".join(conds) or "false"
    typed_cols = ", ".join(f"r.{_q(c.name)}" for c in table.columns)
    sql = (
        f"select {typed_cols}, null::varchar as _reason_code, null::varchar as _reason_detail, "
        "null::json as _raw_payload, null::varchar as _row_key_raw, null::varchar as _source_file, "
        f"null::bigint as _source_line from {src} as r"
    )
    return sql, suspect


def land(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    src: str,
    *,
    batch_id: str,
    extracted_at: datetime,
    out_dir: Path,
    quarantine_out: Path,
    prior_files: list[str],
    cursor_floor: datetime | None,
    has_source_position: bool = False,
    dedup_columns: list[str] | None = None,
    pre_checked: bool = False,
    dedup_within_batch: bool = True,
) -> LandCounts:
    """Conform relation ``src`` to ``table`` and write the landed and quarantined Parquet files."""
    con.execute(
        "create or replace table _typed as "
        + typed_select(table, src, has_source_position=has_source_position, pre_checked=pre_checked)
    )
    return classify_and_write(
        con, table, batch_id=batch_id, extracted_at=extracted_at, out_dir=out_dir, quarantine_out=quarantine_out,
        prior_files=prior_files, cursor_floor=cursor_floor, dedup_columns=dedup_columns,
        dedup_within_batch=dedup_within_batch,
    )


def classify_and_write(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    *,
    batch_id: str,
    extracted_at: datetime,
    out_dir: Path,
    quarantine_out: Path,
    prior_files: list[str],
    cursor_floor: datetime | None,
    dedup_columns: list[str] | None = None,
    dedup_within_batch: bool = True,
) -> LandCounts:
    """Judge the rows of temp table ``_typed`` (landed / quarantined / duplicate) and write them."""
    key, cursor = _q(table.primary_key), _q(table.cursor)
    # Rows already landed by an earlier batch (the lookback re-reads them) are duplicates.
    join = ""
    prior_case = ""
    if prior_files:
        files = "[" + ", ".join(_lit(f) for f in prior_files) + "]"
        floor = f"where {cursor} >= {_lit(cursor_floor.isoformat(sep=' '))}" if cursor_floor else ""
        con.execute(
            f"create or replace table _prior as select distinct {key}, {cursor} "
            f"from read_parquet({files}, union_by_name=true) {floor}"
        )
        join = f"left join _prior p on c._reason_code is null and p.{key} = c.{key} and p.{cursor} = c.{cursor}"
        prior_case = f"when p.{key} is not null then 'duplicate'"
    partition = ", ".join(f"c.{_q(col)}" for col in (dedup_columns or [table.primary_key, table.cursor]))
    within = (
        f"when row_number() over (partition by {partition} order by (c._reason_code is null) desc, "
        "c._source_line nulls last) > 1 then 'duplicate'"
        if dedup_within_batch
        else ""
    )
    fate = f"case when c._reason_code is not null then 'quarantined' {prior_case} {within} else 'landed' end"
    if join or within:
        con.execute(f"create or replace view _classified as select c.*, {fate} as _fate from _typed c {join}")
        con.execute("create or replace table _classified_t as select * from _classified")
        source = "_classified_t"
    else:  # nothing to compare with: the reason alone decides, no extra pass
        con.execute(f"create or replace view _classified_v as select c.*, {fate} as _fate from _typed c")
        source = "_classified_v"
    cols = ", ".join(_q(c.name) for c in table.columns)
    meta = f"{_lit(batch_id)} as _batch_id, {_lit(extracted_at.isoformat(sep=' '))}::timestamp as _extracted_at"
    out_dir.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"copy (select {cols}, {meta}, _source_file, _source_line from {source} where _fate = 'landed') "
        f"to {_lit(str(out_dir / 'part-0.parquet'))} (format parquet, compression zstd, compression_level 1)"
    )
    n_quarantined = con.execute(f"select count(*) from {source} where _fate = 'quarantined'").fetchall()[0][0]
    if n_quarantined:
        quarantine_out.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"""copy (select {quarantine_select(table, batch_id, extracted_at)}
                 from {source} where _fate = 'quarantined' order by row_identity, source_line)
                 to {_lit(str(quarantine_out / 'part-0.parquet'))} (format parquet)"""
        )
    row = con.execute(
        f"""select count(*),
                   count(*) filter (where _fate = 'landed'),
                   count(*) filter (where _fate = 'duplicate'),
                   max({cursor}) filter (where _fate = 'landed'),
                   bit_xor(hash(struct_pack({cols}))) filter (where _fate = 'landed')
            from {source}"""
    ).fetchone()
    assert row is not None
    read, landed, dups, max_cursor, checksum = row
    return LandCounts(
        read=int(read),
        landed=int(landed),
        quarantined=int(n_quarantined),
        duplicates=int(dups),
        max_cursor=max_cursor,
        checksum=None if checksum is None else f"{int(checksum):016x}:{landed}",
    )
