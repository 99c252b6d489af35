"""Benchmark: emlib's Gaussian-mixture EM against scikit-learn's, on the same work.

For each case, both libraries start from the same initial parameters and run the same
number of EM iterations on the same data, in this one process, with no regularisation
(reg_covar=0: emlib floors variances where scikit-learn adds reg_covar to them, so with
reg_covar > 0 they would solve slightly different problems). The script checks that
they end at the same parameters (1e-8 relative), then prints the median time per
iteration over several repetitions, the ratio, the peak memory of one fit (tracemalloc,
which sees NumPy's allocations), and, as a floor, the time of one np.exp over n x K
values (the E-step's unavoidable work).

Run from the repository's root:  make bench   (or .venv/bin/python benchmarks/bench_gmm.py)
"""
import argparse
import os
import platform
import statistics
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

import emlib

CASES = [  # (d, where 0 means 1-D data of shape (n,); n; K)
    (0, 1_000_000, 2),
    (0, 100_000, 5),
    (2, 200_000, 3),
    (10, 100_000, 5),
]


def case_name(d, n, k):
    return f"{'1-D' if d == 0 else f'{d}-D full'}, n={n:,}, K={k}"


def make_case(d, n, k, rng):
    """Data from a random mixture, and a rough initial guess (weights equal, means drawn
    from the data, covariances the data's), the same for both libraries."""
    dim = max(d, 1)
    true_means = rng.normal(scale=4.0, size=(k, dim))
    labels = rng.integers(k, size=n)
    x = true_means[labels] + rng.normal(size=(n, dim)) * rng.uniform(0.5, 1.5, size=(k, dim))[labels]
    start_means = x[rng.choice(n, size=k, replace=False)]
    if d == 0:
        x = x[:, 0]
        params0 = emlib.GaussianMixtureParams(np.full(k, 1 / k), start_means[:, 0], np.full(k, x.var()))
    else:
        covariance = np.cov(x, rowvar=False)
        params0 = emlib.GaussianMixtureParams(np.full(k, 1 / k), start_means, np.repeat(covariance[None], k, axis=0))
    return x, params0


def run_emlib(x, params0, n_iter):
    result = emlib.fit_gmm(x, params0.n_components, init=params0, tol=0.0, max_iter=n_iter, reg_covar=0.0)
    return result.params, result.n_iter


def run_sklearn(x, params0, n_iter):
    x2 = x[:, None] if x.ndim == 1 else x
    d = x2.shape[1]
    covariances = params0.covariances.reshape(-1, d, d)
    model = GaussianMixture(
        n_components=params0.n_components, covariance_type="full", tol=0.0, max_iter=n_iter,
        reg_covar=0.0, weights_init=params0.weights, means_init=params0.means.reshape(-1, d),
        precisions_init=np.linalg.inv(covariances), init_params="random_from_data", random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x2)
    return model, model.n_iter_


def same_parameters(params, model, rtol):
    d = model.means_.shape[1]
    pairs = [(params.weights, model.weights_), (params.means.reshape(-1, d), model.means_),
             (params.covariances.reshape(-1, d, d), model.covariances_)]
    return all(np.allclose(a, b, rtol=rtol, atol=0) for a, b in pairs)


def time_per_iteration(run, x, params0, n_iter, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _, iterations = run(x, params0, n_iter)
        times.append((time.perf_counter() - start) / iterations)
    return statistics.median(times)


def peak_memory(run, x, params0, n_iter):
    tracemalloc.start()
    run(x, params0, n_iter)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def exp_floor(n, k, repeats, rng):
    values = -rng.random((n, k))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.exp(values)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="repetitions per measurement (median)")
    parser.add_argument("--iterations", type=int, default=10, help="EM iterations per fit")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink n for a quick run, e.g. 0.05")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, scikit-learn {__import__('sklearn').__version__}")
    print(f"{args.iterations} EM iterations per fit, median of {args.repeats} repetitions\n")
    header = (f"{'case':<27} {'emlib ms/it':>11} {'sklearn ms/it':>13} {'speed-up':>8} "
              f"{'emlib MB':>9} {'sklearn MB':>10} {'exp(n*K) ms':>11}  same params")
    print(header)
    print("-" * len(header))
    for d, n, k in CASES:
        n = max(int(n * args.scale), 10 * k)
        name = case_name(d, n, k)
        x, params0 = make_case(d, n, k, rng)
        params, _ = run_emlib(x, params0, args.iterations)
        model, _ = run_sklearn(x, params0, args.iterations)
        agree = same_parameters(params, model, rtol=1e-8)
        emlib_time = time_per_iteration(run_emlib, x, params0, args.iterations, args.repeats)
        sklearn_time = time_per_iteration(run_sklearn, x, params0, args.iterations, args.repeats)
        emlib_memory = peak_memory(run_emlib, x, params0, args.iterations)
        sklearn_memory = peak_memory(run_sklearn, x, params0, args.iterations)
        floor = exp_floor(n, k, args.repeats, rng)
        print(f"{name:<27} {1e3 * emlib_time:>11.2f} {1e3 * sklearn_time:>13.2f} "
              f"{sklearn_time / emlib_time:>7.2f}x {emlib_memory / 2**20:>9.1f} {sklearn_memory / 2**20:>10.1f} "
              f"{1e3 * floor:>11.2f}  {'yes' if agree else 'NO'}")
        if not agree:
            raise SystemExit(f"{name}: emlib and scikit-learn disagree beyond 1e-8 relative")


if __name__ == "__main__":
    main()
