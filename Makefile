# safeship: the two Quick-start commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint bench install dev system-packages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/safeship demo

system-packages:
	bash scripts/install-system-packages.sh

lint: dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

test: dev system-packages lint
	$(BIN)/pytest --cov=safeship --cov-report=term --cov-report=json:coverage.json \
		--cov-fail-under=85 -q
	$(BIN)/safeship gates run --no-store

# The A/A runs that fit the competitors' failure limits, and every regression scenario
CANARY_DECIDING_SCENARIOS := aa,aa_business,mid_step,bad_canary_pod,conversions_minus2
CANARY_DECIDING_SCENARIOS := $(CANARY_DECIDING_SCENARIOS),errors_x1.5_base0.1,errors_x2_base0.1
CANARY_DECIDING_SCENARIOS := $(CANARY_DECIDING_SCENARIOS),errors_x5_base0.1,errors_x1.5_base1
CANARY_DECIDING_SCENARIOS := $(CANARY_DECIDING_SCENARIOS),errors_x2_base1,errors_x5_base1
CANARY_DECIDING_SCENARIOS := $(CANARY_DECIDING_SCENARIOS),p50_plus10,p95_plus20,p99_plus50
CANARY_DECIDING_SCENARIOS := $(CANARY_DECIDING_SCENARIOS),tail_p95_plus20

bench: dev
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/cve_scan.py
	$(BIN)/python benchmarks/secret_scan.py
	$(BIN)/python benchmarks/router.py
	$(BIN)/python benchmarks/rollback.py
	$(BIN)/python benchmarks/flag_eval.py
	$(BIN)/python benchmarks/canary_detection.py --quick --json benchmarks/results/canary_detection.json
	# --quick has too few A/A runs to decide the false-rollback and matched never-slower targets
	# (>= 61 needed): 100 A/A runs (with and without the business metric) and 30 per regression
	# decide them (about 20 minutes on 2 cores; with 12 a slow scenario's median is noise)
	$(BIN)/python benchmarks/canary_detection.py --scenarios $(CANARY_DECIDING_SCENARIOS) \
		--aa-runs 100 --runs 30 --json benchmarks/results/canary_detection_decided.json

clean:
	rm -rf $(VENV) .safeship .pytest_cache .mypy_cache .ruff_cache coverage.json .coverage
