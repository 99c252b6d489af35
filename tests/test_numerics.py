"""Numerical robustness: data far from every component, and collapsing components.

DESIGN section 4: the E-step works in log space, so nothing overflows or underflows to
NaN on data far from a component; a collapsing component is kept alive by reg_covar or
reported clearly, never silently turned into NaN. Every test here turns warnings into
errors, so a RuntimeWarning from NumPy (overflow, division by zero, invalid value) fails.
"""
import warnings

import numpy as np
import pytest
from scipy import special

import emlib
from emlib import gmm
from synthetic import component_logpdfs


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def assert_finite(*arrays):
    for array in arrays:
        assert np.all(np.isfinite(array))


# ---------------------------------------------------------------------------
# far from every component
# ---------------------------------------------------------------------------

NEAR_ZERO_1D = gmm.GaussianMixtureParams([0.3, 0.7], [0.0, 1.0], [1.0, 0.5])


def test_points_a_million_away_get_finite_responsibilities_and_log_likelihood():
    x = np.array([1e6, -1e6, 1e6 + 3.0, 2.5e6])
    responsibilities, log_likelihood = gmm.e_step(x, NEAR_ZERO_1D)
    assert_finite(responsibilities, log_likelihood)
    np.testing.assert_allclose(responsibilities.sum(axis=1), 1.0, rtol=1e-9)
    # the reference: scipy's log densities and logsumexp
    expected = special.logsumexp(np.log(NEAR_ZERO_1D.weights)
                                 + component_logpdfs(x, NEAR_ZERO_1D.means, NEAR_ZERO_1D.covariances), axis=1).sum()
    assert log_likelihood == pytest.approx(expected, rel=1e-12)


def test_far_points_go_to_the_widest_component_in_the_limit():
    # far out, the component with the larger variance dominates: log-ratio ~ x²(1/σ₂² - 1/σ₁²)/2
    responsibilities = gmm.predict_proba(np.array([1e6, -1e6]), NEAR_ZERO_1D)
    assert_finite(responsibilities)
    assert np.all(responsibilities[:, 0] == 1.0)


def test_a_component_ten_thousand_standard_deviations_away_gets_zero_not_nan():
    params = gmm.GaussianMixtureParams([0.5, 0.5], [0.0, 1e4], [1.0, 1.0])
    x = np.random.default_rng(71).normal(0.0, 1.0, 50)
    responsibilities, log_likelihood = gmm.e_step(x, params)
    assert_finite(responsibilities, log_likelihood)
    assert np.all(responsibilities[:, 1] == 0.0)
    assert np.all(responsibilities[:, 0] == 1.0)
    assert log_likelihood == pytest.approx(np.log(0.5) * 50 + gmm.log_likelihood(x, gmm.GaussianMixtureParams(
        [1.0], [0.0], [1.0])), rel=1e-12)


def test_far_points_in_2d_get_finite_responsibilities():
    params = gmm.GaussianMixtureParams([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]],
                                       [np.eye(2), [[1.0, 0.9], [0.9, 1.0]]])
    x = np.array([[1e6, -1e6], [5e5, 5e5], [-3e6, 0.0]])
    responsibilities, log_likelihood = gmm.e_step(x, params)
    assert_finite(responsibilities, log_likelihood)
    np.testing.assert_allclose(responsibilities.sum(axis=1), 1.0, rtol=1e-9)


def test_density_of_a_far_point_underflows_to_zero_not_nan():
    assert gmm.density(np.array([1e6]), NEAR_ZERO_1D)[0] == 0.0


def test_fit_from_an_initial_guess_far_from_the_data_stays_finite():
    x = np.random.default_rng(72).normal(1e6, 1.0, 100)
    result = emlib.fit_gmm(x, 2, init=NEAR_ZERO_1D, max_iter=50)
    assert_finite(result.params.weights, result.params.means, result.params.covariances,
                  result.log_likelihoods, result.expectations)


def test_fit_is_unchanged_by_shifting_the_data_by_a_million():
    rng = np.random.default_rng(73)
    x = np.concatenate([rng.normal(0, 1, 100), rng.normal(5, 1, 100)])
    params0 = gmm.GaussianMixtureParams([0.5, 0.5], [-1.0, 6.0], [2.0, 2.0])
    shifted0 = gmm.GaussianMixtureParams([0.5, 0.5], [-1.0 + 1e6, 6.0 + 1e6], [2.0, 2.0])
    near = emlib.fit_gmm(x, 2, init=params0, tol=0.0, max_iter=30).params
    far = emlib.fit_gmm(x + 1e6, 2, init=shifted0, tol=0.0, max_iter=30).params
    # x + 1e6 carries ~1e6 * 1e-16 = 1e-10 of rounding per point
    np.testing.assert_allclose(far.means - 1e6, near.means, atol=1e-6)
    np.testing.assert_allclose(far.covariances, near.covariances, rtol=1e-6)
    np.testing.assert_allclose(far.weights, near.weights, rtol=1e-6)


def test_kmeans_init_on_far_data_stays_finite():
    x = np.random.default_rng(74).normal(size=(60, 2)) + 1e6
    result = emlib.fit_gmm(x, 2, rng=0, max_iter=20)
    assert_finite(result.log_likelihoods, result.expectations)


# ---------------------------------------------------------------------------
# collapsing components
# ---------------------------------------------------------------------------

def isolated_point_problem():
    """50 points near 0 and one isolated point at 10, with a narrow component sitting on it."""
    x = np.append(np.random.default_rng(75).normal(0.0, 1.0, 50), 10.0)
    params0 = gmm.GaussianMixtureParams([0.9, 0.1], [0.0, 10.0], [1.0, 0.01])
    return x, params0


def test_collapse_without_regularisation_is_finite_or_reported():
    x, params0 = isolated_point_problem()
    try:
        result = emlib.fit_gmm(x, 2, init=params0, reg_covar=0.0, max_iter=100)
    except ValueError as error:
        assert "collapsed" in str(error)
        return
    assert_finite(result.params.covariances, result.log_likelihoods, result.expectations)
    assert np.all(result.params.covariances > 0)


def test_collapse_with_regularisation_keeps_the_component_alive():
    x, params0 = isolated_point_problem()
    with pytest.warns(emlib.BoundaryEstimateWarning, match="component 2 of 2 collapsed onto a single data point, 10:"):
        result = emlib.fit_gmm(x, 2, init=params0, reg_covar=1e-6, max_iter=100)
    assert_finite(result.params.covariances, result.log_likelihoods, result.expectations)
    assert np.all(result.params.covariances >= 1e-6)
    # the narrow component holds the isolated point
    assert result.expectations[-1, 1] == pytest.approx(1.0)


def test_an_empty_component_without_regularisation_is_reported_as_collapsed():
    x = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    params0 = gmm.GaussianMixtureParams([0.5, 0.5], [0.2, 1e3], [0.1, 1e-4])  # nothing near 1000
    with pytest.raises(ValueError, match="collapsed"):
        emlib.fit_gmm(x, 2, init=params0, reg_covar=0.0)


def test_identical_points_with_regularisation_fit_a_variance_of_reg_covar():
    x = np.full(10, 3.0)
    with pytest.warns(emlib.BoundaryEstimateWarning, match="the 10 data points it holds .* all equal 3"):
        result = emlib.fit_gmm(x, 1, reg_covar=1e-6)
    assert result.params.means[0] == pytest.approx(3.0)
    assert result.params.covariances[0] == pytest.approx(1e-6)
    assert np.isfinite(result.log_likelihood)


def test_points_on_a_line_in_2d_without_regularisation_are_reported():
    t = np.arange(10.0)
    x = np.column_stack([t, 2 * t])
    with pytest.raises(ValueError, match="collapsed"):
        emlib.fit_gmm(x, 1, reg_covar=0.0)


def test_points_on_a_line_in_2d_with_regularisation_fit():
    t = np.arange(10.0)
    x = np.column_stack([t, 2 * t])
    with pytest.warns(emlib.BoundaryEstimateWarning, match="the smallest eigenvalue of its covariance is held"):
        result = emlib.fit_gmm(x, 1, reg_covar=1e-6)
    assert_finite(result.log_likelihoods)
    assert np.linalg.eigvalsh(result.params.covariances[0]).min() >= 1e-6 * (1 - 1e-6)


# ---------------------------------------------------------------------------
# known failures (see the reasons)
# ---------------------------------------------------------------------------

def assert_never_decreases(log_likelihoods):
    log_likelihoods = np.asarray(log_likelihoods)
    slack = 1e-9 * np.maximum(1.0, np.abs(log_likelihoods[:-1]))
    assert np.all(np.diff(log_likelihoods) >= -slack)


def test_default_regularisation_keeps_the_likelihood_monotone_on_small_scale_data():
    x = np.random.default_rng(0).normal(0.0, 1e-3, 100)  # e.g. lengths of ~1 mm measured in metres
    params0 = gmm.GaussianMixtureParams([0.5, 0.5], [-1e-3, 1e-3], [1e-6, 1e-6])
    with pytest.warns(emlib.BoundaryEstimateWarning, match="held at the floor"):  # the floor is the data's variance
        result = emlib.fit_gmm(x, 2, init=params0)
    assert_never_decreases(result.log_likelihoods)


def test_default_regularisation_keeps_the_likelihood_monotone_with_few_points_per_component():
    x = np.random.default_rng(246).normal(size=(20, 2))
    with pytest.warns(emlib.BoundaryEstimateWarning, match="held at the floor"):  # a component on a few points
        result = emlib.fit_gmm(x, 3, init="random", rng=246, max_iter=300)
    assert_never_decreases(result.log_likelihoods)


def test_a_component_collapsing_onto_two_points_in_2d_is_reported():
    x = np.random.default_rng(278).normal(size=(20, 2))
    try:
        result = emlib.fit_gmm(x, 3, init="random", rng=278, reg_covar=0.0, max_iter=300)
    except ValueError as error:
        assert "collapsed" in str(error)
        return
    assert_never_decreases(result.log_likelihoods)
    for covariance in result.params.covariances:
        eigenvalues = np.linalg.eigvalsh(covariance)
        assert eigenvalues[0] > 1e-12 * eigenvalues[-1]
