# gan3d: `make book` builds the whole book, `make test` runs the tests.
# Needs only Python >= 3.11 with venv/pip, and make.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PRESET ?= default

# Keep tool caches inside the work tree so runs leave nothing in $HOME.
export MPLCONFIGDIR := $(CURDIR)/.cache/matplotlib
export IPYTHONDIR := $(CURDIR)/.cache/ipython
export JUPYTER_CONFIG_DIR := $(CURDIR)/.cache/jupyter/config
export JUPYTER_DATA_DIR := $(CURDIR)/.cache/jupyter/data
export JUPYTER_RUNTIME_DIR := $(CURDIR)/.cache/jupyter/runtime
export JUPYTER_PLATFORM_DIRS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: setup book test bench-mc clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "gan3d needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test]"
	touch $@

book: setup
	$(BIN)/gan3d book --preset $(PRESET)

test: setup
	$(BIN)/python -m pytest

bench-mc: setup
	$(BIN)/gan3d bench-mc --n 4096 --workers 1 2

clean:
	rm -rf _build book/generated results .cache
