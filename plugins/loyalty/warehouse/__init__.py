"""The DuckDB warehouse: raw-zone registration, dbt artifacts, publishing to BI."""
