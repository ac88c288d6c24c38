"""Demo source systems for the loyalty warehouse (SOURCES.md): the shop database, the survey
inbox and the tickets JSON Lines file, plus a manifest of every injected defect.

``generate(out, scale=..., seed=..., end_date=..., shop_db_url=..., rates=Rates(...), bad_files=...)``
writes two years of history ending on ``end_date``; ``advance(out, days=1)`` appends the next
business day(s) of changes. Both are deterministic (same seed and arguments give
byte-identical files and DB content) and return the manifest.

Output folder::

    shop.sqlite                      the shop DB (unless --shop-db-url points elsewhere)
    survey_inbox/surveys_YYYYMMDD.csv
    tickets.jsonl                    ticket versions in updated_at order (the API simulator serves them)
    manifest.json                    what was generated (below)
    state.json                       what `advance` needs: current_date, seed, scale, rates, next_ids,
                                     calibration, pending (late-arriving) customers, shop_db_url if not default
    .generator/                      the generator's own working state: customers' latent traits,
                                     order status changes and ticket versions due after current_date

``manifest.json`` keys: ``generator_version``, ``seed``, ``scale``, ``business_tz``, ``start_date``
and ``end_date`` (the generated history), ``current_date`` (after ``advance``), ``shop_db``
('sqlite'|'postgresql'), ``rates``, ``bad_files``, ``row_counts`` (the 10 shop tables,
``survey_records`` = data records in the files incl. duplicates, ``survey_responses``,
``survey_files``, ``ticket_lines``, ``tickets`` = distinct ids), ``defect_counts`` {kind: n},
``defects`` {kind: [identity, ...]} with kinds ``invalid_nps_score``, ``invalid_submitted_at``,
``malformed_row``, ``duplicate_row`` (identity ``{"file", "line", "physical_line",
"response_id", ...}``; ``line`` is the record number after the header, as the loader's
``_source_line``), ``bad_header`` / ``empty_file`` (``{"file", ...}``),
``late_arriving_customer`` (``{"customer_id", "first_order_id", "order_business_date",
"customer_business_date", "ordered_at", "customer_updated_at"}``), ``refund_flip``
(``{"order_id", "ordered_at", "refunded_at"}``: refunds 2-7 months after the order);
``suspicious_referrals`` [{referral_id, kind: shared_phone|shared_email|prior_order, status}],
``survey_files`` {name: {records, responses, bom, bytes, defect, ...}}, ``redeliveries``
[{file, redelivered_on, corrections: [{line, response_id, field, old, new}]}], and ``days``
{YYYY-MM-DD: {window_utc, new: {table: n}, updated: {table: n}, survey_file, survey_records,
redelivered, tickets: {new, updated, lines}, late_arriving_customers_withheld/arrived,
new_members, defects}} for every advanced day.
"""

from loyalty.generator.core import SCALES, Rates
from loyalty.generator.daily import advance
from loyalty.generator.full import generate

__all__ = ["generate", "advance", "Rates", "SCALES"]
