# The course's commands. Each sets up what it needs first (a virtual environment in
# .venv with everything from requirements.txt), so on a fresh clone `make test` or
# `make book` is all there is to type.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test test-fast book lab student bench clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

## make test: set up, then run every test: emlib's tests, every notebook under nbval, the book build.
test: $(STAMP)
	$(BIN)/python -m pytest

## make test-fast: emlib's tests only (no notebooks, no book).
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not slow"

## make book: set up, then build the website into _build/html (warnings are errors).
book: $(STAMP)
	$(BIN)/jupyter-book build . --all -W -n --keep-going

## make lab: set up, then open the chapters in JupyterLab.
lab: $(STAMP)
	cd chapters && ../$(BIN)/jupyter lab

## make student: the student version: notebooks without solutions (student/notebooks) and
## a website without solutions (student/site/_build/html).
student: $(STAMP)
	$(BIN)/python scripts/exercises.py student --out student

## make bench: emlib against scikit-learn on the same EM work (not part of the tests).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_gmm.py

clean:
	rm -rf _build .pytest_cache student
