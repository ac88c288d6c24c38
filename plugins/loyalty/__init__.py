"""Customer-loyalty data warehouse: extraction, landing, quality gates and publishing.

The package lives under ``plugins/`` so Airflow puts it on ``sys.path``; it is also
installed (``pip install -e .``) so the ``loyalty`` command line works everywhere.
"""

__version__ = "0.1.0"
