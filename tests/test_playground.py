"""The EM playground (chapters/playground.md) in a real browser: it computes what emlib computes.

The page runs EM in JavaScript (_extra/em-playground/em-numerics.js). Here headless Chromium
(Debian's, driven by Playwright, every address but 127.0.0.1 blocked: the network is off)
loads the built page, sets a data set and a start through the page's controls or its hook
``window.emPlayground``, steps EM, and the parameters and log-likelihoods the page computed are
compared with ``emlib.fit_gmm`` from the same start, to 1e-9 relative. A copy of the site with a
broken M-step must fail that comparison. The page must also pass the site's browser check
(tests/website.py) at desktop and phone widths; screenshots go to _build/screenshots/.

The browser tests are skipped, with a message saying so, when Chromium is not installed.
"""
import importlib.util
import re
import shutil
import warnings

import numpy as np
import pytest

import emlib
import website
from conftest import ROOT

PAGE = "chapters/playground.html"
RTOL = 1e-9
N_ITER = 50
REG_COVAR = 1e-6

needs_chromium = pytest.mark.skipif(
    website.chromium_path() is None,
    reason="Chromium is not installed: the browser tests of the EM playground were SKIPPED "
           "(install it with `apt-get install chromium`; .ci/run does)")


def _load_data_script():
    spec = importlib.util.spec_from_file_location("make_playground_data", ROOT / "scripts" / "make_playground_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_playground_data_is_emlibs():
    """_extra/em-playground/data.js is what scripts/make_playground_data.py writes from emlib.datasets."""
    script = _load_data_script()
    assert script.TARGET.read_text(encoding="utf-8") == script.data_js(), \
        "the playground's data.js is stale: run `python scripts/make_playground_data.py`"
    data = script.playground_data()
    assert len(data["register"]["height_cm"]) == 400 and len(data["old_faithful"]["waiting"]) == 272


# ---------------------------------------------------------------------------------------------
# helpers: the page's numbers against emlib's
# ---------------------------------------------------------------------------------------------

def _open(page, url):
    page.goto(f"{url}/{PAGE}", wait_until="load")
    page.wait_for_function("() => window.emPlayground !== undefined")


def _params(raw):
    return emlib.GaussianMixtureParams(raw["weights"], raw["means"], raw["covariances"])


def _relative_difference(page_values, emlib_values):
    """The largest elementwise |page − emlib| / |emlib| (entries of emlib that are exactly 0 use 1)."""
    a, b = np.asarray(page_values, dtype=float), np.asarray(emlib_values, dtype=float)
    scale = np.where(b == 0, 1.0, np.abs(b))
    return float(np.max(np.abs(a - b) / scale))


def emlib_fit(state, n_iter=N_ITER):
    """emlib.fit_gmm from the page's θ(0), on the page's data and labels, as the issue asks."""
    x = np.array(state["x"], dtype=float)
    labels = np.array(state["labels"])
    labels = labels if np.any(labels >= 0) else None
    with warnings.catch_warnings():  # a page's state may end with a variance at its floor: allowed here
        warnings.simplefilter("ignore", emlib.BoundaryEstimateWarning)
        return emlib.fit_gmm(x, state["K"], labels=labels, init=_params(state["params0"]), tol=0,
                             max_iter=n_iter, reg_covar=state["regCovar"])


def compare_with_emlib(state, result):
    """The largest relative differences between the page's θ, trace and responsibilities and
    emlib's, after the same number of iterations."""
    assert state["iteration"] == result.n_iter
    ours = state["params"]
    return {
        "weights": _relative_difference(ours["weights"], result.params.weights),
        "means": _relative_difference(ours["means"], result.params.means),
        "covariances": _relative_difference(ours["covariances"], result.params.covariances),
        "log-likelihoods": _relative_difference(state["logLikelihoods"], result.log_likelihoods),
        "responsibilities": float(np.max(np.abs(np.array(state["responsibilities"]) - result.expectations))),
    }


def step_and_compare(page, n_iter=N_ITER):
    """From the start the page holds, step it as many iterations as emlib.fit_gmm(tol=0,
    max_iter=n_iter) takes (n_iter, unless the log-likelihood stops increasing at all before,
    where emlib stops), and compare. Returns (differences, the page's state)."""
    start = page.evaluate("() => emPlayground.state()")
    assert start["iteration"] == 0
    result = emlib_fit(start, n_iter)
    state = page.evaluate(f"() => emPlayground.step({result.n_iter})")
    return compare_with_emlib(state, result), state


def _assert_agrees(differences, what):
    assert max(differences.values()) <= RTOL, f"{what}: the page and emlib differ: {differences}"


def _assert_never_decreases(trace):
    increases = np.diff(trace)
    slack = emlib.engine.ROUNDING_SLACK * np.maximum(1.0, np.abs(trace[:-1]))
    assert np.all(increases >= -slack), f"the page's log-likelihood went down: {increases.min()}"


STARTS = {
    # chapter 4's poor guess θ(t) on Edmond's heights
    "1-D, chapter 4's start": ("{dataset: 'register', K: 2, regCovar: %g, params: {weights: [0.5, 0.5], "
                              "means: [155, 162], covariances: [60, 60]}}" % REG_COVAR),
    "1-D, K=3, random start": "{dataset: 'register', K: 3, regCovar: %g, seed: 4, random: true}" % REG_COVAR,
    "2-D, K=2, random start": "{dataset: 'old_faithful', K: 2, regCovar: %g, seed: 2, random: true}" % REG_COVAR,
    "2-D, K=3, random start": "{dataset: 'old_faithful', K: 3, regCovar: %g, seed: 7, random: true}" % REG_COVAR,
    # reg_covar large enough that the floor is active: variances (1-D) and eigenvalues (2-D) raised to it
    "1-D, floor active": "{dataset: 'register', K: 2, regCovar: 50, params: {weights: [0.5, 0.5], "
                         "means: [155, 162], covariances: [60, 60]}}",
    "2-D, floor active": "{dataset: 'old_faithful', K: 2, regCovar: 0.2, seed: 2, random: true}",
}


def measure_agreement(url):
    """Every start of STARTS stepped N_ITER times by the page: the differences with emlib, and
    the states the page reported."""
    from playwright.sync_api import Error

    found = {}
    with website.browser_page(url) as page:
        _open(page, url)
        for name, start in STARTS.items():
            page.evaluate(f"() => emPlayground.setState({start})")
            try:
                found[name] = step_and_compare(page)
            except Error as error:  # a broken page may throw instead of computing
                found[name] = ({"a script error": float("inf")}, str(error))
        assert not page.blocked, f"the page needed the network: {page.blocked}"
    return found


# ---------------------------------------------------------------------------------------------
# the browser tests
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(built_book):
    returncode, log, html = built_book
    assert returncode == 0, log[-3000:]
    assert (html / PAGE).exists(), "the book has no playground page"
    return html


@pytest.fixture(scope="module")
def served(site):
    with website.serve(site) as url:
        yield url


@pytest.mark.slow
@needs_chromium
def test_the_page_agrees_with_emlib_in_1d_and_2d(served):
    found = measure_agreement(served)
    for name, (differences, state) in found.items():
        _assert_agrees(differences, name)
        # 50 iterations, unless emlib (tol=0) stopped at an exact fixed point before, as it does with the floor in 2-D
        assert len(state["logLikelihoods"]) == N_ITER + 1 or name == "2-D, floor active", f"{name}: emlib stopped early"
        _assert_never_decreases(np.array(state["logLikelihoods"]))
        if "floor" in name:  # the floor was used: some variance or eigenvalue sits on it
            covariances = np.array(state["params"]["covariances"])
            smallest = covariances if covariances.ndim == 1 else np.linalg.eigvalsh(covariances)[:, 0]
            assert np.isclose(smallest, state["regCovar"], rtol=1e-12).any(), f"{name}: the floor was not used"
    print("\nlargest relative differences, page vs emlib, after", N_ITER, "iterations:")
    for name, (differences, state) in found.items():
        print(f"  {name} ({state['iteration']} iterations): " + ", ".join(f"{k} {v:.1e}" for k, v in differences.items()))


@pytest.mark.slow
@needs_chromium
def test_semi_supervised_agrees_with_emlib(served):
    """Edmond's recorded genders (300 labels) in 1-D, and a few labels on Old Faithful in 2-D:
    the labelled points keep their component, as emlib's ``labels=``."""
    faithful = emlib.datasets.load_old_faithful()
    labels_2d = np.full(len(faithful["waiting"]), -1)
    labels_2d[np.argsort(faithful["waiting"])[:5]] = 0      # the five shortest waits: component 1
    labels_2d[np.argsort(faithful["waiting"])[-5:]] = 1     # the five longest: component 2
    with website.browser_page(served) as page:
        _open(page, served)
        page.click("#emp-recorded")  # the page's own button: the register with its 300 labels, K = 2
        recorded = page.evaluate("() => emPlayground.state()")
        assert sum(label >= 0 for label in recorded["labels"]) == 300 and recorded["K"] == 2
        np.testing.assert_array_equal(recorded["labels"], emlib.datasets.load_register()["label"])
        one_d = step_and_compare(page)
        few = np.full(400, -1)
        for gender in (0, 1):  # five recorded pupils of each gender, the others unlabelled
            few[np.flatnonzero(np.array(recorded["labels"]) == gender)[:5]] = gender
        page.evaluate("labels => emPlayground.setState({dataset: 'register', K: 2, labels})", few.tolist())
        one_d_few = step_and_compare(page)
        page.evaluate("labels => emPlayground.setState({dataset: 'old_faithful', K: 2, seed: 5, random: true, labels})",
                      labels_2d.tolist())
        two_d = step_and_compare(page)
        assert not page.blocked
    for name, (differences, state) in (("semi-supervised 1-D, 300 labels", one_d),
                                       ("semi-supervised 1-D, 10 labels", one_d_few),
                                       ("semi-supervised 2-D, 10 labels", two_d)):
        print(f"\n{name}: {state['iteration']} iterations")
        print(f"\n{name}: " + ", ".join(f"{k} {v:.1e}" for k, v in differences.items()))
        _assert_agrees(differences, name)
        _assert_never_decreases(np.array(state["logLikelihoods"]))
        labels = np.array(state["labels"])
        gamma = np.array(state["responsibilities"])
        labelled = labels >= 0
        np.testing.assert_array_equal(gamma[labelled], np.eye(2)[labels[labelled]])  # they keep their colour


@pytest.mark.slow
@needs_chromium
def test_the_bound_touches_the_log_likelihood_at_theta_t(served):
    """Fig. 4.2 in the page: at θ(t) the bound L(q, θ) equals log p(X | θ) to 1e-9; elsewhere
    it is emlib's ELBO, below the log-likelihood by the KL divergence."""
    with website.browser_page(served) as page:
        _open(page, served)
        page.evaluate("() => emPlayground.setState({dataset: 'register', K: 2, params: "
                      "{weights: [0.5, 0.5], means: [155, 162], covariances: [60, 60]}})")
        for iterations in (0, 1, 10):
            state = page.evaluate(f"() => {{ emPlayground.step({iterations}); return emPlayground.eStep(); }}")
            params = _params(state["params"])
            x = np.array(state["x"])
            for k in range(2):
                touch = page.evaluate(f"() => emPlayground.boundAt({k}, emPlayground.state().params.means[{k}])")
                ll = emlib.gmm.log_likelihood(x, params)
                assert abs(touch["gap"]) <= RTOL * abs(ll), touch
                assert abs(touch["logLikelihood"] - ll) <= RTOL * abs(ll)
                q = emlib.gmm.predict_proba(x, params)
                for mean in (145.0, 170.0, 190.0):
                    away = page.evaluate(f"() => emPlayground.boundAt({k}, {mean})")
                    means = params.means.copy()
                    means[k] = mean
                    moved = emlib.GaussianMixtureParams(params.weights, means, params.covariances)
                    expected_bound = emlib.gmm.elbo(x, moved, q)
                    assert abs(away["bound"] - expected_bound) <= RTOL * abs(expected_bound)
                    assert away["gap"] >= -RTOL * abs(expected_bound)
        # the page shows it: the slider sits at θ(t), where the text reports the gap
        text = page.locator("#emp-bound-text").inner_text()
        assert "The bound touches at θ(t)" in text


@pytest.mark.slow
@needs_chromium
def test_the_controls_drive_em_as_emlib_does(served):
    """Without the hook: choose the data, K and a seed with the page's controls, press the
    buttons, add and remove points with the mouse and the keyboard, drag a mean."""
    with website.browser_page(served) as page:
        _open(page, served)
        page.select_option("#emp-dataset", "old_faithful")
        page.select_option("#emp-k", "3")
        page.fill("#emp-seed", "11")
        page.click("#emp-random")
        state = page.evaluate("() => emPlayground.state()")
        assert state["K"] == 3 and state["startName"] == "random, seed 11"
        assert "seed 11" in page.locator("#emp-status").inner_text()
        page.click("#emp-e")
        assert page.evaluate("() => emPlayground.state().phase") == "after-E"
        page.click("#emp-m")
        page.click("#emp-m")  # a second M-step on the same q has nothing to do: the page says so
        assert page.evaluate("() => emPlayground.state().iteration") == 1
        assert "take an E-step first" in page.locator("#emp-status").inner_text()
        for _ in range(4):
            page.click("#emp-iterate")
        state = page.evaluate("() => emPlayground.state()")
        assert state["iteration"] == 5 and len(state["logLikelihoods"]) == 6
        _assert_agrees(compare_with_emlib(state, emlib_fit(state, n_iter=5)), "the buttons")
        # reset goes back to θ(0), with an empty trace
        page.click("#emp-reset")
        state = page.evaluate("() => emPlayground.state()")
        assert state["params"] == state["params0"] and state["logLikelihoods"] == []
        # run to convergence, then the trace never went down
        page.click("#emp-run")
        page.wait_for_function("() => document.querySelector('#emp-run').textContent === 'Run to convergence' && "
                               "emPlayground.state().iteration > 0", timeout=60_000)
        state = page.evaluate("() => emPlayground.state()")
        _assert_never_decreases(np.array(state["logLikelihoods"]))
        assert "(never went down)" in page.locator("#emp-trace-text").inner_text()
        # the typed start where EM creeps (chapter 4's exercise): "Run to convergence" stops
        # where emlib.fit_gmm with its default tolerance stops, at the same θ
        page.select_option("#emp-dataset", "register")
        page.fill("#emp-means", "180; 200")
        page.click("#emp-set-means")
        page.click("#emp-run")
        page.wait_for_function("() => document.querySelector('#emp-run').textContent === 'Run to convergence' && "
                               "emPlayground.state().iteration > 0", timeout=120_000)
        state = page.evaluate("() => emPlayground.state()")
        assert state["params0"]["means"] == [180, 200] and state["startName"] == "means typed in"
        x = np.array(state["x"])
        converged = emlib.fit_gmm(x, 2, init=_params(state["params0"]), tol=1e-8, max_iter=10_000, reg_covar=REG_COVAR)
        assert converged.converged and state["iteration"] == converged.n_iter
        _assert_agrees(compare_with_emlib(state, converged), "run to convergence")
        assert f"Converged at iteration {converged.n_iter}" in page.locator("#emp-status").inner_text()
        page.select_option("#emp-dataset", "old_faithful")
        # the mouse adds a point, the keyboard adds and removes one
        n = len(page.evaluate("() => emPlayground.state().x"))
        page.check("input[name=emp-mode][value=add]")
        box = page.locator("#emp-plot").bounding_box()
        page.locator("#emp-plot").click(position={"x": box["width"] * 0.2, "y": box["height"] * 0.2})  # no mean there
        assert len(page.evaluate("() => emPlayground.state().x")) == n + 1
        page.focus("#emp-plot")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")
        assert len(page.evaluate("() => emPlayground.state().x")) == n + 2
        page.keyboard.press("Delete")
        assert len(page.evaluate("() => emPlayground.state().x")) == n + 1
        # the keyboard labels the nearest point
        page.keyboard.press("l")
        assert sum(label >= 0 for label in page.evaluate("() => emPlayground.state().labels")) == 1
        # dragging mean 1 on the 1-D plot makes a new start there
        page.select_option("#emp-dataset", "register")
        page.locator(".emp-handle[data-k='0']").scroll_into_view_if_needed()
        handle = page.locator(".emp-handle[data-k='0']").bounding_box()
        before = page.evaluate("() => emPlayground.state().params0.means[0]")
        page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
        page.mouse.down()
        page.mouse.move(handle["x"] + handle["width"] / 2 - 60, handle["y"] + handle["height"] / 2, steps=5)
        page.mouse.up()
        after = page.evaluate("() => emPlayground.state()")
        assert after["params0"]["means"][0] < before - 3 and after["logLikelihoods"] == []
        assert not page.blocked


@pytest.mark.slow
@needs_chromium
def test_a_broken_m_step_fails_the_agreement_test(site, tmp_path):
    """A copy of the site whose JavaScript M-step divides the variance (2-D: its first
    diagonal entry) by N_k + 1 instead of N_k: the comparison with emlib must catch it."""
    copy = tmp_path / "html"
    shutil.copytree(site, copy)
    numerics = copy / "em-playground" / "em-numerics.js"
    original = numerics.read_text()
    broken = original.replace("c00 / total", "c00 / (total + 1)")
    assert broken != original, "the test did not break the M-step"
    numerics.write_text(broken)
    with website.serve(copy) as url:
        found = measure_agreement(url)
    worst = {name: max(differences.values()) for name, (differences, _) in found.items()}
    print("\nbroken M-step, largest relative differences:", {k: f"{v:.1e}" for k, v in worst.items()})
    assert all(value > RTOL for value in worst.values()), f"a broken M-step went unnoticed: {worst}"
    with pytest.raises(AssertionError):
        for name, (differences, _) in found.items():
            _assert_agrees(differences, name)


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("width, theme", [(1280, "light"), (390, "light"), (390, "dark"), (1280, "dark")])
def test_the_page_passes_the_browser_check(site, served, width, theme):
    """The site's check (math, images, links, solutions, axe-core), on the page as loaded and
    after EM has run, at desktop and phone widths, in the light and dark themes."""
    name = f"playground-{width}px-{theme}"
    with website.browser_page(served) as page:
        page.set_viewport_size({"width": width, "height": 900})
        page.add_init_script(f"localStorage.setItem('theme', '{theme}'); localStorage.setItem('mode', '{theme}');")
        problems = website.check_page(page, served, site, PAGE)
        assert page.evaluate("() => document.documentElement.dataset.theme") == theme
        page.click("#emp-iterate")
        page.select_option("#emp-dataset", "old_faithful")
        page.click("#emp-iterate")
        page.select_option("#emp-dataset", "register")
        page.click("#emp-recorded")
        page.click("#emp-iterate")
        problems += website._accessibility_problems(page)
        overflow = page.evaluate("() => document.querySelector('#em-playground').scrollWidth - "
                                 "document.querySelector('#em-playground').clientWidth")
        if overflow > 1:
            problems.append(f"the playground is {overflow} px wider than its column")
        screenshot = ROOT / "_build" / "screenshots" / f"{name}.png"
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
