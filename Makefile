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

.PHONY: venv demo test lint bench fuzz
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

# Long runs of the protocol fuzzing that `make test` runs bounded: the parser's properties,
# then random sessions to nats-server and the stub (same bytes back).
fuzz: $(STAMP)
	NSCPY_FUZZ_EXAMPLES=$${NSCPY_FUZZ_EXAMPLES:-20000} $(BIN)/pytest -q -p no:cacheprovider \
		tests/server_stub/test_protocol_fuzz.py tests/server_stub/test_config_fuzz.py
	$(BIN)/python bench/fuzz_differential.py $${NSCPY_FUZZ_DIFF_EXAMPLES:-1000}
