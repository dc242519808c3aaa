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

.PHONY: setup book test lab bench-mc weights weights-stage1 weights-stage2 weights-stage3 weights-stage4 weights-stage5 weights-stage6 weights-stage7 weights-stage8 weights-stage9 weights-stage10 weights-stage11 weights-stage12 weights-stage13 weights-stage14 weights-recipe1 weights-recipe2 weights-paper ablation clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "gan3d needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test,quant]"
	$(LAB_VIEWER)
	touch $@

book: setup
	$(BIN)/gan3d book --preset $(PRESET) $(if $(FORCE),--force) $(if $(ONEDNN_ISA),--onednn-max-cpu-isa $(ONEDNN_ISA))

# Two workers, one file each at a time (the book's file, tests/book/test_book.py, is most of one worker's time).
# xdist's default order (files with more tests first) measured faster here than the book first: 1746 s
# against 1973 s on this AVX2 EPYC, the book alone 1202 s against 1711 s when it shares the CPU throughout.
test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=20

# JupyterLab in the same venv: notebooks/*.py open as notebooks (jupytext); what you save goes
# back to the .py file, and executed .ipynb copies are git-ignored. A double-click opens a .py
# file in jupytext's notebook view because the venv's own settings overrides say so: JupyterLab
# reads <venv>/etc/jupyter/labconfig/default_setting_overrides.json whatever the user settings
# in JUPYTER_CONFIG_DIR (tests/test_lab.py checks the settings the server hands out).
LAB_VIEWER = $(BIN)/jupytext-config --settings-file $(VENV)/etc/jupyter/labconfig/default_setting_overrides.json \
	    set-default-viewer python

lab: setup
	$(LAB_VIEWER)
	$(BIN)/jupyter-lab --ServerApp.root_dir=$(CURDIR) --allow-root notebooks

bench-mc: setup
	$(BIN)/gan3d bench-mc --n 4096 --workers 1 2

# The shipped lite Conv2D generator (data/weights/conv2d_lite_stage14) in fourteen stages, about
# 4.9 hours on 2 cores (see the histories): `make weights-stage14` re-creates all fourteen from scratch
# in data/weights_rebuilt, leaving the committed ones alone (WEIGHTS_ROOT=... for elsewhere).
# Each stage's settings are its recipe, recipes/<run>.toml (tests/training/test_train_config_recipes.py: each
# equals the committed run's config.json); a command adds only where it starts and what it reads.
# Stages 1-3 trained on the Monte Carlo before its fit to Geant4 (`gan3d simulate --tuning
# start`), stages 4-12 on its first fit (`--tuning first-fit`: GFlash's energy dependence of the
# depth spread), stages 13 and 14 on the current fit (data/mc_tuning.json).
# Stage 1: 16 epochs on 20 000 showers uniform in 2-500 GeV; batch 32 and learning rates
#   1e-3 (G) / 2e-3 (D) instead of the study's 128 and 5e-4 / 1e-4 (four times more updates
#   per CPU hour).
# Stage 2: 10 epochs of 10 000 showers log-uniform in E (2-20 GeV showers as frequent as
#   50-500 GeV ones), a fresh discriminator, decaying learning rates, the per-energy-bin score.
# Stage 3: the generator as deployed (BatchNorm moving statistics, no
#   dropout) against stage 2's discriminator, with the E_cal term weighted 0.5 and our depth
#   and per-energy-bin longitudinal-shape terms; epochs of 5 000 showers.
# Stage 4: stage 3 fine-tuned on the fitted Monte Carlo against a fresh
#   discriminator that sees E_cell^0.5 (the 0.1-3 MeV cells), with per-energy-bin hits, x/y shape,
#   and width and first-layer terms.
# Stage 5: a small-cell head (a second output in ln E_cell/MeV added to the ReLU's cells); 6 epochs.
# Stage 6: latents of fixed length (--latent-norm sphere), an energy-resolution term and a
#   doubled hits weight; 4 epochs.
# Stage 7: a cell-spectrum term (cells above 0.3, 1, 3, 10 MeV per bin) and a log x/y shape
#   term (halo and edge rows); 8 epochs.
# Stage 8: a log longitudinal-shape term (every layer alike) at half the learning rates; 6 epochs.
# Stage 9: that term weighted 30, the %^2 one 4, at a quarter of stage 7's learning rates, against
#   stage 8's last discriminator; 4 epochs.
# Stage 10: a term for the energy and hits of each ring of cells around the beam axis, weighted
#   30, against stage 9's last discriminator; 3 epochs, the last one kept (--select-epoch last:
#   epoch 2, the best validation score, has its 400 GeV shower maximum two layers from the Monte
#   Carlo's, outside tests/training/test_shipped_weights.py).
# Stage 11: stage 10 with an energy-scale head (each shower's cells times one factor learned from
#   its own E_cal / E_p), only the head trained (--train-only-heads), with stage 10's losses against
#   its last discriminator; 3 epochs, the last one kept.
# Stage 12: every weight trained again, the rings term with each of the 18
#   rings of cells on its own (--ring-count 18: the grid's corners), the hits term weighted 60 and
#   the width term 30, against stage 11's last discriminator; 2 epochs, the last one kept.
# Stage 13: stage 12 with only its energy-scale head trained (as in stage
#   11), stage 12's losses with the energy-resolution term weighted 100 (10), on the Monte Carlo
#   whose depth spread was refitted (chapter 1), against stage 12's last discriminator; 2 epochs,
#   the last one kept.
# Stage 14 (the shipped generator): stage 13 with a depth-fluctuation head (each shower shifted and
#   stretched in depth by amounts drawn from its latent), only the head's four weights trained, at
#   learning rate 1e-2, with stage 13's losses but the per-shower depth term off (--weight-depth 0)
#   and a depth-spread term on (--weight-depth-spread 10), against stage 13's last discriminator;
#   2 epochs, the last one kept.
WEIGHTS_ROOT ?= data/weights_rebuilt
# flags appended to every stage's command, e.g. TRAIN_FLAGS='--size 0.125 --epochs 1 --max-steps-per-epoch 2'
# (tests/training/test_train_config_recipes.py runs stage 1 so)
TRAIN_FLAGS ?=
STAGE1 := $(WEIGHTS_ROOT)/conv2d_lite
STAGE2 := $(WEIGHTS_ROOT)/conv2d_lite_finetune
STAGE3 := $(WEIGHTS_ROOT)/conv2d_lite_stage3
STAGE4 := $(WEIGHTS_ROOT)/conv2d_lite_stage4
STAGE5 := $(WEIGHTS_ROOT)/conv2d_lite_stage5
STAGE6 := $(WEIGHTS_ROOT)/conv2d_lite_stage6
STAGE7 := $(WEIGHTS_ROOT)/conv2d_lite_stage7
STAGE8 := $(WEIGHTS_ROOT)/conv2d_lite_stage8
STAGE9 := $(WEIGHTS_ROOT)/conv2d_lite_stage9
STAGE10 := $(WEIGHTS_ROOT)/conv2d_lite_stage10
STAGE11 := $(WEIGHTS_ROOT)/conv2d_lite_stage11
STAGE12 := $(WEIGHTS_ROOT)/conv2d_lite_stage12
STAGE13 := $(WEIGHTS_ROOT)/conv2d_lite_stage13
WEIGHTS := $(WEIGHTS_ROOT)/conv2d_lite_stage14
TRAIN_MC := data/mc/train_20k_seed1001_start.h5
VAL_MC := data/mc/val_2k_seed1002_start.h5
TRAIN_LOGE_MC := data/mc/train_20k_logE_seed1001_start.h5
VAL_LOGE_MC := data/mc/val_2k_logE_seed1002_start.h5
TRAIN_FIRST_FIT_MC := data/mc/train_20k_logE_seed1001_first_fit.h5
VAL_FIRST_FIT_MC := data/mc/val_2k_logE_seed1002_first_fit.h5
TRAIN_FITTED_MC := data/mc/train_20k_logE_seed1001.h5
VAL_FITTED_MC := data/mc/val_2k_logE_seed1002.h5

$(TRAIN_MC): | setup
	$(BIN)/gan3d simulate --n 20000 --seed 1001 --tuning start --out $@

$(VAL_MC): | setup
	$(BIN)/gan3d simulate --n 2000 --seed 1002 --tuning start --out $@

$(TRAIN_LOGE_MC): | setup
	$(BIN)/gan3d simulate --n 20000 --seed 1001 --spectrum log-uniform --tuning start --out $@

$(VAL_LOGE_MC): | setup
	$(BIN)/gan3d simulate --n 2000 --seed 1002 --spectrum log-uniform --tuning start --out $@

$(TRAIN_FIRST_FIT_MC): | setup
	$(BIN)/gan3d simulate --n 20000 --seed 1001 --spectrum log-uniform --tuning first-fit --out $@

$(VAL_FIRST_FIT_MC): | setup
	$(BIN)/gan3d simulate --n 2000 --seed 1002 --spectrum log-uniform --tuning first-fit --out $@

$(TRAIN_FITTED_MC): data/mc_tuning.json | setup
	$(BIN)/gan3d simulate --n 20000 --seed 1001 --spectrum log-uniform --out $@

$(VAL_FITTED_MC): data/mc_tuning.json | setup
	$(BIN)/gan3d simulate --n 2000 --seed 1002 --spectrum log-uniform --out $@

weights-stage1: setup $(TRAIN_MC) $(VAL_MC)
	$(BIN)/gan3d train --config recipes/conv2d_lite.toml \
	    --data $(TRAIN_MC) --validation $(VAL_MC) --out $(STAGE1) $(TRAIN_FLAGS)

weights-stage2: weights-stage1 $(TRAIN_LOGE_MC) $(VAL_LOGE_MC)
	$(BIN)/gan3d train --config recipes/conv2d_lite_finetune.toml --init-generator $(STAGE1) --data $(TRAIN_LOGE_MC) --validation $(VAL_LOGE_MC) \
	    --out $(STAGE2) $(TRAIN_FLAGS)

weights-stage3: weights-stage2
	$(BIN)/gan3d train --config recipes/conv2d_lite_stage3.toml --init-generator $(STAGE2) \
	    --init-discriminator $(STAGE2)/checkpoints/epoch_0010 \
	    --data $(TRAIN_LOGE_MC) --validation $(VAL_LOGE_MC) --out $(STAGE3) $(TRAIN_FLAGS)

FIRST_FIT_DATA := --data $(TRAIN_FIRST_FIT_MC) --validation $(VAL_FIRST_FIT_MC)

weights-stage4: weights-stage3 $(TRAIN_FIRST_FIT_MC) $(VAL_FIRST_FIT_MC)
	$(BIN)/gan3d train --config recipes/conv2d_lite_stage4.toml --init-generator $(STAGE3) $(FIRST_FIT_DATA) \
	    --out $(STAGE4) $(TRAIN_FLAGS)

weights-stage5: weights-stage4
	$(BIN)/gan3d train --config recipes/conv2d_lite_stage5.toml --init-generator $(STAGE4) \
	    --init-discriminator $(STAGE4)/checkpoints/epoch_0012 \
	    $(FIRST_FIT_DATA) --out $(STAGE5) $(TRAIN_FLAGS)

weights-stage6: weights-stage5
	$(BIN)/gan3d train --config recipes/conv2d_lite_stage6.toml --init-generator $(STAGE5) \
	    --init-discriminator $(STAGE5)/checkpoints/epoch_0006 \
	    $(FIRST_FIT_DATA) --out $(STAGE6) $(TRAIN_FLAGS)

weights-stage7: weights-stage6
	$(BIN)/gan3d train --config recipes/conv2d_lite_stage7.toml --init-generator $(STAGE6) \
	    --init-discriminator $(STAGE6)/checkpoints/epoch_0004 \
	    $(FIRST_FIT_DATA) --out $(STAGE7) $(TRAIN_FLAGS)

weights-stage8: weights-stage7
	$(BIN)/gan3d train --config recipes/conv2d_lite_stage8.toml --init-generator $(STAGE7) \
	    --init-discriminator $(STAGE6)/checkpoints/epoch_0004 \
	    $(FIRST_FIT_DATA) --out $(STAGE8) $(TRAIN_FLAGS)

weights-stage9: weights-stage8
	$(BIN)/gan3d train --config recipes/conv2d_lite_stage9.toml --init-generator $(STAGE8) \
	    --init-discriminator $(STAGE8)/checkpoints/epoch_0006 \
	    $(FIRST_FIT_DATA) --out $(STAGE9) $(TRAIN_FLAGS)

weights-stage10: weights-stage9
	$(BIN)/gan3d train --config recipes/conv2d_lite_stage10.toml --init-generator $(STAGE9) \
	    --init-discriminator $(STAGE9)/checkpoints/epoch_0004 \
	    $(FIRST_FIT_DATA) --out $(STAGE10) $(TRAIN_FLAGS)

weights-stage11: weights-stage10
	$(BIN)/gan3d train --config recipes/conv2d_lite_stage11.toml --init-generator $(STAGE10) \
	    --init-discriminator $(STAGE10)/checkpoints/epoch_0003 \
	    $(FIRST_FIT_DATA) --out $(STAGE11) $(TRAIN_FLAGS)

weights-stage12: weights-stage11
	$(BIN)/gan3d train --config recipes/conv2d_lite_stage12.toml --init-generator $(STAGE11) \
	    --init-discriminator $(STAGE11)/checkpoints/epoch_0003 \
	    $(FIRST_FIT_DATA) --out $(STAGE12) $(TRAIN_FLAGS)

weights-stage13: weights-stage12 $(TRAIN_FITTED_MC) $(VAL_FITTED_MC)
	$(BIN)/gan3d train --config recipes/conv2d_lite_stage13.toml --init-generator $(STAGE12) \
	    --init-discriminator $(STAGE12)/checkpoints/epoch_0002 \
	    --data $(TRAIN_FITTED_MC) --validation $(VAL_FITTED_MC) --out $(STAGE13) $(TRAIN_FLAGS)

weights-stage14: weights-stage13
	$(BIN)/gan3d train --config recipes/conv2d_lite_stage14.toml --init-generator $(STAGE13) \
	    --init-discriminator $(STAGE13)/checkpoints/epoch_0002 \
	    --data $(TRAIN_FITTED_MC) --validation $(VAL_FITTED_MC) --out $(WEIGHTS) $(TRAIN_FLAGS)

# The lite recipe from scratch, three stages on the fitted Monte Carlo (recipes/conv2d_lite_recipe*.toml):
# the study's game with the small-cell and energy-scale heads, then as deployed with the longitudinal,
# transverse and rings terms, then the depth-fluctuation head alone; the components are those the
# leave-one-out ablation (make ablation) kept. Resumable: a stage interrupted continues from its last epoch.
RECIPE1 := $(WEIGHTS_ROOT)/conv2d_lite_recipe1
RECIPE2 := $(WEIGHTS_ROOT)/conv2d_lite_recipe2
RECIPE3 := $(WEIGHTS_ROOT)/conv2d_lite_recipe3
FITTED_DATA := --data $(TRAIN_FITTED_MC) --validation $(VAL_FITTED_MC)

weights-recipe1: setup $(TRAIN_FITTED_MC) $(VAL_FITTED_MC)
	$(BIN)/gan3d train --config recipes/conv2d_lite_recipe1.toml $(FITTED_DATA) --out $(RECIPE1) $(TRAIN_FLAGS)

weights-recipe2: weights-recipe1
	$(BIN)/gan3d train --config recipes/conv2d_lite_recipe2.toml --init-generator $(RECIPE1) \
	    --init-discriminator $(RECIPE1)/checkpoints/epoch_0006 $(FITTED_DATA) --out $(RECIPE2) $(TRAIN_FLAGS)

weights: weights-recipe2
	$(BIN)/gan3d train --config recipes/conv2d_lite_recipe3.toml --init-generator $(RECIPE2) \
	    --init-discriminator $(RECIPE2)/checkpoints/epoch_0008 $(FITTED_DATA) --out $(RECIPE3) $(TRAIN_FLAGS)

# The paper-size Conv2D generator (the study's 2 055 324 parameters, plus the heads): the shipped lite
# stage widened four times by Net2Net (models.widen_weights: the same showers up to float rounding),
# then every weight trained with the shipped stage's losses against its widened last discriminator;
# 2 epochs of 400 steps at batch 32 (about 1.2 h on 2 cores). Re-creates data/weights/conv2d_paper in
# $(WEIGHTS_ROOT), from the committed lite stage (not from `make weights`).
PAPER := $(WEIGHTS_ROOT)/conv2d_paper
weights-paper: $(TRAIN_FITTED_MC) $(VAL_FITTED_MC)
	$(BIN)/gan3d train --config recipes/conv2d_paper.toml \
	    --data $(TRAIN_FITTED_MC) --validation $(VAL_FITTED_MC) --out $(PAPER) $(TRAIN_FLAGS)

# Leave-one-out ablation of the shipped recipe (recipes/ablation/leave_one_out.toml): 21 arms of 300 steps
# from the shipped lite stage, each judged by goals, FPD and classifier AUCs; an arm already judged is kept. The records in
# data/ablation (chapter 2's ablation table) were made so, about 3 min per arm on 2 cores.
ABLATION_ROOT ?= data/ablation
ablation: $(TRAIN_FITTED_MC) $(VAL_FITTED_MC) | setup
	$(BIN)/gan3d ablate --plan recipes/ablation/leave_one_out.toml --data $(TRAIN_FITTED_MC) --validation $(VAL_FITTED_MC) \
	    --out $(ABLATION_ROOT)

clean:
	rm -rf _build book/generated results .cache
