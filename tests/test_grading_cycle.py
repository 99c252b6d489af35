"""nbgrader's whole grading cycle on the course, as an instructor runs it.

A course folder in tmp; `scripts/exercises.py course` writes the source of an assignment of
two chapters (3 and 5, as in issue 13); `nbgrader generate_assignment` releases it, and the
release must be the very notebook `make student` hands out. Three students submit the
handout from `make student`: one solves everything (the chapters' own solutions and model
answers), one hands in the untouched stubs, one hands in typical wrong answers and the two
tricks of issue 13 (replacing a check in an answer cell, a constant answer). Then
`autograde`, a grader's manual scores for the written parts, `generate_feedback` and
`export`; the test asserts each student's score and that the feedback names what is wrong.
Because the students work from `make student`'s handout, the test fails if that handout
loses nbgrader's metadata again (nothing would be graded).
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import exercises  # noqa: E402

pytestmark = pytest.mark.slow

ASSIGNMENT = "ps"
CHAPTERS = ["03", "05"]
BIN = Path(sys.executable).parent

WRONG_CODE = {  # typical mistakes, as a student would write them
    "log_sum_exp": "def log_sum_exp(values):\n    return float(np.log(np.sum(np.exp(values))))\n",
    "responsibilities": ("def responsibilities(x, params):\n"
                         "    joint = params.weights * np.exp(-(x[:, None] - params.means) ** 2 / (2 * params.covariances))"
                         " / np.sqrt(2 * np.pi * params.covariances)\n"
                         "    return joint / joint.sum(axis=1, keepdims=True)\n"),
    "m_step_weights": ("def m_step_weights(responsibilities):\n"
                       "    return responsibilities.sum(axis=0) / responsibilities.shape[1]\n"),
    "semi_supervised_responsibilities": ("def semi_supervised_responsibilities(responsibilities, labels):\n"
                                         "    for i, label in enumerate(labels):\n"
                                         "        if label >= 0:\n"
                                         "            responsibilities[i] = np.eye(responsibilities.shape[1])[label]\n"
                                         "    return responsibilities\n"),
    # issue 13's trick: a constant that fits the one visible case of the old check
    "accuracy": "def accuracy(posterior_female, truth):\n    return 0.8\n",
    "bayes_accuracy": ("def bayes_accuracy(params, grid):\n"
                       "    return float(np.trapezoid(emlib.gmm.density(grid, params), grid))\n"),
}
# issue 13's other trick: replace the check in an answer cell (the function itself is right)
TRICK = ("def m_step_weights(responsibilities):\n"
         "    return np.asarray(responsibilities).sum(axis=0) / 0.5  # wrong\n"
         "emlib.checks.check_m_step_weights = lambda f: print('✓ m_step_weights: all checks passed.')\n")


def make(*args):
    """Run one of the course's make commands, as the README and the instructors' page give it,
    in this test's environment."""
    done = subprocess.run(["make", "-C", str(ROOT), *args, "SETUP=", f"BIN={BIN}"], capture_output=True, text=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done.stdout


def run(*args, cwd):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # nbgrader runs alembic
           "PYTHONPATH": str(ROOT)}  # the kernels import this checkout's emlib
    done = subprocess.run([str(BIN / "nbgrader"), *args], cwd=cwd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done.stdout + done.stderr


def model_solutions(path):
    """{function name: the solution's code without nbgrader's markers}, {label: model answer}."""
    notebook = exercises.read(path)
    code, written = {}, {}
    for label, start, end in exercises.solution_regions(notebook):
        cells = notebook["cells"][start + 1:end]
        for cell in cells:
            if exercises.has_solution_markers(cell):
                text = "\n".join(line for line in exercises.source(cell).splitlines()
                                 if line.strip() not in (exercises.BEGIN, exercises.END))
                code[re.match(r"def (\w+)", text).group(1)] = text
        written[label] = "\n\n".join(exercises.source(c) for c in cells if c["cell_type"] == "markdown")
    return code, written


def submit(handout, folder, *, functions=None, answers=None, work=None):
    """A student's submission: the handout with some function cells, answer cells and work cells filled in."""
    folder.mkdir(parents=True)
    for path in sorted(handout.glob("*.ipynb")):
        notebook = exercises.read(path)
        for cell in notebook["cells"]:
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
            text = exercises.source(cell)
            if grade_id.endswith("-code") and functions:
                name = re.match(r"def (\w+)", text).group(1)
                if name in functions:
                    cell["source"] = functions[name]
            elif cell.get("id", "").endswith("-answer") and answers:
                label = cell["id"].removesuffix("-answer")
                cell["source"] = answers.get(label, text)
            elif cell.get("id", "").endswith("-work") and work:
                label = cell["id"].removesuffix("-work")
                cell["source"] = work.get(label, text)
        exercises.write(notebook, folder / path.name)
    (folder / "timestamp.txt").write_text("2026-11-29 12:00:00.000000 UTC")


def scores(course):
    with open(course / "grades.csv", newline="") as file:
        return {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in csv.DictReader(file)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    started = time.perf_counter()
    course = tmp_path_factory.mktemp("course")
    make("course", f"COURSE={course}", f"ASSIGNMENT={ASSIGNMENT}", f"CHAPTERS={' '.join(CHAPTERS)}")
    handout = course / "handout"
    make("student", f"STUDENT_OUT={handout}", f"CHAPTERS={' '.join(CHAPTERS)}", f"ASSIGNMENT={ASSIGNMENT}",
         "STUDENT_SITE=no")
    run("generate_assignment", ASSIGNMENT, "--force", cwd=course)

    code, written = {}, {}
    for path in exercises.select(CHAPTERS)[0]:
        more_code, more_written = model_solutions(path)
        code.update(more_code)
        written.update(more_written)
    submitted = course / "submitted"
    submit(handout / "notebooks", submitted / "correct" / ASSIGNMENT, functions=code, answers=written)
    submit(handout / "notebooks", submitted / "stubs" / ASSIGNMENT)
    wrong = {**WRONG_CODE, "responsibilities": code["responsibilities"]}  # one exercise right
    submit(handout / "notebooks", submitted / "wrong" / ASSIGNMENT, functions=wrong, work={"ch3-ex3": TRICK})
    log = run("autograde", ASSIGNMENT, "--force", cwd=course)
    autograded = scores_after_export(course)

    # the grader: full marks for the correct student's written answers, none for the others
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in ("correct", "stubs", "wrong"):
            submission = gradebook.find_submission(ASSIGNMENT, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.auto_score is None:
                        grade.manual_score = grade.max_score if student == "correct" else 0
        gradebook.db.commit()
    run("generate_feedback", ASSIGNMENT, "--force", cwd=course)
    final = scores_after_export(course)
    return {"course": course, "handout": handout, "autograded": autograded, "final": final, "log": log,
            "seconds": time.perf_counter() - started}


def scores_after_export(course):
    run("export", cwd=course)
    return scores(course)


def table_points():
    table, _ = exercises.load_table()
    auto = written = 0
    for path in exercises.select(CHAPTERS)[0]:
        for label in exercises.exercise_labels(exercises.read(path)):
            check, hand = exercises.points(label, table)
            auto, written = auto + check, written + hand
    return auto, written


def test_the_handout_of_make_student_is_nbgraders_release(graded):
    for path in sorted((graded["course"] / "release" / ASSIGNMENT).glob("*.ipynb")):
        ours = exercises.read(graded["handout"] / "notebooks" / path.name)
        theirs = exercises.read(path)
        assert ours["metadata"] == theirs["metadata"]
        assert len(ours["cells"]) == len(theirs["cells"])
        for mine, nbgraders in zip(ours["cells"], theirs["cells"]):
            for key in ("cell_type", "source", "metadata"):
                assert exercises.source(mine) == exercises.source(nbgraders) if key == "source" else \
                    mine[key] == nbgraders[key], (path.name, key, exercises.source(mine)[:200])


def test_scores_after_autograde(graded):
    auto, written = table_points()
    assert graded["autograded"]["correct"] == (auto, auto + written), graded["log"][-3000:]
    assert graded["autograded"]["stubs"] == (0, auto + written)
    table, _ = exercises.load_table()
    # only ch3-ex2 is right; the constant and the replaced check earn nothing
    assert graded["autograded"]["wrong"] == (exercises.points("ch3-ex2", table)[0], auto + written)


def test_scores_after_the_grader_marks_the_written_answers(graded):
    auto, written = table_points()
    assert graded["final"] == {"correct": (auto + written, auto + written), "stubs": (0, auto + written),
                               "wrong": (exercises.points("ch3-ex2", exercises.load_table()[0])[0], auto + written)}
    print(f"grading cycle (release, 3 submissions of 2 chapters, autograde, feedback, export): "
          f"{graded['seconds']:.0f} s; full marks {auto + written} ({auto} automatic, {written} by hand)")


def feedback_text(graded, student, chapter):
    folder = graded["course"] / "feedback" / student / ASSIGNMENT
    page = next(folder.glob(f"{chapter}_*.html")).read_text()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).replace("&#39;", "'").replace("&quot;", '"')


def test_feedback_names_what_is_wrong(graded):
    ch3 = feedback_text(graded, "wrong", "03")
    assert "log_sum_exp([-1000., -1000.]): got -inf, expected -999.307" in ch3
    assert "m_step_weights(" in ch3 and "graded check of ch3-ex3" in ch3  # the trick did not help
    ch5 = feedback_text(graded, "wrong", "05")
    assert "accuracy(" in ch5 and "got 0.8" in ch5
    assert "changed its input array" in ch5  # semi_supervised_responsibilities in place
    stubs = feedback_text(graded, "stubs", "03")
    assert "not written yet" in stubs
    correct = feedback_text(graded, "correct", "05")
    assert "✓ graded check of ch5-ex2" in correct
    for text in (ch3, ch5, stubs, correct):
        assert "MARK SCHEME" not in text, "the feedback does not show the rubric"
        assert "_checks_fresh" not in text and "importlib" not in text, "nor the hidden tests"


def test_the_grader_sees_the_rubric(graded):
    autograded = exercises.read(graded["course"] / "autograded" / "correct" / ASSIGNMENT / "05_hands_on.ipynb")
    task = next(c for c in autograded["cells"] if c.get("id") == "ch5-ex6-written")
    assert "Rubric for ch5-ex6" in exercises.source(task) and "weight does not help" in exercises.source(task).lower()
    handout = exercises.read(graded["handout"] / "notebooks" / "05_hands_on.ipynb")
    assert "Rubric" not in json.dumps(handout)


def test_nbgrader_validate_shows_the_whole_hint(graded, tmp_path):
    notebook = graded["course"] / "submitted" / "wrong" / ASSIGNMENT / "03_em_algorithm.ipynb"
    copy = tmp_path / notebook.name
    shutil.copy(notebook, copy)
    out = subprocess.run([str(BIN / "nbgrader"), "validate", str(copy)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path).stdout
    assert "VALIDATION FAILED" in out
    assert "..." not in out.replace("Run All...", ""), "no line of the feedback is cut"
    assert "shift back afterwards?" in out


def test_release_fetch_submit_collect_through_an_exchange(tmp_path):
    """The JupyterHub route of the instructors' page: the exchange folder carries the
    handout to the student and the submission back (here one user plays both parts)."""
    course, student, exchange = tmp_path / "course", tmp_path / "student", tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    student.mkdir()
    make("course", f"COURSE={course}", "ASSIGNMENT=ps4", "CHAPTERS=07")
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f'c.Exchange.root = "{exchange}"\n')
    run("generate_assignment", "ps4", "--force", cwd=course)
    run("release_assignment", "ps4", "--force", cwd=course)
    on_hub = ["--course", exercises.COURSE_ID, f"--Exchange.root={exchange}"]
    run("fetch_assignment", "ps4", *on_hub, cwd=student)
    handout = student / "ps4" / "07_conclusion.ipynb"
    assert exercises.read(handout) == exercises.read(course / "release" / "ps4" / "07_conclusion.ipynb")
    run("submit", "ps4", *on_hub, cwd=student)
    run("collect", "ps4", cwd=course)
    collected = list((course / "submitted").glob("*/ps4/07_conclusion.ipynb"))
    assert len(collected) == 1 and exercises.read(collected[0]) == exercises.read(handout)


def test_the_students_image_can_turn_off_the_instructors_parts(tmp_path):
    """The JupyterHub notes' commands: the formgrader is a JupyterLab extension (there is no
    `nbgrader formgrade`), and its parts can be turned off for students. Run here at the
    user level in a temporary Jupyter configuration, so this environment is left as it is."""
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    jupyter = str(BIN / "jupyter")
    for plugin in ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"):
        done = subprocess.run([jupyter, "labextension", "disable", "--level=user", plugin], capture_output=True,
                              text=True, env=env)
        assert done.returncode == 0, done.stderr
    done = subprocess.run([jupyter, "server", "extension", "disable", "--user",
                           "nbgrader.server_extensions.formgrader"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([jupyter, "labextension", "list"], capture_output=True, text=True, env=env)
    output = listed.stdout + listed.stderr
    assert "@jupyter/nbgrader:formgrader" in output and "@jupyter/nbgrader:create-assignment" in output
    old = subprocess.run([str(BIN / "nbgrader"), "formgrade"], capture_output=True, text=True, cwd=tmp_path)
    assert "no longer a standalone command" in old.stdout + old.stderr
