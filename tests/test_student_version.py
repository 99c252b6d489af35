"""The student version holds no solution, its notebooks run (failing only on unsolved
exercises), its website builds without solutions, and the chapters are marked for nbgrader."""
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import exercises  # noqa: E402

CHAPTERS = exercises.chapter_notebooks(ROOT)


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    exercises.make_student_version(out, build=False, root=ROOT)
    return out


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
def test_student_notebooks_keep_exercises_stubs_and_checks_and_clear_outputs(student, path):
    original, released = exercises.read(path), exercises.read(student / "notebooks" / path.name)
    assert exercises.exercise_labels(released) == exercises.exercise_labels(original)
    assert not any(c.get("outputs") for c in released["cells"] if c["cell_type"] == "code")
    checks = [exercises.source(c) for c in original["cells"] if exercises.is_check(c)]
    assert checks == [exercises.source(c) for c in released["cells"] if exercises.is_check(c)]
    stubs = [c for c in released["cells"] if "raise NotImplementedError()" in exercises.source(c)]
    assert len(stubs) == len(checks), "one stub per coding exercise"
    assert "solution-start" not in json.dumps(released)


def test_strip_solution_regions_keeps_the_signature_and_indentation():
    code = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    assert exercises.strip_solution_regions(code) == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n")
    with pytest.raises(ValueError, match="END"):
        exercises.strip_solution_regions("### BEGIN SOLUTION\nx = 1\n")


def test_chapters_carry_up_to_date_nbgrader_metadata():
    """`python scripts/exercises.py mark` has been run: solution cells are nbgrader solution
    cells, and check cells are autograded tests worth a point."""
    for path in CHAPTERS:
        notebook = exercises.read(path)
        assert exercises.mark_for_nbgrader(notebook) == notebook, f"run scripts/exercises.py mark ({path.name})"
        graded = [c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
        autograded = [c for c in graded if c["cell_type"] == "code"]
        assert all(exercises.is_check(c) for c in autograded)
        assert len(autograded) == sum(exercises.is_check(c) for c in notebook["cells"])
        assert all(c["metadata"]["nbgrader"]["solution"] for c in graded if c["cell_type"] == "markdown")


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_student_notebooks_run_failing_only_on_unsolved_exercises(student, path):
    notebook = nbformat.read(student / "notebooks" / path.name, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(ROOT / "chapters")}}).execute()
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert all(error.ename == "NotImplementedError" for error in errors), [
        f"{e.ename}: {e.evalue}" for e in errors if e.ename != "NotImplementedError"]
    checks = [c for c in notebook.cells if exercises.is_check(c)]
    assert len(errors) == len(checks)  # every check stops on its stub's NotImplementedError
    assert all(any(o.output_type == "error" for o in c.outputs) for c in checks)


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
def test_nbgrader_generate_assignment_releases_every_chapter_without_solutions(tmp_path):
    """A course on nbgrader can use the chapters directly: `nbgrader generate_assignment`
    accepts their metadata and its release holds no solution."""
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "nbgrader").exists():
        pytest.skip("nbgrader is not installed in this environment")
    (tmp_path / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id = "em"\n')
    for path in CHAPTERS:
        source = tmp_path / "source" / path.stem
        source.mkdir(parents=True)
        shutil.copy(path, source / path.name)
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}  # nbgrader runs alembic
        run = subprocess.run([str(bin_dir / "nbgrader"), "generate_assignment", path.stem, "--force"],
                             cwd=tmp_path, capture_output=True, text=True, env=env)
        assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
        released = exercises.read(tmp_path / "release" / path.stem / path.name)
        text = "\n".join(exercises.source(c) for c in released["cells"])
        assert "BEGIN SOLUTION" not in text
        leaked = [line for line in solution_lines(exercises.read(path)) if line in text]
        assert not leaked, f"{path.name}: solution text in nbgrader's release: {leaked[:3]}"
        assert text.count("raise NotImplementedError()") >= sum(exercises.is_check(c) for c in released["cells"])
