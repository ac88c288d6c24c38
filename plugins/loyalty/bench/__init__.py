"""Benchmarks: tools around the product that print figures (and write them under
``bench-results/``), never tests. They may import any layer of the package; nothing in the
package imports them.

- ``python -m loyalty.bench --scale small|medium|large`` (``make bench``): the extraction
  benchmark (``extraction``), then the pipeline benchmark (``pipeline``: the nights as stages in
  one process, as ``dag.test()`` runs and under the scheduler); ``--only extract|dbt|gates``.
- ``python -m loyalty.bench.engines --scale small|medium`` (``make bench-engines``): dbt build
  times on DuckDB and on Spark (``engines``).
"""
