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

    Returns (the build's exit code, its log, the folder of the HTML site)."""
    import subprocess
    import sys
    from pathlib import Path

    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    run = subprocess.run([str(jupyter_book), "build", str(ROOT), "--all", "-W", "-n", "--keep-going"],
                         capture_output=True, text=True, cwd=ROOT)
    return run.returncode, run.stdout + run.stderr, ROOT / "_build" / "html"
