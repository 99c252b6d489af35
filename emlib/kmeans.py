"""k-means as hard EM (chapter 6), on the same engine as every other model.

The "E-step" assigns each point to its nearest centre (a responsibility of 1 or 0);
the "M-step" moves each centre to the mean of its points. The quantity that never
decreases is minus the within-cluster sum of squares, -Σ_i ||x_i - c_{z_i}||², which
plays the role of the log-likelihood. k-means is the limit of EM for a mixture whose
components share the covariance σ²I, as σ → 0.
"""
from dataclasses import replace

import numpy as np

from .engine import em
from .validation import as_data, as_float_array, as_generator, as_n_components

__all__ = ["kmeans", "kmeans_plus_plus", "hard_e_step", "kmeans_m_step"]


def squared_distances(x, centres):
    """||x_i - c_k||² for every point and centre.

    Parameters
    ----------
    x : ndarray, shape (n,) or (n, d)
    centres : ndarray, shape (K,) or (K, d)

    Returns
    -------
    ndarray, shape (n, K)
    """
    if x.ndim == 1:
        return (x[:, None] - centres) ** 2
    return ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)


def kmeans_plus_plus(x, n_clusters, rng):
    """k-means++ seeds (Arthur & Vassilvitskii 2007): each new centre is a data point drawn
    with probability proportional to its squared distance to the nearest centre so far.

    Returns
    -------
    ndarray, shape (K,) or (K, d)
    """
    chosen = [int(rng.integers(len(x)))]
    nearest = squared_distances(x, x[chosen])[:, 0]
    for _ in range(1, n_clusters):
        total = nearest.sum()
        if total > 0:
            index = int(rng.choice(len(x), p=nearest / total))
        else:  # every point sits on a centre already: take any unused point
            index = int(rng.choice(np.setdiff1d(np.arange(len(x)), chosen)))
        chosen.append(index)
        nearest = np.minimum(nearest, squared_distances(x, x[[index]])[:, 0])
    return x[chosen].copy()


def hard_e_step(x, centres):
    """Assign every point to its nearest centre (the hard E-step).

    Returns
    -------
    assignments : ndarray of int, shape (n,)
    objective : float
        Minus the within-cluster sum of squares; k-means never decreases it.
    """
    distances = squared_distances(x, centres)
    assignments = distances.argmin(axis=1)
    return assignments, -float(distances[np.arange(len(x)), assignments].sum())


def kmeans_m_step(x, assignments, n_clusters):
    """Move each centre to the mean of its points (the hard M-step).

    An empty cluster takes the point of the largest cluster farthest from that
    cluster's mean, so no centre is lost.

    Returns
    -------
    ndarray, shape (K,) or (K, d)
    """
    counts = np.bincount(assignments, minlength=n_clusters)
    one_hot = np.eye(n_clusters)[assignments]  # (n, K)
    centres = (one_hot.T @ x) / (counts if x.ndim == 1 else counts[:, None]).clip(min=1)
    for k in np.flatnonzero(counts == 0):
        largest = int(np.argmax(counts))
        members = np.flatnonzero(assignments == largest)
        spread = squared_distances(x[members], centres[[largest]])[:, 0]
        centres[k] = x[members[np.argmax(spread)]]
        counts[k] = 1
    return centres


def kmeans(x, n_clusters, *, init=None, tol=0.0, max_iter=300, rng=None):
    """Lloyd's k-means, run by :func:`emlib.em` as hard EM (chapter 6).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    n_clusters : int
    init : array_like, shape (K,) or (K, d), optional
        Initial centres; by default k-means++ seeds drawn with ``rng``.
    tol : float, default 0
        Passed to :func:`emlib.em`; 0 runs until the objective stops improving.
    max_iter : int, default 300
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    EMResult
        ``params``: the centres (K,) or (K, d); ``expectations``: the assignment of
        every point (n,); ``log_likelihood``: minus the within-cluster sum of squares.
    """
    x = as_data(x)
    n_clusters = as_n_components(n_clusters, "n_clusters")
    if len(x) < n_clusters:
        raise ValueError(f"x has {len(x)} points, fewer than n_clusters={n_clusters}.")
    # centre before squaring: run on z = x - c (c the first data point), so that squared
    # distances never hold the digits the data share, nor overflow
    centre = x[0].copy()
    z = x - centre
    if init is None:
        centres0 = kmeans_plus_plus(z, n_clusters, as_generator(rng))
    else:
        expected = (n_clusters,) if x.ndim == 1 else (n_clusters, x.shape[1])
        try:
            centres0 = as_float_array(init, "init")
        except ValueError as error:
            raise ValueError(f"init must be finite centres of shape {expected} ({error})") from None
        if centres0.shape != expected or not np.all(np.isfinite(centres0)):
            raise ValueError(f"init must be finite centres of shape {expected}, got {centres0.shape}.")
        centres0 = centres0 - centre

    def m_step(data, assignments):
        return kmeans_m_step(data, assignments, n_clusters)

    result = em(z, centres0, hard_e_step, m_step, tol=tol, max_iter=max_iter)
    trace = [(centres + centre, value) for centres, value in result.trace]
    return replace(result, params=result.params + centre, trace=trace)
