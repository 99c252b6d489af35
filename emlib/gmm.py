"""Gaussian mixtures: the E-step, the M-step and the fit (chapters 2, 3, 5 and 6).

A Gaussian mixture with K components has weights π_k, means μ_k and covariances Σ_k.
In 1-D the means have shape (K,) and the covariances are variances of shape (K,);
in d dimensions the means have shape (K, d) and the covariances shape (K, d, d).

The equation labels in the docstrings are those of the chapters, e.g. chapter 3,
``eq-m-means`` is the M-step for the means.
"""
from dataclasses import dataclass

import numpy as np

from .engine import em
from .kmeans import kmeans
from .validation import (as_data, as_generator, as_labels, as_n_components, as_nonnegative,
                         as_responsibilities)

__all__ = [
    "GaussianMixtureParams", "e_step", "m_step", "log_likelihood", "predict_proba", "elbo",
    "log_joint", "component_log_densities", "density", "sample", "n_parameters", "bic",
    "fit_gmm", "initial_params", "INIT_STRATEGIES",
]

LOG_2PI = np.log(2 * np.pi)
# Added to every component's total responsibility N_k so that an empty component
# keeps a tiny positive weight instead of a 0/0 mean (scikit-learn does the same).
EMPTY_COMPONENT_FLOOR = 10 * np.finfo(float).eps
INIT_STRATEGIES = ("kmeans", "random", "labels")


@dataclass(frozen=True)
class GaussianMixtureParams:
    """The parameters θ = (π, μ, Σ) of a Gaussian mixture (chapter 2).

    Parameters
    ----------
    weights : array_like, shape (K,)
        The mixing weights π_k > 0, summing to 1.
    means : array_like, shape (K,) or (K, d)
        The component means μ_k.
    covariances : array_like, shape (K,) or (K, d, d)
        1-D: the variances σ_k² > 0. d-D: symmetric positive-definite covariances Σ_k.

    The arrays are copied and made read-only: a parameter set never changes, so the
    trace of an EM run keeps every iterate as it was.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def __post_init__(self):
        weights = _as_float_array(self.weights, "weights")
        means = _as_float_array(self.means, "means")
        covariances = _as_float_array(self.covariances, "covariances")
        _check_weights(weights)
        _check_means_and_covariances(means, covariances, len(weights))
        for name, array in (("weights", weights), ("means", means), ("covariances", covariances)):
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @property
    def n_components(self):
        """K, the number of components."""
        return len(self.weights)

    @property
    def is_1d(self):
        """True for a mixture on the real line (means of shape (K,))."""
        return self.means.ndim == 1

    @property
    def n_features(self):
        """d, the dimension of the data: 1 for a 1-D mixture."""
        return 1 if self.is_1d else self.means.shape[1]

    def permuted(self, order):
        """The same mixture with its components listed in ``order`` (a permutation of 0..K-1)."""
        order = np.asarray(order)
        if not np.issubdtype(order.dtype, np.integer) or sorted(order.tolist()) != list(range(self.n_components)):
            raise ValueError(f"order must be a permutation of 0..{self.n_components - 1}, got {order.tolist()}.")
        return GaussianMixtureParams(self.weights[order], self.means[order], self.covariances[order])

    def sorted_by_mean(self):
        """The same mixture with its components in increasing order of their (first) mean."""
        first_coordinate = self.means if self.is_1d else self.means[:, 0]
        return self.permuted(np.argsort(first_coordinate, kind="stable"))


def _as_float_array(values, name):
    try:
        array = np.array(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be an array of numbers ({error}).") from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds NaN or infinite values; every parameter must be finite.")
    return array


def _check_weights(weights):
    if weights.ndim != 1 or len(weights) < 1:
        raise ValueError(f"weights must have shape (K,) with K >= 1, got shape {weights.shape}.")
    if np.any(weights <= 0):
        k = int(np.argmax(weights <= 0))
        raise ValueError(
            f"weights must be positive; component {k} has weight {weights[k]!r}. "
            "Drop that component or give it a small positive weight."
        )
    if abs(weights.sum() - 1) > 1e-6:
        raise ValueError(
            f"weights sum to {weights.sum():.6g}; they are probabilities and must sum to 1 "
            "(divide them by their sum)."
        )


def _check_means_and_covariances(means, covariances, n_components):
    if means.ndim == 1:
        if means.shape != (n_components,) or covariances.shape != (n_components,):
            raise ValueError(
                f"for 1-D data, means and covariances (the variances) must both have shape "
                f"({n_components},); got means {means.shape} and covariances {covariances.shape}."
            )
        if np.any(covariances <= 0):
            k = int(np.argmax(covariances <= 0))
            raise ValueError(
                f"variances must be positive; component {k} has variance {covariances[k]!r}."
            )
        return
    if means.ndim != 2 or means.shape[0] != n_components:
        raise ValueError(
            f"means must have shape ({n_components},) for 1-D data or ({n_components}, d), "
            f"one row per component, got {means.shape}."
        )
    d = means.shape[1]
    if covariances.shape != (n_components, d, d):
        raise ValueError(
            f"covariances must have shape ({n_components}, {d}, {d}) to match means {means.shape}, "
            f"got {covariances.shape}."
        )
    for k, covariance in enumerate(covariances):
        if not np.allclose(covariance, covariance.T, rtol=1e-8, atol=1e-12 * np.abs(covariance).max()):
            raise ValueError(f"covariance {k} is not symmetric; use (C + C.T) / 2.")
        if not _is_positive_definite(covariance):
            raise ValueError(
                f"covariance {k} is not positive definite (its smallest eigenvalue is "
                f"{np.linalg.eigvalsh(covariance).min():.3g}); every variance must be positive."
            )


def _is_positive_definite(matrix):
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


# ---------------------------------------------------------------------------
# densities (chapter 2)
# ---------------------------------------------------------------------------

def component_log_densities(x, params):
    """log N(x_i | μ_k, Σ_k) for every point and component (chapter 2, ``eq-gaussian``).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    params : GaussianMixtureParams

    Returns
    -------
    ndarray, shape (n, K)
    """
    x = as_data(x)
    _check_compatible(x, params)
    return _component_log_densities(x, params).T


def _component_log_densities(x, params):
    """log N(x_i | μ_k, Σ_k) as a (K, n) array: one row per component.

    The (K, n) layout keeps every operation on long contiguous rows: NumPy is several
    times slower reducing along a short axis of length K (see benchmarks/).
    """
    densities = np.empty((params.n_components, len(x)))
    if params.is_1d:
        log_normalisers = -0.5 * (LOG_2PI + np.log(params.covariances))
        for k, row in enumerate(densities):  # row = -(x - μ_k)² / (2σ_k²) - log √(2πσ_k²)
            np.subtract(x, params.means[k], out=row)
            np.square(row, out=row)
            row *= -0.5 / params.covariances[k]
            row += log_normalisers[k]
        return densities
    d = x.shape[1]
    for k, row in enumerate(densities):
        cholesky_factor = np.linalg.cholesky(params.covariances[k])  # Σ_k = L Lᵀ
        inverse_factor = np.linalg.inv(cholesky_factor)  # L⁻¹ (d x d), so Σ_k⁻¹ = L⁻ᵀ L⁻¹
        whitened = inverse_factor @ x.T  # L⁻¹ x, shape (d, n)
        whitened -= (inverse_factor @ params.means[k])[:, None]  # L⁻¹ (x - μ_k)
        np.square(whitened, out=whitened)
        np.sum(whitened, axis=0, out=row)  # the squared Mahalanobis distance
        log_determinant = 2 * np.log(np.diag(cholesky_factor)).sum()
        row *= -0.5
        row -= 0.5 * (d * LOG_2PI + log_determinant)
    return densities


def log_joint(x, params):
    """log p(x_i, z_i = k | θ) = log π_k + log N(x_i | μ_k, Σ_k) (chapter 2, ``eq-joint``).

    Returns
    -------
    ndarray, shape (n, K)
    """
    x = as_data(x)
    _check_compatible(x, params)
    return _log_joint(x, params).T


def _log_joint(x, params):
    """log π_k + log N(x_i | μ_k, Σ_k) as a (K, n) array."""
    log_joint_probabilities = _component_log_densities(x, params)
    log_joint_probabilities += np.log(params.weights)[:, None]
    return log_joint_probabilities


def _log_marginals(log_joint_probabilities):
    """log p(x_i | θ) = log Σ_k exp(log_joint[k, i]) for every point (log-sum-exp), checked."""
    largest = log_joint_probabilities.max(axis=0)
    if not np.all(np.isfinite(largest)):
        _raise_non_finite(largest)
    with np.errstate(under="ignore"):
        sums = np.exp(log_joint_probabilities - largest).sum(axis=0)
    return largest + np.log(sums)


def _raise_non_finite(largest):
    """Say why some point's largest log-joint probability is not finite."""
    if np.any(np.isnan(largest)) or np.any(largest == np.inf):
        raise ValueError(
            "a component's density is infinite: a variance has shrunk to (almost) zero, i.e. a "
            "component collapsed onto a single point. Use reg_covar > 0 (e.g. 1e-6) or another "
            "initialisation."
        )
    row = int(np.argmin(np.isfinite(largest)))
    raise ValueError(
        f"point {row} is too far from every component for double precision; "
        "rescale the data (e.g. standardise it) or start from other parameters."
    )


def density(x, params):
    """The mixture density p(x | θ) = Σ_k π_k N(x | μ_k, Σ_k) (chapter 2, ``eq-marginal``).

    Returns
    -------
    ndarray, shape (n,)
    """
    x = as_data(x)
    _check_compatible(x, params)
    return np.exp(_log_marginals(_log_joint(x, params)))


def sample(params, n_samples, rng):
    """Draw from the generative story z → x (chapter 2): z ~ Categorical(π), x | z ~ N(μ_z, Σ_z).

    Parameters
    ----------
    params : GaussianMixtureParams
    n_samples : int
    rng : numpy.random.Generator

    Returns
    -------
    x : ndarray, shape (n_samples,) or (n_samples, d)
    z : ndarray of int, shape (n_samples,)
        The hidden component of every point.
    """
    if not isinstance(params, GaussianMixtureParams):
        raise ValueError(f"params must be a GaussianMixtureParams, got {type(params).__name__}.")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a whole number >= 1, got {n_samples!r}.")
    rng = as_generator(rng)
    z = rng.choice(params.n_components, size=n_samples, p=params.weights)
    if params.is_1d:
        x = params.means[z] + np.sqrt(params.covariances[z]) * rng.standard_normal(n_samples)
        return x, z
    cholesky_factors = np.linalg.cholesky(params.covariances)
    noise = rng.standard_normal((n_samples, params.n_features))
    x = params.means[z] + np.einsum("nij,nj->ni", cholesky_factors[z], noise)
    return x, z


# ---------------------------------------------------------------------------
# the E-step (chapter 3)
# ---------------------------------------------------------------------------

def e_step(x, params, labels=None):
    """The E-step: responsibilities and the observed-data log-likelihood (chapter 3).

    The responsibility of component k for point i is its posterior probability
    (chapter 3, ``eq-responsibility``)::

        γ_ik = p(z_i = k | x_i, θ) = π_k N(x_i | μ_k, Σ_k) / Σ_j π_j N(x_i | μ_j, Σ_j),

    computed in log space (log-sum-exp), so that no point is too far from every
    component. A labelled point (semi-supervised, chapter 5) has a one-hot row.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    params : GaussianMixtureParams
    labels : array_like of int, shape (n,), optional
        The known component of each point, -1 where it is missing.

    Returns
    -------
    responsibilities : ndarray, shape (n, K)
    log_likelihood : float
        log p(X, known labels | θ): Σ log π_z N(x|z) over labelled points plus
        Σ log Σ_k π_k N(x|k) over the others (chapter 5, ``eq-semi-loglik``).
    """
    x, labels = _checked_inputs(x, params, labels)
    return _e_step(x, params, labels)


def _e_step(x, params, labels):
    work = _log_joint(x, params)  # (K, n): log π_k N(x_i | k), normalised in place below
    if labels is not None:
        labelled = np.flatnonzero(labels >= 0)
        known = labels[labelled]
        labelled_log_joint = work[known, labelled]  # log π_z N(x_i | z) of the labelled points
    largest = work.max(axis=0)
    if not np.all(np.isfinite(largest)):
        _raise_non_finite(largest)
    work -= largest
    with np.errstate(under="ignore"):
        np.exp(work, out=work)
    sums = work.sum(axis=0)
    work /= sums  # the responsibilities γ_ik, as a (K, n) array
    log_marginals = largest + np.log(sums)  # log p(x_i | θ)
    if labels is not None:
        work[:, labelled] = 0.0
        work[known, labelled] = 1.0
        log_marginals[labelled] = labelled_log_joint
    log_likelihood = float(log_marginals.sum())
    if not np.isfinite(log_likelihood):
        raise ValueError(
            "a labelled point is too far from its own component for double precision; "
            "start from parameters where every class covers its labelled points."
        )
    return work.T, log_likelihood


def log_likelihood(x, params, labels=None):
    """The observed-data log-likelihood log p(X | θ) (chapter 2, ``eq-loglik``).

    With ``labels``, the labelled points contribute log π_z + log N(x | z) and the
    others log Σ_k π_k N(x | k) (chapter 5).

    Returns
    -------
    float
    """
    return e_step(x, params, labels)[1]


def elbo(x, params, q):
    """The evidence lower bound L(q, θ) of a mixture (chapter 4, ``eq-elbo``)::

        L(q, θ) = Σ_i Σ_k q_ik (log π_k + log N(x_i | μ_k, Σ_k) - log q_ik),  with 0 log 0 = 0.

    It is at most log p(X | θ), with equality when q is the posterior (the responsibilities);
    the gap is KL(q || p(Z | X, θ)) (chapter 4, ``eq-decomposition``).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    params : GaussianMixtureParams
    q : array_like, shape (n, K)
        A distribution over the components for every point (rows summing to 1).

    Returns
    -------
    float
    """
    x = as_data(x)
    _check_compatible(x, params)
    q = as_responsibilities(q, len(x))
    if q.shape[1] != params.n_components:
        raise ValueError(f"q has {q.shape[1]} columns but the mixture has {params.n_components} components.")
    log_q = np.log(q, out=np.zeros_like(q), where=q > 0)  # 0 log 0 = 0
    return float(np.sum(q * (_log_joint(x, params).T - log_q)))


def predict_proba(x, params):
    """p(z = k | x, θ) for every point and component: the responsibilities (chapter 3).

    Returns
    -------
    ndarray, shape (n, K)
    """
    return e_step(x, params)[0]


# ---------------------------------------------------------------------------
# the M-step (chapter 3)
# ---------------------------------------------------------------------------

def m_step(x, responsibilities, reg_covar=0.0):
    """The M-step: the parameters that maximise Q(θ | θ(t)) (chapter 3).

    With N_k = Σ_i γ_ik (chapter 3, ``eq-m-weights``, ``eq-m-means``, ``eq-m-covariances``)::

        π_k = N_k / n,   μ_k = Σ_i γ_ik x_i / N_k,   Σ_k = Σ_i γ_ik (x_i - μ_k)(x_i - μ_k)ᵀ / N_k.

    With ``reg_covar > 0`` every variance (in d-D, every eigenvalue of Σ_k) below
    ``reg_covar`` is raised to it. This is the exact maximiser of Q over the covariances
    whose eigenvalues are all at least ``reg_covar`` (the Gaussian log-likelihood of a
    covariance depends on it only through its eigenvalues in the eigenbasis of the
    weighted scatter matrix, each term log λ + s/λ being minimised at max(s, reg_covar)),
    so EM's guarantee that the log-likelihood never decreases still holds (chapter 4).
    scikit-learn instead adds ``reg_covar`` to the diagonal, which is not a maximiser of Q.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    responsibilities : array_like, shape (n, K)
        Each row a distribution over the K components.
    reg_covar : float, default 0
        The smallest allowed variance (eigenvalue), so that a component that collapses
        onto one point keeps a positive variance (chapter 6).

    Returns
    -------
    GaussianMixtureParams

    Raises
    ------
    ValueError
        On bad input, or if a component collapsed (a variance of zero, or numerically
        zero next to the data's spread) and ``reg_covar`` is 0.
    """
    x = as_data(x)
    responsibilities = as_responsibilities(responsibilities, len(x))
    reg_covar = as_nonnegative(reg_covar, "reg_covar")
    return _m_step(x, responsibilities, reg_covar)


def _m_step(x, responsibilities, reg_covar, data_scale=None):
    weights, means, covariances = _weighted_moments(x, responsibilities)
    if x.ndim == 1:
        covariances = np.maximum(covariances, reg_covar)
    else:
        covariances = _floor_eigenvalues(covariances, reg_covar)
    _check_not_collapsed(covariances, _data_scale(x) if data_scale is None else data_scale)
    return GaussianMixtureParams(weights, means, covariances)


def _weighted_moments(x, responsibilities):
    """π_k = N_k / n, μ_k and Σ_k (1-D: σ_k²) weighted by the responsibilities (n, K)."""
    by_component = responsibilities.T  # (K, n); contiguous rows when it comes from the E-step
    totals = by_component.sum(axis=1) + EMPTY_COMPONENT_FLOOR  # N_k
    means = (by_component @ x) / (totals if x.ndim == 1 else totals[:, None])
    if x.ndim == 1:
        covariances = _weighted_variances(x, by_component, means, totals)
    else:
        covariances = _weighted_covariances(x, by_component, means, totals)
    return totals / totals.sum(), means, covariances


def _weighted_variances(x, by_component, means, totals):
    """σ_k² = Σ_i γ_ik (x_i - μ_k)² / N_k for every component, from γ as a (K, n) array."""
    variances = np.empty(len(means))
    squared_deviations = np.empty_like(x)
    for k, weights in enumerate(by_component):
        np.subtract(x, means[k], out=squared_deviations)
        np.square(squared_deviations, out=squared_deviations)
        variances[k] = weights @ squared_deviations
    return variances / totals


def _weighted_covariances(x, by_component, means, totals):
    """Σ_k = Σ_i γ_ik (x_i - μ_k)(x_i - μ_k)ᵀ / N_k for every component, from γ as (K, n)."""
    n_components, d = means.shape
    covariances = np.empty((n_components, d, d))
    for k, weights in enumerate(by_component):
        deviations = x - means[k]
        covariance = (deviations.T * weights) @ deviations / totals[k]
        covariances[k] = (covariance + covariance.T) / 2  # exact symmetry
    return covariances


def _floor_eigenvalues(covariances, floor):
    """Raise every eigenvalue of every covariance below ``floor`` to ``floor``."""
    if floor == 0:
        return covariances
    eigenvalues, eigenvectors = np.linalg.eigh(covariances)
    if np.all(eigenvalues >= floor):
        return covariances
    clipped = (eigenvectors * np.maximum(eigenvalues, floor)[:, None, :]) @ np.swapaxes(eigenvectors, 1, 2)
    return (clipped + np.swapaxes(clipped, 1, 2)) / 2


def _data_scale(x):
    """The data's average variance per dimension (1 if the data do not vary)."""
    scale = float(np.mean(np.var(x, axis=0)))
    return scale if scale > 0 else 1.0


# A variance this small next to the data's own (relative) is a collapse: the component
# sits on a single point (or a line), and its density is numerically a spike.
COLLAPSE_RATIO = 1e-12


def _check_not_collapsed(covariances, data_scale):
    threshold = COLLAPSE_RATIO * data_scale
    if covariances.ndim == 1:
        smallest = covariances
    else:
        smallest = np.linalg.eigvalsh(covariances)[:, 0]
    collapsed = np.flatnonzero(~(smallest > threshold))
    if collapsed.size:
        raise ValueError(
            f"component {collapsed[0]} collapsed: its variance fell below {COLLAPSE_RATIO:g} times the data's, "
            "because it covers a single point (or points on a line). Use reg_covar > 0 "
            "(e.g. 1e-6 times the data's variance), fewer components, or another initialisation."
        )


# ---------------------------------------------------------------------------
# model selection (chapter 6)
# ---------------------------------------------------------------------------

def n_parameters(params):
    """The number of free parameters of a mixture: (K - 1) + K d + K d (d + 1) / 2."""
    k, d = params.n_components, params.n_features
    return (k - 1) + k * d + k * d * (d + 1) // 2


def bic(x, params):
    """The Bayesian information criterion, -2 log p(X | θ) + (number of parameters) log n.

    Lower is better (chapter 6).
    """
    x = as_data(x)
    return -2 * log_likelihood(x, params) + n_parameters(params) * np.log(len(x))


# ---------------------------------------------------------------------------
# fitting
# ---------------------------------------------------------------------------

def fit_gmm(x, n_components, *, labels=None, init=None, n_init=1, tol=1e-8, max_iter=500,
            reg_covar=1e-6, rng=None):
    """Fit a Gaussian mixture by EM (chapters 3 and 5).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
        The data; it is not modified.
    n_components : int
        K >= 1.
    labels : array_like of int, shape (n,), optional
        Semi-supervised fitting (chapter 5): the known component of each point in
        0..K-1, and -1 where it is missing. Labelled points keep their label.
    init : GaussianMixtureParams or str, optional
        An initial guess θ(0), or a strategy: ``"kmeans"`` (k-means++ seeds refined by
        k-means, the default without labels), ``"random"`` (K distinct data points as
        means, the data's covariance for every component, equal weights) or ``"labels"``
        (the M-step on the labelled points, the others shared equally; the default
        with labels).
    n_init : int, default 1
        Number of runs from different random initialisations; the one with the highest
        final log-likelihood is kept. Ignored when ``init`` is a parameter set.
    tol, max_iter
        Passed to :func:`emlib.em`.
    reg_covar : float, default 1e-6
        The smallest variance a component may have (in d-D, the smallest eigenvalue of
        its covariance): it keeps a component from collapsing onto one point (chapter 6).
        See :func:`m_step`.
    rng : numpy.random.Generator or int, optional
        The source of randomness for the initialisation; the same ``rng`` state gives
        bit-identical results.

    Returns
    -------
    EMResult
        ``params`` is a :class:`GaussianMixtureParams`, ``expectations`` the final
        responsibilities (n, K).
    """
    x = as_data(x)
    n_components = as_n_components(n_components)
    if len(x) < n_components:
        raise ValueError(
            f"x has {len(x)} points, fewer than n_components={n_components}; "
            "a mixture needs at least one point per component."
        )
    if labels is not None:
        labels = as_labels(labels, len(x), n_components)
    reg_covar = as_nonnegative(reg_covar, "reg_covar")
    if isinstance(n_init, bool) or not isinstance(n_init, (int, np.integer)) or n_init < 1:
        raise ValueError(f"n_init must be a whole number >= 1, got {n_init!r}.")
    rng = as_generator(rng)
    if isinstance(init, GaussianMixtureParams):
        _check_compatible(x, init, name="init")
        if init.n_components != n_components:
            raise ValueError(
                f"init has {init.n_components} components but n_components={n_components}; make them agree."
            )
        starts = [init]
    else:
        strategy = init if init is not None else ("labels" if labels is not None else "kmeans")
        runs = 1 if strategy == "labels" else n_init
        starts = [initial_params(x, n_components, strategy, labels=labels, reg_covar=reg_covar, rng=rng)
                  for _ in range(runs)]

    def gmm_e_step(data, params):
        return _e_step(data, params, labels)

    data_scale = _data_scale(x)

    def gmm_m_step(data, responsibilities):
        return _m_step(data, responsibilities, reg_covar, data_scale)

    best = None
    for params0 in starts:
        result = em(x, params0, gmm_e_step, gmm_m_step, tol=tol, max_iter=max_iter)
        if best is None or result.log_likelihood > best.log_likelihood:
            best = result
    return best


def initial_params(x, n_components, strategy="kmeans", *, labels=None, reg_covar=1e-6, rng=None):
    """An initial guess θ(0) for EM (chapter 6, initialisation).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    n_components : int
    strategy : {"kmeans", "random", "labels"}
        See :func:`fit_gmm`.
    labels : array_like of int, shape (n,), optional
        Needed by ``"labels"``.
    reg_covar : float
        Added to every variance, as in the M-step.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    GaussianMixtureParams
    """
    x = as_data(x)
    n_components = as_n_components(n_components)
    reg_covar = as_nonnegative(reg_covar, "reg_covar")
    if strategy not in INIT_STRATEGIES:
        raise ValueError(f"init must be a GaussianMixtureParams or one of {INIT_STRATEGIES}, got {strategy!r}.")
    if len(x) < n_components:
        raise ValueError(f"x has {len(x)} points, fewer than n_components={n_components}.")
    rng = as_generator(rng)
    if strategy == "kmeans":
        assignments = kmeans(x, n_components, rng=rng).expectations
        responsibilities = np.eye(n_components)[assignments]
    elif strategy == "random":
        return _random_points_params(x, n_components, reg_covar, rng)
    else:
        if labels is None:
            raise ValueError('init="labels" needs labels; pass labels=... or another init.')
        labels = as_labels(labels, len(x), n_components)
        responsibilities = _labels_responsibilities(labels, n_components)
    return _m_step_or_spread(x, responsibilities, reg_covar)


def _random_points_params(x, n_components, reg_covar, rng):
    """K distinct data values as means, the data's covariance for every component, equal weights."""
    distinct = np.unique(x, axis=0)
    if len(distinct) < n_components:
        raise ValueError(
            f"x has only {len(distinct)} distinct values, fewer than n_components={n_components}; "
            "use fewer components."
        )
    means = distinct[np.sort(rng.choice(len(distinct), size=n_components, replace=False))]
    spread = _data_covariance(x)
    covariances = np.repeat(spread[None], n_components, axis=0)
    return _regularised_params(np.full(n_components, 1 / n_components), means, covariances, x, reg_covar)


def _labels_responsibilities(labels, n_components):
    counts = np.bincount(labels[labels >= 0], minlength=n_components)
    if np.any(counts == 0):
        k = int(np.argmax(counts == 0))
        raise ValueError(
            f'init="labels" needs at least one labelled point in every class; class {k} has none. '
            "Pass init='kmeans' or an explicit GaussianMixtureParams."
        )
    responsibilities = np.full((len(labels), n_components), 1 / n_components)
    labelled = np.flatnonzero(labels >= 0)
    responsibilities[labelled] = np.eye(n_components)[labels[labelled]]
    return responsibilities


def _m_step_or_spread(x, responsibilities, reg_covar):
    """The M-step for a starting point, where a component with no spread (one point, or
    identical points) takes the data's covariance instead of collapsing."""
    return _regularised_params(*_weighted_moments(x, responsibilities), x, reg_covar)


def _data_covariance(x):
    """The data's covariance (1-D: variance), as a float or a (d, d) array."""
    if x.ndim == 1:
        return np.array(x.var())
    return np.atleast_2d(np.cov(x, rowvar=False, bias=True))


def _regularised_params(weights, means, covariances, x, reg_covar):
    """Parameters whose degenerate covariances are replaced by the data's, then floored."""
    threshold = COLLAPSE_RATIO * _data_scale(x)
    smallest = covariances if x.ndim == 1 else np.linalg.eigvalsh(covariances)[:, 0]
    degenerate = ~(smallest > threshold)
    if np.any(degenerate):
        covariances = covariances.copy()
        covariances[degenerate] = _data_covariance(x)
    if x.ndim == 1:
        covariances = np.maximum(covariances, reg_covar)
    else:
        covariances = _floor_eigenvalues(covariances, reg_covar)
    _check_not_collapsed(covariances, _data_scale(x))
    return GaussianMixtureParams(weights, means, covariances)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def _checked_inputs(x, params, labels):
    x = as_data(x)
    _check_compatible(x, params)
    if labels is not None:
        labels = as_labels(labels, len(x), params.n_components)
    return x, labels


def _check_compatible(x, params, name="params"):
    if not isinstance(params, GaussianMixtureParams):
        raise ValueError(f"{name} must be a GaussianMixtureParams, got {type(params).__name__}.")
    if x.ndim == 1 and not params.is_1d:
        raise ValueError(
            f"x is 1-D but {name} is a {params.n_features}-D mixture; pass x of shape (n, {params.n_features})."
        )
    if x.ndim == 2 and (params.is_1d or params.n_features != x.shape[1]):
        expected = "(K,) means for 1-D data of shape (n,)" if params.is_1d else f"{params.n_features}-D data"
        raise ValueError(
            f"x has shape {x.shape} but {name} describes {expected}; the data's dimension and "
            "the means' must agree."
        )
