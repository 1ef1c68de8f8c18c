# Two commands get a newcomer going: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint spec migrate bench docs

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## Set up, migrate the database to head and serve on http://127.0.0.1:8000
run: $(BIN)/.installed
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/gunicorn -c gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app

# Test processes (pytest-xdist): one per CPU by default; TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= auto

## Set up, lint (ruff, import-linter contracts) and run the whole test suite (SQLite; DATABASE_URL/REDIS_URL switch backends)
test: $(BIN)/.installed
	$(BIN)/ruff check server tests bench gunicorn.conf.py
	$(BIN)/ruff format --check server tests bench gunicorn.conf.py
	$(BIN)/lint-imports
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

## Regenerate openapi.yaml from the code
spec: $(BIN)/.installed
	$(BIN)/flask --app wsgi openapi write --format=yaml openapi.yaml

## Regenerate the example images under docs/ (fixed fictional data; bench/docs_images.py)
docs: $(BIN)/.installed
	$(BIN)/python -m bench.docs_images

## Generate a migration after changing models: make migrate m="what changed"
migrate: $(BIN)/.installed
	$(BIN)/flask --app wsgi db migrate -m "$(m)"

bench: $(BIN)/.installed
	$(BIN)/python -m bench.bench_request_path
	$(BIN)/python -m bench.bench_exports
	$(BIN)/python -m bench.bench_chart
