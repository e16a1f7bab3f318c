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

bench: dev
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/cve_scan.py
	$(BIN)/python benchmarks/secret_scan.py
	$(BIN)/python benchmarks/router.py
	$(BIN)/python benchmarks/rollback.py
	$(BIN)/python benchmarks/flag_eval.py
	$(BIN)/python benchmarks/canary_detection.py --quick --json benchmarks/results/canary_detection.json
	# --quick has too few A/A runs to decide the false-rollback target (>= 61 needed): 150 more,
	# safeship's judge only (about 5 minutes on 2 cores)
	$(BIN)/python benchmarks/canary_detection.py --judges sequential --scenarios aa --aa-runs 150 \
		--json benchmarks/results/canary_detection_aa.json

clean:
	rm -rf $(VENV) .safeship .pytest_cache .mypy_cache .ruff_cache coverage.json .coverage
