# The project's single entry point. `make demo` runs the main job, `make test` the tests;
# both install everything first (into .venv, pinned by constraints.txt; uv installs the pins, pip installs uv).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install demo test test-fast bench bench-engines lint typecheck docs clean serve-tickets bi bi-start bi-stop bi-export

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -c constraints.txt -e '.[dev]'
	@touch $@

## The main job: generate the small demo sources and run a full nightly load (a real Airflow DAG run).
demo: install
	$(BIN)/loyalty demo

## The test suite: real Airflow DAG runs, dbt, GX, HTTP and PostgreSQL (127.0.0.1:5432, user postgres).
test: install
	@bash scripts/ensure-test-deps.sh
	$(BIN)/pytest $(PYTEST_ARGS)

## The edit loop: Python units, the dbt models' unit tests and formulas, the gates; no real night
## (the tests marked slow: whole nights, the scheduler, PostgreSQL/Spark engines, the golden marts).
test-fast: install
	@bash scripts/ensure-test-deps.sh
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

## Speed and memory figures (prints them, then every target beside its figure; not a test). SCALE=small|medium|large|all
SCALE ?= medium
bench: install
	$(BIN)/python -m loyalty.bench --scale $(SCALE)

## dbt build times by engine (DuckDB, Spark): a full and an incremental night. SCALE=tiny|small|medium
bench-engines: install
	$(BIN)/python -m loyalty.bench.engines --scale $(SCALE)

lint: install
	$(BIN)/ruff check plugins dags tests

typecheck: install
	$(BIN)/mypy plugins/loyalty

## Dashboards: Superset 6.1 in its own venv (.venv-bi, bi/constraints.txt) over the serving file, with the
## dashboards of bi/dashboards imported; serves on 127.0.0.1:8088 (LOYALTY_BI_PORT) until Ctrl-C. After `make demo`.
bi: install
	$(BIN)/python -m loyalty.bi serve

## The same in the background (log and pid in data/bi/); bi-stop stops it.
bi-start: install
	$(BIN)/python -m loyalty.bi start

bi-stop: install
	$(BIN)/python -m loyalty.bi stop

## Every dashboard of the running Superset back into bi/dashboards as clean YAML (then git diff, commit).
bi-export: install
	$(BIN)/python -m loyalty.bi export

serve-tickets: install
	$(BIN)/loyalty serve-tickets

clean:
	rm -rf data dbt_project/target dbt_project/logs
