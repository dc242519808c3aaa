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

.PHONY: setup book test bench-mc weights clean

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

# Re-create the shipped lite Conv2D generator from scratch (about an hour on 2 cores).
# Batch 32 and learning rates 1e-3 (G) / 2e-3 (D) instead of the study's 128 and 5e-4 / 1e-4:
# about four times more updates per CPU hour, which the one-hour budget needs.
WEIGHTS := data/weights/conv2d_lite
TRAIN_MC := data/mc/train_20k_seed1001.h5
VAL_MC := data/mc/val_2k_seed1002.h5

$(TRAIN_MC): | setup
	$(BIN)/gan3d simulate --n 20000 --seed 1001 --out $@

$(VAL_MC): | setup
	$(BIN)/gan3d simulate --n 2000 --seed 1002 --out $@

weights: setup $(TRAIN_MC) $(VAL_MC)
	$(BIN)/gan3d train --model conv2d --size lite --epochs 16 --batch-size 32 --seed 1 \
	    --lr-generator 1e-3 --lr-discriminator 2e-3 \
	    --data $(TRAIN_MC) --validation $(VAL_MC) --out $(WEIGHTS)

clean:
	rm -rf _build book/generated results .cache
