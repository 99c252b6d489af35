"""The two-coin example of Do & Batzoglou (2008), "What is the expectation maximization
algorithm?", Nature Biotechnology 26:897-899 (chapter 6).

Two coins A and B with unknown head probabilities θ_A and θ_B. Five times, one of the
two coins is picked (each with probability 1/2, not estimated) and tossed ten times;
only the tosses are recorded, not which coin made them. The paper starts EM from
θ_A = 0.60, θ_B = 0.50 and prints θ_A ≈ 0.71, θ_B ≈ 0.58 after one iteration and
θ_A ≈ 0.80, θ_B ≈ 0.52 after ten.
"""
from dataclasses import replace

import numpy as np

from .engine import BoundaryEstimateWarning, Parametrisation, em, report_boundary
from .validation import as_float_array

__all__ = ["PAPER_TOSSES", "PAPER_COINS", "PAPER_THETA0", "head_counts", "e_step", "m_step",
           "log_likelihood", "complete_data_mle", "fit_coins", "BoundaryEstimateWarning", "PARAMETRISATION"]

# Figure 1 of the paper: five sets of ten tosses, and the coin that made each set.
PAPER_TOSSES = ("HTTTHHTHTH", "HHHHTHHHHH", "HTHHHHHTHH", "HTHTTTHHTT", "THHHTHHHTH")
PAPER_COINS = ("B", "A", "A", "B", "A")
PAPER_THETA0 = (0.60, 0.50)


def head_counts(tosses=PAPER_TOSSES):
    """Heads and tosses in each set.

    Parameters
    ----------
    tosses : sequence of str
        One string of "H" and "T" per set, e.g. ``["HTTH", "HHHT"]``.

    Returns
    -------
    heads : ndarray of int, shape (m,)
    n_tosses : ndarray of int, shape (m,)
    """
    if isinstance(tosses, str):
        raise ValueError(
            f'tosses must be a list of strings of "H" and "T", one per set, got the single string {tosses!r}; '
            f"if it is one set, pass [{tosses!r}]."
        )
    try:
        sets = list(tosses)
    except TypeError:
        raise ValueError(f'tosses must be a non-empty list of non-empty strings of "H" and "T", one per set, '
                         f"got {tosses!r}.") from None
    bad = next((s for s in sets if not isinstance(s, str) or not s or set(s) - {"H", "T"}), None)
    if not sets or bad is not None:
        got = "an empty list" if not sets else f"{bad!r} ({type(bad).__name__})"
        raise ValueError(f'tosses must be a non-empty list of non-empty strings of "H" and "T", one per set, '
                         f"got {got}.")
    heads = np.array([s.count("H") for s in sets])
    return heads, np.array([len(s) for s in sets])


def _check_theta(theta, *, start=False):
    """θ = (θ_A, θ_B) as floats: in [0, 1] (a boundary value is a possible estimate), and
    strictly inside for a starting point (EM cannot leave a boundary start)."""
    try:
        theta = as_float_array(theta, "theta")
    except ValueError as error:
        raise ValueError(f"theta must be (θ_A, θ_B), each strictly between 0 and 1 ({error})") from None
    inside = (theta > 0) & (theta < 1) if start else (theta >= 0) & (theta <= 1)
    if theta.shape != (2,) or not np.all(inside):
        where = "" if start else " (0 and 1 allowed for an estimate)"
        raise ValueError(f"theta must be (θ_A, θ_B), each strictly between 0 and 1{where}, got {theta.tolist()}.")
    return theta


def _check_counts(counts):
    """(heads, n_tosses): whole numbers with 0 <= heads <= n_tosses for every set."""
    try:
        heads, n_tosses = counts
        heads, n_tosses = as_float_array(heads, "heads"), as_float_array(n_tosses, "n_tosses")
    except (TypeError, ValueError) as error:
        raise ValueError(f"counts must be (heads, n_tosses), two arrays of whole numbers, e.g. from "
                         f"coins.head_counts(tosses) ({error}).") from None
    if heads.ndim != 1 or heads.shape != n_tosses.shape or len(heads) == 0:
        raise ValueError(f"heads and n_tosses must have the same shape (m,), one per set, got "
                         f"{heads.shape} and {n_tosses.shape}.")
    if not np.all(np.isfinite(n_tosses) & (heads == np.round(heads)) & (n_tosses == np.round(n_tosses))):
        raise ValueError("heads and n_tosses must be whole numbers.")
    if np.any(heads < 0) or np.any(heads > n_tosses):
        i = int(np.argmax((heads < 0) | (heads > n_tosses)))
        raise ValueError(f"set {i} has {heads[i]:g} heads in {n_tosses[i]:g} tosses; every set needs "
                         "0 <= heads <= tosses.")
    return heads, n_tosses


def _log_binomial_terms(heads, n_tosses, theta):
    """h log θ + (n - h) log(1 - θ) for every set (rows) and coin (columns), with 0 log 0 = 0,
    so that θ = 0 or 1 (a boundary estimate) gives log 1 = 0, not NaN."""
    tails = n_tosses - heads
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 * log 0 is replaced by 0 below
        log_theta, log_one_minus = np.log(theta), np.log1p(-theta)
        heads_term = np.where(heads[:, None] > 0, heads[:, None] * log_theta, 0.0)
        tails_term = np.where(tails[:, None] > 0, tails[:, None] * log_one_minus, 0.0)
    return heads_term + tails_term


def _log_joint(counts, theta):
    """log p(set i, coin c | θ) = log 1/2 + h_i log θ_c + (n_i - h_i) log(1 - θ_c): shape (m, 2)."""
    heads, n_tosses = counts
    return np.log(0.5) + _log_binomial_terms(heads, n_tosses, theta)


def _log_e_step(counts, theta):
    """The E-step in log space: log p(coin | set i, θ), shape (m, 2), and log p(tosses | θ)."""
    log_joint = _log_joint(counts, theta)
    with np.errstate(invalid="ignore"):
        log_marginal = np.logaddexp(log_joint[:, 0], log_joint[:, 1])
    impossible = np.flatnonzero(~np.isfinite(log_marginal))
    if impossible.size:
        i = int(impossible[0])
        raise ValueError(
            f"set {i} ({counts[0][i]:g} heads in {counts[1][i]:g} tosses) is impossible under θ = "
            f"{np.asarray(theta).tolist()}: a coin with θ = 0 never shows heads and one with θ = 1 never "
            "shows tails. Use a θ strictly between 0 and 1."
        )
    return log_joint - log_marginal[:, None], float(log_marginal.sum())


def e_step(counts, theta):
    """The E-step: p(coin = A | set i, θ) and p(coin = B | set i, θ) for every set.

    Parameters
    ----------
    counts : (heads, n_tosses)
        From :func:`head_counts`.
    theta : array_like, shape (2,)
        (θ_A, θ_B), each in [0, 1].

    Returns
    -------
    responsibilities : ndarray, shape (m, 2)
    log_likelihood : float
        log p(tosses | θ) = Σ_i log Σ_c ½ θ_c^h_i (1 - θ_c)^(n_i - h_i).
    """
    log_responsibilities, log_likelihood = _log_e_step(_check_counts(counts), _check_theta(theta))
    return np.exp(log_responsibilities), log_likelihood


def m_step(counts, responsibilities):
    """The M-step: θ_c = expected heads of coin c / expected tosses of coin c.

    Returns
    -------
    ndarray, shape (2,)

    Raises
    ------
    ValueError
        If no toss is attributed to a coin (its θ cannot be estimated).
    """
    heads, n_tosses = _check_counts(counts)
    responsibilities = as_float_array(responsibilities, "responsibilities")
    if responsibilities.shape != (len(heads), 2) or not np.all(np.isfinite(responsibilities)) \
            or np.any(responsibilities < 0):
        raise ValueError(f"responsibilities must be non-negative numbers of shape ({len(heads)}, 2), one row "
                         f"per set, got shape {responsibilities.shape}.")
    return _ratio_of_expected_counts(heads, n_tosses, responsibilities)


def _ratio_of_expected_counts(heads, n_tosses, weights):
    """Σ_i w_ic h_i / Σ_i w_ic n_i for each coin c (the ratio ignores a common scale of w_·c)."""
    expected_heads = weights.T @ heads
    expected_tosses = weights.T @ n_tosses
    if np.any(expected_tosses <= 0):
        c = "AB"[int(np.argmax(expected_tosses <= 0))]
        raise ValueError(f"no toss is attributed to coin {c} (its expected number of tosses is 0), so θ_{c} "
                         f"cannot be estimated; start from a θ under which coin {c} could have made some set.")
    return np.minimum(expected_heads / expected_tosses, 1.0)


def _m_step_from_logs(counts, log_responsibilities):
    """The M-step from log-responsibilities: each coin's column is rescaled by its largest
    value before exponentiating, so a coin that is unlikely for every set (θ(0) = 1e-300, say)
    still gets the weighted average of the sets' head rates instead of 0 / 0."""
    heads, n_tosses = counts
    weights = np.exp(log_responsibilities - log_responsibilities.max(axis=0))
    return _ratio_of_expected_counts(heads, n_tosses, weights)


def log_likelihood(counts, theta):
    """log p(tosses | θ), the observed-data log-likelihood."""
    return e_step(counts, theta)[1]


def complete_data_mle(tosses=PAPER_TOSSES, coins=PAPER_COINS):
    """The maximum-likelihood θ when the coin of each set is known (the paper's panel a).

    Returns
    -------
    ndarray, shape (2,): (θ_A, θ_B)
    """
    heads, n_tosses = head_counts(tosses)
    coins = np.asarray(coins)
    if coins.shape != heads.shape or not set(coins.tolist()) <= {"A", "B"}:
        raise ValueError('coins must name "A" or "B" for every set of tosses.')
    if set(coins.tolist()) != {"A", "B"}:
        raise ValueError("each coin must have made at least one set of tosses; "
                         "with no tosses, its head probability cannot be estimated.")
    return np.array([heads[coins == c].sum() / n_tosses[coins == c].sum() for c in ("A", "B")])


def _thetas_or_none(vector):
    """(θ_A, θ_B) from a vector, or None unless both lie in (0, 1) (SQUAREM's extrapolations can leave it)."""
    theta = np.array(vector, dtype=float)
    return theta if np.all((theta > 0) & (theta < 1)) else None


# (θ_A, θ_B) as a vector and back, for the parameter rule and SQUAREM.
PARAMETRISATION = Parametrisation(lambda theta: np.array(theta, dtype=float), _thetas_or_none)


def fit_coins(tosses=PAPER_TOSSES, theta0=PAPER_THETA0, *, tol=1e-10, max_iter=1000, param_tol=None,
              aitken_tol=None, accelerate=None):
    """EM for the two coins (the paper's panel b) from ``theta0``.

    ``param_tol``, ``aitken_tol`` (stopping rules; with either, ``tol`` is unused) and
    ``accelerate="squarem"`` are as in :func:`emlib.em`.

    The E-step keeps the responsibilities in log space, so a start such as θ_A = 1e-300
    still moves. An estimate of exactly 0 or 1 (e.g. every toss of a coin's sets was a head)
    is the maximum-likelihood estimate on the boundary of [0, 1]: it is returned, said in
    ``result.message`` and warned about with a :class:`BoundaryEstimateWarning`.

    Returns
    -------
    EMResult
        ``params`` is (θ_A, θ_B); ``trace`` holds every iterate.
    """
    counts = head_counts(tosses)
    result = em(counts, _check_theta(theta0, start=True), _log_e_step, _m_step_from_logs, tol=tol,
                max_iter=max_iter, param_tol=param_tol, aitken_tol=aitken_tol, parametrisation=PARAMETRISATION,
                accelerate=accelerate)
    result = replace(result, expectations=np.exp(result.expectations))  # the responsibilities
    on_boundary = [f"θ_{c} = {value:g}" for c, value in zip("AB", result.params) if value in (0.0, 1.0)]
    if not on_boundary:
        return result
    return report_boundary(result, " and ".join(on_boundary),
                           "every toss attributed to that coin was a head (θ = 1) or a tail (θ = 0)")
