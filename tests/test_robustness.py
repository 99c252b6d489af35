"""emlib keeps its promises on every input (issue 10): no NaN or inf for finite input, a clear
ValueError for what it cannot do, and never "converged" after a decrease.

The first part is a property test over adversarial finite inputs (hypothesis); the second
has one test per reproducer of the issue, numbered as there.
"""
import dataclasses
import warnings
from fractions import Fraction

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import emlib  # noqa: E402
from emlib import coins, datasets, gmm, kmeans, linkage, plotting  # noqa: E402
from emlib.gmm import GaussianMixtureParams  # noqa: E402

X1 = np.array([0.1, 0.5, 2.0, 2.5, 3.0, 4.1])
P1 = GaussianMixtureParams([0.5, 0.5], [1.0, 3.0], [1.0, 1.0])


# ---------------------------------------------------------------------------
# no public function returns NaN or inf for finite input
# ---------------------------------------------------------------------------

def all_finite(value):
    """True if every number in ``value`` (arrays, tuples, EMResults, parameter sets) is finite."""
    if isinstance(value, emlib.EMResult):
        return all_finite((value.params, value.log_likelihood, value.expectations, value.log_likelihoods))
    if isinstance(value, GaussianMixtureParams):
        return all_finite((value.weights, value.means, value.covariances))
    if isinstance(value, (tuple, list)):
        return all(all_finite(item) for item in value)
    array = np.asarray(value)
    return array.dtype.kind not in "fc" or bool(np.all(np.isfinite(array)))


def finite_or_value_error(call):
    """Run ``call``: it must return only finite numbers or raise a ValueError, and NumPy must not
    warn of an overflow or an invalid value on the way."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", emlib.LikelihoodDecreaseWarning)  # a report, tested elsewhere
        warnings.simplefilter("ignore", getattr(emlib, "BoundaryEstimateWarning", UserWarning))
        try:
            result = call()
        except ValueError:
            return
    assert all_finite(result), result


wide = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-300, max_value=1e300)
magnitudes = st.sampled_from([1e-200, 1e-100, 1e-6, 1.0, 1e6, 1e100, 1e154, 1e200])


@st.composite
def extreme_data(draw):
    """Finite 1-D or 2-D data of any magnitude, spread and shift, with its K and a mixture."""
    n = draw(st.integers(min_value=2, max_value=12))
    d = draw(st.sampled_from([0, 2]))
    scale, shift = draw(magnitudes), draw(st.sampled_from([0.0, 1.0, 1e12, 1e300, -1e200]))
    values = np.array(draw(st.lists(st.floats(-1.0, 1.0), min_size=n * max(d, 1), max_size=n * max(d, 1))))
    x = values * scale + shift
    x = x if d == 0 else x.reshape(n, d)
    k = draw(st.integers(min_value=1, max_value=min(3, n)))
    weights = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k)))
    weights /= weights.sum()
    means = np.array(draw(st.lists(wide, min_size=k * max(d, 1), max_size=k * max(d, 1))))
    variances = np.array(draw(st.lists(positive, min_size=k, max_size=k)))
    if d == 0:
        params = (weights, means, variances)
    else:
        params = (weights, means.reshape(k, d), variances[:, None, None] * np.eye(d))
    return x, k, params


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=extreme_data())
def test_no_gaussian_mixture_function_returns_nan_or_inf_for_finite_input(problem):
    x, k, params = problem
    finite_or_value_error(lambda: emlib.fit_gmm(x, k, rng=0, max_iter=20))
    finite_or_value_error(lambda: emlib.fit_gmm(x, k, init="random", rng=0, max_iter=20))
    finite_or_value_error(lambda: kmeans.kmeans(x, k, rng=0))
    finite_or_value_error(lambda: gmm.m_step(x, np.full((len(x), k), 1 / k), reg_covar=1e-6))
    try:
        mixture = GaussianMixtureParams(*params)
    except ValueError:
        return
    for function in (gmm.e_step, gmm.log_likelihood, gmm.predict_proba, gmm.density, gmm.log_joint,
                     gmm.component_log_densities, gmm.bic):
        finite_or_value_error(lambda: function(x, mixture))
    finite_or_value_error(lambda: gmm.elbo(x, mixture, np.full((len(x), k), 1 / k)))
    finite_or_value_error(lambda: gmm.sample(mixture, 5, 0))
    finite_or_value_error(lambda: emlib.fit_gmm(x, k, init=mixture, max_iter=20))


@settings(max_examples=60, deadline=None)
@given(tosses=st.lists(st.text(alphabet="HT", min_size=1, max_size=12), min_size=1, max_size=5),
       theta=st.tuples(st.sampled_from([0.0, 1e-300, 1e-16, 0.3, 0.5, 1 - 1e-16, 1.0]),
                       st.sampled_from([0.0, 1e-300, 0.2, 0.5, 0.999, 1.0])))
def test_no_coin_function_returns_nan_or_inf(tosses, theta):
    counts = coins.head_counts(tosses)
    finite_or_value_error(lambda: coins.e_step(counts, theta))
    finite_or_value_error(lambda: coins.log_likelihood(counts, theta))
    finite_or_value_error(lambda: coins.m_step(counts, coins.e_step(counts, theta)[0]))
    finite_or_value_error(lambda: coins.fit_coins(tosses, theta))


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.sampled_from([0.0, 1.0, 5.0, 125.0, 1e100, 1e300, 1e308]), min_size=4, max_size=4),
       theta=st.sampled_from([0.0, 1e-300, 0.5, 1 - 1e-16, 1.0]))
def test_no_linkage_function_returns_nan_or_inf(counts, theta):
    finite_or_value_error(lambda: linkage.mle(counts))
    finite_or_value_error(lambda: linkage.e_step(counts, theta))
    finite_or_value_error(lambda: linkage.log_likelihood(counts, theta))
    finite_or_value_error(lambda: linkage.fit_linkage(counts, theta))


# ---------------------------------------------------------------------------
# the reproducers, one test each
# ---------------------------------------------------------------------------

def test_1_means_of_shifted_data_are_not_pulled_towards_0():
    result = emlib.fit_gmm(np.array([1e15, 1e15 + 1]), 1)
    assert result.params.means[0] - 1e15 == 0.5
    # x + 1e12 rounds the data (ulp 1.2e-4), so compare with the same rounded data shifted back
    shifted = X1 + 1e12
    with warnings.catch_warnings():
        warnings.simplefilter("error", emlib.LikelihoodDecreaseWarning)
        far = emlib.fit_gmm(shifted, 2, rng=0)
        near = emlib.fit_gmm(shifted - 1e12, 2, rng=0)
    assert far.stop_reason == "converged"
    assert far.log_likelihood == pytest.approx(near.log_likelihood, rel=1e-12)
    np.testing.assert_allclose(far.params.means - 1e12, near.params.means, atol=2e-4)


def test_1_an_m_step_leaves_a_nonempty_component_unbiased():
    x = np.array([1e15, 1e15 + 1])
    params = gmm.m_step(x, np.ones((2, 1)))
    assert params.means[0] - 1e15 == 0.5 and params.covariances[0] == 0.25


def test_2_the_d_dimensional_e_step_centres_before_squaring():
    r = np.random.default_rng(2)
    x = np.c_[1.7e12 + np.r_[r.normal(0, 1e3, 50), r.normal(1e4, 1e3, 50)],
              np.r_[r.normal(0, 1, 50), r.normal(3, 1, 50)]]
    centred = x - [1.7e12, 0.0]  # exact: the same data
    with warnings.catch_warnings():
        warnings.simplefilter("error", emlib.LikelihoodDecreaseWarning)
        far = emlib.fit_gmm(x, 2, rng=0, tol=1e-12)
        near = emlib.fit_gmm(centred, 2, rng=0, tol=1e-12)
    assert far.log_likelihood == pytest.approx(near.log_likelihood, rel=1e-12)
    # and the public E-step agrees with the one on centred data
    moved = GaussianMixtureParams(near.params.weights, near.params.means + [1.7e12, 0.0], near.params.covariances)
    assert gmm.log_likelihood(x, moved) == pytest.approx(near.log_likelihood, rel=1e-12)


def test_3_more_dimensions_than_points_does_not_decrease_the_likelihood():
    x = np.random.default_rng(1).normal(size=(3, 5)) * 1000
    with warnings.catch_warnings():
        warnings.simplefilter("error", emlib.LikelihoodDecreaseWarning)
        with pytest.warns(emlib.BoundaryEstimateWarning, match="smallest eigenvalue"):  # 3 points span 2 of 5 dimensions
            result = emlib.fit_gmm(x, 1, rng=0)
    assert result.converged and result.stop_reason == "converged"
    assert np.all(np.diff(result.log_likelihoods) >= 0)
    np.testing.assert_allclose(result.params.means[0], x.mean(axis=0), rtol=1e-12)


def test_4_a_decrease_is_never_reported_as_convergence():
    with pytest.warns(emlib.LikelihoodDecreaseWarning):
        result = emlib.em(None, 0.0, lambda d, p: (p, -p), lambda d, e: e + 1.0, max_iter=10)
    assert result.converged is False
    assert result.stop_reason == "likelihood_decreased"
    assert result.params == 0.0 and result.log_likelihood == 0.0  # the better iterate is kept
    assert "decreased" in result.message
    assert [value for _, value in result.trace] == [-0.0, -1.0]  # the rejected iterate is shown


def test_4_stop_reasons_say_what_happened():
    rising = emlib.em(None, 0, lambda d, t: (t, float(t)), lambda d, e: e + 1, tol=0.0, max_iter=3)
    assert (rising.stop_reason, rising.converged) == ("max_iter", False) and "max_iter" in rising.message
    flat = emlib.em(None, 0, lambda d, t: (t, 1.0), lambda d, e: e + 1, tol=0.0, max_iter=3)
    assert (flat.stop_reason, flat.converged) == ("converged", True) and "converged" in flat.message
    assert emlib.fit_gmm(X1, 2, rng=0).stop_reason == "converged"
    assert "stop_reason" in {field.name for field in dataclasses.fields(emlib.EMResult)}


@pytest.mark.parametrize("weights", [[0.5, 0.5 - 5e-7], [0.5, 0.5 + 1e-9], [0.3, 0.3, 0.3]])
def test_5_weights_that_do_not_sum_to_1_are_refused(weights):
    k = len(weights)
    with pytest.raises(ValueError, match="must sum to 1"):
        GaussianMixtureParams(weights, np.arange(k, dtype=float), np.ones(k))


def test_5_weights_from_a_readers_own_m_step_are_accepted_and_stored_normalised():
    """N_k / n computed from responsibilities sums to 1 only up to rounding that grows with n:
    such weights are accepted, and stored divided by their sum."""
    rng = np.random.default_rng(55)
    responsibilities = rng.dirichlet([0.5, 0.5], size=100_000)
    weights = responsibilities.sum(axis=0) / len(responsibilities)
    params = GaussianMixtureParams(weights, [0.0, 1.0], [1.0, 1.0])
    assert abs(params.weights.sum() - 1) <= 8 * np.finfo(float).eps
    np.testing.assert_allclose(params.weights, weights, rtol=1e-10)
    off = GaussianMixtureParams([0.5, 0.5 + 5e-11], [0.0, 1.0], [1.0, 1.0])
    assert abs(off.weights.sum() - 1) <= 2 * np.finfo(float).eps
    assert GaussianMixtureParams([0.1, 0.2, 0.7], [0.0, 1.0, 2.0], [1.0] * 3).weights.tolist() == [0.1, 0.2, 0.7]


def test_5_every_accepted_weight_vector_can_be_sampled_from():
    rng = np.random.default_rng(5)
    for k in (1, 2, 7, 50):
        for _ in range(20):
            weights = rng.dirichlet(np.full(k, 0.3))
            weights = np.maximum(weights, 1e-300)
            weights /= weights.sum()
            params = GaussianMixtureParams(weights, np.arange(k, dtype=float), np.ones(k))
            x, z = gmm.sample(params, 10, rng)
            assert x.shape == (10,) and np.all(np.isfinite(x))
    params = GaussianMixtureParams([0.1] * 10, np.arange(10.0), np.ones(10))  # sums to 0.9999999999999999
    assert gmm.sample(params, 3, 0)[0].shape == (3,)


def test_6_anisotropic_healthy_data_are_not_called_collapsed():
    rng = np.random.default_rng(0)
    x = np.c_[rng.normal(0, 1e4, 200), rng.normal(0, 1e-3, 200)]
    params = emlib.fit_gmm(x, 1, reg_covar=0.0).params
    np.testing.assert_allclose(np.diag(params.covariances[0]), x.var(axis=0), rtol=1e-9)
    # the advice the collapse message gives, one floor per dimension, keeps the small dimension intact
    floored = emlib.fit_gmm(x, 1, reg_covar=1e-6 * x.var(axis=0)).params
    np.testing.assert_allclose(np.diag(floored.covariances[0]), x.var(axis=0), rtol=1e-9)


def test_6_a_component_held_at_the_floor_is_a_finite_fit_not_an_error():
    rng = np.random.default_rng(0)
    x = np.r_[np.zeros(20), rng.normal(5e4, 1e4, 20)]
    with pytest.warns(emlib.BoundaryEstimateWarning, match="all equal 0"):  # and it says so
        result = emlib.fit_gmm(x, 2, rng=0)
    assert all_finite(result)
    assert result.params.covariances.min() == 1e-6  # the spike on the zeros, held at reg_covar


def test_6_collapse_messages_say_what_happened():
    with pytest.raises(ValueError, match="no data point is responsible for it"):
        emlib.fit_gmm(np.array([0.0, 0.1, 0.2, 0.3, 0.4]), 2, reg_covar=0.0,
                      init=GaussianMixtureParams([0.5, 0.5], [0.2, 1e3], [0.1, 1e-4]))
    with pytest.raises(ValueError, match=r"x\.var\(axis=0\)") as error:
        emlib.fit_gmm(np.column_stack([np.arange(10.0), 2 * np.arange(10.0)]), 1, reg_covar=0.0)
    assert "single point" not in str(error.value) and "line" in str(error.value)


def test_6_an_empty_component_is_restarted_harmlessly_with_a_floor():
    x = np.random.default_rng(72).normal(1e6, 1.0, 100)
    far = GaussianMixtureParams([0.3, 0.7], [0.0, 1.0], [1.0, 0.5])
    result = emlib.fit_gmm(x, 2, init=far, max_iter=50)
    assert all_finite(result)
    assert result.params.weights.min() <= 1e-200  # the empty component, restarted on the data with no weight
    np.testing.assert_allclose(result.params.means, x.mean(), rtol=1e-12)


def test_7_em_refuses_a_minus_infinite_log_likelihood():
    with pytest.raises(ValueError, match="-inf"):
        emlib.em(None, 0, lambda d, p: (p, -np.inf), lambda d, e: e, max_iter=3)


@pytest.mark.parametrize("call", [
    lambda: kmeans.kmeans([-1e200, 0, 1e200], 2, init=[-1e200, 1e200]),
    lambda: gmm.component_log_densities([0.0, 1.0], GaussianMixtureParams([1.0], [0.0], [1e-310])),
    lambda: gmm.elbo([1e200, 1.0], P1, [[0.5, 0.5], [0.5, 0.5]]),
    lambda: gmm.component_log_densities([1e100], GaussianMixtureParams([1.0], [0.0], [1e-300])),
], ids=["kmeans", "tiny variance", "elbo", "far point"])
def test_7_what_cannot_be_finite_is_a_value_error(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="double precision|smallest normal double"):
            call()


def test_7_finite_answers_where_one_exists():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert linkage.mle((1e308,) * 4) == pytest.approx(linkage.mle((1, 1, 1, 1)), rel=1e-15)
        assert np.isfinite(gmm.component_log_densities([0.0, 1e-140], GaussianMixtureParams([1.0], [0.0], [1e-300]))).all()
        with pytest.raises(ValueError, match="no toss is attributed to coin A"):
            coins.m_step((np.array([0]), np.array([0])), [[0.5, 0.5]])


def test_8_boundary_estimates_are_returned_and_said_in_words():
    with pytest.warns(emlib.BoundaryEstimateWarning, match="boundary"):
        result = coins.fit_coins(["HHHHHHHHHH"])
    assert result.params.tolist() == [1.0, 1.0] and "boundary" in result.message
    with pytest.warns(emlib.BoundaryEstimateWarning, match="θ = 1 lies on the boundary"):
        result = linkage.fit_linkage((0, 0, 0, 5))
    assert result.params == 1.0 and linkage.mle((0, 0, 0, 5)) == 1.0
    with pytest.warns(emlib.BoundaryEstimateWarning, match="θ = 0 lies on the boundary"):
        assert linkage.fit_linkage((0, 5, 0, 0)).params == 0.0


def test_8_a_start_next_to_the_boundary_still_moves():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = coins.fit_coins(theta0=(1e-300, 0.5))
    assert all_finite(result) and result.converged
    assert 0 < result.params[0] < 1


BAD_CALLS = {
    "init as an array": (lambda: emlib.fit_gmm(X1, 2, init=np.array([1.0, 3.0])),
                         "GaussianMixtureParams\\(weights, means, covariances\\)"),
    "huge scale data": (lambda: emlib.fit_gmm(X1 * 1e154, 2), "Rescale the data"),
    "tosses of ints": (lambda: coins.fit_coins([5, 3]), 'strings of "H" and "T"'),
    "tosses None": (lambda: coins.fit_coins(None), 'strings of "H" and "T"'),
    "labels 1e19": (lambda: emlib.fit_gmm(X1, 2, labels=[0, 1e19, -1, -1, -1, -1]), "row 1 has 10000000000000000000"),
    "uint64 label": (lambda: emlib.fit_gmm(X1, 2, labels=np.array([0, 2**64 - 1, 1, 1, 0, 0], dtype=np.uint64)),
                     "row 1 has 18446744073709551615"),
    "plot_mixture_1d params": (lambda: plotting.plot_mixture_1d(X1, "params"), "GaussianMixtureParams"),
    "plot_responsibilities_1d": (lambda: plotting.plot_responsibilities_1d(X1, [0.5] * 6), r"shape \(n, K\)"),
    "plot_mixture_2d 1-D": (lambda: plotting.plot_mixture_2d(X1, P1), "2-D"),
    "animate_em_1d trace": (lambda: plotting.animate_em_1d(X1, "trace"), "EMResult.trace"),
    "covariance_ellipse": (lambda: plotting.covariance_ellipse(None, [0, 0], [1, 2]), "Axes"),
    "plot_log_likelihood": (lambda: plotting.plot_log_likelihood("abc"), "numbers"),
}


@pytest.mark.parametrize("call, message", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_9_errors_are_value_errors_that_say_what_to_do(call, message):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match=message):
            call()


def test_9_any_real_number_type_is_a_reg_covar():
    assert emlib.fit_gmm(X1, 2, rng=0, reg_covar=Fraction(1, 10**6)).log_likelihood == \
        emlib.fit_gmm(X1, 2, rng=0, reg_covar=1e-6).log_likelihood


BAD_INPUTS = {
    "complex data": (lambda: emlib.fit_gmm(X1 + 1j, 2), "complex"),
    "complex weights": (lambda: GaussianMixtureParams(np.array([0.5 + 0j, 0.5]), [0.0, 1.0], [1.0, 1.0]), "complex"),
    "complex responsibilities": (lambda: gmm.m_step(X1, np.full((6, 2), 0.5 + 0j)), "complex"),
    "text data": (lambda: emlib.fit_gmm(["1", "2", "3", "4"], 2), "text"),
    "text means": (lambda: GaussianMixtureParams([0.5, 0.5], ["0", "1"], [1.0, 1.0]), "text"),
    "text responsibilities": (lambda: gmm.m_step(X1, np.full((6, 2), "0.5")), "text"),
    "text kmeans init": (lambda: kmeans.kmeans(X1, 2, init=["0", "1"]), "text"),
    "masked data": (lambda: emlib.fit_gmm(np.ma.masked_array(X1, [0, 0, 0, 0, 0, 1]), 2), "masked"),
    "masked labels": (lambda: emlib.fit_gmm(X1, 2, labels=np.ma.masked_array([0, 1, 0, 1, 0, 1], [0] * 5 + [1])),
                      "mask"),
    "one string of tosses": (lambda: coins.fit_coins("HTHHT"), r"pass \['HTHHT'\]"),
    "more heads than tosses": (lambda: coins.e_step((np.array([12]), np.array([10])), [0.5, 0.6]),
                               "0 <= heads <= tosses"),
    "data path outside the data folder": (lambda: datasets.data_path("../gmm.py"), "plain name"),
    "integers beyond 2**53": (lambda: emlib.fit_gmm(np.array([2**60 + 1, 3, 5], dtype=np.int64), 1), "2\\*\\*53"),
}


@pytest.mark.parametrize("call, message", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_10_bad_input_is_refused_not_silently_accepted(call, message):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. NumPy's ComplexWarning must not be the only sign
        with pytest.raises(ValueError, match=message):
            call()


def test_10_a_masked_array_with_nothing_masked_is_its_data():
    assert emlib.fit_gmm(np.ma.masked_array(X1), 2, rng=0).log_likelihood == \
        emlib.fit_gmm(X1, 2, rng=0).log_likelihood


def test_11_the_same_data_in_c_or_fortran_order_give_the_same_bits():
    x = np.random.default_rng(1).normal(size=(300, 2)) * [1.0, 3.0] + 5
    c_order, f_order = emlib.fit_gmm(x, 2, rng=0), emlib.fit_gmm(np.asfortranarray(x), 2, rng=0)
    assert c_order.log_likelihoods == f_order.log_likelihoods
    assert np.array_equal(c_order.params.covariances, f_order.params.covariances)
