"""The warehouse, on DuckDB (the default), PostgreSQL or Spark: the raw zone registered in it
(``engines``, ``raw``, ``postgres``, ``spark``), how this package runs dbt (``dbt_project``,
``dbt_artifacts``, ``dbt_docs``), the PII pseudonym (``pii``, ``pii_duckdb``), the semantic layer
(``semantic``) and publishing the validated marts to BI (``publish``). It imports the layers
below it (extract, the contracts) and never quality or orchestration."""
