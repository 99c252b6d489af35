"""Every bad input of DESIGN section 4 gets a ValueError that says what is wrong.

Each case is (a call, a phrase its message must contain). The phrases are the part of
the message that tells the user what is wrong, so a ValueError raised by accident
somewhere deeper (e.g. by NumPy) does not pass.
"""
import numpy as np
import pytest

import emlib
from emlib import coins, gmm, kmeans, linkage

X1 = np.array([0.1, 0.5, 2.0, 2.5, 3.0, 4.1])
X2 = np.array([[0.0, 1.0], [1.0, 0.5], [2.0, 2.0], [3.0, 1.0], [4.0, 3.0], [5.0, 2.5]])
P1 = gmm.GaussianMixtureParams([0.5, 0.5], [1.0, 3.0], [1.0, 1.0])
P2 = gmm.GaussianMixtureParams([0.5, 0.5], [[1.0, 1.0], [4.0, 2.0]], [np.eye(2), np.eye(2)])
GOOD_RESPONSIBILITIES = np.full((6, 2), 0.5)


def with_nan(x):
    x = np.array(x, dtype=float)
    x.flat[3] = np.nan
    return x


def with_inf(x):
    x = np.array(x, dtype=float)
    x.flat[1] = -np.inf
    return x


# ---------------------------------------------------------------------------
# bad data x, for every function that takes x
# ---------------------------------------------------------------------------

FUNCTIONS_OF_X_1D = {
    "fit_gmm": lambda x: emlib.fit_gmm(x, 2, rng=0),
    "e_step": lambda x: gmm.e_step(x, P1),
    "m_step": lambda x: gmm.m_step(x, GOOD_RESPONSIBILITIES),
    "log_likelihood": lambda x: gmm.log_likelihood(x, P1),
    "predict_proba": lambda x: gmm.predict_proba(x, P1),
    "density": lambda x: gmm.density(x, P1),
    "log_joint": lambda x: gmm.log_joint(x, P1),
    "component_log_densities": lambda x: gmm.component_log_densities(x, P1),
    "bic": lambda x: gmm.bic(x, P1),
    "initial_params": lambda x: gmm.initial_params(x, 2, "random", rng=0),
    "kmeans": lambda x: kmeans.kmeans(x, 2, rng=0),
}

BAD_X = {
    "nan": (with_nan(X1), "NaN or infinite"),
    "inf": (with_inf(X1), "NaN or infinite"),
    "nan 2-D": (with_nan(X2), "NaN or infinite"),
    "empty": (np.array([]), "empty"),
    "empty 2-D": (np.zeros((0, 2)), "empty"),
    "3-D": (np.zeros((4, 2, 2)), r"shape \(n,\)"),
    "scalar": (np.float64(1.0), r"shape \(n,\)"),
    "not numbers": (np.array(["a", "b", "c"]), "array of numbers"),
    "ragged": ([[1.0, 2.0], [3.0]], "array of numbers"),
}


@pytest.mark.parametrize("function", FUNCTIONS_OF_X_1D.values(), ids=FUNCTIONS_OF_X_1D.keys())
@pytest.mark.parametrize("bad_x, message", BAD_X.values(), ids=BAD_X.keys())
def test_bad_data_raises_value_error(function, bad_x, message):
    with pytest.raises(ValueError, match=message):
        function(bad_x)


def test_nan_message_names_the_first_bad_row():
    with pytest.raises(ValueError, match="row 3"):
        emlib.fit_gmm(with_nan(X1), 2)


# ---------------------------------------------------------------------------
# x and params do not match
# ---------------------------------------------------------------------------

MISMATCHES = {
    "1-D x, 2-D params": (X1, P2, "x is 1-D"),
    "2-D x, 1-D params": (X2, P1, r"x has shape \(6, 2\)"),
    "3 columns, 2-D params": (np.zeros((5, 3)), P2, r"x has shape \(5, 3\)"),
}

EVALUATORS = {
    "e_step": gmm.e_step,
    "log_likelihood": gmm.log_likelihood,
    "predict_proba": gmm.predict_proba,
    "density": gmm.density,
    "log_joint": gmm.log_joint,
    "component_log_densities": gmm.component_log_densities,
    "bic": gmm.bic,
    "fit_gmm init": lambda x, params: emlib.fit_gmm(x, 2, init=params),
}


@pytest.mark.parametrize("function", EVALUATORS.values(), ids=EVALUATORS.keys())
@pytest.mark.parametrize("x, params, message", MISMATCHES.values(), ids=MISMATCHES.keys())
def test_dimension_mismatch_between_x_and_params_raises(function, x, params, message):
    with pytest.raises(ValueError, match=message):
        function(x, params)


@pytest.mark.parametrize("function", EVALUATORS.values(), ids=EVALUATORS.keys())
def test_params_that_are_not_gaussian_mixture_params_raise(function):
    with pytest.raises(ValueError, match="GaussianMixtureParams"):
        function(X1, {"weights": [1.0], "means": [0.0], "covariances": [1.0]})


def test_init_with_a_different_number_of_components_raises():
    with pytest.raises(ValueError, match="n_components"):
        emlib.fit_gmm(X1, 3, init=P1)


# ---------------------------------------------------------------------------
# n_components, rng, init, reg_covar, n_init, tol, max_iter
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("n_components", [0, -1, 1.5, 2.0, "2", True, None])
def test_bad_n_components_raises(n_components):
    with pytest.raises(ValueError, match="n_components"):
        emlib.fit_gmm(X1, n_components)


def test_fewer_points_than_components_raises():
    with pytest.raises(ValueError, match="fewer than n_components=7"):
        emlib.fit_gmm(X1, 7)


@pytest.mark.parametrize("rng", ["seed", 1.5, True, np.random.RandomState(0), [1, 2]])
def test_bad_rng_raises(rng):
    with pytest.raises(ValueError, match="rng must be"):
        emlib.fit_gmm(X1, 2, rng=rng)


def test_negative_seed_raises_a_message_naming_rng():
    with pytest.raises(ValueError, match="rng"):
        emlib.fit_gmm(X1, 2, rng=-1)


@pytest.mark.parametrize("init", ["k-means", "KMEANS", "", 5, ["kmeans"]])
def test_bad_init_raises(init):
    with pytest.raises(ValueError, match="init must be a GaussianMixtureParams or one of"):
        emlib.fit_gmm(X1, 2, init=init)


def test_init_labels_without_labels_raises():
    with pytest.raises(ValueError, match="needs labels"):
        emlib.fit_gmm(X1, 2, init="labels")


def test_init_labels_with_an_empty_class_raises():
    with pytest.raises(ValueError, match=r"no point has label 1 \(component 2\)"):
        emlib.fit_gmm(X1, 2, labels=[0, 0, -1, -1, -1, -1])


@pytest.mark.parametrize("reg_covar", [-1e-6, np.nan, np.inf, "1e-6", None, True])
def test_bad_reg_covar_raises(reg_covar):
    with pytest.raises(ValueError, match="reg_covar"):
        emlib.fit_gmm(X1, 2, reg_covar=reg_covar)


@pytest.mark.parametrize("reg_covar", [-1e-6, np.nan])
def test_bad_reg_covar_in_m_step_raises(reg_covar):
    with pytest.raises(ValueError, match="reg_covar"):
        gmm.m_step(X1, GOOD_RESPONSIBILITIES, reg_covar=reg_covar)


@pytest.mark.parametrize("n_init", [0, -2, 1.5, True, "3", None])
def test_bad_n_init_raises(n_init):
    with pytest.raises(ValueError, match="n_init"):
        emlib.fit_gmm(X1, 2, n_init=n_init)


@pytest.mark.parametrize("setting, value", [("tol", -1.0), ("tol", np.nan), ("max_iter", -1), ("max_iter", 2.5)])
def test_bad_loop_settings_in_fit_gmm_raise(setting, value):
    with pytest.raises(ValueError, match=setting):
        emlib.fit_gmm(X1, 2, **{setting: value})


# ---------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------

BAD_LABELS = {
    "too large": ([0, 1, 2, -1, -1, -1], "row 2 has 2"),
    "below -1": ([0, 1, -2, -1, -1, -1], "row 2 has -2"),
    "too short": ([0, 1, -1], r"shape \(6,\)"),
    "too long": ([0, 1, -1, -1, -1, -1, 0], r"shape \(6,\)"),
    "2-D": ([[0, 1, -1, -1, -1, -1]], r"shape \(6,\)"),
    "non-integer floats": ([0.0, 1.0, 0.5, -1.0, -1.0, -1.0], "whole numbers"),
    "nan": ([0.0, 1.0, np.nan, -1.0, -1.0, -1.0], "not NaN"),
    "bool": ([True, False, True, False, True, False], "bool"),
    "strings": (["0", "1", "0", "1", "0", "1"], "whole numbers"),
    "None": ([0, None, 1, -1, -1, -1], "whole numbers"),
}


@pytest.mark.parametrize("labels, message", BAD_LABELS.values(), ids=BAD_LABELS.keys())
@pytest.mark.parametrize("function", [
    lambda labels: emlib.fit_gmm(X1, 2, labels=labels),
    lambda labels: gmm.e_step(X1, P1, labels=labels),
    lambda labels: gmm.log_likelihood(X1, P1, labels=labels),
    lambda labels: gmm.initial_params(X1, 2, "labels", labels=labels),
], ids=["fit_gmm", "e_step", "log_likelihood", "initial_params"])
def test_bad_labels_raise(function, labels, message):
    with pytest.raises(ValueError, match=message):
        function(labels)


def test_whole_number_float_labels_are_accepted():
    result = emlib.fit_gmm(X1, 2, labels=[0.0, 0.0, -1.0, -1.0, 1.0, 1.0])
    assert np.all(result.expectations[[0, 1], 0] == 1.0)
    assert np.all(result.expectations[[4, 5], 1] == 1.0)


# ---------------------------------------------------------------------------
# GaussianMixtureParams
# ---------------------------------------------------------------------------

BAD_PARAMS = {
    "zero weight": (([0.0, 1.0], [0.0, 1.0], [1.0, 1.0]), "weights must be positive; component 1 "),
    "negative weight": (([1.5, -0.5], [0.0, 1.0], [1.0, 1.0]), "weights must be positive; component 2 "),
    "weights sum to 0.9": (([0.4, 0.5], [0.0, 1.0], [1.0, 1.0]), "must sum to 1"),
    "weights sum to 2": (([1.0, 1.0], [0.0, 1.0], [1.0, 1.0]), "must sum to 1"),
    "weights 2-D": (([[1.0]], [0.0], [1.0]), r"weights must have shape \(K,\)"),
    "no components": (([], [], []), r"K >= 1"),
    "nan mean": (([0.5, 0.5], [0.0, np.nan], [1.0, 1.0]), "means holds NaN"),
    "inf variance": (([0.5, 0.5], [0.0, 1.0], [1.0, np.inf]), "covariances holds NaN"),
    "text": (([0.5, 0.5], ["a", "b"], [1.0, 1.0]), "means must be an array of numbers"),
    "zero variance": (([0.5, 0.5], [0.0, 1.0], [1.0, 0.0]), "variances must be positive; component 2 "),
    "negative variance": (([0.5, 0.5], [0.0, 1.0], [-1.0, 1.0]), "variances must be positive; component 1 "),
    "means K mismatch": (([0.5, 0.5], [0.0, 1.0, 2.0], [1.0, 1.0]), r"shape \(2,\)"),
    "variances K mismatch": (([0.5, 0.5], [0.0, 1.0], [1.0]), r"shape \(2,\)"),
    "1-D means, 2-D covariances": (([1.0], [0.0], [[[1.0]]]), r"shape \(1,\)"),
    "2-D means, variances": (([1.0], [[0.0, 0.0]], [1.0]), r"covariances must have shape \(1, 2, 2\)"),
    "means rows mismatch": (([0.5, 0.5], [[0.0, 0.0]], [np.eye(2)] * 2), r"one row per component"),
    "3-D means": (([1.0], [[[0.0]]], [1.0]), r"one row per component"),
    "covariance wrong d": (([1.0], [[0.0, 0.0]], [np.eye(3)]), r"\(1, 2, 2\)"),
    "non-symmetric": (([1.0], [[0.0, 0.0]], [[[1.0, 0.5], [0.0, 1.0]]]),
                      "the covariance of component 1 is not symmetric"),
    "indefinite": (([0.5, 0.5], [[0.0, 0.0]] * 2, [np.eye(2), [[1.0, 2.0], [2.0, 1.0]]]),
                   "the covariance of component 2 is not positive definite"),
    "singular": (([1.0], [[0.0, 0.0]], [[[1.0, 1.0], [1.0, 1.0]]]), "not positive definite"),
    "zero matrix": (([1.0], [[0.0, 0.0]], [np.zeros((2, 2))]), "not positive definite"),
}


@pytest.mark.parametrize("arguments, message", BAD_PARAMS.values(), ids=BAD_PARAMS.keys())
def test_bad_params_raise(arguments, message):
    with pytest.raises(ValueError, match=message):
        gmm.GaussianMixtureParams(*arguments)


# ---------------------------------------------------------------------------
# the M-step's responsibilities
# ---------------------------------------------------------------------------

BAD_RESPONSIBILITIES = {
    "rows do not sum to 1": (np.full((6, 2), 0.4), "sum to 0.8"),
    "negative": (np.array([[1.2, -0.2]] + [[0.5, 0.5]] * 5), "between 0 and 1"),
    "nan": (np.array([[np.nan, 0.5]] + [[0.5, 0.5]] * 5), "between 0 and 1"),
    "wrong number of rows": (np.full((5, 2), 0.5), r"\(6, K\)"),
    "1-D": (np.full(6, 1.0), r"\(6, K\)"),
    "no columns": (np.zeros((6, 0)), r"\(6, K\)"),
    "text": (np.full((6, 2), "a"), "array of numbers"),
}


@pytest.mark.parametrize("responsibilities, message", BAD_RESPONSIBILITIES.values(), ids=BAD_RESPONSIBILITIES.keys())
def test_bad_responsibilities_raise(responsibilities, message):
    with pytest.raises(ValueError, match=message):
        gmm.m_step(X1, responsibilities)


def test_m_step_of_an_empty_component_without_regularisation_reports_the_collapse():
    responsibilities = np.tile([1.0, 0.0], (6, 1))
    with pytest.raises(ValueError, match="component 2 collapsed to nothing"):  # column 1: counted from 1
        gmm.m_step(X1, responsibilities, reg_covar=0.0)


# ---------------------------------------------------------------------------
# sample
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("n_samples", [0, -3, 2.5, True, "10"])
def test_sample_with_bad_n_samples_raises(n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        gmm.sample(P1, n_samples, 0)


def test_sample_with_bad_rng_raises():
    with pytest.raises(ValueError, match="rng must be"):
        gmm.sample(P1, 5, "seed")


# ---------------------------------------------------------------------------
# k-means
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("n_clusters", [0, 1.5, True])
def test_kmeans_bad_n_clusters_raises(n_clusters):
    with pytest.raises(ValueError, match="n_clusters must be (a whole number >= 1|at least 1)"):
        kmeans.kmeans(X1, n_clusters)


def test_kmeans_more_clusters_than_points_raises():
    with pytest.raises(ValueError, match="fewer than n_clusters=7"):
        kmeans.kmeans(X1, 7)


@pytest.mark.parametrize("x, init", [
    (X1, [0.0, 1.0, 2.0]),          # K = 3 centres for n_clusters = 2
    (X1, [[0.0], [1.0]]),           # 2-D centres for 1-D data
    (X2, [0.0, 1.0]),               # 1-D centres for 2-D data
    (X2, [[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]]),
    (X1, [0.0, np.nan]),
])
def test_kmeans_bad_init_raises(x, init):
    with pytest.raises(ValueError, match="init must be finite centres of shape"):
        kmeans.kmeans(x, 2, init=init)


def test_kmeans_bad_rng_raises():
    with pytest.raises(ValueError, match="rng must be"):
        kmeans.kmeans(X1, 2, rng="seed")


# ---------------------------------------------------------------------------
# the two coins
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("tosses", [[], ["HTX"], ["HHT", ""], ["hhtt"]])
def test_coins_bad_tosses_raise(tosses):
    with pytest.raises(ValueError, match='strings of "H" and "T"'):
        coins.fit_coins(tosses)


@pytest.mark.parametrize("theta0", [(0.0, 0.5), (0.5, 1.0), (1.2, 0.5), (0.5,), (0.3, 0.4, 0.5), (np.nan, 0.5)])
def test_coins_bad_theta_raises(theta0):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        coins.fit_coins(theta0=theta0)


@pytest.mark.parametrize("coin_labels", [("A", "B"), ("A", "B", "C", "A", "B")])
def test_coins_complete_data_mle_with_bad_coins_raises(coin_labels):
    with pytest.raises(ValueError, match='"A" or "B" for every set'):
        coins.complete_data_mle(coins=coin_labels)


def test_coins_e_step_with_bad_theta_raises():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        coins.e_step(coins.head_counts(), (0.5, 1.5))


# ---------------------------------------------------------------------------
# genetic linkage
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("counts", [(125, 18, 20), (125, -18, 20, 34), (0, 0, 0, 0), (125, 18, np.nan, 34)])
def test_linkage_bad_counts_raise(counts):
    with pytest.raises(ValueError, match="counts must be four non-negative numbers"):
        linkage.fit_linkage(counts)
    with pytest.raises(ValueError, match="counts must be four non-negative numbers"):
        linkage.mle(counts)


@pytest.mark.parametrize("theta0", [0.0, 1.0, -0.5, np.nan, np.inf])
def test_linkage_bad_theta_raises(theta0):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        linkage.fit_linkage(theta0=theta0)


def test_linkage_non_numeric_theta_raises_value_error():
    with pytest.raises(ValueError, match="theta"):
        linkage.fit_linkage(theta0="0.5")


# ---------------------------------------------------------------------------
# the engine's settings, through the classic models
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fit", [coins.fit_coins, linkage.fit_linkage,
                                 lambda **kw: kmeans.kmeans(X1, 2, rng=0, **kw)],
                         ids=["coins", "linkage", "kmeans"])
@pytest.mark.parametrize("setting, value", [("tol", -1.0), ("max_iter", -1)])
def test_bad_loop_settings_in_classic_models_raise(fit, setting, value):
    with pytest.raises(ValueError, match=setting):
        fit(**{setting: value})
