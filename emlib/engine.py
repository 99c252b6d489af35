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

Stopping rules (chapter 4, "when to stop"). The default rule watches the log-likelihood's
increase (``tol``). Near a maximum the log-likelihood is flat to rounding while θ still
moves: it determines θ only to about the square root of machine precision (on the
genetic-linkage example the increase is exactly 0.0 while θ is still 1.8e-9 from the
maximiser). Two more rules exist for that reason:

* ``param_tol``: the relative change of the parameter vector (needs a
  :class:`Parametrisation`, the model's parameters as a vector); it keeps going while θ
  moves, whatever the log-likelihood does, so θ is determined to rounding;
* ``aitken_tol``: Aitken's estimate of the limit of the log-likelihood from its last three
  values (Böhning et al. 1994; McLachlan & Krishnan 2008, sec. 4.9): it stops when the
  log-likelihood still to gain, not the last gain, is small. EM converges linearly, so a
  slow run makes small gains while far from its limit; the increase rule then stops too early.

Acceleration: ``accelerate="squarem"`` runs SQUAREM (Varadhan & Roland 2008), which
extrapolates from two EM steps and falls back to them when the extrapolation leaves the
parameter space or lowers the log-likelihood; the accepted iterates still never decrease
the log-likelihood. ``EMResult.n_e_steps`` counts the E-steps, the cost that acceleration saves.
"""
import math
import numbers
import sys
import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

__all__ = ["em", "EMResult", "Parametrisation", "aitken_limit", "LikelihoodDecreaseWarning",
           "BoundaryEstimateWarning", "report_boundary", "STOP_REASONS", "ACCELERATIONS"]

# A decrease smaller than this (relative to the log-likelihood's size) is rounding.
ROUNDING_SLACK = 1e-9
# Why the loop stopped: the three ways to converge, and the two ways not to.
STOP_REASONS = ("converged", "converged_params", "converged_aitken", "max_iter", "likelihood_decreased")
ACCELERATIONS = (None, "squarem")
# SQUAREM's largest step |α| starts at 1 (the plain double EM step) and is multiplied by
# STEP_FACTOR each time the step length reaches it (Varadhan & Roland 2008, the global
# scheme of the authors' R package SQUAREM: step.max0 = 1, mstep = 4).
STEP_FACTOR = 4.0
# Back-tracking α → (α - 1)/2 ends when α is this close to -1 (then the plain double step is taken),
# and at most this many extrapolated points that cost an E-step are tried per cycle (an infeasible
# point costs nothing). Measured on the benchmark's slow cases: 2 tries save 5-20 % of the E-steps
# over falling back at once (as the authors' R package does); more than 2 change nothing.
BACKTRACK_END = 0.01
MAX_TRIALS = 3


class LikelihoodDecreaseWarning(RuntimeWarning):
    """The log-likelihood went down between two EM iterates: a bug in a model."""


class BoundaryEstimateWarning(UserWarning):
    """EM's estimate lies on the boundary of the parameter space (e.g. a probability of 0 or 1,
    or a mixture component's variance held at the floor ``reg_covar``)."""


@dataclass(frozen=True)
class Parametrisation:
    """A model's parameters as a vector of numbers, and back (for ``param_tol`` and SQUAREM).

    Parameters
    ----------
    to_vector : callable
        ``to_vector(params) -> ndarray of shape (p,)``: θ as a flat float vector. Its entries
        should be on comparable scales (e.g. means divided by the data's standard deviation),
        because the parameter rule and SQUAREM's step length use its norms.
    from_vector : callable
        ``from_vector(vector) -> params, or None``: the parameters of a vector, or ``None`` if
        the vector lies outside the parameter space (a weight <= 0, a covariance that is not
        positive definite or below the variance floor, a probability outside (0, 1)). SQUAREM
        calls it on extrapolated vectors, which may be anywhere.
    """

    to_vector: Callable
    from_vector: Callable


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
        The number of iterations taken (0 if ``max_iter`` was 0): M-steps for plain EM,
        accepted SQUAREM cycles with ``accelerate="squarem"``, each of 1 to 8 E-steps: one per EM
        step (two, or one if the first meets a stopping rule), and two for each extrapolated
        point tried (at most ``MAX_TRIALS``).
    converged : bool
        True if a stopping rule was met (never after a decrease beyond rounding).
    trace : list of (params, float)
        ``[(θ(0), log p(X|θ(0))), (θ(1), log p(X|θ(1))), ..., (θ(final), ...)]``: the
        accepted iterates. After a decrease, its last entry is the rejected iterate, and
        ``params`` the one before it.
    expectations : object
        The E-step's expectations at the final parameters (e.g. responsibilities).
    stop_reason : str
        ``"converged"`` (the log-likelihood's increase fell within ``tol``),
        ``"converged_params"`` (the parameters' relative change fell within ``param_tol``),
        ``"converged_aitken"`` (Aitken's estimate of the log-likelihood still to gain fell
        within ``aitken_tol``), ``"max_iter"`` (stopped while still moving, or ``max_iter=0``)
        or ``"likelihood_decreased"`` (an iterate lowered the log-likelihood beyond rounding:
        it was rejected and the loop stopped).
    message : str
        What happened, in words, with what to do about it.
    n_e_steps : int
        The number of E-steps run, the cost of the fit (plain EM: ``n_iter + 1``).
    e_step_counts : list of int
        For every entry of ``trace``, the number of E-steps run when it was accepted (plain
        EM: 1, 2, 3, ...), so ``plt.plot(result.e_step_counts, result.log_likelihoods)`` draws
        the log-likelihood against the work done.
    """

    params: Any
    log_likelihood: float
    n_iter: int
    converged: bool
    trace: list
    expectations: Any
    stop_reason: str = ""
    message: str = ""
    n_e_steps: int = 0
    e_step_counts: list = ()

    @property
    def log_likelihoods(self):
        """The log-likelihood of every iterate, θ(0) first, as a list of floats."""
        return [log_likelihood for _, log_likelihood in self.trace]


def em(data, params0, e_step: Callable, m_step: Callable, *, tol=1e-8, max_iter=500, callback=None,
       param_tol=None, aitken_tol=None, parametrisation=None, accelerate=None):
    """Run the EM algorithm from ``params0`` until a stopping rule is met.

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
        The default stopping rule: stop when the log-likelihood increases by at most
        ``tol * max(1, |log-likelihood|)`` in one iteration (absolute for small
        log-likelihoods, relative for large ones). Not used when ``param_tol`` or
        ``aitken_tol`` is given: those rules then decide.
    max_iter : int, default 500
        The largest number of iterations (M-steps; SQUAREM cycles when accelerated).
    callback : callable, optional
        ``callback(iteration, params, log_likelihood)``, called for θ(0) (iteration 0)
        and after every iteration; its return value is ignored.
    param_tol : float, optional
        Stop when the parameter vector changes by at most ``param_tol`` relative to its
        size, ``max|v(t+1) - v(t)| <= param_tol * max|v(t+1)|``. Needs ``parametrisation``.
        Unlike ``tol``, it keeps going while the log-likelihood is flat to rounding but θ
        still moves, so it can determine θ to rounding (e.g. ``param_tol=1e-13``).
    aitken_tol : float, optional
        Stop when Aitken's estimate ℓ∞ of the log-likelihood's limit (:func:`aitken_limit`,
        from the last three values) is within ``aitken_tol * max(1, |ℓ(t)|)`` of ℓ(t):
        the gain still to come, not the last gain, is small. It never stops while the
        increases grow (e.g. escaping a saddle point).
    parametrisation : Parametrisation, optional
        The model's parameters as a vector and back; needed by ``param_tol`` and SQUAREM.
    accelerate : {None, "squarem"}, default None
        ``"squarem"``: SQUAREM (Varadhan & Roland 2008, scheme SqS3), see :func:`_squarem_cycle`.
        Needs ``parametrisation``. Same fixed points as plain EM, usually far fewer E-steps.

    Returns
    -------
    EMResult
        The final parameters and log-likelihood, the number of iterations and of E-steps,
        whether and why the loop stopped, and the trace of every accepted iterate.

    Warns
    -----
    LikelihoodDecreaseWarning
        If an EM step decreases the log-likelihood beyond rounding (chapter 4 proves it
        cannot); the loop then stops and returns the iterate before the decrease, with
        ``stop_reason="likelihood_decreased"`` and ``converged=False``.

    Raises
    ------
    ValueError
        If a setting is invalid, or ``e_step`` returns a log-likelihood that is NaN or
        infinite.
    """
    _check_loop_settings(tol, max_iter)
    rules = _stopping_rules(tol, param_tol, aitken_tol, parametrisation)
    _check_accelerate(accelerate, parametrisation)
    run = _Run(data, e_step, m_step, rules, parametrisation, callback)
    run.start(params0)
    for iteration in range(1, int(max_iter) + 1):
        step = run.plain_step if accelerate is None else run.squarem_step
        outcome = step(iteration)
        if outcome is not None:
            return outcome
    return run.result_at_max_iter(max_iter)


def aitken_limit(log_likelihoods):
    """Aitken's estimate of the limit of the log-likelihood from its last three values.

    EM converges linearly: ℓ(t+1) - ℓ(t) ≈ a (ℓ(t) - ℓ(t-1)) with a rate 0 <= a < 1, so the
    gains still to come sum to a geometric series (Böhning, Dietz, Schaub, Schlattmann &
    Lindsay 1994; McLachlan & Krishnan 2008, sec. 4.9)::

        a = (ℓ(t) - ℓ(t-1)) / (ℓ(t-1) - ℓ(t-2)),   ℓ∞ = ℓ(t-1) + (ℓ(t) - ℓ(t-1)) / (1 - a).

    Parameters
    ----------
    log_likelihoods : sequence of float
        At least three values; the last three are used.

    Returns
    -------
    float or None
        ℓ∞, or None where it is not defined: fewer than three values, a previous gain <= 0,
        or a rate outside [0, 1) (the gains grow, e.g. while escaping a saddle point).
    """
    if len(log_likelihoods) < 3:
        return None
    before, previous, last = (float(value) for value in log_likelihoods[-3:])
    previous_gain, last_gain = previous - before, last - previous
    if not previous_gain > 0:
        return None
    rate = last_gain / previous_gain
    if not 0 <= rate < 1:
        return None
    return previous + last_gain / (1 - rate)


# ---------------------------------------------------------------------------
# settings
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Rules:
    """The stopping rules in force: ``tol`` alone, or ``param_tol`` and/or ``aitken_tol``."""

    tol: Any
    param_tol: Any
    aitken_tol: Any


def _check_loop_settings(tol, max_iter):
    if not _is_tolerance(tol):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}; e.g. tol=1e-8.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 0:
        raise ValueError(f"max_iter must be an integer >= 0, got {max_iter!r}; e.g. max_iter=500.")


def _is_tolerance(value):
    return not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value) and value >= 0


def _stopping_rules(tol, param_tol, aitken_tol, parametrisation):
    for name, value, example in (("param_tol", param_tol, "1e-12"), ("aitken_tol", aitken_tol, "1e-10")):
        if value is not None and not _is_tolerance(value):
            raise ValueError(f"{name} must be a finite number >= 0 or None, got {value!r}; e.g. {name}={example}.")
    if parametrisation is not None and not isinstance(parametrisation, Parametrisation):
        raise ValueError(f"parametrisation must be an emlib.Parametrisation(to_vector, from_vector), "
                         f"got {type(parametrisation).__name__}.")
    if param_tol is not None and parametrisation is None:
        raise ValueError("param_tol needs the parameters as a vector: pass "
                         "parametrisation=emlib.Parametrisation(to_vector, from_vector), or use tol or aitken_tol.")
    if param_tol is None and aitken_tol is None:
        return _Rules(tol, None, None)
    return _Rules(None, param_tol, aitken_tol)


def _check_accelerate(accelerate, parametrisation):
    if accelerate is not None and not (isinstance(accelerate, str) and accelerate in ACCELERATIONS):
        raise ValueError(f"accelerate must be None (plain EM) or 'squarem', got {accelerate!r}.")
    if accelerate is not None and parametrisation is None:
        raise ValueError("accelerate='squarem' needs the parameters as a vector: pass "
                         "parametrisation=emlib.Parametrisation(to_vector, from_vector).")


# ---------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------

class _Run:
    """The state of one EM run: the current iterate, the trace, and the E-step count."""

    def __init__(self, data, e_step, m_step, rules, parametrisation, callback):
        self.data, self.e_step, self.m_step = data, e_step, m_step
        self.rules, self.parametrisation, self.callback = rules, parametrisation, callback
        self.n_e_steps = 0
        self.step_max = 1.0  # SQUAREM's largest |α|, adapted as in the authors' R package

    def evaluate(self, params, iteration):
        """One E-step, counted: (expectations, log-likelihood), checked."""
        self.n_e_steps += 1
        return _run_e_step(self.e_step, self.data, params, iteration)

    def start(self, params0):
        self.params = params0
        self.expectations, self.log_likelihood = self.evaluate(params0, 0)
        self.vector = self._vector(params0)
        self.trace, self.e_step_counts = [(params0, self.log_likelihood)], [self.n_e_steps]
        if self.callback is not None:
            self.callback(0, params0, self.log_likelihood)

    def _vector(self, params):
        """θ as a vector (for the parameter rule and SQUAREM), or None without a parametrisation."""
        if self.parametrisation is None:
            return None
        return _as_vector(self.parametrisation.to_vector(params))

    def plain_step(self, iteration):
        """One EM iteration: the M-step, then the E-step at the new parameters (chapter 3)."""
        new_params = self.m_step(self.data, self.expectations)
        new_expectations, new_log_likelihood = self.evaluate(new_params, iteration)
        return self.accept(iteration, new_params, new_expectations, new_log_likelihood)

    def squarem_step(self, iteration):
        """One SQUAREM cycle (Varadhan & Roland 2008, SqS3): see :func:`_squarem_cycle`."""
        outcome = _squarem_cycle(self, iteration)
        if isinstance(outcome, EMResult):
            return outcome
        *accepted, step_reason = outcome
        return self.accept(iteration, *accepted, step_reason=step_reason, accelerated=True)

    def accept(self, iteration, new_params, new_expectations, new_log_likelihood, step_reason=None,
               accelerated=False):
        """Record the new iterate; return an EMResult if the loop stops here, else None.

        Plain EM checks every rule on the step to the new iterate. SQUAREM's cycle has checked
        ``tol`` and ``param_tol`` on its own EM steps (``step_reason``, None if unmet); Aitken's
        rule is checked here, on the accepted iterates."""
        rules = replace(self.rules, tol=None, param_tol=None) if accelerated else self.rules
        self.trace.append((new_params, new_log_likelihood))
        self.e_step_counts.append(self.n_e_steps)
        if self.callback is not None:
            self.callback(iteration, new_params, new_log_likelihood)
        old_log_likelihood, old_vector = self.log_likelihood, self.vector
        if _decreased(new_log_likelihood - old_log_likelihood, old_log_likelihood):
            return self.stop_decreased(old_log_likelihood, new_log_likelihood, iteration)
        self.params, self.expectations, self.log_likelihood = new_params, new_expectations, new_log_likelihood
        self.vector = self._vector(new_params)
        last_three = [value for _, value in self.trace[-3:]]
        reason = step_reason or _stop_reason(rules, last_three, old_vector, self.vector)
        if reason is None:
            return None
        stop_reason, why = reason
        message = f"converged after {iteration} iteration(s) ({self.n_e_steps} E-steps): {why}."
        return self.result(iteration, True, stop_reason, message)

    def stop_decreased(self, old, new, iteration):
        """Keep θ(t), the better iterate, and stop (the last trace entry is the rejected one)."""
        message = _warn_decreased(old, new, iteration)
        return self.result(iteration, False, "likelihood_decreased", message)

    def result(self, iteration, converged, stop_reason, message):
        return EMResult(self.params, self.log_likelihood, iteration, converged, self.trace, self.expectations,
                        stop_reason, message, self.n_e_steps, self.e_step_counts)

    def result_at_max_iter(self, max_iter):
        if max_iter == 0:
            message = "max_iter=0: no iteration was run; params are the initial ones."
        else:
            message = (f"stopped at max_iter={int(max_iter)} while still moving (the log-likelihood changed "
                       f"by {self.trace[-1][1] - self.trace[-2][1]:.3g} in the last iteration); "
                       "raise max_iter (or the tolerance) to run to convergence.")
        return self.result(int(max_iter), False, "max_iter", message)


def _as_vector(values):
    vector = np.array(values, dtype=float).ravel()
    if not np.all(np.isfinite(vector)):
        raise ValueError("the parametrisation's to_vector returned NaN or infinite values; it must give "
                         "finite numbers for every valid parameter set.")
    return vector


def _stop_reason(rules, log_likelihoods, old_vector, new_vector):
    """(stop_reason, why) if a stopping rule in force is met by the last iterate, else None."""
    new, old = log_likelihoods[-1], log_likelihoods[-2]
    scale = max(1.0, abs(new))
    if rules.tol is not None and new - old <= rules.tol * scale:
        return "converged", (f"the log-likelihood changed by {new - old:.3g} in the last one, within "
                             f"tol={rules.tol:g} times max(1, |log-likelihood|)")
    if rules.param_tol is not None:
        change = float(np.max(np.abs(new_vector - old_vector), initial=0.0))
        size = float(np.max(np.abs(new_vector), initial=0.0))
        if change <= rules.param_tol * size:
            return "converged_params", (f"the parameters changed by {change:.3g} (largest entry of the vector) in "
                                        f"the last one, within param_tol={rules.param_tol:g} times their size {size:.3g}")
    if rules.aitken_tol is not None:
        limit = aitken_limit(log_likelihoods)
        if limit is not None and limit - new <= rules.aitken_tol * scale:
            return "converged_aitken", (f"Aitken's estimate of the log-likelihood's limit is {limit!r}, "
                                        f"{limit - new:.3g} above the last value, within aitken_tol="
                                        f"{rules.aitken_tol:g} times max(1, |log-likelihood|)")
    return None


# ---------------------------------------------------------------------------
# SQUAREM (Varadhan & Roland 2008)
# ---------------------------------------------------------------------------

def _squarem_cycle(run, iteration):
    """One cycle of SQUAREM, scheme SqS3 (Varadhan & Roland 2008, Scand. J. Statist. 35:335-353).

    From θ0 (vector v0), two EM steps give θ1 = M(θ0) and θ2 = M(θ1). With

        r = v1 - v0,   w = v2 - 2 v1 + v0,   α = -‖r‖ / ‖w‖  (at most -1),

    the extrapolated point is v' = v0 - 2α r + α² w; α = -1 gives v' = v2, the plain double
    EM step. One EM step from θ' stabilises it: θ_new = M(θ'). The step is checked: if θ' is
    outside the parameter space (``from_vector`` returns None), or the stabilised θ'' has a
    lower log-likelihood than θ0 (or the E-step or M-step refuses θ'), α is moved half-way to
    -1, α → (α - 1)/2, and tried again (at most ``MAX_TRIALS`` points that cost E-steps); in
    the end θ2 is taken. So every accepted iterate has a log-likelihood at least θ0's.
    |α| is capped by a bound that starts at 1 and grows 4-fold each time α reaches it
    (the global scheme of the authors' R package SQUAREM), so a run starts cautiously.

    The rules ``tol`` and ``param_tol`` are checked on the cycle's EM steps θ0 → θ1 and
    θ1 → θ2, the residual of EM's map (the R package checks θ0 → θ1): plain and accelerated
    EM then stop by the same measure, and at the same fixed point; when one is met, θ1 (or
    θ2) is the final iterate. (A SQUAREM step itself can be short far from the fixed point,
    e.g. after back-tracking.) ``aitken_tol`` is checked on the accepted iterates.

    Returns
    -------
    (params, expectations, log_likelihood, (stop_reason, why) or None) of the accepted
    iterate, or an EMResult if a plain EM step decreased the log-likelihood (the loop stops, as in plain EM).
    """
    params1 = run.m_step(run.data, run.expectations)
    expectations1, log_likelihood1 = run.evaluate(params1, iteration)
    if _decreased(log_likelihood1 - run.log_likelihood, run.log_likelihood):
        return _stop_at_decrease(run, iteration, params1, log_likelihood1)
    v0, v1 = run.vector, _as_vector(run.parametrisation.to_vector(params1))
    step_rules = replace(run.rules, aitken_tol=None)  # the rules on one EM step: tol, param_tol
    first_step_reason = _stop_reason(step_rules, [run.log_likelihood, log_likelihood1], v0, v1)
    if first_step_reason is not None:
        return params1, expectations1, log_likelihood1, first_step_reason  # EM's own step is within tolerance
    params2 = run.m_step(run.data, expectations1)
    expectations2, log_likelihood2 = run.evaluate(params2, iteration)
    if _decreased(log_likelihood2 - log_likelihood1, log_likelihood1):  # θ1, the better one, is kept
        run.params, run.expectations, run.log_likelihood = params1, expectations1, log_likelihood1
        run.trace.append((params1, log_likelihood1))
        run.e_step_counts.append(run.n_e_steps - 1)
        return _stop_at_decrease(run, iteration, params2, log_likelihood2)
    v2 = _as_vector(run.parametrisation.to_vector(params2))
    second_step_reason = _stop_reason(step_rules, [log_likelihood1, log_likelihood2], v1, v2)
    plain_double_step = (params2, expectations2, log_likelihood2, second_step_reason)
    if second_step_reason is not None:
        return plain_double_step  # EM's second step is within tolerance: stop at θ2, as plain EM would
    r, w = v1 - v0, v2 - 2 * v1 + v0
    raw_alpha = _step_length(r, w)
    alpha = max(raw_alpha, -run.step_max)
    accepted = _extrapolate(run, iteration, v0, r, w, alpha)
    if accepted is None and alpha < -1:
        run.step_max = max(1.0, run.step_max / STEP_FACTOR)
    elif raw_alpha <= -run.step_max:  # the bound held α back: allow longer steps
        run.step_max *= STEP_FACTOR
    return plain_double_step if accepted is None else (*accepted, None)


def _stop_at_decrease(run, iteration, rejected_params, rejected_log_likelihood):
    """A plain EM step inside the cycle decreased the log-likelihood: stop, as plain EM does."""
    old = run.log_likelihood
    run.trace.append((rejected_params, rejected_log_likelihood))
    run.e_step_counts.append(run.n_e_steps)
    return run.stop_decreased(old, rejected_log_likelihood, iteration)


def _step_length(r, w):
    """α = -‖r‖ / ‖w‖ (SqS3), at most -1 (the plain double step); -1 when w = 0."""
    norm_w = float(np.linalg.norm(w))
    if norm_w == 0 or not np.isfinite(norm_w):
        return -1.0
    return min(-float(np.linalg.norm(r)) / norm_w, -1.0)


def _extrapolate(run, iteration, v0, r, w, alpha):
    """The stabilised extrapolated iterate (params, expectations, log-likelihood), back-tracking
    α toward -1 while the extrapolated point is infeasible or lowers the log-likelihood; None if
    every try failed (the caller takes the plain double step)."""
    trials = 0
    while alpha < -1 - BACKTRACK_END and trials < MAX_TRIALS:
        params = run.parametrisation.from_vector(v0 - 2 * alpha * r + alpha ** 2 * w)
        if params is not None:
            trials += 1
            stabilised = _stabilised(run, iteration, params)
            if stabilised is not None:
                return stabilised
        alpha = (alpha - 1) / 2
    return None


def _stabilised(run, iteration, extrapolated):
    """One EM step from the extrapolated θ': (θ'', expectations, log-likelihood), or None if θ''
    has a lower log-likelihood than θ0 or the model refuses θ' (a ValueError at θ').

    The check is made after the stabilising step, as in the authors' R package: θ' may be a
    little lower than θ0 while θ'' = M(θ') is higher (measured: about half the E-steps of
    checking θ' itself on the benchmark's slow cases)."""
    try:
        expectations, log_likelihood = run.evaluate(extrapolated, iteration)
        params = run.m_step(run.data, expectations)
        new_expectations, new_log_likelihood = run.evaluate(params, iteration)
    except ValueError:  # e.g. a point too far from an extrapolated component, a collapse
        return None
    if new_log_likelihood < run.log_likelihood:
        return None
    return params, new_expectations, new_log_likelihood


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
    warnings.warn(message, LikelihoodDecreaseWarning, stacklevel=_stacklevel_outside_engine())
    return message


def _stacklevel_outside_engine():
    """The stacklevel that points a warning at the first caller outside this module."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    return level


def report_boundary(result, which, why):
    """``result`` with a message (and a :class:`BoundaryEstimateWarning`) saying that the
    estimate ``which`` lies on the boundary of the parameter space, and ``why``."""
    verb = "lie" if " and " in which else "lies"
    note = (f"{which} {verb} on the boundary of [0, 1]: {why}. That is the maximum-likelihood estimate "
            "for these data, not an error; with so few observations, a prior (a MAP estimate, chapter 7) "
            "would keep it inside.")
    warnings.warn(note, BoundaryEstimateWarning, stacklevel=3)
    return replace(result, message=f"{result.message} {note}".strip())
