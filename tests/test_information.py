"""Standard errors of Gaussian-mixture estimates: Louis' observed information (issue 14).

The references are independent of the closed form under test: a central finite-difference
Hessian of the observed log-likelihood (its own code, below), the textbook complete-data
information of Gaussian samples, the rate EM actually converges at, and a parametric
bootstrap whose Monte Carlo error is known.
"""
import numpy as np
import pytest

import emlib
from emlib import gmm


def finite_difference_hessian(function, point, steps):
    """∂²f/∂θ_a∂θ_b by central differences (four evaluations per entry), shape (P, P)."""
    size = len(point)
    hessian = np.zeros((size, size))
    for a in range(size):
        for b in range(a, size):
            def at(step_a, step_b):
                moved = point.copy()
                moved[a] += step_a
                moved[b] += step_b
                return function(moved)
            value = (at(steps[a], steps[b]) - at(steps[a], -steps[b]) - at(-steps[a], steps[b])
                     + at(-steps[a], -steps[b])) / (4 * steps[a] * steps[b])
            hessian[a, b] = hessian[b, a] = value
    return hessian


def two_gaussians_1d(n=500, seed=0):
    rng = np.random.default_rng(seed)
    z = (rng.random(n) < 0.4).astype(int)
    return np.where(z == 0, rng.normal(0.0, 1.0, n), rng.normal(3.0, 0.7, n)), z


def three_gaussians_2d(seed=1):
    rng = np.random.default_rng(seed)
    x = np.vstack([rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], 150),
                   rng.multivariate_normal([3, 1], [[0.5, 0], [0, 2]], 150),
                   rng.multivariate_normal([0, 4], np.eye(2), 100)])
    return x, np.repeat([0, 1, 2], [150, 150, 100])


def mle(x, k, labels=None):
    return emlib.fit_gmm(x, k, labels=labels, param_tol=1e-12, max_iter=20_000, reg_covar=0.0, rng=0).params


def cases():
    x1, z1 = two_gaussians_1d()
    x2, z2 = three_gaussians_2d()
    some_labels = np.where(np.random.default_rng(2).random(len(x2)) < 0.3, z2, -1)
    return {"1-D": (x1, 2, None), "2-D": (x2, 3, None), "2-D semi-supervised": (x2, 3, some_labels),
            "1-D semi-supervised": (x1, 2, np.where(np.arange(len(x1)) % 5 == 0, z1, -1))}


CASES = cases()


@pytest.mark.parametrize("name", list(CASES))
def test_observed_information_is_minus_the_finite_difference_hessian_at_the_mle(name):
    x, k, labels = CASES[name]
    params = mle(x, k, labels)
    information = gmm.observed_information(x, params, labels)
    point = gmm.free_parameters(params)
    steps = 1e-3 * np.sqrt(np.diag(np.linalg.inv(information)))  # a thousandth of a standard error

    def log_likelihood(vector):
        return gmm.log_likelihood(x, gmm.from_free_parameters(vector, params), labels)

    hessian = finite_difference_hessian(log_likelihood, point, steps)
    assert np.abs(-hessian - information).max() <= 1e-5 * np.abs(information).max()
    errors_by_differences = np.sqrt(np.diag(np.linalg.inv(-hessian)))
    errors = gmm.standard_errors(x, params, labels)
    k_minus_1 = k - 1
    np.testing.assert_allclose(errors.weights[:-1], errors_by_differences[:k_minus_1], rtol=1e-5)
    free_errors = np.concatenate([errors.means.reshape(k, -1), _vech(errors.covariances, params)], axis=1).ravel()
    np.testing.assert_allclose(free_errors, errors_by_differences[k_minus_1:], rtol=1e-5)


@pytest.mark.parametrize("name", ["1-D semi-supervised", "2-D"])
def test_louis_identity_holds_away_from_the_maximum_too(name):
    """Away from the MLE the weighted deviations Σ γ (x - μ) are not 0, so every term counts."""
    x, k, labels = CASES[name]
    params = mle(x, k, labels)
    point = gmm.free_parameters(params)
    moved = point + 0.2 * np.sqrt(np.diag(np.linalg.inv(gmm.observed_information(x, params, labels))))
    elsewhere = gmm.from_free_parameters(moved, params)
    information = gmm.observed_information(x, elsewhere, labels)
    steps = 1e-3 * np.sqrt(np.abs(np.diag(np.linalg.inv(information))))

    def log_likelihood(vector):
        return gmm.log_likelihood(x, gmm.from_free_parameters(vector, params), labels)

    hessian = finite_difference_hessian(log_likelihood, moved, steps)
    assert np.abs(-hessian - information).max() <= 1e-5 * np.abs(information).max()


def _vech(covariances, params):
    d = params.n_features
    rows, columns = np.tril_indices(d)
    return covariances.reshape(params.n_components, d, d)[:, rows, columns]


def test_last_weight_error_is_the_delta_method_on_the_free_weights():
    x, k, labels = CASES["2-D"]
    params = mle(x, k, labels)
    covariance = np.linalg.inv(gmm.observed_information(x, params))
    # π_3 = 1 - π_1 - π_2: Var = Var π_1 + Var π_2 + 2 Cov(π_1, π_2)
    expected = np.sqrt(covariance[0, 0] + covariance[1, 1] + 2 * covariance[0, 1])
    assert gmm.standard_errors(x, params).weights[2] == pytest.approx(expected, rel=1e-12)


def test_all_labels_known_gives_the_textbook_complete_data_information_1d():
    x, z = two_gaussians_1d()
    params = mle(x, 2, z)  # with every label known: class proportions, means and variances
    matrices = gmm.information_matrices(x, params, z)
    counts = np.bincount(z, minlength=2)
    pi, variances = params.weights, params.covariances
    n = len(x)
    expected = np.zeros((5, 5))
    expected[0, 0] = n / pi[0] + n / pi[1]  # multinomial: n (1/π_1 + 1/π_2) for the free π_1
    for j in range(2):
        expected[1 + 2 * j, 1 + 2 * j] = counts[j] / variances[j]  # N_k / σ²
        expected[2 + 2 * j, 2 + 2 * j] = counts[j] / (2 * variances[j] ** 2)  # N_k / (2σ⁴)
    np.testing.assert_allclose(matrices.observed, expected, rtol=1e-10, atol=1e-9 * np.abs(expected).max())
    assert np.abs(matrices.missing).max() <= 1e-12 * np.abs(expected).max()


def test_all_labels_known_gives_the_textbook_complete_data_information_2d():
    x, z = three_gaussians_2d()
    params = mle(x, 3, z)
    information = gmm.observed_information(x, params, z)
    counts = np.bincount(z)
    duplication = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=float)  # vec = D vech (2-D)
    for j in range(3):
        precision = np.linalg.inv(params.covariances[j])
        start = 2 + 5 * j
        np.testing.assert_allclose(information[start:start + 2, start:start + 2], counts[j] * precision, rtol=1e-10)
        covariance_block = counts[j] / 2 * duplication.T @ np.kron(precision, precision) @ duplication
        np.testing.assert_allclose(information[start + 2:start + 5, start + 2:start + 5], covariance_block, rtol=1e-9)
        assert np.abs(information[start:start + 2, start + 2:start + 5]).max() <= 1e-8 * counts[j]


def test_largest_fraction_of_missing_information_is_the_rate_em_converges_at():
    x, k, labels = CASES["1-D"]
    start = emlib.GaussianMixtureParams([0.5, 0.5], [0.5, 2.0], [1.0, 1.0])
    run = emlib.fit_gmm(x, k, init=start, param_tol=0.0, max_iter=3000, reg_covar=0.0)
    limit = gmm.free_parameters(run.params)
    distances = [np.linalg.norm(gmm.free_parameters(params) - limit) for params, _ in run.trace]
    # near enough for the slowest direction to dominate, far enough from rounding (1e-15)
    t = next(t for t, distance in enumerate(distances) if distance < 1e-8)
    observed_rate = (distances[t + 10] / distances[t]) ** (1 / 10)
    rate = gmm.information_matrices(x, run.params).em_rate
    assert 0 < rate < 1
    assert observed_rate == pytest.approx(rate, rel=1e-3)


def test_fractions_of_missing_information_lie_in_0_1_and_labels_shrink_them():
    x, k, labels = CASES["2-D semi-supervised"]
    unlabelled = gmm.information_matrices(x, mle(x, k))
    partly = gmm.information_matrices(x, mle(x, k, labels), labels)
    for matrices in (unlabelled, partly):
        fractions = matrices.fractions_missing
        assert np.all(fractions > -1e-10) and np.all(fractions < 1)
        per_parameter = matrices.fraction_missing_per_parameter
        assert np.all(per_parameter > -1e-10) and np.all(per_parameter < 1)
    assert partly.em_rate < unlabelled.em_rate


def test_parametric_bootstrap_agrees_with_louis_within_its_monte_carlo_error():
    rng = np.random.default_rng(3)
    n, n_boot = 2000, 400
    z = (rng.random(n) < 0.3).astype(int)
    x = np.where(z == 0, rng.normal(0.0, 1.0, n), rng.normal(5.0, 1.5, n))  # well separated
    labels = np.where(rng.random(n) < 0.25, z, -1)
    for known in (None, labels):
        params = mle(x, 2, known)
        louis = gmm.standard_errors(x, params, known)
        bootstrap = gmm.bootstrap_standard_errors(x, params, n_boot, rng, labels=known, reg_covar=0.0)
        # a standard deviation from B replicates has relative error about 1/√(2(B-1)) = 3.5 %: allow 4 of them
        allowed = 4 / np.sqrt(2 * (n_boot - 1))
        for field in ("weights", "means", "covariances"):
            np.testing.assert_allclose(getattr(bootstrap, field), getattr(louis, field), rtol=allowed)


def test_bootstrap_keeps_the_labelled_rows_labelled():
    """Overlapping components, 90 % of the labels known: the labels carry most of the information,
    and the bootstrap must draw its labels for the same rows to agree with Louis' errors."""
    rng = np.random.default_rng(4)
    n, n_boot = 2000, 200
    z = (rng.random(n) < 0.5).astype(int)
    x = np.where(z == 0, rng.normal(0.0, 1.0, n), rng.normal(2.0, 1.0, n))
    labels = np.where(rng.random(n) < 0.9, z, -1)
    params = mle(x, 2, labels)
    louis = gmm.standard_errors(x, params, labels)
    without_labels = gmm.standard_errors(x, mle(x, 2), None)
    assert np.all(without_labels.means > 1.5 * louis.means)  # the labels matter here
    bootstrap = gmm.bootstrap_standard_errors(x, params, n_boot, rng, labels=labels, reg_covar=0.0)
    allowed = 4 / np.sqrt(2 * (n_boot - 1))
    for field in ("weights", "means", "covariances"):
        np.testing.assert_allclose(getattr(bootstrap, field), getattr(louis, field), rtol=allowed)


def test_standard_errors_have_the_shapes_of_the_parameters():
    x, k, labels = CASES["2-D"]
    params = mle(x, k)
    errors = gmm.standard_errors(x, params)
    assert errors.weights.shape == (3,) and errors.means.shape == (3, 2) and errors.covariances.shape == (3, 2, 2)
    assert np.array_equal(errors.covariances, np.swapaxes(errors.covariances, 1, 2))
    assert len(gmm.parameter_names(params)) == len(gmm.free_parameters(params)) == 2 + 3 * 5
    assert gmm.parameter_names(mle(*CASES["1-D"][:2]))[:3] == ["π_1", "μ_1", "σ²_1"]


def test_free_parameters_round_trip():
    x, k, _ = CASES["2-D"]
    params = mle(x, k)
    back = gmm.from_free_parameters(gmm.free_parameters(params), params)
    for field in ("weights", "means", "covariances"):
        np.testing.assert_allclose(getattr(back, field), getattr(params, field), rtol=1e-15, atol=1e-15)


def test_at_a_saddle_point_standard_errors_refuse_with_a_reason():
    heights = emlib.datasets.load_register()["height_cm"]
    symmetric = emlib.GaussianMixtureParams([0.5, 0.5], [heights.mean()] * 2, [heights.var()] * 2)
    with pytest.raises(ValueError, match="not positive definite"):
        gmm.standard_errors(heights, symmetric)


@pytest.mark.parametrize("n_boot", [1, 2.5, True, "100"])
def test_bootstrap_refuses_a_bad_number_of_replicates(n_boot):
    x, k, _ = CASES["1-D"]
    with pytest.raises(ValueError, match="n_boot"):
        gmm.bootstrap_standard_errors(x, mle(x, k), n_boot, 0)


def test_information_checks_its_inputs_and_leaves_them_alone():
    x, k, labels = CASES["1-D semi-supervised"]
    params = mle(x, k, labels)
    x_copy, labels_copy = x.copy(), labels.copy()
    gmm.standard_errors(x, params, labels)
    assert np.array_equal(x, x_copy) and np.array_equal(labels, labels_copy)
    with pytest.raises(ValueError, match="labels"):
        gmm.observed_information(x, params, np.full(len(x), 7))
    with pytest.raises(ValueError):
        gmm.observed_information(np.column_stack([x, x]), params)
