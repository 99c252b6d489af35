"""The genetic-linkage example of Dempster, Laird & Rubin (1977), "Maximum likelihood from
incomplete data via the EM algorithm", JRSS B 39:1-38, section 1 (chapter 6).

197 animals fall into four categories with probabilities
(1/2 + θ/4, (1 - θ)/4, (1 - θ)/4, θ/4); the counts are y = (125, 18, 20, 34).
The first category is a merger of two, with probabilities 1/2 and θ/4: the hidden
data is how many of its 125 animals belong to the second part. The paper's Table 1
lists the iterates from θ(0) = 0.5; they converge to θ* = 0.6268214980.
"""
import numpy as np

from .engine import Parametrisation, em, report_boundary
from .validation import as_float_array

__all__ = ["PAPER_COUNTS", "PAPER_THETA0", "PAPER_THETA_STAR", "e_step", "m_step",
           "log_likelihood", "mle", "fit_linkage", "PARAMETRISATION"]

PAPER_COUNTS = (125, 18, 20, 34)
PAPER_THETA0 = 0.5
PAPER_THETA_STAR = 0.6268214980  # as printed in the paper


def _check(counts, theta, *, start=False):
    """The counts as floats and θ as a float: in [0, 1] (a boundary value can be the
    estimate), strictly inside for a starting point."""
    try:
        counts = as_float_array(counts, "counts")
    except ValueError as error:
        raise ValueError(f"counts must be four non-negative numbers, not all 0 ({error})") from None
    if counts.shape != (4,) or np.any(counts < 0) or not np.all(np.isfinite(counts)) or counts.max() == 0:
        raise ValueError(f"counts must be four non-negative numbers, not all 0, got {counts.tolist()}.")
    if isinstance(theta, bool) or not isinstance(theta, (int, float, np.integer, np.floating)) \
            or not np.isfinite(theta) or not (0 < theta < 1 if start else 0 <= theta <= 1):
        raise ValueError(f"theta must lie strictly between 0 and 1{'' if start else ' (or be 0 or 1 for an estimate)'}, "
                         f"got {theta!r}.")
    return counts / counts.max(), float(theta)  # the likelihood's shape, hence θ*, ignores a common scale


def cell_probabilities(theta):
    """The four categories' probabilities (1/2 + θ/4, (1 - θ)/4, (1 - θ)/4, θ/4)."""
    return np.array([0.5 + theta / 4, (1 - theta) / 4, (1 - theta) / 4, theta / 4])


def e_step(counts, theta):
    """The E-step: the expected number x₂ of the first cell's animals in its θ/4 part.

    x₂ = y₁ (θ/4) / (1/2 + θ/4).

    Returns
    -------
    expected_x2 : float
    log_likelihood : float
        log p(y | θ) = Σ_j y_j log p_j(θ), up to the multinomial coefficient (0 log 0 = 0).
    """
    scale = _scale(counts)
    counts, theta = _check(counts, theta)
    expected_x2, log_likelihood = _e_step(counts, theta)
    return expected_x2 * scale, _rescaled(log_likelihood, scale)


def _rescaled(log_likelihood, scale):
    """The log-likelihood of the counts as given, from that of the counts divided by ``scale``."""
    with np.errstate(over="ignore"):
        value = log_likelihood * scale
    if not np.isfinite(value):
        raise ValueError(f"the log-likelihood of counts this large ({scale:.3g}) is below -1.8e308, beyond "
                         "double precision; divide the counts by a common factor (θ's estimate does not change).")
    return value


def _scale(counts):
    try:
        return float(np.max(as_float_array(counts, "counts")))
    except ValueError:
        return 1.0  # _check says what is wrong


def _e_step(counts, theta):
    """The E-step on counts scaled to a largest count of 1."""
    expected_x2 = counts[0] * (theta / 4) / (0.5 + theta / 4)
    probabilities = cell_probabilities(theta)
    observed = counts > 0
    with np.errstate(divide="ignore"):
        log_likelihood = float(counts[observed] @ np.log(probabilities[observed]))
    if not np.isfinite(log_likelihood):
        raise ValueError(f"θ = {theta:g} gives probability 0 to a category with animals in it; "
                         "use a θ strictly between 0 and 1.")
    return expected_x2, log_likelihood


def m_step(counts, expected_x2):
    """The M-step: θ = (x₂ + y₄) / (x₂ + y₂ + y₃ + y₄), the binomial MLE of the completed data."""
    y1, y2, y3, y4 = counts
    denominator = expected_x2 + y2 + y3 + y4
    if not denominator > 0:
        raise ValueError("no animal is in a category that depends on θ (x₂ + y₂ + y₃ + y₄ = 0), so θ "
                         "cannot be estimated.")
    return min((expected_x2 + y4) / denominator, 1.0)


def log_likelihood(counts, theta):
    """log p(y | θ), up to the multinomial coefficient."""
    return e_step(counts, theta)[1]


def mle(counts=PAPER_COUNTS):
    """The maximum-likelihood θ in closed form: the root in [0, 1] of
    n θ² - (y₁ - 2y₂ - 2y₃ - y₄) θ - 2y₄ = 0, with n = Σ y.

    Computed without cancellation: (b + √D) / (2n) when b >= 0, else 4 y₄ / (√D - b), with
    D = b² + 8 n y₄ (the same root, rationalised), on counts scaled to a largest of 1.
    """
    counts, _ = _check(counts, 0.5)
    y1, y2, y3, y4 = counts
    n = counts.sum()
    b = y1 - 2 * y2 - 2 * y3 - y4
    root = np.sqrt(b * b + 8 * n * y4)
    theta = (b + root) / (2 * n) if b >= 0 else 4 * y4 / (root - b)
    return float(min(theta, 1.0))


def _theta_or_none(vector):
    """θ from a vector (θ,), or None outside (0, 1) (SQUAREM's extrapolations can land there)."""
    theta = float(np.asarray(vector, dtype=float).reshape(-1)[0])
    return theta if 0 < theta < 1 else None


# θ as a vector (θ,) and back, for the parameter rule and SQUAREM.
PARAMETRISATION = Parametrisation(lambda theta: np.array([theta]), _theta_or_none)


def fit_linkage(counts=PAPER_COUNTS, theta0=PAPER_THETA0, *, tol=1e-15, max_iter=1000, param_tol=None,
                aitken_tol=None, accelerate=None):
    """EM for the genetic-linkage model from ``theta0``.

    The default rule (``tol`` on the log-likelihood's increase) stops after 9 iterations
    from θ(0) = 0.5, 1.8e-9 from the maximiser :func:`mle`: the increase is exactly 0.0 in
    floating point while θ still moves. ``param_tol=1e-14`` (relative change of θ; ``tol``
    then unused) runs on to the maximiser within rounding. ``aitken_tol`` and
    ``accelerate="squarem"`` are as in :func:`emlib.em`.

    An estimate of exactly 0 or 1 (e.g. counts (0, 0, 0, 5)) is the maximum-likelihood
    estimate on the boundary of [0, 1]: it is returned, said in ``result.message`` and
    warned about with a :class:`emlib.BoundaryEstimateWarning`.

    Returns
    -------
    EMResult
        ``params`` is θ; ``trace`` holds the iterates of the paper's Table 1 (log-likelihoods
        up to the multinomial coefficient, as :func:`log_likelihood`).
    """
    scale = _scale(counts)
    counts, theta0 = _check(counts, theta0, start=True)

    def scaled_e_step(data, theta):
        expected_x2, log_likelihood = _e_step(data, theta)
        return expected_x2, _rescaled(log_likelihood, scale)

    result = em(counts, theta0, scaled_e_step, m_step, tol=tol, max_iter=max_iter, param_tol=param_tol,
                aitken_tol=aitken_tol, parametrisation=PARAMETRISATION, accelerate=accelerate)
    if result.params not in (0.0, 1.0):
        return result
    return report_boundary(result, f"θ = {result.params:g}",
                           "no animal falls in a category that would need a smaller θ" if result.params == 1
                           else "no animal falls in a category that would need a larger θ")
