# The project's Airflow image: Airflow 3.3.0 on Python 3.11 with the loyalty package, dbt,
# cosmos and GX installed from the same pins CI uses (constraints.txt).
FROM apache/airflow:3.3.0-python3.11
USER root
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends git && rm -rf /var/lib/apt/lists/*
USER airflow
WORKDIR /opt/loyalty
COPY --chown=airflow:root pyproject.toml constraints.txt ./
COPY --chown=airflow:root plugins ./plugins
RUN pip install --no-cache-dir -c constraints.txt -e .
COPY --chown=airflow:root dags ./dags
COPY --chown=airflow:root dbt_project ./dbt_project
COPY --chown=airflow:root expectations ./expectations
ENV LOYALTY_DATA_DIR=/opt/loyalty/data \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/loyalty/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/loyalty/plugins
