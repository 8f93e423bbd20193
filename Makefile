# SteriStock: `make demo` serves a demo clinic on SQLite; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install lock demo serve test test-postgres lint format bench soak clean

# Installs the versions pinned in constraints.txt (`make lock` refreshes them).
$(BIN)/steristock: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --constraint constraints.txt --upgrade pip
	$(BIN)/pip install --quiet --constraint constraints.txt -e ".[dev]"
	touch $@

install: $(BIN)/steristock

# The newest releases within pyproject.toml's bounds, pinned for the venv, CI and Docker.
lock: install
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --upgrade --extra dev \
		--strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--output-file constraints.txt pyproject.toml

demo: install
	$(BIN)/steristock demo
	$(BIN)/steristock serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/steristock serve --host $(HOST) --port $(PORT)

# One pytest-xdist worker per core; each worker has its own SQLite template and its own
# PostgreSQL database (tests/conftest.py). `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

test: install
	$(PYTEST) $(PYTEST_ARGS)

test-postgres: install
	STERISTOCK_TEST_POSTGRES_URL=$${STERISTOCK_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(PYTEST) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `make bench BENCH_ARGS="--scale 0.1 --soak-duration 60"` for a quicker run.
bench: install
	$(BIN)/python scripts/bench.py --all $(BENCH_ARGS)

# 16 clients for 5 minutes of mixed load on SQLite and PostgreSQL (scripts/soak.py).
SOAK_ARGS ?= --duration 300 --clients 16
soak: install
	$(BIN)/python scripts/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
