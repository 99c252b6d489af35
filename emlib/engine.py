"""The generic EM loop (chapter 3): any model is an E-step and an M-step.

The loop alternates

* the E-step, ``expectations, log_likelihood = e_step(data, params)``: the
  expectations of the hidden data under p(Z | X, θ(t)), and the observed-data
  log-likelihood log p(X | θ(t)) of the current parameters;
* the M-step, ``params = m_step(data, expectations)``: θ(t+1), the maximiser of
  Q(θ | θ(t)) (chapter 3, the Q-function).

Chapter 4 proves that the log-likelihood never decreases from one iterate to the
next. The loop checks it: a decrease beyond rounding means the model's E-step or
M-step is wrong (or lost precision), and it is reported with a
:class:`LikelihoodDecreaseWarning`. The loop then stops and keeps the better iterate: a
decrease is never reported as convergence. Why the loop stopped is in
``EMResult.stop_reason`` (``"converged"``, ``"max_iter"`` or ``"likelihood_decreased"``),
and in words in ``EMResult.message``.
"""
import math
import numbers
import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable

__all__ = ["em", "EMResult", "LikelihoodDecreaseWarning", "BoundaryEstimateWarning", "report_boundary"]

# A decrease smaller than this (relative to the log-likelihood's size) is rounding.
ROUNDING_SLACK = 1e-9


class LikelihoodDecreaseWarning(RuntimeWarning):
    """The log-likelihood went down between two EM iterates: a bug in a model."""


class BoundaryEstimateWarning(UserWarning):
    """EM's estimate lies on the boundary of the parameter space (e.g. a probability of 0 or 1)."""


@dataclass(frozen=True)
class EMResult:
    """What :func:`em` returns.

    Attributes
    ----------
    params : object
        The final parameters θ(final).
    log_likelihood : float
        log p(X | θ(final)), the observed-data log-likelihood of the final parameters.
    n_iter : int
        The number of M-steps taken (0 if ``max_iter`` was 0).
    converged : bool
        True if the log-likelihood increased by at most the tolerance in the last step
        (never after a decrease beyond rounding).
    trace : list of (params, float)
        ``[(θ(0), log p(X|θ(0))), (θ(1), log p(X|θ(1))), ..., (θ(final), ...)]``. After a
        decrease, its last entry is the rejected iterate, and ``params`` the one before it.
    expectations : object
        The E-step's expectations at the final parameters (e.g. responsibilities).
    stop_reason : str
        ``"converged"`` (the increase fell within the tolerance), ``"max_iter"`` (stopped
        while still rising, or ``max_iter=0``) or ``"likelihood_decreased"`` (an iterate
        lowered the log-likelihood beyond rounding: it was rejected and the loop stopped).
    message : str
        What happened, in words, with what to do about it.
    """

    params: Any
    log_likelihood: float
    n_iter: int
    converged: bool
    trace: list
    expectations: Any
    stop_reason: str = ""
    message: str = ""

    @property
    def log_likelihoods(self):
        """The log-likelihood of every iterate, θ(0) first, as a list of floats."""
        return [log_likelihood for _, log_likelihood in self.trace]


def em(data, params0, e_step: Callable, m_step: Callable, *, tol=1e-8, max_iter=500, callback=None):
    """Run the EM algorithm from ``params0`` until the log-likelihood stops increasing.

    Parameters
    ----------
    data : object
        The observed data X, passed unchanged to ``e_step`` and ``m_step``.
    params0 : object
        The initial parameters θ(0).
    e_step : callable
        ``e_step(data, params) -> (expectations, log_likelihood)``: the expectations of
        the hidden data under p(Z | X, θ) and the observed-data log-likelihood log p(X | θ).
    m_step : callable
        ``m_step(data, expectations) -> params``: the maximiser of Q(θ | θ(t)).
    tol : float, default 1e-8
        Stop when the log-likelihood increases by at most ``tol * max(1, |log-likelihood|)``
        in one iteration (absolute for small log-likelihoods, relative for large ones).
    max_iter : int, default 500
        The largest number of iterations (M-steps).
    callback : callable, optional
        ``callback(iteration, params, log_likelihood)``, called for θ(0) (iteration 0)
        and after every iteration; its return value is ignored.

    Returns
    -------
    EMResult
        The final parameters and log-likelihood, the number of iterations, whether the
        loop converged, and the trace of every iterate with its log-likelihood.

    Warns
    -----
    LikelihoodDecreaseWarning
        If the log-likelihood decreases beyond rounding (chapter 4 proves it cannot); the
        loop then stops and returns the iterate before the decrease, with
        ``stop_reason="likelihood_decreased"`` and ``converged=False``.

    Raises
    ------
    ValueError
        If ``tol`` or ``max_iter`` is invalid, or ``e_step`` returns a log-likelihood
        that is NaN or infinite.
    """
    _check_loop_settings(tol, max_iter)
    params = params0
    expectations, log_likelihood = _run_e_step(e_step, data, params, iteration=0)
    trace = [(params, log_likelihood)]
    if callback is not None:
        callback(0, params, log_likelihood)
    iteration = 0
    for iteration in range(1, int(max_iter) + 1):
        new_params = m_step(data, expectations)
        new_expectations, new_log_likelihood = _run_e_step(e_step, data, new_params, iteration)
        trace.append((new_params, new_log_likelihood))
        if callback is not None:
            callback(iteration, new_params, new_log_likelihood)
        increase = new_log_likelihood - log_likelihood
        if _decreased(increase, log_likelihood):  # keep θ(t), the better iterate, and stop
            message = _warn_decreased(log_likelihood, new_log_likelihood, iteration)
            return EMResult(params, log_likelihood, iteration, False, trace, expectations,
                            "likelihood_decreased", message)
        params, expectations, log_likelihood = new_params, new_expectations, new_log_likelihood
        if increase <= tol * max(1.0, abs(log_likelihood)):
            message = (f"converged after {iteration} iteration(s): the log-likelihood changed by {increase:.3g} "
                       f"in the last one, within tol={tol:g} times max(1, |log-likelihood|).")
            return EMResult(params, log_likelihood, iteration, True, trace, expectations, "converged", message)
    if max_iter == 0:
        message = "max_iter=0: no iteration was run; params are the initial ones."
    else:
        message = (f"stopped at max_iter={int(max_iter)} while the log-likelihood was still rising "
                   f"(by {trace[-1][1] - trace[-2][1]:.3g} in the last iteration); "
                   "raise max_iter (or tol) to run to convergence.")
    return EMResult(params, log_likelihood, iteration, False, trace, expectations, "max_iter", message)


def _check_loop_settings(tol, max_iter):
    if isinstance(tol, bool) or not (isinstance(tol, numbers.Real) and math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}; e.g. tol=1e-8.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 0:
        raise ValueError(f"max_iter must be an integer >= 0, got {max_iter!r}; e.g. max_iter=500.")


def _run_e_step(e_step, data, params, iteration):
    expectations, log_likelihood = e_step(data, params)
    try:
        log_likelihood = float(log_likelihood)
    except (TypeError, ValueError):
        raise ValueError(f"the E-step must return (expectations, log-likelihood as a number); "
                         f"at iteration {iteration} it returned {log_likelihood!r} as the log-likelihood.") from None
    if math.isnan(log_likelihood) or log_likelihood == math.inf:
        raise ValueError(
            f"the E-step returned a log-likelihood of {log_likelihood} at iteration {iteration}; "
            "the parameters have degenerated (e.g. a component collapsed onto one point): "
            "regularise the M-step or start from other parameters."
        )
    if log_likelihood == -math.inf:
        raise ValueError(
            f"the E-step returned a log-likelihood of -inf at iteration {iteration}: the parameters give "
            "the data (numerically) zero probability, so EM has nothing to climb from. Start from "
            "parameters under which every data point is possible."
        )
    return expectations, log_likelihood


def _decreased(increase, old):
    """True for a decrease beyond rounding (chapter 4 proves EM cannot decrease)."""
    return increase < -ROUNDING_SLACK * max(1.0, abs(old))


def _warn_decreased(old, new, iteration):
    message = (f"the log-likelihood decreased at iteration {iteration}, from {old!r} to {new!r}; "
               "EM never decreases it (chapter 4), so the model's E-step or M-step is wrong or lost "
               f"precision. Stopped and kept iteration {iteration - 1}, the better one.")
    warnings.warn(message, LikelihoodDecreaseWarning, stacklevel=3)
    return message


def report_boundary(result, which, why):
    """``result`` with a message (and a :class:`BoundaryEstimateWarning`) saying that the
    estimate ``which`` lies on the boundary of the parameter space, and ``why``."""
    verb = "lie" if " and " in which else "lies"
    note = (f"{which} {verb} on the boundary of [0, 1]: {why}. That is the maximum-likelihood estimate "
            "for these data, not an error; with so few observations, a prior (a MAP estimate, chapter 6) "
            "would keep it inside.")
    warnings.warn(note, BoundaryEstimateWarning, stacklevel=3)
    return replace(result, message=f"{result.message} {note}".strip())
