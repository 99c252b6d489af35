"""Semi-supervised EM (chapter 5): labelled rows keep their class; the likelihood is that of
the observed data, log π_z + log N(x|z) for a labelled row and log Σ_k π_k N(x|k) for the rest."""
import warnings

import numpy as np
import pytest
from scipy import special, stats

import emlib
from emlib import gmm
from synthetic import component_logpdfs, mixture_data


def labelled_problem(seed, n=150, k=2, dimension=0, missing_fraction=0.4):
    rng = np.random.default_rng(seed)
    x, z, _ = mixture_data(rng, n, k, dimension, separation=2.5)
    labels = np.where(rng.random(n) < missing_fraction, -1, z)
    for component in range(k):  # every class keeps at least one labelled point
        labels[np.flatnonzero(z == component)[0]] = component
    return x, z, labels


# ---------------------------------------------------------------------------
# every label known: the per-class maximum-likelihood estimate
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dimension", [0, 2])
def test_with_every_label_known_the_fit_is_the_per_class_mle(dimension):
    rng = np.random.default_rng(41)
    x, z, _ = mixture_data(rng, 120, 3, dimension)
    result = emlib.fit_gmm(x, 3, labels=z, reg_covar=0.0)
    params = result.params
    for k in range(3):
        members = x[z == k]
        assert params.weights[k] == pytest.approx(len(members) / len(x), rel=1e-12)
        np.testing.assert_allclose(params.means[k], members.mean(axis=0), rtol=1e-12, atol=1e-12)
        expected_covariance = members.var() if dimension == 0 else np.cov(members.T, bias=True)
        np.testing.assert_allclose(params.covariances[k], expected_covariance, rtol=1e-12)
    assert result.converged


def test_with_every_label_known_the_log_likelihood_is_the_complete_data_one():
    rng = np.random.default_rng(42)
    x, z, _ = mixture_data(rng, 80, 2, 0)
    result = emlib.fit_gmm(x, 2, labels=z, reg_covar=0.0)
    params = result.params
    expected = sum(np.log(params.weights[z[i]]) + stats.norm.logpdf(x[i], params.means[z[i]],
                                                                     np.sqrt(params.covariances[z[i]]))
                   for i in range(len(x)))
    assert result.log_likelihood == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------------------
# labelled rows stay what they are
# ---------------------------------------------------------------------------

def test_labelled_rows_keep_one_hot_responsibilities_at_every_iterate():
    x, _, labels = labelled_problem(43)
    labelled = labels >= 0
    iterates = []
    result = emlib.fit_gmm(x, 2, labels=labels, tol=0.0, max_iter=30)
    for params, _ in result.trace:
        responsibilities, _ = gmm.e_step(x, params, labels=labels)
        iterates.append(responsibilities)
        expected = np.eye(2)[labels[labelled]]
        assert np.array_equal(responsibilities[labelled], expected)
    assert np.array_equal(result.expectations[labelled], np.eye(2)[labels[labelled]])
    assert len(iterates) == result.n_iter + 1


def test_labelled_rows_never_change_class_even_against_the_data():
    """Give a point in the middle of class 1 the label 0: it stays class 0."""
    rng = np.random.default_rng(44)
    x = np.concatenate([rng.normal(0, 1, 50), rng.normal(10, 1, 50)])
    labels = np.r_[np.zeros(50, int), np.ones(50, int)]
    labels[10:50] = -1
    labels[60:100] = -1
    labels[55] = 0  # a point near 10, labelled as the class near 0
    result = emlib.fit_gmm(x, 2, labels=labels)
    assert result.expectations[55, 0] == 1.0 and result.expectations[55, 1] == 0.0
    # unlabelled points near 10 still go to class 1
    assert np.all(result.expectations[60:100, 1] > 0.99)


def test_unlabelled_rows_get_the_posterior_of_the_fitted_mixture():
    x, _, labels = labelled_problem(45)
    result = emlib.fit_gmm(x, 2, labels=labels)
    params = result.params
    unlabelled = labels < 0
    joint = params.weights * np.column_stack([stats.norm.pdf(x, m, np.sqrt(v))
                                              for m, v in zip(params.means, params.covariances)])
    expected = joint / joint.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(result.expectations[unlabelled], expected[unlabelled], rtol=1e-10, atol=1e-300)


# ---------------------------------------------------------------------------
# the semi-supervised log-likelihood
# ---------------------------------------------------------------------------

def semi_supervised_log_likelihood(x, labels, params):
    """Σ over labelled rows of log π_z + log N(x|z) + Σ over the rest of log Σ_k π_k N(x|k), by scipy."""
    log_joint = np.log(params.weights) + component_logpdfs(x, params.means, params.covariances)
    labelled = labels >= 0
    known = log_joint[np.flatnonzero(labelled), labels[labelled]].sum()
    unknown = special.logsumexp(log_joint[~labelled], axis=1).sum()
    return float(known + unknown)


@pytest.mark.parametrize("dimension", [0, 2])
def test_log_likelihood_with_labels_is_that_of_the_observed_data(dimension):
    x, _, labels = labelled_problem(46, k=3, dimension=dimension)
    params = emlib.fit_gmm(x, 3, labels=labels, max_iter=3).params
    expected = semi_supervised_log_likelihood(x, labels, params)
    assert gmm.log_likelihood(x, params, labels=labels) == pytest.approx(expected, rel=1e-12)
    assert gmm.e_step(x, params, labels=labels)[1] == pytest.approx(expected, rel=1e-12)


def test_fit_reports_the_semi_supervised_log_likelihood_of_every_iterate():
    x, _, labels = labelled_problem(47)
    result = emlib.fit_gmm(x, 2, labels=labels, tol=0.0, max_iter=10)
    for params, log_likelihood in result.trace:
        assert log_likelihood == pytest.approx(semi_supervised_log_likelihood(x, labels, params), rel=1e-12)


def test_all_labels_missing_is_ordinary_em():
    x, _, _ = labelled_problem(48)
    params0 = gmm.GaussianMixtureParams([0.5, 0.5], [x.min(), x.max()], [x.var(), x.var()])
    with_labels = emlib.fit_gmm(x, 2, labels=np.full(len(x), -1), init=params0)
    without = emlib.fit_gmm(x, 2, init=params0)
    assert with_labels.log_likelihoods == without.log_likelihoods
    assert np.array_equal(with_labels.params.means, without.params.means)


# ---------------------------------------------------------------------------
# monotone, and Edmond's register
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed, dimension", [(49, 0), (50, 2), (51, 0)])
def test_log_likelihood_with_labels_never_decreases(seed, dimension):
    x, _, labels = labelled_problem(seed, k=3, dimension=dimension)
    with warnings.catch_warnings():
        warnings.simplefilter("error", emlib.LikelihoodDecreaseWarning)
        result = emlib.fit_gmm(x, 3, labels=labels, reg_covar=0.0, max_iter=300)
    log_likelihoods = np.array(result.log_likelihoods)
    assert np.all(np.diff(log_likelihoods) >= -1e-9 * np.abs(log_likelihoods[:-1]))


@pytest.fixture(scope="module")
def register_fit():
    register = emlib.datasets.load_register()
    result = emlib.fit_gmm(register["height_cm"], 2, labels=register["label"])
    return register, result


def test_register_fit_converges(register_fit):
    _, result = register_fit
    assert result.converged
    assert np.all(np.diff(result.log_likelihoods) >= 0)


def test_register_fit_keeps_the_recorded_genders(register_fit):
    register, result = register_fit
    recorded = register["label"] >= 0
    assert np.array_equal(result.expectations[recorded], np.eye(2)[register["label"][recorded]])


def test_register_posterior_recovers_most_missing_genders(register_fit):
    register, result = register_fit
    truth = emlib.datasets.load_register_truth()
    missing = register["label"] == -1
    guessed = np.array(emlib.datasets.GENDERS)[result.expectations[missing].argmax(axis=1)]
    accuracy = np.mean(guessed == truth[missing])
    majority = max(np.mean(truth[missing] == g) for g in emlib.datasets.GENDERS)
    assert accuracy > 0.70
    assert accuracy > majority


def test_register_boys_are_taller_on_average(register_fit):
    _, result = register_fit
    female, male = emlib.datasets.GENDERS.index("female"), emlib.datasets.GENDERS.index("male")
    assert result.params.means[male] > result.params.means[female]
