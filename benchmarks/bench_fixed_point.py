"""Benchmark: time to EM's fixed point, emlib plain vs emlib SQUAREM vs scikit-learn (issue 14).

Not the time per iteration (see bench_gmm.py) but the time to get there: every fit starts
from the same parameters and stops by the same parameter rule, ``param_tol`` (the largest
change of the unit-free parameter vector of emlib.gmm.parametrisation in one EM step,
relative to its size). SQUAREM (Varadhan & Roland 2008) checks the same rule on the first
EM step of each cycle, so both emlib fits stop where EM's own step is that small.

scikit-learn has no parameter rule: its ``tol`` watches the lower bound per sample, which
is flat near chapter 4's saddle, so it would stop at the start. To make it reach the same
fixed point it runs with tol=0 and max_iter = the number of iterations plain emlib needed
(the same EM iterations, so the same point: checked below, 1e-6 relative on the means and
covariances), warm-started from the same parameters (weights_init, means_init,
precisions_init). All fits use reg_covar=0: emlib floors variances where scikit-learn adds
reg_covar to them, so with reg_covar > 0 they would solve slightly different problems.

The slow set is where EM is slow: chapter 4's nudged symmetric start on Edmond's register,
two heavily overlapping 1-D components (n = 10^5), Old Faithful with K = 3, and 10-D with
K = 5 overlapping components (both from emlib.fit_gmm's own k-means start). The fast set
has well-separated mixtures, where EM needs few iterations and acceleration has little to win.

Printed: the machine, the load, the E-steps of each emlib fit, medians of wall times over
repeats, and the ratios the issue's goals are about (E-steps plain / SQUAREM >= 5 and wall time
scikit-learn / SQUAREM >= 10 on the slow set; SQUAREM / plain <= 1.2 on the fast set).

Run from the repository's root:  .venv/bin/python benchmarks/bench_fixed_point.py [--repeats 3]
"""
import argparse
import os
import platform
import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

import emlib

PARAM_TOL = 1e-8
MAX_ITER = 100_000


def register_nudged_start():
    """Chapter 4: both components at the heights' mean and variance, one mean 0.01 cm higher."""
    heights = emlib.datasets.load_register()["height_cm"]
    mean, variance = heights.mean(), heights.var()
    return heights, emlib.GaussianMixtureParams([0.5, 0.5], [mean, mean + 0.01], [variance, variance])


def overlapping_1d(rng, n=100_000):
    """0.4 N(0, 1) + 0.6 N(1.75, 1): the means 1.75 standard deviations apart, so the density has
    a single mode; start at -0.5 and 2.25."""
    first = rng.random(n) < 0.4
    x = np.where(first, rng.normal(0.0, 1.0, n), rng.normal(1.75, 1.0, n))
    return x, emlib.GaussianMixtureParams([0.5, 0.5], [-0.5, 2.25], [1.0, 1.0])


def old_faithful_k3():
    """Old Faithful (eruption, waiting) with K = 3 from emlib.fit_gmm's k-means start (rng=0)."""
    geyser = emlib.datasets.load_old_faithful()
    x = np.column_stack([geyser["eruptions"], geyser["waiting"]])
    return x, emlib.gmm.initial_params(x, 3, "kmeans", reg_covar=0.0, rng=0)


def overlapping_10d(rng, n=10_000, k=5, d=10):
    """K = 5 unit-covariance components in 10-D with means 2.2 apart on average (N(0, 0.5² I)),
    from emlib.fit_gmm's own k-means start (rng=0). (From random data points as means, plain EM
    and SQUAREM can end on different local maxima of this multimodal likelihood.)"""
    means = rng.normal(scale=0.5, size=(k, d))
    x = means[rng.integers(k, size=n)] + rng.normal(size=(n, d))
    return x, emlib.gmm.initial_params(x, k, "kmeans", reg_covar=0.0, rng=0)


def separated(rng, d, n, k):
    """A well-separated mixture (means 8 apart, unit variances) and a start near its truth."""
    dim = max(d, 1)
    means = 8.0 * rng.normal(size=(k, dim))
    z = rng.integers(k, size=n)
    x = means[z] + rng.normal(size=(n, dim))
    start_means = means + rng.normal(scale=0.5, size=(k, dim))
    if d == 0:
        return x[:, 0], emlib.GaussianMixtureParams(np.full(k, 1 / k), start_means[:, 0], np.full(k, 1.5))
    return x, emlib.GaussianMixtureParams(np.full(k, 1 / k), start_means, np.repeat(1.5 * np.eye(dim)[None], k, 0))


def cases(rng):
    slow = [("register, ch. 4 nudged start", *register_nudged_start()),
            ("1-D overlapping, n=100,000", *overlapping_1d(rng)),
            ("Old Faithful, K=3", *old_faithful_k3()),
            ("10-D, K=5 overlapping, n=10,000", *overlapping_10d(rng))]
    fast = [("1-D separated, n=100,000, K=2", *separated(rng, 0, 100_000, 2)),
            ("2-D separated, n=100,000, K=3", *separated(rng, 2, 100_000, 3)),
            ("10-D separated, n=20,000, K=5", *separated(rng, 10, 20_000, 5))]
    return slow, fast


def fit_emlib(x, params0, accelerate):
    return emlib.fit_gmm(x, params0.n_components, init=params0, param_tol=PARAM_TOL, max_iter=MAX_ITER,
                         reg_covar=0.0, accelerate=accelerate)


def fit_sklearn(x, params0, n_iter):
    x2 = x[:, None] if x.ndim == 1 else x
    d = x2.shape[1]
    covariances = params0.covariances.reshape(-1, d, d)
    model = GaussianMixture(
        n_components=params0.n_components, covariance_type="full", tol=0.0, max_iter=n_iter, reg_covar=0.0,
        weights_init=params0.weights, means_init=params0.means.reshape(-1, d),
        precisions_init=np.linalg.inv(covariances), init_params="random_from_data", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x2)
    return model


def timed(run, repeats):
    """(the result of run(), the median wall time of ``repeats`` runs)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def same_point(params, model, rtol=1e-6):
    d = model.means_.shape[1]
    pairs = [(params.means.reshape(-1, d), model.means_), (params.covariances.reshape(-1, d, d), model.covariances_)]
    return all(np.allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max()) for a, b in pairs)


def measure(name, x, params0, repeats, sklearn_repeats):
    plain, plain_time = timed(lambda: fit_emlib(x, params0, None), repeats)
    accelerated, accelerated_time = timed(lambda: fit_emlib(x, params0, "squarem"), repeats)
    row = {"name": name, "plain": plain, "squarem": accelerated, "plain_time": plain_time,
           "squarem_time": accelerated_time, "sklearn_time": None, "same": None}
    if sklearn_repeats > 0:
        model, row["sklearn_time"] = timed(lambda: fit_sklearn(x, params0, plain.n_iter), sklearn_repeats)
        row["same"] = same_point(plain.params, model)
    return row


def print_row(row):
    plain, accelerated = row["plain"], row["squarem"]
    sklearn_time = row["sklearn_time"]
    sklearn_text = "-" if sklearn_time is None else f"{sklearn_time:.3f}"
    versus_sklearn = "-" if sklearn_time is None else f"{sklearn_time / row['squarem_time']:.1f}x"
    same = {None: "-", True: "yes", False: "NO"}[row["same"]]
    agree = abs(accelerated.log_likelihood - plain.log_likelihood) <= 1e-9 * abs(plain.log_likelihood)
    print(f"{row['name']:<34} {plain.n_e_steps:>7} {accelerated.n_e_steps:>7} "
          f"{plain.n_e_steps / accelerated.n_e_steps:>6.1f}x {row['plain_time']:>8.3f} {row['squarem_time']:>8.3f} "
          f"{sklearn_text:>8} {row['squarem_time'] / row['plain_time']:>7.2f} {versus_sklearn:>8}  "
          f"{'yes' if agree else 'NO':>5} {same:>6}")


def main():
    global PARAM_TOL
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="repetitions of each emlib fit (median)")
    parser.add_argument("--param-tol", type=float, default=PARAM_TOL, help="the parameter rule's tolerance")
    parser.add_argument("--sklearn-repeats", type=int, default=1,
                        help="repetitions of each scikit-learn fit (median; 0 skips scikit-learn)")
    args = parser.parse_args()
    PARAM_TOL = args.param_tol
    rng = np.random.default_rng(2026)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, scikit-learn {__import__('sklearn').__version__}")
    print(f"load average (1, 5, 15 min) at the start: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"same start, param_tol={PARAM_TOL:g}, reg_covar=0; wall times in s, median of {args.repeats} "
          f"(scikit-learn: {args.sklearn_repeats})\n")
    header = (f"{'case':<34} {'E plain':>7} {'E sqrm':>7} {'E ratio':>7} {'t plain':>8} {'t sqrm':>8} "
              f"{'t sklrn':>8} {'sq/plain':>7} {'sk/sq':>8}  {'same ℓ':>5} {'sk pt':>6}")
    slow, fast = cases(rng)
    for title, group in (("slow set (goals: E ratio >= 5, sk/sq >= 10)", slow),
                         ("fast set (goal: sq/plain <= 1.2)", fast)):
        print(title)
        print(header)
        print("-" * len(header))
        for name, x, params0 in group:
            print_row(measure(name, x, params0, args.repeats, args.sklearn_repeats))
        print()
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("E: E-steps to the fixed point; same ℓ: SQUAREM's log-likelihood equals plain EM's to 1e-9 relative; "
          "sk pt: scikit-learn ends at plain emlib's point (1e-6).")


if __name__ == "__main__":
    main()
