"""Customer-loyalty data warehouse: extraction, landing, quality gates and publishing.

Packages are layers and imports go one way, down (docs/ARCHITECTURE.md;
tests/test_import_layers.py checks it): the demo sources (``generator``, ``ticket_api``) ->
``extract`` -> ``warehouse`` -> ``quality`` -> ``orchestration`` -> the DAGs (``dags/``).
``config`` and ``contracts`` are foundations every layer may import; ``cli`` (the ``loyalty``
command) and ``bench`` (benchmarks) are tools on top.

The package lives under ``plugins/`` so Airflow puts it on ``sys.path``; it is also
installed (``pip install -e .``) so the ``loyalty`` command line works everywhere.
"""

__version__ = "0.1.0"
