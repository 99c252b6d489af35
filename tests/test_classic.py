"""The classic examples on emlib's engine, checked against the numbers their papers print.

* Do & Batzoglou (2008), "What is the expectation maximization algorithm?",
  Nature Biotechnology 26:897-899, Figure 1: the two coins.
* Dempster, Laird & Rubin (1977), "Maximum likelihood from incomplete data via the EM
  algorithm", JRSS B 39:1-38, section 1 and Table 1: genetic linkage.
* k-means (Lloyd) as hard EM, against scikit-learn's KMeans.
"""
import numpy as np
import pytest
from scipy import optimize
from sklearn.cluster import KMeans

from emlib import coins, kmeans, linkage

# ---------------------------------------------------------------------------
# the two coins (Do & Batzoglou 2008, Figure 1)
# ---------------------------------------------------------------------------


def test_coins_head_counts_are_those_of_the_figure():
    heads, n_tosses = coins.head_counts()
    assert heads.tolist() == [5, 9, 8, 4, 7]
    assert n_tosses.tolist() == [10] * 5


def test_coins_complete_data_mle_is_the_papers_panel_a():
    # coin A: 24 heads in 30 tosses, coin B: 9 heads in 20 tosses
    np.testing.assert_allclose(coins.complete_data_mle(), [0.80, 0.45], rtol=1e-12)


def test_coins_first_e_step_gives_the_papers_probabilities():
    responsibilities, _ = coins.e_step(coins.head_counts(), coins.PAPER_THETA0)
    np.testing.assert_allclose(responsibilities[:, 0], [0.45, 0.80, 0.73, 0.35, 0.65], atol=0.005)
    np.testing.assert_allclose(responsibilities.sum(axis=1), 1.0, rtol=1e-12)


def test_coins_first_e_step_gives_the_papers_expected_counts():
    heads, n_tosses = coins.head_counts()
    responsibilities, _ = coins.e_step((heads, n_tosses), coins.PAPER_THETA0)
    expected_heads = responsibilities.T @ heads
    expected_tails = responsibilities.T @ (n_tosses - heads)
    # the paper: coin A ≈ 21.3 H, 8.6 T; coin B ≈ 11.7 H, 8.4 T
    np.testing.assert_allclose(expected_heads, [21.3, 11.7], atol=0.05)
    np.testing.assert_allclose(expected_tails, [8.6, 8.4], atol=0.05)


def test_coins_after_one_iteration_match_the_paper():
    result = coins.fit_coins(tol=0.0, max_iter=1)
    assert result.n_iter == 1
    np.testing.assert_array_equal(np.round(result.params, 2), [0.71, 0.58])


def test_coins_after_ten_iterations_match_the_paper():
    result = coins.fit_coins(tol=0.0, max_iter=10)
    assert len(result.trace) == 11
    np.testing.assert_array_equal(np.round(result.params, 2), [0.80, 0.52])
    np.testing.assert_array_equal(np.round(result.trace[1][0], 2), [0.71, 0.58])


def coins_log_likelihood(theta):
    """log p(tosses | θ) with each coin picked with probability 1/2, written out directly."""
    heads, n_tosses = np.array([5, 9, 8, 4, 7]), np.full(5, 10)
    theta_a, theta_b = theta
    per_set = (0.5 * theta_a ** heads * (1 - theta_a) ** (n_tosses - heads)
               + 0.5 * theta_b ** heads * (1 - theta_b) ** (n_tosses - heads))
    return float(np.log(per_set).sum())


def test_coins_log_likelihood_is_the_direct_formula():
    for theta in [(0.6, 0.5), (0.2, 0.9), (0.71, 0.58)]:
        assert coins.log_likelihood(coins.head_counts(), theta) == pytest.approx(coins_log_likelihood(theta),
                                                                                 rel=1e-12)


def test_coins_log_likelihood_never_decreases():
    result = coins.fit_coins()
    assert result.converged
    assert np.all(np.diff(result.log_likelihoods) >= 0)


def test_coins_em_converges_to_a_maximum_of_the_likelihood():
    limit = coins.fit_coins(tol=0.0, max_iter=2000).params
    numerical = optimize.minimize(lambda theta: -coins_log_likelihood(theta), x0=coins.PAPER_THETA0,
                                  bounds=[(1e-6, 1 - 1e-6)] * 2, method="L-BFGS-B",
                                  options={"ftol": 1e-15, "gtol": 1e-12})
    np.testing.assert_allclose(limit, numerical.x, atol=1e-5)
    assert coins_log_likelihood(limit) >= -numerical.fun - 1e-10


# ---------------------------------------------------------------------------
# genetic linkage (Dempster, Laird & Rubin 1977, Table 1)
# ---------------------------------------------------------------------------

DLR_TABLE_1 = [0.500000000, 0.608247423, 0.624321051, 0.626488879, 0.626777323,
               0.626815632, 0.626820719, 0.626821395, 0.626821484]
DLR_THETA_STAR = 0.6268214980
Y = np.array([125, 18, 20, 34])


def exact_theta_star():
    """The positive root of 197 θ² - 15 θ - 68 = 0: the score equation
    y1/(2 + θ) - (y2 + y3)/(1 - θ) + y4/θ = 0 multiplied out."""
    n = Y.sum()
    b = Y[0] - 2 * (Y[1] + Y[2]) - Y[3]
    return (b + np.sqrt(b ** 2 + 8 * n * Y[3])) / (2 * n)


def linkage_log_likelihood(theta):
    probabilities = np.array([0.5 + theta / 4, (1 - theta) / 4, (1 - theta) / 4, theta / 4])
    return float(Y @ np.log(probabilities))


def em_limit():
    """Iterate emlib's E- and M-steps far past the point where the likelihood stops changing."""
    theta = linkage.PAPER_THETA0
    for _ in range(200):
        expected_x2, _ = linkage.e_step(linkage.PAPER_COUNTS, theta)
        theta = linkage.m_step(np.array(linkage.PAPER_COUNTS, dtype=float), expected_x2)
    return theta


def test_linkage_iterates_match_table_1():
    result = linkage.fit_linkage(tol=0.0, max_iter=8)
    iterates = [theta for theta, _ in result.trace]
    assert len(iterates) == 9
    # the paper's arithmetic differs from double precision by at most one unit of the 9th decimal
    np.testing.assert_allclose(iterates, DLR_TABLE_1, rtol=0, atol=2e-9)


def test_linkage_first_iterate_is_59_over_97():
    # E-step at θ = 1/2: x2 = 125 (1/8) / (5/8) = 25; M-step: (25 + 34) / (25 + 18 + 20 + 34)
    result = linkage.fit_linkage(tol=0.0, max_iter=1)
    assert result.params == pytest.approx(59 / 97, rel=1e-15)


def test_linkage_limit_is_the_papers_theta_star():
    assert em_limit() == pytest.approx(DLR_THETA_STAR, abs=1e-9)
    assert exact_theta_star() == pytest.approx(DLR_THETA_STAR, abs=1e-9)


def test_linkage_mle_is_the_papers_theta_star():
    assert linkage.mle() == pytest.approx(DLR_THETA_STAR, abs=1e-9)
    assert linkage.mle() == pytest.approx(exact_theta_star(), abs=1e-15)


def linkage_score(theta):
    """d/dθ of the log-likelihood: y1/(2 + θ) - (y2 + y3)/(1 - θ) + y4/θ."""
    return Y[0] / (2 + theta) - (Y[1] + Y[2]) / (1 - theta) + Y[3] / theta


def test_linkage_theta_star_is_the_numerical_maximiser_of_the_likelihood():
    # a minimiser of -log L is only good to ~sqrt(eps) in θ (the function is flat at its top),
    # so locate the top where the score changes sign, by bisection
    root = optimize.brentq(linkage_score, 0.01, 0.99, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    assert root == pytest.approx(DLR_THETA_STAR, abs=1e-9)
    assert em_limit() == pytest.approx(root, abs=1e-9)
    # a maximum: the likelihood is lower on both sides
    assert linkage_log_likelihood(root) > max(linkage_log_likelihood(root - 1e-4), linkage_log_likelihood(root + 1e-4))
    coarse = optimize.minimize_scalar(lambda theta: -linkage_log_likelihood(theta), bounds=(0.01, 0.99),
                                      method="bounded", options={"xatol": 1e-12})
    assert coarse.x == pytest.approx(root, abs=1e-7)


def test_linkage_fit_ends_close_to_theta_star():
    result = linkage.fit_linkage()
    assert result.converged
    # the log-likelihood cannot resolve θ much better than this: its change near θ* is
    # quadratic in θ - θ* and drowns in rounding below ~1e-14
    assert result.params == pytest.approx(DLR_THETA_STAR, abs=1e-8)


@pytest.mark.parametrize("p", [3, 4, 5])
def test_linkage_convergence_ratio_is_0_1328(p):
    theta = [theta for theta, _ in linkage.fit_linkage(tol=0.0, max_iter=8).trace]
    theta_star = exact_theta_star()
    ratio = (theta[p + 1] - theta_star) / (theta[p] - theta_star)
    assert round(ratio, 4) == 0.1328


def test_linkage_log_likelihood_is_the_multinomial_formula():
    for theta in (0.1, 0.5, 0.9):
        assert linkage.log_likelihood(linkage.PAPER_COUNTS, theta) == pytest.approx(linkage_log_likelihood(theta),
                                                                                   rel=1e-12)


def test_linkage_log_likelihood_never_decreases():
    result = linkage.fit_linkage(tol=0.0, max_iter=50)
    assert np.all(np.diff(result.log_likelihoods) >= -1e-12)
    assert np.all(np.diff(result.log_likelihoods)[:6] > 0)


# ---------------------------------------------------------------------------
# k-means as hard EM
# ---------------------------------------------------------------------------

def clustered_data(dimension, seed=61):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [5.0, 1.0], [1.0, 6.0], [6.0, 6.0]])[:, :dimension] if dimension else \
        np.array([0.0, 4.0, 9.0, 15.0])
    z = rng.integers(4, size=300)
    noise = rng.normal(scale=1.3, size=(300,) if dimension == 0 else (300, dimension))
    return centres[z] + noise


def sklearn_kmeans(x, init):
    x2 = x.reshape(len(x), -1)
    model = KMeans(n_clusters=len(init), init=np.reshape(init, (len(init), -1)), n_init=1,
                   algorithm="lloyd", tol=0.0, max_iter=300).fit(x2)
    return model


@pytest.mark.parametrize("dimension", [0, 2])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kmeans_agrees_with_sklearn_from_the_same_centres(dimension, seed):
    x = clustered_data(dimension)
    rng = np.random.default_rng(seed)
    init = x[rng.choice(len(x), size=4, replace=False)]
    result = kmeans.kmeans(x, 4, init=init)
    model = sklearn_kmeans(x, init)
    assert result.converged
    centres = np.reshape(result.params, (4, -1))
    np.testing.assert_allclose(centres, model.cluster_centers_, rtol=1e-10, atol=1e-10)
    assert np.array_equal(result.expectations, model.labels_)
    assert -result.log_likelihood == pytest.approx(model.inertia_, rel=1e-10)


def test_kmeans_objective_is_minus_the_within_cluster_sum_of_squares():
    x = clustered_data(2)
    result = kmeans.kmeans(x, 4, rng=0)
    centres = result.params
    squared = ((x[:, None, :] - centres[None]) ** 2).sum(axis=2)
    assert np.array_equal(result.expectations, squared.argmin(axis=1))
    assert result.log_likelihood == pytest.approx(-squared.min(axis=1).sum(), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_kmeans_objective_never_decreases(seed):
    x = clustered_data(2, seed=seed)
    result = kmeans.kmeans(x, 4, rng=seed)
    objectives = np.array(result.log_likelihoods)
    assert np.all(np.diff(objectives) >= -1e-12 * np.abs(objectives[:-1]))


EMPTY_CLUSTER_DATA = np.array([2.0, 2.5, 3.0, 4.0, 12.0, 12.5, 32.0])
EMPTY_CLUSTER_INIT = np.array([3.0, 12.0, 1000.0])  # nothing is nearest to 1000: cluster 2 starts empty


def test_kmeans_refills_an_empty_cluster_with_the_farthest_point_of_the_largest():
    result = kmeans.kmeans(EMPTY_CLUSTER_DATA, 3, init=EMPTY_CLUSTER_INIT, max_iter=1)
    # direct computation: clusters {2, 2.5, 3, 4} and {12, 12.5, 32}; the largest has mean
    # 2.875, and its point farthest from 2.875 is 4
    centres = result.trace[1][0]
    assert centres[0] == pytest.approx(11.5 / 4)
    assert centres[1] == pytest.approx(56.5 / 3)
    assert centres[2] == 4.0


def test_kmeans_with_an_empty_cluster_ends_with_every_cluster_used():
    result = kmeans.kmeans(EMPTY_CLUSTER_DATA, 3, init=EMPTY_CLUSTER_INIT)
    assert np.all(np.isfinite(result.params))
    assert set(result.expectations.tolist()) == {0, 1, 2}
    assert np.all(np.diff(result.log_likelihoods) >= 0)


def test_kmeans_plus_plus_seeds_are_distinct_data_points():
    x = clustered_data(2)
    seeds = kmeans.kmeans_plus_plus(x, 4, np.random.default_rng(7))
    assert seeds.shape == (4, 2)
    assert len({tuple(s) for s in seeds}) == 4
    assert all(any(np.array_equal(s, row) for row in x) for s in seeds)


def test_kmeans_plus_plus_copes_with_fewer_distinct_points_than_clusters():
    x = np.array([1.0, 1.0, 1.0, 2.0])
    seeds = kmeans.kmeans_plus_plus(x, 3, np.random.default_rng(0))
    assert seeds.shape == (3,)
    assert set(seeds.tolist()) == {1.0, 2.0}


def test_kmeans_is_reproducible():
    x = clustered_data(2)
    first, second = kmeans.kmeans(x, 4, rng=3), kmeans.kmeans(x, 4, rng=np.random.default_rng(3))
    assert np.array_equal(first.params, second.params)
    assert first.log_likelihoods == second.log_likelihoods


def test_complete_data_mle_refuses_a_coin_that_made_no_set():
    with pytest.raises(ValueError, match="at least one set"):
        coins.complete_data_mle(tosses=("HHT", "HTT"), coins=("A", "A"))
