"""Automatic checks for the coding exercises of the course (one per exercise).

A student writes a function in a chapter's exercise and passes it to its check, e.g.
``emlib.checks.check_log_sum_exp(log_sum_exp)``. The check calls the function on a few
inputs, compares with a reference computed here independently (never the solution's
code), and either prints what passed or raises :class:`CheckFailed` saying in plain
words what is wrong. A stub that still raises ``NotImplementedError`` is let through
unchanged, so nbgrader scores it as unanswered.
"""
import numpy as np

from .gmm import GaussianMixtureParams

__all__ = ["CheckFailed", "CHECKS"]


class CheckFailed(AssertionError):
    """A student's function gave a wrong answer; the message says which and why."""


CHECKS = {}  # exercise label -> check function


def _check(label):
    def register(function):
        CHECKS[label] = function
        function.exercise = label
        return function
    return register


def _passed(name, n_cases):
    print(f"✓ {name}: all {n_cases} checks passed.")


def _as_array(value, what):
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} returned {type(value).__name__}, not numbers.") from None


def _expect_close(what, got, expected, *, rtol=1e-9, atol=1e-12, hint=""):
    """Raise CheckFailed unless ``got`` has the expected shape and values."""
    got_array = _as_array(got, what)
    expected = np.asarray(expected, dtype=float)
    if got_array.shape != expected.shape:
        raise CheckFailed(f"{what} has shape {got_array.shape}; expected shape {expected.shape}. {hint}".strip())
    if np.any(np.isnan(got_array)):
        where = np.argwhere(np.isnan(got_array))[0].tolist() if got_array.ndim else []
        raise CheckFailed(f"{what} contains NaN (at index {where}). {hint}".strip())
    if not np.allclose(got_array, expected, rtol=rtol, atol=atol):
        if got_array.ndim == 0:
            detail = f"got {float(got_array):.6g}, expected {float(expected):.6g}"
        else:
            index = np.unravel_index(np.argmax(np.abs(got_array - expected)), expected.shape)
            detail = (f"at index {list(map(int, index))} got {got_array[index]:.6g}, "
                      f"expected {expected[index]:.6g}")
        raise CheckFailed(f"{what}: {detail}. {hint}".strip())


def _expect_unchanged(what, before, after):
    if not np.array_equal(before, after):
        raise CheckFailed(f"{what} changed its input array; work on a copy (e.g. array.copy()).")


def _random_mixture_1d(rng, n_components):
    weights = rng.dirichlet(np.full(n_components, 3.0))
    means = np.sort(rng.normal(170, 10, n_components))
    variances = rng.uniform(20, 90, n_components)
    return GaussianMixtureParams(weights, means, variances)


def _normal_pdf(x, mean, variance):
    return np.exp(-((x - mean) ** 2) / (2 * variance)) / np.sqrt(2 * np.pi * variance)


# ---------------------------------------------------------------------------
# chapter 1
# ---------------------------------------------------------------------------

@_check("ch1-ex2")
def check_threshold_accuracy(threshold_accuracy):
    """Check ``threshold_accuracy(heights, genders, t)``: the share of pupils that
    "male if taller than t, else female" gets right."""
    heights = np.array([150.0, 160.0, 170.0, 170.0, 180.0, 190.0])
    genders = np.array(["female", "female", "female", "female", "male", "male"])
    cases = [(165.0, 4 / 6), (170.0, 6 / 6), (175.0, 6 / 6), (100.0, 2 / 6), (200.0, 4 / 6)]
    for t, expected in cases:
        got = threshold_accuracy(heights.copy(), genders.copy(), t)
        _expect_close(f"threshold_accuracy(heights, genders, t={t})", got, expected,
                      hint="Return the share (between 0 and 1) of pupils whose guess is right; a pupil "
                           "exactly at the threshold is guessed female (only taller than t is male).")
    _passed("threshold_accuracy", len(cases))


# ---------------------------------------------------------------------------
# chapter 2
# ---------------------------------------------------------------------------

@_check("ch2-ex1")
def check_mixture_density_1d(mixture_density_1d):
    """Check ``mixture_density_1d(x, weights, means, variances)`` = Σ_k π_k N(x | μ_k, σ_k²)."""
    rng = np.random.default_rng(1)
    n_cases = 0
    for n_components in (1, 2, 3):
        params = _random_mixture_1d(rng, n_components)
        x = np.linspace(130, 210, 9)
        expected = sum(w * _normal_pdf(x, m, v) for w, m, v in zip(params.weights, params.means, params.covariances))
        got = mixture_density_1d(x.copy(), params.weights.copy(), params.means.copy(), params.covariances.copy())
        _expect_close(f"mixture_density_1d with {n_components} component(s)", got, expected, rtol=1e-10,
                      hint="Sum over components of weight × normal density; the variance is σ², "
                           "so the density's normaliser is sqrt(2π σ²).")
        n_cases += 1
    _passed("mixture_density_1d", n_cases)


@_check("ch2-ex3")
def check_complete_data_estimates(complete_data_estimates):
    """Check ``complete_data_estimates(x, z, n_components)`` -> (weights, means, variances),
    the maximum-likelihood estimates when every point's component is known."""
    x = np.array([150.0, 160.0, 155.0, 180.0, 175.0, 185.0, 170.0])
    z = np.array([0, 0, 0, 1, 1, 1, 1])
    expected = ([3 / 7, 4 / 7], [155.0, 177.5], [50 / 3, 31.25])
    x_before, z_before = x.copy(), z.copy()
    got = complete_data_estimates(x, z, 2)
    _expect_unchanged("complete_data_estimates", x_before, x)
    _expect_unchanged("complete_data_estimates", z_before, z)
    if not isinstance(got, tuple) or len(got) != 3:
        raise CheckFailed("complete_data_estimates must return a tuple (weights, means, variances).")
    hints = ("weights: the share of points in each class (count / n).",
             "means: the average of each class's points.",
             "variances: the average squared deviation from the class mean (divide by n_k, not n_k - 1).")
    for name, value, reference, hint in zip(("weights", "means", "variances"), got, expected, hints):
        _expect_close(f"the {name}", value, reference, hint=hint)
    _passed("complete_data_estimates", 3)


# ---------------------------------------------------------------------------
# chapter 3
# ---------------------------------------------------------------------------

@_check("ch3-ex1")
def check_log_sum_exp(log_sum_exp):
    """Check ``log_sum_exp(values)`` = log Σ exp(values), without overflow or underflow."""
    cases = [
        ([0.0, 0.0], np.log(2.0), "two zeros"),
        ([1.0, 2.0, 3.0], np.log(np.e + np.e**2 + np.e**3), "small values"),
        ([-1000.0, -1000.0], -1000.0 + np.log(2.0), "very negative values (naive exp underflows to 0)"),
        ([1000.0, 1000.0], 1000.0 + np.log(2.0), "very large values (naive exp overflows to inf)"),
        ([0.0, -np.inf], 0.0, "a -inf entry (a component with zero probability)"),
        ([-3.5], -3.5, "a single value"),
    ]
    for values, expected, what in cases:
        got = log_sum_exp(np.array(values))
        _expect_close(f"log_sum_exp on {what} {values}", got, expected, rtol=1e-12,
                      hint="Subtract the largest value m first: log Σ exp(v) = m + log Σ exp(v - m).")
    _passed("log_sum_exp", len(cases))


@_check("ch3-ex2")
def check_responsibilities(responsibilities):
    """Check ``responsibilities(x, params)``: p(z = k | x, θ) for 1-D data, shape (n, K)."""
    rng = np.random.default_rng(3)
    n_cases = 0
    for n_components in (2, 3):
        params = _random_mixture_1d(rng, n_components)
        x = rng.normal(170, 12, 25)
        joint = np.stack([w * _normal_pdf(x, m, v) for w, m, v in
                          zip(params.weights, params.means, params.covariances)], axis=1)
        expected = joint / joint.sum(axis=1, keepdims=True)
        got = responsibilities(x.copy(), params)
        _expect_close(f"responsibilities with {n_components} components", got, expected, rtol=1e-9, atol=1e-12,
                      hint="Row i is π_k N(x_i | μ_k, σ_k²) divided by its sum over k.")
        n_cases += 1
    params = GaussianMixtureParams([0.5, 0.5], [150.0, 190.0], [80.0, 80.0])
    far = responsibilities(np.array([1680.0, -500.0]), params)
    far = _as_array(far, "responsibilities")
    if far.shape != (2, 2) or not np.all(np.isfinite(far)):
        raise CheckFailed("responsibilities for heights far from every component (1680, -500) are not finite: "
                          "compute them in log space with log-sum-exp, so nothing underflows to 0/0.")
    _expect_close("responsibilities for heights 1680 and -500", far, [[0.0, 1.0], [1.0, 0.0]], atol=1e-9,
                  hint="A height far above both means belongs to the taller component.")
    _passed("responsibilities", n_cases + 1)


@_check("ch3-ex3")
def check_m_step_weights(m_step_weights):
    """Check ``m_step_weights(responsibilities)`` -> π_k = N_k / n, shape (K,)."""
    r = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [1.0, 0.0]])
    before = r.copy()
    got = m_step_weights(r)
    _expect_unchanged("m_step_weights", before, r)
    _expect_close("m_step_weights", got, [2.6 / 4, 1.4 / 4],
                  hint="Sum each column (N_k, the expected number of points in component k) and divide by n.")
    rng = np.random.default_rng(4)
    r = rng.dirichlet(np.ones(3), size=50)
    _expect_close("m_step_weights on random responsibilities", m_step_weights(r), r.mean(axis=0))
    _passed("m_step_weights", 2)


# ---------------------------------------------------------------------------
# chapter 5
# ---------------------------------------------------------------------------

@_check("ch5-ex1")
def check_semi_supervised_responsibilities(semi_supervised_responsibilities):
    """Check ``semi_supervised_responsibilities(responsibilities, labels)``: one-hot rows for
    labelled points, other rows unchanged, input unchanged."""
    r = np.array([[0.7, 0.3], [0.4, 0.6], [0.5, 0.5], [0.1, 0.9]])
    labels = np.array([1, -1, 0, -1])
    r_before, labels_before = r.copy(), labels.copy()
    got = semi_supervised_responsibilities(r, labels)
    _expect_unchanged("semi_supervised_responsibilities", r_before, r)
    _expect_unchanged("semi_supervised_responsibilities", labels_before, labels)
    expected = np.array([[0.0, 1.0], [0.4, 0.6], [1.0, 0.0], [0.1, 0.9]])
    _expect_close("semi_supervised_responsibilities", got, expected,
                  hint="A labelled row becomes 1 at its label and 0 elsewhere; a row with label -1 stays as it was.")
    _passed("semi_supervised_responsibilities", 3)


@_check("ch5-ex2")
def check_accuracy(accuracy):
    """Check ``accuracy(posterior_female, truth)``: the share right when guessing female
    where p(female) > 0.5."""
    posterior = np.array([0.9, 0.2, 0.5, 0.51, 0.05])
    truth = np.array(["female", "female", "male", "female", "male"])
    got = accuracy(posterior, truth)
    _expect_close("accuracy", got, 4 / 5,
                  hint="Guess 'female' where the probability is above 0.5 (0.5 itself is 'male'), "
                       "then return the share of guesses equal to the truth, between 0 and 1.")
    _passed("accuracy", 1)


@_check("ch5-ex3")
def check_bayes_accuracy(bayes_accuracy):
    """Check ``bayes_accuracy(params, grid)`` = ∫ max_k π_k N(x | μ_k, σ_k²) dx on the grid."""
    grid = np.linspace(100, 240, 14001)
    cases = [
        (GaussianMixtureParams([0.5, 0.5], [160.0, 176.0], [64.0, 64.0]), _two_equal_gaussians_accuracy(8.0, 8.0)),
        (GaussianMixtureParams([0.5, 0.5], [130.0, 210.0], [1.0, 1.0]), 1.0),  # no overlap: always right
    ]
    for params, expected in cases:
        got = bayes_accuracy(params, grid)
        _expect_close(f"bayes_accuracy for means {params.means.tolist()}", got, expected, rtol=1e-4,
                      hint="Integrate, over the grid, the larger of the weighted densities π_k N(x | k) "
                           "(e.g. with np.trapezoid).")
    _passed("bayes_accuracy", len(cases))


def _two_equal_gaussians_accuracy(half_gap, sd):
    """Φ(d / (2σ)) for two equally weighted normals with equal σ whose means are d apart."""
    from math import erf, sqrt
    return 0.5 * (1 + erf(half_gap / sd / sqrt(2)))


# ---------------------------------------------------------------------------
# chapter 4
# ---------------------------------------------------------------------------

@_check("ch4-ex2")
def check_means_only_m_step(means_only_m_step):
    """Check ``means_only_m_step(x, responsibilities, params)``: a GaussianMixtureParams with
    the weights and variances of ``params`` and the means Σ_i γ_ik x_i / Σ_i γ_ik."""
    x = np.array([150.0, 160.0, 170.0, 180.0])
    r = np.array([[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]])
    params = GaussianMixtureParams([0.3, 0.7], [155.0, 175.0], [40.0, 50.0])
    got = means_only_m_step(x.copy(), r.copy(), params)
    if not isinstance(got, GaussianMixtureParams):
        raise CheckFailed("means_only_m_step must return a GaussianMixtureParams "
                          "(emlib.GaussianMixtureParams(weights, means, variances)).")
    _expect_close("the means", got.means, [(150 + 120 + 42.5) / 2.0, (40 + 127.5 + 180) / 2.0],
                  hint="Each mean is the responsibility-weighted average of x: (r[:, k] @ x) / r[:, k].sum().")
    _expect_close("the weights", got.weights, params.weights, hint="Keep the weights of params unchanged.")
    _expect_close("the variances", got.covariances, params.covariances, hint="Keep the variances of params unchanged.")
    _passed("means_only_m_step", 3)


@_check("ch4-ex3")
def check_symmetric_fixed_point(symmetric_fixed_point):
    """Check ``symmetric_fixed_point(x, n_components)``: equal weights, every mean the data's
    mean, every variance the data's variance (divided by n)."""
    x = np.array([150.0, 152.0, 160.0, 171.0, 183.0, 190.0])
    for n_components in (2, 3):
        got = symmetric_fixed_point(x.copy(), n_components)
        if not isinstance(got, GaussianMixtureParams):
            raise CheckFailed("symmetric_fixed_point must return a GaussianMixtureParams.")
        _expect_close(f"the weights for K={n_components}", got.weights, np.full(n_components, 1 / n_components))
        _expect_close(f"the means for K={n_components}", got.means, np.full(n_components, np.sum(x) / len(x)),
                      hint="Every component sits at the data's mean.")
        _expect_close(f"the variances for K={n_components}", got.covariances,
                      np.full(n_components, np.sum((x - np.sum(x) / len(x)) ** 2) / len(x)),
                      hint="Every variance is the data's variance, dividing by n (not n - 1).")
    _passed("symmetric_fixed_point", 2)


# ---------------------------------------------------------------------------
# chapter 6
# ---------------------------------------------------------------------------

@_check("ch6-ex1")
def check_covariance_m_step(covariance_m_step):
    """Check ``covariance_m_step(x, responsibilities_k)``: the weighted covariance (d, d) of one
    component, Σ_i γ_i (x_i - μ)(x_i - μ)ᵀ / Σ_i γ_i with μ the weighted mean."""
    x = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [2.0, 4.0]])
    gamma = np.array([1.0, 1.0, 0.5, 0.5])
    mean = gamma @ x / gamma.sum()
    expected = sum(g * np.outer(row - mean, row - mean) for g, row in zip(gamma, x)) / gamma.sum()
    x_before = x.copy()
    got = covariance_m_step(x, gamma)
    _expect_unchanged("covariance_m_step", x_before, x)
    _expect_close("covariance_m_step", got, expected,
                  hint="Centre on the weighted mean, weight each outer product by γ_i, divide by Σ γ_i (not by n).")
    _passed("covariance_m_step", 1)


@_check("ch6-ex2")
def check_bic(bic):
    """Check ``bic(log_likelihood, n_params, n)`` = -2 log-likelihood + n_params log n."""
    cases = [(-100.0, 5, 50), (-1130.26, 11, 272), (0.0, 1, 1)]
    for log_likelihood, n_params, n in cases:
        _expect_close(f"bic({log_likelihood}, {n_params}, {n})", bic(log_likelihood, n_params, n),
                      -2 * log_likelihood + n_params * np.log(n),
                      hint="BIC = -2 × log-likelihood + (number of parameters) × log(n), natural log.")
    _passed("bic", len(cases))


@_check("ch6-ex3")
def check_coin_e_step(coin_e_step):
    """Check ``coin_e_step(heads, tosses, theta_a, theta_b, prior_a=0.5)``: p(coin A | set)."""
    heads, tosses = np.array([5, 9, 8, 4, 7]), np.array([10, 10, 10, 10, 10])
    cases = [(0.6, 0.5, 0.5), (0.6, 0.5, 0.8), (0.8, 0.45, 0.3)]
    for theta_a, theta_b, prior_a in cases:
        like_a = prior_a * theta_a**heads * (1 - theta_a) ** (tosses - heads)
        like_b = (1 - prior_a) * theta_b**heads * (1 - theta_b) ** (tosses - heads)
        got = coin_e_step(heads.copy(), tosses.copy(), theta_a, theta_b, prior_a=prior_a)
        _expect_close(f"coin_e_step with θ_A={theta_a}, θ_B={theta_b}, prior_a={prior_a}", got,
                      like_a / (like_a + like_b),
                      hint="p(A | set) = prior_a·θ_A^h(1-θ_A)^(t-h) / (that + (1-prior_a)·θ_B^h(1-θ_B)^(t-h)).")
    _passed("coin_e_step", len(cases))


# ---------------------------------------------------------------------------
# chapter 7
# ---------------------------------------------------------------------------

@_check("ch7-ex2")
def check_map_m_step_weights(map_m_step_weights):
    """Check ``map_m_step_weights(responsibilities, alpha)`` = (N_k + α - 1) / Σ_j (N_j + α - 1)."""
    r = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    totals = r.sum(axis=0)
    before = r.copy()
    for alpha in (1.0, 2.0, 5.0):
        got = map_m_step_weights(r, alpha)
        _expect_unchanged("map_m_step_weights", before, r)
        _expect_close(f"map_m_step_weights with alpha={alpha}", got,
                      (totals + alpha - 1) / (totals + alpha - 1).sum(),
                      hint="Add α - 1 to every expected count N_k, then normalise so the weights sum to 1.")
    _passed("map_m_step_weights", 3)


@_check("ch7-ex3")
def check_incremental_mean_update(incremental_mean_update):
    """Check ``incremental_mean_update(mean, new_value, count)`` = mean + (new - mean) / count."""
    values = np.array([3.0, 7.0, 2.0, 10.0])
    mean = 0.0
    for count, value in enumerate(values, start=1):
        mean = incremental_mean_update(mean, value, count)
        _expect_close(f"the mean after {count} value(s)", mean, values[:count].sum() / count,
                      hint="count includes the new value: mean + (new_value - mean) / count.")
    vector = incremental_mean_update(np.array([1.0, 2.0]), np.array([3.0, 6.0]), 2)
    _expect_close("incremental_mean_update on arrays", vector, [2.0, 4.0])
    _passed("incremental_mean_update", len(values) + 1)
