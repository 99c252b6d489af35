"""Unit tests of every public function of emlib.gmm, against independent references.

Densities come from scipy.stats; the E-step is checked against Bayes' rule written out;
the M-step against a numerical maximiser of Q(θ | θ(t)) (scipy.optimize) and against
NumPy's weighted mean and covariance; BIC against scikit-learn.
"""
import dataclasses
import inspect

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats
from sklearn.mixture import GaussianMixture

import emlib
from emlib import gmm
from synthetic import (component_logpdfs, component_pdfs, mixture_data, mixture_log_likelihood,
                       random_covariance)


@pytest.fixture
def params_1d():
    return gmm.GaussianMixtureParams([0.2, 0.5, 0.3], [-1.0, 0.5, 4.0], [0.5, 2.0, 1.5])


@pytest.fixture
def params_2d():
    rng = np.random.default_rng(3)
    covariances = np.array([random_covariance(rng, 2) for _ in range(3)])
    return gmm.GaussianMixtureParams([0.3, 0.3, 0.4], [[0.0, 0.0], [3.0, -1.0], [-2.0, 2.0]], covariances)


@pytest.fixture
def points_1d():
    return np.random.default_rng(4).normal(1.0, 3.0, 50)


@pytest.fixture
def points_2d():
    return np.random.default_rng(5).normal(0.0, 2.5, (50, 2))


def as_tuple(params):
    return params.weights, params.means, params.covariances


# ---------------------------------------------------------------------------
# the public contract of DESIGN section 4
# ---------------------------------------------------------------------------

def keyword_only(function):
    return {name for name, parameter in inspect.signature(function).parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY}


def positional(function):
    return [name for name, parameter in inspect.signature(function).parameters.items()
            if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]


def test_the_contracts_names_and_signatures_exist():
    assert positional(emlib.em) == ["data", "params0", "e_step", "m_step"]
    stopping_and_acceleration = {"param_tol", "aitken_tol", "accelerate"}  # issue 14
    assert keyword_only(emlib.em) == {"tol", "max_iter", "callback", "parametrisation"} | stopping_and_acceleration
    assert positional(emlib.fit_gmm) == ["x", "n_components"]
    assert keyword_only(emlib.fit_gmm) == {"labels", "init", "n_init", "tol", "max_iter", "reg_covar",
                                           "rng"} | stopping_and_acceleration
    assert positional(gmm.e_step) == ["x", "params", "labels"]
    assert positional(gmm.m_step) == ["x", "responsibilities", "reg_covar"]
    assert inspect.signature(gmm.m_step).parameters["reg_covar"].default == 0.0
    assert positional(gmm.log_likelihood) == ["x", "params", "labels"]
    assert positional(gmm.predict_proba) == ["x", "params"]
    assert emlib.GaussianMixtureParams is gmm.GaussianMixtureParams
    assert {"params", "log_likelihood", "n_iter", "converged", "trace"} <= {
        field.name for field in dataclasses.fields(emlib.EMResult)}


# ---------------------------------------------------------------------------
# densities
# ---------------------------------------------------------------------------

def test_component_log_densities_1d_equal_scipy_norm(points_1d, params_1d):
    expected = component_logpdfs(points_1d, params_1d.means, params_1d.covariances)
    np.testing.assert_allclose(gmm.component_log_densities(points_1d, params_1d), expected, rtol=1e-12)


def test_component_log_densities_2d_equal_scipy_multivariate_normal(points_2d, params_2d):
    expected = component_logpdfs(points_2d, params_2d.means, params_2d.covariances)
    np.testing.assert_allclose(gmm.component_log_densities(points_2d, params_2d), expected, rtol=1e-12)


def test_component_log_densities_3d_equal_scipy_multivariate_normal():
    rng = np.random.default_rng(6)
    covariances = np.array([random_covariance(rng, 3) for _ in range(2)])
    params = gmm.GaussianMixtureParams([0.4, 0.6], rng.normal(size=(2, 3)), covariances)
    x = rng.normal(size=(20, 3))
    expected = component_logpdfs(x, params.means, params.covariances)
    np.testing.assert_allclose(gmm.component_log_densities(x, params), expected, rtol=1e-12)


@pytest.mark.parametrize("dimension", ["1d", "2d"])
def test_log_joint_is_log_weight_plus_log_density(dimension, request):
    x = request.getfixturevalue(f"points_{dimension}")
    params = request.getfixturevalue(f"params_{dimension}")
    expected = np.log(params.weights) + component_logpdfs(x, params.means, params.covariances)
    np.testing.assert_allclose(gmm.log_joint(x, params), expected, rtol=1e-12)


@pytest.mark.parametrize("dimension", ["1d", "2d"])
def test_density_is_the_weighted_sum_of_scipy_densities(dimension, request):
    x = request.getfixturevalue(f"points_{dimension}")
    params = request.getfixturevalue(f"params_{dimension}")
    expected = component_pdfs(x, params.means, params.covariances) @ params.weights
    np.testing.assert_allclose(gmm.density(x, params), expected, rtol=1e-12)


def test_density_1d_integrates_to_one(params_1d):
    grid = np.linspace(-15, 20, 20001)
    integral = integrate.trapezoid(gmm.density(grid, params_1d), grid)
    assert integral == pytest.approx(1.0, abs=1e-8)


# ---------------------------------------------------------------------------
# the E-step, log_likelihood, predict_proba
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dimension", ["1d", "2d"])
def test_e_step_responsibilities_follow_bayes_rule(dimension, request):
    x = request.getfixturevalue(f"points_{dimension}")
    params = request.getfixturevalue(f"params_{dimension}")
    joint = params.weights * component_pdfs(x, params.means, params.covariances)  # π_k N(x_i|k)
    expected = joint / joint.sum(axis=1, keepdims=True)
    responsibilities, _ = gmm.e_step(x, params)
    np.testing.assert_allclose(responsibilities, expected, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("dimension", ["1d", "2d"])
def test_e_step_log_likelihood_is_sum_of_log_marginals(dimension, request):
    x = request.getfixturevalue(f"points_{dimension}")
    params = request.getfixturevalue(f"params_{dimension}")
    expected = np.log(component_pdfs(x, params.means, params.covariances) @ params.weights).sum()
    assert gmm.e_step(x, params)[1] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("dimension", ["1d", "2d"])
def test_log_likelihood_equals_sum_of_log_density(dimension, request):
    x = request.getfixturevalue(f"points_{dimension}")
    params = request.getfixturevalue(f"params_{dimension}")
    expected = mixture_log_likelihood(x, *as_tuple(params))
    assert gmm.log_likelihood(x, params) == pytest.approx(expected, rel=1e-12)
    assert gmm.log_likelihood(x, params) == pytest.approx(np.log(gmm.density(x, params)).sum(), rel=1e-12)


def test_log_likelihood_is_a_python_float(points_1d, params_1d):
    assert type(gmm.log_likelihood(points_1d, params_1d)) is float


@pytest.mark.parametrize("dimension", ["1d", "2d"])
def test_predict_proba_is_the_posterior_of_each_component(dimension, request):
    x = request.getfixturevalue(f"points_{dimension}")
    params = request.getfixturevalue(f"params_{dimension}")
    log_joint = np.log(params.weights) + component_logpdfs(x, params.means, params.covariances)
    expected = np.exp(log_joint - special.logsumexp(log_joint, axis=1, keepdims=True))
    probabilities = gmm.predict_proba(x, params)
    assert probabilities.shape == (len(x), params.n_components)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)


def test_predict_proba_agrees_with_sklearn_on_sklearns_own_fit():
    rng = np.random.default_rng(7)
    x, _, _ = mixture_data(rng, 200, 2, 2)
    sk = GaussianMixture(2, covariance_type="full", random_state=0).fit(x)
    params = gmm.GaussianMixtureParams(sk.weights_, sk.means_, sk.covariances_)
    np.testing.assert_allclose(gmm.predict_proba(x, params), sk.predict_proba(x), rtol=1e-8, atol=1e-12)
    assert gmm.log_likelihood(x, params) / len(x) == pytest.approx(sk.score(x), rel=1e-10)


# ---------------------------------------------------------------------------
# the M-step
# ---------------------------------------------------------------------------

def expected_complete_log_likelihood(x, responsibilities, weights, means, variances):
    """Q(θ | θ(t)) = Σ_i Σ_k γ_ik [log π_k + log N(x_i | μ_k, σ_k²)] (1-D), written with scipy."""
    log_joint = np.log(weights) + stats.norm.logpdf(x[:, None], means, np.sqrt(variances))
    return float((responsibilities * log_joint).sum())


def maximise_q_numerically(x, responsibilities):
    """argmax of Q over (μ, log σ², softmax logits) by BFGS: no closed form used."""
    k = responsibilities.shape[1]

    def unpack(theta):
        means, log_variances, logits = theta[:k], theta[k:2 * k], theta[2 * k:]
        return special.softmax(logits), means, np.exp(log_variances)

    def minus_q(theta):
        return -expected_complete_log_likelihood(x, responsibilities, *unpack(theta)) / len(x)

    start = np.concatenate([np.full(k, x.mean()) + np.linspace(-1, 1, k), np.zeros(k), np.zeros(k)])
    solution = optimize.minimize(minus_q, start, method="BFGS", options={"gtol": 1e-10, "maxiter": 10_000})
    return unpack(solution.x)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_m_step_1d_is_the_numerical_maximiser_of_q(seed):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(0, 1, 40), rng.normal(4, 1.5, 30)])
    responsibilities = rng.dirichlet([1.0, 1.0, 1.0], size=len(x))  # any γ: the M-step maximises Q for it
    closed_form = gmm.m_step(x, responsibilities, reg_covar=0.0)
    numerical = maximise_q_numerically(x, responsibilities)

    np.testing.assert_allclose(closed_form.weights, numerical[0], rtol=1e-5)
    np.testing.assert_allclose(closed_form.means, numerical[1], rtol=1e-5)
    np.testing.assert_allclose(closed_form.covariances, numerical[2], rtol=1e-5)
    q_closed = expected_complete_log_likelihood(x, responsibilities, *as_tuple(closed_form))
    q_numerical = expected_complete_log_likelihood(x, responsibilities, *numerical)
    assert q_closed >= q_numerical - 1e-10 * abs(q_closed)


def test_m_step_1d_beats_every_random_perturbation_of_itself():
    rng = np.random.default_rng(8)
    x = rng.normal(0, 2, 60)
    responsibilities = rng.dirichlet([1.0, 1.0], size=len(x))
    best = gmm.m_step(x, responsibilities)
    q_best = expected_complete_log_likelihood(x, responsibilities, *as_tuple(best))
    for _ in range(50):
        weights = special.softmax(np.log(best.weights) + rng.normal(scale=0.1, size=2))
        means = best.means + rng.normal(scale=0.1, size=2)
        variances = best.covariances * np.exp(rng.normal(scale=0.1, size=2))
        assert expected_complete_log_likelihood(x, responsibilities, weights, means, variances) < q_best


def test_m_step_2d_is_weighted_mean_and_biased_weighted_covariance():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(80, 2)) @ np.array([[2.0, 0.5], [0.0, 1.0]])
    responsibilities = rng.dirichlet([1.0, 1.0, 1.0], size=len(x))
    params = gmm.m_step(x, responsibilities)
    totals = responsibilities.sum(axis=0)
    np.testing.assert_allclose(params.weights, totals / len(x), rtol=1e-12)
    for k in range(3):
        weights_k = responsibilities[:, k]
        np.testing.assert_allclose(params.means[k], np.average(x, axis=0, weights=weights_k), rtol=1e-12)
        np.testing.assert_allclose(params.covariances[k], np.cov(x.T, aweights=weights_k, bias=True),
                                   rtol=1e-10)


@pytest.mark.parametrize("dimension", [0, 2])
def test_m_step_reg_covar_floors_every_variance_and_eigenvalue(dimension):
    rng = np.random.default_rng(10)
    x = rng.normal(size=60) if dimension == 0 else rng.normal(size=(60, dimension)) * [1.0, 0.1][:dimension]
    responsibilities = rng.dirichlet([1.0, 1.0], size=len(x))
    plain = gmm.m_step(x, responsibilities, reg_covar=0.0)
    floor = 0.25
    regularised = gmm.m_step(x, responsibilities, reg_covar=floor)
    if dimension == 0:
        expected = np.maximum(plain.covariances, floor)
    else:
        eigenvalues, eigenvectors = np.linalg.eigh(plain.covariances)
        expected = np.array([v @ np.diag(np.maximum(w, floor)) @ v.T for w, v in zip(eigenvalues, eigenvectors)])
    np.testing.assert_allclose(regularised.covariances, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(regularised.means, plain.means, rtol=1e-12)
    np.testing.assert_allclose(regularised.weights, plain.weights, rtol=1e-12)


def _expected_log_joint(x, params, responsibilities):
    """Q(θ | θ(t)) = Σ_i Σ_k γ_ik (log π_k + log N(x_i | μ_k, Σ_k)), computed with scipy."""
    columns = []
    for k in range(params.n_components):
        if params.is_1d:
            log_density = stats.norm.logpdf(x, params.means[k], np.sqrt(params.covariances[k]))
        else:
            log_density = stats.multivariate_normal.logpdf(x, params.means[k], params.covariances[k])
        columns.append(np.log(params.weights[k]) + log_density)
    return float((responsibilities * np.column_stack(columns)).sum())


def _clip_eigenvalues(matrix, floor):
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return eigenvectors @ np.diag(np.maximum(eigenvalues, floor)) @ eigenvectors.T


@pytest.mark.parametrize("dimension", [0, 2])
def test_m_step_with_reg_covar_maximises_q_over_the_allowed_covariances(dimension):
    """The floored M-step beats every other parameter set whose variances (eigenvalues) are
    at least reg_covar: scikit-learn's "add to the diagonal", and random perturbations."""
    rng = np.random.default_rng(12)
    x = rng.normal(size=40) if dimension == 0 else rng.normal(size=(40, dimension)) * [1.0, 0.05]
    responsibilities = rng.dirichlet([0.3, 0.3], size=len(x))
    floor = 0.2
    best = gmm.m_step(x, responsibilities, reg_covar=floor)
    best_q = _expected_log_joint(x, best, responsibilities)
    plain = gmm.m_step(x, responsibilities, reg_covar=0.0)
    added = plain.covariances + (floor if dimension == 0 else floor * np.eye(dimension))
    rivals = [gmm.GaussianMixtureParams(plain.weights, plain.means, added)]
    for _ in range(50):
        scale = np.exp(rng.normal(scale=0.3, size=best.covariances.shape[:1]))
        covariances = best.covariances * (scale if dimension == 0 else scale[:, None, None])
        if dimension:  # rotate a little, then keep every eigenvalue at least the floor
            angle = rng.normal(scale=0.2)
            rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            covariances = np.array([_clip_eigenvalues(rotation @ c @ rotation.T, floor) for c in covariances])
        else:
            covariances = np.maximum(covariances, floor)
        rivals.append(gmm.GaussianMixtureParams(best.weights, best.means + rng.normal(scale=0.05, size=best.means.shape),
                                                covariances))
    for rival in rivals:
        smallest = rival.covariances if dimension == 0 else np.linalg.eigvalsh(rival.covariances)[:, 0]
        assert np.all(smallest >= floor - 1e-12)
        assert _expected_log_joint(x, rival, responsibilities) <= best_q + 1e-9


def test_m_step_with_one_hot_responsibilities_is_the_per_class_mle():
    rng = np.random.default_rng(11)
    x = rng.normal(size=30)
    z = np.arange(30) % 3
    params = gmm.m_step(x, np.eye(3)[z])
    np.testing.assert_allclose(params.weights, [1 / 3] * 3, rtol=1e-12)
    np.testing.assert_allclose(params.means, [x[z == k].mean() for k in range(3)], rtol=1e-12)
    np.testing.assert_allclose(params.covariances, [x[z == k].var() for k in range(3)], rtol=1e-12)


# ---------------------------------------------------------------------------
# sampling
# ---------------------------------------------------------------------------

def test_sample_1d_follows_the_mixture_distribution(params_1d):
    x, z = gmm.sample(params_1d, 4000, np.random.default_rng(12))
    assert x.shape == (4000,) and z.shape == (4000,)

    def mixture_cdf(points):
        return sum(w * stats.norm.cdf(points, m, np.sqrt(v)) for w, m, v in zip(*as_tuple(params_1d)))

    assert stats.kstest(x, mixture_cdf).pvalue > 1e-3


def test_sample_2d_components_have_the_right_means_covariances_and_frequencies(params_2d):
    n = 20_000
    x, z = gmm.sample(params_2d, n, np.random.default_rng(13))
    assert x.shape == (n, 2) and z.shape == (n,)
    assert set(np.unique(z)) <= {0, 1, 2}
    for k in range(3):
        members = x[z == k]
        n_k = len(members)
        w = params_2d.weights[k]
        assert abs(n_k / n - w) < 5 * np.sqrt(w * (1 - w) / n)
        covariance = params_2d.covariances[k]
        mean_error = np.abs(members.mean(axis=0) - params_2d.means[k])
        assert np.all(mean_error < 5 * np.sqrt(np.diag(covariance) / n_k))
        variance_of_entries = (np.outer(np.diag(covariance), np.diag(covariance)) + covariance ** 2) / n_k
        assert np.all(np.abs(np.cov(members.T) - covariance) < 5 * np.sqrt(variance_of_entries))


def test_sample_is_reproducible_with_the_same_seed(params_2d):
    first = gmm.sample(params_2d, 100, np.random.default_rng(14))
    second = gmm.sample(params_2d, 100, np.random.default_rng(14))
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])


# ---------------------------------------------------------------------------
# model selection
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "n_components, n_features, expected",
    [
        (1, 1, 2),    # a mean and a variance
        (2, 1, 5),    # 2 means, 2 variances, 1 free weight
        (3, 1, 8),
        (1, 2, 5),    # 2 means, 3 covariance entries
        (2, 2, 11),   # 1 weight, 4 means, 2 * 3 covariance entries
        (3, 3, 29),   # 2 weights, 9 means, 3 * 6 covariance entries
    ],
)
def test_n_parameters_counts_the_free_parameters(n_components, n_features, expected):
    rng = np.random.default_rng(15)
    weights = np.full(n_components, 1 / n_components)
    if n_features == 1:
        params = gmm.GaussianMixtureParams(weights, np.arange(n_components, dtype=float), np.ones(n_components))
    else:
        covariances = np.array([random_covariance(rng, n_features) for _ in range(n_components)])
        params = gmm.GaussianMixtureParams(weights, rng.normal(size=(n_components, n_features)), covariances)
    assert gmm.n_parameters(params) == expected


def test_bic_is_minus_twice_the_log_likelihood_plus_the_penalty(points_1d, params_1d):
    expected = -2 * mixture_log_likelihood(points_1d, *as_tuple(params_1d)) + 8 * np.log(len(points_1d))
    assert gmm.bic(points_1d, params_1d) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("n_features", [1, 2])
def test_bic_agrees_with_sklearn(n_features):
    rng = np.random.default_rng(16)
    x, _, _ = mixture_data(rng, 150, 2, n_features)
    x = x.reshape(len(x), n_features)
    sk = GaussianMixture(2, covariance_type="full", random_state=0).fit(x)
    if n_features == 1:
        params = gmm.GaussianMixtureParams(sk.weights_, sk.means_.ravel(), sk.covariances_.ravel())
        emlib_bic = gmm.bic(x.ravel(), params)
    else:
        params = gmm.GaussianMixtureParams(sk.weights_, sk.means_, sk.covariances_)
        emlib_bic = gmm.bic(x, params)
    assert emlib_bic == pytest.approx(sk.bic(x), rel=1e-10)


def test_bic_prefers_two_components_on_two_separated_clusters():
    rng = np.random.default_rng(17)
    x = np.concatenate([rng.normal(0, 1, 150), rng.normal(8, 1, 150)])
    bics = {k: gmm.bic(x, emlib.fit_gmm(x, k, rng=0).params) for k in (1, 2, 3)}
    assert min(bics, key=bics.get) == 2


# ---------------------------------------------------------------------------
# fit_gmm
# ---------------------------------------------------------------------------

def test_fit_gmm_recovers_well_separated_components():
    rng = np.random.default_rng(18)
    x = np.concatenate([rng.normal(-5, 1, 300), rng.normal(5, 2, 700)])
    params = emlib.fit_gmm(x, 2, rng=0).params.sorted_by_mean()
    first, second = x[:300], x[300:]
    # the two clusters hardly overlap: the fit is (nearly) the per-cluster MLE
    np.testing.assert_allclose(params.weights, [0.3, 0.7], atol=1e-3)
    np.testing.assert_allclose(params.means, [first.mean(), second.mean()], atol=1e-2)
    np.testing.assert_allclose(params.covariances, [first.var(), second.var()], rtol=1e-2)


def test_fit_gmm_result_is_consistent_with_its_final_params(data_2d):
    x, _ = data_2d
    result = emlib.fit_gmm(x, 3, rng=1)
    assert isinstance(result.params, gmm.GaussianMixtureParams)
    assert result.converged and result.n_iter < 500
    assert result.log_likelihood == pytest.approx(mixture_log_likelihood(x, *as_tuple(result.params)), rel=1e-12)
    np.testing.assert_allclose(result.expectations, gmm.predict_proba(x, result.params), rtol=1e-12, atol=1e-300)
    assert result.trace[-1][0] is result.params


def test_fit_gmm_ends_at_a_stationary_point_of_the_likelihood(data_1d):
    x, params0 = data_1d
    result = emlib.fit_gmm(x, 2, init=params0, reg_covar=0.0, tol=1e-14, max_iter=10_000)
    fitted = result.params

    def minus_log_likelihood(theta):
        weights = special.softmax(np.array([theta[4], 0.0]))
        return -mixture_log_likelihood(x, weights, theta[:2], np.exp(theta[2:4]))

    theta = np.concatenate([fitted.means, np.log(fitted.covariances), [np.log(fitted.weights[0] / fitted.weights[1])]])
    gradient = optimize.approx_fprime(theta, minus_log_likelihood, 1e-7)
    assert np.max(np.abs(gradient)) < 1e-4
    improved = optimize.minimize(minus_log_likelihood, theta, method="BFGS")
    assert -improved.fun <= result.log_likelihood + 1e-8 * abs(result.log_likelihood)


def test_fit_gmm_with_n_init_keeps_the_best_of_its_starts():
    """The starts of n_init are drawn one after the other from rng (fit_gmm's docstring: the
    run with the highest final log-likelihood is kept)."""
    rng = np.random.default_rng(19)
    x, _, _ = mixture_data(rng, 120, 4, 0, separation=2.5)
    best = emlib.fit_gmm(x, 4, init="random", n_init=5, max_iter=100, rng=np.random.default_rng(3))
    starts_rng = np.random.default_rng(3)
    starts = [gmm.initial_params(x, 4, "random", rng=starts_rng) for _ in range(5)]
    finals = [emlib.fit_gmm(x, 4, init=start, max_iter=100).log_likelihood for start in starts]
    assert len(set(finals)) > 1  # the starts do reach different optima: the choice matters
    assert best.log_likelihood == max(finals)


def test_fit_gmm_with_one_component_is_the_sample_mean_and_variance():
    x = np.random.default_rng(20).normal(3.0, 2.0, 100)
    params = emlib.fit_gmm(x, 1, reg_covar=0.0).params
    np.testing.assert_allclose(params.weights, [1.0])
    np.testing.assert_allclose(params.means, [x.mean()], rtol=1e-12)
    np.testing.assert_allclose(params.covariances, [x.var()], rtol=1e-12)


def test_fit_gmm_accepts_a_python_list():
    x = [0.1, 0.2, 0.15, 5.0, 5.2, 5.1]
    params = emlib.fit_gmm(x, 2, rng=0).params.sorted_by_mean()
    np.testing.assert_allclose(params.means, [0.15, 5.1], rtol=1e-6)


# ---------------------------------------------------------------------------
# initial_params
# ---------------------------------------------------------------------------

def test_initial_params_random_uses_distinct_data_points_and_the_data_variance():
    x = np.random.default_rng(21).normal(size=40)
    params = gmm.initial_params(x, 3, "random", reg_covar=1e-3, rng=0)
    assert len(set(params.means.tolist())) == 3
    assert set(params.means.tolist()) <= set(x.tolist())
    np.testing.assert_allclose(params.weights, [1 / 3] * 3)
    np.testing.assert_allclose(params.covariances, [max(x.var(), 1e-3)] * 3, rtol=1e-12)


def test_initial_params_random_2d_uses_the_data_covariance():
    x = np.random.default_rng(22).normal(size=(40, 2))
    params = gmm.initial_params(x, 2, "random", reg_covar=0.0, rng=0)
    assert all(any(np.array_equal(mean, row) for row in x) for mean in params.means)
    for covariance in params.covariances:
        np.testing.assert_allclose(covariance, np.cov(x.T, bias=True), rtol=1e-12)


def test_initial_params_kmeans_is_the_m_step_on_the_kmeans_clusters():
    x = np.random.default_rng(23).normal(size=60)
    assignments = emlib.kmeans.kmeans(x, 2, rng=np.random.default_rng(5)).expectations
    params = gmm.initial_params(x, 2, "kmeans", reg_covar=0.0, rng=np.random.default_rng(5))
    np.testing.assert_allclose(params.weights, [np.mean(assignments == k) for k in range(2)], rtol=1e-12)
    np.testing.assert_allclose(params.means, [x[assignments == k].mean() for k in range(2)], rtol=1e-12)
    np.testing.assert_allclose(params.covariances, [x[assignments == k].var() for k in range(2)], rtol=1e-12)


def test_initial_params_labels_uses_labelled_points_and_shares_the_rest():
    x = np.array([0.0, 1.0, 2.0, 10.0, 12.0, 5.0, 7.0])
    labels = np.array([0, 0, 0, 1, 1, -1, -1])
    params = gmm.initial_params(x, 2, "labels", labels=labels, reg_covar=0.0)
    responsibilities = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0.5, 0.5], [0.5, 0.5]])
    totals = responsibilities.sum(axis=0)
    means = responsibilities.T @ x / totals
    variances = (responsibilities * (x[:, None] - means) ** 2).sum(axis=0) / totals
    np.testing.assert_allclose(params.weights, totals / len(x), rtol=1e-12)
    np.testing.assert_allclose(params.means, means, rtol=1e-12)
    np.testing.assert_allclose(params.covariances, variances, rtol=1e-12)


def test_initial_params_gives_a_single_point_cluster_a_positive_variance():
    x = np.array([0.0, 0.1, 0.2, 0.3, 50.0])  # k-means puts 50 alone in a cluster
    params = gmm.initial_params(x, 2, "kmeans", reg_covar=0.0, rng=0)
    assert np.all(params.covariances > 0)


def test_initial_params_is_reproducible():
    x = np.random.default_rng(24).normal(size=(50, 2))
    for strategy in ("kmeans", "random"):
        first = gmm.initial_params(x, 3, strategy, rng=7)
        second = gmm.initial_params(x, 3, strategy, rng=np.random.default_rng(7))
        for a, b in zip(as_tuple(first), as_tuple(second)):
            assert np.array_equal(a, b)


# ---------------------------------------------------------------------------
# GaussianMixtureParams
# ---------------------------------------------------------------------------

def test_params_shapes_and_properties(params_1d, params_2d):
    assert params_1d.n_components == 3 and params_1d.is_1d and params_1d.n_features == 1
    assert params_2d.n_components == 3 and not params_2d.is_1d and params_2d.n_features == 2


def test_params_arrays_are_read_only(params_1d, params_2d):
    for params in (params_1d, params_2d):
        for array in as_tuple(params):
            with pytest.raises(ValueError, match="read-only"):
                array[0] = 0.5


def test_params_are_frozen(params_1d):
    with pytest.raises(dataclasses.FrozenInstanceError):
        params_1d.means = np.zeros(3)


def test_params_copy_their_inputs():
    weights, means, variances = np.array([0.5, 0.5]), np.array([0.0, 1.0]), np.array([1.0, 2.0])
    params = gmm.GaussianMixtureParams(weights, means, variances)
    means[0] = 99.0
    variances[1] = 99.0
    assert params.means[0] == 0.0 and params.covariances[1] == 2.0
    assert weights.flags.writeable and means.flags.writeable  # the caller's arrays are left writeable


def test_permuted_reorders_every_array_consistently(params_2d):
    order = [2, 0, 1]
    permuted = params_2d.permuted(order)
    for original, reordered in zip(as_tuple(params_2d), as_tuple(permuted)):
        assert np.array_equal(reordered, original[order])


def test_permuted_describes_the_same_density(params_1d, points_1d):
    np.testing.assert_allclose(gmm.density(points_1d, params_1d.permuted([1, 2, 0])),
                               gmm.density(points_1d, params_1d), rtol=1e-13)


def test_permuted_rejects_a_non_permutation(params_1d):
    with pytest.raises(ValueError, match="permutation"):
        params_1d.permuted([0, 0, 1])


def test_permuted_with_float_order_gives_a_value_error_or_works(params_1d):
    try:
        permuted = params_1d.permuted([1.0, 0.0, 2.0])
    except ValueError:
        return
    assert np.array_equal(permuted.means, params_1d.means[[1, 0, 2]])


def test_sorted_by_mean_sorts_by_the_first_coordinate(params_2d):
    ordered = params_2d.sorted_by_mean()
    assert np.all(np.diff(ordered.means[:, 0]) > 0)
    order = np.argsort(params_2d.means[:, 0])
    assert np.array_equal(ordered.covariances, params_2d.covariances[order])
    assert np.array_equal(ordered.weights, params_2d.weights[order])


def test_sorted_by_mean_1d():
    params = gmm.GaussianMixtureParams([0.1, 0.2, 0.7], [3.0, -1.0, 2.0], [1.0, 2.0, 3.0])
    ordered = params.sorted_by_mean()
    assert ordered.means.tolist() == [-1.0, 2.0, 3.0]
    assert ordered.weights.tolist() == [0.2, 0.7, 0.1]
    assert ordered.covariances.tolist() == [2.0, 3.0, 1.0]


# ---------------------------------------------------------------------------
# nothing modifies its inputs
# ---------------------------------------------------------------------------

def writeable_copy(params):
    return tuple(np.array(a) for a in as_tuple(params))


def assert_unchanged(params, copies):
    for array, copy in zip(as_tuple(params), copies):
        assert np.array_equal(array, copy)


@pytest.mark.parametrize("function", [gmm.e_step, gmm.log_likelihood, gmm.predict_proba, gmm.density,
                                      gmm.log_joint, gmm.component_log_densities, gmm.bic])
def test_evaluation_functions_do_not_modify_x_or_params(function, points_2d, params_2d):
    x = points_2d.copy()
    params_copy = writeable_copy(params_2d)
    function(x, params_2d)
    assert np.array_equal(x, points_2d)
    assert x.flags.writeable
    assert_unchanged(params_2d, params_copy)


def test_e_step_does_not_modify_labels(points_1d, params_1d):
    labels = np.full(len(points_1d), -1)
    labels[:10] = 2
    labels_copy = labels.copy()
    gmm.e_step(points_1d, params_1d, labels=labels)
    assert np.array_equal(labels, labels_copy)


def test_m_step_does_not_modify_x_or_responsibilities(points_1d):
    responsibilities = np.random.default_rng(25).dirichlet([1, 1], size=len(points_1d))
    x, responsibilities_copy = points_1d.copy(), responsibilities.copy()
    gmm.m_step(x, responsibilities, reg_covar=1e-3)
    assert np.array_equal(x, points_1d)
    assert np.array_equal(responsibilities, responsibilities_copy)


def test_fit_gmm_does_not_modify_x_labels_or_init():
    rng = np.random.default_rng(26)
    x = np.concatenate([rng.normal(0, 1, 40), rng.normal(5, 1, 40)])
    labels = np.where(np.arange(80) % 3 == 0, (np.arange(80) >= 40).astype(int), -1)
    weights, means, variances = np.array([0.5, 0.5]), np.array([1.0, 4.0]), np.array([1.0, 1.0])
    init = gmm.GaussianMixtureParams(weights, means, variances)
    copies = [a.copy() for a in (x, labels, weights, means, variances)]
    init_copy = writeable_copy(init)
    emlib.fit_gmm(x, 2, labels=labels, init=init)
    emlib.fit_gmm(x, 2, labels=labels)
    emlib.fit_gmm(x, 2, init="random", n_init=2, rng=0)
    for array, copy in zip((x, labels, weights, means, variances), copies):
        assert np.array_equal(array, copy)
    assert_unchanged(init, init_copy)


def test_trace_keeps_every_iterate_as_it_was(data_1d):
    x, params0 = data_1d
    result = emlib.fit_gmm(x, 2, init=params0, tol=0.0, max_iter=5)
    means = [params.means for params, _ in result.trace]
    assert all(not m.flags.writeable for m in means)
    assert not any(np.array_equal(means[i], means[i + 1]) for i in range(len(means) - 1))
    assert result.trace[0][0] is params0


# ---------------------------------------------------------------------------
# the evidence lower bound (chapter 4)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dimension", [0, 2])
def test_elbo_equals_the_log_likelihood_at_the_posterior_and_is_below_it_elsewhere(dimension):
    rng = np.random.default_rng(30)
    x = rng.normal(size=50) if dimension == 0 else rng.normal(size=(50, dimension))
    params = gmm.m_step(x, rng.dirichlet([1.0, 1.0, 1.0], size=len(x)))
    posterior, log_likelihood = gmm.e_step(x, params)
    np.testing.assert_allclose(gmm.elbo(x, params, posterior), log_likelihood, rtol=1e-12)
    other = rng.dirichlet([1.0, 1.0, 1.0], size=len(x))
    kl = np.sum(other * (np.log(other) - np.log(posterior)))  # KL(q || posterior), summed over points
    np.testing.assert_allclose(log_likelihood - gmm.elbo(x, params, other), kl, rtol=1e-9)
    assert gmm.elbo(x, params, other) < log_likelihood


def test_elbo_treats_zero_q_as_zero_log_zero():
    x = np.array([0.0, 1.0, 5.0])
    params = gmm.GaussianMixtureParams([0.5, 0.5], [0.0, 5.0], [1.0, 1.0])
    hard = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    expected = sum(np.log(0.5) + stats.norm.logpdf(v, m, 1.0) for v, m in zip(x, [0.0, 0.0, 5.0]))
    np.testing.assert_allclose(gmm.elbo(x, params, hard), expected, rtol=1e-12)


def test_elbo_rejects_q_of_the_wrong_shape():
    params = gmm.GaussianMixtureParams([0.5, 0.5], [0.0, 5.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="columns"):
        gmm.elbo(np.zeros(3), params, np.ones((3, 1)))
