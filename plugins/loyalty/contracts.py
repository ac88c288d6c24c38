"""The source contracts of ../shared/SOURCES.md as data, and the vocabularies derived from them:
one place every module reads.

- the tables of the three sources (``ALL_TABLES``), with their columns, types and accepted values;
- the columns every landed row carries (``RAW_METADATA_COLUMNS``), the load ledger's
  (``LEDGER_COLUMNS``) and the quarantine's (``QUARANTINE_COLUMNS``);
- the segment vocabularies of the metric marts (``SEGMENT_VOCABULARIES``; dbt's macro
  ``segment_vocabulary`` repeats them, and ``tests/test_vocabularies.py`` holds the two together);
- quarantine reason codes and file-level defects.

Types are DuckDB type names (also valid Arrow/Parquet targets through DuckDB):
``BIGINT``, ``INTEGER``, ``VARCHAR``, ``DECIMAL(12,2)``, ``TIMESTAMP`` (naive UTC),
``DATE``. ``accepted`` lists the allowed values of an enumerated column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BUSINESS_TZ = "Asia/Shanghai"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = False
    accepted: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Table:
    name: str
    source: str  # "shop", "survey" or "tickets"
    primary_key: str
    columns: tuple[Column, ...]
    cursor: str = "updated_at"
    foreign_keys: dict[str, str] = field(default_factory=dict)  # column -> "table.column"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def _c(name: str, type_: str, nullable: bool = False, accepted: tuple[str, ...] | None = None) -> Column:
    return Column(name, type_, nullable, accepted)


MONEY = "DECIMAL(12,2)"
# the enumerations that are also segments of the metric marts (SEGMENT_VOCABULARIES below); the
# demo generator draws from them in this order
ORDER_CHANNELS = ("store", "online", "wechat")  # orders.channel, customers.signup_channel
MEMBER_TIERS = ("bronze", "silver", "gold", "platinum")  # memberships.tier, lowest first
REFERRAL_CHANNELS = ("wechat", "link", "code")

SHOP_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "customers",
            "shop",
            "customer_id",
            (
                _c("customer_id", "BIGINT"),
                _c("name", "VARCHAR", True),
                _c("phone", "VARCHAR", True),
                _c("email", "VARCHAR", True),
                _c("gender", "VARCHAR", True, ("F", "M")),
                _c("birth_date", "DATE", True),
                _c("city", "VARCHAR", True),
                _c("registered_at", "TIMESTAMP"),
                _c("signup_channel", "VARCHAR", False, ORDER_CHANNELS),
                _c("updated_at", "TIMESTAMP"),
            ),
        ),
        Table(
            "stores",
            "shop",
            "store_id",
            (
                _c("store_id", "INTEGER"),
                _c("store_name", "VARCHAR"),
                _c("city", "VARCHAR"),
                _c("opened_at", "DATE"),
                _c("updated_at", "TIMESTAMP"),
            ),
        ),
        Table(
            "products",
            "shop",
            "product_id",
            (
                _c("product_id", "INTEGER"),
                _c("product_name", "VARCHAR"),
                _c("category", "VARCHAR"),
                _c("list_price", MONEY),
                _c("updated_at", "TIMESTAMP"),
            ),
        ),
        Table(
            "orders",
            "shop",
            "order_id",
            (
                _c("order_id", "BIGINT"),
                _c("customer_id", "BIGINT"),
                _c("store_id", "INTEGER", True),
                _c("channel", "VARCHAR", False, ORDER_CHANNELS),
                _c("status", "VARCHAR", False, ("paid", "shipped", "completed", "cancelled", "refunded")),
                _c("total_amount", MONEY),
                _c("discount_amount", MONEY),
                _c("referral_code", "VARCHAR", True),
                _c("ordered_at", "TIMESTAMP"),
                _c("updated_at", "TIMESTAMP"),
            ),
            # customer_id may arrive one night late (late-arriving dimension): not enforced.
            foreign_keys={"store_id": "stores.store_id"},
        ),
        Table(
            "order_items",
            "shop",
            "order_item_id",
            (
                _c("order_item_id", "BIGINT"),
                _c("order_id", "BIGINT"),
                _c("product_id", "INTEGER"),
                _c("quantity", "INTEGER"),
                _c("unit_price", MONEY),
                _c("updated_at", "TIMESTAMP"),
            ),
            foreign_keys={"order_id": "orders.order_id", "product_id": "products.product_id"},
        ),
        Table(
            "memberships",
            "shop",
            "member_id",
            (
                _c("member_id", "BIGINT"),
                _c("customer_id", "BIGINT"),
                _c("tier", "VARCHAR", False, MEMBER_TIERS),
                _c("status", "VARCHAR", False, ("active", "frozen", "cancelled")),
                _c("joined_at", "TIMESTAMP"),
                _c("cancelled_at", "TIMESTAMP", True),
                _c("updated_at", "TIMESTAMP"),
            ),
            foreign_keys={"customer_id": "customers.customer_id"},
        ),
        Table(
            "points_ledger",
            "shop",
            "entry_id",
            (
                _c("entry_id", "BIGINT"),
                _c("member_id", "BIGINT"),
                _c("occurred_at", "TIMESTAMP"),
                _c("points", "INTEGER"),
                _c("reason", "VARCHAR", False, ("purchase", "redeem", "referral_reward", "care_gift", "expire", "adjust")),
                _c("order_id", "BIGINT", True),
                _c("updated_at", "TIMESTAMP"),
            ),
            foreign_keys={"member_id": "memberships.member_id", "order_id": "orders.order_id"},
        ),
        Table(
            "referrals",
            "shop",
            "referral_id",
            (
                _c("referral_id", "BIGINT"),
                _c("referrer_customer_id", "BIGINT"),
                _c("referral_code", "VARCHAR"),
                _c("channel", "VARCHAR", False, REFERRAL_CHANNELS),
                _c("invited_at", "TIMESTAMP"),
                _c("referee_customer_id", "BIGINT", True),
                _c("first_order_id", "BIGINT", True),
                _c("status", "VARCHAR", False, ("invited", "registered", "converted", "rejected")),
                _c("reward_amount", MONEY, True),
                _c("rewarded_at", "TIMESTAMP", True),
                _c("updated_at", "TIMESTAMP"),
            ),
            foreign_keys={"referrer_customer_id": "customers.customer_id"},
        ),
        Table(
            "care_campaigns",
            "shop",
            "campaign_id",
            (
                _c("campaign_id", "INTEGER"),
                _c("campaign_name", "VARCHAR"),
                _c(
                    "campaign_type",
                    "VARCHAR",
                    False,
                    ("holiday_greeting", "birthday_gift", "health_care", "exclusive_event", "points_bonus"),
                ),
                _c("channel", "VARCHAR", False, ("sms", "wechat", "email", "phone", "event")),
                _c("start_date", "DATE"),
                _c("end_date", "DATE"),
                _c("fixed_cost", MONEY),
                _c("updated_at", "TIMESTAMP"),
            ),
        ),
        Table(
            "care_touches",
            "shop",
            "touch_id",
            (
                _c("touch_id", "BIGINT"),
                _c("campaign_id", "INTEGER"),
                _c("customer_id", "BIGINT"),
                _c("assigned_group", "VARCHAR", False, ("treatment", "holdout")),
                _c("touched_at", "TIMESTAMP"),
                _c("touch_cost", MONEY),
                _c("responded_at", "TIMESTAMP", True),
                _c("updated_at", "TIMESTAMP"),
            ),
            foreign_keys={"campaign_id": "care_campaigns.campaign_id", "customer_id": "customers.customer_id"},
        ),
    )
}

# Survey CSV: the header exactly as delivered, and the typed shape it lands in.
SURVEY_HEADER: tuple[str, ...] = (
    "response_id",
    "survey_id",
    "customer_id",
    "order_id",
    "channel",
    "submitted_at",
    "nps_score",
    "satisfaction",
    "repurchase_intent",
    "comment",
)
SURVEY_CHANNELS = ("sms", "wechat", "email", "app")
SATISFACTION_LABELS: dict[str, int] = {"非常满意": 5, "比较满意": 4, "满意": 3, "不满意": 2, "非常不满意": 1}
REPURCHASE_INTENT_LABELS: dict[str, str] = {"很大可能": "high", "可能": "medium", "不可能": "low"}

SURVEY_RESPONSES = Table(
    "survey_responses",
    "survey",
    "response_id",
    (
        _c("response_id", "VARCHAR"),
        _c("survey_id", "VARCHAR"),
        _c("customer_id", "BIGINT", True),
        _c("order_id", "BIGINT", True),
        _c("channel", "VARCHAR", False, SURVEY_CHANNELS),
        _c("submitted_at", "TIMESTAMP"),  # converted to UTC at landing
        _c("nps_score", "INTEGER", True),
        _c("satisfaction", "INTEGER", True),  # 1..5, labels mapped to their digit
        _c("repurchase_intent", "VARCHAR", True, ("high", "medium", "low")),
        _c("comment", "VARCHAR", True),
    ),
    cursor="submitted_at",
)

TICKET_CATEGORIES = ("product_quality", "delivery", "service_attitude", "billing", "other")
TICKET_CHANNELS = ("phone", "wechat", "email", "store")
TICKETS = Table(
    "tickets",
    "tickets",
    "ticket_id",
    (
        _c("ticket_id", "BIGINT"),  # API field "id"
        _c("customer_id", "BIGINT", True),
        _c("order_id", "BIGINT", True),
        _c("category", "VARCHAR", False, TICKET_CATEGORIES),
        _c("severity", "VARCHAR", False, ("low", "medium", "high")),
        _c("channel", "VARCHAR", False, TICKET_CHANNELS),
        _c("status", "VARCHAR", False, ("open", "pending", "solved", "closed")),
        _c("created_at", "TIMESTAMP"),
        _c("first_response_at", "TIMESTAMP", True),
        _c("resolved_at", "TIMESTAMP", True),
        _c("updated_at", "TIMESTAMP"),
        _c("reopen_count", "INTEGER"),
        _c("compensation_amount", MONEY),
        _c("satisfaction_after", "INTEGER", True),
    ),
)

ALL_TABLES: dict[str, Table] = {**SHOP_TABLES, SURVEY_RESPONSES.name: SURVEY_RESPONSES, TICKETS.name: TICKETS}

# Metadata columns every landed raw row carries (appended after the contract columns).
RAW_METADATA_COLUMNS: tuple[Column, ...] = (
    _c("_batch_id", "VARCHAR"),
    _c("_extracted_at", "TIMESTAMP"),
    _c("_source_file", "VARCHAR", True),  # survey CSV name; NULL for the database and the API
    _c("_source_line", "BIGINT", True),  # 1-based physical record number in that file
)

# The load ledger, ``raw.load_ledger``: these keys of every batch's ``_batch.json``
# (``loyalty.extract.batches.BatchRecord``) and their types, plus ``is_reconciled``
# (read = landed + quarantined + duplicates), computed when it is registered.
LEDGER_COLUMNS: dict[str, str] = {
    "table": "VARCHAR", "source": "VARCHAR", "batch_id": "VARCHAR", "data_interval_start": "VARCHAR",
    "data_interval_end": "VARCHAR", "extracted_at": "VARCHAR", "mode": "VARCHAR", "window_start": "VARCHAR",
    "window_end": "VARCHAR", "rows_read": "BIGINT", "rows_landed": "BIGINT", "rows_quarantined": "BIGINT",
    "rows_duplicate": "BIGINT", "max_cursor": "VARCHAR", "checksum": "VARCHAR",
}
# A quarantined row (``quarantine/<table>/batch_id=<id>/part-0.parquet``, ``raw.quarantine``), in this order.
QUARANTINE_COLUMNS: dict[str, str] = {
    "table_name": "VARCHAR", "source": "VARCHAR", "batch_id": "VARCHAR", "row_identity": "VARCHAR",
    "reason_code": "VARCHAR", "reason_detail": "VARCHAR", "raw_payload": "VARCHAR", "source_file": "VARCHAR",
    "source_line": "BIGINT", "quarantined_at": "TIMESTAMP",
}


def _accepted(table: str, column: str) -> tuple[str, ...]:
    values = ALL_TABLES[table].column(column).accepted
    if values is None:
        raise ValueError(f"contracts: {table}.{column} has no accepted values, so it cannot be a segment vocabulary")
    return values


# The segments of the metric marts: the accepted values of the source column each one comes from.
# A customer with no membership is in the member_tier segment 'non_member'. dbt's macro
# segment_vocabulary (dbt_project/macros/) repeats these values for SQL: keep the two the same
# (tests/test_vocabularies.py fails when they differ).
NON_MEMBER = "non_member"
SEGMENT_VOCABULARIES: dict[str, tuple[str, ...]] = {
    "order_channel": _accepted("orders", "channel"),
    "survey_channel": _accepted("survey_responses", "channel"),
    "ticket_channel": _accepted("tickets", "channel"),
    "referral_channel": _accepted("referrals", "channel"),
    "ticket_category": _accepted("tickets", "category"),
    "member_tier": (*_accepted("memberships", "tier"), NON_MEMBER),
}

# columns that hold raw personal data: they never leave the raw zone and the quarantine (the
# pipeline pseudonymises phone and e-mail in staging; reports show these fields redacted)
PII_COLUMNS: dict[str, tuple[str, ...]] = {"customers": ("name", "phone", "email")}

# Quarantine reason codes: the generator's defect manifest uses the same names.
REASON_CODES: dict[str, str] = {
    "null_key": "the primary key is empty",
    "invalid_type": "a value cannot be parsed as its contract type",
    "invalid_value": "a value is outside the contract's accepted values or range",
    "missing_value": "a required (NOT NULL) column is empty",
    "invalid_nps_score": "nps_score is not an integer 0-10 (e.g. 11, -1, 8.5, 十, N/A)",
    "invalid_satisfaction": "satisfaction is neither a label nor a digit 1-5",
    "invalid_repurchase_intent": "repurchase_intent is not 很大可能/可能/不可能",
    "invalid_submitted_at": "submitted_at is neither 'YYYY-MM-DD HH:MM:SS' nor ISO 8601 with offset",
    "malformed_row": "the CSV record has the wrong number of fields or an unclosed quote (e.g. a truncated last line)",
}

# File-level defects: the whole file is rejected and the survey task fails naming it.
FILE_DEFECTS: dict[str, str] = {
    "empty_file": "the file has no bytes or no header",
    "bad_header": "the header is wrong or missing",
}
