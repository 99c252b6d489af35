"""The two-coin example of Do & Batzoglou (2008), "What is the expectation maximization
algorithm?", Nature Biotechnology 26:897-899 (chapter 6).

Two coins A and B with unknown head probabilities θ_A and θ_B. Five times, one of the
two coins is picked (each with probability 1/2, not estimated) and tossed ten times;
only the tosses are recorded, not which coin made them. The paper starts EM from
θ_A = 0.60, θ_B = 0.50 and prints θ_A ≈ 0.71, θ_B ≈ 0.58 after one iteration and
θ_A ≈ 0.80, θ_B ≈ 0.52 after ten.
"""
import numpy as np

from .engine import em

__all__ = ["PAPER_TOSSES", "PAPER_COINS", "PAPER_THETA0", "head_counts", "e_step", "m_step",
           "log_likelihood", "complete_data_mle", "fit_coins"]

# Figure 1 of the paper: five sets of ten tosses, and the coin that made each set.
PAPER_TOSSES = ("HTTTHHTHTH", "HHHHTHHHHH", "HTHHHHHTHH", "HTHTTTHHTT", "THHHTHHHTH")
PAPER_COINS = ("B", "A", "A", "B", "A")
PAPER_THETA0 = (0.60, 0.50)


def head_counts(tosses=PAPER_TOSSES):
    """Heads and tosses in each set.

    Parameters
    ----------
    tosses : sequence of str
        Each a string of "H" and "T".

    Returns
    -------
    heads : ndarray of int, shape (m,)
    n_tosses : ndarray of int, shape (m,)
    """
    if len(tosses) == 0 or any(not s or set(s) - {"H", "T"} for s in tosses):
        raise ValueError('tosses must be a non-empty list of non-empty strings of "H" and "T".')
    heads = np.array([s.count("H") for s in tosses])
    return heads, np.array([len(s) for s in tosses])


def _check_theta(theta):
    theta = np.array(theta, dtype=float)
    if theta.shape != (2,) or not np.all((theta > 0) & (theta < 1)):
        raise ValueError(f"theta must be (θ_A, θ_B), each strictly between 0 and 1, got {theta.tolist()}.")
    return theta


def _log_joint(counts, theta):
    """log p(set i, coin c | θ) = log 1/2 + h_i log θ_c + (n_i - h_i) log(1 - θ_c): shape (m, 2)."""
    heads, n_tosses = counts
    return (np.log(0.5) + heads[:, None] * np.log(theta) + (n_tosses - heads)[:, None] * np.log1p(-theta))


def e_step(counts, theta):
    """The E-step: p(coin = A | set i, θ) and p(coin = B | set i, θ) for every set.

    Parameters
    ----------
    counts : (heads, n_tosses)
        From :func:`head_counts`.
    theta : array_like, shape (2,)
        (θ_A, θ_B).

    Returns
    -------
    responsibilities : ndarray, shape (m, 2)
    log_likelihood : float
        log p(tosses | θ) = Σ_i log Σ_c ½ θ_c^h_i (1 - θ_c)^(n_i - h_i).
    """
    log_joint = _log_joint(counts, _check_theta(theta))
    log_marginal = np.logaddexp(log_joint[:, 0], log_joint[:, 1])
    return np.exp(log_joint - log_marginal[:, None]), float(log_marginal.sum())


def m_step(counts, responsibilities):
    """The M-step: θ_c = expected heads of coin c / expected tosses of coin c.

    Returns
    -------
    ndarray, shape (2,)
    """
    heads, n_tosses = counts
    expected_heads = responsibilities.T @ heads
    expected_tosses = responsibilities.T @ n_tosses
    return expected_heads / expected_tosses


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


def fit_coins(tosses=PAPER_TOSSES, theta0=PAPER_THETA0, *, tol=1e-10, max_iter=1000):
    """EM for the two coins (the paper's panel b) from ``theta0``.

    Returns
    -------
    EMResult
        ``params`` is (θ_A, θ_B); ``trace`` holds every iterate.
    """
    counts = head_counts(tosses)
    return em(counts, _check_theta(theta0), e_step, m_step, tol=tol, max_iter=max_iter)
