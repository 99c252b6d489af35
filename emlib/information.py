"""How sure the estimates are: the observed information of a Gaussian mixture (Louis 1982),
standard errors, the parametric bootstrap, and the fraction of missing information (chapter 5).

The parameters are counted freely, so that the weights' constraint Σ π_k = 1 is respected:
θ = (π_1, ..., π_{K-1}; μ_1, vech Σ_1; ...; μ_K, vech Σ_K), with π_K = 1 - Σ_{k<K} π_k and
vech Σ the entries of Σ on and below the diagonal (row by row; in 1-D, the variance σ²).
:func:`free_parameters` and :func:`from_free_parameters` convert; :func:`parameter_names`
names the entries.

Louis' identity (Louis 1982, JRSS B 44:226-233) holds point by point for independent data::

    -∇² log p(x_i | θ) = E[-∇² log p(x_i, z_i | θ) | x_i] - Cov[∇ log p(x_i, z_i | θ) | x_i],

so the observed information I_obs = I_c - I_m is the complete-data information I_c (what the
labels would give) minus the missing information I_m (what not knowing them costs), both
sums over the points of closed forms in the responsibilities. A labelled point (chapter 5)
has a one-hot responsibility, so it adds to I_c and nothing to I_m. The eigenvalues of
I_c⁻¹ I_m are the fractions of missing information; the largest is EM's rate of convergence
near the maximum (Dempster, Laird & Rubin 1977, sec. 3).
"""
from dataclasses import dataclass

import numpy as np

from .gmm import GaussianMixtureParams, _checked_inputs, _e_step, fit_gmm, sample
from .validation import as_generator

__all__ = ["free_parameters", "from_free_parameters", "parameter_names", "information_matrices",
           "observed_information", "standard_errors", "bootstrap_standard_errors", "InformationMatrices",
           "StandardErrors"]

# Points per chunk when summing the scores' outer products (bounds the memory to ~32 MB).
CHUNK_VALUES = 2 ** 22


@dataclass(frozen=True)
class StandardErrors:
    """Standard errors in the shape of :class:`emlib.GaussianMixtureParams`.

    Attributes
    ----------
    weights : ndarray, shape (K,)
        Of π_1..π_K; π_K's by the delta method, √(1ᵀ V 1) with V the covariance of π_1..π_{K-1}.
    means : ndarray, shape (K,) or (K, d)
    covariances : ndarray, shape (K,) or (K, d, d)
        Of every variance (1-D) or covariance entry (symmetric).
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray


@dataclass(frozen=True)
class InformationMatrices:
    """Louis' decomposition I_obs = I_c - I_m at θ, each (P, P) in the order of :func:`free_parameters`.

    Attributes
    ----------
    complete : ndarray, shape (P, P)
        I_c = Σ_i E[-∇² log p(x_i, z_i | θ) | x_i]: the information if the labels were known.
    missing : ndarray, shape (P, P)
        I_m = Σ_i Cov[∇ log p(x_i, z_i | θ) | x_i]: the information lost by not knowing them.
    observed : ndarray, shape (P, P)
        I_obs = I_c - I_m = -∇² log p(X | θ), the observed information.
    """

    complete: np.ndarray
    missing: np.ndarray
    observed: np.ndarray

    @property
    def fractions_missing(self):
        """The eigenvalues of I_c⁻¹ I_m, largest first, shape (P,): the fractions of missing
        information (Dempster, Laird & Rubin 1977); each in [0, 1] at a maximum."""
        return np.sort(np.linalg.eigvals(np.linalg.solve(self.complete, self.missing)).real)[::-1]

    @property
    def em_rate(self):
        """The largest fraction of missing information: EM's rate of linear convergence near θ
        (each iteration leaves about this share of the distance to the maximum)."""
        return float(self.fractions_missing[0])

    @property
    def fraction_missing_per_parameter(self):
        """1 - var_complete / var_observed for every free parameter, shape (P,): the share of a
        parameter's precision lost because the labels are missing."""
        return 1 - np.diag(_inverse(self.complete, "complete")) / np.diag(_inverse(self.observed, "observed"))


def free_parameters(params):
    """θ as the free vector (π_1..π_{K-1}; μ_k, vech Σ_k for every k), shape (P,),
    P = (K - 1) + K (d + d(d+1)/2)."""
    k, d = params.n_components, params.n_features
    rows, columns = np.tril_indices(d)
    covariances = params.covariances.reshape(k, d, d)[:, rows, columns]
    blocks = np.hstack([params.means.reshape(k, d), covariances])
    return np.concatenate([params.weights[:-1], blocks.ravel()])


def from_free_parameters(vector, like):
    """The mixture of a free vector, shaped like the mixture ``like`` (1-D or d-D, K components).

    Raises ValueError if the vector is not a valid mixture (e.g. a weight <= 0)."""
    k, d = like.n_components, like.n_features
    vector = np.asarray(vector, dtype=float)
    rows, columns = np.tril_indices(d)
    blocks = vector[k - 1:].reshape(k, d + len(rows))
    covariances = np.zeros((k, d, d))
    covariances[:, rows, columns] = blocks[:, d:]
    covariances[:, columns, rows] = blocks[:, d:]
    weights = np.append(vector[:k - 1], 1 - vector[:k - 1].sum())
    if like.is_1d:
        return GaussianMixtureParams(weights, blocks[:, 0], covariances[:, 0, 0])
    return GaussianMixtureParams(weights, blocks[:, :d], covariances)


def parameter_names(params):
    """Names of the free parameters, e.g. ``["π_1", "μ_1", "σ²_1", "μ_2", "σ²_2"]`` (1-D, K = 2)
    or ``"μ_1[0]"``, ``"Σ_1[1,0]"`` in d-D (components counted from 1, coordinates from 0)."""
    k, d = params.n_components, params.n_features
    names = [f"π_{j + 1}" for j in range(k - 1)]
    for j in range(k):
        if params.is_1d:
            names += [f"μ_{j + 1}", f"σ²_{j + 1}"]
            continue
        names += [f"μ_{j + 1}[{a}]" for a in range(d)]
        names += [f"Σ_{j + 1}[{a},{b}]" for a, b in zip(*np.tril_indices(d))]
    return names


def information_matrices(x, params, labels=None):
    """Louis' complete, missing and observed information of a Gaussian mixture at ``params``.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    params : GaussianMixtureParams
        Usually the maximum-likelihood estimate (any θ is allowed: the identity holds everywhere).
    labels : array_like of int, shape (n,), optional
        Semi-supervised (chapter 5): the known component, -1 where missing.

    Returns
    -------
    InformationMatrices
        (P, P) matrices in the order of :func:`free_parameters`.
    """
    x, labels = _checked_inputs(x, params, labels)
    responsibilities, _ = _e_step(x, params, labels)
    complete = _complete_information(x, params, responsibilities)
    missing = _missing_information(x, params, responsibilities)
    observed = complete - missing
    return InformationMatrices(complete, missing, (observed + observed.T) / 2)


def observed_information(x, params, labels=None):
    """I_obs = -∇² log p(X | θ) at ``params`` by Louis' method, shape (P, P), in the order of
    :func:`free_parameters` (see :func:`information_matrices`)."""
    return information_matrices(x, params, labels).observed


def standard_errors(x, params, labels=None):
    """Asymptotic standard errors of a mixture's estimates, √diag(I_obs⁻¹) (Louis 1982).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    params : GaussianMixtureParams
        The maximum-likelihood estimate, e.g. ``fit_gmm(x, K, param_tol=1e-10).params``.
    labels : array_like of int, shape (n,), optional

    Returns
    -------
    StandardErrors
        In the shape of the parameters; the K-th weight's by the delta method.

    Raises
    ------
    ValueError
        If I_obs is not positive definite: ``params`` is not a (strict) maximum, e.g. a
        saddle point, a fit stopped early, or a component with too few points.
    """
    covariance = _inverse(observed_information(x, params, labels), "observed")
    return _shaped_errors(covariance, params)


def bootstrap_standard_errors(x, params, n_boot, rng, labels=None, *, reg_covar=1e-6, param_tol=1e-10,
                              max_iter=2000, accelerate="squarem"):
    """Standard errors by the parametric bootstrap: the spread of refits on data drawn from ``params``.

    Each replicate draws n points (and their components) from the fitted mixture, keeps the
    labels of the same rows as ``labels`` did (the rest missing), and refits from ``params``
    by :func:`emlib.fit_gmm` (with ``reg_covar``, ``param_tol``, ``max_iter``, ``accelerate``).
    Starting from the estimate keeps the components in their order (no label switching) when
    they are well separated.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    params : GaussianMixtureParams
    n_boot : int
        Number of replicates (>= 2); the standard errors' own relative error is about 1/√(2 n_boot).
    rng : numpy.random.Generator or int
    labels : array_like of int, shape (n,), optional

    Returns
    -------
    StandardErrors
        The replicates' standard deviations (ddof=1).
    """
    x, labels = _checked_inputs(x, params, labels)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ValueError(f"n_boot must be a whole number >= 2, got {n_boot!r}; e.g. n_boot=200.")
    rng = as_generator(rng)
    labelled = None if labels is None else labels >= 0
    estimates = [_bootstrap_replicate(params, len(x), labelled, rng, reg_covar, param_tol, max_iter, accelerate)
                 for _ in range(n_boot)]
    spread = lambda field: np.std([getattr(e, field) for e in estimates], axis=0, ddof=1)  # noqa: E731
    return StandardErrors(spread("weights"), spread("means"), spread("covariances"))


def _bootstrap_replicate(params, n, labelled, rng, reg_covar, param_tol, max_iter, accelerate):
    sample_x, sample_z = sample(params, n, rng)
    sample_labels = None if labelled is None else np.where(labelled, sample_z, -1)
    return fit_gmm(sample_x, params.n_components, labels=sample_labels, init=params, reg_covar=reg_covar,
                   param_tol=param_tol, max_iter=max_iter, accelerate=accelerate).params


# ---------------------------------------------------------------------------
# the closed forms
# ---------------------------------------------------------------------------

def _inverse(information, name):
    """The inverse of a symmetric positive-definite information matrix, or a ValueError."""
    try:
        factor = np.linalg.cholesky(information)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"the {name} information is not positive definite, so these parameters are not a strict maximum "
            "of the log-likelihood (a saddle point, a fit stopped early, or a component with too few points): "
            "fit to convergence (e.g. fit_gmm(..., param_tol=1e-10)) and use fewer components if it persists."
        ) from None
    inverse_factor = np.linalg.inv(factor)
    return inverse_factor.T @ inverse_factor


def _shaped_errors(covariance, params):
    """Standard errors from the covariance of the free parameters, in the parameters' shapes."""
    k, d = params.n_components, params.n_features
    variances = np.diag(covariance)
    weight_block = covariance[:k - 1, :k - 1]
    last_weight = np.sqrt(weight_block.sum())  # Var(π_K) = Var(1 - Σ π_j) = 1ᵀ V 1
    weights = np.append(np.sqrt(variances[:k - 1]), last_weight)
    blocks = np.sqrt(variances[k - 1:]).reshape(k, -1)
    rows, columns = np.tril_indices(d)
    covariances = np.zeros((k, d, d))
    covariances[:, rows, columns] = blocks[:, d:]
    covariances[:, columns, rows] = blocks[:, d:]
    if params.is_1d:
        return StandardErrors(weights, blocks[:, 0], covariances[:, 0, 0])
    return StandardErrors(weights, blocks[:, :d], covariances)


def _duplication(d):
    """The duplication matrix D, shape (d², d(d+1)/2): vec Σ = D vech Σ (row-major vec)."""
    rows, columns = np.tril_indices(d)
    matrix = np.zeros((d * d, len(rows)))
    matrix[rows * d + columns, np.arange(len(rows))] = 1
    matrix[columns * d + rows, np.arange(len(rows))] = 1
    return matrix


def _weight_scores(weights):
    """∂ log π_k / ∂(π_1..π_{K-1}) for every k, shape (K, K-1): e_k / π_k, and -1 / π_K for k = K."""
    k = len(weights)
    scores = np.zeros((k, k - 1))
    scores[np.arange(k - 1), np.arange(k - 1)] = 1 / weights[:-1]
    scores[-1] = -1 / weights[-1]
    return scores


def _component_scores(x2d, mean, precision):
    """∇ log N(x_i | μ, Σ) with respect to (μ, vech Σ) for every point, shape (n, d + d(d+1)/2).

    With u = Σ⁻¹ (x - μ): ∂/∂μ = u, and ∂/∂Σ = ½ (u uᵀ - Σ⁻¹) as a symmetric matrix, whose
    off-diagonal entries count twice in vech (Σ_ab and Σ_ba are one parameter)."""
    u = (x2d - mean) @ precision
    rows, columns = np.tril_indices(len(mean))
    twice_off_diagonal = np.where(rows == columns, 1.0, 2.0)
    covariance_scores = 0.5 * (u[:, rows] * u[:, columns] - precision[rows, columns]) * twice_off_diagonal
    return np.hstack([u, covariance_scores])


def _component_hessian(total, first_moment, second_moment, precision):
    """Σ_i γ_i ∇² log N(x_i | μ, Σ) with respect to (μ, vech Σ), from N = Σ γ_i, m1 = Σ γ_i (x_i - μ)
    and M2 = Σ γ_i (x_i - μ)(x_i - μ)ᵀ (the Hessian is quadratic in x - μ). With P = Σ⁻¹, u = P(x - μ):

        d² log N = -dμᵀ P dμ - 2 dμᵀ P dΣ u + ½ tr(P dΣ P dΣ) - tr(P dΣ u uᵀ dΣ),

    the bilinear forms written as matrices over vec Σ and mapped to vech Σ by the duplication matrix."""
    d = len(first_moment)
    duplication = _duplication(d)
    u_sum = precision @ first_moment  # Σ γ u
    uu_sum = precision @ second_moment @ precision  # Σ γ u uᵀ
    mean_mean = -total * precision
    mean_cov = -np.einsum("ab,c->abc", precision, u_sum).reshape(d, d * d) @ duplication
    cov_cov = (np.einsum("ij,kl->lijk", 0.5 * total * precision, precision)
               - np.einsum("ij,kl->lijk", precision, uu_sum)).reshape(d * d, d * d)
    cov_cov = duplication.T @ cov_cov @ duplication
    return np.block([[mean_mean, mean_cov], [mean_cov.T, (cov_cov + cov_cov.T) / 2]])


def _as_2d(x, params):
    means = params.means.reshape(params.n_components, -1)
    covariances = params.covariances.reshape(params.n_components, means.shape[1], means.shape[1])
    return x.reshape(len(x), -1), means, covariances


def _complete_information(x, params, responsibilities):
    """I_c = Σ_i Σ_k γ_ik (-∇² log π_k N(x_i | k)), shape (P, P)."""
    x2d, means, covariances = _as_2d(x, params)
    k = params.n_components
    totals = responsibilities.sum(axis=0)
    weight_block = np.diag(totals[:-1] / params.weights[:-1] ** 2) + totals[-1] / params.weights[-1] ** 2
    blocks = [weight_block]
    for j in range(k):
        deviations = x2d - means[j]
        weighted = deviations * responsibilities[:, j:j + 1]
        precision = np.linalg.inv(covariances[j])
        blocks.append(-_component_hessian(totals[j], weighted.sum(axis=0), weighted.T @ deviations, precision))
    return _block_diagonal(blocks)


def _block_diagonal(blocks):
    size = sum(len(block) for block in blocks)
    matrix = np.zeros((size, size))
    start = 0
    for block in blocks:
        matrix[start:start + len(block), start:start + len(block)] = block
        start += len(block)
    return matrix


def _missing_information(x, params, responsibilities):
    """I_m = Σ_i Cov[score of (x_i, z_i) | x_i] = Σ_i (Σ_k γ_ik c_ik c_ikᵀ - s_i s_iᵀ), shape (P, P),
    with c_ik the complete-data score if z_i = k and s_i = Σ_k γ_ik c_ik, summed chunk by chunk."""
    x2d, means, covariances = _as_2d(x, params)
    precisions = np.linalg.inv(covariances)
    weight_scores = _weight_scores(params.weights)
    n_free = len(free_parameters(params))
    chunk = max(1, CHUNK_VALUES // (n_free * params.n_components))
    missing = np.zeros((n_free, n_free))
    for start in range(0, len(x2d), chunk):
        rows = slice(start, start + chunk)
        missing += _missing_chunk(x2d[rows], responsibilities[rows], means, precisions, weight_scores, n_free)
    return missing


def _missing_chunk(x2d, responsibilities, means, precisions, weight_scores, n_free):
    """The missing information of a chunk of points: E[c cᵀ] - s sᵀ summed over its rows."""
    k = len(means)
    block = (n_free - (k - 1)) // k
    scores = np.zeros((len(x2d), k, n_free))  # c_ik
    scores[:, :, :k - 1] = weight_scores
    for j in range(k):
        start = k - 1 + j * block
        scores[:, j, start:start + block] = _component_scores(x2d, means[j], precisions[j])
    weighted = scores * np.sqrt(responsibilities)[:, :, None]
    expected_outer = np.einsum("ikp,ikq->pq", weighted, weighted)
    mean_scores = np.einsum("ik,ikp->ip", responsibilities, scores)  # s_i
    return expected_outer - mean_scores.T @ mean_scores
