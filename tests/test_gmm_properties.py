"""Property tests of Gaussian-mixture EM over many random data sets (hypothesis).

Each example draws a data set from a random mixture (1-D or 2-D, K in 1..4, n in
20..200) with a seeded NumPy generator, so every failure is reproducible from the
seed hypothesis prints.
"""
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import emlib
from emlib import gmm
from synthetic import component_logpdfs, mixture_data, random_mixture

SETTINGS = settings(max_examples=40, deadline=None)

seeds = st.integers(min_value=0, max_value=2**32 - 1)
n_components = st.integers(min_value=1, max_value=4)
dimensions = st.sampled_from([0, 2])  # 0: 1-D data of shape (n,); 2: shape (n, 2)
separations = st.floats(min_value=0.5, max_value=6.0)


@st.composite
def problems(draw, min_components=1):
    """(seed, n, K, dimension, separation): n in 20..200 with at least 15 points per component,
    so that a component rarely covers fewer points than it has dimensions."""
    k = draw(st.integers(min_value=min_components, max_value=4))
    n = draw(st.integers(min_value=max(20, 15 * k), max_value=200))
    return draw(seeds), n, k, draw(dimensions), draw(separations)


def draw_data(seed, n, k, dimension, separation):
    rng = np.random.default_rng(seed)
    x, _, _ = mixture_data(rng, n, k, dimension, separation)
    return x


def assert_never_decreases(log_likelihoods):
    log_likelihoods = np.asarray(log_likelihoods)
    slack = 1e-9 * np.maximum(1.0, np.abs(log_likelihoods[:-1]))
    assert np.all(np.diff(log_likelihoods) >= -slack), np.diff(log_likelihoods).min()


# ---------------------------------------------------------------------------
# the log-likelihood never decreases (chapter 4)
# ---------------------------------------------------------------------------

@SETTINGS
@given(problem=problems(), init=st.sampled_from(["kmeans", "random"]))
def test_log_likelihood_never_decreases_along_the_trace(problem, init):
    """With reg_covar=0 the M-step is the exact maximiser of Q, so chapter 4's theorem holds
    as stated. A component may still collapse; then the fit must say so, never return NaN.
    (With reg_covar > 0 emlib floors the variances, which keeps the M-step an exact
    maximiser over the allowed covariances: see test_numerics.py.)"""
    seed, n, k, dimension, separation = problem
    x = draw_data(seed, n, k, dimension, separation)
    with warnings.catch_warnings():
        warnings.simplefilter("error", emlib.LikelihoodDecreaseWarning)
        try:
            result = emlib.fit_gmm(x, k, init=init, rng=seed, reg_covar=0.0, max_iter=200)
        except ValueError as error:
            assert "collapsed" in str(error)
            return
    assert np.all(np.isfinite(result.log_likelihoods))
    assert_never_decreases(result.log_likelihoods)


# ---------------------------------------------------------------------------
# responsibilities are distributions
# ---------------------------------------------------------------------------

@SETTINGS
@given(seed=seeds, n=st.integers(min_value=20, max_value=200), k=n_components, dimension=dimensions,
       spread=st.floats(min_value=1.0, max_value=1e3))
def test_responsibilities_are_probabilities_whose_rows_sum_to_one(seed, n, k, dimension, spread):
    """For any mixture and any data, even points far from every component. A row is
    exp(log π_k N(x|k) - log p(x)), so its sum is 1 up to a few units of rounding of
    the log-densities: 4 ε max_k |log π_k N(x|k)|, the scale computed here by scipy."""
    rng = np.random.default_rng(seed)
    params = gmm.GaussianMixtureParams(*random_mixture(rng, k, dimension))
    shape = (n,) if dimension == 0 else (n, dimension)
    x = spread * rng.standard_normal(shape)
    responsibilities, log_likelihood = gmm.e_step(x, params)
    assert responsibilities.shape == (n, k)
    assert np.all((responsibilities >= 0) & (responsibilities <= 1))
    log_joint = np.log(params.weights) + component_logpdfs(x, params.means, params.covariances)
    rounding = 4 * np.finfo(float).eps * np.maximum(1.0, np.abs(log_joint).max(axis=1))
    assert np.all(np.abs(responsibilities.sum(axis=1) - 1) <= rounding)
    assert np.isfinite(log_likelihood)


# ---------------------------------------------------------------------------
# relabelling the components changes nothing but their order
# ---------------------------------------------------------------------------

@SETTINGS
@given(problem=problems(min_components=2), data=st.data())
def test_relabelling_the_initial_components_permutes_every_iterate(problem, data):
    seed, n, k, dimension, separation = problem
    x = draw_data(seed, n, k, dimension, separation)
    order = np.array(data.draw(st.permutations(range(k))))
    params0 = gmm.initial_params(x, k, "random", rng=seed)
    # tol=0: both runs go on while the likelihood rises; rounding may end one a step
    # before the other, so compare the iterates both runs reached
    original = emlib.fit_gmm(x, k, init=params0, tol=0.0, max_iter=60)
    relabelled = emlib.fit_gmm(x, k, init=params0.permuted(order), tol=0.0, max_iter=60)
    common = min(len(original.trace), len(relabelled.trace))
    if len(original.trace) != len(relabelled.trace):  # the shorter run stopped on a flat likelihood
        assert min(original, relabelled, key=lambda result: len(result.trace)).converged

    np.testing.assert_allclose(relabelled.log_likelihoods[:common], original.log_likelihoods[:common],
                               rtol=1e-10)
    for (params, _), (reference, _) in zip(relabelled.trace[:common], original.trace[:common]):
        expected = reference.permuted(order)
        np.testing.assert_allclose(params.weights, expected.weights, rtol=1e-8)
        np.testing.assert_allclose(params.means, expected.means, rtol=1e-8, atol=1e-8 * np.abs(x).max())
        np.testing.assert_allclose(params.covariances, expected.covariances, rtol=1e-8,
                                   atol=1e-8 * np.abs(expected.covariances).max())


# ---------------------------------------------------------------------------
# the same rng gives bit-identical results
# ---------------------------------------------------------------------------

def assert_identical(first, second):
    for a, b in zip((first.params.weights, first.params.means, first.params.covariances),
                    (second.params.weights, second.params.means, second.params.covariances)):
        assert np.array_equal(a, b)
    assert first.log_likelihoods == second.log_likelihoods
    assert first.n_iter == second.n_iter
    assert np.array_equal(first.expectations, second.expectations)


@settings(max_examples=30, deadline=None)
@given(problem=problems(), init=st.sampled_from(["kmeans", "random"]), n_init=st.integers(min_value=1, max_value=3))
def test_same_seed_gives_bit_identical_fits(problem, init, n_init):
    seed, n, k, dimension, separation = problem
    x = draw_data(seed, n, k, dimension, separation)
    first = emlib.fit_gmm(x, k, init=init, n_init=n_init, rng=np.random.default_rng(seed), max_iter=50)
    second = emlib.fit_gmm(x.copy(), k, init=init, n_init=n_init, rng=np.random.default_rng(seed), max_iter=50)
    assert_identical(first, second)


def test_an_int_seed_acts_as_default_rng_of_that_seed():
    x = draw_data(5, 100, 3, 2, 3.0)
    assert_identical(emlib.fit_gmm(x, 3, n_init=2, rng=5),
                     emlib.fit_gmm(x, 3, n_init=2, rng=np.random.default_rng(5)))
