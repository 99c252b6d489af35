"""Exercise tooling: the handout students get, the nbgrader course, the answer key, the PDF.

    python scripts/exercises.py student [--chapters 03 05] [--exercises ch3-ex1 ...]
                                        [--assignment ps2] [--out student] [--no-build]
    python scripts/exercises.py course DIR --assignment NAME [--chapters ...] [--exercises ...]
    python scripts/exercises.py answer-key [--chapters ...] [--out answer-key]
    python scripts/exercises.py pdf [--out _build/pdf/em-explained.pdf]
    python scripts/exercises.py mark              # tidy the chapters' metadata (no nbgrader metadata)

An exercise in a chapter is a ```{exercise}``` cell labelled chN-exK, followed by its
gated solution: a ```{solution-start} chN-exK``` cell, solution cells, a
```{solution-end}``` cell. A coding exercise's solution has one code cell that defines
the student's function, its body between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
(nbgrader's markers), and, after ``solution-end``, a check cell tagged ``exercise-check``
that calls an ``emlib.checks`` function on it.

Points, rubrics and named assignments live in one table, ``scripts/exercises.toml``; the
chapters carry no grading metadata. From a chapter and the table, :func:`nbgrader_source`
makes the nbgrader *source* notebook: for each chosen exercise, the function cell as a
solution cell, a free cell for the student's own work, a manually graded task cell with
the rubric as nbgrader's mark scheme and an answer cell below it (written parts), and the
check cell as an autograded test whose hidden part grades a fresh copy of
``emlib.checks`` on new random cases. The handout is that source put through nbgrader's
own release preprocessors (:func:`release`), so ``make student`` and
``nbgrader generate_assignment`` give the same notebook, which nbgrader grades.
"""
import argparse
import copy
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = Path(__file__).resolve().parent / "exercises.toml"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
CHECK_TAG = "exercise-check"
REMOVE_OUTPUT = "remove-output"  # Jupyter Book: the website shows the cell, not its output
SOLUTION_START = re.compile(r"^```\{solution-start\}\s+(\S+)")
SOLUTION_END = re.compile(r"^```\{solution-end\}")
EXERCISE = re.compile(r"^```\{exercise\}[^\n]*\n:label: (\S+)")
# the first line of an exercise's body: its level and time, written from exercises.toml by `mark`
LEVEL_LINE = re.compile(r"^\*(Core|Stretch) · about \d+ minutes\.\*\n\n", re.M)
COURSE_ID = "em-explained"


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
# the table: points, rubrics, assignments
# ---------------------------------------------------------------------------

def load_table(path=TABLE):
    with open(path, "rb") as file:
        table = tomllib.load(file)
    assignments = table.pop("assignments", {})
    return table, assignments


def points(label, table):
    entry = table.get(label)
    if entry is None:
        raise KeyError(f"exercise {label} is not in {TABLE.name}: give it its points there")
    return int(entry.get("check", 0)), int(entry.get("written", 0))


def select(chapters=None, exercises=None, assignment=None, root=ROOT):
    """The chapter notebooks and the exercise labels (None: all) of an assignment."""
    if assignment:
        _, assignments = load_table()
        if assignment in assignments:
            chapters = chapters or assignments[assignment].get("chapters")
            exercises = exercises or assignments[assignment].get("exercises")
    paths = chapter_notebooks(root)
    if chapters:
        wanted = {int(str(c).strip()) for c in chapters}
        paths = [p for p in paths if int(p.name[:2]) in wanted]
        if not paths:
            raise SystemExit(f"no chapter among {sorted(wanted)}")
    if exercises:
        exercises = set(exercises)
        known = {label for p in paths for label in exercise_labels(read(p))}
        if exercises - known:
            raise SystemExit(f"unknown exercises (or not in the chosen chapters): {sorted(exercises - known)}")
        paths = [p for p in paths if exercises & set(exercise_labels(read(p)))]
    return paths, exercises


# ---------------------------------------------------------------------------
# the nbgrader source notebook and the handout
# ---------------------------------------------------------------------------

def nbgrader_metadata(grade_id, *, solution=False, grade=False, task=False, points=0):
    metadata = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
                "solution": solution, "task": task}
    if grade or task:
        metadata["points"] = points
    return metadata


def hidden_tests(label, name):
    """The graded part of a check cell (hidden from students by nbgrader): a fresh copy of
    emlib.checks, so no check the notebook replaced counts, run with new random cases."""
    return ("# graded: a fresh copy of emlib.checks (nothing this notebook redefined counts), new random cases\n"
            "import importlib.util as _checks_util\n"
            "_checks_spec = _checks_util.find_spec(\"emlib.checks\")\n"
            "_checks_fresh = _checks_util.module_from_spec(_checks_spec)\n"
            "_checks_spec.loader.exec_module(_checks_fresh)\n"
            f"_checks_fresh.grade({label!r}, {name})")


def _markdown(cell_id, text, nbgrader=None):
    cell = {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text}
    if nbgrader:
        cell["metadata"]["nbgrader"] = nbgrader
    return cell


def _code(cell_id, text):
    return {"cell_type": "code", "execution_count": None, "id": cell_id, "metadata": {}, "outputs": [],
            "source": text}


def _plural(n, word="point"):
    return f"{n} {word}{'' if n == 1 else 's'}"


def exercise_blocks(notebook):
    """{label: (index of the exercise cell, solution-start, solution-end, index of the check or None)}."""
    cells = notebook["cells"]
    where = {m.group(1): i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
             for m in [EXERCISE.match(source(c))] if m}
    blocks = {}
    for label, start, end in solution_regions(notebook):
        check = _check_after(cells, end)
        blocks[label] = (where[label], start, end, cells.index(check) if check is not None else None)
    missing = set(where) - set(blocks)
    if missing:
        raise ValueError(f"exercises without a gated solution: {sorted(missing)}")
    return blocks


def _check_after(cells, end):
    """The check cell that follows a solution (before the next exercise), if any."""
    for cell in cells[end + 1:]:
        if is_check(cell):
            return cell
        if cell["cell_type"] == "markdown" and (EXERCISE.match(source(cell)) or source(cell).startswith("## ")):
            return None
    return None


def plain_exercise(text):
    """An ```{exercise}``` directive as plain Markdown (a heading that names the label), so the
    exercise reads the same in nbgrader's feedback, in `nbgrader validate` and in any
    notebook viewer, not only where MyST is rendered."""
    match = re.match(r"^```\{exercise\}\s*([^\n]*)\n:label: (\S+)\n(?::[^\n]*\n)*\n?(.*?)\n?```\s*$", text, re.S)
    if not match:
        return text
    title, label, body = match.groups()
    return f"### Exercise {label}{': ' + title if title else ''}\n\n{body.strip()}"


HANDOUT_EXERCISE = re.compile(r"^### Exercise (ch\d+-ex\d+)")


def handout_labels(notebook):
    """The exercise labels of a handout (or nbgrader source) notebook."""
    return [m.group(1) for cell in notebook["cells"] if cell["cell_type"] == "markdown"
            for m in [HANDOUT_EXERCISE.match(source(cell))] if m]


EVAL = re.compile(r"\{eval\}`([^`]+)`")


def stored_values(cell):
    """{expression: text} of a Markdown cell's inline {eval} values, as jupyterlab-myst stored
    them in the cell's metadata (user_expressions); a str's quotes stripped, as it shows them."""
    values = {}
    for entry in cell.get("metadata", {}).get("user_expressions", []):
        text = entry.get("result", {}).get("data", {}).get("text/plain")
        if isinstance(text, list):
            text = "".join(text)
        if text is not None:
            values[entry["expression"]] = text[1:-1] if text[:1] == text[-1:] and text[:1] in "'\"" else text
    return values


def with_values_written_in(cell):
    """The Markdown of ``cell`` with every {eval} role replaced by its stored value: the handout
    reads the same in nbgrader's feedback pages, which do not render MyST."""
    values = stored_values(cell)
    return EVAL.sub(lambda m: values.get(m.group(1), m.group(0)), source(cell))


def nbgrader_source(notebook, table, exercises=None):
    """The nbgrader source notebook of a chapter, for the exercises chosen (None: all)."""
    notebook = copy.deepcopy(notebook)
    cells = notebook["cells"]
    for cell in cells:  # the handout's outputs are cleared: write the prose's numbers in
        cell.get("metadata", {}).pop("nbgrader", None)
        if cell["cell_type"] == "markdown" and "{eval}" in source(cell):
            cell["source"] = with_values_written_in(cell)
            cell["metadata"].pop("user_expressions", None)
    blocks = exercise_blocks(notebook)
    chosen = [label for label in blocks if exercises is None or label in exercises]
    role = {}  # cell index -> (label, part)
    for label, (exercise, start, end, check) in blocks.items():
        for index in range(start, end + 1):
            role[index] = (label, "solution")
        role[exercise] = (label, "exercise")
        if check is not None:
            role[check] = (label, "check")
    total_auto = total_written = 0
    out = []
    for index, cell in enumerate(cells):
        label, part = role.get(index, (None, None))
        if label is None:
            out.append(cell)
            continue
        if label not in chosen:
            continue
        check_points, written_points = points(label, table)
        if part == "exercise":
            cell["source"] = plain_exercise(source(cell))
            out.append(cell)
            parts = ([f"{_plural(check_points)} for the automatic check"] if check_points else []) + \
                    ([f"{_plural(written_points)} for the written answer, graded by hand"] if written_points else [])
            out.append(_markdown(f"{label}-points", f"*Exercise {label}: {' and '.join(parts) or 'not graded'}.*"))
        elif part == "solution" and SOLUTION_START.match(source(cell)):
            _, start, end, check = blocks[label]
            solution = cells[start + 1:end]
            marked = [c for c in solution if has_solution_markers(c)]
            for function_cell in marked:
                function_cell["metadata"]["nbgrader"] = nbgrader_metadata(f"{label}-code", solution=True)
                out.append(function_cell)
            if any(c["cell_type"] == "code" and not has_solution_markers(c) for c in solution):
                task = "try your function, compute what the exercise asks" if marked else "compute what the exercise asks"
                out.append(_code(f"{label}-work", f"# Your work for exercise {label} (not graded): {task}.\n"))
            if check is not None:  # right after the function, before the written part
                check_cell = cells[check]
                name = re.search(r"emlib\.checks\.check_(\w+)\((\w+)\)", source(check_cell)).group(2)
                check_cell["source"] = (source(check_cell).rstrip("\n") + "\n### BEGIN HIDDEN TESTS\n"
                                        + hidden_tests(label, name) + "\n### END HIDDEN TESTS")
                check_cell["metadata"]["nbgrader"] = nbgrader_metadata(f"{label}-check", grade=True,
                                                                       points=check_points)
                check_cell["outputs"], check_cell["execution_count"] = [], None
                out.append(check_cell)
                total_auto += check_points
            if written_points:
                model = "\n\n".join(source(c) for c in solution if c["cell_type"] == "markdown")
                rubric = "\n".join(f"- {line}" for line in table[label].get("rubric", []))
                out.append(_markdown(f"{label}-written", (
                    f"**Written answer to exercise {label}** ({_plural(written_points)}, graded by hand): "
                    f"write it in the cell below.\n\n"
                    f"=== BEGIN MARK SCHEME ===\n\n"
                    f"**Rubric for {label}** ({_plural(written_points)}, one per line):\n\n{rubric}\n\n"
                    f"**The chapter's model answer:**\n\n{model}\n\n"
                    f"=== END MARK SCHEME ==="),
                    nbgrader_metadata(f"{label}-written", task=True, points=written_points)))
                out.append(_markdown(f"{label}-answer", "*Your answer here.*"))
            total_written += written_points
    title = next((line[2:] for c in cells if c["cell_type"] == "markdown" for line in source(c).splitlines()
                  if line.startswith("# ")), "this chapter")
    intro = (f"**{title}.** "
             f"Exercises: {', '.join(chosen)}; {_plural(total_auto + total_written)} "
             f"({total_auto} from automatic checks, {total_written} for written answers graded by hand).\n\n"
             "Write each function where it says `# YOUR CODE HERE` (delete the `raise NotImplementedError()` line), "
             "and each written answer in the cell under *Written answer*. Run all the cells "
             "(*Run → Run All Cells*): every check prints ✓, or says in red what is wrong and gives a hint, "
             "and never stops the run. Grading runs more cases than you see, some of them random, so a check "
             "passes for a right answer, not for one that fits the visible cases. Before you submit: "
             "*Kernel → Restart Kernel and Run All Cells*.")
    notebook["cells"] = [_markdown("assignment-intro", intro)] + out
    return notebook


def release(source_notebook):
    """The handout: the source notebook through nbgrader's release preprocessors, in the
    order of ``nbgrader generate_assignment`` (less the gradebook), so it is the same
    notebook that ``generate_assignment`` releases."""
    import nbformat
    from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearOutput,
                                        ClearSolutions, ComputeChecksums, LockCells)
    notebook = nbformat.reads(json.dumps(source_notebook), as_version=4)
    resources = {}
    for preprocessor in (LockCells, ClearSolutions, ClearOutput, CheckCellMetadata, ComputeChecksums,
                         ClearHiddenTests, ClearMarkScheme, ComputeChecksums, CheckCellMetadata):
        notebook, resources = preprocessor().preprocess(notebook, resources)
    return json.loads(nbformat.writes(notebook))


NBGRADER_CONFIG = f'''# nbgrader configuration of the course, written by scripts/exercises.py course
c = get_config()
c.CourseDirectory.course_id = "{COURSE_ID}"
# a chapter's cells (fits, animations) may take longer than nbgrader's 30 s default
c.Execute.timeout = 300
# the feedback shows neither the hidden graded cases nor the rubric (reuse them next term)
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, GetGrades
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ClearMarkScheme, CSSHTMLHeaderPreprocessor]
'''


def make_course(course, assignment, chapters=None, exercises=None, root=ROOT):
    """Write an nbgrader course folder's source/ASSIGNMENT/ (and nbgrader_config.py if absent)."""
    course = Path(course)
    table, _ = load_table()
    paths, exercises = select(chapters, exercises, assignment, root)
    folder = course / "source" / assignment
    if folder.exists():
        shutil.rmtree(folder)
    for path in paths:
        write(nbgrader_source(read(path), table, exercises), folder / path.name)
        print(f"nbgrader source: {folder / path.name}")
    config = course / "nbgrader_config.py"
    if not config.exists():
        config.write_text(NBGRADER_CONFIG)
        print(f"nbgrader config: {config}")
    return [folder / p.name for p in paths]


# ---------------------------------------------------------------------------
# the chapters' own metadata
# ---------------------------------------------------------------------------

def mark_for_nbgrader(notebook):
    """Return a copy of ``notebook`` as the chapters are kept: no nbgrader metadata (the
    grading lives in exercises.toml and in the source notebooks made from it), and every
    check cell tagged remove-output, so the website does not show the verdict on the hidden
    solution, which a reader would take for a verdict on their own answer."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook["cells"]:
        cell.get("metadata", {}).pop("nbgrader", None)
        if is_check(cell) and REMOVE_OUTPUT not in cell["metadata"]["tags"]:
            cell["metadata"]["tags"].append(REMOVE_OUTPUT)
    return notebook


def level_line(entry):
    """``*Core · about 15 minutes.*``: an exercise's level and time, from its exercises.toml entry."""
    return f"*{entry['level'].capitalize()} · about {int(entry['minutes'])} minutes.*\n\n"


def with_level_lines(notebook, table):
    """Return a copy of ``notebook`` whose exercises each open with their level and time (from
    ``table``), replacing the line a previous run wrote; idempotent."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook["cells"]:
        match = EXERCISE.match(source(cell)) if cell["cell_type"] == "markdown" else None
        if match is None:
            continue
        entry = table.get(match.group(1), {})
        if entry.get("level") not in ("core", "stretch") or "minutes" not in entry:
            raise KeyError(f"exercise {match.group(1)} needs level = \"core\" or \"stretch\" and minutes in {TABLE.name}")
        head, body = source(cell)[:match.end()] + "\n\n", LEVEL_LINE.sub("", source(cell)[match.end():].lstrip("\n"), count=1)
        cell["source"] = (head + level_line(entry) + body).splitlines(keepends=True)  # as nbformat stores it
    return notebook


# ---------------------------------------------------------------------------
# the student website
# ---------------------------------------------------------------------------

def student_notebook(notebook, *, keep_outputs=False):
    """Return the student version of a chapter notebook.

    Gated solutions are dropped, except their code cells with solution markers, which stay
    (after the exercise) with each marked region replaced by ``raise NotImplementedError()``.
    Check cells are kept, with their outputs cleared. With ``keep_outputs=False`` (the
    notebooks students run) every output is cleared, and an exercise whose solution has no
    marked cell gets an empty answer cell; with True (the student website) the narrative's
    outputs stay, so the site shows its figures and the numbers of its prose.
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


def make_student_version(out, build=True, root=ROOT, chapters=None, exercises=None, assignment=None):
    """student/notebooks: the handout of the chosen chapters and exercises (nbgrader's
    release of their source notebooks); student/site: the whole book without solutions."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    table, _ = load_table()
    paths, exercises = select(chapters, exercises, assignment, root)
    for path in paths:
        write(release(nbgrader_source(read(path), table, exercises)), out / "notebooks" / path.name)
    print(f"student notebooks: {out / 'notebooks'}")
    site = out / "site"
    write_student_site(site, root)
    if build:
        jupyter_book = Path(sys.executable).parent / "jupyter-book"
        subprocess.run([str(jupyter_book), "build", str(site), "--all", "-W", "-n", "--keep-going"], check=True)
        print(f"student website: {site / '_build' / 'html' / 'index.html'}")


def write_student_site(site, root=ROOT, title="Expectation-Maximisation Explained (student edition)"):
    """The book's sources without solutions (and without the instructors' page), to build."""
    site = Path(site)
    if site.exists():
        shutil.rmtree(site)
    (site / "chapters").mkdir(parents=True)
    shutil.copy(root / "references.bib", site / "references.bib")
    for folder in ("_ext", "_static", "_extra"):  # the book's Sphinx extension, its CSS, the playground's scripts
        shutil.copytree(root / folder, site / folder, ignore=shutil.ignore_patterns("__pycache__"))
    toc = (root / "_toc.yml").read_text()
    (site / "_toc.yml").write_text(toc.split("  - caption: Teaching with this book")[0])  # no instructors' part
    config = (root / "_config.yml").read_text()
    config = config.replace('title: "Expectation-Maximisation Explained"', f'title: "{title}"')
    config = config.replace("  config:\n", "  config:\n    hide_solutions: true\n", 1)
    (site / "_config.yml").write_text(config)
    for page in (root / "chapters").glob("*.md"):
        if page.name != "instructors.md":
            shutil.copy(page, site / "chapters" / page.name)
    for path in chapter_notebooks(root):
        write(student_notebook(read(path), keep_outputs=True), site / "chapters" / path.name)
    return site


# ---------------------------------------------------------------------------
# the PDF of the book and the answer key: singlehtml, printed by Chromium
# ---------------------------------------------------------------------------

def build_singlehtml(book, *, warnings_are_errors=True):
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(book), "--all", "--builder", "singlehtml"]
    if warnings_are_errors:
        command += ["-W", "-n", "--keep-going"]
    subprocess.run(command, check=True)
    index = Path(book) / "_build" / "singlehtml" / "index.html"
    redirect = re.search(r'url=([^"]+)"', index.read_text())  # Jupyter Book's index.html redirects to the root page
    if not redirect:
        return index
    # the one page's links (_static/, _images/) are relative to the build's top folder, not to
    # chapters/ where Sphinx writes it: put a copy at the top
    page = index.parent / "book.html"
    shutil.copy(index.parent / redirect.group(1), page)
    return page


# Keep, from a singlehtml book, only each chapter's title and its exercises, solutions and rubrics.
ANSWER_KEY_FILTER = """() => {
  const keep = '.exercise, .solution, .answer-key-rubric';
  const main = document.querySelector('main') || document.body;
  for (const section of [...main.querySelectorAll('section')]) {
    if (!section.isConnected || section.closest(keep)) continue;  // gone already, or inside an exercise
    const chapter = section.querySelector(':scope > h1');
    if (!section.querySelector(keep) && !chapter) { section.remove(); continue; }
    for (const child of [...section.children]) {
      if (/^H[1-6]$/.test(child.tagName) || child.tagName === 'SECTION') continue;
      if (child.matches(keep) || child.querySelector(keep)) continue;
      child.remove();
    }
  }
  for (const chrome of document.querySelectorAll('.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, footer, .bd-footer, .prev-next-area, .header-article')) chrome.remove();
}"""

PRINT_CSS = """
  .bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer, footer, .prev-next-area,
  .header-article, .bd-header-announcement, #pst-back-to-top, .headerlink { display: none !important; }
  .bd-main .bd-content .bd-article-container, .bd-page-width, .bd-container { max-width: 100% !important; }
  section > h1 { break-before: page; }
  div.cell_output img, figure img { max-width: 100% !important; break-inside: avoid; }
  details { display: block; }
  pre, .highlight pre, div.output pre { white-space: pre-wrap !important; word-break: break-word; }
"""


def print_pdf(html, pdf, *, answer_key=False, save_html=None):
    """Open ``html`` in Debian's Chromium (offline: every request but to the local files is
    refused), wait for MathJax and the images, and print it to ``pdf``."""
    from playwright.sync_api import sync_playwright
    pdf = Path(pdf)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        page = browser.new_page()
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                   else route.abort())
        page.goto(Path(html).resolve().as_uri(), wait_until="load")
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
        page.evaluate("() => MathJax.startup.promise")
        page.evaluate("() => Promise.all([...document.images].map(i => i.complete ? 0 : "
                      "new Promise(r => { i.onload = i.onerror = r; })))")
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        if answer_key:
            page.evaluate(ANSWER_KEY_FILTER)
        page.add_style_tag(content=PRINT_CSS)
        if save_html:
            page.evaluate("() => document.querySelectorAll('script').forEach(s => s.remove())")
            Path(save_html).write_text("<!DOCTYPE html>\n" + page.content(), encoding="utf-8")
        page.emulate_media(media="print")
        page.pdf(path=str(pdf), format="A4", print_background=True, outline=True, tagged=True,
                 margin={"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"},
                 display_header_footer=True, header_template="<span></span>",
                 footer_template='<div style="font-size:8px;width:100%;text-align:center">'
                                 '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')
        browser.close()
    print(f"PDF: {pdf}")
    return pdf


def make_pdf(out=ROOT / "_build" / "pdf" / "em-explained.pdf", root=ROOT):
    """The whole book as one PDF, offline, without solutions (they are the answer key's):
    the book built as one HTML page (singlehtml) and printed by Chromium."""
    book = write_student_site(Path(out).parent / "book", root, title="Expectation-Maximisation Explained")
    return print_pdf(build_singlehtml(book), out)


def make_answer_key(out=ROOT / "answer-key", chapters=None, root=ROOT):
    """The answer key: every chosen chapter's exercises with their solutions open, points
    and rubrics, as HTML (out/answer-key.html) and PDF (out/answer-key.pdf)."""
    out = Path(out)
    book = out / "book"
    if out.exists():
        shutil.rmtree(out)
    (book / "chapters").mkdir(parents=True)
    table, _ = load_table()
    paths, _ = select(chapters, None, None, root)
    for name in ("references.bib", "_config.yml"):
        shutil.copy(root / name, book / name)
    config = (book / "_config.yml").read_text().replace(
        'title: "Expectation-Maximisation Explained"', 'title: "Expectation-Maximisation Explained: answer key"')
    (book / "_config.yml").write_text(config)
    for folder in ("_ext", "_static"):
        shutil.copytree(root / folder, book / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for page in (root / "chapters").glob("*.md"):
        shutil.copy(page, book / "chapters" / page.name)
    chosen = {p.stem for p in paths}
    toc = (root / "_toc.yml").read_text().split("  - caption: Teaching with this book")[0]
    toc = "\n".join(line for line in toc.splitlines()
                    if "chapters/0" not in line or line.split("chapters/")[1].strip() in chosen)
    (book / "_toc.yml").write_text(toc + "\n")
    for path in paths:
        notebook = read(path)
        cells = []
        for cell in notebook["cells"]:
            text = source(cell)
            if cell["cell_type"] == "markdown" and SOLUTION_START.match(text):
                label = SOLUTION_START.match(text).group(1)
                check_points, written_points = points(label, table)
                rubric = "\n".join(f"- {line}" for line in table[label].get("rubric", []))
                cells.append(_markdown(f"{label}-rubric", (
                    f"```{{admonition}} Grading {label}: {_plural(check_points + written_points)}\n"
                    f":class: answer-key-rubric\n\n"
                    + (f"Automatic check: {_plural(check_points)}.\n\n" if check_points else "")
                    + (f"Written answer: {_plural(written_points)}, one per line:\n\n{rubric}\n" if written_points else "")
                    + "```")))
                cell = copy.deepcopy(cell)
                cell["source"] = text.replace(":class: dropdown\n", "")
            cells.append(cell)
        notebook["cells"] = cells
        write(notebook, book / "chapters" / path.name)
    index = build_singlehtml(book, warnings_are_errors=False)
    html = index.parent / "answer-key.html"
    pdf = print_pdf(index, out / "answer-key.pdf", answer_key=True, save_html=html)
    print(f"answer key: {html} and {pdf}")
    return html, pdf


def main(argv=None):
    parser = argparse.ArgumentParser(description="Exercise tooling: handout, nbgrader course, answer key, PDF.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("mark", help="tidy the chapters' metadata (no nbgrader metadata; checks' outputs hidden)")

    def choice(command):
        command.add_argument("--chapters", nargs="*", help="chapter numbers, e.g. 03 05 (default: all)")
        command.add_argument("--exercises", nargs="*", help="exercise labels, e.g. ch3-ex1 ch3-ex4 (default: all)")
        command.add_argument("--assignment", help="a named assignment of exercises.toml, or a new name")
    student = commands.add_parser("student", help="make the handout notebooks and the website without solutions")
    choice(student)
    student.add_argument("--out", default=str(ROOT / "student"))
    student.add_argument("--no-build", action="store_true", help="skip building the student website")
    course = commands.add_parser("course", help="write an nbgrader course's source/ASSIGNMENT notebooks")
    course.add_argument("course_dir")
    choice(course)
    key = commands.add_parser("answer-key", help="the answer key, HTML and PDF")
    key.add_argument("--chapters", nargs="*")
    key.add_argument("--out", default=str(ROOT / "answer-key"))
    pdf = commands.add_parser("pdf", help="the whole book as a PDF (offline, Chromium)")
    pdf.add_argument("--out", default=str(ROOT / "_build" / "pdf" / "em-explained.pdf"))
    args = parser.parse_args(argv)
    split = lambda values: [v for value in values or [] for v in value.replace(",", " ").split()] or None  # noqa: E731
    if args.command == "mark":
        table, _ = load_table()
        for path in chapter_notebooks():
            write(with_level_lines(mark_for_nbgrader(read(path)), table), path)
            print(f"marked {path.name}")
    elif args.command == "student":
        make_student_version(args.out, build=not args.no_build, chapters=split(args.chapters),
                             exercises=split(args.exercises), assignment=args.assignment)
    elif args.command == "course":
        if not args.assignment:
            parser.error("course needs --assignment NAME")
        make_course(args.course_dir, args.assignment, split(args.chapters), split(args.exercises))
    elif args.command == "answer-key":
        make_answer_key(args.out, split(args.chapters))
    else:
        make_pdf(args.out)


if __name__ == "__main__":
    main()
