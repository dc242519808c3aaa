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

.PHONY: setup book test bench-mc weights weights-finetune clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "gan3d needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test,quant]"
	touch $@

book: setup
	$(BIN)/gan3d book --preset $(PRESET)

test: setup
	$(BIN)/python -m pytest

bench-mc: setup
	$(BIN)/gan3d bench-mc --n 4096 --workers 1 2

# Re-create the shipped lite Conv2D generator from scratch (about an hour on 2 AVX-512 cores,
# three on 2 AVX2 cores). Batch 32 and learning rates 1e-3 (G) / 2e-3 (D) instead of the
# study's 128 and 5e-4 / 1e-4: about four times more updates per CPU hour.
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

# Work in progress (not shipped): fine-tune the shipped generator, against a fresh
# discriminator, on showers log-uniform in E, so that 2-20 GeV showers are as frequent as
# 50-500 GeV ones, with decaying learning rates and the per-energy-bin selection score.
# data/weights/conv2d_lite_finetune holds its last checkpoint: a larger --epochs resumes it.
FINETUNE := data/weights/conv2d_lite_finetune
TRAIN_LOGE_MC := data/mc/train_20k_logE_seed1001.h5
VAL_LOGE_MC := data/mc/val_2k_logE_seed1002.h5
FINETUNE_EPOCHS ?= 10

$(TRAIN_LOGE_MC): | setup
	$(BIN)/gan3d simulate --n 20000 --seed 1001 --spectrum log-uniform --out $@

$(VAL_LOGE_MC): | setup
	$(BIN)/gan3d simulate --n 2000 --seed 1002 --spectrum log-uniform --out $@

weights-finetune: setup $(TRAIN_LOGE_MC) $(VAL_LOGE_MC)
	$(BIN)/gan3d train --model conv2d --size lite --epochs $(FINETUNE_EPOCHS) --batch-size 32 \
	    --max-steps-per-epoch 312 --seed 2 --lr-generator 5e-4 --lr-discriminator 1e-3 \
	    --lr-decay 0.15 --lr-decay-start-epoch 4 --n-validation 1000 --init-generator $(WEIGHTS) \
	    --data $(TRAIN_LOGE_MC) --validation $(VAL_LOGE_MC) --out $(FINETUNE)

clean:
	rm -rf _build book/generated results .cache
