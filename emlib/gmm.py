"""Gaussian mixtures: the E-step, the M-step and the fit (chapters 2, 3, 5 and 6).

A Gaussian mixture with K components has weights π_k, means μ_k and covariances Σ_k.
In 1-D the means have shape (K,) and the covariances are variances of shape (K,);
in d dimensions the means have shape (K, d) and the covariances shape (K, d, d).

The equation labels in the docstrings are those of the chapters, e.g. chapter 3,
``eq-m-means`` is the M-step for the means.
"""
import warnings
from dataclasses import dataclass, replace

import numpy as np

from .engine import BoundaryEstimateWarning, Parametrisation, em
from .kmeans import kmeans
from .validation import (as_data, as_float_array, as_floor, as_generator, as_labels, as_n_components,
                         as_responsibilities)

__all__ = [
    "GaussianMixtureParams", "e_step", "m_step", "log_likelihood", "predict_proba", "elbo",
    "log_joint", "component_log_densities", "density", "sample", "n_parameters", "bic",
    "fit_gmm", "initial_params", "INIT_STRATEGIES", "parametrisation",
    "SufficientStatistics", "sufficient_statistics", "merge_statistics",
]

LOG_2PI = np.log(2 * np.pi)
EPS = np.finfo(float).eps
# The smallest positive normal double: a variance below it has no reliable density.
SMALLEST_VARIANCE = np.finfo(float).tiny
# A component whose total responsibility N_k is below n times this is empty: no point is
# responsible for it, and its mean Σ γ_ik x_i / N_k would be 0/0 (or lost to underflow).
# Only empty components are affected: N_k of every other component is used as it is.
EMPTY_SHARE = np.finfo(float).tiny / np.finfo(float).eps  # about 1e-292
INIT_STRATEGIES = ("kmeans", "random", "labels")


@dataclass(frozen=True)
class GaussianMixtureParams:
    """The parameters θ = (π, μ, Σ) of a Gaussian mixture (chapter 2).

    ``covariances`` holds, in 1-D, the variances σ_k² (shape (K,)), and in d-D the
    covariance matrices Σ_k (shape (K, d, d)).

    Parameters
    ----------
    weights : array_like, shape (K,)
        The mixing weights π_k > 0, summing to 1 up to rounding (within 4 ε K, see
        :func:`weights_tolerance`); weights further off are refused, never renormalised
        silently, so that every accepted parameter set can be sampled from (:func:`sample`).
    means : array_like, shape (K,) or (K, d)
        The component means μ_k.
    covariances : array_like, shape (K,) or (K, d, d)
        1-D: the variances σ_k² > 0. d-D: symmetric positive-definite covariances Σ_k.

    The arrays are copied (as C-ordered float64: complex numbers, text and masked arrays
    are refused) and made read-only: a parameter set never changes, so the trace of an EM
    run keeps every iterate as it was. Every variance (eigenvalue) must be at least the
    smallest normal double, 2.2e-308, so that every density is representable.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def __post_init__(self):
        weights = _as_float_array(self.weights, "weights")
        means = _as_float_array(self.means, "means")
        covariances = _as_float_array(self.covariances, "covariances")
        _check_weights(weights)
        if abs(weights.sum() - 1) > 4 * EPS * len(weights):  # off by more than their own rounding:
            weights = weights / weights.sum()                # normalised (they were within 1e-10)
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
    array = as_float_array(values, name)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds NaN or infinite values; every parameter must be finite.")
    return array


def _check_weights(weights):
    if weights.ndim != 1 or len(weights) < 1:
        raise ValueError(f"weights must have shape (K,) with K >= 1, got shape {weights.shape}.")
    if np.any(weights <= 0):
        k = int(np.argmax(weights <= 0))
        raise ValueError(
            f"weights must be positive; component {k + 1} has weight {weights[k]!r}. "
            "Drop that component or give it a small positive weight."
        )
    if abs(weights.sum() - 1) > weights_tolerance(len(weights)):
        raise ValueError(
            f"weights sum to {float(weights.sum())!r}; they are probabilities and must sum to 1 up to "
            f"rounding ({weights_tolerance(len(weights)):.1g} for {len(weights)} weights): divide them "
            "by their sum, e.g. weights / weights.sum()."
        )


def weights_tolerance(n_components):
    """How far from 1 the sum of K weights may be: 1e-10, far more than the rounding of any
    M-step's N_k / n (which a reader's own code computes too), far less than a real mistake.
    Accepted weights further from 1 than their own rounding (4 ε each) are stored divided by
    their sum, so log π_k and sampling (``np.random.Generator.choice``) see weights that sum to 1."""
    return max(WEIGHTS_TOLERANCE, 4 * EPS * max(n_components, 1))


WEIGHTS_TOLERANCE = 1e-10


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
                f"variances must be positive; component {k + 1} has variance {covariances[k]!r}."
            )
        if np.any(covariances < SMALLEST_VARIANCE):
            k = int(np.argmax(covariances < SMALLEST_VARIANCE))
            raise ValueError(
                f"component {k + 1} has variance {float(covariances[k])!r}, below the smallest normal double "
                f"({SMALLEST_VARIANCE:.3g}): its density is not representable. Rescale the data (and "
                "the parameters) so that every variance is at least 1e-300."
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
            raise ValueError(f"the covariance of component {k + 1} is not symmetric; use (C + C.T) / 2.")
        if not _is_positive_definite(covariance):
            raise ValueError(
                f"the covariance of component {k + 1} is not positive definite (its smallest eigenvalue is "
                f"{np.linalg.eigvalsh(covariance).min():.3g}); every variance must be positive."
            )


def _is_positive_definite(matrix):
    """True if Σ = L Lᵀ with a Cholesky factor L whose inverse is finite (so the density is
    representable: no variance below the smallest normal double)."""
    try:
        factor = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    if np.any(np.diag(factor) ** 2 < SMALLEST_VARIANCE):
        return False
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return bool(np.all(np.isfinite(np.linalg.inv(factor))))


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
    densities = _component_log_densities(x, params)
    _check_representable(densities)
    return densities.T


def _check_representable(log_values):
    """Refuse a log-density of -inf: a point too far from a component for double precision."""
    if not np.all(np.isfinite(log_values)):
        k, i = (int(v) for v in np.argwhere(~np.isfinite(log_values))[0])
        raise ValueError(
            f"the point at index {i} (counting from 0) is too far from component {k + 1} for double "
            "precision: its log-density is below -1.8e308. Rescale the data (e.g. standardise it) or use "
            "parameters nearer the data."
        )


def _component_log_densities(x, params):
    """log N(x_i | μ_k, Σ_k) as a (K, n) array: one row per component.

    The (K, n) layout keeps every operation on long contiguous rows: NumPy is several
    times slower reducing along a short axis of length K (see benchmarks/).

    A point too far from a component for double precision gets -inf (its density underflows
    to 0), never NaN; the E-step's log-sum-exp handles it, the public functions refuse it.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # overflow to inf = a density of 0
        return _log_densities_rows(x, params)


def _log_densities_rows(x, params):
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
    largest_x = max(x.max(), -x.min())
    by_dimension = np.ascontiguousarray(x.T)  # (d, n): long contiguous rows
    centred, whitened = np.empty((d, len(x))), np.empty((d, len(x)))  # reused by every component
    for k, row in enumerate(densities):
        cholesky_factor = np.linalg.cholesky(params.covariances[k])  # Σ_k = L Lᵀ
        inverse_factor = np.linalg.inv(cholesky_factor)  # L⁻¹ (d x d), so Σ_k⁻¹ = L⁻ᵀ L⁻¹
        # centre before squaring: L⁻¹ (x - μ_k), not L⁻¹ x - L⁻¹ μ_k, which loses the digits
        # that x and μ_k share (all of them, for data far from 0: timestamps, coordinates)
        np.subtract(by_dimension, params.means[k][:, None], out=centred)  # x - μ_k, shape (d, n)
        np.matmul(inverse_factor, centred, out=whitened)  # L⁻¹ (x - μ_k)
        np.square(whitened, out=whitened)
        np.sum(whitened, axis=0, out=row)  # the squared Mahalanobis distance
        if (largest_x + np.abs(params.means[k]).max()) * np.abs(inverse_factor).max() * d > 1e150:
            row[np.isnan(row)] = np.inf  # inf - inf in L⁻¹(x - μ): the point is infinitely far
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
    log_joint_probabilities = _log_joint(x, params)
    _check_representable(log_joint_probabilities)
    return log_joint_probabilities.T


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
        f"the point at index {row} (counting from 0) is too far from every component for double precision; "
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
    with np.errstate(over="ignore"):
        log_likelihood = float(log_marginals.sum())
    if not np.isfinite(log_likelihood):
        if labels is not None and not np.all(np.isfinite(log_marginals)):
            raise ValueError(
                "a labelled point is too far from its own component for double precision; "
                "start from parameters where every class covers its labelled points."
            )
        raise ValueError(
            "the log-likelihood is below -1.8e308, beyond double precision: the data are too far from "
            "the components; rescale the data (e.g. standardise it) or start from parameters nearer the data."
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
    log_joint_probabilities = _log_joint(x, params).T
    terms = np.zeros_like(q)  # q_ik (log π_k N(x_i|k) - log q_ik), and 0 where q_ik = 0
    np.multiply(q, log_joint_probabilities - log_q, out=terms, where=q > 0)
    value = float(np.sum(terms))
    if not np.isfinite(value):
        raise ValueError(
            "the ELBO is below -1.8e308: q puts weight on a component that is too far from a point "
            "for double precision; use the responsibilities (gmm.predict_proba) or parameters nearer the data."
        )
    return value


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

    These are computed from the sufficient statistics N_k, m_k, S_k of x
    (:func:`sufficient_statistics`), the same functions the chunked fit of :mod:`emlib.scale`
    combines chunk by chunk (chapter 8): the in-memory M-step is its one-chunk case.

    Centre before squaring: the data are first centred at one of their own points c (so
    that x - c is exact and μ_k as precise as the data), and Σ_k is computed from the
    deviations x_i - μ_k, never as E[x xᵀ] - μ μᵀ, which loses every digit the data share
    (all of them for timestamps or coordinates far from 0).

    With ``reg_covar > 0`` every variance (in d-D, every eigenvalue of Σ_k) below
    ``reg_covar`` is raised to it. This is the exact maximiser of Q over the covariances
    whose eigenvalues are all at least ``reg_covar`` (the Gaussian log-likelihood of a
    covariance depends on it only through its eigenvalues in the eigenbasis of the
    weighted scatter matrix, each term log λ + s/λ being minimised at max(s, reg_covar)),
    so EM's guarantee that the log-likelihood never decreases still holds (chapter 4).
    scikit-learn instead adds ``reg_covar`` to the diagonal, which is not a maximiser of Q.
    For d-D data ``reg_covar`` may also be one floor per dimension, ε = (ε_1, ..., ε_d):
    then Σ_k ⪰ diag(ε), the same clip done in the coordinates x_j / √ε_j, which suits data
    whose dimensions have different units (e.g. ``reg_covar=1e-6 * x.var(axis=0)``).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    responsibilities : array_like, shape (n, K)
        Each row a distribution over the K components.
    reg_covar : float, or array_like of shape (d,) for d-D data, default 0
        The smallest allowed variance (eigenvalue), in the data's units squared, so that a
        component that collapses onto one point keeps a positive variance (chapter 6).

    Returns
    -------
    GaussianMixtureParams

    Raises
    ------
    ValueError
        On bad input; if a component is empty (no point is responsible for it); or if a
        component collapsed (a variance of zero, or numerically zero next to the data's
        spread in that dimension) and ``reg_covar`` is 0.
    """
    x = as_data(x)
    responsibilities = as_responsibilities(responsibilities, len(x))
    reg_covar = as_floor(reg_covar, 1 if x.ndim == 1 else x.shape[1])
    centre = _reference_point(x)  # centre before squaring, as fit_gmm does
    return _moved(_m_step(x - centre, responsibilities, reg_covar), centre)


def _m_step(x, responsibilities, reg_covar, data_scale=None):
    """Chapter 3's M-step as the one-chunk case of the chunked one (chapter 8): the sufficient
    statistics of all of x, then the parameters from them (:func:`_params_from_statistics`)."""
    statistics = _sufficient_statistics(x, responsibilities.T)
    data_scale = _data_scale(x) if data_scale is None else data_scale
    return _params_from_statistics(statistics, reg_covar, data_scale, lambda: _data_moments(x))


def _params_from_statistics(statistics, reg_covar, data_scale, data_moments):
    """θ(t+1) from the sufficient statistics (chapter 3's closed form), floored at ``reg_covar``.

    Parameters
    ----------
    statistics : SufficientStatistics
        Of the data centred at their reference point (as :func:`fit_gmm` centres them).
    reg_covar : float or ndarray of shape (d,)
        The floor under every variance (eigenvalue), see :func:`m_step`.
    data_scale : (variances, resolution)
        Each dimension's variance and rounding noise (:func:`_data_scale`), for the check
        that no component collapsed.
    data_moments : callable
        ``data_moments() -> (mean, covariance)`` of all the data, called only to restart an
        empty component (see :func:`_weighted_moments`).
    """
    weights, means, covariances = _moments(statistics, _has_floor(reg_covar), data_moments)
    covariances = _apply_floor(covariances, reg_covar)
    _check_not_collapsed(covariances, data_scale, reg_covar)
    return GaussianMixtureParams(weights, means, covariances)


@dataclass(frozen=True)
class SufficientStatistics:
    """All the M-step needs from the data and the responsibilities (chapter 3's closed form;
    chapter 8 derives them): for every component k,

        N_k = Σ_i γ_ik,   m_k = Σ_i γ_ik x_i / N_k,   S_k = Σ_i γ_ik (x_i - m_k)(x_i - m_k)ᵀ,

    so that π_k = N_k / Σ_j N_j, μ_k = m_k and Σ_k = S_k / N_k. The scatter is kept about the
    weighted mean (never as Σ γ x xᵀ, which loses the digits the data share); the statistics
    of two parts of the data combine exactly with :func:`merge_statistics`.

    Attributes
    ----------
    n_points : int
        n, the number of data points summarised.
    totals : ndarray, shape (K,)
        N_k.
    means : ndarray, shape (K,) or (K, d)
        m_k (0 for a component with N_k = 0).
    scatters : ndarray, shape (K,) or (K, d, d)
        S_k (1-D: Σ_i γ_ik (x_i - m_k)²); symmetric up to rounding (the M-step symmetrises).
    """

    n_points: int
    totals: np.ndarray
    means: np.ndarray
    scatters: np.ndarray


def sufficient_statistics(x, responsibilities):
    """The sufficient statistics N_k, m_k, S_k of ``x`` under ``responsibilities`` (chapter 8).

    ``m_step(x, responsibilities)`` is the parameters computed from these statistics (of x
    centred at its first point); the chunked fit (:mod:`emlib.scale`) computes them chunk by
    chunk and combines them with :func:`merge_statistics`.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    responsibilities : array_like, shape (n, K)

    Returns
    -------
    SufficientStatistics
    """
    x = as_data(x)
    responsibilities = as_responsibilities(responsibilities, len(x))
    return _sufficient_statistics(x, np.ascontiguousarray(responsibilities.T))


def _sufficient_statistics(x, by_component):
    """:class:`SufficientStatistics` of x (n,) or (n, d) from the responsibilities as (K, n)."""
    totals = by_component.sum(axis=1)  # N_k
    divisors = np.where(totals > 0, totals, 1.0)  # no 0/0 for a component no point belongs to
    means = (by_component @ x) / (divisors if x.ndim == 1 else divisors[:, None])
    return SufficientStatistics(len(x), totals, means, _weighted_scatters(x, by_component, means))


def merge_statistics(first, second):
    """The statistics of two parts of the data together, from those of each part (chapter 8).

    The pairwise update of Chan, Golub & LeVeque (1979), per component, with δ = m_b - m_a::

        N = N_a + N_b,   m = m_a + δ N_b / N,   S = S_a + S_b + δ δᵀ N_a N_b / N,

    exact in exact arithmetic, and as precise as the two-pass formula in floating point: it
    only ever adds scatters about means, never subtracts E[x]² from E[x²]. A part where a
    component has N = 0 leaves the other part's statistics unchanged. As everywhere in emlib,
    centre the data at a reference point first (one of their own rows): the parts' means are
    then as exact as the data, and so is δ; on data far from 0 left uncentred, δ would carry
    the rounding of the means, about ε |x|.

    Parameters
    ----------
    first, second : SufficientStatistics

    Returns
    -------
    SufficientStatistics
    """
    totals = first.totals + second.totals
    with np.errstate(invalid="ignore", divide="ignore"):
        second_share = np.where(totals > 0, second.totals / totals, 0.0)  # N_b / N
    weight_of_delta = first.totals * second_share  # N_a N_b / N
    delta = second.means - first.means
    if delta.ndim == 1:
        means = first.means + delta * second_share
        scatters = first.scatters + second.scatters + delta * delta * weight_of_delta
    else:
        means = first.means + delta * second_share[:, None]
        outer = delta[:, :, None] * delta[:, None, :]
        scatters = first.scatters + second.scatters + outer * weight_of_delta[:, None, None]
    return SufficientStatistics(first.n_points + second.n_points, totals, means, scatters)


def _moments(statistics, revive_empty, data_moments):
    """π_k = N_k / Σ_j N_j, μ_k = m_k and Σ_k = S_k / N_k (1-D: σ_k²) from the statistics.

    An empty component (no point responsible for it: N_k = 0) is reported, or with
    ``revive_empty`` (when a floor ``reg_covar > 0`` is in force) restarted as the data's
    own Gaussian (``data_moments()``: their mean and covariance) with the negligible weight
    ``GHOST_WEIGHT``: Q does not depend on an empty component's mean and covariance, and the
    weight costs Q about n × 1e-250, so EM still never decreases. No other component is changed.
    """
    totals = statistics.totals
    empty = ~(totals >= statistics.n_points * EMPTY_SHARE)
    if np.any(empty) and not revive_empty:
        _raise_empty(totals, empty)
    covariances = _covariances_from_scatters(statistics.scatters, np.where(empty, 1.0, totals))
    if not np.any(empty):
        return totals / totals.sum(), statistics.means, covariances
    weights = np.where(empty, GHOST_WEIGHT, totals / totals[~empty].sum())
    means = statistics.means.copy()
    means[empty], covariances[empty] = data_moments()
    return weights, means, covariances


def _weighted_moments(x, responsibilities, revive_empty=False):
    """π_k, μ_k and Σ_k (1-D: σ_k²) weighted by the responsibilities (n, K): :func:`_moments`
    of the statistics of x."""
    statistics = _sufficient_statistics(x, responsibilities.T)
    return _moments(statistics, revive_empty, lambda: _data_moments(x))


def _data_moments(x):
    """The data's mean and covariance (1-D: variance), for restarting an empty component."""
    return x.mean(axis=0), _data_covariance(x)


# The weight of an empty component restarted by the M-step (see _moments).
GHOST_WEIGHT = 1e-250


def _raise_empty(totals, empty):
    """An empty component (N_k = 0: no point is responsible for it) has no mean to estimate."""
    empty = np.flatnonzero(empty)
    if empty.size:
        raise ValueError(
            f"component {empty[0] + 1} collapsed to nothing: no data point is responsible for it (its total "
            f"responsibility N_{empty[0] + 1} is {totals[empty[0]]:.3g}), so its mean and covariance cannot be "
            "estimated. Start it nearer the data (e.g. init='kmeans'), or use fewer components."
        )


def _weighted_scatters(x, by_component, means):
    """S_k = Σ_i γ_ik (x_i - μ_k)² (1-D, shape (K,)) or Σ_i γ_ik (x_i - μ_k)(x_i - μ_k)ᵀ (d-D,
    shape (K, d, d)), from γ as a (K, n) array.

    Centred before squaring: never Σ_i γ_ik x_i² - N_k μ_k², which cancels away every
    digit the data share. (The callers centre x at one of its own points first, so μ_k is
    as exact as the data themselves.)
    """
    if x.ndim == 1:
        scatters = np.empty(len(means))
        deviations = np.empty_like(x)
        for k, weights in enumerate(by_component):
            np.subtract(x, means[k], out=deviations)
            np.square(deviations, out=deviations)
            scatters[k] = weights @ deviations
        return scatters
    n_components, d = means.shape
    scatters = np.empty((n_components, d, d))
    by_dimension = np.ascontiguousarray(x.T)  # (d, n): long contiguous rows (see _log_densities_rows)
    deviations, weighted = np.empty_like(by_dimension), np.empty_like(by_dimension)  # reused for every k
    for k, weights in enumerate(by_component):
        np.subtract(by_dimension, means[k][:, None], out=deviations)  # x - μ_k, as (d, n)
        np.multiply(deviations, weights, out=weighted)  # γ_ik (x_i - μ_k)
        scatters[k] = weighted @ deviations.T
    return scatters


def _covariances_from_scatters(scatters, totals):
    """Σ_k = S_k / N_k (1-D: σ_k²), exactly symmetric in d-D."""
    if scatters.ndim == 1:
        return scatters / totals
    covariances = scatters / totals[:, None, None]
    return (covariances + np.swapaxes(covariances, 1, 2)) / 2


def _apply_floor(covariances, reg_covar):
    """Floor the variances at ``reg_covar``: a float (every variance, every eigenvalue) or, in
    d-D, one floor per dimension ε (Σ_k ⪰ diag(ε): the eigenvalue clip in the coordinates x_j / √ε_j)."""
    if covariances.ndim == 1:
        return np.maximum(covariances, reg_covar)
    if np.ndim(reg_covar) == 0:
        return _floor_eigenvalues(covariances, reg_covar)
    root = np.sqrt(reg_covar)
    if np.any(root == 0):
        raise ValueError("reg_covar per dimension must be positive in every dimension (or pass 0).")
    scaled = covariances / np.multiply.outer(root, root)  # the covariances of x_j / √ε_j
    floored = _floor_eigenvalues(scaled, 1.0) * np.multiply.outer(root, root)
    return (floored + np.swapaxes(floored, 1, 2)) / 2


def _floor_eigenvalues(covariances, floor):
    """Raise every eigenvalue of every covariance below ``floor`` to ``floor``."""
    if floor == 0:
        return covariances
    eigenvalues, eigenvectors = np.linalg.eigh(covariances)
    if np.all(eigenvalues >= floor):
        return covariances
    clipped = (eigenvectors * np.maximum(eigenvalues, floor)[:, None, :]) @ np.swapaxes(eigenvectors, 1, 2)
    return (clipped + np.swapaxes(clipped, 1, 2)) / 2


# A variance this small next to the data's own in that dimension (relative) is a collapse:
# the component sits on a single point (or a line), and its density is numerically a spike.
COLLAPSE_RATIO = 1e-12
# Below (ε max|x_j|)², a variance is rounding noise: x - μ is only known to about an ulp of x.
RESOLUTION_ULPS = 1


def _data_scale(x):
    """Each dimension's variance (1 where the data do not vary), shape () or (d,), and the
    smallest variance double precision resolves in each dimension, (ε max|x_j|)²."""
    variances = np.var(x, axis=0)
    variances = np.where(variances > 0, variances, 1.0)
    with np.errstate(over="ignore"):  # data near 1e300: no variance is resolvable (inf)
        resolution = (RESOLUTION_ULPS * EPS * np.abs(x).max(axis=0)) ** 2
    return variances, resolution


def _smallest_relative_variances(covariances, variances):
    """Each component's smallest variance in any direction, relative to the data's variance in
    that direction: the smallest eigenvalue of D⁻¹ Σ_k D⁻¹, D = diag(the data's standard deviations)."""
    if covariances.ndim == 1:
        return covariances / variances
    scale = np.sqrt(variances)
    return np.linalg.eigvalsh(covariances / np.multiply.outer(scale, scale))[:, 0]


def _has_floor(reg_covar):
    return bool(reg_covar > 0) if np.ndim(reg_covar) == 0 else bool(np.any(reg_covar > 0))


def _check_not_collapsed(covariances, data_scale, reg_covar):
    """Refuse a component whose variance (in some direction) is zero next to the data's in that
    direction (without a floor), or below the rounding noise of the data (with one)."""
    variances, resolution = data_scale
    relative = _smallest_relative_variances(covariances, variances)
    noise = float(np.max(resolution / variances))
    floored = _has_floor(reg_covar)
    # with a floor, a spike held at reg_covar is what the user asked for; only rounding noise is refused
    threshold = max(noise, 0.0 if floored else COLLAPSE_RATIO)
    if relative.min() > threshold:
        return
    k = int(np.argmin(relative > threshold))
    d = 1 if covariances.ndim == 1 else covariances.shape[1]
    what = "variance" if d == 1 else "variance in some direction"
    if floored:
        raise ValueError(
            f"component {k + 1} collapsed: reg_covar={_describe(reg_covar)} holds its {what} below the rounding "
            f"noise of data this far from 0 (variances under about {_describe(resolution)} are noise). Raise "
            "reg_covar to a floor that matches the data's resolution (e.g. reg_covar=1e-6 * x.var(axis=0)), "
            "or use fewer components."
        )
    points = "a single point" if d == 1 else f"too few points to span all {d} dimensions (e.g. points on a line)"
    raise ValueError(
        f"component {k + 1} collapsed: its {what} fell below {threshold:.0e} times the data's, because it "
        f"covers {points}. Use reg_covar > 0, a floor under every variance (e.g. the rounding variance u²/12 of "
        "data recorded to a unit u, or reg_covar=1e-6 * x.var(axis=0) for one floor per dimension on the data's "
        "own scale), fewer components, or another initialisation."
    )


def _describe(value):
    array = np.asarray(value, dtype=float)
    return f"{float(array):.3g}" if array.ndim == 0 else "[" + ", ".join(f"{v:.3g}" for v in array) + "]"


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
    with np.errstate(over="ignore"):
        value = -2 * log_likelihood(x, params) + n_parameters(params) * np.log(len(x))
    if not np.isfinite(value):
        raise ValueError("the BIC is beyond double precision (the log-likelihood is below -9e307): the data "
                         "are too far from the components; rescale the data or use parameters nearer them.")
    return value


# ---------------------------------------------------------------------------
# fitting
# ---------------------------------------------------------------------------

def fit_gmm(x, n_components, *, labels=None, init=None, n_init=1, tol=1e-8, max_iter=500,
            reg_covar=1e-6, rng=None, param_tol=None, aitken_tol=None, accelerate=None):
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
        Number of runs from different random initialisations. The run kept is the one with
        the highest final log-likelihood among the runs with no component at the floor
        ``reg_covar`` (a variance, or in d-D an eigenvalue, held at it); only if every run
        ends with a component at the floor is the best of those kept, with a warning. The
        reason: the likelihood is unbounded as a variance shrinks to 0, so a component
        collapsed onto a few equal values (ties, e.g. rounded data) can beat every sensible
        fit only because of the floor; its log-likelihood is not comparable with theirs.
        Ignored when ``init`` is a parameter set or ``"labels"`` (the default with labels):
        those give a single start.
    tol, max_iter, param_tol, aitken_tol
        The stopping rules, passed to :func:`emlib.em`: ``tol`` on the log-likelihood's
        increase (the default rule), ``param_tol`` on the relative change of the parameter
        vector of :func:`parametrisation` (weights, means over the data's standard deviations,
        covariances over its variances: no units, so the rule is the same in cm or m), and
        ``aitken_tol`` on Aitken's estimate of the log-likelihood still to gain. With
        ``param_tol`` or ``aitken_tol``, ``tol`` is not used.
    accelerate : {None, "squarem"}, default None
        ``"squarem"``: SQUAREM (Varadhan & Roland 2008; :func:`emlib.em`), extrapolating
        from two EM steps. An extrapolated mixture with a weight <= 0 or a covariance below
        the floor ``reg_covar`` (or not positive definite) is outside the parameter space and
        is not used; the log-likelihood of the accepted iterates never decreases, and the
        fixed points are EM's. ``result.n_e_steps`` counts the E-steps.
    reg_covar : float, or array_like of shape (d,) for d-D data, default 1e-6
        The smallest variance a component may have (in d-D, the smallest eigenvalue of
        its covariance), in the data's units squared: it keeps a component from collapsing
        onto one point (chapter 6). Match it to the data's resolution; for data in small
        units, or dimensions in different units, pass one floor per dimension, e.g.
        ``reg_covar=1e-6 * x.var(axis=0)``. See :func:`m_step`.
    rng : numpy.random.Generator or int, optional
        The source of randomness for the initialisation; the same ``rng`` state gives
        bit-identical results.

    Returns
    -------
    EMResult
        ``params`` is a :class:`GaussianMixtureParams` (its ``covariances`` are, in 1-D, the
        variances σ_k², shape (K,); in d-D the covariance matrices, shape (K, d, d)),
        ``expectations`` the final responsibilities (n, K).

    Warns
    -----
    BoundaryEstimateWarning
        If a component of the fit returned has its variance (in d-D, the smallest eigenvalue
        of its covariance) at the floor ``reg_covar``: it has collapsed onto a few points,
        and only the floor keeps the likelihood finite. ``result.message`` says which
        component (counted from 1), how many points it holds and what to do.
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
    reg_covar = as_floor(reg_covar, _n_features(x))
    if isinstance(n_init, bool) or not isinstance(n_init, (int, np.integer)) or n_init < 1:
        raise ValueError(f"n_init must be a whole number >= 1, got {n_init!r}.")
    rng = as_generator(rng)
    if not (init is None or isinstance(init, (GaussianMixtureParams, str))):
        raise ValueError(
            f"init must be a GaussianMixtureParams or one of {INIT_STRATEGIES}, got {_describe_init(init)}. "
            "To start from given means, pass init=emlib.GaussianMixtureParams(weights, means, covariances)."
        )
    # centre before squaring: EM runs on z = x - c, c the first data point, so that no digit the data share (e.g. of timestamps) takes part in
    # the arithmetic; the parameters are moved back to x's coordinates at the end.
    centre = _reference_point(x)
    z = x - centre
    z.setflags(write=False)
    if isinstance(init, GaussianMixtureParams):
        _check_compatible(x, init, name="init")
        if init.n_components != n_components:
            raise ValueError(
                f"init has {init.n_components} components but n_components={n_components}; make them agree."
            )
        starts = [_moved(init, -centre)]
        originals = {id(starts[0]): init}  # θ(0) in the trace is the caller's own object
    else:
        originals = {}
        strategy = init if init is not None else ("labels" if labels is not None else "kmeans")
        runs = 1 if strategy == "labels" else n_init
        starts = [initial_params(z, n_components, strategy, labels=labels, reg_covar=reg_covar, rng=rng)
                  for _ in range(runs)]

    def gmm_e_step(data, params):
        return _e_step(data, params, labels)

    data_scale = _data_scale(z)

    def gmm_m_step(data, responsibilities):
        return _m_step(data, responsibilities, reg_covar, data_scale)

    needs_vector = param_tol is not None or accelerate is not None
    vectors = parametrisation(z, reg_covar, n_components) if needs_vector else None
    results = [em(z, params0, gmm_e_step, gmm_m_step, tol=tol, max_iter=max_iter, param_tol=param_tol,
                  aitken_tol=aitken_tol, parametrisation=vectors, accelerate=accelerate) for params0 in starts]
    best, n_floored_runs, n_runs = _best_run(results, reg_covar)
    best = _moved_result(best, centre, originals)
    counts, values = _held_points(x, best.expectations)
    return _report_floor(best, reg_covar, counts, values, n_floored_runs, n_runs)


def parametrisation(x, reg_covar=0.0, n_components=None):
    """A mixture's parameters as a vector without units, and back (for ``param_tol`` and SQUAREM).

    The vector is (π_1..π_K, μ_k / s for every k, the lower triangle of D⁻¹ Σ_k D⁻¹ for every k)
    with s the data's standard deviations and D = diag(s): weights, means and covariances on
    the same scale, so that a relative change and SQUAREM's step length ‖r‖ / ‖w‖ mean the
    same in any units (the data's own scale, from ``x``). :func:`fit_gmm` builds it for the data it
    iterates on, centred at their first point (chapter 3), so there the means enter as
    (μ_k - x_1) / s.

    ``from_vector`` returns None for a vector outside the parameter space: a weight <= 0, or a
    covariance not positive definite or with a variance (eigenvalue) below the floor
    ``reg_covar`` (beyond rounding); weights summing to 1 up to rounding are divided by their sum.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
        The data the mixtures are fitted to (for the scale s).
    reg_covar : float or array_like of shape (d,)
        The floor of :func:`m_step`.
    n_components : int, optional
        K; if omitted, ``from_vector`` infers it from the vector's length.

    Returns
    -------
    emlib.Parametrisation
    """
    x = as_data(x)
    d = _n_features(x)
    reg_covar = as_floor(reg_covar, d)
    scale = np.sqrt(_data_scale(x)[0]) * np.ones(d)  # s, shape (d,)
    rows, columns = np.tril_indices(d)
    entry_scale = scale[rows] * scale[columns]

    def to_vector(params):
        means = params.means.reshape(params.n_components, d) / scale
        covariances = params.covariances.reshape(params.n_components, d, d)[:, rows, columns] / entry_scale
        return np.concatenate([params.weights, means.ravel(), covariances.ravel()])

    def from_vector(vector):
        k = n_components or len(vector) // (1 + d + len(rows))
        weights, means, triangles = np.split(np.asarray(vector, dtype=float), [k, k + k * d])
        covariances = np.zeros((k, d, d))
        covariances[:, rows, columns] = triangles.reshape(k, -1) * entry_scale
        covariances[:, columns, rows] = covariances[:, rows, columns]
        if not _feasible(weights, covariances, reg_covar):
            return None
        means = means.reshape(k, d) * scale
        shape = (k,) if x.ndim == 1 else (k, d, d)
        try:
            return GaussianMixtureParams(weights / weights.sum(), means.reshape(k) if x.ndim == 1 else means,
                                         covariances.reshape(shape))
        except ValueError:
            return None

    return Parametrisation(to_vector, from_vector)


# Eigenvalues this far below the floor (relative to the largest) are rounding, not a violation.
FLOOR_SLACK = 1e-12


def _feasible(weights, covariances, reg_covar):
    """True for weights > 0 summing to 1 (up to 1e-8), and covariances (K, d, d) whose eigenvalues
    are all at least the floor (up to rounding) and positive."""
    if not (np.all(np.isfinite(weights)) and np.all(weights > 0) and abs(weights.sum() - 1) <= 1e-8):
        return False
    if not np.all(np.isfinite(covariances)):
        return False
    eigenvalues, floor = _eigenvalues_in_floor_units(covariances, reg_covar)
    lowest = eigenvalues[:, 0] - (floor - FLOOR_SLACK * np.abs(eigenvalues).max(axis=1))
    return bool(np.all(lowest >= 0) and np.all(eigenvalues[:, 0] > 0))


def _eigenvalues_in_floor_units(covariances, reg_covar):
    """The eigenvalues, ascending, of covariances (K, d, d) in the coordinates x_j / √ε_j in which
    the floor ``reg_covar`` (one ε, or one ε_j per dimension) is 1, and that floor: (eigenvalues
    (K, d), 1.0); without a floor, the eigenvalues themselves and 0.0."""
    root = np.sqrt(np.broadcast_to(np.asarray(reg_covar, dtype=float), covariances.shape[-1:]))
    if not np.all(root > 0):
        return np.linalg.eigvalsh(covariances), 0.0
    return np.linalg.eigvalsh(covariances / np.multiply.outer(root, root)), 1.0


def _components_at_floor(covariances, reg_covar):
    """For every component, True if its variance (1-D) or the smallest eigenvalue of its
    covariance (d-D; with a floor per dimension, of the covariance in the coordinates
    x_j / √ε_j, as in :func:`_feasible`) is at the floor ``reg_covar``, up to rounding
    (``FLOOR_SLACK`` times the largest eigenvalue). Without a floor, no component is."""
    covariances = np.asarray(covariances, dtype=float)
    n_components = len(covariances)
    if not _has_floor(reg_covar):
        return np.zeros(n_components, dtype=bool)
    matrices = covariances.reshape(n_components, 1, 1) if covariances.ndim == 1 else covariances
    eigenvalues, floor = _eigenvalues_in_floor_units(matrices, reg_covar)
    return eigenvalues[:, 0] - floor <= FLOOR_SLACK * np.abs(eigenvalues).max(axis=1)


def _best_run(results, reg_covar):
    """The run to keep among several: the highest log-likelihood among the runs with no
    component at the floor, or, if every run has one, the highest of all (the caller warns).

    Returns (result, runs at the floor, number of runs)."""
    at_floor = [bool(np.any(_components_at_floor(result.params.covariances, reg_covar))) for result in results]
    candidates = [result for result, floored in zip(results, at_floor) if not floored] or results
    best = max(candidates, key=lambda result: result.log_likelihood)  # the first of equals, as before
    return best, sum(at_floor), len(results)


def _report_floor(result, reg_covar, counts, values, n_floored_runs=1, n_runs=1, *,
                  counted_by="responsibility above 0.5", stacklevel=3):
    """``result`` with a message (and a :class:`emlib.BoundaryEstimateWarning`) naming every
    component at the floor ``reg_covar``: the likelihood is unbounded there, so the fit's
    log-likelihood is not comparable with that of fits above the floor. ``counts`` and
    ``values`` give, per component, the number of data points it holds (counted as
    ``counted_by`` says) and their common value (None if they differ); ``n_floored_runs`` of
    ``n_runs`` starts ended at the floor. Unchanged if no component is at the floor."""
    params = result.params
    at_floor = np.flatnonzero(_components_at_floor(params.covariances, reg_covar))
    if at_floor.size == 0:
        return result
    floor = (f"its variance is held at the floor reg_covar={_describe(reg_covar)}" if params.is_1d else
             f"the smallest eigenvalue of its covariance is held at the floor reg_covar={_describe(reg_covar)}"
             if np.ndim(reg_covar) == 0 else
             f"its variance in some direction is held at the per-dimension floor reg_covar={_describe(reg_covar)}")
    sentences = [_floor_sentence(k, params.n_components, floor, counts[k], values[k], counted_by) for k in at_floor]
    if n_runs > 1 and n_floored_runs == n_runs:
        sentences.append(f"Every one of the {n_runs} starts (n_init={n_runs}) ended with a component at the floor; "
                         "this is the one with the highest log-likelihood.")
    note = " ".join(sentences) + (
        " The likelihood is unbounded as a variance shrinks to 0: only the floor keeps it finite, so this fit's "
        "log-likelihood is not comparable with that of fits whose variances are above the floor. A floor at the "
        "data's resolution (for data rounded to a unit u, the rounding variance u²/12, e.g. reg_covar=2.54**2/12 "
        "for whole inches in cm) limits what such a spike can gain, but on tied data it may still win: judge the "
        "fit, and use other starts (n_init keeps the best fit with no variance at the floor), another init, or "
        "fewer components.")
    warnings.warn(note, BoundaryEstimateWarning, stacklevel=stacklevel)
    return replace(result, message=f"{result.message} {note[0].upper()}{note[1:]}".strip())


def _floor_sentence(k, n_components, floor, count, value, counted_by):
    """One component at the floor, in words, numbered from 1 as in the text (k is its array index)."""
    name = f"component {k + 1} of {n_components}"
    if count == 0:
        return f"{name} collapsed: {floor}, and it holds no data point ({counted_by})."
    if value is None:
        holds = "1 data point" if count == 1 else f"{count} data points"
        return f"{name} collapsed: {floor}; it holds {holds} ({counted_by})."
    if count == 1:
        return f"{name} collapsed onto a single data point, {_describe_value(value)}: {floor}."
    return (f"{name} collapsed onto a single value: {floor}, and the {count} data points it holds "
            f"({counted_by}) all equal {_describe_value(value)}.")


def _describe_value(value):
    """A data value (a number, or a point in d-D) as the data show it: 10 significant digits at
    most, so that the rounding of a unit conversion (66 * 2.54 = 167.64000000000001) is not shown."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return f"{float(array):.10g}"
    return "(" + ", ".join(f"{v:.10g}" for v in array) + ")"


def _held_points(x, responsibilities):
    """For every component, the number of points whose responsibility is above 0.5, and their
    common value if they are all equal (else None)."""
    counts, values = [], []
    for column in np.asarray(responsibilities).T:
        points = x[column > 0.5]
        counts.append(len(points))
        values.append(points[0] if len(points) and np.all(points == points[0]) else None)
    return counts, values


def _moved_result(result, centre, originals):
    """``result`` of a fit on z = x - c, moved back to x's coordinates: every iterate of the
    trace (the final params stay the very object of the trace's entry)."""
    moved = dict(originals)
    for params, _ in result.trace:
        if id(params) not in moved:
            moved[id(params)] = _moved(params, centre)
    return replace(result, params=moved[id(result.params)],
                   trace=[(moved[id(params)], value) for params, value in result.trace])


def _reference_point(x):
    """The point the data are centred at before squaring: the first data point. Being one of
    the data's own values, x - c is exact for data far from 0, |x - c| is at most the data's
    spread, and c moves exactly with the data under a shift or a change of units."""
    return x[0].copy()


def _moved(params, shift):
    """The same mixture with every mean moved by ``shift`` (a number, or (d,) in d-D).

    Only the means change, so only they are checked (finite); the weights and covariances,
    already checked and read-only, are shared rather than validated again."""
    with np.errstate(over="ignore"):
        means = params.means + shift
    if not np.all(np.isfinite(means)):
        raise ValueError("the means are beyond double precision once moved back to the data's coordinates; "
                         "rescale the data.")
    means.setflags(write=False)
    moved = object.__new__(GaussianMixtureParams)
    for name, array in (("weights", params.weights), ("means", means), ("covariances", params.covariances)):
        object.__setattr__(moved, name, array)
    return moved


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
    reg_covar : float or array_like of shape (d,)
        The floor under every variance (in d-D, every eigenvalue), applied as in the M-step:
        a variance below it is raised to it (the floor is applied, not added).
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    GaussianMixtureParams
    """
    x = as_data(x)
    n_components = as_n_components(n_components)
    reg_covar = as_floor(reg_covar, _n_features(x))
    if not isinstance(strategy, str) or strategy not in INIT_STRATEGIES:
        raise ValueError(
            f"init must be a GaussianMixtureParams or one of {INIT_STRATEGIES}, got {_describe_init(strategy)}. "
            "To start from given means, pass init=emlib.GaussianMixtureParams(weights, means, covariances)."
        )
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
            f'init="labels" needs at least one labelled point in every class; no point has label {k} '
            f"(component {k + 1}). Pass init='kmeans' or an explicit GaussianMixtureParams."
        )
    responsibilities = np.full((len(labels), n_components), 1 / n_components)
    labelled = np.flatnonzero(labels >= 0)
    responsibilities[labelled] = np.eye(n_components)[labels[labelled]]
    return responsibilities


def _m_step_or_spread(x, responsibilities, reg_covar):
    """The M-step for a starting point, where a component with no spread (one point, or
    identical points) takes the data's covariance instead of collapsing."""
    revive_empty = _has_floor(reg_covar)
    return _regularised_params(*_weighted_moments(x, responsibilities, revive_empty), x, reg_covar)


def _data_covariance(x):
    """The data's covariance (1-D: variance), as a float or a (d, d) array: the M-step's own
    formula with every responsibility 1, so that a one-component start and the M-step agree
    to the last bit (a nearly singular covariance, e.g. d >= n, amplifies any difference)."""
    ones = np.ones((1, len(x)))
    mean = (ones @ x) / len(x)
    totals = np.array([float(len(x))])
    covariance = _covariances_from_scatters(_weighted_scatters(x, ones, mean), totals)[0]
    return np.array(covariance) if x.ndim == 1 else covariance


def _regularised_params(weights, means, covariances, x, reg_covar):
    """Parameters whose degenerate covariances (numerically zero in some direction, relative
    to the data's variance in that direction) are replaced by the data's, then floored."""
    variances, resolution = data_scale = _data_scale(x)
    relative = _smallest_relative_variances(covariances, variances)
    degenerate = ~(relative > max(COLLAPSE_RATIO, float(np.max(resolution / variances))))
    if np.any(degenerate):
        covariances = covariances.copy()
        covariances[degenerate] = _data_covariance(x)
    covariances = _apply_floor(covariances, reg_covar)
    _check_not_collapsed(covariances, data_scale, reg_covar)
    return GaussianMixtureParams(weights, means, covariances)


def _n_features(x):
    return 1 if x.ndim == 1 else x.shape[1]


def _describe_init(init):
    if isinstance(init, np.ndarray):
        return f"an array of shape {init.shape}"
    return repr(init) if isinstance(init, (str, int, float, type(None))) else f"a {type(init).__name__}"


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


# How sure the estimates are (chapter 5): the observed information, standard errors and the
# bootstrap live in emlib.information and are offered here too, beside the fit they describe.
from .information import (InformationMatrices, StandardErrors, bootstrap_standard_errors,  # noqa: E402
                          free_parameters, from_free_parameters, information_matrices, observed_information,
                          parameter_names, standard_errors)

__all__ += ["observed_information", "standard_errors", "bootstrap_standard_errors", "information_matrices",
            "free_parameters", "from_free_parameters", "parameter_names", "InformationMatrices", "StandardErrors"]
