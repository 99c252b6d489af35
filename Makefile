# The course's commands. Each sets up what it needs first (a virtual environment in .venv
# with the exact versions of requirements.lock, and emlib installed editable), so on a fresh
# clone `make test` or `make book` is all there is to type.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the lock file is made for this Python (CI's); `make lock` refreshes it
LOCK_PYTHON := 3.11
# the exact version the lock is resolved for (some pinned packages need 3.11.5 or newer)
LOCK_PYTHON_VERSION := 3.11.7
UV_VERSION := $(shell sed -n 's/^uv==\([0-9][0-9.]*\).*/\1/p' requirements.lock)

# what the instructors' commands build: all chapters and exercises unless chosen, e.g.
#   make student CHAPTERS="03 05" EXERCISES="ch3-ex1 ch5-ex2"    make student ASSIGNMENT=ps2
CHAPTERS ?=
EXERCISES ?=
ASSIGNMENT ?=
COURSE ?=
STUDENT_OUT ?= student
CHOICE = $(if $(CHAPTERS),--chapters $(CHAPTERS)) $(if $(EXERCISES),--exercises $(EXERCISES)) $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))
# the set-up every command needs first (the tests run the commands in their own environment with SETUP=)
SETUP ?= $(STAMP)

.PHONY: setup check-python test test-fast book lab student course answer-key pdf bench lock outputs references clean

setup: $(STAMP)

# One line that says what to install, instead of a stack trace, on a machine we cannot serve.
check-python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || { \
	  echo "error: this course needs Python 3.10 or newer (3.11 is what CI uses) as '$(PYTHON)': install it (Debian: apt-get install python3 python3-venv) or run make PYTHON=/path/to/python3.11 ..." >&2; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  echo "error: '$(PYTHON)' cannot create virtual environments: install its venv module (Debian: apt-get install python3-venv)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != tuple(map(int, "$(LOCK_PYTHON)".split("."))))' || \
	  echo "note: requirements.lock was made for Python $(LOCK_PYTHON); with $$($(PYTHON) -V) a pinned version may not install (use Python $(LOCK_PYTHON), or refresh the lock: make lock)" >&2

# --compile-bytecode: the packages' .pyc files are written once, here, as pip does by default; without
# them a machine with PYTHONDONTWRITEBYTECODE set compiles every import in every kernel, build and
# server the tests start (about 1.7 s more for each).
$(STAMP): requirements.lock pyproject.toml | check-python
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python --require-hashes requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

## make test: set up, then run every test: emlib's tests, every notebook under nbval (twice:
## also on another floating-point path), the student version, the book build, the browser check.
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

## make student: the handout (student/notebooks: the chosen chapters and exercises, without
## solutions, gradable by nbgrader) and the website without solutions (student/site/_build/html).
## STUDENT_SITE=no skips the website.
student: $(SETUP)
	$(BIN)/python scripts/exercises.py student --out $(STUDENT_OUT) $(CHOICE) $(if $(filter no,$(STUDENT_SITE)),--no-build)

## make course COURSE=path/to/course ASSIGNMENT=ps2: an nbgrader course's source/ps2 (and its
## nbgrader_config.py); then `nbgrader generate_assignment ps2` there.
course: $(SETUP)
	@test -n "$(COURSE)" -a -n "$(ASSIGNMENT)" || { echo "usage: make course COURSE=path/to/course ASSIGNMENT=name [CHAPTERS=...] [EXERCISES=...]" >&2; exit 1; }
	$(BIN)/python scripts/exercises.py course $(COURSE) $(CHOICE)

## make answer-key: the exercises with solutions, points and rubrics: answer-key/answer-key.pdf
## and answer-key/book/_build/singlehtml/answer-key.html (CHAPTERS= to choose).
answer-key: $(SETUP)
	$(BIN)/python scripts/exercises.py answer-key --out answer-key $(if $(CHAPTERS),--chapters $(CHAPTERS))

## make pdf: the whole book (without solutions) as _build/pdf/em-explained.pdf, offline
## (Debian's chromium prints the one-page HTML build).
pdf: $(SETUP)
	$(BIN)/python scripts/exercises.py pdf --out _build/pdf/em-explained.pdf

## make bench: emlib against scikit-learn on the same EM work (not part of the tests).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_gmm.py

## make outputs: restart-and-run-all every chapter in place, so the stored outputs are fresh.
outputs: $(STAMP)
	$(BIN)/python scripts/run_notebooks.py

## make references: rewrite the chapters' cross-references as links whose text is the number the
## website gives their target ([(2.10)](#eq-loglik)), so they read the same in JupyterLab; and
## the preface's reading plan (each chapter's reading and exercise times) from the chapters.
references: book
	$(BIN)/python scripts/references.py
	$(BIN)/python scripts/reading_plan.py

## make lock: re-resolve requirements.txt to the newest allowed versions, with hashes, into
## requirements.lock. A deliberate act: run `make test` afterwards and commit both files.
lock: $(STAMP)
	$(BIN)/uv pip compile requirements.txt --upgrade --generate-hashes --quiet \
	  --python-version $(LOCK_PYTHON_VERSION) --python-platform x86_64-manylinux_2_28 \
	  --custom-compile-command "make lock" -o requirements.lock

clean:
	rm -rf _build .pytest_cache student answer-key
