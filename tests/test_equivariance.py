"""Property tests (hypothesis): a fit does not depend on where the data sit or in what units.

DESIGN section 4: "exact on shifted and ill-scaled data: centre before squaring; floors and
tolerances relative to each dimension's scale; results equivariant under shifting and
scaling the data". For y_ij = s_j (x_ij + t_j), the fit on y is the fit on x moved along:

    π unchanged,   μ_y = s ⊙ (μ_x + t),   Σ_y = S Σ_x S  (S = diag(s)),
    log p(Y | θ_y) = log p(X | θ_x) - n Σ_j log s_j,

iterate by iterate, to 1e-9 relative (the means to 1e-9 of the spread plus the few ulps of
|t| that a shifted number can carry). reg_covar moves with the data (ε_j s_j²), or is 0.

The data are drawn on a grid of 1/256 with |x| < 2**12, shifts are multiples of 1/256 up
to 1e12 and the per-dimension scales s_j are powers of 2 from 2**-20 (1e-6) to 2**20 (1e6),
so that y is exactly the transformed x: any difference between the fits is emlib's.
Another test scales by arbitrary factors from 1e-6 to 1e6 (rounding the data by 1e-16).

Memory layout (C or Fortran order) and dtype width (float32 data against float64 data of
the same values) must not change a single bit.
"""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import emlib
from emlib import gmm
from synthetic import mixture_data

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EPS = np.finfo(float).eps


@st.composite
def grid_problems(draw):
    """(x on a grid of 1/256, K, seed): n in 30..120 with at least 15 points per component."""
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    k = draw(st.integers(min_value=1, max_value=3))
    n = draw(st.integers(min_value=max(30, 15 * k), max_value=120))
    dimension = draw(st.sampled_from([0, 2, 3]))
    rng = np.random.default_rng(seed)
    x, _, _ = mixture_data(rng, n, k, dimension, separation=draw(st.floats(2.0, 6.0)))
    return np.round(x * 256) / 256, k, seed


def transformation(draw, d, *, dyadic=True, shifts=True):
    """Per-dimension scales s (powers of 2 from 2**-20 to 2**20, or any in [1e-6, 1e6]) and
    shifts t (multiples of 1/256 with |t| <= 1e12)."""
    if dyadic:
        scales = np.array([2.0 ** draw(st.integers(-20, 20)) for _ in range(d)])
    else:
        scales = np.array([10.0 ** draw(st.floats(-6.0, 6.0)) for _ in range(d)])
    if shifts:
        exponents = [draw(st.integers(0, 12)) for _ in range(d)]
        shift = np.array([np.round(draw(st.floats(-1.0, 1.0)) * 10.0 ** e * 256) / 256 for e in exponents])
    else:
        shift = np.zeros(d)
    return scales, shift


def transform_params(params, scales, shift):
    """θ_x moved to the data y = s (x + t)."""
    if params.is_1d:
        return gmm.GaussianMixtureParams(params.weights, (params.means + shift[0]) * scales[0],
                                         params.covariances * scales[0] ** 2)
    outer = np.multiply.outer(scales, scales)
    return gmm.GaussianMixtureParams(params.weights, (params.means + shift) * scales, params.covariances * outer)


def transform_data(x, scales, shift):
    return (x + (shift[0] if x.ndim == 1 else shift)) * (scales[0] if x.ndim == 1 else scales)


def fit_or_error(x, k, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", emlib.LikelihoodDecreaseWarning)
        try:
            return emlib.fit_gmm(x, k, **kwargs)
        except ValueError as error:
            return error


def assert_moved_along(fit_x, fit_y, x, scales, shift):
    """Every common iterate of fit_y is that of fit_x moved to y = s (x + t)."""
    assert isinstance(fit_x, emlib.EMResult) == isinstance(fit_y, emlib.EMResult), (fit_x, fit_y)
    if not isinstance(fit_x, emlib.EMResult):  # both refused, e.g. a collapse: with the same reason
        assert str(fit_x).split(":")[0] == str(fit_y).split(":")[0]
        return
    common = min(len(fit_x.trace), len(fit_y.trace))
    if len(fit_x.trace) != len(fit_y.trace):  # tol=0: one run may stop a step early on a flat likelihood
        assert min(fit_x, fit_y, key=lambda r: len(r.trace)).converged
    n = len(x)
    log_scale = n * np.sum(np.log(scales[:1] if x.ndim == 1 else scales))
    spread = np.sqrt(np.var(x, axis=0)) + 1.0 / 256
    for t, ((px, llx), (py, lly)) in enumerate(zip(fit_x.trace[:common], fit_y.trace[:common])):
        expected = transform_params(px, scales, shift)
        np.testing.assert_allclose(py.weights, expected.weights, rtol=1e-9, atol=1e-12, err_msg=f"weights at {t}")
        # a mean far from 0 is known to a few ulps of its size; otherwise to 1e-9 of the spread
        mean_tolerance = (1e-9 * spread + 8 * EPS * np.abs(shift if x.ndim == 2 else shift[0])) \
            * (scales if x.ndim == 2 else scales[0])
        assert np.all(np.abs(py.means - expected.means) <= mean_tolerance + 8 * EPS * np.abs(expected.means)), \
            f"means at iteration {t}: {py.means} vs {expected.means}"
        if px.is_1d:
            np.testing.assert_allclose(py.covariances, expected.covariances, rtol=1e-9, err_msg=f"variances at {t}")
        else:  # relative to each entry's natural size √(Σ_ii Σ_jj)
            diagonal = np.sqrt(np.einsum("kii->ki", expected.covariances))
            size = np.einsum("ki,kj->kij", diagonal, diagonal)
            assert np.all(np.abs(py.covariances - expected.covariances) <= 1e-9 * size), f"covariances at {t}"
        assert abs(lly - (llx - log_scale)) <= 1e-9 * (abs(llx) + abs(log_scale) + n), \
            f"log-likelihood at {t}: {lly} vs {llx - log_scale}"


@SETTINGS
@given(problem=grid_problems(), data=st.data(), floor=st.sampled_from(["zero", "moves with the data"]))
def test_fits_are_equivariant_under_per_dimension_shifts_and_scales(problem, data, floor):
    x, k, seed = problem
    d = 1 if x.ndim == 1 else x.shape[1]
    scales, shift = transformation(data.draw, d)
    y = transform_data(x, scales, shift)
    params0 = gmm.initial_params(x, k, "random", reg_covar=0.0, rng=seed)
    if floor == "zero":
        reg_x, reg_y = 0.0, 0.0
    else:  # the floor in the data's units: it moves with them
        reg_x = np.full(d, 1e-6) if d > 1 else 1e-6
        reg_y = reg_x * scales ** 2 if d > 1 else 1e-6 * scales[0] ** 2
    fit_x = fit_or_error(x, k, init=params0, reg_covar=reg_x, tol=0.0, max_iter=25)
    fit_y = fit_or_error(y, k, init=transform_params(params0, scales, shift), reg_covar=reg_y, tol=0.0, max_iter=25)
    assert_moved_along(fit_x, fit_y, x, scales, shift)


@SETTINGS
@given(problem=grid_problems(), data=st.data())
def test_fits_are_equivariant_under_arbitrary_scales_from_1e_minus_6_to_1e6(problem, data):
    """Scales that are not powers of 2 round the data by 1e-16 relative, far below 1e-9."""
    x, k, seed = problem
    d = 1 if x.ndim == 1 else x.shape[1]
    scales, shift = transformation(data.draw, d, dyadic=False, shifts=False)
    y = transform_data(x, scales, shift)
    params0 = gmm.initial_params(x, k, "random", reg_covar=0.0, rng=seed)
    fit_x = fit_or_error(x, k, init=params0, reg_covar=0.0, tol=0.0, max_iter=25)
    fit_y = fit_or_error(y, k, init=transform_params(params0, scales, shift), reg_covar=0.0, tol=0.0, max_iter=25)
    assert_moved_along(fit_x, fit_y, x, scales, shift)


@SETTINGS
@given(problem=grid_problems(), data=st.data())
def test_default_fits_are_equivariant_under_a_shift_and_a_common_scale(problem, data):
    """With fit_gmm's own k-means++ start: Euclidean distances are equivariant under a shift
    and one common scale (not under per-dimension scales, which change the geometry)."""
    x, k, seed = problem
    d = 1 if x.ndim == 1 else x.shape[1]
    scale = 2.0 ** data.draw(st.integers(-20, 20))
    scales = np.full(d, scale)
    _, shift = transformation(data.draw, d)
    y = transform_data(x, scales, shift)
    fit_x = fit_or_error(x, k, rng=seed, reg_covar=1e-6, tol=0.0, max_iter=25)
    fit_y = fit_or_error(y, k, rng=seed, reg_covar=1e-6 * scale ** 2, tol=0.0, max_iter=25)
    assert_moved_along(fit_x, fit_y, x, scales, shift)


# ---------------------------------------------------------------------------
# memory layout and dtype width change no bit
# ---------------------------------------------------------------------------

def assert_bit_identical(first, second):
    for a, b in zip((first.params.weights, first.params.means, first.params.covariances),
                    (second.params.weights, second.params.means, second.params.covariances)):
        assert np.array_equal(a, b)
    assert first.log_likelihoods == second.log_likelihoods
    assert np.array_equal(first.expectations, second.expectations)


@st.composite
def layout_problems(draw):
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    k = draw(st.integers(min_value=1, max_value=3))
    d = draw(st.integers(min_value=2, max_value=6))
    n = draw(st.integers(min_value=15 * k, max_value=300))
    rng = np.random.default_rng(seed)
    x, _, _ = mixture_data(rng, n, k, d, separation=3.0)
    column_scales = 10.0 ** rng.uniform(-2, 2, size=d)
    return x * column_scales + rng.normal(scale=100, size=d), k, seed


@SETTINGS
@given(problem=layout_problems())
def test_memory_layout_does_not_change_a_bit(problem):
    """The same X as a C-ordered or a Fortran-ordered array (np.asarray of a DataFrame is
    often Fortran-ordered), or as a strided view, gives bit-identical fits."""
    x, k, seed = problem
    fortran = np.asfortranarray(x)
    strided = np.repeat(x, 2, axis=0)[::2]
    reference = emlib.fit_gmm(x, k, rng=seed, max_iter=40)
    assert_bit_identical(reference, emlib.fit_gmm(fortran, k, rng=seed, max_iter=40))
    assert_bit_identical(reference, emlib.fit_gmm(strided, k, rng=seed, max_iter=40))
    assert np.array_equal(gmm.e_step(x, reference.params)[0], gmm.e_step(fortran, reference.params)[0])


@SETTINGS
@given(problem=layout_problems())
def test_dtype_width_does_not_change_a_bit(problem):
    """float32 data give the bits of float64 data holding the same values."""
    x, k, seed = problem
    x32 = x.astype(np.float32)
    assert_bit_identical(emlib.fit_gmm(x32, k, rng=seed, max_iter=40),
                         emlib.fit_gmm(x32.astype(np.float64), k, rng=seed, max_iter=40))
    assert np.array_equal(emlib.kmeans.kmeans(x32, k, rng=seed).params,
                          emlib.kmeans.kmeans(x32.astype(np.float64), k, rng=seed).params)


def test_fortran_ordered_parameters_change_no_bit():
    rng = np.random.default_rng(3)
    x, _, (weights, means, covariances) = mixture_data(rng, 200, 2, 3)
    c_params = gmm.GaussianMixtureParams(weights, means, covariances)
    f_params = gmm.GaussianMixtureParams(weights, np.asfortranarray(means),
                                         np.asfortranarray(covariances.transpose(0, 2, 1)).transpose(0, 2, 1))
    assert np.array_equal(gmm.e_step(x, c_params)[0], gmm.e_step(x, f_params)[0])
    assert gmm.log_likelihood(x, c_params) == gmm.log_likelihood(x, f_params)


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
