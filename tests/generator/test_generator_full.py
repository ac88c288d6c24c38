"""The full generation: determinism, contract conformance, business rules, and a manifest that
matches what is really in the files (checked by reading them independently)."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import gen_util as U
import pytest

from loyalty import contracts
from loyalty.generator import Rates

END = date(2026, 11, 21)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and p.name != "shop.sqlite"}


# --------------------------------------------------------------------------- determinism

def test_same_seed_gives_identical_outputs(small, generated) -> None:
    a, ma = small
    b, mb = generated("small_seed7_twin", seed=7)
    assert ma == mb
    fa, fb = _files(a), _files(b)
    assert fa.keys() == fb.keys()
    assert [k for k in fa if fa[k] != fb[k]] == []
    assert U.sqlite_checksums(a / "shop.sqlite") == U.sqlite_checksums(b / "shop.sqlite")
    assert (a / "shop.sqlite").read_bytes() == (b / "shop.sqlite").read_bytes()


def test_other_seed_differs(small, generated) -> None:
    a, _ = small
    c, _ = generated("small_seed8", seed=8)
    ca, cc = U.sqlite_checksums(a / "shop.sqlite"), U.sqlite_checksums(c / "shop.sqlite")
    assert ca["orders"] != cc["orders"] and ca["customers"] != cc["customers"]
    assert (a / "tickets.jsonl").read_bytes() != (c / "tickets.jsonl").read_bytes()


# --------------------------------------------------------------------------- contract conformance

def _typeof_ok(col: contracts.Column, value) -> bool:
    if value is None:
        return col.nullable
    if col.type in ("BIGINT", "INTEGER"):
        return isinstance(value, int)
    if not isinstance(value, str):
        return False
    if col.type == "TIMESTAMP":
        return bool(U.TS_RE.match(value))
    if col.type == "DATE":
        return bool(U.DATE_RE.match(value)) and date.fromisoformat(value) is not None
    if col.type == contracts.MONEY:
        return bool(U.MONEY_RE.match(value))
    return True


@pytest.mark.parametrize("table", list(contracts.SHOP_TABLES))
def test_table_matches_contract(small, table: str) -> None:
    out, manifest = small
    t = contracts.SHOP_TABLES[table]
    with sqlite3.connect(out / "shop.sqlite") as c:
        info = c.execute(f"pragma table_info({table})").fetchall()
        assert [r[1] for r in info] == t.column_names
        assert [r[1] for r in info if r[5]] == [t.primary_key]
        indexes = [r[0] for r in c.execute(
            "select sql from sqlite_master where type = 'index' and tbl_name = ?", [table]).fetchall()]
        assert any("(updated_at)" in (s or "") for s in indexes), f"{table}: no index on updated_at"
    rows = U.sqlite_rows(out / "shop.sqlite", table)
    assert len(rows) == manifest["row_counts"][table] > 0
    keys = [r[0] for r in rows]
    assert len(set(keys)) == len(keys)
    end_utc = U.window(END)[1]
    for i, col in enumerate(t.columns):
        bad = [r[0] for r in rows if not _typeof_ok(col, r[i])]
        assert not bad, f"{table}.{col.name}: {len(bad)} bad values, e.g. key {bad[:3]}"
        if col.accepted:
            seen = {r[i] for r in rows} - {None}
            assert seen <= set(col.accepted), f"{table}.{col.name}: {seen - set(col.accepted)}"
    ui = t.column_names.index("updated_at")
    assert max(r[ui] for r in rows) < end_utc


# the tiny world too: the engine parity tests rely on it having every kind of row and mess
@pytest.mark.parametrize("world", ["small", "tiny"])
def test_accepted_values_all_occur(world: str, request: pytest.FixtureRequest) -> None:
    out, _ = request.getfixturevalue(world)
    with sqlite3.connect(out / "shop.sqlite") as c:
        def values(sql: str) -> set:
            return {r[0] for r in c.execute(sql)}

        assert values("select distinct status from orders") == {"paid", "shipped", "completed", "cancelled", "refunded"}
        assert values("select distinct campaign_type from care_campaigns") == set(
            contracts.SHOP_TABLES["care_campaigns"].column("campaign_type").accepted)
        assert values("select distinct reason from points_ledger") == set(
            contracts.SHOP_TABLES["points_ledger"].column("reason").accepted)
        assert values("select distinct status from referrals") == {"invited", "registered", "converted", "rejected"}
        assert values("select distinct tier from memberships") == {"bronze", "silver", "gold", "platinum"}
        assert values("select distinct assigned_group from care_touches") == {"treatment", "holdout"}


def test_referential_integrity(small) -> None:
    out, manifest = small
    with sqlite3.connect(out / "shop.sqlite") as c:
        checks = {
            "orders.customer_id": "select count(*) from orders o left join customers c using (customer_id) "
                                  "where c.customer_id is null",
            "orders.store_id": "select count(*) from orders where store_id is not null and store_id not in "
                               "(select store_id from stores)",
            "order_items.order_id": "select count(*) from order_items where order_id not in (select order_id from orders)",
            "order_items.product_id": "select count(*) from order_items where product_id not in "
                                      "(select product_id from products)",
            "memberships.customer_id": "select count(*) from memberships where customer_id not in "
                                       "(select customer_id from customers)",
            "points_ledger.member_id": "select count(*) from points_ledger where member_id not in "
                                       "(select member_id from memberships)",
            "points_ledger.order_id": "select count(*) from points_ledger where order_id is not null and order_id not in "
                                      "(select order_id from orders)",
            "referrals.referrer": "select count(*) from referrals where referrer_customer_id not in "
                                  "(select customer_id from customers)",
            "referrals.referee": "select count(*) from referrals where referee_customer_id is not null and "
                                 "referee_customer_id not in (select customer_id from customers)",
            "referrals.first_order": "select count(*) from referrals where first_order_id is not null and "
                                     "first_order_id not in (select order_id from orders)",
            "care_touches.campaign": "select count(*) from care_touches where campaign_id not in "
                                     "(select campaign_id from care_campaigns)",
            "care_touches.customer": "select count(*) from care_touches where customer_id not in "
                                     "(select customer_id from customers)",
            "orders without items": "select count(*) from orders where order_id not in (select order_id from order_items)",
        }
        for name, sql in checks.items():
            assert c.execute(sql).fetchone()[0] == 0, name
        # late-arriving customers: the row appears (registered/updated) the business day after their first order
        late = manifest["defects"]["late_arriving_customer"]
        assert len(late) == manifest["defect_counts"]["late_arriving_customer"] > 0
        for item in late:
            reg, upd = c.execute("select registered_at, updated_at from customers where customer_id = ?",
                                 [item["customer_id"]]).fetchone()
            first = c.execute("select min(ordered_at) from orders where customer_id = ?", [item["customer_id"]]).fetchone()[0]
            assert first == item["ordered_at"] and upd == item["customer_updated_at"] == reg
            assert U.business_date(upd) == U.business_date(first) + timedelta(days=1)
        # apart from them, nobody orders before registering
        early = c.execute("select count(distinct o.customer_id) from orders o join customers c using (customer_id) "
                          "where o.ordered_at < c.registered_at").fetchone()[0]
        assert early == len(late)


def test_business_rules(small) -> None:
    out, manifest = small
    with sqlite3.connect(out / "shop.sqlite") as c:
        q = lambda sql: c.execute(sql).fetchall()  # noqa: E731
        assert q("select count(*) from orders where channel = 'online' and store_id is not null") == [(0,)]
        assert q("select count(*) from orders where channel = 'store' and store_id is null") == [(0,)]
        # items sum exactly to total + discount
        rows = q("select o.total_amount, o.discount_amount, group_concat(i.quantity || '*' || i.unit_price) "
                 "from orders o join order_items i using (order_id) group by o.order_id")
        for total, disc, items in rows:
            s = sum(int(x.split("*")[0]) * Decimal(x.split("*")[1]) for x in items.split(","))
            assert s == Decimal(total) + Decimal(disc) and Decimal(total) > 0
        # 10 points per 100 CNY for orders of members, credited when the order completes
        rows = q("select p.points, o.total_amount, m.joined_at, m.cancelled_at, o.ordered_at from points_ledger p "
                 "join orders o using (order_id) join memberships m using (member_id) where p.reason = 'purchase'")
        assert rows
        for pts, total, joined, cancelled, ordered in rows:
            assert pts == int(Decimal(total) // 10) and joined < ordered and (cancelled is None or cancelled >= ordered)
        assert q("select count(*) from points_ledger p join orders o using (order_id) where p.reason = 'purchase' "
                 "and o.status not in ('completed', 'refunded')") == [(0,)]
        # refunds reverse the points
        assert q("select count(*) from points_ledger a join orders o using (order_id) where a.reason = 'adjust' "
                 "and o.status <> 'refunded'") == [(0,)]
        # care: holdout never contacted, costs nothing
        assert q("select count(*) from care_touches where assigned_group = 'holdout' and "
                 "(touch_cost <> '0.00' or responded_at is not null)") == [(0,)]
        # referrals: converted ones are rewarded once the first order completed
        rows = q("select r.reward_amount, r.rewarded_at, o.status, o.referral_code = r.referral_code from referrals r "
                 "join orders o on o.order_id = r.first_order_id where r.status = 'converted'")
        assert rows and all(amt in ("100.00", "150.00") and at and st in ("completed", "refunded") and same
                            for amt, at, st, same in rows)
        assert q("select count(*) from referrals where status <> 'converted' and reward_amount is not null") == [(0,)]
        # memberships ~40%, unique per customer
        n_cust, n_mem = q("select (select count(*) from customers), (select count(*) from memberships)")[0]
        assert 0.3 < n_mem / n_cust < 0.5
        # suspicious referrals are really suspicious
        for item in manifest["suspicious_referrals"]:
            rid = item["referral_id"]
            if item["kind"] == "shared_phone":
                assert q(f"select a.phone = b.phone from referrals r join customers a on a.customer_id = "
                         f"r.referrer_customer_id join customers b on b.customer_id = r.referee_customer_id "
                         f"where referral_id = {rid}") == [(1,)]
            elif item["kind"] == "shared_email":
                assert q(f"select a.email = b.email from referrals r join customers a on a.customer_id = "
                         f"r.referrer_customer_id join customers b on b.customer_id = r.referee_customer_id "
                         f"where referral_id = {rid}") == [(1,)]
            else:
                assert q(f"select count(*) from referrals r join orders o on o.customer_id = r.referee_customer_id "
                         f"where referral_id = {rid} and o.ordered_at < r.invited_at "
                         f"and o.status not in ('cancelled', 'refunded')")[0][0] > 0
        assert {i["kind"] for i in manifest["suspicious_referrals"]} == {"shared_phone", "shared_email", "prior_order"}
        # refunds months after the order
        flips = manifest["defects"]["refund_flip"]
        assert flips and len(flips) == manifest["defect_counts"]["refund_flip"]
        for f in flips[:50]:
            st, upd = q(f"select status, updated_at from orders where order_id = {f['order_id']}")[0]
            assert st == "refunded" and upd == f["refunded_at"]
            assert U.business_date(upd) - U.business_date(f["ordered_at"]) >= timedelta(days=59)


def test_segments_and_care_uplift_are_meaningful(small) -> None:
    out, _ = small
    with sqlite3.connect(out / "shop.sqlite") as c:
        per_tier = dict(c.execute(
            "select coalesce(m.tier, 'none'), count(o.order_id) * 1.0 / count(distinct c.customer_id) "
            "from customers c join orders o using (customer_id) left join memberships m using (customer_id) "
            "group by 1").fetchall())
        assert per_tier["platinum"] > per_tier["gold"] > per_tier["silver"] > per_tier["bronze"] > per_tier["none"]
        rev = dict(((g, r) for g, r in c.execute(
            "select t.assigned_group, sum(coalesce(cast(o.total_amount as real), 0)) / count(distinct t.touch_id) "
            "from care_touches t left join orders o on o.customer_id = t.customer_id and o.ordered_at >= t.touched_at "
            "and o.ordered_at < datetime(t.touched_at, '+30 days') and o.status not in ('cancelled', 'refunded') "
            "group by 1")))
        assert rev["treatment"] > 1.2 * rev["holdout"]
        lapsed_and_back = c.execute(
            "with o as (select customer_id, ordered_at, lag(ordered_at) over (partition by customer_id "
            "order by ordered_at) prev from orders) select count(distinct customer_id) from o "
            "where julianday(ordered_at) - julianday(prev) > 180").fetchone()[0]
        assert lapsed_and_back > 10


# --------------------------------------------------------------------------- survey inbox

@pytest.mark.parametrize("world", ["small", "tiny"])
def test_survey_defects_match_manifest(world: str, request: pytest.FixtureRequest) -> None:
    out, manifest = request.getfixturevalue(world)
    found = U.survey_defects(out / "survey_inbox")
    for kind, items in found.items():
        listed = manifest["defects"][kind]
        assert len(listed) == manifest["defect_counts"][kind]
        if kind == "malformed_row":  # a record cut inside its first field has no readable response_id
            assert {(f, n) for f, n, _ in items} == {(i["file"], i["line"]) for i in listed}
            assert {i.get("variant") for i in listed} <= {"cut_in_quoted_comment", "missing_fields"}
        else:
            assert items == {(i["file"], i["line"], i["response_id"]) for i in listed}, kind
        assert items, f"no {kind} injected at the default rates"
    # physical lines point at the record's first text line
    for item in manifest["defects"]["invalid_nps_score"][:20]:
        text = (out / "survey_inbox" / item["file"]).read_bytes().decode("utf-8-sig")
        assert text.split("\r\n")[0] == ",".join(contracts.SURVEY_HEADER)
        physical = text.replace("\r\n", "\n").split("\n")
        assert physical[item["physical_line"] - 1].startswith(item["response_id"] + ",")


def test_survey_files_shape(small) -> None:
    out, manifest = small
    files = sorted((out / "survey_inbox").glob("surveys_*.csv"))
    assert len(files) == 730 == manifest["row_counts"]["survey_files"]
    assert files[0].name == "surveys_20241122.csv" and files[-1].name == "surveys_20261121.csv"
    boms = 0
    total = 0
    texts = ""
    for p in files:
        info = U.read_survey(p)
        entry = manifest["survey_files"][p.name]
        assert info["bom"] == entry["bom"] and info["bytes"] == entry["bytes"]
        assert tuple(info["header"]) == contracts.SURVEY_HEADER
        assert len(info["records"]) == entry["records"]
        boms += info["bom"]
        total += len(info["records"])
        texts += p.read_text(encoding="utf-8-sig")
    assert total == manifest["row_counts"]["survey_records"]
    assert 0 < boms < len(files)
    # RFC 4180: quoted commas, doubled quotes and newlines inside comments; Chinese and English
    assert '""' in texts and "\n" in texts.replace("\r\n", "") and "很满意" in texts and "quality" in texts
    assert "+08:00," in texts and "Z," in texts
    for label in contracts.SATISFACTION_LABELS:
        assert f",{label}," in texts


def test_nps_drops_after_complaint(small) -> None:
    out, _ = small
    tickets = [json.loads(line) for line in (out / "tickets.jsonl").read_text().splitlines()]
    first_complaint: dict[int, str] = {}
    for t in tickets:
        if t["customer_id"] is not None:
            c = t["created_at"].replace("T", " ").rstrip("Z")
            first_complaint[t["customer_id"]] = min(first_complaint.get(t["customer_id"], c), c)
    before, after = [], []
    for p in sorted((out / "survey_inbox").glob("*.csv")):
        for rec in U.read_survey(p)["records"]:
            if rec and len(rec) == 10 and U.NPS_RE.match(rec[6]) and rec[2] and U.TS_RE.match(rec[5]):
                fc = first_complaint.get(int(rec[2]))
                (after if fc and rec[5] > fc else before).append(int(rec[6]))
    assert sum(after) / len(after) < sum(before) / len(before) - 1.0


# --------------------------------------------------------------------------- tickets

def test_tickets_jsonl(small) -> None:
    out, manifest = small
    lines = (out / "tickets.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == manifest["row_counts"]["ticket_lines"]
    fields = ["id", "customer_id", "order_id", "category", "severity", "channel", "status", "created_at",
              "first_response_at", "resolved_at", "updated_at", "reopen_count", "compensation_amount",
              "satisfaction_after"]
    last_upd = ""
    per_id: dict[int, list[dict]] = {}
    for line in lines:
        t = json.loads(line)
        assert list(t) == fields
        assert t["updated_at"] >= last_upd
        last_upd = t["updated_at"]
        for f in ("created_at", "first_response_at", "resolved_at", "updated_at"):
            assert t[f] is None or (len(t[f]) == 20 and t[f].endswith("Z") and t[f][10] == "T")
        assert t["category"] in contracts.TICKET_CATEGORIES and t["severity"] in ("low", "medium", "high")
        assert t["channel"] in ("phone", "wechat", "email", "store")
        assert t["status"] in ("open", "pending", "solved", "closed")
        assert (t["resolved_at"] is not None) == (t["status"] in ("solved", "closed"))
        assert U.MONEY_RE.match(t["compensation_amount"])
        assert t["satisfaction_after"] is None or 1 <= t["satisfaction_after"] <= 5
        assert isinstance(t["id"], int) and isinstance(t["reopen_count"], int)
        assert t["updated_at"] < "2026-11-21T16:00:00Z"
        per_id.setdefault(t["id"], []).append(t)
    assert len(per_id) == manifest["row_counts"]["tickets"]
    assert any(len(v) > 1 for v in per_id.values()) and any(v[-1]["reopen_count"] for v in per_id.values())
    ids = {c[0] for c in sqlite3.connect(out / "shop.sqlite").execute("select customer_id from customers")}
    assert {t[-1]["customer_id"] for t in per_id.values()} - {None} <= ids


# --------------------------------------------------------------------------- file-level defects and rates

def test_bad_files_switch(generated) -> None:
    out, manifest = generated("small_bad", seed=9, bad_files=True)
    empty = out / "survey_inbox" / f"surveys_{END - timedelta(days=1):%Y%m%d}.csv"
    bad = out / "survey_inbox" / f"surveys_{END:%Y%m%d}.csv"
    assert empty.read_bytes() == b""
    first_line = bad.read_bytes().decode("utf-8-sig").split("\r\n", 1)[0]
    assert first_line != ",".join(contracts.SURVEY_HEADER) and "\n" not in first_line
    assert [d["file"] for d in manifest["defects"]["empty_file"]] == [empty.name]
    assert [d["file"] for d in manifest["defects"]["bad_header"]] == [bad.name]
    row_defects = [d for k in ("invalid_nps_score", "invalid_submitted_at", "duplicate_row", "malformed_row")
                   for d in manifest["defects"][k]]
    assert not [d for d in row_defects if d["file"] in (empty.name, bad.name)]


def test_rates_are_configurable(generated) -> None:
    rates = Rates(invalid_nps_score=0.05, invalid_submitted_at=0.0, duplicate_row=0.0, malformed_row=0.0,
                  late_arriving_customer=0.0)
    out, manifest = generated("small_rates", seed=10, rates=rates)
    dc = manifest["defect_counts"]
    n = manifest["row_counts"]["survey_records"]
    assert 0.03 * n < dc["invalid_nps_score"] < 0.07 * n
    assert dc["invalid_submitted_at"] == dc["duplicate_row"] == dc["malformed_row"] == 0
    assert dc["late_arriving_customer"] == 0
    assert set(dc) == set(contracts.REASON_CODES) & set(dc) | set(contracts.FILE_DEFECTS) | {
        "duplicate_row", "late_arriving_customer", "refund_flip"}
    assert manifest["rates"]["invalid_nps_score"] == 0.05


def test_cli_generate(tmp_path: Path) -> None:
    from loyalty.cli import build_parser

    args = build_parser().parse_args(["generate", "--scale", "small", "--seed", "3", "--out", str(tmp_path),
                                      "--rate-duplicate-row", "0", "--end-date", "2026-06-30"])
    assert args.func(args) == 0
    m = json.loads((tmp_path / "manifest.json").read_text())
    st = json.loads((tmp_path / "state.json").read_text())
    assert m["end_date"] == st["current_date"] == "2026-06-30" and m["start_date"] == "2024-07-01"
    assert m["defect_counts"]["duplicate_row"] == 0 and m["seed"] == 3
    assert (tmp_path / "survey_inbox" / "surveys_20260630.csv").exists()
