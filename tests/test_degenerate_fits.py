"""Degenerate Gaussian-mixture fits: a component held at the variance floor ``reg_covar``.

The likelihood of a mixture is unbounded as a variance shrinks to 0, so on data with ties
(e.g. heights rounded to whole inches) EM can end with a component sitting on one repeated
value, its variance at the floor, and a log-likelihood that beats every sensible fit only
because of the floor. emlib says so (``result.message`` and a BoundaryEstimateWarning), and
``n_init`` keeps the best run among those with no component at the floor.

The references are computed here, independently of the selection in ``fit_gmm``: each run of
``n_init`` is repeated on its own from the very start ``fit_gmm`` draws, and the variances are
compared with the floor directly.
"""
import re
import warnings

import numpy as np
import pytest

import emlib
from emlib import gmm

FLOOR = 1e-6  # fit_gmm's default reg_covar
HEIGHTS = emlib.datasets.load_register()["height_cm"]
REPEATED = 157.0  # the height the collapsed component sits on (38 pupils)
N_REPEATED = int(np.sum(HEIGHTS == REPEATED))
# a start with one component on the repeated height and a tiny variance: EM keeps it there
SPIKE_START = emlib.GaussianMixtureParams([0.1, 0.9], [REPEATED, 171.0], [1e-6, 100.0])
# seeds of init="random" (n_init=1) whose run collapses onto 157 cm on the register
COLLAPSING_SEEDS = (23, 27, 34)


def runs_one_by_one(x, n_components, n_init, seed, reg_covar=FLOOR):
    """The n_init runs of fit_gmm(x, K, init="random", n_init=n_init, rng=seed), each fitted on
    its own from the same start (drawn as fit_gmm draws it, on x centred at its first point)."""
    rng = np.random.default_rng(seed)
    centre = x[0]
    results = []
    for _ in range(n_init):
        start = gmm.initial_params(x - centre, n_components, "random", reg_covar=reg_covar, rng=rng)
        start = emlib.GaussianMixtureParams(start.weights, start.means + centre, start.covariances)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", emlib.BoundaryEstimateWarning)
            results.append(emlib.fit_gmm(x, n_components, init=start, reg_covar=reg_covar))
    return results


def smallest_variance(params):
    """The smallest variance (1-D) or covariance eigenvalue (d-D) of every component."""
    covariances = params.covariances
    return covariances if params.is_1d else np.linalg.eigvalsh(covariances)[:, 0]


def at_floor(params, reg_covar=FLOOR):
    return bool(np.any(smallest_variance(params) <= reg_covar * (1 + 1e-9)))


def fit_warning(call):
    """(result, the BoundaryEstimateWarnings it issued)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [w for w in caught if issubclass(w.category, emlib.BoundaryEstimateWarning)]


def fit_without_warning(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error", emlib.BoundaryEstimateWarning)
        return call()


# ---------------------------------------------------------------------------
# n_init keeps a fit with no component at the floor
# ---------------------------------------------------------------------------

def test_register_with_ten_random_starts_keeps_the_best_run_above_the_floor():
    runs = runs_one_by_one(HEIGHTS, 2, 10, seed=0)
    degenerate = [run for run in runs if at_floor(run.params)]
    sensible = [run for run in runs if not at_floor(run.params)]
    assert degenerate and sensible  # the example the student found: one of the ten runs collapses
    assert max(run.log_likelihood for run in degenerate) > max(run.log_likelihood for run in sensible) + 200
    result = fit_without_warning(lambda: emlib.fit_gmm(HEIGHTS, 2, n_init=10, init="random", rng=0))
    assert smallest_variance(result.params).min() > 10.0  # well above the floor: tens of cm²
    assert result.log_likelihood == max(run.log_likelihood for run in sensible)
    assert result.log_likelihood == pytest.approx(-1504.53, abs=0.01)
    assert "floor" not in result.message


def test_when_every_run_ends_at_the_floor_the_best_of_them_is_kept_with_the_warning():
    x = np.repeat([0.0, 1.0, 2.0, 3.0, 4.0], [40, 25, 15, 10, 10])  # five values: three components collapse
    runs = runs_one_by_one(x, 3, 6, seed=1)
    assert all(at_floor(run.params) for run in runs)
    assert len({round(run.log_likelihood, 6) for run in runs}) > 1  # the runs differ: the choice matters
    result, caught = fit_warning(lambda: emlib.fit_gmm(x, 3, init="random", n_init=6, rng=1))
    assert result.log_likelihood == max(run.log_likelihood for run in runs)
    assert len(caught) == 1
    assert "Every one of the 6 starts (n_init=6) ended with a component at the floor" in result.message
    assert str(caught[0].message) in result.message.replace("Component", "component")


# ---------------------------------------------------------------------------
# the warning and the message
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("order", [(0, 1), (1, 0)], ids=["spike first", "spike second"])
def test_a_collapsing_start_warns_naming_the_component_from_1_its_points_and_their_value(order):
    start = SPIKE_START.permuted(list(order))
    result, caught = fit_warning(lambda: emlib.fit_gmm(HEIGHTS, 2, init=start))
    spike = int(np.argmin(result.params.covariances))
    assert spike == order.index(0)
    assert result.params.covariances[spike] == pytest.approx(FLOOR, rel=1e-9)
    assert len(caught) == 1
    assert caught[0].filename == __file__  # the warning points at the caller
    text = str(caught[0].message)
    assert text.startswith(f"component {spike + 1} of 2 collapsed onto a single value")  # 1-based
    assert f"the {N_REPEATED} data points it holds (responsibility above 0.5) all equal 157." in text
    assert N_REPEATED == np.sum(result.expectations[:, spike] > 0.5) == 38
    assert "reg_covar=1e-06" in text
    assert "likelihood is unbounded as a variance shrinks to 0" in text
    assert "not comparable with that of fits whose variances are above the floor" in text
    assert "reg_covar=2.54**2/12" in text and "n_init" in text and "fewer components" in text
    assert result.message.endswith(text[0].upper() + text[1:])
    assert result.message.startswith("converged after")  # the stopping message is kept


@pytest.mark.parametrize("seed", COLLAPSING_SEEDS)
def test_random_starts_that_collapse_warn_with_n_init_1(seed):
    result, caught = fit_warning(lambda: emlib.fit_gmm(HEIGHTS, 2, init="random", rng=seed))
    assert at_floor(result.params)
    assert len(caught) == 1
    spike = int(np.argmin(result.params.covariances))
    assert f"component {spike + 1} of 2 collapsed" in str(caught[0].message)
    assert f"{N_REPEATED} data points" in str(caught[0].message)


def test_the_value_is_shown_without_rounding_noise():
    heights = np.repeat([60.0, 62.0, 64.0, 66.0, 68.0, 70.0, 72.0], [10, 30, 45, 50, 40, 25, 10]) * 2.54  # cm
    assert repr(66 * 2.54) == "167.64000000000001"  # whole inches in cm: the conversion's rounding
    start = emlib.GaussianMixtureParams([0.2, 0.8], [66 * 2.54, 165.0], [1e-6, 50.0])
    result, caught = fit_warning(lambda: emlib.fit_gmm(heights, 2, init=start))
    assert len(caught) == 1
    assert "the 50 data points it holds (responsibility above 0.5) all equal 167.64." in str(caught[0].message)
    assert not re.search(r"\d{12}", str(caught[0].message))  # no long runs of digits anywhere


def test_a_component_on_one_data_point_is_named_with_that_point():
    x = np.concatenate([np.linspace(-2.0, 2.0, 41), [10.0]])
    start = emlib.GaussianMixtureParams([0.9, 0.1], [0.0, 10.0], [1.0, 1e-6])
    result, caught = fit_warning(lambda: emlib.fit_gmm(x, 2, init=start))
    assert len(caught) == 1
    assert "component 2 of 2 collapsed onto a single data point, 10:" in str(caught[0].message)


# ---------------------------------------------------------------------------
# d-D, and a floor per dimension
# ---------------------------------------------------------------------------

def cloud_with(points, seed=5):
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal([0.0, 0.0], [2.0, 1.0], (200, 2)), points])


def test_2d_identical_points_hold_the_smallest_eigenvalue_at_the_floor():
    x = cloud_with(np.tile([5.0, 4.5], (30, 1)))
    start = emlib.GaussianMixtureParams([0.8, 0.2], [[0.0, 0.0], [5.0, 4.5]], [np.eye(2) * 3, np.eye(2) * 1e-3])
    result, caught = fit_warning(lambda: emlib.fit_gmm(x, 2, init=start))
    assert smallest_variance(result.params)[1] == pytest.approx(FLOOR, rel=1e-9)
    assert smallest_variance(result.params)[0] > 0.5
    assert len(caught) == 1
    text = str(caught[0].message)
    assert text.startswith("component 2 of 2 collapsed onto a single value: the smallest eigenvalue of its "
                           "covariance is held at the floor reg_covar=1e-06")
    assert "the 30 data points it holds (responsibility above 0.5) all equal (5, 4.5)." in text
    assert "component 1 of 2" not in text


def test_2d_points_on_a_line_hold_one_eigenvalue_at_the_floor():
    rng = np.random.default_rng(6)
    x = cloud_with(np.column_stack([rng.normal(5.0, 1.0, 30), np.full(30, 4.5)]))
    start = emlib.GaussianMixtureParams([0.8, 0.2], [[0.0, 0.0], [5.0, 4.5]],
                                        [np.eye(2) * 3, np.diag([1.0, 1e-3])])
    result, caught = fit_warning(lambda: emlib.fit_gmm(x, 2, init=start))
    eigenvalues = np.linalg.eigvalsh(result.params.covariances[1])
    assert eigenvalues[0] == pytest.approx(FLOOR, rel=1e-9) and eigenvalues[1] > 0.1
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "component 2 of 2 collapsed: the smallest eigenvalue of its covariance is held at the floor" in text
    assert "it holds 30 data points (responsibility above 0.5)." in text
    assert "all equal" not in text


def test_a_per_dimension_floor_is_detected_in_the_floor_scaled_coordinates():
    rng = np.random.default_rng(6)
    x = cloud_with(np.column_stack([rng.normal(5.0, 1.0, 30), np.full(30, 4.5)])) * [1000.0, 0.01]
    floor = np.array([10.0, 1e-9])  # grams and metres, say: one floor per dimension
    start = emlib.GaussianMixtureParams([0.8, 0.2], [[0.0, 0.0], [5000.0, 0.045]],
                                        [np.diag([3e6, 3e-4]), np.diag([1e6, 1e-7])])
    result, caught = fit_warning(lambda: emlib.fit_gmm(x, 2, init=start, reg_covar=floor))
    spike = result.params.covariances[1]
    assert spike[1, 1] == pytest.approx(1e-9, rel=1e-9) and spike[0, 0] > 1e5
    # component 1's smallest eigenvalue (about 1e-4) is far below the larger floor (10), yet
    # above the floor in the scaled coordinates: no alarm for it
    assert np.linalg.eigvalsh(result.params.covariances[0])[0] < floor.max()
    assert len(caught) == 1
    text = str(caught[0].message)
    assert ("component 2 of 2 collapsed: its variance in some direction is held at the per-dimension floor "
            "reg_covar=[10, 1e-09]; it holds 30 data points") in text
    assert "component 1 of 2" not in text


@pytest.mark.parametrize("covariance, expected", [
    (np.diag([10.0, 1.0]), True),       # at the floor in dimension 1 (10): scaled eigenvalues 1 and 1e9
    (np.diag([1e3, 1e-9]), True),       # at the floor in dimension 2
    (np.diag([1e3, 2e-9]), False),      # twice the floor in dimension 2
    (np.diag([1e-3 + 10, 1e-4]), False),  # above both floors, below the larger one in value
])
def test_the_floor_check_scales_each_dimension_by_its_floor(covariance, expected):
    floor = np.array([10.0, 1e-9])
    assert gmm._components_at_floor(covariance[None], floor).tolist() == [expected]


# ---------------------------------------------------------------------------
# semi-supervised fits, and the chunked fit
# ---------------------------------------------------------------------------

def test_a_semi_supervised_fit_at_the_floor_warns():
    labels = np.full(len(HEIGHTS), -1)
    labels[np.flatnonzero(HEIGHTS == REPEATED)[:10]] = 0
    labels[np.flatnonzero(HEIGHTS > 180)[:5]] = 1
    result, caught = fit_warning(lambda: emlib.fit_gmm(HEIGHTS, 2, labels=labels, init=SPIKE_START))
    assert result.params.covariances[0] == pytest.approx(FLOOR, rel=1e-9)
    assert len(caught) == 1
    assert "component 1 of 2 collapsed onto a single value" in str(caught[0].message)
    assert f"the {N_REPEATED} data points it holds" in str(caught[0].message)


def test_the_semi_supervised_register_fit_does_not_warn():
    register = emlib.datasets.load_register()
    for seed in range(3):
        result = fit_without_warning(lambda: emlib.fit_gmm(register["height_cm"], 2, labels=register["label"],
                                                           rng=seed))
        assert smallest_variance(result.params).min() > 10.0


def test_the_chunked_fit_makes_the_same_choice_and_the_same_warning():
    da = pytest.importorskip("dask.array")
    import emlib.scale
    chunked = da.from_array(HEIGHTS, chunks=100)
    best = fit_without_warning(lambda: emlib.scale.fit_gmm(chunked, 2, init="random", n_init=10, rng=0,
                                                           progress=False))
    in_memory = fit_without_warning(lambda: emlib.fit_gmm(HEIGHTS, 2, init="random", n_init=10, rng=0))
    assert best.log_likelihood == pytest.approx(in_memory.log_likelihood, rel=1e-10)
    assert smallest_variance(best.params).min() > 10.0
    result, caught = fit_warning(lambda: emlib.scale.fit_gmm(chunked, 2, init="random", rng=COLLAPSING_SEEDS[0],
                                                             progress=False))
    assert len(caught) == 1 and caught[0].filename == __file__
    spike = int(np.argmin(result.params.covariances))
    assert str(caught[0].message).startswith(f"component {spike + 1} of 2 collapsed onto a single value")
    assert f"the {N_REPEATED} data points it holds (its total responsibility N_k, rounded) all equal 157." \
        in str(caught[0].message)


# ---------------------------------------------------------------------------
# no false alarms on the course's data
# ---------------------------------------------------------------------------

def real_data_sets():
    datasets = emlib.datasets
    faithful = datasets.load_old_faithful()
    penguins = datasets.load_penguins()
    galton = datasets.load_galton()
    yrbss = datasets.load_yrbss()
    measures = np.column_stack([penguins[c] for c in
                                ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")])
    heights = yrbss["height"]
    return {
        "register": HEIGHTS,
        "faithful waiting": faithful["waiting"],
        "faithful 2-D": np.column_stack([faithful["eruptions"], faithful["waiting"]]),
        "penguins 4-D": measures[np.isfinite(measures).all(axis=1)],
        "galton children": galton["childHeight"],
        "galton parents 2-D": np.column_stack([galton["father"], galton["mother"]]),
        "yrbss heights": heights[np.isfinite(heights)],
    }


@pytest.mark.parametrize("name", list(real_data_sets()))
def test_no_warning_on_the_course_data_with_the_default_floor_and_start(name):
    x = real_data_sets()[name]
    for n_components in (1, 2, 3):
        result = fit_without_warning(lambda: emlib.fit_gmm(x, n_components, rng=0))
        assert not at_floor(result.params, reg_covar=1.001 * FLOOR)
        assert "floor" not in result.message


def test_a_floor_at_the_rounding_variance_can_still_hold_a_spike_and_is_reported():
    rounding = 2.54 ** 2 / 12  # heights recorded in whole inches, in cm
    result, caught = fit_warning(lambda: emlib.fit_gmm(HEIGHTS, 2, init="random", rng=COLLAPSING_SEEDS[0],
                                                       reg_covar=rounding))
    spike = int(np.argmin(result.params.covariances))
    assert result.params.covariances[spike] == pytest.approx(rounding, rel=1e-9)
    responsibilities = result.expectations[:, spike]
    assert np.sum(responsibilities > 0) > 300  # most points have some responsibility: only those above 0.5 count
    assert len(caught) == 1
    assert (f"component {spike + 1} of 2 collapsed onto a single value: its variance is held at the floor "
            f"reg_covar=0.538, and the {N_REPEATED} data points it holds (responsibility above 0.5) all equal 157."
            ) in str(caught[0].message)


# ---------------------------------------------------------------------------
# every message counts components from 1, as the chapters do
# ---------------------------------------------------------------------------

def raise_for(call):
    with pytest.raises(ValueError) as error:
        call()
    return str(error.value)


ONE_BASED = {
    "weight": (lambda: emlib.GaussianMixtureParams([1.0, 0.0], [0.0, 1.0], [1.0, 1.0]),
               "weights must be positive; component 2 has weight"),
    "variance": (lambda: emlib.GaussianMixtureParams([0.5, 0.5], [0.0, 1.0], [-1.0, 1.0]),
                 "variances must be positive; component 1 has variance"),
    "covariance": (lambda: emlib.GaussianMixtureParams([0.5, 0.5], [[0.0, 0.0]] * 2,
                                                       [np.eye(2), [[1.0, 2.0], [2.0, 1.0]]]),
                   "the covariance of component 2 is not positive definite"),
    "collapse without a floor": (lambda: gmm.m_step([0.0, 0.1, 0.2, 5.0, 5.0], np.repeat([[1.0, 0.0], [0.0, 1.0]],
                                                                                          [3, 2], axis=0)),
                                 "component 2 collapsed: its variance fell below"),
    "empty component": (lambda: gmm.m_step([0.0, 0.1, 0.2], np.tile([1.0, 0.0], (3, 1))),
                        r"component 2 collapsed to nothing: no data point is responsible for it \(its total "
                        r"responsibility N_2 is 0\)"),
    "point far from a component": (lambda: gmm.component_log_densities(
        [0.0, 40.0], emlib.GaussianMixtureParams([0.5, 0.5], [0.0, 1.0], [1.0, 1e-306])),
        r"the point at index 1 \(counting from 0\) is too far from component 2 for double precision"),
    "point far from every component": (lambda: gmm.e_step(
        [0.0, 40.0], emlib.GaussianMixtureParams([0.5, 0.5], [0.0, 1.0], [1e-306, 1e-306])),
        r"the point at index 1 \(counting from 0\) is too far from every component"),
    "a class with no labelled point": (lambda: emlib.fit_gmm([0.0, 0.1, 0.2, 5.0, 5.1, 5.2], 2,
                                                             labels=[0, 0, -1, -1, -1, -1]),
                                       r"no point has label 1 \(component 2\)"),
}


@pytest.mark.parametrize("call, message", ONE_BASED.values(), ids=ONE_BASED.keys())
def test_messages_count_components_from_1_and_say_when_an_index_counts_from_0(call, message):
    assert re.search(message, raise_for(call))
