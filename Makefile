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

.PHONY: venv demo test test-fast lint bench fuzz fuzz-stub soak-js-faults
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
	$(BIN)/pytest -q -n 2

# The fast loop: every test that starts no process (`--fast` leaves out the e2e-marked ones and
# fails an unmarked test that starts one: tests/support/noprocess.py), on 2 workers.
test-fast: $(STAMP)
	$(BIN)/pytest -q --fast -n 2

bench: $(STAMP)
	$(BIN)/python bench/bench_jwt.py
	$(BIN)/python bench/bench_issue.py

# Coverage-guided fuzzing of the CLI's parsers and rules (bench/fuzz_cli.py), FUZZ_SECONDS per
# target. Not part of `make test`: atheris is installed only here, and only if it installs.
FUZZ_SECONDS ?= 60
fuzz: $(STAMP)
	$(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/pip install -q atheris || \
	  { echo "atheris does not install here; tests/probe/test_fuzz.py runs the bounded versions"; exit 1; }
	for t in redact subject names values jwt; do \
	  $(BIN)/python bench/fuzz_cli.py $$t -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=$${TMPDIR:-/tmp}/nscpy-fuzz-$$t- || exit 1; \
	done

# JetStream fault injection (full disk, failing fsync, crashes) over many random schedules
soak-js-faults: $(STAMP)
	NSCPY_JS_FAULT_EXAMPLES=3000 $(BIN)/pytest -q -p no:cacheprovider \
		tests/server_stub/jetstream/test_faults.py::test_random_faults_never_lose_a_synced_message \
		tests/server_stub/jetstream/test_write_behind.py::test_random_faults_with_write_behind_never_lose_a_synced_message \
		tests/server_stub/jetstream/test_recovery.py::test_any_damage_is_served_correctly_or_reported

# Long runs of the server_stub fuzzing that `make test` runs bounded: the protocol and config
# parsers' properties, then random sessions to nats-server and the stub (same bytes back).
fuzz-stub: $(STAMP)
	NSCPY_FUZZ_EXAMPLES=$${NSCPY_FUZZ_EXAMPLES:-20000} $(BIN)/pytest -q -p no:cacheprovider \
		tests/server_stub/test_protocol_fuzz.py tests/server_stub/test_config_fuzz.py
	$(BIN)/python bench/fuzz_differential.py $${NSCPY_FUZZ_DIFF_EXAMPLES:-1000}
