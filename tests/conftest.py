"""Shared fixtures for emlib's tests: small, seeded synthetic mixtures."""
import numpy as np
import pytest

import emlib
from synthetic import mixture_data


@pytest.fixture
def data_1d():
    """200 points from two well-separated 1-D Gaussians, and a reasonable initial guess."""
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.normal(-2.0, 1.0, 120), rng.normal(3.0, 0.7, 80)])
    params0 = emlib.GaussianMixtureParams([0.5, 0.5], [-1.0, 1.0], [2.0, 2.0])
    return x, params0


@pytest.fixture
def data_2d():
    """150 points from three 2-D Gaussians, and a reasonable initial guess."""
    rng = np.random.default_rng(12)
    x, _, _ = mixture_data(rng, 150, 3, 2, separation=4.0)
    chosen = rng.choice(len(x), size=3, replace=False)
    params0 = emlib.GaussianMixtureParams(np.full(3, 1 / 3), x[chosen], np.array([np.cov(x.T)] * 3))
    return x, params0


ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built_book():
    """The book built from scratch into _build/ as `make book` does (-W -n --keep-going, --all).

    Built once per test run: with pytest-xdist every worker is a session of its own, so the
    first to take the lock builds and records the result; the others wait for it and reuse it.

    Returns (the build's exit code, its log, the folder of the HTML site)."""
    import fcntl
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"pid-{os.getpid()}")
    build = ROOT / "_build"
    build.mkdir(exist_ok=True)
    record = build / ".built-by-test-run.json"
    with open(build / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = json.loads(record.read_text()) if record.exists() else {}
        if done.get("run") != run_id:
            jupyter_book = Path(sys.executable).parent / "jupyter-book"
            run = subprocess.run([str(jupyter_book), "build", str(ROOT), "--all", "-W", "-n", "--keep-going"],
                                 capture_output=True, text=True, cwd=ROOT)
            done = {"run": run_id, "returncode": run.returncode, "log": run.stdout + run.stderr}
            record.write_text(json.dumps(done))
    return done["returncode"], done["log"], build / "html"


# The longest test modules first (measured with --durations on the 2-core CI machine, longest
# first): the two workers take modules in collection order, so the long ones start at once
# instead of trailing alone at the end. Within a module (and a notebook) the order is kept.
LONGEST_FIRST = ["test_website_desktop.py", "test_grading_cycle.py", "test_student_environment.py",
                 "test_website_phone.py", "test_float_path.py", "test_jupyterlab.py", "test_pdf.py",
                 "test_website_browser.py", "test_scale.py", "test_playground.py"]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    rank = {name: number for number, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


WHOLE_CELL_HIDDEN = {"remove-cell", "hide-cell"}  # Jupyter Book tags that hide code and output
INPUT_HIDDEN = WHOLE_CELL_HIDDEN | {"remove-input", "hide-input"}  # ... that hide the code


def collapsed_in_jupyterlab(tags):
    """The `jupyter` metadata keys a code cell with these Jupyter Book tags needs so that
    JupyterLab collapses what the website hides: `source_hidden`, and `outputs_hidden` too when
    the whole cell is hidden."""
    tags = set(tags)
    if tags & WHOLE_CELL_HIDDEN:
        return ["source_hidden", "outputs_hidden"]
    return ["source_hidden"] if tags & INPUT_HIDDEN else []
