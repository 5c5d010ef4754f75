# The two commands of the README: `make lab` and `make test`.
# Each builds .venv on first use (and again when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test venv clean handouts selfstudy

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "需要 Python 3.11 或更高版本（当前：$$($(PYTHON) --version 2>&1)）。可用 PYTHON=python3.12 make ... 指定。"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
	  { echo "无法创建虚拟环境 $(VENV)：Debian/Ubuntu 上请先安装 python3-venv（sudo apt install python3-venv）。"; rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

# Root (a container, a CI box) must opt in explicitly; everyone else needs nothing extra.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP) selfstudy
	$(BIN)/jupyter lab $(ROOT_FLAG) course/00_index.ipynb

test: $(STAMP)
	$(BIN)/python -m pytest

# The self-study exercises in exercises/selfstudy/ (only the missing notebooks; answered ones are kept).
selfstudy: $(STAMP)
	$(BIN)/python -m kamlib.selfstudy exercises

handouts: $(STAMP)
	$(BIN)/python -m kamlib.handouts --out build/handouts

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis artifacts
