"""Exercise tooling: nbgrader metadata for the chapters, and the student version.

    python scripts/exercises.py mark              # (re)write nbgrader metadata in chapters/*.ipynb
    python scripts/exercises.py student [--out student] [--no-build]

An exercise in a chapter is a ```{exercise}``` cell labelled chN-exK, followed by its
gated solution: a ```{solution-start} chN-exK``` cell, solution cells, a
```{solution-end}``` cell. A coding exercise's solution has one code cell that defines
the student's function, its body between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
(nbgrader's markers), and, after ``solution-end``, a check cell tagged ``exercise-check``
that calls an ``emlib.checks`` function on it.

``student`` writes
  student/notebooks/   the chapters with every solution removed: solution cells dropped,
                       marked regions replaced by ``raise NotImplementedError()``, every
                       output cleared, the checks kept;
  student/site/        the same book with the stored outputs of the narrative kept (so the
                       website shows its figures and numbers), built with sphinx-exercise's
                       hide_solutions into student/site/_build/html.
"""
import argparse
import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
CHECK_TAG = "exercise-check"
REMOVE_OUTPUT = "remove-output"  # Jupyter Book: the website shows the cell, not its output
SOLUTION_START = re.compile(r"^```\{solution-start\}\s+(\S+)")
SOLUTION_END = re.compile(r"^```\{solution-end\}")
EXERCISE = re.compile(r"^```\{exercise\}[^\n]*\n:label: (\S+)")


def source(cell):
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def set_source(cell, text):
    cell["source"] = text


def chapter_notebooks(root=ROOT):
    return sorted((root / "chapters").glob("[0-9][0-9]_*.ipynb"))


def read(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write(notebook, path):
    """Write as nbformat does (indent 1, sorted keys), so a round trip changes nothing."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                          encoding="utf-8")


def is_check(cell):
    return cell["cell_type"] == "code" and CHECK_TAG in cell.get("metadata", {}).get("tags", [])


def has_solution_markers(cell):
    return cell["cell_type"] == "code" and BEGIN in source(cell)


# ---------------------------------------------------------------------------
# walking the exercises
# ---------------------------------------------------------------------------

def solution_regions(notebook):
    """Yield (label, index of solution-start, index of solution-end) for every gated solution."""
    label, start = None, None
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text = source(cell)
        opening = SOLUTION_START.match(text)
        if opening:
            if label is not None:
                raise ValueError(f"solution {label} is not closed before solution {opening.group(1)}")
            label, start = opening.group(1), index
        elif SOLUTION_END.match(text):
            if label is None:
                raise ValueError(f"a solution-end at cell {index} has no solution-start")
            yield label, start, index
            label = None
    if label is not None:
        raise ValueError(f"solution {label} is never closed")


def exercise_labels(notebook):
    return [m.group(1) for cell in notebook["cells"] if cell["cell_type"] == "markdown"
            for m in [EXERCISE.match(source(cell))] if m]


def strip_solution_regions(text):
    """Replace every BEGIN/END SOLUTION region of a code cell by nbgrader's stub."""
    lines, out, inside = text.split("\n"), [], False
    for line in lines:
        if line.strip() == BEGIN:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + stub_line for stub_line in STUB.split("\n"))
        elif line.strip() == END:
            if not inside:
                raise ValueError("### END SOLUTION without ### BEGIN SOLUTION")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError("### BEGIN SOLUTION without ### END SOLUTION")
    return "\n".join(out)


# ---------------------------------------------------------------------------
# nbgrader metadata
# ---------------------------------------------------------------------------

def nbgrader_metadata(grade_id, *, solution, grade, points=0):
    metadata = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
                "solution": solution, "task": False}
    if grade:
        metadata["points"] = points
    return metadata


def mark_for_nbgrader(notebook):
    """Return a copy of ``notebook`` whose solution cells and check cells carry nbgrader
    metadata: every cell inside a gated solution is a solution cell (a code cell with
    markers keeps its signature; any other is replaced whole by nbgrader's stub; a Markdown
    cell is a manually graded answer worth one point), and every check cell is an
    autograded test worth one point."""
    notebook = copy.deepcopy(notebook)
    cells = notebook["cells"]
    for cell in cells:
        cell.get("metadata", {}).pop("nbgrader", None)
    for label, start, end in solution_regions(notebook):
        for offset, cell in enumerate(cells[start + 1: end]):
            # nbgrader wants a written (Markdown) answer to be a manually graded answer cell
            written = cell["cell_type"] == "markdown"
            cell.setdefault("metadata", {})["nbgrader"] = nbgrader_metadata(
                f"{label}-solution-{offset + 1}", solution=True, grade=written, points=1 if written else 0)
        check = _check_after(cells, end)
        if check is not None:
            check["metadata"]["nbgrader"] = nbgrader_metadata(f"{label}-check", solution=False, grade=True, points=1)
    for cell in cells:
        if is_check(cell) and REMOVE_OUTPUT not in cell["metadata"]["tags"]:
            # on the website a check's stored output is the verdict on the hidden solution,
            # which a reader would take for a verdict on their own answer
            cell["metadata"]["tags"].append(REMOVE_OUTPUT)
    return notebook


def _check_after(cells, end):
    """The check cell that follows a solution (before the next exercise), if any."""
    for cell in cells[end + 1:]:
        if is_check(cell):
            return cell
        if cell["cell_type"] == "markdown" and (EXERCISE.match(source(cell)) or source(cell).startswith("## ")):
            return None
    return None


# ---------------------------------------------------------------------------
# the student version
# ---------------------------------------------------------------------------

def student_notebook(notebook, *, keep_outputs=False):
    """Return the student version of a chapter notebook.

    Gated solutions are dropped, except their code cells with solution markers, which stay
    (after the exercise) with each marked region replaced by ``raise NotImplementedError()``.
    Check cells are kept, with their outputs cleared. With ``keep_outputs=False`` (the
    notebooks students run) every output is cleared, and an exercise whose solution has no
    marked cell gets an empty answer cell; with True (the student website) the narrative's
    outputs stay, so the site shows its figures and glued numbers.
    """
    notebook = copy.deepcopy(notebook)
    cells, region = [], None
    for cell in notebook["cells"]:
        text = source(cell)
        cell.get("metadata", {}).pop("nbgrader", None)
        if cell["cell_type"] == "markdown" and SOLUTION_START.match(text):
            region = []
            continue
        if cell["cell_type"] == "markdown" and SOLUTION_END.match(text):
            cells.extend(_student_cells(region, answer_cells=not keep_outputs))
            region = None
            continue
        if region is not None:
            region.append(cell)
            continue
        if has_solution_markers(cell):
            cells.extend(_student_cells([cell], answer_cells=False))
            continue
        if cell["cell_type"] == "code" and (not keep_outputs or is_check(cell)):
            _clear(cell)
        cells.append(cell)
    notebook["cells"] = cells
    return notebook


def _student_cells(solution_cells, answer_cells):
    """What a student sees in place of a solution: its marked cells stubbed, or else an
    empty cell to answer in (code if the solution has code, markdown otherwise)."""
    stubs = []
    for cell in solution_cells:
        if has_solution_markers(cell):
            set_source(cell, strip_solution_regions(source(cell)))
            _clear(cell)
            stubs.append(cell)
    if stubs or not answer_cells:
        return stubs
    answer_id = f"answer-{solution_cells[0].get('id', 'cell')}" if solution_cells else "answer"
    if any(cell["cell_type"] == "code" for cell in solution_cells):
        return [{"cell_type": "code", "execution_count": None, "id": answer_id, "metadata": {}, "outputs": [],
                 "source": "# YOUR CODE HERE"}]
    return [{"cell_type": "markdown", "id": answer_id, "metadata": {}, "source": "*Your answer here.*"}]


def _clear(cell):
    if cell["cell_type"] == "code":
        cell["outputs"] = []
        cell["execution_count"] = None


def make_student_version(out, build=True, root=ROOT):
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    site = out / "site"
    (site / "chapters").mkdir(parents=True)
    shutil.copy(root / "references.bib", site / "references.bib")
    for folder in ("_ext", "_static", "_extra"):  # the book's Sphinx extension, its CSS, the playground's scripts
        shutil.copytree(root / folder, site / folder, ignore=shutil.ignore_patterns("__pycache__"))
    toc = (root / "_toc.yml").read_text()
    (site / "_toc.yml").write_text(toc.split("  - caption: Teaching with this book")[0])  # no instructors' part
    config = (root / "_config.yml").read_text()
    config = config.replace('title: "Expectation-Maximisation Explained"',
                            'title: "Expectation-Maximisation Explained (student edition)"')
    config = config.replace("  config:\n", "  config:\n    hide_solutions: true\n", 1)
    (site / "_config.yml").write_text(config)
    for page in (root / "chapters").glob("*.md"):
        if page.name != "instructors.md":
            shutil.copy(page, site / "chapters" / page.name)
    for path in chapter_notebooks(root):
        notebook = read(path)
        write(student_notebook(notebook, keep_outputs=False), out / "notebooks" / path.name)
        write(student_notebook(notebook, keep_outputs=True), site / "chapters" / path.name)
    print(f"student notebooks: {out / 'notebooks'}")
    if build:
        jupyter_book = Path(sys.executable).parent / "jupyter-book"
        subprocess.run([str(jupyter_book), "build", str(site), "--all", "-W", "-n", "--keep-going"], check=True)
        print(f"student website: {site / '_build' / 'html' / 'index.html'}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Exercise tooling: nbgrader metadata and the student version.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("mark", help="write nbgrader metadata into chapters/*.ipynb")
    student = commands.add_parser("student", help="make the student notebooks and website")
    student.add_argument("--out", default=str(ROOT / "student"))
    student.add_argument("--no-build", action="store_true", help="skip building the student website")
    args = parser.parse_args(argv)
    if args.command == "mark":
        for path in chapter_notebooks():
            write(mark_for_nbgrader(read(path)), path)
            print(f"marked {path.name}")
    else:
        make_student_version(args.out, build=not args.no_build)


if __name__ == "__main__":
    main()
