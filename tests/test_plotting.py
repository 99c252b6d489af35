"""emlib.plotting draws what its docstrings say: the soft histogram's bars are the soft counts,
and the animation player needs no font and no network."""
import matplotlib

matplotlib.use("Agg")  # these tests only read the artists; the notebooks keep the inline backend

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import emlib  # noqa: E402
import emlib.plotting  # noqa: E402


def soft_histogram_bars(x, responsibilities, bins):
    figure, ax = plt.subplots()
    emlib.plotting.plot_soft_histogram(x, responsibilities, ax=ax, bins=bins)
    bars = [np.array([patch.get_height() for patch in container]) for container in ax.containers]
    plt.close(figure)
    return bars


def test_the_soft_histogram_splits_every_bar_by_the_responsibilities():
    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(0, 1, 200), rng.normal(4, 1, 100)]
    params = emlib.GaussianMixtureParams([0.6, 0.4], [0.0, 4.0], [1.0, 1.0])
    responsibilities = emlib.gmm.predict_proba(x, params)
    bins = np.linspace(-4, 8, 25)
    bars = soft_histogram_bars(x, responsibilities, bins)
    assert len(bars) == 2
    counts, _ = np.histogram(x, bins=bins)
    np.testing.assert_allclose(bars[0] + bars[1], counts, atol=1e-9)      # the bar is the plain count
    for k in range(2):                                                    # each colour is Σ γ_ik
        np.testing.assert_allclose(bars[k].sum(), responsibilities[:, k].sum(), rtol=1e-12)
    left_bar = np.searchsorted(bins, -1.0) - 1
    assert bars[0][left_bar] > 0.99 * counts[left_bar]                    # far left: component 1


def test_the_soft_histogram_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="responsibilities"):
        emlib.plotting.plot_soft_histogram(np.arange(5.0), np.full((4, 2), 0.5))


def test_the_animation_player_draws_its_controls_without_a_font_or_a_network():
    rng = np.random.default_rng(4)
    x = np.r_[rng.normal(0, 1, 50), rng.normal(5, 1, 50)]
    fit = emlib.fit_gmm(x, 2, rng=0, max_iter=3)
    html = emlib.plotting.animation_html(emlib.plotting.animate_em_1d(x, fit.trace, max_frames=3), alt="test")
    assert "font-awesome" not in html and 'class="fa ' not in html
    assert html.count("<svg") == 9, "every one of the player's nine buttons should be an inline SVG icon"
    assert not any(symbol in html for symbol in "⏮⏴⏸⏵⏭▶◀")
