"""Automatic checks for the coding exercises of the course (one per exercise).

A student writes a function in a chapter's exercise and passes it to its check, e.g.
``emlib.checks.check_log_sum_exp(log_sum_exp)``. The check calls the function on several
inputs (fixed ones, with the edge cases the chapter warns about, and random ones), compares
with a reference computed here independently (never the solution's code), and prints either
what passed or, on the cell's error stream, what is wrong: the input that failed, what came
back, what was expected, and a hint. The first hint is a nudge; a student who fails the same
check again gets a more explicit one. A visible check never raises, so a notebook run with
"Run All" reaches every check, and every check gives its feedback.

Grading (nbgrader) uses :func:`grade` instead, from the hidden part of each check cell, on a
fresh copy of this module (so nothing a notebook redefined counts) and with new random
inputs on every run; it raises :class:`CheckFailed` on a wrong answer, so the cell scores
zero. :func:`verify` is the same without the printing, for tests.
"""
import sys
import textwrap
import traceback
import warnings
from collections import Counter

import numpy as np

from .gmm import GaussianMixtureParams

__all__ = ["CheckFailed", "CHECKS", "grade", "verify"]

WIDTH = 76  # lines of feedback fit nbgrader validate's 90 columns (it cuts longer lines)


class CheckFailed(AssertionError):
    """A student's function gave a wrong answer; the message says which and why.

    ``hints`` runs from a nudge to an explicit hint."""

    def __init__(self, message, hints=()):
        super().__init__(message)
        self.message = message
        self.hints = (hints,) if isinstance(hints, str) else tuple(hints)

    def _render_traceback_(self):
        """What IPython (and so nbgrader's feedback) shows: the message, without a traceback
        through the hidden grading code and this module."""
        return f"CheckFailed: {self.message}".split("\n")


CHECKS = {}  # exercise label -> the visible check (check_<function name>)
_CORES = {}  # exercise label -> the check itself: core(function, rng, n_random) -> number of cases
_FAILURES = Counter()  # exercise label -> failed visible checks in this kernel (for graded hints)


def _wrap(text):
    return "\n".join(textwrap.fill(paragraph, WIDTH, break_long_words=False, break_on_hyphens=False)
                     if paragraph else "" for paragraph in text.split("\n"))


def _check(label, name):
    """Register ``core`` as the check of exercise ``label``, whose student function is ``name``,
    and define the visible ``check_<name>`` that a chapter calls."""
    def register(core):
        def visible(function):
            _run_visible(label, name, core, function)
        visible.__name__ = visible.__qualname__ = f"check_{name}"
        visible.__doc__ = core.__doc__
        visible.exercise = label
        CHECKS[label] = visible
        _CORES[label] = core
        globals()[visible.__name__] = visible
        return core
    return register


def _visible_rng(label):
    return np.random.default_rng([ord(c) for c in label])  # the same inputs every run


def _run_visible(label, name, core, function):
    try:
        n_cases = core(function, _visible_rng(label), 3)
    except NotImplementedError:
        _report(f"✗ {name}: not written yet (it still raises NotImplementedError). "
                f"Replace the two lines under # YOUR CODE HERE with your code, run that cell, "
                f"then run this one again.")
    except CheckFailed as failure:
        _FAILURES[label] += 1
        hints = failure.hints or ("",)
        level = min(_FAILURES[label], len(hints)) - 1
        hint = hints[level]
        more = " (fail again for a more explicit hint)" if level < len(hints) - 1 else ""
        _report(f"✗ {name}: {failure.message}" + (f"\nHint{more}: {hint}" if hint else ""))
    except Exception as error:  # the student's function raised: say where
        frames = traceback.extract_tb(error.__traceback__)
        where = next((f" (line {f.lineno} of your cell)" for f in reversed(frames)
                      if not f.filename.endswith("checks.py")), "")
        _report(f"✗ {name} raised {type(error).__name__}: {error}{where}. Run your function on a small "
                f"input by hand to see why.")
    else:
        print(f"✓ {name}: all {n_cases} checks passed.")


def _report(message):
    print(_wrap(message), file=sys.stderr)


def verify(label, function, *, rng=None, n_random=3):
    """Run exercise ``label``'s check on ``function``; raise CheckFailed if it is wrong
    (NotImplementedError passes through). Returns the number of cases that passed."""
    return _CORES[label](function, rng if rng is not None else _visible_rng(label), n_random)


def grade(label, function, *, n_random=8):
    """The graded check of exercise ``label`` (the hidden part of a check cell): the visible
    cases and ``n_random`` new random ones. Raises CheckFailed (with the nudge) if wrong."""
    try:
        n_cases = _CORES[label](function, np.random.default_rng(), n_random)
    except CheckFailed as failure:
        hint = failure.hints[0] if failure.hints else ""
        raise CheckFailed(_wrap(f"graded check of {label}: {failure.message}" + (f"\nHint: {hint}" if hint else "")),
                          failure.hints) from None
    except NotImplementedError:
        raise CheckFailed(f"graded check of {label}: not written yet (it still raises NotImplementedError).") from None
    except Exception as error:
        raise CheckFailed(_wrap(f"graded check of {label}: the function raised {type(error).__name__}: "
                                f"{error}")) from None
    print(f"✓ graded check of {label}: all {n_cases} cases passed.")


# ---------------------------------------------------------------------------
# comparing and showing
# ---------------------------------------------------------------------------

def _call(function, *args, **kwargs):
    """Call the student's function without letting NumPy's warnings reach the error stream
    (nbgrader would score any output there as a failure)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return function(*args, **kwargs)


def _show(value):
    if isinstance(value, GaussianMixtureParams):
        return (f"GaussianMixtureParams(weights={_show(value.weights)}, means={_show(value.means)}, "
                f"variances={_show(value.covariances)})")
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=4, threshold=10, edgeitems=2, separator=", ").replace("\n", "")
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def _call_text(name, *args, **kwargs):
    shown = [_show(a) for a in args] + [f"{k}={_show(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(shown)})"


def _as_array(value, what, hints=()):
    if value is None:
        raise CheckFailed(f"{what} returned None: does your function end with `return` and its result?", hints)
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} returned {type(value).__name__} {_show(value)}, not numbers.", hints) from None


def _expect_close(what, got, expected, *, rtol=1e-9, atol=1e-12, hint=()):
    """Raise CheckFailed unless ``got`` has the expected shape and values."""
    got_array = _as_array(got, what, hint)
    expected = np.asarray(expected, dtype=float)
    if got_array.shape != expected.shape:
        raise CheckFailed(f"{what} returned shape {got_array.shape} ({_show(got_array)}); expected shape "
                          f"{expected.shape}.", hint)
    if np.any(np.isnan(got_array)) and not np.any(np.isnan(expected)):
        where = f" at index {np.argwhere(np.isnan(got_array))[0].tolist()}" if got_array.ndim else ""
        raise CheckFailed(f"{what} returned NaN{where}: {_show(got_array)}; expected {_show(expected)}.", hint)
    if not np.allclose(got_array, expected, rtol=rtol, atol=atol):
        if got_array.ndim == 0:
            detail = f"got {float(got_array):.6g}, expected {float(expected):.6g}"
        else:
            index = np.unravel_index(np.argmax(np.abs(got_array - expected)), expected.shape)
            shown_got, shown_expected = _show_apart(got_array, expected)
            detail = (f"got {shown_got}, expected {shown_expected} (largest error at index "
                      f"{list(map(int, index))}: {got_array[index]:.6g} instead of {expected[index]:.6g})")
        raise CheckFailed(f"{what}: {detail}.", hint)


def _show_apart(got, expected):
    """``got`` and ``expected`` shown with as many digits (4 to 12) as it takes for them to differ
    on the page: "got [0.4988, 0.5012], expected [0.4988, 0.5012]" reads as a broken check."""
    for precision in range(4, 13):
        texts = [np.array2string(a, precision=precision, threshold=10, edgeitems=2, separator=", ").replace("\n", "")
                 for a in (got, expected)]
        if texts[0] != texts[1]:
            break
    return texts


def _expect_pair(what, got, names, hints=()):
    """Raise CheckFailed unless ``got`` is a pair (a tuple or list of two), e.g. (params, log_likelihoods)."""
    if got is None:
        raise CheckFailed(f"{what} returned None: does your function end with `return {', '.join(names)}`?", hints)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CheckFailed(f"{what} returned {type(got).__name__} {_show(got)[:80]}; expected a tuple "
                          f"({', '.join(names)}).", hints)
    return got


def _expect_unchanged(what, before, after):
    if not np.array_equal(before, after):
        raise CheckFailed(f"{what} changed its input array; work on a copy (e.g. array.copy()).",
                          ("A check compares the input before and after the call.",))


def _expect_params(what, got):
    if got is None:
        raise CheckFailed(f"{what} returned None: does your function end with `return` and its result?")
    if not isinstance(got, GaussianMixtureParams):
        raise CheckFailed(f"{what} returned {type(got).__name__}, not a GaussianMixtureParams "
                          f"(emlib.GaussianMixtureParams(weights, means, variances)).")


def _random_mixture_1d(rng, n_components):
    weights = rng.dirichlet(np.full(n_components, 3.0))
    means = np.sort(rng.normal(170, 10, n_components))
    variances = rng.uniform(20, 90, n_components)
    return GaussianMixtureParams(weights, means, variances)


def _normal_pdf(x, mean, variance):
    return np.exp(-((x - mean) ** 2) / (2 * variance)) / np.sqrt(2 * np.pi * variance)


def _random_responsibilities(rng, n=None, k=None):
    n = n or int(rng.integers(4, 40))
    k = k or int(rng.integers(2, 5))
    return rng.dirichlet(np.ones(k), size=n)


# ---------------------------------------------------------------------------
# chapter 1
# ---------------------------------------------------------------------------

@_check("ch1-ex2", "threshold_accuracy")
def _threshold_accuracy(threshold_accuracy, rng, n_random):
    """Check ``threshold_accuracy(heights, genders, t)``: the share of pupils that
    "male if taller than t, else female" gets right."""
    hint = ("Compare each pupil's guess with the recorded gender, then take the share of matches.",
            "Return the share (between 0 and 1) of pupils whose guess is right; a pupil exactly at the "
            "threshold is guessed female (only taller than t is male).")
    heights = np.array([150.0, 160.0, 170.0, 170.0, 180.0, 190.0])
    genders = np.array(["female", "female", "female", "female", "male", "male"])
    cases = [(heights, genders, t) for t in (165.0, 170.0, 175.0, 100.0, 200.0)]
    for _ in range(n_random):
        n = int(rng.integers(5, 30))
        h = rng.integers(140, 200, n).astype(float)
        g = rng.choice(["female", "male"], n)
        cases.append((h, g, float(rng.choice(h))))
    for h, g, t in cases:
        expected = np.mean(np.where(h > t, "male", "female") == g)
        got = _call(threshold_accuracy, h.copy(), g.copy(), t)
        _expect_close(_call_text("threshold_accuracy", h, g, t=t), got, expected, hint=hint)
    return len(cases)


# ---------------------------------------------------------------------------
# chapter 2
# ---------------------------------------------------------------------------

@_check("ch2-ex1", "mixture_density_1d")
def _mixture_density_1d(mixture_density_1d, rng, n_random):
    """Check ``mixture_density_1d(x, weights, means, variances)`` = Σ_k π_k N(x | μ_k, σ_k²)."""
    hint = ("Each component contributes its weight times its normal density at x; check the normal "
            "density's formula, in particular its normaliser.",
            "Sum over components of weight × normal density; the variance is σ², so the density's "
            "normaliser is sqrt(2π σ²).")
    n_cases = 0
    for n_components in [1, 2, 3] + [int(k) for k in rng.integers(1, 5, n_random)]:
        params = _random_mixture_1d(rng, n_components)
        x = np.sort(rng.uniform(130, 210, 7))
        expected = sum(w * _normal_pdf(x, m, v) for w, m, v in zip(params.weights, params.means, params.covariances))
        got = _call(mixture_density_1d, x.copy(), params.weights.copy(), params.means.copy(),
                    params.covariances.copy())
        _expect_close(_call_text("mixture_density_1d", x, params.weights, params.means, params.covariances),
                      got, expected, rtol=1e-10, hint=hint)
        n_cases += 1
    return n_cases


@_check("ch2-ex3", "complete_data_estimates")
def _complete_data_estimates(complete_data_estimates, rng, n_random):
    """Check ``complete_data_estimates(x, z, n_components)`` -> (weights, means, variances),
    the maximum-likelihood estimates when every point's component is known."""
    cases = [(np.array([150.0, 160.0, 155.0, 180.0, 175.0, 185.0, 170.0]), np.array([0, 0, 0, 1, 1, 1, 1]), 2)]
    for _ in range(n_random):
        k = int(rng.integers(2, 5))
        z = np.concatenate([np.arange(k), rng.integers(0, k, int(rng.integers(3, 25)))])
        rng.shuffle(z)
        cases.append((np.round(rng.normal(170, 10, len(z)), 1), z, k))
    hints = {"weights": ("What share of the points does each class have?",
                         "weights: the share of points in each class (count / n)."),
             "means": ("Average the points of each class separately.",
                       "means: the average of each class's points."),
             "variances": ("The maximum-likelihood variance is an average, like the mean: of what, and over "
                           "how many points?",
                           "variances: the average squared deviation from the class mean (divide by n_k, "
                           "not n_k - 1).")}
    for x, z, k in cases:
        x_before, z_before = x.copy(), z.copy()
        what = _call_text("complete_data_estimates", x, z, k)
        got = _call(complete_data_estimates, x, z, k)
        _expect_unchanged(what, x_before, x)
        _expect_unchanged(what, z_before, z)
        if got is None:
            raise CheckFailed(f"{what} returned None: does your function end with `return` and its result?")
        if not isinstance(got, tuple) or len(got) != 3:
            raise CheckFailed(f"{what} must return a tuple (weights, means, variances); it returned "
                              f"{type(got).__name__}.")
        counts = np.array([np.sum(z == j) for j in range(k)])
        means = np.array([x[z == j].sum() for j in range(k)]) / counts
        expected = {"weights": counts / len(x), "means": means,
                    "variances": np.array([np.sum((x[z == j] - means[j]) ** 2) for j in range(k)]) / counts}
        for name, value in zip(("weights", "means", "variances"), got):
            _expect_close(f"the {name} of {what}", value, expected[name], hint=hints[name])
    return len(cases)


# ---------------------------------------------------------------------------
# chapter 3
# ---------------------------------------------------------------------------

@_check("ch3-ex1", "log_sum_exp")
def _log_sum_exp(log_sum_exp, rng, n_random):
    """Check ``log_sum_exp(values)`` = log Σ exp(values), without overflow or underflow."""
    hint = ("What does exp give for very large or very negative values in floating point? Can you shift "
            "the values before exponentiating, and shift back afterwards?",
            "Subtract the largest value m first: log Σ exp(v) = m + log Σ exp(v - m).")
    cases = [
        ([0.0, 0.0], np.log(2.0), "two zeros"),
        ([1.0, 2.0, 3.0], np.log(np.e + np.e**2 + np.e**3), "small values"),
        ([-1000.0, -1000.0], -1000.0 + np.log(2.0), "very negative values (naive exp underflows to 0)"),
        ([1000.0, 1000.0], 1000.0 + np.log(2.0), "very large values (naive exp overflows to inf)"),
        ([0.0, -np.inf], 0.0, "a -inf entry (a component with zero probability)"),
        ([-3.5], -3.5, "a single value"),
    ]
    for _ in range(n_random):
        values = rng.normal(0, 1, int(rng.integers(1, 7))) * rng.choice([1.0, 100.0, 2000.0])
        largest = values.max()
        expected = largest + np.log(np.sum(np.exp(values - largest)))
        cases.append((values.tolist(), expected, "random values"))
    for values, expected, what in cases:
        got = _call(log_sum_exp, np.array(values))
        _expect_close(f"log_sum_exp on {what}, {_call_text('log_sum_exp', np.array(values))}", got, expected,
                      rtol=1e-12, hint=hint)
    return len(cases)


@_check("ch3-ex2", "responsibilities")
def _responsibilities(responsibilities, rng, n_random):
    """Check ``responsibilities(x, params)``: p(z = k | x, θ) for 1-D data, shape (n, K)."""
    hint = ("Bayes' rule: for each point, the weighted density of component k divided by the mixture "
            "density at that point.",
            "Row i is π_k N(x_i | μ_k, σ_k²) divided by its sum over k; compute it in log space with "
            "log-sum-exp so that it stays finite far from every component.")
    n_cases = 0
    for n_components in [2, 3] + [int(k) for k in rng.integers(2, 5, n_random)]:
        params = _random_mixture_1d(rng, n_components)
        x = rng.normal(170, 12, int(rng.integers(3, 25)))
        joint = np.stack([w * _normal_pdf(x, m, v) for w, m, v in
                          zip(params.weights, params.means, params.covariances)], axis=1)
        expected = joint / joint.sum(axis=1, keepdims=True)
        got = _call(responsibilities, x.copy(), params)
        _expect_close(_call_text("responsibilities", x, params), got, expected, rtol=1e-9, atol=1e-12, hint=hint)
        n_cases += 1
    params = GaussianMixtureParams([0.5, 0.5], [150.0, 190.0], [80.0, 80.0])
    far_x = np.array([1680.0, -500.0])
    what = _call_text("responsibilities", far_x, params)
    far = _as_array(_call(responsibilities, far_x, params), what, hint)
    if far.shape != (2, 2) or not np.all(np.isfinite(far)):
        raise CheckFailed(f"{what} for heights far from every component returned {_show(far)}, not finite "
                          f"numbers.", ("Far from every component each density underflows to 0, and 0/0 is "
                                        "NaN. Can you work with logarithms instead?",
                                        "Compute them in log space with log-sum-exp, so nothing underflows "
                                        "to 0/0."))
    _expect_close(what, far, [[0.0, 1.0], [1.0, 0.0]], atol=1e-9,
                  hint="A height far above both means belongs to the taller component.")
    return n_cases + 1


@_check("ch3-ex3", "m_step_weights")
def _m_step_weights(m_step_weights, rng, n_random):
    """Check ``m_step_weights(responsibilities)`` -> π_k = N_k / n, shape (K,)."""
    hint = ("The new weight of component k is the share of the data it is responsible for. What does "
            "adding up column k of the responsibilities count, and what must the weights add up to?",
            "Sum each column (N_k, the expected number of points in component k) and divide by n, the "
            "number of rows.")
    cases = [np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [1.0, 0.0]])]
    cases += [_random_responsibilities(rng) for _ in range(n_random)]
    for r in cases:
        before = r.copy()
        got = _call(m_step_weights, r)
        what = _call_text("m_step_weights", r)
        _expect_unchanged(what, before, r)
        _expect_close(what, got, r.sum(axis=0) / r.shape[0], hint=hint)
    return len(cases)


def _em_reference(x, params0, tol, max_iter):
    """Plain EM for 1-D data, written here independently: the iterates θ(0), ..., θ(T) and their
    log-likelihoods, run until the chapter's rule has surely stopped (see :func:`_em_stops`)."""
    weights, means, variances = (np.array(v, dtype=float) for v in
                                 (params0.weights, params0.means, params0.covariances))
    iterates, log_likelihoods = [], []
    with np.errstate(all="ignore"):
        for t in range(max_iter + 1):
            log_joint = (np.log(weights) - 0.5 * np.log(2 * np.pi * variances)
                         - (x[:, None] - means) ** 2 / (2 * variances))
            largest = log_joint.max(axis=1, keepdims=True)
            log_marginals = largest + np.log(np.exp(log_joint - largest).sum(axis=1, keepdims=True))
            iterates.append(GaussianMixtureParams(weights, means, variances))
            log_likelihoods.append(float(log_marginals.sum()))
            if t == max_iter or (t > 0 and _em_stops(log_likelihoods, tol, t, sure=True)):
                break
            gamma = np.exp(log_joint - log_marginals)
            counts = gamma.sum(axis=0)
            weights = counts / len(x)
            means = gamma.T @ x / counts
            variances = (gamma * (x[:, None] - means) ** 2).sum(axis=0) / counts
            if not (np.all(np.isfinite(variances)) and np.all(variances > 1e-6)):
                return None, None  # a component collapsed: no case for a check
    return iterates, np.array(log_likelihoods)


def _em_stops(log_likelihoods, tol, max_iter, sure=False):
    """The iteration counts T at which the chapter's rule may stop: the first t whose increase
    ℓ(t) - ℓ(t-1) is at most tol · max(1, |ℓ(t)|), or max_iter. An increase within rounding of
    the threshold may stop there or go on: both are accepted. With ``sure``: whether the rule
    has surely stopped by the last log-likelihood given."""
    allowed = []
    for t in range(1, min(max_iter, len(log_likelihoods) - 1) + 1):
        increase = log_likelihoods[t] - log_likelihoods[t - 1]
        threshold = tol * max(1.0, abs(log_likelihoods[t]))
        slack = 1e-4 * threshold + 1e-9
        if increase <= threshold - slack:
            return True if sure else allowed + [t]
        if increase <= threshold + slack:
            allowed.append(t)
    return False if sure else allowed + [max_iter]


@_check("ch3-ex6", "em_loop")
def _em_loop(em_loop, rng, n_random):
    """Check ``em_loop(x, params0, tol, max_iter)`` -> (params, log_likelihoods): EM from
    ``params0``, the log-likelihoods ℓ(0), ..., ℓ(T) of every iterate, stopping at the first
    increase at most tol · max(1, |ℓ(t)|) (or after max_iter iterations), and θ(T)."""
    stop_hint = ("Compare each new log-likelihood with the one before it: stop as soon as the increase is "
                 "small next to the size of the log-likelihood, or when max_iter iterations are done.",
                 "After each M-step and E-step append ℓ(t); stop when ℓ(t) - ℓ(t-1) <= tol * max(1, "
                 "abs(ℓ(t))) or after max_iter iterations (max_iter M-steps).")
    first_hint = ("Which parameters does the first log-likelihood of the list belong to?",
                  "Put the start's log-likelihood ℓ(0) = log p(X | θ(0)) in the list before the first "
                  "iteration (e_step(x, params0) returns it).")
    count_hint = ("One iteration too many or too few: what does your loop count, M-steps or E-steps?",
                  "ℓ(0) is the start's log-likelihood, then one ℓ(t) per iteration; an iteration is one M-step "
                  "and the E-step after it, so max_iter iterations give at most max_iter + 1 log-likelihoods.")
    params_hint = ("Which iterate does the last log-likelihood of your list belong to? Return that one.",
                   "Return θ(T), the parameters whose log-likelihood is the last of your list, not the "
                   "ones before the last M-step.")
    x_fixed = np.array([150.0, 152.0, 155.0, 158.0, 160.0, 163.0, 170.0, 172.0, 175.0, 178.0, 180.0, 183.0])
    start = GaussianMixtureParams([0.5, 0.5], [150.0, 190.0], [100.0, 100.0])
    cases = [(x_fixed, start, 1e-8, 500), (x_fixed, start, 1e-3, 500), (x_fixed, start, 1e-8, 3)]
    while len(cases) < 3 + n_random:  # random two-group data, started from its quartiles
        centre, gap, sd = rng.uniform(150, 180), rng.uniform(8, 25), rng.uniform(4, 8, 2)
        x = np.concatenate([rng.normal(centre, sd[0], int(rng.integers(40, 100))),
                            rng.normal(centre + gap, sd[1], int(rng.integers(40, 100)))])
        start = GaussianMixtureParams([0.5, 0.5], np.percentile(x, [25, 75]), [x.var(), x.var()])
        case = (x, start, float(rng.choice([1e-8, 1e-6, 1e-4])), int(rng.choice([500, 500, 4])))
        if _em_reference(*case)[0] is not None:
            cases.append(case)
    for x, params0, tol, max_iter in cases:
        what = _call_text("em_loop", x, params0, tol=tol, max_iter=max_iter)
        x_before = x.copy()
        got = _call(em_loop, x, params0, tol=tol, max_iter=max_iter)
        _expect_unchanged(what, x_before, x)
        params, log_likelihoods = _expect_pair(what, got, ("params", "log_likelihoods"), stop_hint)
        _expect_params(f"{what}, its params", params)
        log_likelihoods = _as_array(log_likelihoods, f"{what}, its log_likelihoods", stop_hint)
        if log_likelihoods.ndim != 1 or len(log_likelihoods) < 1:
            raise CheckFailed(f"{what}: log_likelihoods should be a list of numbers, one per iterate; it has "
                              f"shape {log_likelihoods.shape}.", stop_hint)
        iterates, reference = _em_reference(x, params0, tol, max_iter)
        _expect_close(f"{what}, its first log-likelihood (the start's, ℓ(0))", log_likelihoods[0], reference[0],
                      rtol=1e-9, atol=1e-9, hint=first_hint)
        n_iterations = len(log_likelihoods) - 1
        allowed = _em_stops(reference, tol, max_iter)
        if n_iterations not in allowed:
            expected = allowed[-1]
            if n_iterations > max_iter:
                detail = f"more than max_iter = {max_iter}"
            elif n_iterations < expected:
                detail = (f"ℓ({n_iterations}) - ℓ({n_iterations - 1}) = "
                          f"{reference[n_iterations] - reference[n_iterations - 1]:.3g} is still above tol · "
                          f"|ℓ| = {tol * abs(reference[n_iterations]):.3g}" if n_iterations >= 1 else
                          "at least one iteration is needed")
            else:
                detail = (f"the increase ℓ({expected}) - ℓ({expected - 1}) = "
                          f"{reference[expected] - reference[expected - 1]:.3g} was already at most tol · |ℓ| "
                          f"= {tol * abs(reference[expected]):.3g}")
            off_by_one = abs(n_iterations - expected) == 1
            raise CheckFailed(f"{what} returned {len(log_likelihoods)} log-likelihoods, {n_iterations} "
                              f"iterations; expected {expected + 1} ({expected} iterations): {detail}.",
                              count_hint if off_by_one else stop_hint)
        _expect_close(f"{what}, its log-likelihoods", log_likelihoods, reference[:n_iterations + 1],
                      rtol=1e-9, atol=1e-9, hint=stop_hint)
        last = iterates[n_iterations]
        for name, value, expected in (("weights", params.weights, last.weights), ("means", params.means, last.means),
                                      ("variances", params.covariances, last.covariances)):
            _expect_close(f"{what}, the {name} of its params (θ({n_iterations}))", value, expected,
                          rtol=1e-7, atol=1e-9, hint=params_hint)
    return len(cases)


# ---------------------------------------------------------------------------
# chapter 4
# ---------------------------------------------------------------------------

@_check("ch4-ex2", "means_only_m_step")
def _means_only_m_step(means_only_m_step, rng, n_random):
    """Check ``means_only_m_step(x, responsibilities, params)``: a GaussianMixtureParams with
    the weights and variances of ``params`` and the means Σ_i γ_ik x_i / Σ_i γ_ik."""
    cases = [(np.array([150.0, 160.0, 170.0, 180.0]), np.array([[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]]),
              GaussianMixtureParams([0.3, 0.7], [155.0, 175.0], [40.0, 50.0]))]
    for _ in range(n_random):
        r = _random_responsibilities(rng)
        cases.append((rng.normal(170, 10, len(r)), r, _random_mixture_1d(rng, r.shape[1])))
    for x, r, params in cases:
        what = _call_text("means_only_m_step", x, r, params)
        got = _call(means_only_m_step, x.copy(), r.copy(), params)
        _expect_params(what, got)
        _expect_close(f"the means of {what}", got.means, r.T @ x / r.sum(axis=0),
                      hint=("Each new mean is an average of the data, weighted by that component's "
                            "responsibilities.",
                            "Each mean is the responsibility-weighted average of x: (r[:, k] @ x) / r[:, k].sum()."))
        _expect_close(f"the weights of {what}", got.weights, params.weights, hint="Keep the weights of params unchanged.")
        _expect_close(f"the variances of {what}", got.covariances, params.covariances,
                      hint="Keep the variances of params unchanged.")
    return len(cases)


@_check("ch4-ex3", "symmetric_fixed_point")
def _symmetric_fixed_point(symmetric_fixed_point, rng, n_random):
    """Check ``symmetric_fixed_point(x, n_components)``: equal weights, every mean the data's
    mean, every variance the data's variance (divided by n)."""
    x = np.array([150.0, 152.0, 160.0, 171.0, 183.0, 190.0])
    cases = [(x, 2), (x, 3)] + [(rng.normal(170, 10, int(rng.integers(3, 30))), int(rng.integers(1, 6)))
                                for _ in range(n_random)]
    for x, k in cases:
        what = _call_text("symmetric_fixed_point", x, k)
        got = _call(symmetric_fixed_point, x.copy(), k)
        _expect_params(what, got)
        mean = np.sum(x) / len(x)
        _expect_close(f"the weights of {what}", got.weights, np.full(k, 1 / k), hint="Equal weights, 1/K each.")
        _expect_close(f"the means of {what}", got.means, np.full(k, mean), hint="Every component sits at the data's mean.")
        _expect_close(f"the variances of {what}", got.covariances, np.full(k, np.sum((x - mean) ** 2) / len(x)),
                      hint=("Every component has the same spread as the whole data set.",
                            "Every variance is the data's variance, dividing by n (not n - 1)."))
    return len(cases)


def _squarem_expected(theta0, theta1, theta2):
    """Chapter 4, eq. (4.8): the SQUAREM point, α = -‖u‖/‖v‖ but at most -1 (and -1 if v = 0)."""
    u = theta1 - theta0
    v = theta2 - 2 * theta1 + theta0
    if not np.any(v):  # equal steps: no extrapolation (α = -1 lands on θ2)
        return theta2.astype(float)
    alpha = min(-np.sqrt(np.sum(u**2)) / np.sqrt(np.sum(v**2)), -1.0)
    return theta0 - 2 * alpha * u + alpha**2 * v


@_check("ch4-ex7", "squarem_point")
def _squarem_point(squarem_point, rng, n_random):
    """Check ``squarem_point(theta0, theta1, theta2)``: the extrapolation of chapter 4's
    eq. (4.8), on a geometric sequence (it lands on the limit), vectors, a jump capped at
    α = -1 (it lands on θ2), equal steps (v = 0: θ2 too), and random iterates."""
    hint = ("u is the first step, v how the step changed; α = -‖u‖/‖v‖ but never above -1.",
            "u = θ1 - θ0, v = θ2 - 2θ1 + θ0, α = min(-norm(u)/norm(v), -1), "
            "return θ0 - 2αu + α²v.")
    geometric = [np.array([3 + 2 * 0.9**t]) for t in range(3)]
    vectors = [np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.2, 2.9]), np.array([1.8, 2.3, 2.85])]
    capped = [np.array([0.0, 0.0]), np.array([1.0, 0.0]), np.array([0.0, 3.0])]   # ‖v‖ > ‖u‖: α = -1
    straight = [np.array([0.0, 1.0]), np.array([1.0, 2.0]), np.array([2.0, 3.0])]  # v = 0: α = -1, θ2
    cases = [geometric, vectors, capped, straight]
    for _ in range(n_random):
        d = int(rng.integers(1, 6))
        start, step = rng.normal(size=d), rng.normal(size=d)
        rate = rng.uniform(0.3, 0.99, size=d)
        cases.append([start + step * (1 - rate**t) / (1 - rate) for t in range(3)])
    for theta0, theta1, theta2 in cases:
        before = np.concatenate([theta0, theta1, theta2])
        what = _call_text("squarem_point", theta0.round(4), theta1.round(4), theta2.round(4))
        got = _call(squarem_point, theta0.copy(), theta1.copy(), theta2.copy())
        _expect_unchanged(what, before, np.concatenate([theta0, theta1, theta2]))
        _expect_close(what, got, _squarem_expected(theta0, theta1, theta2), rtol=1e-9, atol=1e-9, hint=hint)
    return len(cases)


# ---------------------------------------------------------------------------
# chapter 5
# ---------------------------------------------------------------------------

@_check("ch5-ex1", "semi_supervised_responsibilities")
def _semi_supervised_responsibilities(semi_supervised_responsibilities, rng, n_random):
    """Check ``semi_supervised_responsibilities(responsibilities, labels)``: one-hot rows for
    labelled points, other rows unchanged, input unchanged."""
    cases = [(np.array([[0.7, 0.3], [0.4, 0.6], [0.5, 0.5], [0.1, 0.9]]), np.array([1, -1, 0, -1]))]
    for _ in range(n_random):
        r = _random_responsibilities(rng)
        cases.append((r, rng.integers(-1, r.shape[1], len(r))))
    for r, labels in cases:
        what = _call_text("semi_supervised_responsibilities", r, labels)
        r_before, labels_before = r.copy(), labels.copy()
        got = _call(semi_supervised_responsibilities, r, labels)
        _expect_unchanged(what, r_before, r)
        _expect_unchanged(what, labels_before, labels)
        expected = r.copy()
        expected[labels >= 0] = np.eye(r.shape[1])[labels[labels >= 0]]
        _expect_close(what, got, expected,
                      hint=("A recorded label leaves no doubt about that pupil's component.",
                            "A labelled row becomes 1 at its label and 0 elsewhere; a row with label -1 stays "
                            "as it was."))
    return len(cases)


@_check("ch5-ex2", "accuracy")
def _accuracy(accuracy, rng, n_random):
    """Check ``accuracy(posterior_female, truth)``: the share right when guessing female
    where p(female) > 0.5."""
    hint = ("Turn each probability into a guess first, then compare the guesses with the truth.",
            "Guess 'female' where the probability is above 0.5 (0.5 itself is 'male'), then return the "
            "share of guesses equal to the truth, between 0 and 1.")
    cases = [(np.array([0.9, 0.2, 0.5, 0.51, 0.05]), np.array(["female", "female", "male", "female", "male"])),
             (np.array([0.1, 0.7]), np.array(["female", "male"])),
             (np.array([0.99, 0.01, 0.3]), np.array(["female", "male", "male"]))]
    for _ in range(n_random):
        n = int(rng.integers(3, 30))
        cases.append((np.round(rng.uniform(0, 1, n), 2), rng.choice(["female", "male"], n)))
    for posterior, truth in cases:
        expected = np.mean(np.where(posterior > 0.5, "female", "male") == truth)
        _expect_close(_call_text("accuracy", posterior, truth), _call(accuracy, posterior.copy(), truth.copy()),
                      expected, hint=hint)
    return len(cases)


def _two_equal_gaussians_accuracy(half_gap, sd):
    """Φ(d / (2σ)) for two equally weighted normals with equal σ whose means are d apart."""
    from math import erf, sqrt
    return 0.5 * (1 + erf(half_gap / sd / sqrt(2)))


@_check("ch5-ex3", "bayes_accuracy")
def _bayes_accuracy(bayes_accuracy, rng, n_random):
    """Check ``bayes_accuracy(params, grid)`` = ∫ max_k π_k N(x | μ_k, σ_k²) dx on the grid."""
    hint = ("At each height the best guess is the component with the larger weighted density; the "
            "accuracy is the probability mass of those best guesses.",
            "Integrate, over the grid, the larger of the weighted densities π_k N(x | k) "
            "(e.g. with np.trapezoid).")
    cases = [(GaussianMixtureParams([0.5, 0.5], [160.0, 176.0], [64.0, 64.0]), _two_equal_gaussians_accuracy(8.0, 8.0)),
             (GaussianMixtureParams([0.5, 0.5], [130.0, 210.0], [1.0, 1.0]), 1.0)]  # no overlap: always right
    for _ in range(max(1, n_random // 2)):
        sd, half_gap = float(rng.uniform(4, 10)), float(rng.uniform(1, 15))
        centre = float(rng.uniform(150, 180))
        cases.append((GaussianMixtureParams([0.5, 0.5], [centre - half_gap, centre + half_gap], [sd**2, sd**2]),
                      _two_equal_gaussians_accuracy(half_gap, sd)))
    grid = np.linspace(50, 290, 24001)
    for params, expected in cases:
        got = _call(bayes_accuracy, params, grid)
        _expect_close(f"bayes_accuracy({_show(params)}, grid from 50 to 290)", got, expected, rtol=1e-4, hint=hint)
    return len(cases)


# ---------------------------------------------------------------------------
# chapter 6
# ---------------------------------------------------------------------------

@_check("ch6-ex1", "covariance_m_step")
def _covariance_m_step(covariance_m_step, rng, n_random):
    """Check ``covariance_m_step(x, responsibilities_k)``: the weighted covariance (d, d) of one
    component, Σ_i γ_i (x_i - μ)(x_i - μ)ᵀ / Σ_i γ_i with μ the weighted mean."""
    cases = [(np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [2.0, 4.0]]), np.array([1.0, 1.0, 0.5, 0.5]))]
    for _ in range(n_random):
        n, d = int(rng.integers(4, 30)), int(rng.integers(1, 4))
        cases.append((rng.normal(0, 3, (n, d)) + rng.normal(0, 10, d), rng.uniform(0, 1, n)))
    for x, gamma in cases:
        mean = gamma @ x / gamma.sum()
        expected = sum(g * np.outer(row - mean, row - mean) for g, row in zip(gamma, x)) / gamma.sum()
        x_before = x.copy()
        what = _call_text("covariance_m_step", x, gamma)
        got = _call(covariance_m_step, x, gamma.copy())
        _expect_unchanged(what, x_before, x)
        _expect_not_bias_corrected(what, got, expected, gamma)
        _expect_close(what, got, expected,
                      hint=("Like the 1-D variance, but with outer products of deviations from the weighted "
                            "mean, each weighted by its responsibility.",
                            "Centre on the weighted mean, weight each outer product by γ_i, divide by Σ γ_i "
                            "(not by n)."))
    return len(cases)


def _expect_not_bias_corrected(what, got, expected, gamma):
    """A covariance divided by Σγ - 1 (or by np.cov's default, ddof=1) instead of Σγ: say so."""
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return
    if got.shape != expected.shape or np.allclose(got, expected, rtol=1e-9, atol=1e-12):
        return
    total = gamma.sum()
    corrections = {"Σγ - 1": total / (total - 1),
                   "np.cov's default (ddof=1)": total / (total - (gamma ** 2).sum() / total)}
    for divisor, factor in corrections.items():
        if np.allclose(got, expected * factor, rtol=1e-9, atol=1e-12):
            raise CheckFailed(
                f"{what} is the expected covariance times {factor:.4g}: it divides by {divisor}, as an "
                f"unbiased sample covariance does.",
                ("The M-step maximises the likelihood, and the maximiser divides by Σ γ_i, not by Σ γ_i - 1 "
                 "(no ddof correction).",
                 "Divide the weighted sum of outer products by gamma.sum(); with np.cov pass ddof=0 "
                 "(np.cov(x.T, aweights=gamma, ddof=0))."))


@_check("ch6-ex2", "bic")
def _bic(bic, rng, n_random):
    """Check ``bic(log_likelihood, n_params, n)`` = -2 log-likelihood + n_params log n."""
    cases = [(-100.0, 5, 50), (-1130.26, 11, 272), (0.0, 1, 1)]
    cases += [(float(np.round(rng.uniform(-5000, 100), 2)), int(rng.integers(1, 40)), int(rng.integers(2, 5000)))
              for _ in range(n_random)]
    for log_likelihood, n_params, n in cases:
        _expect_close(_call_text("bic", log_likelihood, n_params, n), _call(bic, log_likelihood, n_params, n),
                      -2 * log_likelihood + n_params * np.log(n),
                      hint=("Look at the signs and at which logarithm the formula uses.",
                            "BIC = -2 × log-likelihood + (number of parameters) × log(n), natural log."))
    return len(cases)


@_check("ch6-ex3", "coin_e_step")
def _coin_e_step(coin_e_step, rng, n_random):
    """Check ``coin_e_step(heads, tosses, theta_a, theta_b, prior_a=0.5)``: p(coin A | set)."""
    heads, tosses = np.array([5, 9, 8, 4, 7]), np.array([10, 10, 10, 10, 10])
    cases = [(heads, tosses, 0.6, 0.5, 0.5), (heads, tosses, 0.6, 0.5, 0.8), (heads, tosses, 0.8, 0.45, 0.3)]
    for _ in range(n_random):
        t = rng.integers(1, 20, int(rng.integers(1, 8)))
        cases.append((rng.integers(0, t + 1), t, *np.round(rng.uniform(0.05, 0.95, 3), 2)))
    for h, t, theta_a, theta_b, prior_a in cases:
        like_a = prior_a * theta_a**h * (1 - theta_a) ** (t - h)
        like_b = (1 - prior_a) * theta_b**h * (1 - theta_b) ** (t - h)
        got = _call(coin_e_step, h.copy(), t.copy(), theta_a, theta_b, prior_a=prior_a)
        _expect_close(_call_text("coin_e_step", h, t, float(theta_a), float(theta_b), prior_a=float(prior_a)), got,
                      like_a / (like_a + like_b),
                      hint=("Bayes' rule, with the prior of coin A no longer one half.",
                            "p(A | set) = prior_a·θ_A^h(1-θ_A)^(t-h) / (that + (1-prior_a)·θ_B^h(1-θ_B)^(t-h))."))
    return len(cases)


@_check("ch6-ex7", "poisson_em_step")
def _poisson_em_step(poisson_em_step, rng, n_random):
    """Check ``poisson_em_step(counts, weights, rates)`` -> (new weights, new rates): one EM
    iteration for a mixture of Poisson distributions (weights N_k / n, rates Σ γ_ik x_i / N_k)."""
    counts = np.array([0, 2, 3, 3, 5, 9, 12, 14, 4, 11])
    cases = [(counts, np.array([0.5, 0.5]), np.array([2.0, 10.0])),
             (counts, np.array([0.8, 0.2]), np.array([3.0, 12.0])),
             (counts, np.array([0.2, 0.3, 0.5]), np.array([1.0, 4.0, 12.0]))]
    for _ in range(n_random):
        k = int(rng.integers(2, 4))
        rates = np.sort(rng.uniform(0.5, 30.0, k))
        cases.append((rng.poisson(rng.choice(rates, int(rng.integers(5, 60)))), rng.dirichlet(np.ones(k) * 2), rates))
    hint = ("E-step: Bayes' rule with p(x | λ) = λ^x e^(-λ) / x!, in logs; M-step: the weights as for heights, "
            "and set the derivative of Q with respect to λ_k to zero.",
            "γ_ik ∝ π_k λ_k^x_i e^(-λ_k) (the x_i! cancels); new π_k = N_k / n and new λ_k = Σ_i γ_ik x_i / N_k, "
            "the responsibility-weighted mean count.")
    for x, weights, rates in cases:
        log_joint = np.log(weights) + x[:, None] * np.log(rates) - rates   # x! cancels in the normalisation
        gamma = np.exp(log_joint - log_joint.max(axis=1, keepdims=True))
        gamma /= gamma.sum(axis=1, keepdims=True)
        n_k = gamma.sum(axis=0)
        before = (x.copy(), weights.copy(), rates.copy())
        what = _call_text("poisson_em_step", x, weights, rates)
        got = _call(poisson_em_step, x, weights, rates)
        new_weights, new_rates = _expect_pair(what, got, ("new_weights", "new_rates"), hint)
        for name, array, after in zip(("counts", "weights", "rates"), before, (x, weights, rates)):
            _expect_unchanged(f"{what} ({name})", array, after)
        _expect_close(f"{what}, its new weights", new_weights, n_k / len(x), hint=hint)
        _expect_close(f"{what}, its new rates", new_rates, gamma.T @ x / n_k, hint=hint)
    return len(cases)


# ---------------------------------------------------------------------------
# chapter 7
# ---------------------------------------------------------------------------

@_check("ch7-ex2", "map_m_step_weights")
def _map_m_step_weights(map_m_step_weights, rng, n_random):
    """Check ``map_m_step_weights(responsibilities, alpha)`` = (N_k + α - 1) / Σ_j (N_j + α - 1)."""
    r = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    cases = [(r, 1.0), (r, 2.0), (r, 5.0)] + [(_random_responsibilities(rng), float(np.round(rng.uniform(1, 10), 2)))
                                             for _ in range(n_random)]
    for r, alpha in cases:
        totals = r.sum(axis=0)
        before = r.copy()
        what = _call_text("map_m_step_weights", r, alpha)
        got = _call(map_m_step_weights, r, alpha)
        _expect_unchanged(what, before, r)
        _expect_close(what, got, (totals + alpha - 1) / (totals + alpha - 1).sum(),
                      hint=("The prior acts like extra pupils in every component: how many?",
                            "Add α - 1 to every expected count N_k, then normalise so the weights sum to 1."))
    return len(cases)


@_check("ch8-ex2", "incremental_mean_update")
def _incremental_mean_update(incremental_mean_update, rng, n_random):
    """Check ``incremental_mean_update(mean, new_value, count)`` = mean + (new - mean) / count."""
    hint = ("Write the mean of count values using the mean of the first count - 1 of them.",
            "count includes the new value: mean + (new_value - mean) / count.")
    streams = [np.array([3.0, 7.0, 2.0, 10.0])] + [np.round(rng.normal(0, 10, int(rng.integers(2, 8))), 2)
                                                  for _ in range(n_random)]
    n_cases = 0
    for values in streams:
        mean = 0.0
        for count, value in enumerate(values, start=1):
            what = _call_text("incremental_mean_update", mean, float(value), count)
            mean = _call(incremental_mean_update, mean, float(value), count)
            _expect_close(f"{what} (after the values {_show(values[:count])})", mean, values[:count].sum() / count,
                          hint=hint)
            mean = float(mean)
            n_cases += 1
    vector = _call(incremental_mean_update, np.array([1.0, 2.0]), np.array([3.0, 6.0]), 2)
    _expect_close("incremental_mean_update(array([1., 2.]), array([3., 6.]), 2)", vector, [2.0, 4.0], hint=hint)
    return n_cases + 1


# ---------------------------------------------------------------------------
# chapter 8
# ---------------------------------------------------------------------------

def _statistics_tuple(x, responsibilities):
    """(totals, means, scatters) of 1-D x under responsibilities (n, K), by the two-pass formula."""
    statistics = _gmm_statistics(x, responsibilities)
    return statistics.totals, statistics.means, statistics.scatters


def _gmm_statistics(x, responsibilities):
    from . import gmm
    return gmm.sufficient_statistics(x, responsibilities)


def _merge_cases(rng, n_random):
    """Pairs of chunks (x_a, γ_a, x_b, γ_b): a small fixed pair, a component empty in one chunk,
    heights measured from the centre of the Earth, and random ones."""
    small_a, small_b = np.array([1.0, 2.0, 3.0]), np.array([10.0, 12.0])
    gamma_a = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    gamma_b = np.array([[0.25, 0.75], [1.0, 0.0]])
    empty_a = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])              # component 0 has N = 0 in chunk a
    heights = np.array([150.2, 171.4, 163.0, 180.9, 158.3])
    earth = 6.371e8
    cases = [(small_a, gamma_a, small_b, gamma_b), (small_a, empty_a, small_b, gamma_b),
             (heights[:3] + earth, _random_responsibilities(rng, 3, 2), heights[3:] + earth,
              _random_responsibilities(rng, 2, 2))]
    for _ in range(n_random):
        k = int(rng.integers(1, 4))
        offset = float(rng.choice([0.0, 1e3, 1e8]))
        n_a, n_b = int(rng.integers(1, 7)), int(rng.integers(1, 7))
        cases.append((np.round(rng.normal(offset, 5.0, n_a), 2), _random_responsibilities(rng, n_a, k),
                      np.round(rng.normal(offset, 5.0, n_b), 2), _random_responsibilities(rng, n_b, k)))
    return cases


@_check("ch8-ex1", "merge_statistics_1d")
def _merge_statistics_1d(merge_statistics_1d, rng, n_random):
    """Check ``merge_statistics_1d(a, b)`` returns the (totals, means, scatters) of both chunks
    together (chapter 8, eq. 8.3), computed independently from all their rows by two passes."""
    hint = ("Totals add; the merged mean is the weighted average of the two means; each scatter is "
            "about its own chunk's mean, so moving both to the merged mean adds a term.",
            "With δ = m_b - m_a: N = N_a + N_b, m = m_a + δ N_b / N, S = S_a + S_b + δ² N_a N_b / N. "
            "Do not go through sums of x² (they lose every digit far from 0), and divide only where N > 0.")
    cases = _merge_cases(rng, n_random)
    for x_a, gamma_a, x_b, gamma_b in cases:
        a, b = _statistics_tuple(x_a, gamma_a), _statistics_tuple(x_b, gamma_b)
        before = [v.copy() for v in a + b]
        what = _call_text("merge_statistics_1d", tuple(np.round(v, 4) for v in a), tuple(np.round(v, 4) for v in b))
        got = _call(merge_statistics_1d, a, b)
        _expect_unchanged(what, np.concatenate(before), np.concatenate(a + b))
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            raise CheckFailed(f"{what} returned {_show(got)}; expected a tuple of three arrays "
                              f"(totals, means, scatters), each of shape ({len(a[0])},).", hint)
        totals, means, scatters = _statistics_tuple(np.concatenate([x_a, x_b]), np.concatenate([gamma_a, gamma_b]))
        _expect_close(f"{what}, its totals", got[0], totals, hint=hint)
        _expect_close(f"{what}, its means", got[1], means, rtol=1e-12, atol=1e-9, hint=hint)
        _expect_close(f"{what}, its scatters", got[2], scatters, rtol=1e-6, atol=1e-6, hint=hint)
    return len(cases)
