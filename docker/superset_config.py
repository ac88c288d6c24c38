"""Superset settings for the compose stack (BI over the read-only serving DuckDB file)."""
import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = "sqlite:////app/superset_home/superset.db"
# In Superset: Settings > Database Connections > + Database > DuckDB, with the URI
#   duckdb:////opt/loyalty/data/serving/loyalty.duckdb?access_mode=read_only
PREVENT_UNSAFE_DB_CONNECTIONS = False
