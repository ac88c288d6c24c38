"""Quality gates (Great Expectations 1.x on pandas batches), their results, and what auditors
and readers get from a night.

* ``gates``: ``validate_raw_night`` / ``validate_raw_batch`` (landed Parquet; the quarantine-rate
  guard), ``validate_marts`` (query results from the night's warehouse engine, read only),
  ``data_docs_index``; a failing ``error`` expectation raises ``GateFailed``.
* ``suites``: loads the reviewed JSON suites under ``expectations/`` and binds the
  run-time parameters their rules ask for (the extraction window, the batch id).
* ``runner``: one suite against one DataFrame with GX; Data Docs (``offline_docs``: without network).
* ``results``: one Parquet file per batch and suite under ``audit/validations``, the view
  ``audit.validation_results`` over them in the warehouse, and the archive retention fills.
* ``report``: the night's self-contained HTML audit report; ``morning``: the morning report
  drawn from the serving file; ``evidence``: the night's evidence manifest and ``verify``.
* ``retention``: per-night artefacts of the newest N nights only.
"""
