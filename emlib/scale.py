"""Gaussian mixtures fitted chunk by chunk on Dask arrays: EM at scale (chapter 8).

The E-step is independent for every point, and the M-step (chapter 3's closed form) needs
only a few sums per component, the sufficient statistics N_k, m_k, S_k
(:class:`emlib.gmm.SufficientStatistics`) and the log-likelihood. So one EM iteration is

* a **map**: every chunk of rows (on whichever worker holds or reads it) computes its
  responsibilities and turns them at once into its statistics (:func:`sufficient_statistics`),
  K (1 + d + d²) + 2 numbers, whatever the chunk's size;
* a **reduce**: a tree of pairwise merges (:func:`emlib.gmm.merge_statistics`, the update of
  Chan, Golub & LeVeque) gives the statistics of all the data (:func:`e_step`);
* the same M-step as in memory, with the same ``reg_covar`` floor (:func:`m_step`).

The in-memory M-step (:func:`emlib.gmm.m_step`) is the one-chunk case of the same functions,
so on data that fit in memory the two fits agree to rounding. The loop is the engine's own
:func:`emlib.em`: the chunked E-step returns the statistics as its "expectations", and the
M-step maps them to parameters, so the result is the same :class:`emlib.EMResult` with the
same trace.

Nothing is kept in memory between iterations: every iteration reads the chunks again (from
disk, or from the workers' memory if you ``x.persist()`` an array that fits there). Dask runs
the tasks on whatever scheduler is active: a ``dask.distributed.Client`` if one exists
(e.g. a ``LocalCluster``), otherwise Dask's threads. A worker lost mid-iteration only costs
the recomputation of its tasks: the result is the same, bit for bit, because the tree of
merges depends only on the chunks, not on where or when each task ran.

This module needs Dask (``pip install "emlib[scale]"``); ``import emlib`` does not.

>>> import dask.array as da, emlib.scale                                   # doctest: +SKIP
>>> x = da.from_npy_stack("heights/")           # chunks of rows on disk     # doctest: +SKIP
>>> result = emlib.scale.fit_gmm(x, 2, rng=0)                               # doctest: +SKIP
"""
import math
import sys
import time
from dataclasses import dataclass, replace
from functools import reduce

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError as error:  # emlib's core needs NumPy only; Dask is the optional extra
    raise ImportError('emlib.scale needs Dask: pip install "emlib[scale]" (dask[array] and distributed).') from error

from . import gmm
from .engine import _check_loop_settings, em
from .gmm import (INIT_STRATEGIES, GaussianMixtureParams, SufficientStatistics, initial_params,
                  merge_statistics)
from .validation import (LARGEST_EXACT_INTEGER, as_floor, as_generator, as_labels, as_n_components,
                         check_data_scale)

__all__ = ["fit_gmm", "e_step", "m_step", "sufficient_statistics", "merge_statistics", "SufficientStatistics"]

# Rows drawn (seeded by rng) for the initialisation: k-means++ and k-means on 10^5 rows take
# well under a second, and place K seeds as well as all the rows would.
SAMPLE_SIZE = 100_000
# How many partial results each merge task of the tree reduction combines.
MERGE_FAN_IN = 8
# The progress line appears (progress=None) once a fit has run this long.
PROGRESS_AFTER_SECONDS = 5.0


# ---------------------------------------------------------------------------
# one chunk: the map (chapter 8)
# ---------------------------------------------------------------------------

def sufficient_statistics(chunk, params, labels=None):
    """The E-step on one chunk of rows, summarised: its sufficient statistics and log-likelihood.

    Chapter 8's map: the responsibilities γ_ik of the chunk's points (chapter 3,
    ``eq-responsibility``) are reduced at once to N_k = Σ_i γ_ik, m_k = Σ_i γ_ik x_i / N_k and
    S_k = Σ_i γ_ik (x_i - m_k)(x_i - m_k)ᵀ, so only K (1 + d + d²) numbers leave the chunk.

    Parameters
    ----------
    chunk : array_like, shape (n_chunk,) or (n_chunk, d)
        Rows of the data (a NumPy array: e.g. ``x.blocks[0].compute()``).
    params : GaussianMixtureParams
    labels : array_like of int, shape (n_chunk,), optional
        The known component of each row, -1 where it is missing (chapter 5).

    Returns
    -------
    statistics : SufficientStatistics
    log_likelihood : float
        The chunk's share of log p(X | θ) (with labels, of log p(X, known labels | θ)).
    """
    chunk, labels = gmm._checked_inputs(chunk, params, labels)
    return _chunk_statistics(chunk, params, labels)


def _chunk_statistics(z, params, labels):
    """(SufficientStatistics, log-likelihood) of the rows z (n, ) or (n, d), already checked."""
    responsibilities, log_likelihood = gmm._e_step(z, params, labels)
    return gmm._sufficient_statistics(z, responsibilities.T), log_likelihood


def _block_task(block, labels, params, centre, first_row):
    """The map task of one chunk of the fit: its rows centred at the reference point, then
    their statistics. A failure names the chunk's rows (the E-step's own row is the chunk's)."""
    z = np.asarray(block, dtype=np.float64) - centre  # a new array: the chunk is never modified
    if labels is not None:
        labels = np.asarray(labels).astype(np.int64)  # checked by the first pass (_survey_block)
    try:
        return _chunk_statistics(z, params, labels)
    except ValueError as error:
        raise ValueError(f"in the chunk of rows {first_row}..{first_row + len(z) - 1} (an index below counts from "
                         f"the chunk's first row, x[{first_row}]): {error}") from None


def _merge_partials(*partials):
    """Combine (statistics, log-likelihood) pairs of consecutive chunks, in row order."""
    return reduce(lambda a, b: (merge_statistics(a[0], b[0]), a[1] + b[1]), partials)


def _tree_reduce(parts, combine):
    """Dask delayed tasks combining ``parts`` by ``combine``, MERGE_FAN_IN at a time, in row
    order: a fixed tree, so that the result never depends on where or when a task ran."""
    while len(parts) > 1:
        parts = [dask.delayed(combine)(*parts[i:i + MERGE_FAN_IN]) for i in range(0, len(parts), MERGE_FAN_IN)]
    return parts[0]


# ---------------------------------------------------------------------------
# all chunks: the reduce, and the M-step
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Chunks:
    """The data as EM's loop sees them: the chunks of rows (Dask delayed objects), their labels,
    the reference point they are centred at, and the index of each chunk's first row."""

    blocks: list
    label_blocks: list
    centre: object
    first_rows: list


def _chunked_e_step(chunks, params):
    """One map over the chunks and one tree reduce, computed by the active Dask scheduler."""
    partials = [dask.delayed(_block_task)(block, labels, params, chunks.centre, first_row)
                for block, labels, first_row in zip(chunks.blocks, chunks.label_blocks, chunks.first_rows)]
    statistics, log_likelihood = dask.compute(_tree_reduce(partials, _merge_partials))[0]
    return statistics, log_likelihood


def e_step(x, params, labels=None):
    """The chunked E-step: the sufficient statistics of all of ``x`` and its log-likelihood.

    A map of :func:`sufficient_statistics` over the chunks of rows and a tree of
    :func:`emlib.gmm.merge_statistics`, computed by the active Dask scheduler. The statistics
    replace the (n, K) responsibilities, which may not fit in memory.

    Parameters
    ----------
    x : dask.array.Array, shape (n,) or (n, d)
        Chunked along the rows only.
    params : GaussianMixtureParams
    labels : dask.array.Array or ndarray of int, shape (n,), optional
        -1 where the label is missing; a Dask array must be chunked like the rows of ``x``.

    Returns
    -------
    statistics : SufficientStatistics
        Of x as given (computed about its first row, then moved back).
    log_likelihood : float
    """
    _check_chunked_data(x)
    if not isinstance(params, GaussianMixtureParams):
        raise ValueError(f"params must be a GaussianMixtureParams, got {type(params).__name__}.")
    gmm._check_compatible(x, params)
    label_blocks = _label_blocks(labels, x, params.n_components)
    checked_labels = [None if block is None else dask.delayed(_checked_labels)(block, params.n_components)
                      for block in label_blocks]
    centre = _reference_point(x)  # centre before squaring, as emlib.gmm.m_step does
    chunks = _Chunks(list(x.to_delayed().ravel()), checked_labels, centre, _first_rows(x))
    statistics, log_likelihood = _chunked_e_step(chunks, gmm._moved(params, -centre))
    return replace(statistics, means=statistics.means + centre), log_likelihood


def _reference_point(x):
    """The first row of x, as float64: the point every chunk is centred at before squaring
    (as emlib.gmm centres in-memory data), so that the chunks' means, and the differences of
    means that :func:`emlib.gmm.merge_statistics` adds up, keep every digit of the data."""
    return np.array(x[0].compute(), dtype=np.float64)


def _checked_labels(labels, n_components):
    return as_labels(np.asarray(labels), len(labels), n_components)


def m_step(statistics, reg_covar=0.0):
    """The M-step from sufficient statistics: chapter 3's closed form, floored at ``reg_covar``.

    π_k = N_k / Σ_j N_j, μ_k = m_k, Σ_k = S_k / N_k, every variance (eigenvalue) below
    ``reg_covar`` raised to it, exactly as :func:`emlib.gmm.m_step`, which is this function
    applied to the statistics of all the data in one chunk.

    Parameters
    ----------
    statistics : SufficientStatistics
    reg_covar : float, or array_like of shape (d,) for d-D data, default 0

    Returns
    -------
    GaussianMixtureParams

    Notes
    -----
    The check that no component collapsed compares its variances with the data's, which are
    the statistics of all components pooled; :func:`fit_gmm` uses the data's exact scale
    from its first pass over them instead.
    """
    if not isinstance(statistics, SufficientStatistics):
        raise ValueError(f"statistics must be a SufficientStatistics, got {type(statistics).__name__}.")
    n_features = 1 if statistics.means.ndim == 1 else statistics.means.shape[1]
    reg_covar = as_floor(reg_covar, n_features)
    pooled = _pooled(statistics)
    data_moments = (pooled.means[0], gmm._covariances_from_scatters(pooled.scatters, pooled.totals)[0])
    variances = np.diag(data_moments[1]) if n_features > 1 else data_moments[1]
    data_scale = (np.where(variances > 0, variances, 1.0), np.zeros_like(variances))
    return gmm._params_from_statistics(statistics, reg_covar, data_scale, lambda: data_moments)


def _pooled(statistics):
    """The statistics of all components together: the data's own count, mean and scatter."""
    def component(k):
        return SufficientStatistics(0, statistics.totals[k:k + 1], statistics.means[k:k + 1],
                                    statistics.scatters[k:k + 1])
    return reduce(merge_statistics, [component(k) for k in range(len(statistics.totals))])


# ---------------------------------------------------------------------------
# the first pass: checks, the data's scale, a sample for the initialisation
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Survey:
    """What one pass over the data learns, before any EM iteration: the first problem found
    (a message, or None), the count, mean and scatter of the centred rows (as statistics of one
    component), their smallest and largest values per dimension, and the sampled rows."""

    problem: object
    statistics: object
    smallest: object
    largest: object
    sample: object
    sample_labels: object


def _survey_block(block, labels, centre, first_row, expected_shape, sample_rows, n_components):
    """The first pass on one chunk: refuse what EM cannot use, summarise the rest."""
    problem = _block_problem(block, labels, first_row, expected_shape, n_components)
    if problem is not None:
        return _Survey(problem, None, None, None, None, None)
    z = np.asarray(block, dtype=np.float64) - centre
    ones = np.ones((1, len(z)))
    statistics = gmm._sufficient_statistics(z, ones)
    sample_labels = None if labels is None else np.asarray(labels).astype(np.int64)[sample_rows]
    return _Survey(None, statistics, z.min(axis=0), z.max(axis=0), z[sample_rows], sample_labels)


def _block_problem(block, labels, first_row, expected_shape, n_components):
    """What is wrong with one chunk (and its labels), in words, or None."""
    rows = f"the chunk of rows {first_row}..{first_row + expected_shape[0] - 1}"
    array = np.asarray(block)
    if array.shape != expected_shape:
        return (f"{rows} has shape {array.shape}, but x declares {expected_shape}: the array's metadata "
                "do not match what its chunks hold (e.g. a da.from_delayed shape, or a file of another "
                "shape in the stack); rebuild x so that every chunk has the shape it declares.")
    if array.dtype.kind not in "iuf":
        return f"{rows} holds {array.dtype} values; x must hold numbers (integers or floats)."
    if array.dtype.kind in "iu" and array.size and np.abs(array).max() > LARGEST_EXACT_INTEGER:
        return f"{rows} holds integers beyond 2**53, which have no exact float; convert x to float yourself."
    finite = np.isfinite(array) if array.ndim == 1 else np.isfinite(array).all(axis=1)
    if not finite.all():
        row = first_row + int(np.argmin(finite))
        return (f"x holds NaN or infinite values in {rows}, the first in row {row}; drop or impute those rows "
                "first (e.g. x[da.isfinite(x).all(axis=1)] for 2-D x, then x.compute_chunk_sizes()).")
    if labels is None:
        return None
    try:
        _checked_labels(labels, n_components)
    except ValueError as error:
        return f"labels of {rows}: {error}"
    if len(labels) != expected_shape[0]:
        return f"labels of {rows} has {len(labels)} entries, one per row is needed."
    return None


def _merge_surveys(*surveys):
    """Combine the surveys of consecutive chunks, in row order; the first problem wins."""
    return reduce(_merge_two_surveys, surveys)


def _merge_two_surveys(first, second):
    if first.problem is not None:
        return first
    if second.problem is not None:
        return second
    sample_labels = None if first.sample_labels is None else np.concatenate([first.sample_labels,
                                                                             second.sample_labels])
    return _Survey(None, merge_statistics(first.statistics, second.statistics),
                   np.minimum(first.smallest, second.smallest), np.maximum(first.largest, second.largest),
                   np.concatenate([first.sample, second.sample]), sample_labels)


def _survey(x, label_blocks, centre, sample_positions, n_components):
    """One pass over all the data: the first problem (raised here, before any EM iteration),
    the data's scale and moments, and the sampled rows (centred) with their labels."""
    first_rows = _first_rows(x)
    bounds = first_rows + [x.shape[0]]
    tasks = []
    for index, (block, labels) in enumerate(zip(x.to_delayed().ravel(), label_blocks)):
        expected_shape = (bounds[index + 1] - bounds[index],) + x.shape[1:]
        in_block = sample_positions[(sample_positions >= bounds[index]) & (sample_positions < bounds[index + 1])]
        tasks.append(dask.delayed(_survey_block)(block, labels, centre, bounds[index], expected_shape,
                                                 in_block - bounds[index], n_components))
    survey = dask.compute(_tree_reduce(tasks, _merge_surveys))[0]
    if survey.problem is not None:
        raise ValueError(survey.problem)
    spread = np.stack([survey.smallest, survey.largest])
    check_data_scale(spread if x.ndim == 2 else spread.ravel())
    return survey


def _data_scale(survey):
    """As :func:`emlib.gmm._data_scale`, from the first pass: each dimension's variance (1 where
    the data do not vary) and the smallest variance double precision resolves in it."""
    data_covariance = gmm._covariances_from_scatters(survey.statistics.scatters, survey.statistics.totals)[0]
    variances = data_covariance if np.ndim(data_covariance) == 0 else np.diag(data_covariance).copy()
    variances = np.where(variances > 0, variances, 1.0)
    largest = np.maximum(np.abs(survey.smallest), np.abs(survey.largest))
    with np.errstate(over="ignore"):
        resolution = (gmm.RESOLUTION_ULPS * gmm.EPS * largest) ** 2
    return variances, resolution


def _data_moments(survey):
    """The centred data's mean and covariance (1-D: variance), from the first pass."""
    statistics = survey.statistics
    covariance = gmm._covariances_from_scatters(statistics.scatters, statistics.totals)[0]
    return statistics.means[0], np.array(covariance) if np.ndim(covariance) == 0 else covariance


# ---------------------------------------------------------------------------
# checks of what the user passes in (metadata only: no data are read)
# ---------------------------------------------------------------------------

def _check_chunked_data(x, name="x"):
    """Refuse, from its metadata alone, a Dask array EM cannot fit chunk by chunk."""
    if not isinstance(x, da.Array):
        raise ValueError(f"{name} must be a dask.array.Array (e.g. da.from_npy_stack(folder) or "
                         f"da.from_array(x, chunks=100_000)); for a NumPy array use emlib.fit_gmm, got "
                         f"{type(x).__name__}.")
    if x.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (n,) for 1-D data or (n, d) for d-dimensional data, "
                         f"got {x.ndim} dimensions (shape {x.shape}).")
    if any(math.isnan(size) for size in x.shape) or any(math.isnan(c) for sizes in x.chunks for c in sizes):
        raise ValueError(f"{name} has unknown chunk sizes (e.g. after boolean indexing); call "
                         f"{name} = {name}.compute_chunk_sizes() first.")
    if x.shape[0] == 0 or 0 in x.shape:
        raise ValueError(f"{name} is empty (shape {x.shape}); pass at least one data point.")
    if x.ndim == 2 and x.numblocks[1] > 1:
        raise ValueError(f"{name} is split into {x.numblocks[1]} chunks along its {x.shape[1]} columns; every "
                         f"chunk must hold whole rows: use {name}.rechunk({{1: -1}}).")
    if x.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold numbers (integers or floats), got dtype {x.dtype}.")


def _first_rows(x):
    """The index of the first row of every chunk, as Python ints."""
    return [int(start) for start in np.cumsum((0,) + x.chunks[0][:-1])]


def _label_blocks(labels, x, n_components):
    """The labels as one delayed block per chunk of x's rows (None for every chunk without
    labels); their values are checked by the first pass."""
    if labels is None:
        return [None] * x.numblocks[0]
    if isinstance(labels, da.Array):
        if labels.ndim != 1 or labels.shape[0] != x.shape[0]:
            raise ValueError(f"labels must have shape ({x.shape[0]},), one per row of x, got {labels.shape}.")
        if labels.chunks[0] != x.chunks[0]:
            raise ValueError(
                f"labels are chunked {_describe_chunks(labels.chunks[0])} but the rows of x "
                f"{_describe_chunks(x.chunks[0])}; each chunk of labels must cover the same rows as x's: "
                "use labels.rechunk((x.chunks[0],)).")
    else:
        labels = np.asarray(labels)
        if labels.shape != (x.shape[0],):
            raise ValueError(f"labels must have shape ({x.shape[0]},), one per row of x, got {labels.shape}.")
        labels = da.from_array(labels, chunks=(x.chunks[0],))
    if labels.dtype == bool or labels.dtype.kind not in "iuf":
        raise ValueError("labels must be whole numbers: 0, ..., n_components - 1 for a known class "
                         f"and -1 for a missing one, got an array of {labels.dtype}.")
    return list(labels.to_delayed().ravel())


def _describe_chunks(sizes):
    shown = ", ".join(str(size) for size in sizes[:4]) + (", ..." if len(sizes) > 4 else "")
    return f"in {len(sizes)} chunk(s) of ({shown}) rows"


def _check_fit_settings(n_components, n_init, init, x, sample_size):
    if isinstance(n_init, bool) or not isinstance(n_init, (int, np.integer)) or n_init < 1:
        raise ValueError(f"n_init must be a whole number >= 1, got {n_init!r}.")
    if isinstance(sample_size, bool) or not isinstance(sample_size, (int, np.integer)) or sample_size < n_components:
        raise ValueError(f"sample_size must be a whole number >= n_components={n_components}, got {sample_size!r}.")
    if x.shape[0] < n_components:
        raise ValueError(f"x has {x.shape[0]} points, fewer than n_components={n_components}; "
                         "a mixture needs at least one point per component.")
    if isinstance(init, GaussianMixtureParams):
        gmm._check_compatible(x, init, name="init")
        if init.n_components != n_components:
            raise ValueError(f"init has {init.n_components} components but n_components={n_components}; "
                             "make them agree.")
    elif not (init is None or (isinstance(init, str) and init in INIT_STRATEGIES)):
        raise ValueError(f"init must be a GaussianMixtureParams or one of {INIT_STRATEGIES}, got {init!r}.")


# ---------------------------------------------------------------------------
# the fit
# ---------------------------------------------------------------------------

def fit_gmm(x, n_components, *, labels=None, init=None, n_init=1, tol=1e-8, max_iter=500, reg_covar=1e-6,
            rng=None, sample_size=SAMPLE_SIZE, progress=None):
    """Fit a Gaussian mixture by EM to a Dask array, chunk by chunk (chapters 3, 5 and 8).

    The same fit as :func:`emlib.fit_gmm`, with the same arguments and result, on data of any
    size: each iteration is a map over the chunks of rows and a tree reduction of their
    sufficient statistics (:func:`e_step`), then chapter 3's M-step and ``reg_covar`` floor
    (:func:`m_step`). Before the first iteration, one pass over the data checks every chunk
    (NaN, shapes, labels), measures the data's scale and draws the rows for the initialisation.

    Parameters
    ----------
    x : dask.array.Array, shape (n,) or (n, d)
        The data, chunked along the rows only (e.g. ``da.from_npy_stack(folder)``); any
        numeric dtype (float32 on disk is computed in float64). It is not modified.
    n_components : int
        K >= 1.
    labels : dask.array.Array or array_like of int, shape (n,), optional
        Semi-supervised fitting (chapter 5): 0..K-1 where the component is known, -1 where
        it is missing. A Dask array must be chunked like the rows of ``x``.
    init : GaussianMixtureParams or str, optional
        As in :func:`emlib.fit_gmm` (``"kmeans"``, ``"random"``, ``"labels"``), the strategies
        run on ``sample_size`` rows drawn at random by ``rng`` (all rows, in order, if there
        are no more than that: then the start, and so the fit, equal :func:`emlib.fit_gmm`'s).
    n_init, tol, max_iter, reg_covar, rng
        As in :func:`emlib.fit_gmm`: of ``n_init`` runs, the one kept has the highest
        log-likelihood among those with no component at the floor ``reg_covar``.
    sample_size : int, default 100_000
        How many rows the initialisation sees.
    progress : None, bool or callable, default None
        ``None``: a progress line (iteration and log-likelihood, on stderr) once the fit has
        run for 5 seconds; ``True``: from the start; ``False``: none (e.g. in a notebook whose
        outputs are compared); a callable ``progress(iteration, params, log_likelihood)``
        is called instead for θ(0) and after every iteration (params in x's coordinates).

    Returns
    -------
    EMResult
        As :func:`emlib.fit_gmm`'s, except ``expectations``: the sufficient statistics of the
        data under the final parameters (:class:`emlib.gmm.SufficientStatistics`), not the
        (n, K) responsibilities, which need not fit in memory.

    Warns
    -----
    BoundaryEstimateWarning
        As :func:`emlib.fit_gmm`, if a component of the fit returned is at the floor
        ``reg_covar``; the points it holds are counted by its total responsibility N_k.

    Raises
    ------
    ValueError
        On bad settings, from the array's metadata before any data are read; on NaN or
        infinite values, chunks that do not hold what the array declares, or bad labels, in
        the first pass over the data, before any EM iteration.
    """
    n_components = as_n_components(n_components)
    _check_loop_settings(tol, max_iter)
    _check_chunked_data(x)
    reg_covar = as_floor(reg_covar, 1 if x.ndim == 1 else x.shape[1])
    _check_fit_settings(n_components, n_init, init, x, sample_size)
    _check_progress(progress)
    label_blocks = _label_blocks(labels, x, n_components)
    strategy = None if isinstance(init, GaussianMixtureParams) else (
        init if init is not None else ("labels" if labels is not None else "kmeans"))
    if strategy == "labels" and labels is None:
        raise ValueError('init="labels" needs labels; pass labels=... or another init.')
    rng = as_generator(rng)
    # centre before squaring, as emlib.fit_gmm does: EM runs on z = x - c, c the first row
    centre = _reference_point(x)
    sample_positions = _sample_positions(x.shape[0], sample_size, rng)
    survey = _survey(x, label_blocks, centre, sample_positions, n_components)
    chunks = _Chunks(list(x.to_delayed().ravel()), label_blocks, centre, _first_rows(x))
    starts, originals = _starts(init, strategy, survey, n_components, n_init, reg_covar, centre, rng)
    data_scale, data_moments = _data_scale(survey), _data_moments(survey)

    def chunked_m_step(data, statistics):
        return gmm._params_from_statistics(statistics, reg_covar, data_scale, lambda: data_moments)

    show, finish = _progress(progress, centre)
    results = []
    try:
        for params0 in starts:
            results.append(em(chunks, params0, _chunked_e_step, chunked_m_step, tol=tol, max_iter=max_iter,
                              callback=show))
    finally:
        finish()
    # as emlib.fit_gmm: the best run among those with no component at the floor (if there is one)
    best, n_floored_runs, n_runs = gmm._best_run(results, reg_covar)
    statistics = replace(best.expectations, means=best.expectations.means + centre)
    moved = replace(gmm._moved_result(best, centre, originals), expectations=statistics)
    counts, values = _held_points(statistics, data_scale)
    return gmm._report_floor(moved, reg_covar, counts, values, n_floored_runs, n_runs,
                             counted_by="its total responsibility N_k, rounded")


def _held_points(statistics, data_scale):
    """For every component, about how many points it holds (its total responsibility N_k,
    rounded: the chunked fit keeps no responsibilities), and their common value if its own
    spread S_k / N_k is below the data's rounding noise in every direction (else None)."""
    resolution = float(np.max(data_scale[1]))
    counts, values = [], []
    for total, mean, scatter in zip(statistics.totals, statistics.means, statistics.scatters):
        counts.append(int(round(float(total))))
        spread = float(np.max(np.abs(scatter))) / total if total > 0 else np.inf
        values.append(mean if spread <= resolution else None)
    return counts, values


def _sample_positions(n_points, sample_size, rng):
    """The rows the initialisation sees, in order: all of them if there are no more than
    ``sample_size`` (drawing nothing from rng), else ``sample_size`` drawn without replacement."""
    if n_points <= sample_size:
        return np.arange(n_points)
    return np.sort(rng.choice(n_points, size=sample_size, replace=False))


def _starts(init, strategy, survey, n_components, n_init, reg_covar, centre, rng):
    """The initial parameters of every run (on the centred data), as emlib.fit_gmm makes them,
    and the caller's own init object by id (so that θ(0) in the trace is that very object)."""
    if strategy is None:
        start = gmm._moved(init, -centre)
        return [start], {id(start): init}
    runs = 1 if strategy == "labels" else n_init
    starts = [initial_params(survey.sample, n_components, strategy, labels=survey.sample_labels,
                             reg_covar=reg_covar, rng=rng) for _ in range(runs)]
    return starts, {}


def _check_progress(progress):
    if not (progress is None or isinstance(progress, bool) or callable(progress)):
        raise ValueError(f"progress must be None, True, False or a callable, got {progress!r}.")


def _progress(progress, centre):
    """The engine's callback for ``progress`` and a function that ends the progress line."""
    if callable(progress) and not isinstance(progress, bool):
        def call(iteration, params, log_likelihood):
            progress(iteration, gmm._moved(params, centre), log_likelihood)
        return call, lambda: None
    if progress is False:
        return None, lambda: None
    return _progress_line(PROGRESS_AFTER_SECONDS if progress is None else 0.0, sys.stderr)


def _progress_line(after_seconds, stream):
    """A one-line progress display, rewritten in place (``\\r``) after every iteration."""
    started = time.perf_counter()
    shown = []  # the iterations shown so far

    def show(iteration, params, log_likelihood):
        elapsed = time.perf_counter() - started
        if elapsed < after_seconds:
            return
        rate = f", {elapsed / iteration:.2f} s per iteration" if iteration else ""
        stream.write(f"\rEM iteration {iteration}: log-likelihood {log_likelihood:.10g}{rate}   ")
        stream.flush()
        shown.append(iteration)

    def finish():
        if shown:
            stream.write("\n")
            stream.flush()

    return show, finish
