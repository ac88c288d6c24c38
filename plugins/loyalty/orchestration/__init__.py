"""Airflow wiring: task callables, cosmos configuration, alerts, the local runner."""
