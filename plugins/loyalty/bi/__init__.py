"""Dashboards for BI users: Apache Superset over the serving file (``make bi``, ``make bi-export``).

A tool around the product (it may import any layer; nothing imports it). Superset runs in a
virtualenv of its own (``.venv-bi``, pinned by ``bi/constraints.txt``: its SQLAlchemy 1.4 and
pandas 2.1 cannot share the Airflow venv); this package, in the project's venv, installs it,
prepares its state in ``<data>/bi`` (secret key, admin password, the CJK font files), runs
``bi/assets.py`` in Superset's venv to import the dashboards of ``bi/dashboards`` and to export them
back, and starts and stops the server.

- ``settings``: where everything is (``BiSettings.from_env()``)
- ``install``: the virtualenv
- ``server``: state, set-up, serving in the foreground or the background
- ``__main__``: ``python -m loyalty.bi install|setup|serve|start|stop|status|export``
"""
