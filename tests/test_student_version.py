"""The handout holds no solution, carries nbgrader's metadata with the table's points, runs
with "Run All" to every check (no cell raises; each check says what is unfinished), its
website builds without solutions, a choice of chapters and exercises gives just those, and
nbgrader's own release of the source notebooks is the same handout."""
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import exercises  # noqa: E402

CHAPTERS = exercises.chapter_notebooks(ROOT)


TABLE, ASSIGNMENTS = exercises.load_table()


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    exercises.make_student_version(out, build=False, root=ROOT)
    return out


def nbgrader_of(cell):
    return cell["metadata"].get("nbgrader", {})


def solution_lines(notebook):
    """Every significant line of the solutions (their code, but a kept signature, and their
    prose) that the chapter does not also show outside its solutions."""
    lines, inside = set(), set()
    for _, start, end in exercises.solution_regions(notebook):
        inside.update(range(start, end + 1))
        for cell in notebook["cells"][start + 1:end]:
            text = exercises.source(cell)
            if exercises.has_solution_markers(cell):
                text = "\n".join(re.findall(r"### BEGIN SOLUTION\n(.*?)\n\s*### END SOLUTION", text, re.S))
            for line in text.splitlines():
                line = line.strip()
                if len(line) >= 20 and not line.startswith(("#", "```", ":")):
                    lines.add(line)
    shown = "\n".join(exercises.source(c) for i, c in enumerate(notebook["cells"]) if i not in inside)
    return {line for line in lines if line not in shown}


def test_every_chapter_has_solutions_to_remove():
    for path in CHAPTERS:
        assert len(solution_lines(exercises.read(path))) >= 5, path.name


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_student_notebooks_hold_no_solution(student, path):
    text = "\n".join(exercises.source(c) for c in exercises.read(student / "notebooks" / path.name)["cells"])
    leaked = [line for line in solution_lines(exercises.read(path)) if line in text]
    assert not leaked, f"solution lines in the student notebook: {leaked[:3]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_handout_keeps_exercises_stubs_and_checks_and_clears_outputs(student, path):
    original, released = exercises.read(path), exercises.read(student / "notebooks" / path.name)
    assert exercises.handout_labels(released) == exercises.exercise_labels(original)
    assert not any(c.get("outputs") for c in released["cells"] if c["cell_type"] == "code")
    checks = [exercises.source(c).strip() for c in original["cells"] if exercises.is_check(c)]
    assert checks == [exercises.source(c).strip() for c in released["cells"] if exercises.is_check(c)]
    stubs = [c for c in released["cells"] if c["cell_type"] == "code"
             and "raise NotImplementedError()" in exercises.source(c)]
    assert len(stubs) == len(checks), "one stub per coding exercise"
    assert all(nbgrader_of(c).get("solution") for c in stubs)
    text = json.dumps(released)
    assert "solution-start" not in text and "HIDDEN TESTS" not in text and "MARK SCHEME" not in text
    assert "{eval}" not in text and "{glue" not in text, "the prose's numbers written in (nbgrader's pages do not render MyST)"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_handout_carries_nbgraders_metadata_with_the_tables_points(student, path):
    """What `make student` lost before (issue 13): without it nbgrader grades nothing."""
    released = exercises.read(student / "notebooks" / path.name)
    for label in exercises.handout_labels(released):
        check_points, written_points = exercises.points(label, TABLE)
        cells = {nbgrader_of(c).get("grade_id"): c for c in released["cells"] if nbgrader_of(c)}
        if check_points:
            check = cells[f"{label}-check"]
            assert nbgrader_of(check)["grade"] and nbgrader_of(check)["locked"]
            assert nbgrader_of(check)["points"] == check_points and exercises.is_check(check)
            assert nbgrader_of(cells[f"{label}-code"])["solution"]
        if written_points:
            task = cells[f"{label}-written"]
            assert nbgrader_of(task)["task"] and nbgrader_of(task)["points"] == written_points
            assert nbgrader_of(task)["checksum"], "nbgrader's checksum is there"
            following = released["cells"][released["cells"].index(task) + 1]
            assert following["cell_type"] == "markdown" and "Your answer here" in exercises.source(following)


def test_every_exercise_has_its_points_and_rubric_in_the_table():
    labels = {label for path in CHAPTERS for label in exercises.exercise_labels(exercises.read(path))}
    assert set(TABLE) == labels, "scripts/exercises.toml lists exactly the chapters' exercises"
    for path in CHAPTERS:
        notebook = exercises.read(path)
        for label, (_, start, end, check) in exercises.exercise_blocks(notebook).items():
            check_points, written_points = exercises.points(label, TABLE)
            assert (check is not None) == (check_points > 0), f"{label}: a check, and only a check, has check points"
            assert check_points + written_points > 0, label
            assert len(TABLE[label].get("rubric", [])) == written_points, f"{label}: one rubric line per written point"
    for name, assignment in ASSIGNMENTS.items():
        assert exercises.select(assignment["chapters"])[0], name
    # a whole 2-D EM earns more than a one-line function (issue 13)
    assert sum(exercises.points("ch5-ex6", TABLE)) > sum(exercises.points("ch6-ex2", TABLE))


def test_choosing_chapters_and_exercises(tmp_path):
    """`make student CHAPTERS="03 05" EXERCISES="ch3-ex1 ch5-ex2"`: just those, nothing else."""
    done = subprocess.run(["make", "-C", str(ROOT), "student", f"STUDENT_OUT={tmp_path / 'out'}",
                           "CHAPTERS=03 05", "EXERCISES=ch3-ex1 ch5-ex2", "STUDENT_SITE=no", "SETUP=",
                           f"BIN={Path(sys.executable).parent}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    notebooks = sorted(p.name for p in (tmp_path / "out" / "notebooks").glob("*.ipynb"))
    assert notebooks == ["03_em_algorithm.ipynb", "05_hands_on.ipynb"]
    assert exercises.handout_labels(exercises.read(tmp_path / "out" / "notebooks" / notebooks[0])) == ["ch3-ex1"]
    assert exercises.handout_labels(exercises.read(tmp_path / "out" / "notebooks" / notebooks[1])) == ["ch5-ex2"]
    exercises.make_student_version(tmp_path / "ps2", build=False, assignment="ps2")
    assert sorted(p.name[:2] for p in (tmp_path / "ps2" / "notebooks").glob("*.ipynb")) == ASSIGNMENTS["ps2"]["chapters"]


def test_strip_solution_regions_keeps_the_signature_and_indentation():
    code = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    assert exercises.strip_solution_regions(code) == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n")
    with pytest.raises(ValueError, match="END"):
        exercises.strip_solution_regions("### BEGIN SOLUTION\nx = 1\n")


def test_chapters_are_tidy():
    """`python scripts/exercises.py mark` has been run: the chapters carry no nbgrader
    metadata (the grading lives in scripts/exercises.toml and the source notebooks made
    from it), and their check cells hide their stored output on the website."""
    for path in CHAPTERS:
        notebook = exercises.read(path)
        assert exercises.mark_for_nbgrader(notebook) == notebook, f"run scripts/exercises.py mark ({path.name})"
        assert not any("nbgrader" in c["metadata"] for c in notebook["cells"])


# "Run All" on every untouched handout, reaching every check (each says the exercise is not
# written yet), is tested in the student's own fresh environment, installed the documented way:
# tests/test_student_environment.py (running it here too would only repeat it).


@pytest.mark.slow
def test_student_website_builds_without_solutions(student):
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    run = subprocess.run([str(jupyter_book), "build", str(student / "site"), "--all", "-W", "-n", "--keep-going"],
                         capture_output=True, text=True)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    pages = student / "site" / "_build" / "html" / "chapters"
    assert not (pages / "instructors.html").exists()
    assert (pages / "playground.html").exists() and (pages.parent / "em-playground" / "em-numerics.js").exists()
    for path in CHAPTERS:
        page = (pages / f"{path.stem}.html").read_text()
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        leaked = [line for line in solution_lines(exercises.read(path)) if line in text]
        assert not leaked, f"{path.stem}: solution text on the student website: {leaked[:3]}"
        assert 'class="solution' not in page
        for label in exercises.exercise_labels(exercises.read(path)):
            assert f'id="{label}"' in page, f"{path.stem}: exercise {label} missing"


@pytest.mark.slow
def test_nbgrader_releases_the_same_handout_for_every_chapter(student, tmp_path):
    """`make course` + `nbgrader generate_assignment` give, for every chapter, the notebook
    that `make student` hands out, with no solution in it."""
    bin_dir = Path(sys.executable).parent
    exercises.make_course(tmp_path, "all")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}  # nbgrader runs alembic
    run = subprocess.run([str(bin_dir / "nbgrader"), "generate_assignment", "all", "--force"],
                         cwd=tmp_path, capture_output=True, text=True, env=env)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    ours = exercises.make_student_version(tmp_path / "ours", build=False, assignment="all") or tmp_path / "ours"
    for path in CHAPTERS:
        released = exercises.read(tmp_path / "release" / "all" / path.name)
        handout = exercises.read(ours / "notebooks" / path.name)
        assert [(c["cell_type"], exercises.source(c), c["metadata"]) for c in released["cells"]] == \
               [(c["cell_type"], exercises.source(c), c["metadata"]) for c in handout["cells"]], path.name
        text = "\n".join(exercises.source(c) for c in released["cells"])
        assert "BEGIN SOLUTION" not in text
        leaked = [line for line in solution_lines(exercises.read(path)) if line in text]
        assert not leaked, f"{path.name}: solution text in nbgrader's release: {leaked[:3]}"
