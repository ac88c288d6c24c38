"""``advance``: every change of a new business day lies inside that day, and the manifest's
per-day section counts exactly the rows that changed (what a nightly incremental load must land)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import gen_util as U
import pytest

from loyalty import contracts
from loyalty.generator import Rates, advance, generate

END = date(2026, 11, 21)
DAYS = 3
# Exaggerated rates so that three small days surely show late customers and a re-delivery.
RATES = Rates(late_arriving_customer=0.5, redelivery=1.0)
# the column that dates a new row of each table (besides updated_at)
EVENT_COLUMN = {"customers": "registered_at", "orders": "ordered_at", "memberships": "joined_at",
                "points_ledger": "occurred_at", "referrals": "invited_at", "care_touches": "touched_at"}


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and p.name != "shop.sqlite" and ".generator" not in p.parts}


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("advanced")
    generate(out, scale="small", seed=21, rates=RATES)
    snaps, files = [U.snapshot(out / "shop.sqlite")], [_files(out)]
    for _ in range(DAYS):
        advance(out)
        snaps.append(U.snapshot(out / "shop.sqlite"))
        files.append(_files(out))
    manifest = json.loads((out / "manifest.json").read_text())
    return {"out": out, "snaps": snaps, "files": files, "manifest": manifest}


@pytest.mark.parametrize("i", range(DAYS))
def test_changes_lie_inside_the_day_and_match_the_manifest(history: dict, i: int) -> None:
    d = END + timedelta(days=i + 1)
    lo, hi = U.window(d)
    day = history["manifest"]["days"][d.isoformat()]
    assert day["window_utc"] == [lo, hi]
    before, after = history["snaps"][i], history["snaps"][i + 1]
    total_changed = 0
    for name, table in contracts.SHOP_TABLES.items():
        old, new = before[name], after[name]
        assert set(old) <= set(new), f"{name}: rows disappeared"
        added = set(new) - set(old)
        changed = {k for k in old if old[k] != new[k]}
        assert (len(added), len(changed)) == (day["new"][name], day["updated"][name]), name
        ui = table.column_names.index("updated_at")
        for k in added | changed:
            assert lo <= new[k][ui] < hi, f"{name} {k}: updated_at {new[k][ui]} outside {d}"
        if name in EVENT_COLUMN:
            ei = table.column_names.index(EVENT_COLUMN[name])
            late = {p for p in day["late_arriving_customers_arrived"]} if name == "customers" else set()
            for k in added - late:
                assert lo <= new[k][ei] < hi, f"{name} {k}: {EVENT_COLUMN[name]} outside {d}"
        total_changed += len(added) + len(changed)
    assert day["new"]["orders"] > 0 and day["updated"]["orders"] > 0 and day["new"]["order_items"] > 0
    assert total_changed > 0


def test_member_tiers_change_over_the_days(history: dict) -> None:
    first, last = history["snaps"][0]["memberships"], history["snaps"][-1]["memberships"]
    tier = contracts.SHOP_TABLES["memberships"].column_names.index("tier")
    assert [k for k in first if first[k][tier] != last[k][tier]], "no tier change in three days"


def test_order_status_flips(history: dict) -> None:
    first, last = history["snaps"][0]["orders"], history["snaps"][-1]["orders"]
    st = contracts.SHOP_TABLES["orders"].column_names.index("status")
    flips = {(first[k][st], last[k][st]) for k in first if first[k][st] != last[k][st]}
    assert ("shipped", "completed") in flips or ("paid", "completed") in flips
    assert any(new == "refunded" for _, new in flips)


def test_late_arriving_customers_come_one_night_later(history: dict) -> None:
    m = history["manifest"]
    withheld_any = False
    for i in range(DAYS):
        d = END + timedelta(days=i + 1)
        day = m["days"][d.isoformat()]
        after = history["snaps"][i + 1]
        cust = contracts.SHOP_TABLES["customers"].column_names
        ocid = contracts.SHOP_TABLES["orders"].column_names.index("customer_id")
        for cid in day["late_arriving_customers_withheld"]:
            withheld_any = True
            assert cid not in after["customers"]
            assert any(r[ocid] == cid for r in after["orders"].values())
            if i + 2 < len(history["snaps"]):
                nxt = history["snaps"][i + 2]["customers"][cid]
                lo, hi = U.window(d + timedelta(days=1))
                assert lo <= nxt[cust.index("updated_at")] < hi
                assert cid in m["days"][(d + timedelta(days=1)).isoformat()]["late_arriving_customers_arrived"]
    assert withheld_any
    listed = {x["customer_id"] for x in m["defects"]["late_arriving_customer"]}
    assert {c for day in m["days"].values() for c in day["late_arriving_customers_withheld"]} <= listed


def test_survey_file_of_the_day_and_redeliveries(history: dict) -> None:
    m = history["manifest"]
    redelivered = 0
    for i in range(DAYS):
        d = END + timedelta(days=i + 1)
        day = m["days"][d.isoformat()]
        before, after = history["files"][i], history["files"][i + 1]
        name = f"survey_inbox/surveys_{d:%Y%m%d}.csv"
        assert name not in before and name in after
        info = U.read_survey(history["out"] / name) if i == DAYS - 1 else None
        if info is not None:
            for rec in info["records"]:
                if rec and len(rec) == 10 and U.TS_RE.match(rec[5]) and U.valid_submitted_at(rec[5]):
                    assert rec[5][:10] == d.isoformat()
        changed = sorted(k for k in before if before[k] != after[k] and k.startswith("survey_inbox/"))
        assert changed == sorted(f"survey_inbox/{r['file']}" for r in day["redelivered"])
        for r in day["redelivered"]:
            redelivered += 1
            import csv
            import io

            old = list(csv.reader(io.StringIO(before[f"survey_inbox/{r['file']}"].decode("utf-8-sig"), newline="")))
            new = list(csv.reader(io.StringIO(after[f"survey_inbox/{r['file']}"].decode("utf-8-sig"), newline="")))
            assert len(old) == len(new)
            diff = [n for n in range(1, len(old)) if old[n] != new[n]]
            assert diff == [c["line"] for c in r["corrections"]]
            for c in r["corrections"]:
                assert new[c["line"]][0] == c["response_id"] and new[c["line"]][6] == c["new"]
                assert old[c["line"]][6] == c["old"]
            assert before[f"survey_inbox/{r['file']}"][:3] == after[f"survey_inbox/{r['file']}"][:3]  # BOM kept
    assert redelivered > 0
    assert len(m["redeliveries"]) == redelivered
    # the manifest still matches the files after the re-deliveries
    found = U.survey_defects(history["out"] / "survey_inbox")
    for kind in ("invalid_nps_score", "invalid_submitted_at", "duplicate_row"):
        assert found[kind] == {(x["file"], x["line"], x["response_id"]) for x in m["defects"][kind]}, kind
    assert {(f, n) for f, n, _ in found["malformed_row"]} == {(x["file"], x["line"]) for x in
                                                             m["defects"]["malformed_row"]}


def test_tickets_are_appended_inside_the_day(history: dict) -> None:
    m = history["manifest"]
    for i in range(DAYS):
        d = END + timedelta(days=i + 1)
        lo, hi = U.window(d)
        before = history["files"][i]["tickets.jsonl"]
        after = history["files"][i + 1]["tickets.jsonl"]
        assert after.startswith(before)
        new_lines = [json.loads(x) for x in after[len(before):].decode().splitlines()]
        day = m["days"][d.isoformat()]["tickets"]
        assert len(new_lines) == day["lines"]
        for t in new_lines:
            upd = t["updated_at"].replace("T", " ").rstrip("Z")
            assert lo <= upd < hi
        old_ids = {json.loads(x)["id"] for x in before.decode().splitlines()}
        ids = {t["id"] for t in new_lines}
        assert (len(ids - old_ids), len(ids & old_ids)) == (day["new"], day["updated"])
    assert sum(m["days"][(END + timedelta(days=i + 1)).isoformat()]["tickets"]["lines"] for i in range(DAYS)) > 0


def test_state_and_row_counts(history: dict) -> None:
    out, m = history["out"], history["manifest"]
    st = json.loads((out / "state.json").read_text())
    last = (END + timedelta(days=DAYS)).isoformat()
    assert st["current_date"] == m["current_date"] == last
    assert m["end_date"] == END.isoformat()
    for name in contracts.SHOP_TABLES:
        assert m["row_counts"][name] == len(history["snaps"][-1][name]), name
    assert m["row_counts"]["survey_files"] == 730 + DAYS
    lines = (out / "tickets.jsonl").read_text().splitlines()
    assert m["row_counts"]["ticket_lines"] == len(lines)
    assert m["row_counts"]["tickets"] == len({json.loads(x)["id"] for x in lines})
    assert m["defect_counts"] == {k: len(v) for k, v in m["defects"].items()}


def test_cli_advance_bad_file(tmp_path: Path) -> None:
    from loyalty.cli import build_parser

    generate(tmp_path, scale="small", seed=4)
    args = build_parser().parse_args(["advance", "--out", str(tmp_path), "--days", "2", "--bad-file", "empty_file"])
    assert args.func(args) == 0
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m["current_date"] == "2026-11-23"
    for d in ("20261122", "20261123"):
        assert (tmp_path / "survey_inbox" / f"surveys_{d}.csv").read_bytes() == b""
    assert [x["file"] for x in m["defects"]["empty_file"]] == ["surveys_20261122.csv", "surveys_20261123.csv"]
