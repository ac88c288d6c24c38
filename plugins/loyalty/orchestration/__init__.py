"""Airflow wiring: what each task does (``tasks``), the ``dbt`` task group (``dbt_config``,
``watcher``), alerts, running a night locally (``runner``: ``dag.test()``; ``stages``: without
Airflow), the deployment as processes (``deployment``), the forkserver's preload, and the
pipeline's commands (``cli``). The top of the package's layers: DAGs import it."""
