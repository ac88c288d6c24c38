"""Quality gates (Great Expectations 1.x on pandas batches), the results table, the audit report.

* ``gates``: ``validate_raw_batch`` (landed Parquet), ``validate_marts`` (read-only DuckDB
  query results), ``data_docs_index``; a failing ``error`` expectation raises ``GateFailed``.
* ``suites``: loads the reviewed JSON suites under ``expectations/`` and binds the
  run-time parameters their rules ask for (volume vs recent nights, freshness, batch id).
* ``results``: one Parquet file per batch and suite under ``audit/validations`` and the
  DuckDB view ``audit.validation_results`` over them.
* ``report``: the self-contained HTML audit report of a night.
"""
