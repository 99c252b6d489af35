"""Checks of what a user passes in: every problem is a ValueError that says what to do.

Nothing here changes its input: arrays are converted into new float arrays.
"""
import numbers

import numpy as np

__all__ = ["as_data", "as_generator", "as_labels", "as_responsibilities", "as_n_components", "as_nonnegative"]


def as_data(x, name="x"):
    """Return ``x`` as a float array of shape (n,) or (n, d), checked.

    Raises
    ------
    ValueError
        If ``x`` is not numeric, has the wrong number of dimensions, is empty,
        or holds NaN or infinity.
    """
    try:
        array = np.asarray(x)
    except ValueError as error:  # e.g. rows of different lengths
        raise ValueError(f"{name} must be an array of numbers ({error}).") from None
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be an array of numbers (integers or floats), got an array of {array.dtype}.")
    data = np.array(array, dtype=float)  # a copy: the caller's array is never touched
    if data.ndim not in (1, 2):
        raise ValueError(
            f"{name} must have shape (n,) for 1-D data or (n, d) for d-dimensional data, "
            f"got shape {data.shape}."
        )
    if data.shape[0] == 0 or data.size == 0:
        raise ValueError(f"{name} is empty; pass at least one data point.")
    bad = ~np.isfinite(data)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise ValueError(
            f"{name} holds {int(bad.sum())} NaN or infinite value(s), the first in row {row}; "
            "drop or impute those rows first (e.g. x[np.isfinite(x)])."
        )
    data.setflags(write=False)
    return data


def as_n_components(n_components, name="n_components"):
    """Return ``n_components`` as an int >= 1, checked."""
    if isinstance(n_components, bool) or not isinstance(n_components, numbers.Integral):
        raise ValueError(f"{name} must be a whole number >= 1, got {n_components!r}.")
    if n_components < 1:
        raise ValueError(f"{name} must be at least 1, got {n_components}.")
    return int(n_components)


def as_labels(labels, n_points, n_components):
    """Return ``labels`` as an int array of shape (n,), with -1 for a missing label.

    Raises
    ------
    ValueError
        If the labels are not whole numbers, have the wrong shape, or lie outside
        -1, 0, ..., n_components - 1.
    """
    array = np.asarray(labels)
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise ValueError(
            "labels must be whole numbers: 0, ..., n_components - 1 for a known class "
            f"and -1 for a missing one, got an array of {array.dtype}."
        )
    if array.shape != (n_points,):
        raise ValueError(f"labels must have shape ({n_points},), one per data point, got {array.shape}.")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array) & (array == np.round(array))):
        raise ValueError("labels must be whole numbers (use -1, not NaN, for a missing label).")
    result = array.astype(np.int64)  # a new array
    out_of_range = (result < -1) | (result >= n_components)
    if out_of_range.any():
        row = int(np.argmax(out_of_range))
        raise ValueError(
            f"labels must lie in -1 (missing), 0, ..., {n_components - 1}; row {row} has {result[row]}."
        )
    result.setflags(write=False)
    return result


def as_responsibilities(responsibilities, n_points):
    """Return responsibilities of shape (n, K) checked: in [0, 1], each row summing to 1."""
    try:
        array = np.array(responsibilities, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"responsibilities must be an array of numbers ({error}).") from None
    if array.ndim != 2 or array.shape[0] != n_points or array.shape[1] < 1:
        raise ValueError(
            f"responsibilities must have shape (n, K) = ({n_points}, K), one row per data point, "
            f"got {array.shape}."
        )
    if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1 + 1e-9:
        raise ValueError("responsibilities must be probabilities: finite and between 0 and 1.")
    row_sums = array.sum(axis=1)
    worst = int(np.argmax(np.abs(row_sums - 1)))
    if abs(row_sums[worst] - 1) > 1e-6:
        raise ValueError(
            f"responsibilities of row {worst} sum to {row_sums[worst]:.6g}; each row is a "
            "distribution over the components and must sum to 1."
        )
    return array


def as_nonnegative(value, name):
    """Return ``value`` as a float >= 0, checked."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return float(value)


def as_generator(rng):
    """Return ``rng`` as a numpy.random.Generator: a Generator as it is, an int as a seed,
    None as a fresh unseeded generator."""
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng as a seed must be a whole number >= 0, got {rng}.")
        return np.random.default_rng(rng)
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    raise ValueError(f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}.")
