# offconvex-companion. Every target installs what it needs into .venv first (Python 3.11, pip, make only).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
JOBS   ?= 2
PROFILE ?= book

.PHONY: help install book test bench baselines mutants seeds serve clean lock lint

help:
	@echo "make install    create .venv and install the pinned environment (every target does it first)"
	@echo "make book       execute every notebook (profile $(PROFILE), 5 seeds), write the report, build _build/html"
	@echo "make test       unit tests + notebook execution + figure/claim regression (what CI runs)"
	@echo "make baselines  regenerate tests/baselines from the book profile and its rounding ensemble"
	@echo "make mutants    apply small real changes (lr x1.01, ...) and report which the regression catches"
	@echo "make seeds      run the book profile at SEEDS (default 5 6 7, beyond the book's 0-4): which claims change verdict"
	@echo "make bench      time the book cold, warm and in the smoke profile -> _build/bench.json"
	@echo "make serve      preview _build/html on http://127.0.0.1:8000"
	@echo "make lint       ruff on lib, tests and notebooks"
	@echo "make lock       rewrite requirements.lock and environment.yml from .venv (after changing a pin)"
	@echo "make clean      remove build outputs and caches (keeps .venv)"

install: $(STAMP)

# Re-install only when the pins or the package metadata change.
$(STAMP): requirements.lock pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no python3.11/python3 on PATH; install Python 3.11 first"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  echo "warning: $(PYTHON) is not Python 3.11; the lock file was made for 3.11"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

book: $(STAMP)
	$(PY) -m offconvex book --profile $(PROFILE) --jobs $(JOBS)

test: $(STAMP)
	$(PY) -m ruff check lib tests notebooks
	MPLBACKEND=Agg $(PY) -m pytest

MEMBERS ?= 7
baselines: $(STAMP)
	$(PY) -m offconvex baselines --jobs $(JOBS) --members $(MEMBERS) $(SLUGS)

mutants: $(STAMP)
	$(PY) -m offconvex mutants --jobs $(JOBS) $(SLUGS)

SEEDS ?= 5 6 7
seeds: $(STAMP)
	$(PY) -m offconvex seeds --seeds $(SEEDS) --jobs $(JOBS) $(SLUGS)

bench: $(STAMP)
	$(PY) -m offconvex bench --jobs $(JOBS)

serve: $(STAMP)
	@test -f _build/html/index.html || $(MAKE) book
	$(PY) -m http.server --directory _build/html --bind 127.0.0.1 8000

lint: $(STAMP)
	$(PY) -m ruff check lib tests notebooks

# Refresh the pins from the current environment (after changing a requirement on purpose).
lock: $(STAMP)
	$(PY) -m offconvex lock

clean:
	rm -rf _build book/posts book/reproducibility.md book/gallery.md .pytest_cache
