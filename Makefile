# Two entry points for a fresh machine: `make demo` (the main job) and `make test` (every check).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

.PHONY: venv demo test lint bench
venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m nscpy.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy nscpy server_stub

test: lint
	sh tests/interop/go/ensure-go.sh
	sh tests/support/ensure-renderers.sh
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/bench_jwt.py
	$(BIN)/python bench/bench_issue.py
