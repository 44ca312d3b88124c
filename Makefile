# One entry point for the course. `make help` lists the targets.
#   make lab   - set everything up (.venv, package, Jupyter kernel) and open JupyterLab on the course
#   make test  - set everything up the same way and run every test: unit tests + nbval on every
#                notebook, then the browser suite (JupyterLab + headless Chromium; `make test-browser`)
#   make docs  - execute every notebook, build the offline static site in build/docs/, check it (axe-core too)
#   make app   - serve one notebook as a classroom app (Voila: code hidden, explorers live; 127.0.0.1, token)
#   make student - write the student edition (solutions replaced by stubs) to build/student/
#   make bench - run every benchmark against its target, write benchmarks/RESULTS.md (quiet machine!)
# Variables (override on the command line or in the environment):
#   PYTHON           Python 3.11+ used to create .venv            (default: python3.11, else python3)
#   TORCH_INDEX_URL  wheel index for torch/torchvision, e.g. https://download.pytorch.org/whl/cpu
#                    for a small CPU-only install                  (default: pip's configured index)
#   LAB_ARGS         extra arguments for `jupyter lab`, e.g. --no-browser --port=8890
#   NB               one notebook for `make test-notebook` / `make app`, e.g. NB=notebooks/02_output_stride.ipynb
#   APP_ARGS         extra arguments for tools/app.py (`make app`), e.g. --port=8867 --token=...
#   CHROMIUM         the Chromium the browser tests and docs check drive   (default: /usr/bin/chromium)
#   BENCH_ARGS       arguments for `make bench`, e.g. --quick, --only sliders, --list (benchmarks/README.md)

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KERNEL_NAME := visual-course
TORCH_INDEX_URL ?=
LAB_ARGS ?=
APP_ARGS ?=
NB ?= notebooks/00_start_here.ipynb
# nbval: lax mode (only `# NBVAL_CHECK_OUTPUT` cells are compared), this environment's kernel,
# volatile text sanitised, and a per-cell timeout.
NBVAL_OPTS := --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg \
              --nbval-cell-timeout=600 -p no:randomly
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
# Browser tests and the docs check drive Debian's Chromium; Playwright must never fetch its own.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
DOCS_DIR := build/docs
STUDENT_DIR := build/student
BENCH_ARGS ?=
# `make lab` asks nothing off the machine: no news feed (traitlets reads the text None as None;
# JupyterLab then hides the news prompt) and no PyPI check for a newer JupyterLab.
LAB_OFFLINE := --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate

.PHONY: help setup browser-setup lab app test test-unit test-notebooks test-notebook test-browser docs bench \
        student test-student lesson-plan clean-notebooks clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet -c constraints.txt \
	    $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL),) torch torchvision
	$(VPY) -m pip install --quiet -c constraints.txt -e '.[test]'
	$(VPY) -m ipykernel install --sys-prefix --name $(KERNEL_NAME) \
	    --display-name "Python (segmentation geometry course)"
	@touch $@

setup: $(STAMP) ## create .venv, install the package + pinned deps, register the Jupyter kernel

lab: $(STAMP) ## set up, then open JupyterLab on the course (127.0.0.1, token auth, no news/update checks)
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 $(LAB_OFFLINE) $(ALLOW_ROOT) $(LAB_ARGS) \
	    notebooks/00_start_here.ipynb

app: $(STAMP) ## serve NB as a classroom app (Voila, code hidden; 127.0.0.1, token): make app NB=notebooks/02_output_stride.ipynb
	$(VPY) tools/app.py $(NB) $(APP_ARGS)

browser-setup: ## install Debian's chromium for the browser tests if missing (root on Debian/Ubuntu)
	@if [ -x "$(CHROMIUM)" ]; then \
	    echo "browser tests use $(CHROMIUM) ($$("$(CHROMIUM)" --version 2>/dev/null))"; \
	elif [ "$$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
	    echo "WARNING: no Chromium at $(CHROMIUM) and not root on Debian/Ubuntu: the browser tests" \
	         "will be skipped (install chromium, or set CHROMIUM=/path/to/chromium)"; \
	fi

test: $(STAMP) browser-setup ## set up, then run every test: unit tests, nbval on both editions, browser suite
	$(VPY) -m pytest tests notebooks $(NBVAL_OPTS) --ignore=tests/browser
	$(MAKE) --no-print-directory test-student
	$(VPY) -m pytest tests/browser -p no:randomly

test-unit: $(STAMP) ## unit tests only
	$(VPY) -m pytest tests --ignore=tests/browser

test-notebooks: $(STAMP) ## nbval on every notebook only
	$(VPY) -m pytest notebooks $(NBVAL_OPTS)

test-notebook: $(STAMP) ## nbval on one notebook: make test-notebook NB=notebooks/01_....ipynb
	$(VPY) -m pytest $(NB) $(NBVAL_OPTS)

student: $(STAMP) ## write the student edition to build/student/ (solutions -> stubs, outputs cleared)
	$(VPY) tools/student_edition.py --out $(STUDENT_DIR)

test-student: student ## nbval on the student edition: every notebook runs top to bottom (checks say "not yet")
	$(VPY) -m pytest $(STUDENT_DIR)/*.ipynb $(NBVAL_OPTS) --rootdir=.

lesson-plan: $(STAMP) ## time the notebooks' core cells, rewrite the lesson-plan table in docs/teaching.md
	$(VPY) tools/lesson_plan.py --write docs/teaching.md

test-browser: $(STAMP) browser-setup ## browser suite only: sliders in JupyterLab, offline docs (screenshots in test-artifacts/)
	$(VPY) -m pytest tests/browser -p no:randomly

docs: $(STAMP) browser-setup ## execute every notebook, build the offline site in build/docs/, check it (offline, axe-core)
	$(VPY) tools/build_docs.py --out $(DOCS_DIR)

bench: $(STAMP) ## run every benchmark vs its target, write benchmarks/RESULTS.md (BENCH_ARGS=--quick: fast check)
	$(VPY) -m benchmarks $(BENCH_ARGS)

clean-notebooks: $(STAMP) ## clear notebook outputs except `# NBVAL_CHECK_OUTPUT` cells
	$(VPY) tools/notebook_outputs.py clear notebooks/*.ipynb

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .hypothesis build test-artifacts
