"""The stored outputs hold on another floating-point path, not only on the machine that made them.

CPUs differ in the SIMD code NumPy dispatches to (AVX-512, AVX2, SSE...) and BLAS in how it
splits its sums between threads, so the last bits of a computation differ from one correct
machine to another. A stored output that depends on those bits (the iteration count of a
``tol=0`` run, a variance of 1e-85, the tie-break between two equal values) passes on the
machine that made it and fails everywhere else.

This test re-executes every chapter under nbval a second time with NumPy's dispatched SIMD
features that this CPU has switched off (``NPY_DISABLE_CPU_FEATURES``, read from NumPy at
run time, so it works on any CPU) and one BLAS thread: every stored output must still match.
"""
import os
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow


def enabled_dispatch_features():
    """The CPU features NumPy dispatches to on this machine, beyond its compiled-in baseline."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return [feature for feature in __cpu_dispatch__ if __cpu_features__.get(feature)]


def other_path_environment():
    """The environment of the second run: the widest SIMD paths off, one BLAS thread."""
    env = dict(os.environ)
    env["NPY_DISABLE_CPU_FEATURES"] = " ".join(enabled_dispatch_features())
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = "1"
    return env


def features_seen_by(env):
    """The dispatch features NumPy reports as enabled in a fresh interpreter with ``env``."""
    code = ("import sys; sys.path.insert(0, 'tests'); import test_float_path as t; "
            "print(' '.join(t.enabled_dispatch_features()))")
    run = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return run.stdout.split()


def test_the_second_path_really_switches_the_simd_features_off():
    env = other_path_environment()
    assert features_seen_by(env) == [], "NPY_DISABLE_CPU_FEATURES did not switch NumPy's SIMD paths off"


def test_every_stored_output_holds_on_another_floating_point_path():
    env = other_path_environment()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-o", "addopts=", "-p", "no:cacheprovider", "-q",
         "--nbval", "--nbval-current-env", "--nbval-cell-timeout=600", "chapters"],
        env=env, cwd=ROOT, capture_output=True, text=True)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else "(no output)"
    assert run.returncode == 0 and " passed" in summary, (
        f"with NPY_DISABLE_CPU_FEATURES={env['NPY_DISABLE_CPU_FEATURES']!r} and one BLAS thread, "
        f"the chapters' stored outputs do not all hold ({summary}); a stored output depends on "
        f"the last bits of rounding. Print what the text needs instead.\n{run.stdout[-8000:]}")
