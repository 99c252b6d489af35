"""Small synthetic data sets and reference computations shared by emlib's tests.

Everything here is independent of emlib's arithmetic: data are drawn with NumPy and the
reference densities come from scipy.stats.
"""
import numpy as np
from scipy import stats


def random_covariance(rng, n_features, scale=1.0):
    """A random symmetric positive-definite (d, d) matrix, well conditioned."""
    a = rng.normal(size=(n_features, n_features))
    return scale * (a @ a.T / n_features + 0.5 * np.eye(n_features))


def random_mixture(rng, n_components, n_features, separation=4.0):
    """Weights, means and covariances of a random mixture with roughly unit-scale components.

    1-D (``n_features=0``): means (K,), variances (K,). d-D: means (K, d), covariances (K, d, d).
    """
    weights = rng.dirichlet(np.full(n_components, 5.0))
    if n_features == 0:
        means = separation * np.arange(n_components) + rng.normal(scale=0.3, size=n_components)
        variances = rng.uniform(0.3, 2.0, size=n_components)
        return weights, means, variances
    means = separation * rng.normal(size=(n_components, n_features))
    covariances = np.array([random_covariance(rng, n_features) for _ in range(n_components)])
    return weights, means, covariances


def sample_mixture(rng, weights, means, covariances, n):
    """Draw n points (and their components) from a mixture, with NumPy only."""
    z = rng.choice(len(weights), size=n, p=weights)
    if np.ndim(means) == 1:
        x = means[z] + np.sqrt(covariances[z]) * rng.standard_normal(n)
        return x, z
    cholesky_factors = np.linalg.cholesky(covariances)  # Σ_k = L_k L_kᵀ
    noise = rng.standard_normal((n, np.shape(means)[1]))
    x = means[z] + np.einsum("nij,nj->ni", cholesky_factors[z], noise)
    return x, z


def mixture_data(rng, n, n_components, n_features, separation=4.0):
    """n points from a random mixture: (x, z, (weights, means, covariances))."""
    truth = random_mixture(rng, n_components, n_features, separation)
    x, z = sample_mixture(rng, *truth, n)
    return x, z, truth


def component_pdfs(x, means, covariances):
    """N(x_i | mu_k, Sigma_k) for every point and component, by scipy.stats: shape (n, K)."""
    return np.exp(component_logpdfs(x, means, covariances))


def component_logpdfs(x, means, covariances):
    """log N(x_i | mu_k, Sigma_k) by scipy.stats: shape (n, K)."""
    x = np.asarray(x, dtype=float)
    if np.ndim(means) == 1:
        return np.column_stack([stats.norm.logpdf(x, m, np.sqrt(v)) for m, v in zip(means, covariances)])
    return np.column_stack([stats.multivariate_normal(m, c).logpdf(x).reshape(len(x))
                            for m, c in zip(means, covariances)])


def mixture_log_likelihood(x, weights, means, covariances):
    """sum_i log sum_k pi_k N(x_i | k), by scipy.special.logsumexp over scipy log densities."""
    from scipy.special import logsumexp

    return float(logsumexp(component_logpdfs(x, means, covariances) + np.log(weights), axis=1).sum())


def to_sklearn_shapes(params):
    """An emlib GaussianMixtureParams as scikit-learn's (weights, means (K, d), covariances (K, d, d))."""
    k, d = params.n_components, params.n_features
    return (np.asarray(params.weights), np.asarray(params.means).reshape(k, d),
            np.asarray(params.covariances).reshape(k, d, d))


def assert_close_relative(actual, expected, rtol):
    """max |actual - expected| <= rtol * max |expected|: a relative error on the array's own scale."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    error = np.max(np.abs(actual - expected))
    scale = np.max(np.abs(expected))
    assert error <= rtol * scale, f"max error {error:.3g} > {rtol:g} * {scale:.3g}"
