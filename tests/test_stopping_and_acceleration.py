"""Stopping rules (param_tol, aitken_tol) and SQUAREM acceleration in emlib.em (issue 14).

Expected values come from outside the code under test: the genetic-linkage maximiser in
closed form ((15 + √53809) / 394, Dempster, Laird & Rubin 1977), geometric sequences whose
limit is known, the two-coin values printed by Do & Batzoglou (2008), plain EM run to its
fixed point, and independent counts of the E-steps.
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import emlib
from emlib import coins, gmm, linkage
from synthetic import mixture_data

LINKAGE_THETA_STAR = (15 + math.sqrt(53809)) / 394  # the root of 197 θ² - 15 θ - 68 = 0


def scripted_vector_model(thetas, log_likelihoods):
    """(e_step, m_step, parametrisation) whose θ(t) = thetas[t] (a float) has log-likelihood
    log_likelihoods[t]: every branch of the rules can be reached exactly."""

    def e_step(data, t):
        return t, log_likelihoods[t]

    def m_step(data, t):
        return t + 1

    parametrisation = emlib.Parametrisation(lambda t: np.array([thetas[t]]), lambda v: None)
    return e_step, m_step, parametrisation


def counted(e_step):
    """``e_step`` and a list that grows by one entry per call: an independent E-step count."""
    calls = []

    def counting_e_step(data, params):
        calls.append(params)
        return e_step(data, params)

    return counting_e_step, calls


# ---------------------------------------------------------------------------
# the parameter rule
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("last_change, stops", [(1.0e-6, True), (1.2e-6, False)])
def test_param_rule_stops_when_the_relative_change_is_within_param_tol(last_change, stops):
    # θ = 10, 11, 11 + last_change, 20: the threshold at t = 2 is 1e-7 * |θ| ≈ 1.1e-6
    thetas = [10.0, 11.0, 11.0 + last_change, 20.0]
    e_step, m_step, parametrisation = scripted_vector_model(thetas, [-4.0, -3.0, -2.0, -1.0])
    result = emlib.em(None, 0, e_step, m_step, param_tol=1e-7, parametrisation=parametrisation, max_iter=3)
    assert result.converged is stops
    assert result.n_iter == (2 if stops else 3)
    assert result.stop_reason == ("converged_params" if stops else "max_iter")
    if stops:
        assert "param_tol" in result.message


def test_param_rule_keeps_going_while_the_log_likelihood_is_flat_but_theta_moves():
    thetas = [1.0, 1.5, 1.75, 1.875, 1.875]
    flat = [-3.0, -2.0, -2.0, -2.0, -2.0]  # the increase is exactly 0.0 from t = 1 on
    e_step, m_step, parametrisation = scripted_vector_model(thetas, flat)
    by_likelihood = emlib.em(None, 0, e_step, m_step, tol=0.0, max_iter=4)
    by_params = emlib.em(None, 0, e_step, m_step, tol=0.0, param_tol=0.0, parametrisation=parametrisation,
                         max_iter=4)
    assert by_likelihood.n_iter == 2 and by_likelihood.stop_reason == "converged"
    assert by_params.n_iter == 4 and by_params.stop_reason == "converged_params"


def test_linkage_reaches_the_closed_form_maximiser_with_the_parameter_rule():
    result = linkage.fit_linkage(param_tol=1e-14)
    assert result.stop_reason == "converged_params" and result.converged
    assert abs(result.params - LINKAGE_THETA_STAR) < 1e-12


def test_linkage_through_the_engine_reaches_the_closed_form_with_the_parameter_rule():
    counts = np.array(linkage.PAPER_COUNTS, dtype=float)
    result = emlib.em(counts, 0.5, linkage.e_step, linkage.m_step, param_tol=1e-14,
                      parametrisation=linkage.PARAMETRISATION, max_iter=200)
    assert abs(result.params - LINKAGE_THETA_STAR) < 1e-12


def test_parameter_rule_on_a_gmm_lands_on_a_fixed_point_of_em(data_1d):
    x, params0 = data_1d
    result = emlib.fit_gmm(x, 2, init=params0, param_tol=1e-12, max_iter=5000)
    one_more = emlib.fit_gmm(x, 2, init=result.params, tol=0.0, max_iter=1)  # one more EM step
    for before, after in [(result.params.means, one_more.params.means),
                          (result.params.covariances, one_more.params.covariances)]:
        np.testing.assert_allclose(after, before, rtol=1e-10)
    assert result.stop_reason == "converged_params"


# ---------------------------------------------------------------------------
# Aitken's rule
# ---------------------------------------------------------------------------

def test_aitken_limit_of_a_geometric_sequence_is_its_limit():
    limit, rate = -100.0, 0.9
    sequence = [limit - 5.0 * rate ** t for t in range(3)]
    assert emlib.aitken_limit(sequence) == pytest.approx(limit, rel=1e-14)


@pytest.mark.parametrize("sequence", [[-3.0, -2.0], [-3.0, -3.0, -2.0], [-3.0, -2.0, -0.5], [-3.0, -2.0, -2.5]])
def test_aitken_limit_is_undefined_without_three_linearly_converging_values(sequence):
    assert emlib.aitken_limit(sequence) is None


def test_aitken_rule_stops_when_the_gain_still_to_come_is_small():
    # ℓ(t) = -10 - 0.99^t: the gain still to come is 0.99^t (its Aitken estimate is exact), while
    # the last gain 0.01 × 0.99^(t-1) is 100 times smaller. With aitken_tol = 1e-3 (× |ℓ| ≈ 10),
    # the rule must stop at the first t with 0.99^t <= 1e-2, t = 459; the increase rule at the
    # same tolerance stops far earlier, where 0.01 × 0.99^(t-1) <= 1e-2: at t = 1.
    limit, rate = -10.0, 0.99
    log_likelihoods = [limit - rate ** t for t in range(600)]
    e_step, m_step, _ = scripted_vector_model([0.0] * 600, log_likelihoods)
    expected = next(t for t in range(2, 600) if rate ** t <= 1e-3 * abs(log_likelihoods[t]))
    result = emlib.em(None, 0, e_step, m_step, aitken_tol=1e-3, max_iter=599)
    assert result.stop_reason == "converged_aitken" and result.n_iter == expected
    assert emlib.em(None, 0, e_step, m_step, tol=1e-3, max_iter=599).n_iter == 1


def test_aitken_rule_does_not_stop_while_the_gains_grow():
    """Escaping a saddle point, the gains grow: the increase rule stops, Aitken's does not."""
    log_likelihoods = [-10.0 + 1e-12 * 2.0 ** t for t in range(30)]
    e_step, m_step, _ = scripted_vector_model([0.0] * 30, log_likelihoods)
    assert emlib.em(None, 0, e_step, m_step, tol=1e-10, max_iter=29).n_iter == 1
    assert emlib.em(None, 0, e_step, m_step, aitken_tol=1e-10, max_iter=29).stop_reason == "max_iter"


# ---------------------------------------------------------------------------
# settings
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("setting, value, match", [
    ("param_tol", -1.0, "param_tol"), ("param_tol", math.nan, "param_tol"), ("param_tol", "1e-8", "param_tol"),
    ("aitken_tol", math.inf, "aitken_tol"), ("aitken_tol", True, "aitken_tol"),
    ("accelerate", "fast", "accelerate"), ("parametrisation", (len, len), "parametrisation"),
])
def test_bad_settings_raise_before_any_step(setting, value, match):
    def e_step(data, params):
        raise AssertionError("the E-step ran with invalid settings")

    kwargs = {"parametrisation": linkage.PARAMETRISATION, setting: value}
    with pytest.raises(ValueError, match=match):
        emlib.em(None, 0.5, e_step, None, **kwargs)


@pytest.mark.parametrize("kwargs", [{"param_tol": 1e-8}, {"accelerate": "squarem"}])
def test_rules_that_need_a_vector_say_so_without_a_parametrisation(kwargs):
    with pytest.raises(ValueError, match="parametrisation"):
        emlib.em(None, 0.5, linkage.e_step, linkage.m_step, **kwargs)


@pytest.mark.parametrize("setting", ["param_tol", "accelerate"])
def test_fit_gmm_checks_the_new_settings(data_1d, setting):
    x, params0 = data_1d
    with pytest.raises(ValueError, match=setting):
        emlib.fit_gmm(x, 2, init=params0, **{setting: -1.0 if setting == "param_tol" else "newton"})


# ---------------------------------------------------------------------------
# E-step counts
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("accelerate", [None, "squarem"])
def test_n_e_steps_counts_every_e_step_and_e_step_counts_follow_the_trace(accelerate):
    counts = np.array(linkage.PAPER_COUNTS, dtype=float)
    e_step, calls = counted(linkage.e_step)
    result = emlib.em(counts, 0.5, e_step, linkage.m_step, param_tol=1e-14, accelerate=accelerate,
                      parametrisation=linkage.PARAMETRISATION, max_iter=200)
    assert result.n_e_steps == len(calls)
    assert len(result.e_step_counts) == len(result.trace)
    assert result.e_step_counts[-1] == len(calls) and np.all(np.diff(result.e_step_counts) > 0)
    # each trace entry's count is the call at which its parameters were evaluated
    assert [calls[count - 1] for count in result.e_step_counts] == [params for params, _ in result.trace]
    if accelerate is None:
        assert result.e_step_counts == list(range(1, result.n_iter + 2))


# ---------------------------------------------------------------------------
# SQUAREM: same fixed points as EM
# ---------------------------------------------------------------------------

def test_squarem_reaches_the_linkage_closed_form_in_fewer_e_steps():
    plain = linkage.fit_linkage(param_tol=1e-14)
    accelerated = linkage.fit_linkage(param_tol=1e-14, accelerate="squarem")
    assert abs(accelerated.params - LINKAGE_THETA_STAR) < 1e-12
    assert accelerated.n_e_steps < plain.n_e_steps


def test_squarem_reaches_the_two_coin_fixed_point_of_the_paper():
    accelerated = coins.fit_coins(param_tol=1e-13, accelerate="squarem")
    plain = coins.fit_coins(param_tol=1e-13)
    np.testing.assert_allclose(accelerated.params, plain.params, rtol=1e-10)
    np.testing.assert_allclose(accelerated.params, [0.80, 0.52], atol=0.005)  # as Do & Batzoglou print
    counts = coins.head_counts()
    after_one_step = coins.m_step(counts, coins.e_step(counts, accelerated.params)[0])
    np.testing.assert_allclose(after_one_step, accelerated.params, rtol=1e-11)  # a fixed point of EM


def chapter4_nudged_start():
    heights = emlib.datasets.load_register()["height_cm"]
    mean, variance = heights.mean(), heights.var()
    return heights, emlib.GaussianMixtureParams([0.5, 0.5], [mean, mean + 0.01], [variance, variance])


def test_squarem_saves_e_steps_on_chapter_4s_slow_start_and_ends_where_em_ends():
    heights, start = chapter4_nudged_start()
    plain = emlib.fit_gmm(heights, 2, init=start, param_tol=1e-10, max_iter=10_000)
    accelerated = emlib.fit_gmm(heights, 2, init=start, param_tol=1e-10, max_iter=10_000, accelerate="squarem")
    assert accelerated.n_e_steps * 3 < plain.n_e_steps
    assert accelerated.log_likelihood >= plain.log_likelihood - 1e-9 * abs(plain.log_likelihood)
    # plain EM stops where its steps are small, not at the fixed point: compare within its own error
    np.testing.assert_allclose(accelerated.params.means, plain.params.means, rtol=1e-6)
    np.testing.assert_allclose(accelerated.params.covariances, plain.params.covariances, rtol=1e-6)


def test_squarem_with_labels_reaches_the_semi_supervised_fixed_point(data_1d):
    x, params0 = data_1d
    labels = np.full(len(x), -1)
    labels[:10], labels[-10:] = 0, 1
    plain = emlib.fit_gmm(x, 2, labels=labels, init=params0, param_tol=1e-13, max_iter=10_000)
    accelerated = emlib.fit_gmm(x, 2, labels=labels, init=params0, param_tol=1e-13, max_iter=10_000,
                                accelerate="squarem")
    for field in ("weights", "means", "covariances"):
        np.testing.assert_allclose(getattr(accelerated.params, field), getattr(plain.params, field), rtol=1e-9)


def test_squarem_is_deterministic_and_leaves_the_input_alone(data_2d):
    x, params0 = data_2d
    copy = x.copy()
    first = emlib.fit_gmm(x, 3, init=params0, param_tol=1e-10, accelerate="squarem")
    second = emlib.fit_gmm(x, 3, init=params0, param_tol=1e-10, accelerate="squarem")
    assert np.array_equal(x, copy)
    assert first.n_e_steps == second.n_e_steps
    assert first.log_likelihoods == second.log_likelihoods
    assert np.array_equal(first.params.covariances, second.params.covariances)


# ---------------------------------------------------------------------------
# SQUAREM: falling back to plain EM
# ---------------------------------------------------------------------------

def plain_double_steps(fit, **kwargs):
    """The trace of plain EM, every second iterate: what SQUAREM gives when it never extrapolates."""
    return fit(tol=0.0, **kwargs).trace[::2]


def test_squarem_takes_the_plain_double_step_when_every_extrapolation_is_infeasible():
    counts = np.array(linkage.PAPER_COUNTS, dtype=float)
    nowhere = emlib.Parametrisation(linkage.PARAMETRISATION.to_vector, lambda vector: None)
    accelerated = emlib.em(counts, 0.5, linkage.e_step, linkage.m_step, aitken_tol=0.0, max_iter=6,
                           parametrisation=nowhere, accelerate="squarem")
    plain = emlib.em(counts, 0.5, linkage.e_step, linkage.m_step, tol=0.0, max_iter=12)
    assert accelerated.trace == plain.trace[::2]
    assert accelerated.n_e_steps == plain.n_e_steps


def test_squarem_falls_back_when_the_extrapolated_point_lowers_the_log_likelihood():
    """An extrapolation that lands on a poor θ (here always θ = 0.01) is refused for the
    double step, so the run is plain EM's, two steps at a time."""
    counts = np.array(linkage.PAPER_COUNTS, dtype=float)
    poor = emlib.Parametrisation(linkage.PARAMETRISATION.to_vector, lambda vector: 0.01)
    accelerated = emlib.em(counts, 0.1, linkage.e_step, linkage.m_step, aitken_tol=0.0, max_iter=4,
                           parametrisation=poor, accelerate="squarem")
    plain = emlib.em(counts, 0.1, linkage.e_step, linkage.m_step, tol=0.0, max_iter=8)
    assert accelerated.trace == plain.trace[::2]


def test_squarem_still_warns_when_a_models_em_step_decreases_the_log_likelihood():
    counts = np.array(linkage.PAPER_COUNTS, dtype=float)

    def broken_m_step(data, expected_x2):  # right for three steps, then jumps to a poor θ
        broken_m_step.calls += 1
        return 0.05 if broken_m_step.calls == 4 else linkage.m_step(data, expected_x2)

    broken_m_step.calls = 0
    with pytest.warns(emlib.LikelihoodDecreaseWarning):
        result = emlib.em(counts, 0.1, linkage.e_step, broken_m_step, param_tol=0.0, max_iter=50,
                          parametrisation=linkage.PARAMETRISATION, accelerate="squarem")
    assert result.stop_reason == "likelihood_decreased" and not result.converged
    assert result.params != 0.05 and result.log_likelihood == max(result.log_likelihoods[:-1])


# ---------------------------------------------------------------------------
# the mixture's vector: feasibility
# ---------------------------------------------------------------------------

def test_gmm_vector_round_trips_and_has_no_units(data_2d):
    x, params0 = data_2d
    vectors = gmm.parametrisation(x, reg_covar=1e-6)
    back = vectors.from_vector(vectors.to_vector(params0))
    for field in ("weights", "means", "covariances"):
        np.testing.assert_allclose(getattr(back, field), getattr(params0, field), rtol=1e-14, atol=1e-14)
    in_other_units = gmm.parametrisation(100 * x).to_vector(
        emlib.GaussianMixtureParams(params0.weights, 100 * params0.means, 1e4 * params0.covariances))
    np.testing.assert_allclose(in_other_units, vectors.to_vector(params0), rtol=1e-13)


@pytest.mark.parametrize("broken", ["negative weight", "zero weight", "weights off 1", "not positive definite",
                                    "below the floor", "nan"])
def test_gmm_vector_outside_the_parameter_space_gives_none(data_2d, broken):
    x, params0 = data_2d
    vectors = gmm.parametrisation(x, reg_covar=0.5)
    weights, means, covariances = params0.weights.copy(), params0.means.copy(), params0.covariances.copy()
    covariances = covariances + np.eye(2)  # every eigenvalue well above the floor 0.5
    assert vectors.from_vector(vectors.to_vector(emlib.GaussianMixtureParams(weights, means, covariances)))
    if broken == "negative weight":
        weights = np.array([1.2, -0.1, -0.1])
    elif broken == "zero weight":
        weights = np.array([0.5, 0.5, 0.0])
    elif broken == "weights off 1":
        weights = weights * 1.01
    elif broken == "not positive definite":
        covariances[1] = [[1.0, 2.0], [2.0, 1.0]]  # eigenvalues 3 and -1
    elif broken == "below the floor":
        covariances[2] = [[0.4, 0.0], [0.0, 3.0]]  # a variance 0.4 < 0.5
    else:
        means[0, 0] = np.nan
    vector = np.concatenate([weights, means.ravel() / vectors_scale(x),
                             (covariances[:, [0, 1, 1], [0, 0, 1]] / vectors_entry_scale(x)).ravel()])
    assert vectors.from_vector(vector) is None


def vectors_scale(x):
    return np.tile(x.std(axis=0), 3)


def vectors_entry_scale(x):
    s = x.std(axis=0)
    return np.array([s[0] * s[0], s[1] * s[0], s[1] * s[1]])


# ---------------------------------------------------------------------------
# SQUAREM on random mixtures (hypothesis)
# ---------------------------------------------------------------------------

SETTINGS = settings(max_examples=25, deadline=None)


@st.composite
def problems(draw):
    k = draw(st.integers(min_value=2, max_value=3))
    n = draw(st.integers(min_value=40 * k, max_value=300))
    return (draw(st.integers(min_value=0, max_value=2**32 - 1)), n, k, draw(st.sampled_from([0, 2])),
            draw(st.floats(min_value=0.5, max_value=6.0)), draw(st.sampled_from([0.0, 1e-3, 0.3])),
            draw(st.booleans()))


@SETTINGS
@given(problem=problems())
def test_squarem_never_lowers_the_log_likelihood_and_respects_the_floor(problem):
    seed, n, k, dimension, separation, reg_covar, with_labels = problem
    rng = np.random.default_rng(seed)
    x, z, _ = mixture_data(rng, n, k, dimension, separation)
    labels = np.where(rng.random(n) < 0.2, z, -1) if with_labels else None
    with warnings.catch_warnings():
        warnings.simplefilter("error", emlib.LikelihoodDecreaseWarning)
        warnings.simplefilter("ignore", emlib.BoundaryEstimateWarning)  # a fit at the floor is allowed here
        try:
            result = emlib.fit_gmm(x, k, labels=labels, init="random", rng=rng, reg_covar=reg_covar,
                                   param_tol=1e-10, max_iter=300, accelerate="squarem")
        except ValueError as error:  # a collapse without a floor is reported, never NaN
            assert reg_covar == 0.0 and "collapsed" in str(error)
            return
    log_likelihoods = np.array(result.log_likelihoods)
    assert np.all(np.diff(log_likelihoods) >= -1e-9 * np.maximum(1.0, np.abs(log_likelihoods[:-1])))
    for params, _ in result.trace[1:]:
        smallest = params.covariances if dimension == 0 else np.linalg.eigvalsh(params.covariances)[:, 0]
        assert np.all(smallest >= reg_covar * (1 - 1e-9))


@SETTINGS
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), dimension=st.sampled_from([0, 2]),
       k=st.integers(min_value=2, max_value=3))
def test_squarem_and_plain_em_reach_the_same_fixed_point_on_separated_mixtures(seed, dimension, k):
    rng = np.random.default_rng(seed)
    x, z, _ = mixture_data(rng, 200 * k, k, dimension, separation=8.0)
    labels_start = gmm.initial_params(x, k, "labels", labels=z)  # near the truth: one maximum nearby
    plain = emlib.fit_gmm(x, k, init=labels_start, param_tol=1e-13, max_iter=5000)
    accelerated = emlib.fit_gmm(x, k, init=labels_start, param_tol=1e-13, max_iter=5000, accelerate="squarem")
    assert accelerated.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-12)
    for field in ("weights", "means", "covariances"):
        np.testing.assert_allclose(getattr(accelerated.params, field), getattr(plain.params, field),
                                   rtol=1e-7, atol=1e-9)
