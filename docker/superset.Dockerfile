# Superset 6.1 for the compose stack: the DuckDB driver at the versions `make bi` pins
# (bi/constraints.txt), and the project's CJK font (Noto Sans SC from web_assets.zip, written by
# loyalty.quality.fonts as for `make bi`). The config, the Superset-side script and the dashboards
# are mounted from bi/ (docker-compose.yml), so both paths run the same files.
# Build context: the repository root.
FROM apache/superset:6.1.0
USER root
RUN if command -v uv >/dev/null 2>&1; then \
        uv pip install --no-cache --python "$(command -v python)" duckdb==2.0.0 duckdb-engine==0.17.0; \
    else \
        pip install --no-cache-dir duckdb==2.0.0 duckdb-engine==0.17.0; \
    fi
COPY plugins/loyalty/quality/fonts.py plugins/loyalty/quality/web_assets.zip /opt/loyalty_fonts/
RUN python -c "import sys; from pathlib import Path; sys.path.insert(0, '/opt/loyalty_fonts'); import fonts; \
fonts.write_font_files(Path('/app/loyalty_static/fonts'))" \
    && chown -R superset:superset /app/loyalty_static
USER superset
