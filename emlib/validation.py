"""Checks of what a user passes in: every problem is a ValueError that says what to do.

Nothing here changes its input: arrays are converted into new float arrays, always
C-ordered float64, so that the memory layout (C or Fortran order) and the width of the
input's dtype (float32 or float64 of the same values) never change a result's bits.
"""
import numbers

import numpy as np

__all__ = ["as_float_array", "as_data", "as_generator", "as_labels", "as_responsibilities",
           "as_n_components", "as_nonnegative", "as_floor", "check_data_scale"]

# Integers above 2**53 have no exact float64: they are refused rather than rounded.
LARGEST_EXACT_INTEGER = 2 ** 53
# Data whose values spread over more than this overflow double precision once squared
# (variances and squared distances reach 1e300); less than the smallest is below what
# double precision resolves in a variance.
LARGEST_SPREAD = 1e150
SMALLEST_SPREAD = 1e-150


def _what_it_is(array):
    if array.dtype.kind == "c":
        return ("complex numbers; EM here models real data: pass the real part (x.real) "
                "if the imaginary part is 0, or the two parts as two columns")
    if array.dtype.kind in "USO":
        return f"text or objects ({array.dtype}); convert them to numbers first (e.g. np.asarray(x, dtype=float))"
    if array.dtype.kind == "b":
        return "booleans; pass numbers (e.g. x.astype(float)) if that is what you mean"
    return f"values of dtype {array.dtype}"


def as_float_array(values, name):
    """Return ``values`` as a new C-ordered float64 array, refusing what it cannot represent.

    Accepted: integers (up to 2**53 in size, so that they convert exactly), floats of any
    width, and sequences of such numbers (``fractions.Fraction`` and other real numbers
    included). Refused with a ValueError: complex numbers, text (even ``"1"``), booleans,
    objects that are not real numbers, ragged sequences and masked arrays with masked
    entries (emlib does not guess what a mask means: drop those entries first).
    """
    if isinstance(values, (str, bytes)):
        raise ValueError(f"{name} must be numbers, got the text {values!r}; convert it to numbers first.")
    if np.ma.isMaskedArray(values):
        if np.ma.getmaskarray(values).any():
            raise ValueError(
                f"{name} is a masked array with masked entries; emlib does not guess what a mask means: "
                f"drop them first (np.ma.compress_rows({name}) for rows of 2-D data, {name}.compressed() "
                "for 1-D data)."
            )
        values = np.ma.getdata(values)
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as error:  # e.g. rows of different lengths
        raise ValueError(f"{name} must be an array of numbers ({error}).") from None
    if array.dtype.kind == "O":
        flat = array.ravel().tolist()
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in flat):
            bad = next(v for v in flat if not (isinstance(v, numbers.Real) and not isinstance(v, bool)))
            raise ValueError(f"{name} must be an array of numbers, but it holds {bad!r} ({type(bad).__name__}).")
        if any(isinstance(v, numbers.Integral) and abs(int(v)) > LARGEST_EXACT_INTEGER for v in flat):
            raise ValueError(f"{name} holds integers beyond 2**53, which have no exact float; "
                             "convert them to float yourself if rounding them is fine.")
        try:
            return np.array([float(v) for v in flat], dtype=np.float64).reshape(array.shape)
        except OverflowError:
            raise ValueError(f"{name} holds numbers too large for double precision.") from None
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be an array of numbers (integers or floats), got {_what_it_is(array)}.")
    if array.dtype.kind in "iu" and array.size and (
            array.max() > LARGEST_EXACT_INTEGER or (array.dtype.kind == "i" and array.min() < -LARGEST_EXACT_INTEGER)):
        raise ValueError(f"{name} holds integers beyond 2**53, which have no exact float; "
                         "convert them to float yourself if rounding them is fine.")
    with np.errstate(over="ignore"):  # e.g. a longdouble beyond float64: caught as infinite below
        return np.array(array, dtype=np.float64, order="C")  # a copy: the caller's array is never touched


def as_data(x, name="x"):
    """Return ``x`` as a C-ordered float64 array of shape (n,) or (n, d), checked, read-only.

    Raises
    ------
    ValueError
        If ``x`` is not real numbers, has the wrong number of dimensions, is empty, holds
        NaN or infinity, or spreads over more (or, unless it is constant, less) than double
        precision can square (see :func:`check_data_scale`).
    """
    data = as_float_array(x, name)
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
    check_data_scale(data, name)
    data.setflags(write=False)
    return data


def check_data_scale(data, name="x"):
    """Refuse data whose spread (max - min, per dimension) double precision cannot square.

    A spread above 1e150 makes variances and squared distances overflow (1e300 and more);
    a spread below 1e-150 (other than 0, constant data) makes them underflow. Either way
    the fix is to rescale the data, e.g. ``x / x.std(axis=0)``.
    """
    spread = np.ptp(data, axis=0) if data.ndim == 2 else np.atleast_1d(np.ptp(data))
    too_large = spread > LARGEST_SPREAD
    too_small = (spread > 0) & (spread < SMALLEST_SPREAD)
    if too_large.any() or too_small.any():
        j = int(np.argmax(too_large | too_small))
        where = f" in column {j}" if data.ndim == 2 else ""
        raise ValueError(
            f"{name} spreads over {spread[j]:.3g}{where}; double precision cannot square differences that "
            f"{'large' if too_large[j] else 'small'} (variances would {'overflow' if too_large[j] else 'underflow'}). "
            f"Rescale the data first, e.g. {name} / {name}.std(axis=0), and scale the fit back."
        )


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
        -1, 0, ..., n_components - 1 (checked on the values as given, before any conversion).
    """
    if np.ma.isMaskedArray(labels):
        raise ValueError("labels must be a plain array; for a missing label use -1, not a mask "
                         "(e.g. labels.filled(-1)).")
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
    # compare the values as given (a uint64 2**64 - 1 or a float 1e19 must not wrap to -1)
    out_of_range = (array < -1) | (array >= n_components)
    if out_of_range.any():
        row = int(np.argmax(out_of_range))
        value = array[row].item()
        shown = int(value) if float(value).is_integer() else value
        raise ValueError(
            f"labels must lie in -1 (missing), 0, ..., {n_components - 1}; row {row} has {shown}."
        )
    result = array.astype(np.int64)  # a new array; every value fits now
    result.setflags(write=False)
    return result


def as_responsibilities(responsibilities, n_points):
    """Return responsibilities of shape (n, K) checked: in [0, 1], each row summing to 1."""
    array = as_float_array(responsibilities, "responsibilities")
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
    """Return ``value`` as a float >= 0, checked (any real number type, e.g. a Fraction)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    try:
        number = float(value)
    except (OverflowError, TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.") from None
    if not np.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return number


def as_floor(value, n_features, name="reg_covar"):
    """Return a variance floor: a float >= 0, or for d-D data an array (d,) of floors >= 0,
    one per dimension (e.g. ``1e-6 * x.var(axis=0)``).

    Returns
    -------
    float or ndarray of shape (d,)
    """
    if np.ndim(value) == 0 and not isinstance(value, np.ndarray):
        return as_nonnegative(value, name)
    floors = as_float_array(value, name)
    if floors.ndim == 0:
        return as_nonnegative(float(floors), name)
    if floors.shape != (n_features,):
        raise ValueError(f"{name} must be a number or one floor per dimension, shape ({n_features},), "
                         f"got shape {floors.shape}.")
    if not np.all(np.isfinite(floors)) or np.any(floors < 0):
        raise ValueError(f"{name} must hold finite numbers >= 0, got {floors.tolist()}.")
    if np.all(floors == floors[0]):
        return float(floors[0])
    if np.any(floors == 0):
        raise ValueError(f"{name} per dimension must be positive in every dimension (or a single 0 for no "
                         f"floor), got {floors.tolist()}.")
    floors.setflags(write=False)
    return floors


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
