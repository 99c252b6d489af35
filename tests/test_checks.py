"""Every exercise check passes on the chapter's solution, and fails on the student's stub
and on a typical wrong answer (so a student who passes a check has really solved it); the
visible check never raises (so "Run All" reaches every check) and says what is wrong; the
graded check holds against a constant answer and against a notebook that replaces the check."""
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import emlib
import emlib.checks
from emlib.checks import CHECKS, CheckFailed, grade, verify

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import exercises  # noqa: E402


def chapter_of(label):
    number = int(label.split("-")[0].removeprefix("ch"))
    return next((ROOT / "chapters").glob(f"{number:02d}_*.ipynb"))


def solution_cell(label):
    """The code cell of the exercise's solution that holds the nbgrader markers."""
    notebook = json.loads(chapter_of(label).read_text())
    for region_label, start, end in exercises.solution_regions(notebook):
        if region_label == label:
            marked = [c for c in notebook["cells"][start:end] if exercises.has_solution_markers(c)]
            assert len(marked) == 1, f"{label}: expected one code cell with solution markers"
            return notebook, exercises.source(marked[0])
    raise AssertionError(f"{label}: no gated solution in {chapter_of(label).name}")


def define(label, code):
    """Run the chapter's imports cell, then ``code``; return the function the check wants."""
    notebook, _ = solution_cell(label)
    namespace = {}
    imports = next(exercises.source(c) for c in notebook["cells"] if c["cell_type"] == "code")
    python = "\n".join(line for line in imports.splitlines() if not line.startswith("%"))  # no IPython magics
    exec(python, namespace)
    exec(code, namespace)
    return namespace[CHECKS[label].__name__.removeprefix("check_")]


@pytest.mark.parametrize("label", sorted(CHECKS))
def test_check_passes_on_the_chapters_solution(label, capsys):
    _, code = solution_cell(label)
    solution = define(label, code)
    CHECKS[label](solution)
    out = capsys.readouterr()
    assert "✓" in out.out and not out.err, "nbgrader scores any output on the error stream as a failure"
    for _ in range(20):  # the graded check's random cases never fail a right answer
        grade(label, solution)


@pytest.mark.parametrize("label", sorted(CHECKS))
def test_the_stub_is_reported_as_not_written_without_raising(label, capsys):
    _, code = solution_cell(label)
    stub = define(label, exercises.strip_solution_regions(code))
    CHECKS[label](stub)  # never raises: "Run All" goes on to the next check
    assert "not written yet" in capsys.readouterr().err
    with pytest.raises(CheckFailed, match="not written yet"):
        grade(label, stub)


def _naive_log_sum_exp(values):
    with np.errstate(over="ignore", divide="ignore"):  # the mistake: exp under- and overflows
        return float(np.log(np.sum(np.exp(values))))


def _naive_responsibilities(x, params):
    densities = np.stack([w * np.exp(-(x - m) ** 2 / (2 * v)) / np.sqrt(2 * np.pi * v)
                          for w, m, v in zip(params.weights, params.means, params.covariances)], axis=1)
    with np.errstate(invalid="ignore"):  # the mistake: 0/0 for points far from every component
        return densities / densities.sum(axis=1, keepdims=True)


def _in_place_labels(responsibilities, labels):
    for i, label in enumerate(labels):
        if label >= 0:
            responsibilities[i] = 0.0
            responsibilities[i, label] = 1.0
    return responsibilities


def _coin_ignoring_prior(heads, tosses, theta_a, theta_b, prior_a=0.5):
    a = theta_a**heads * (1 - theta_a) ** (tosses - heads)
    b = theta_b**heads * (1 - theta_b) ** (tosses - heads)
    return a / (a + b)


def _merge_through_sums_of_squares(a, b):
    """The tempting route of chapter 8: add Σγx and Σγx² and subtract at the end (loses every
    digit for data far from 0, such as heights measured from the centre of the Earth)."""
    (n_a, m_a, s_a), (n_b, m_b, s_b) = a, b
    totals = n_a + n_b
    first = n_a * m_a + n_b * m_b
    second = (s_a + n_a * m_a**2) + (s_b + n_b * m_b**2)
    means = np.divide(first, totals, out=np.zeros_like(totals), where=totals > 0)
    return totals, means, second - totals * means**2


def _em_loop_with(mistake):
    """em_loop as a student might write it, with one typical mistake: "never" (no stopping rule),
    "absolute" (increase <= tol, not relative), "no first" (ℓ(0) not recorded), "previous"
    (returns the parameters from before the last M-step), "e-steps" (max_iter counts the first
    E-step too, so one iteration too few)."""
    def em_loop(x, params0, tol=1e-8, max_iter=500):
        params = params0
        responsibilities, log_likelihood = emlib.gmm.e_step(x, params)
        log_likelihoods = [] if mistake == "no first" else [log_likelihood]
        for _ in range(max_iter - 1 if mistake == "e-steps" else max_iter):
            new_params = emlib.gmm.m_step(x, responsibilities)
            responsibilities, new_log_likelihood = emlib.gmm.e_step(x, new_params)
            log_likelihoods.append(new_log_likelihood)
            increase = new_log_likelihood - log_likelihood
            log_likelihood = new_log_likelihood
            if mistake != "previous":
                params = new_params
            if mistake == "never":
                continue
            if increase <= (tol if mistake == "absolute" else tol * max(1.0, abs(new_log_likelihood))):
                break
            params = new_params
        return params, log_likelihoods
    return em_loop


def _poisson_without_weights(counts, weights, rates):
    """The E-step forgets the weights π_k (a common slip: only the likelihoods compared)."""
    log_likelihoods = counts[:, None] * np.log(rates) - rates
    responsibilities = np.exp(log_likelihoods - log_likelihoods.max(axis=1, keepdims=True))
    responsibilities /= responsibilities.sum(axis=1, keepdims=True)
    totals = responsibilities.sum(axis=0)
    return totals / len(counts), responsibilities.T @ counts / totals


WRONG_ANSWERS = {  # a typical mistake for every check
    "ch1-ex2": lambda heights, genders, t: np.mean(np.where(heights >= t, "male", "female") == genders),
    "ch2-ex1": lambda x, w, m, v: sum(wk * np.exp(-(x - mk) ** 2 / (2 * vk)) / np.sqrt(2 * np.pi) / vk
                                      for wk, mk, vk in zip(w, m, v)),  # divides by σ² instead of σ
    "ch2-ex3": lambda x, z, k: (np.bincount(z) / len(z), np.array([x[z == j].mean() for j in range(k)]),
                                np.array([x[z == j].var(ddof=1) for j in range(k)])),  # n_k - 1
    "ch3-ex1": _naive_log_sum_exp,
    "ch3-ex2": _naive_responsibilities,
    "ch3-ex3": lambda r: r.sum(axis=0) / r.shape[1],  # divides by K, not n
    "ch3-ex6": _em_loop_with("never"),
    "ch4-ex2": lambda x, r, params: emlib.GaussianMixtureParams(
        params.weights, np.array([x[r[:, k] > 0].mean() for k in range(r.shape[1])]), params.covariances),
    "ch4-ex3": lambda x, k: emlib.GaussianMixtureParams(np.full(k, 1 / k), np.full(k, x.mean()),
                                                        np.full(k, x.var(ddof=1))),
    "ch4-ex7": lambda t0, t1, t2: t0 - 2 * (-np.linalg.norm(t1 - t0) / np.linalg.norm(t2 - 2 * t1 + t0)) * (t1 - t0)
    + (np.linalg.norm(t1 - t0) / np.linalg.norm(t2 - 2 * t1 + t0)) ** 2 * (t2 - 2 * t1 + t0),  # α not capped at -1
    "ch5-ex1": _in_place_labels,
    "ch5-ex2": lambda p, truth: np.mean(np.where(p >= 0.5, "female", "male") == truth),
    "ch5-ex3": lambda params, grid: float(np.trapezoid(emlib.gmm.density(grid, params), grid)),  # sum, not max
    "ch6-ex1": lambda x, g: np.cov(x, rowvar=False, aweights=g),  # unbiased, not the ML estimate
    "ch6-ex2": lambda ll, p, n: -2 * ll + p * np.log10(n),
    "ch6-ex3": _coin_ignoring_prior,
    "ch6-ex7": _poisson_without_weights,
    "ch7-ex2": lambda r, alpha: (r.sum(axis=0) + alpha) / (r.sum(axis=0) + alpha).sum(),  # α, not α - 1
    "ch8-ex1": _merge_through_sums_of_squares,
    "ch8-ex2": lambda mean, new, count: mean + (new - mean) / (count + 1),
}


def test_every_check_has_a_wrong_answer_to_fail_on():
    assert set(WRONG_ANSWERS) == set(CHECKS)


@pytest.mark.parametrize("label", sorted(CHECKS))
def test_check_fails_on_a_typical_wrong_answer(label, capsys):
    with pytest.raises(CheckFailed) as failure:
        verify(label, WRONG_ANSWERS[label])
    assert len(str(failure.value)) > 30, "the message says what is wrong"
    with pytest.raises(CheckFailed):
        grade(label, WRONG_ANSWERS[label])
    CHECKS[label](WRONG_ANSWERS[label])
    err = capsys.readouterr().err
    assert err.startswith("✗") and "Hint" in err and "(" in err, "the feedback shows the failing input and a hint"
    assert all(len(line) <= 80 for line in err.splitlines()), "nbgrader validate cuts lines at 87 characters"


@pytest.mark.parametrize("label", sorted(CHECKS))
def test_a_constant_answer_earns_nothing(label):
    """Several cases per check, random ones among them: returning what one case expects fails."""
    namespace = {}
    name = CHECKS[label].__name__.removeprefix("check_")
    for constant in (0.8, 0.0, np.array([0.5, 0.5]), emlib.GaussianMixtureParams([0.5, 0.5], [160.0, 175.0], [50.0, 50.0])):
        with pytest.raises(CheckFailed):
            grade(label, lambda *args, **kwargs: constant)


@pytest.mark.parametrize("mistake", ["never", "absolute", "no first", "previous", "e-steps"])
def test_the_em_loop_check_fails_on_each_typical_mistake(mistake, capsys):
    wrong = _em_loop_with(mistake)
    with pytest.raises(CheckFailed) as failure:
        verify("ch3-ex6", wrong)
    assert "em_loop(" in str(failure.value)
    with pytest.raises(CheckFailed):
        grade("ch3-ex6", wrong)
    emlib.checks.check_em_loop(wrong)
    err = capsys.readouterr().err
    assert err.startswith("✗") and "Hint" in err
    assert all(len(line) <= 80 for line in err.splitlines())


def _covariance_divided_by(divisor):
    def covariance_m_step(x, responsibilities_k):
        gamma = responsibilities_k
        if divisor == "np.cov":
            return np.atleast_2d(np.cov(x.T, aweights=gamma))
        deviations = x - gamma @ x / gamma.sum()
        return (gamma[:, None] * deviations).T @ deviations / (gamma.sum() - 1)
    return covariance_m_step


@pytest.mark.parametrize("divisor, named", [("n - 1", "Σγ - 1"), ("np.cov", "ddof=1")])
def test_a_bias_corrected_covariance_is_named_as_such(divisor, named, capsys, monkeypatch):
    """A reader planted N_k - 1 and got a generic 'not close' message."""
    monkeypatch.setitem(emlib.checks._FAILURES, "ch6-ex1", 0)
    with pytest.raises(CheckFailed) as failure:
        verify("ch6-ex1", _covariance_divided_by(divisor))
    assert named in str(failure.value) and "unbiased" in str(failure.value)
    emlib.checks.check_covariance_m_step(_covariance_divided_by(divisor))
    assert "not by Σ γ_i - 1" in capsys.readouterr().err


def test_an_em_loop_one_iteration_short_is_told_what_an_iteration_is(capsys, monkeypatch):
    """A reader counted E-steps as iterations and got the generic stopping hint."""
    monkeypatch.setitem(emlib.checks._FAILURES, "ch3-ex6", 0)  # the first hint, whatever ran before
    emlib.checks.check_em_loop(_em_loop_with("e-steps"))
    err = capsys.readouterr().err
    assert "iterations; expected" in err and "M-steps or E-steps" in err


def test_an_em_loop_without_return_is_reported_as_returning_none(capsys):
    def em_loop(x, params0, tol=1e-8, max_iter=500):
        emlib.gmm.e_step(x, params0)  # no return
    emlib.checks.check_em_loop(em_loop)
    err = capsys.readouterr().err
    assert "returned None" in err and "em_loop(" in err


def test_a_function_without_return_is_reported_as_returning_none(capsys):
    def m_step_weights(responsibilities):
        responsibilities.sum(axis=0) / len(responsibilities)  # no return
    emlib.checks.check_m_step_weights(m_step_weights)
    err = capsys.readouterr().err
    assert "returned None" in err and "NaN" not in err
    assert "m_step_weights([[0.9, 0.1]" in err.replace("\n", ""), "the failing input is shown"


def test_hints_start_with_a_nudge_and_get_explicit_on_a_second_failure(capsys):
    wrong = WRONG_ANSWERS["ch3-ex3"]
    emlib.checks._FAILURES.clear()
    emlib.checks.check_m_step_weights(wrong)
    first = capsys.readouterr().err
    emlib.checks.check_m_step_weights(wrong)
    second = capsys.readouterr().err
    assert "divide by n" not in first.replace("\n", " ") and "share" in first
    assert "divide by n" in second.replace("\n", " ")


def test_replacing_a_check_in_the_notebook_earns_nothing(capsys):
    """The trick of issue 13: a student replaces the check in an answer cell. The graded
    part of a check cell runs a fresh copy of emlib.checks, so the trick does not reach it."""
    original = emlib.checks.check_m_step_weights
    try:
        emlib.checks.check_m_step_weights = lambda f: print("✓")
        emlib.checks.grade = lambda *args, **kwargs: None
        stub = define("ch3-ex3", exercises.strip_solution_regions(solution_cell("ch3-ex3")[1]))
        hidden = exercises.hidden_tests("ch3-ex3", "m_step_weights")
        with pytest.raises(AssertionError, match="not written yet"):
            exec(hidden, {"m_step_weights": stub, "emlib": emlib})
        with pytest.raises(AssertionError, match="graded check of ch3-ex3"):  # the fresh copy's CheckFailed
            exec(hidden, {"m_step_weights": WRONG_ANSWERS["ch3-ex3"], "emlib": emlib})
    finally:
        emlib.checks.check_m_step_weights = original
        emlib.checks.grade = grade


def test_every_coding_exercise_with_markers_has_a_check_cell_after_it():
    for path in sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")):
        notebook = json.loads(path.read_text())
        for label, start, end in exercises.solution_regions(notebook):
            if any(exercises.has_solution_markers(c) for c in notebook["cells"][start:end]):
                assert label in CHECKS, f"{path.name}: {label} has solution markers but no check"
                following = notebook["cells"][end + 1]
                assert exercises.is_check(following), f"{path.name}: no check cell right after {label}"
                assert CHECKS[label].__name__ in exercises.source(following)


def test_a_failed_comparison_shows_got_and_expected_apart():
    """A reader saw "got [0.4988, 0.5012], expected [0.4988, 0.5012]": two equal-looking arrays read
    as a broken check. The values are shown with as many digits as it takes to tell them apart."""
    got, expected = np.array([0.49879, 0.50121]), np.array([0.49881, 0.50119])
    with pytest.raises(emlib.checks.CheckFailed) as failure:
        emlib.checks._expect_close("em_loop(...)", got, expected)
    shown = re.search(r"got (\[.*?\]), expected (\[.*?\])", str(failure.value))
    assert shown and shown.group(1) != shown.group(2), str(failure.value)
