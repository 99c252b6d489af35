"""The figures and animations the chapters share (needs matplotlib).

Every function draws on an Axes it is given (or makes one) and returns it, with
labelled axes; the caller adds the title and caption. Colours follow one palette
(`COLOURS`), readable on white and by colour-blind readers (Okabe & Ito).
"""
import re

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation
from matplotlib.patches import Ellipse

from . import gmm
from .validation import as_data, as_float_array, as_responsibilities

__all__ = ["COLOURS", "TOTAL_COLOUR", "plot_mixture_1d", "plot_responsibilities_1d", "plot_soft_histogram",
           "covariance_ellipse",
           "plot_mixture_2d", "animate_em_1d", "animate_em_2d", "animation_html", "plot_log_likelihood"]

# Okabe & Ito's colour-blind-safe palette: vermillion, blue, bluish green, orange, purple, sky blue.
COLOURS = ("#D55E00", "#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9")
TOTAL_COLOUR = "#222222"
# Animations embed every frame as an image: a modest resolution keeps a chapter light.
ANIMATION_DPI = 80


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    elif not isinstance(ax, plt.Axes):
        raise ValueError(f"ax must be a matplotlib Axes (e.g. from plt.subplots()) or None, got {type(ax).__name__}.")
    return ax


def _mixture_for(x, params, dimension, name="params"):
    """Check that ``params`` is a GaussianMixtureParams for data of ``dimension`` (1 or 2)."""
    if not isinstance(params, gmm.GaussianMixtureParams):
        raise ValueError(f"{name} must be a GaussianMixtureParams (e.g. result.params), got {type(params).__name__}.")
    if (dimension == 1) != params.is_1d or params.n_features != dimension:
        raise ValueError(f"{name} is a {params.n_features}-D mixture, but this plot draws {dimension}-D ones.")
    if dimension == 2 and (x.ndim != 2 or x.shape[1] != 2):
        raise ValueError(f"x must have shape (n, 2) for this plot, got {x.shape}.")
    if dimension == 1 and x.ndim != 1:
        raise ValueError(f"x must have shape (n,) for this plot, got {x.shape}.")
    return params


def _checked_trace(trace, dimension):
    """``EMResult.trace``: a non-empty list of (GaussianMixtureParams, log-likelihood) pairs."""
    if isinstance(trace, (str, bytes)) or not hasattr(trace, "__len__") or len(trace) == 0:
        raise ValueError(f"trace must be EMResult.trace, a non-empty list of (params, log-likelihood) pairs, "
                         f"got {type(trace).__name__}.")
    for t, entry in enumerate(trace):
        if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], gmm.GaussianMixtureParams)
                and entry[0].n_features == dimension and np.isfinite(entry[1])):
            raise ValueError(f"trace[{t}] is not a (GaussianMixtureParams of a {dimension}-D mixture, finite "
                             "log-likelihood) pair; pass EMResult.trace from emlib.fit_gmm.")
    return trace


def plot_mixture_1d(x, params, *, ax=None, bins=30, component_names=None, xlabel="x", show_hist=True):
    """A histogram of 1-D data with the mixture density and its weighted components.

    Parameters
    ----------
    x : array_like, shape (n,)
    params : GaussianMixtureParams (1-D)
    ax : matplotlib Axes, optional
    bins : int or sequence
    component_names : sequence of str, optional
        A legend name per component (default "component k").
    xlabel : str

    Returns
    -------
    matplotlib Axes
    """
    x = as_data(x)
    _mixture_for(x, params, 1)
    ax = _axes(ax)
    if show_hist:
        ax.hist(x, bins=bins, density=True, color="#BBBBBB", edgecolor="white", label="data")
    grid = _grid(x)
    names = component_names or [f"component {k + 1}" for k in range(params.n_components)]  # counted from 1, as in the text
    component_densities = np.exp(gmm.log_joint(grid, params))
    for k in range(params.n_components):
        ax.plot(grid, component_densities[:, k], color=COLOURS[k % len(COLOURS)], lw=2,
                label=f"{names[k]}: π={params.weights[k]:.2f}")
    ax.plot(grid, component_densities.sum(axis=1), color=TOTAL_COLOUR, lw=1.5, ls="--", label="mixture")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    top = max(patch.get_height() for patch in ax.patches) if show_hist and ax.patches else 0.0
    ax.set_ylim(0, 1.6 * max(top, component_densities.sum(axis=1).max()))  # head room for the legend
    ax.legend(frameon=False, fontsize="small", loc="upper left")
    return ax


def _grid(x, n_points=400):
    low, high = x.min(), x.max()
    margin = 0.1 * (high - low if high > low else 1.0)
    return np.linspace(low - margin, high + margin, n_points)


def plot_responsibilities_1d(x, responsibilities, *, ax=None, component=1, xlabel="x",
                             ylabel="responsibility"):
    """Each point at its value on the x-axis and its responsibility for ``component`` on the
    y-axis, coloured from the other component's colour (responsibility 0) to this
    component's colour (responsibility 1). Meant for two components."""
    x = as_data(x)
    if x.ndim != 1:
        raise ValueError(f"x must have shape (n,) for this plot, got {x.shape}.")
    responsibilities = as_responsibilities(responsibilities, len(x))
    if isinstance(component, bool) or not isinstance(component, (int, np.integer)) \
            or not 0 <= component < responsibilities.shape[1]:
        raise ValueError(f"component must be a column of the responsibilities, 0..{responsibilities.shape[1] - 1}, "
                         f"got {component!r}.")
    ax = _axes(ax)
    values = responsibilities[:, component]
    other = 1 - component if component in (0, 1) else 0
    ax.scatter(x, values, c=_blend(values, low=COLOURS[other], high=COLOURS[component]), s=18,
               edgecolor="none")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_soft_histogram(x, responsibilities, *, ax=None, bins=30, component_names=None, xlabel="x"):
    """A histogram of 1-D data whose every bar is split between the components in proportion
    to its points' responsibilities: the E-step as a picture (chapter 3, ``eq-responsibility``).

    The part of a bar in component k's colour is Σ γ_ik over the points in that bar, so the
    coloured areas add up to the soft counts N_k = Σ_i γ_ik.

    Parameters
    ----------
    x : array_like, shape (n,)
    responsibilities : array_like, shape (n, K)
        Each row a distribution over the K components (e.g. ``emlib.gmm.e_step(x, params)[0]``).
    ax : matplotlib Axes, optional
    bins : int or sequence
    component_names : sequence of str, optional
        A legend name per component (default "component 1", "component 2", ...).
    xlabel : str

    Returns
    -------
    matplotlib Axes
    """
    x = as_data(x)
    responsibilities = np.asarray(responsibilities, dtype=float)
    if x.ndim != 1 or responsibilities.ndim != 2 or responsibilities.shape[0] != len(x):
        raise ValueError(f"x must have shape (n,) and responsibilities (n, K); got {x.shape} and "
                         f"{responsibilities.shape}.")
    ax = _axes(ax)
    n_components = responsibilities.shape[1]
    names = component_names or [f"component {k + 1}" for k in range(n_components)]
    edges = np.histogram_bin_edges(x, bins=bins)
    bottom = np.zeros(len(edges) - 1)
    for k in range(n_components):
        soft_counts, _ = np.histogram(x, bins=edges, weights=responsibilities[:, k])
        ax.bar(edges[:-1], soft_counts, width=np.diff(edges), bottom=bottom, align="edge",
               color=COLOURS[k % len(COLOURS)], edgecolor="white", linewidth=0.5,
               label=f"{names[k]}: N={responsibilities[:, k].sum():.1f}")
        bottom += soft_counts
    ax.set_xlabel(xlabel)
    ax.set_ylabel("number of points (soft counts)")
    ax.set_ylim(0, 1.3 * bottom.max())  # head room, so that the legend covers no bar
    ax.legend(frameon=False, fontsize="small", loc="upper right")
    return ax


def _blend(values, low=COLOURS[0], high=COLOURS[1]):
    """Colours between ``low`` (value 0) and ``high`` (value 1), shape (n, 3)."""
    low = np.array(plt.matplotlib.colors.to_rgb(low))
    high = np.array(plt.matplotlib.colors.to_rgb(high))
    return (1 - values)[:, None] * low + values[:, None] * high


def covariance_ellipse(ax, mean, covariance, *, n_std=2.0, colour=COLOURS[0], **kwargs):
    """Draw the ellipse {x : (x-μ)ᵀ Σ⁻¹ (x-μ) = n_std²} of a 2-D Gaussian on ``ax``."""
    if not isinstance(ax, plt.Axes):
        raise ValueError(f"ax must be a matplotlib Axes (e.g. from plt.subplots()), got {type(ax).__name__}.")
    mean, covariance = as_float_array(mean, "mean"), as_float_array(covariance, "covariance")
    if mean.shape != (2,) or covariance.shape != (2, 2):
        raise ValueError(f"mean must have shape (2,) and covariance (2, 2), got {mean.shape} and {covariance.shape}.")
    if not (np.all(np.isfinite(covariance)) and np.allclose(covariance, covariance.T)
            and np.all(np.linalg.eigvalsh(covariance) > 0)):
        raise ValueError("covariance must be a symmetric positive-definite 2 x 2 matrix.")
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    angle = np.degrees(np.arctan2(eigenvectors[1, -1], eigenvectors[0, -1]))
    width, height = 2 * n_std * np.sqrt(eigenvalues[::-1])
    ellipse = Ellipse(mean, width, height, angle=angle, facecolor="none", edgecolor=colour, lw=2, **kwargs)
    ax.add_patch(ellipse)
    return ellipse


def plot_mixture_2d(x, params, responsibilities=None, *, ax=None, xlabel="x₁", ylabel="x₂"):
    """2-D data as points, coloured by their responsibilities if given (two components:
    a blend of the two colours; more: the most responsible component's colour), with the
    1- and 2-standard-deviation ellipses of every component and its mean as a cross."""
    x = as_data(x)
    _mixture_for(x, params, 2)
    if responsibilities is not None:
        responsibilities = as_responsibilities(responsibilities, len(x))
        if responsibilities.shape[1] != params.n_components:
            raise ValueError(f"responsibilities have {responsibilities.shape[1]} columns but the mixture has "
                             f"{params.n_components} components.")
    ax = _axes(ax)
    if responsibilities is None:
        colours = "#777777"
    elif params.n_components == 2:
        colours = _blend(np.asarray(responsibilities)[:, 1])
    else:
        colours = [COLOURS[k % len(COLOURS)] for k in np.argmax(responsibilities, axis=1)]
    ax.scatter(x[:, 0], x[:, 1], c=colours, s=14, edgecolor="none", alpha=0.8)
    for k in range(params.n_components):
        colour = COLOURS[k % len(COLOURS)]
        for n_std in (1, 2):
            covariance_ellipse(ax, params.means[k], params.covariances[k], n_std=n_std, colour=colour)
        ax.plot(*params.means[k], marker="X", color=colour, markersize=10, markeredgecolor="black")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_log_likelihood(log_likelihoods, *, ax=None, label=None):
    """The log-likelihood of every EM iterate against the iteration number."""
    log_likelihoods = as_float_array(log_likelihoods, "log_likelihoods")
    if log_likelihoods.ndim != 1 or not np.all(np.isfinite(log_likelihoods)):
        raise ValueError("log_likelihoods must be a 1-D sequence of finite numbers, e.g. result.log_likelihoods.")
    ax = _axes(ax)
    ax.plot(np.arange(len(log_likelihoods)), log_likelihoods, marker="o", ms=3, label=label)
    ax.set_xlabel("iteration t")
    ax.set_ylabel("log-likelihood log p(X | θ(t))")
    return ax


# matplotlib's player loads its button icons from a CDN (Font Awesome): text symbols instead,
# so the controls show with no network.
def _svg_icon(shapes):
    """A 1em inline SVG icon drawn in the text colour: it needs no font and no network."""
    return ('<svg aria-hidden="true" focusable="false" width="1em" height="1em" viewBox="0 0 16 16" '
            f'style="vertical-align:-0.125em" fill="currentColor">{shapes}</svg>')


_LEFT, _RIGHT = '<path d="M12 2v12L4 8z"/>', '<path d="M4 2v12l8-6z"/>'
# matplotlib's player asks for Font Awesome icons from a CDN; these draw the same symbols inline.
_ICONS = {
    "fa fa-minus": _svg_icon('<rect x="2" y="7" width="12" height="2"/>'),
    "fa fa-fast-backward": _svg_icon('<rect x="1" y="2" width="2" height="12"/><path d="M9 2v12L3 8z"/>'
                                     '<path d="M15 2v12L9 8z"/>'),
    "fa fa-step-backward": _svg_icon('<rect x="2" y="2" width="2" height="12"/><path d="M13 2v12L5 8z"/>'),
    "fa fa-play fa-flip-horizontal": _svg_icon(_LEFT),
    "fa fa-pause": _svg_icon('<rect x="3" y="2" width="3.5" height="12"/><rect x="9.5" y="2" width="3.5" height="12"/>'),
    "fa fa-play": _svg_icon(_RIGHT),
    "fa fa-step-forward": _svg_icon('<path d="M3 2v12l8-6z"/><rect x="12" y="2" width="2" height="12"/>'),
    "fa fa-fast-forward": _svg_icon('<path d="M1 2v12l6-6z"/><path d="M7 2v12l6-6z"/><rect x="13" y="2" width="2" height="12"/>'),
    "fa fa-plus": _svg_icon('<rect x="2" y="7" width="12" height="2"/><rect x="7" y="2" width="2" height="12"/>'),
}


def animation_html(anim, alt):
    """The HTML of an animation for a notebook or the website: every frame embedded, so it
    plays with no network, with alternative text for screen readers and labelled controls.

    Parameters
    ----------
    anim : matplotlib.animation.Animation
        E.g. from :func:`animate_em_1d` or :func:`animate_em_2d`.
    alt : str
        What the animation shows, for a reader who cannot see it.

    Returns
    -------
    str
        Show it with ``IPython.display.HTML(animation_html(anim, alt))``.
    """
    if not alt or not alt.strip():
        raise ValueError("alt must describe what the animation shows, for readers who cannot see it.")
    html = anim.to_jshtml(default_mode="once")
    html = re.sub(r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">', "", html)
    for icon, symbol in _ICONS.items():
        html = html.replace(f'<i class="{icon}"></i>', symbol)
    escaped_alt = alt.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    html = re.sub(r'<img id="(_anim_img\w+)">', rf'<img id="\1" alt="{escaped_alt}">', html)
    html = re.sub(r'(<input id="_anim_slider\w+" type="range")', r'\1 aria-label="Frame"', html)
    return html


def _frames(trace, max_frames):
    """Indices of the iterates to animate: all of them if few, else the early ones densely."""
    n = len(trace)
    if n <= max_frames:
        return list(range(n))
    return sorted(set(np.unique(np.geomspace(1, n, max_frames).astype(int) - 1).tolist()) | {n - 1})


def animate_em_1d(x, trace, *, bins=30, xlabel="x", component_names=None, max_frames=15, interval=600):
    """An animation of EM's iterates on 1-D data: the histogram with the fitted mixture at
    each iteration, and the log-likelihood so far.

    Parameters
    ----------
    x : array_like, shape (n,)
    trace : list of (GaussianMixtureParams, float)
        ``EMResult.trace``.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        Show it with ``IPython.display.HTML(animation_html(anim, alt="..."))``: the frames
        are embedded, so it plays on the website with no network.
    """
    x = as_data(x)
    if x.ndim != 1:
        raise ValueError(f"x must have shape (n,) for this animation, got {x.shape}.")
    trace = _checked_trace(trace, 1)
    frames = _frames(trace, max_frames)
    log_likelihoods = [value for _, value in trace]
    figure, (ax_fit, ax_ll) = plt.subplots(1, 2, figsize=(8, 3.4), dpi=ANIMATION_DPI,
                                          gridspec_kw={"width_ratios": [2, 1]})
    ymax = _max_density_1d(x, trace, frames, bins)

    def draw(frame):
        ax_fit.clear()
        ax_ll.clear()
        params, log_likelihood = trace[frame]
        plot_mixture_1d(x, params, ax=ax_fit, bins=bins, xlabel=xlabel, component_names=component_names)
        ax_fit.set_ylim(0, ymax)
        ax_fit.set_title(f"iteration {frame}")
        plot_log_likelihood(log_likelihoods[: frame + 1], ax=ax_ll)
        ax_ll.set_xlim(-0.5, len(trace) - 0.5)
        ax_ll.set_ylim(*_padded_range(log_likelihoods))
        ax_ll.set_title(f"log-likelihood {log_likelihood:.2f}")
        figure.tight_layout()

    anim = animation.FuncAnimation(figure, draw, frames=frames, interval=interval)
    plt.close(figure)
    return anim


def _max_density_1d(x, trace, frames, bins):
    heights, _ = np.histogram(x, bins=bins, density=True)
    grid = _grid(x)
    peak = max(gmm.density(grid, trace[frame][0]).max() for frame in frames)
    return 1.1 * max(heights.max(), peak)


def _padded_range(values):
    low, high = min(values), max(values)
    pad = 0.05 * (high - low if high > low else 1.0)
    return low - pad, high + pad


def animate_em_2d(x, trace, *, xlabel="x₁", ylabel="x₂", max_frames=15, interval=600):
    """An animation of EM's iterates on 2-D data: points coloured by their responsibilities
    and the components' ellipses at each iteration (like the picture in the seed post).

    Returns
    -------
    matplotlib.animation.FuncAnimation
    """
    x = as_data(x)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x must have shape (n, 2) for this animation, got {x.shape}.")
    trace = _checked_trace(trace, 2)
    frames = _frames(trace, max_frames)
    figure, ax = plt.subplots(figsize=(6, 5), dpi=ANIMATION_DPI)
    margin = 0.1 * (x.max(axis=0) - x.min(axis=0))
    limits = np.stack([x.min(axis=0) - margin, x.max(axis=0) + margin])

    def draw(frame):
        ax.clear()
        params, log_likelihood = trace[frame]
        responsibilities = gmm.predict_proba(x, params)
        plot_mixture_2d(x, params, responsibilities, ax=ax, xlabel=xlabel, ylabel=ylabel)
        ax.set_xlim(limits[:, 0])
        ax.set_ylim(limits[:, 1])
        ax.set_title(f"iteration {frame}: log-likelihood {log_likelihood:.1f}")
        figure.tight_layout()

    anim = animation.FuncAnimation(figure, draw, frames=frames, interval=interval)
    plt.close(figure)
    return anim
