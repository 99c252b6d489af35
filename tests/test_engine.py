"""The generic EM loop, emlib.em: trace, stopping rule, callback, warnings and errors.

Most tests drive the loop with a scripted model: the parameters are the iteration
number t, the M-step returns t + 1, and the E-step returns a log-likelihood read from
a list, so every branch of the loop can be reached exactly.
"""
import math
import warnings

import numpy as np
import pytest

import emlib
from emlib import gmm


def scripted_model(log_likelihoods):
    """An (e_step, m_step) pair whose θ(t) = t has log-likelihood log_likelihoods[t]."""

    def e_step(data, t):
        return ("expectations at", t), log_likelihoods[t]

    def m_step(data, expectations):
        return expectations[1] + 1

    return e_step, m_step


# ---------------------------------------------------------------------------
# the trace and the counters
# ---------------------------------------------------------------------------

def test_trace_holds_every_iterate_from_theta0_with_its_log_likelihood():
    log_likelihoods = [-10.0, -5.0, -4.0, -3.5]
    result = emlib.em(None, 0, *scripted_model(log_likelihoods), tol=0.0, max_iter=3)
    assert result.trace == [(0, -10.0), (1, -5.0), (2, -4.0), (3, -3.5)]
    assert len(result.trace) == result.n_iter + 1


def test_result_params_and_log_likelihood_are_the_last_iterate():
    log_likelihoods = [-10.0, -5.0, -4.0, -3.5]
    result = emlib.em(None, 0, *scripted_model(log_likelihoods), tol=0.0, max_iter=3)
    assert result.params == 3
    assert result.log_likelihood == -3.5
    assert result.log_likelihoods == [-10.0, -5.0, -4.0, -3.5]


def test_expectations_are_those_of_the_final_params():
    log_likelihoods = [-10.0, -5.0, -4.0]
    result = emlib.em(None, 0, *scripted_model(log_likelihoods), tol=0.0, max_iter=2)
    assert result.expectations == ("expectations at", 2)


def test_stops_at_max_iter_without_converging_while_the_likelihood_still_rises():
    log_likelihoods = [float(t) for t in range(10)]  # rises by 1 every step
    result = emlib.em(None, 0, *scripted_model(log_likelihoods), tol=1e-8, max_iter=5)
    assert result.n_iter == 5
    assert result.converged is False
    assert len(result.trace) == 6


def test_max_iter_zero_returns_the_initial_params_unchanged():
    params0 = object()
    calls = []

    def e_step(data, params):
        calls.append(params)
        return "expectations", -1.5

    def m_step(data, expectations):  # must never run
        raise AssertionError("the M-step ran although max_iter=0")

    result = emlib.em(None, params0, e_step, m_step, max_iter=0)
    assert result.params is params0
    assert result.n_iter == 0
    assert result.converged is False
    assert result.trace == [(params0, -1.5)]
    assert result.log_likelihood == -1.5
    assert result.expectations == "expectations"
    assert calls == [params0]


def test_converges_as_soon_as_the_increase_is_within_tolerance():
    log_likelihoods = [-10.0, -5.0, -5.0 + 1e-12, -4.0]
    result = emlib.em(None, 0, *scripted_model(log_likelihoods), tol=1e-8, max_iter=100)
    assert result.converged is True
    assert result.n_iter == 2
    assert result.params == 2


def test_zero_tolerance_stops_when_the_likelihood_stays_equal():
    log_likelihoods = [1.0, 2.0, 2.0, 3.0]
    result = emlib.em(None, 0, *scripted_model(log_likelihoods), tol=0.0, max_iter=100)
    assert result.converged is True
    assert result.n_iter == 2


# ---------------------------------------------------------------------------
# the tolerance rule: increase <= tol * max(1, |log-likelihood|)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "last_increase, stops",
    [(0.9e-2, True), (1.1e-2, False)],
)
def test_tolerance_is_relative_for_large_log_likelihoods(last_increase, stops):
    # |ll| = 1e6 and tol = 1e-8: the threshold is 1e-8 * 1e6 = 1e-2.
    base = -1e6
    log_likelihoods = [base - 10.0, base, base + last_increase, base + 1.0]
    result = emlib.em(None, 0, *scripted_model(log_likelihoods), tol=1e-8, max_iter=3)
    assert result.converged is stops
    assert result.n_iter == (2 if stops else 3)


@pytest.mark.parametrize(
    "last_increase, stops",
    [(0.9e-8, True), (1.1e-8, False)],
)
def test_tolerance_is_absolute_for_small_log_likelihoods(last_increase, stops):
    # |ll| = 0.5 < 1: the threshold is tol * 1 = 1e-8, not tol * 0.5.
    log_likelihoods = [-3.0, 0.5, 0.5 + last_increase, 2.0]
    result = emlib.em(None, 0, *scripted_model(log_likelihoods), tol=1e-8, max_iter=3)
    assert result.converged is stops
    assert result.n_iter == (2 if stops else 3)


# ---------------------------------------------------------------------------
# the callback
# ---------------------------------------------------------------------------

def test_callback_is_called_for_iteration_zero_and_after_every_iteration():
    log_likelihoods = [-10.0, -5.0, -4.0, -3.5]
    calls = []
    result = emlib.em(None, 0, *scripted_model(log_likelihoods), tol=0.0, max_iter=3,
                      callback=lambda *args: calls.append(args))
    assert calls == [(t, params, ll) for t, (params, ll) in enumerate(result.trace)]
    assert [t for t, _, _ in calls] == [0, 1, 2, 3]


def test_callback_return_value_is_ignored():
    log_likelihoods = [-10.0, -5.0, -4.0]
    result = emlib.em(None, 0, *scripted_model(log_likelihoods), tol=0.0, max_iter=2,
                      callback=lambda *args: True)
    assert result.n_iter == 2


# ---------------------------------------------------------------------------
# a likelihood that decreases is reported
# ---------------------------------------------------------------------------

def test_a_scripted_decrease_warns_and_names_the_iteration():
    log_likelihoods = [-10.0, -5.0, -6.0, -4.0]
    with pytest.warns(emlib.LikelihoodDecreaseWarning, match="iteration 2"):
        emlib.em(None, 0, *scripted_model(log_likelihoods), tol=0.0, max_iter=3)


def test_a_broken_m_step_that_lowers_the_likelihood_warns():
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 2.0, 100)
    mle = emlib.GaussianMixtureParams([1.0], [x.mean()], [x.var()])  # the exact 1-component MLE

    def broken_m_step(data, responsibilities):
        right = gmm.m_step(data, responsibilities)
        return emlib.GaussianMixtureParams(right.weights, right.means + 1.0, right.covariances)

    def e_step(data, params):
        return gmm.e_step(data, params)

    with pytest.warns(emlib.LikelihoodDecreaseWarning, match="iteration 1"):
        emlib.em(x, mle, e_step, broken_m_step, tol=0.0, max_iter=1)


def test_a_decrease_within_rounding_does_not_warn():
    log_likelihoods = [-100.0, -10.0, -10.0 - 1e-13]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = emlib.em(None, 0, *scripted_model(log_likelihoods), tol=0.0, max_iter=2)
    assert result.n_iter == 2


def test_the_real_gmm_model_on_the_engine_does_not_warn(data_1d):
    x, params0 = data_1d
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = emlib.em(x, params0, gmm.e_step, gmm.m_step, tol=1e-10, max_iter=500)
    assert result.converged
    assert np.all(np.diff(result.log_likelihoods) >= 0)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_an_e_step_returning_nan_or_plus_inf_at_the_start_raises(bad):
    with pytest.raises(ValueError, match="iteration 0"):
        emlib.em(None, 0, *scripted_model([bad, 0.0]), max_iter=5)


def test_an_e_step_returning_nan_later_raises_naming_the_iteration():
    with pytest.raises(ValueError, match="iteration 2"):
        emlib.em(None, 0, *scripted_model([-3.0, -2.0, math.nan, -1.0]), tol=0.0, max_iter=5)


@pytest.mark.parametrize("tol", [-1e-8, math.nan, math.inf, "1e-8", None, [1e-8]])
def test_bad_tol_raises(tol):
    with pytest.raises(ValueError, match="tol"):
        emlib.em(None, 0, *scripted_model([0.0, 1.0]), tol=tol)


@pytest.mark.parametrize("max_iter", [-1, 1.5, 10.0, True, "10", None])
def test_bad_max_iter_raises(max_iter):
    with pytest.raises(ValueError, match="max_iter"):
        emlib.em(None, 0, *scripted_model([0.0, 1.0]), max_iter=max_iter)


def test_settings_are_checked_before_any_step_runs():
    def e_step(data, params):
        raise AssertionError("the E-step ran with invalid settings")

    with pytest.raises(ValueError, match="tol"):
        emlib.em(None, 0, e_step, None, tol=-1.0)
