"""emlib.fit_gmm agrees with sklearn.mixture.GaussianMixture started from the same θ(0).

Both count M-steps: emlib's n_iter is the number of M-steps, and scikit-learn's n_iter_
counts an E-step followed by an M-step. So emlib with max_iter=m and scikit-learn with
max_iter=m (tol=0, so neither stops early) compute the same θ(m), up to rounding.

"At convergence" compares the two fixed points. Both loops stop on the log-likelihood,
whose change is quadratic in the parameters' distance to the fixed point; scikit-learn's
tol (on the mean log-likelihood) is therefore set to 1e-14, so that it lands within
1e-7 or so of its fixed point (with tol=1e-12 it can stop ~1e-6 short on Old Faithful).
"""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

import emlib
from emlib import gmm
from synthetic import assert_close_relative, random_covariance, to_sklearn_shapes


def old_faithful_1d():
    x = emlib.datasets.load_old_faithful()["waiting"]
    return x, gmm.GaussianMixtureParams([0.5, 0.5], [50.0, 90.0], [100.0, 100.0])


def old_faithful_2d():
    data = emlib.datasets.load_old_faithful()
    x = np.column_stack([data["eruptions"], data["waiting"]])
    covariance = np.diag([1.0, 100.0])
    return x, gmm.GaussianMixtureParams([0.5, 0.5], [[2.0, 50.0], [4.5, 90.0]], [covariance, covariance])


def synthetic_1d():
    rng = np.random.default_rng(31)
    x = np.concatenate([rng.normal(0, 1, 100), rng.normal(6, 0.7, 60), rng.normal(12, 1.5, 80)])
    return x, gmm.GaussianMixtureParams(np.full(3, 1 / 3), [1.0, 4.0, 8.0], [4.0, 4.0, 4.0])


def synthetic_2d():
    rng = np.random.default_rng(32)
    x = np.concatenate([
        rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], 100),
        rng.multivariate_normal([6, 1], [[1, -0.3], [-0.3, 0.5]], 80),
        rng.multivariate_normal([2, 6], random_covariance(rng, 2), 60),
    ])
    return x, gmm.GaussianMixtureParams(np.full(3, 1 / 3), [[1.0, 1.0], [3.0, 0.0], [2.0, 4.0]],
                                        [2 * np.eye(2)] * 3)


PROBLEMS = {
    "old faithful 1-D": old_faithful_1d,
    "old faithful 2-D": old_faithful_2d,
    "synthetic 1-D": synthetic_1d,
    "synthetic 2-D": synthetic_2d,
}


def sklearn_fit(x, params0, *, tol, max_iter, reg_covar):
    weights, means, covariances = to_sklearn_shapes(params0)
    model = GaussianMixture(
        n_components=params0.n_components, covariance_type="full", tol=tol, max_iter=max_iter,
        reg_covar=reg_covar, weights_init=weights, means_init=means,
        precisions_init=np.linalg.inv(covariances), random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x.reshape(len(x), -1))
    return model


def assert_same_params(params, model, rtol):
    weights, means, covariances = to_sklearn_shapes(params)
    assert_close_relative(weights, model.weights_, rtol)
    assert_close_relative(means, model.means_, rtol)
    for k in range(params.n_components):
        assert_close_relative(covariances[k], model.covariances_[k], rtol)


@pytest.mark.parametrize("problem", PROBLEMS.values(), ids=PROBLEMS.keys())
def test_same_fixed_point_as_sklearn_at_convergence(problem):
    reg_covar = 0.0  # emlib floors variances where scikit-learn adds reg_covar: compare the algorithm
    x, params0 = problem()
    model = sklearn_fit(x, params0, tol=1e-14, max_iter=10_000, reg_covar=reg_covar)
    result = emlib.fit_gmm(x, params0.n_components, init=params0, tol=1e-14, max_iter=10_000,
                           reg_covar=reg_covar)
    assert model.converged_ and result.converged
    assert_same_params(result.params, model, rtol=1e-6)
    assert result.log_likelihood / len(x) == pytest.approx(model.score(x.reshape(len(x), -1)), rel=1e-10)


@pytest.mark.parametrize("problem", PROBLEMS.values(), ids=PROBLEMS.keys())
@pytest.mark.parametrize("n_steps", [1, 2, 5, 20])
def test_same_iterates_as_sklearn_after_a_fixed_number_of_steps(problem, n_steps):
    x, params0 = problem()
    result = emlib.fit_gmm(x, params0.n_components, init=params0, tol=0.0, max_iter=n_steps, reg_covar=0.0)
    # with tol=0 emlib stops early only where the likelihood stopped rising (within rounding)
    assert result.n_iter == n_steps or (result.converged and n_steps > 5)
    model = sklearn_fit(x, params0, tol=0.0, max_iter=result.n_iter, reg_covar=0.0)
    assert model.n_iter_ == result.n_iter
    # the same arithmetic in a different order: equal up to rounding, amplified a little
    # by each step
    assert_same_params(result.params, model, rtol=1e-9)


@pytest.mark.parametrize("problem", PROBLEMS.values(), ids=PROBLEMS.keys())
def test_same_responsibilities_as_sklearn(problem):
    x, params0 = problem()
    model = sklearn_fit(x, params0, tol=0.0, max_iter=3, reg_covar=0.0)
    result = emlib.fit_gmm(x, params0.n_components, init=params0, tol=0.0, max_iter=3, reg_covar=0.0)
    np.testing.assert_allclose(result.expectations, model.predict_proba(x.reshape(len(x), -1)),
                               rtol=1e-7, atol=1e-12)


def test_one_dimensional_fit_gives_one_dimensional_params():
    x, params0 = old_faithful_1d()
    params = emlib.fit_gmm(x, 2, init=params0).params
    assert params.means.shape == (2,) and params.covariances.shape == (2,)


def test_old_faithful_waiting_times_have_the_two_well_known_modes():
    """The two modes near 55 and 80 minutes (Azzalini & Bowman 1990), and sklearn's own fit
    from its own initialisation finds the same mixture."""
    x, _ = old_faithful_1d()
    params = emlib.fit_gmm(x, 2, rng=0, tol=1e-14, max_iter=10_000).params.sorted_by_mean()
    model = GaussianMixture(2, covariance_type="full", tol=1e-14, max_iter=10_000, random_state=0,
                            n_init=3).fit(x.reshape(-1, 1))
    order = np.argsort(model.means_.ravel())
    assert_close_relative(params.means, model.means_.ravel()[order], 1e-6)
    assert_close_relative(params.weights, model.weights_[order], 1e-6)
    assert_close_relative(params.covariances, model.covariances_.ravel()[order], 1e-6)
    assert 50 < params.means[0] < 60 and 75 < params.means[1] < 85
