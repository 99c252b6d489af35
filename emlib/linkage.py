"""The genetic-linkage example of Dempster, Laird & Rubin (1977), "Maximum likelihood from
incomplete data via the EM algorithm", JRSS B 39:1-38, section 1 (chapter 6).

197 animals fall into four categories with probabilities
(1/2 + θ/4, (1 - θ)/4, (1 - θ)/4, θ/4); the counts are y = (125, 18, 20, 34).
The first category is a merger of two, with probabilities 1/2 and θ/4: the hidden
data is how many of its 125 animals belong to the second part. The paper's Table 1
lists the iterates from θ(0) = 0.5; they converge to θ* = 0.6268214980.
"""
import numpy as np

from .engine import em

__all__ = ["PAPER_COUNTS", "PAPER_THETA0", "PAPER_THETA_STAR", "e_step", "m_step",
           "log_likelihood", "mle", "fit_linkage"]

PAPER_COUNTS = (125, 18, 20, 34)
PAPER_THETA0 = 0.5
PAPER_THETA_STAR = 0.6268214980  # as printed in the paper


def _check(counts, theta):
    counts = np.array(counts, dtype=float)
    if counts.shape != (4,) or np.any(counts < 0) or not np.all(np.isfinite(counts)) or counts.sum() == 0:
        raise ValueError(f"counts must be four non-negative numbers, not all 0, got {counts.tolist()}.")
    if isinstance(theta, bool) or not isinstance(theta, (int, float, np.integer, np.floating)) \
            or not (np.isfinite(theta) and 0 < theta < 1):
        raise ValueError(f"theta must lie strictly between 0 and 1, got {theta!r}.")
    return counts, float(theta)


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
        log p(y | θ) = Σ_j y_j log p_j(θ), up to the multinomial coefficient.
    """
    counts, theta = _check(counts, theta)
    expected_x2 = counts[0] * (theta / 4) / (0.5 + theta / 4)
    return expected_x2, float(counts @ np.log(cell_probabilities(theta)))


def m_step(counts, expected_x2):
    """The M-step: θ = (x₂ + y₄) / (x₂ + y₂ + y₃ + y₄), the binomial MLE of the completed data."""
    y1, y2, y3, y4 = counts
    return (expected_x2 + y4) / (expected_x2 + y2 + y3 + y4)


def log_likelihood(counts, theta):
    """log p(y | θ), up to the multinomial coefficient."""
    return e_step(counts, theta)[1]


def mle(counts=PAPER_COUNTS):
    """The maximum-likelihood θ in closed form: the positive root of
    n θ² - (y₁ - 2y₂ - 2y₃ - y₄) θ - 2y₄ = 0, with n = Σ y."""
    counts, _ = _check(counts, 0.5)
    y1, y2, y3, y4 = counts
    n = counts.sum()
    b = y1 - 2 * y2 - 2 * y3 - y4
    return float((b + np.sqrt(b * b + 8 * n * y4)) / (2 * n))


def fit_linkage(counts=PAPER_COUNTS, theta0=PAPER_THETA0, *, tol=1e-15, max_iter=1000):
    """EM for the genetic-linkage model from ``theta0``.

    Returns
    -------
    EMResult
        ``params`` is θ; ``trace`` holds the iterates of the paper's Table 1.
    """
    counts, theta0 = _check(counts, theta0)
    return em(counts, theta0, e_step, m_step, tol=tol, max_iter=max_iter)
