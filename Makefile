# The two commands of the README: `make lab` and `make test`.
# Each builds .venv on first use (and again when this file, pyproject.toml or the built Validate extension changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test test-fast lint venv clean handouts selfstudy labextension

venv: $(STAMP)

$(STAMP): Makefile pyproject.toml lab/validate/pyproject.toml lab/validate/labextension/source.sha256
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "需要 Python 3.11 或更高版本（当前：$$($(PYTHON) --version 2>&1)）。可用 PYTHON=python3.12 make ... 指定。"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
	  { echo "无法创建虚拟环境 $(VENV)：Debian/Ubuntu 上请先安装 python3-venv（sudo apt install python3-venv）。"; rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]" ./lab/validate
	@# jsonschema's optional IRI checker (rfc3987-syntax, pulled in by jupyter-events) builds a
	@# grammar when it is imported: about 2 s more for every process that reads a notebook
	@# (nbgrader, JupyterLab, the tests; kam skips it anyway, see kamlib/cli.py). Nothing here validates IRIs;
	@# without it jsonschema skips that format.
	$(BIN)/python -m pip uninstall --quiet --yes rfc3987-syntax
	@touch $(STAMP)

# Root (a container, a CI box) must opt in explicitly; everyone else needs nothing extra.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

# The kernels this server starts explain the common slips in Chinese from their start (kamlib.slips).
lab: $(STAMP) selfstudy
	@$(BIN)/python -c 'import os, shutil; from jupyterlab.commands import get_app_dir; d = os.path.join(get_app_dir(), "settings", "overrides.d"); os.makedirs(d, exist_ok=True); shutil.copyfile("lab/overrides.json", os.path.join(d, "kam-course.json"))'
	$(BIN)/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/course/00_index.ipynb --KernelSpecManager.kernel_spec_class=kamlib.slips.LearnerKernelSpec

# Lint and format check first (ruff), then pytest: `test` runs every lane (CI runs it),
# `test-fast` only what is not marked slow (no kernels, browser, hub, PostgreSQL or Binder).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# PYTHONDONTWRITEBYTECODE is cleared for the run: its hundreds of processes (kernels, nbgrader,
# JupyterLab, the test workers) import kamlib and the tests, and would otherwise compile them
# anew each time (the caches go to the git-ignored __pycache__/ folders).
test: lint
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest

test-fast: lint
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -m "not slow"

# The self-study exercises in exercises/selfstudy/ (only the missing notebooks; answered ones are kept).
selfstudy: $(STAMP)
	$(BIN)/python -m kamlib.selfstudy exercises

handouts: $(STAMP)
	$(BIN)/python -m tools.handouts --out build/handouts

# The Chinese Validate button (lab/validate/): rebuild its bundle after changing its TypeScript,
# and commit lab/validate/labextension/. Only this target needs node and npm.
labextension: $(STAMP)
	rm -rf lab/validate/labextension
	cd lab/validate && npm ci --no-audit --no-fund && npx tsc && \
	  node node_modules/@jupyterlab/builder/lib/build-labextension.js \
	    --core-path "$$($(CURDIR)/$(BIN)/python -c 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))')" .
	cd lab/validate && $(CURDIR)/$(BIN)/python -m kam_course_validate
	$(BIN)/python -m pip install --quiet ./lab/validate

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis artifacts
