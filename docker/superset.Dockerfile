# Superset with the DuckDB SQLAlchemy driver, to read the serving file read-only.
FROM apache/superset:4.1.2
USER root
RUN pip install --no-cache-dir duckdb==2.0.0 duckdb-engine==0.17.0
USER superset
