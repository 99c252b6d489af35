"""Every chapter opens and closes the same way, and its prose and code stay in sync.

These checks read the committed notebooks (nbval, run by the same `pytest`, re-executes
them and compares their outputs).
"""
import ast
import builtins
import json
import re
from pathlib import Path

import pytest

from conftest import collapsed_in_jupyterlab

ROOT = Path(__file__).resolve().parent.parent
TOC = (ROOT / "_toc.yml").read_text()
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
MIN_EXERCISES = {"07": 2}  # the conclusion may have fewer; every other chapter at least 3


def load(path):
    return json.loads(path.read_text())


def source(cell):
    return "".join(cell["source"])


def markdown(notebook):
    return "\n".join(source(c) for c in notebook["cells"] if c["cell_type"] == "markdown")


def code_cells(notebook):
    return [c for c in notebook["cells"] if c["cell_type"] == "code"]


def chapter_number(path):
    return path.name[:2]


def test_there_are_eight_chapters_all_in_the_toc():
    assert [chapter_number(p) for p in CHAPTERS] == ["01", "02", "03", "04", "05", "06", "07", "08"]
    for path in CHAPTERS:
        assert f"chapters/{path.stem}" in TOC


@pytest.fixture(params=CHAPTERS, ids=lambda p: p.stem)
def chapter(request):
    return request.param, load(request.param)


def test_opens_with_title_and_learning_objectives(chapter):
    path, notebook = chapter
    first = source(notebook["cells"][0])
    assert first.startswith("# ") and not re.match(r"# \d", first), (
        "the first cell is the chapter's title, without a number (the table of contents numbers chapters)")
    assert "Learning objectives" in first


def test_one_imports_cell_with_a_seeded_rng(chapter):
    _, notebook = chapter
    cells = code_cells(notebook)
    first = source(cells[0])
    assert re.search(r"rng = np\.random\.default_rng\(\d+\)", first), "the imports cell ends with a seeded rng"
    for cell in cells[1:]:
        for line in source(cell).splitlines():
            assert not re.match(r"\s*(import |from \S+ import )", line) or "BEGIN SOLUTION" in source(cell), (
                f"imports belong in the first code cell, found {line!r}"
            )


def test_no_unseeded_randomness(chapter):
    _, notebook = chapter
    for cell in code_cells(notebook):
        text = source(cell)
        assert "np.random.seed" not in text and not re.search(r"np\.random\.(rand|randn|normal|choice)\(", text), (
            "use the chapter's rng, not NumPy's global generator"
        )
        assert not re.search(r"default_rng\(\)", text), "every generator is seeded"


def test_closes_with_summary_exercises_references(chapter):
    _, notebook = chapter
    text = markdown(notebook)
    positions = [text.find(heading) for heading in ("## Summary", "## Exercises", "## References")]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    assert "```{bibliography}" in source(notebook["cells"][-1])


def test_enough_labelled_exercises_each_with_a_gated_solution(chapter):
    path, notebook = chapter
    number = int(chapter_number(path))
    text = markdown(notebook)
    labels = re.findall(r"```\{exercise\}[^\n]*\n:label: (\S+)", text)
    assert len(labels) >= MIN_EXERCISES.get(chapter_number(path), 3)
    assert labels == [f"ch{number}-ex{k}" for k in range(1, len(labels) + 1)], "numbered chN-ex1, chN-ex2, ..."
    for label in labels:
        assert f"```{{solution-start}} {label}\n:class: dropdown" in text, f"{label} has no gated dropdown solution"
    assert text.count("```{solution-start}") == text.count("```{solution-end}")


def test_every_exercise_says_its_level_and_time_as_the_table_does(chapter):
    """A student can plan: each exercise opens with "*Core · about 15 minutes.*" (or Stretch),
    as scripts/exercises.toml gives it (`python scripts/exercises.py mark` writes the line)."""
    import tomllib
    table = tomllib.loads((ROOT / "scripts" / "exercises.toml").read_text())
    _, notebook = chapter
    exercises = [source(c) for c in notebook["cells"] if c["cell_type"] == "markdown" and c["source"]
                 and source(c).startswith("```{exercise}")]
    assert exercises
    for text in exercises:
        label = re.search(r":label: (\S+)", text).group(1)
        entry = table[label]
        assert entry["level"] in ("core", "stretch") and 0 < entry["minutes"] <= 60, label
        first_line = text.split(f":label: {label}\n\n", 1)[1].splitlines()[0]
        assert first_line == f"*{entry['level'].capitalize()} · about {entry['minutes']} minutes.*", (
            f"{label} opens with {first_line!r}: run `python scripts/exercises.py mark`")


def test_solution_code_is_marked_for_nbgrader(chapter):
    _, notebook = chapter
    for cell in code_cells(notebook):
        text = source(cell)
        assert text.count("### BEGIN SOLUTION") == text.count("### END SOLUTION")


def test_every_figure_has_a_caption_a_label_and_alt_text(chapter):
    _, notebook = chapter
    for cell in code_cells(notebook):
        has_image = any("image/png" in output.get("data", {}) for output in cell.get("outputs", []))
        if not has_image:
            continue
        options = cell["metadata"].get("mystnb", {})
        assert options.get("figure", {}).get("caption"), f"figure without caption:\n{source(cell)[:200]}"
        assert options.get("figure", {}).get("name", "").startswith("fig-")
        assert len(options.get("image", {}).get("alt", "")) > 20, "alt text that describes the figure"


EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")


def test_the_prose_quotes_numbers_with_eval_not_glue(chapter):
    """Numbers in the prose are inline expressions ({eval}), which both the website and
    JupyterLab (jupyterlab-myst) show; {glue} roles show as raw text in JupyterLab."""
    _, notebook = chapter
    assert not re.search(r"\{glue(:[a-z]+)?\}`", markdown(notebook))
    assert "myst_nb import glue" not in "".join(source(cell) for cell in code_cells(notebook))


def test_every_inline_expression_has_its_stored_value(chapter):
    """Every {eval} role of a Markdown cell has a stored result, in order, with status ok: what
    the website shows (the test command re-evaluates them, conftest.py)."""
    _, notebook = chapter
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        expressions = EVAL_ROLE.findall(source(cell))
        stored = cell["metadata"].get("user_expressions", [])
        assert [entry["expression"] for entry in stored] == expressions, (
            f"cell {index}: stored values do not match the cell's {{eval}} roles; run `make outputs`")
        assert all(entry["result"]["status"] == "ok" for entry in stored), f"cell {index}: an expression failed"


def prose_variables(notebook):
    """The chapter-prefixed names the prose quotes, e.g. ch5_n_missing."""
    return {name for name in EVAL_ROLE.findall(markdown(notebook)) if re.fullmatch(r"ch\d_\w+", name)}


def test_every_quoted_name_is_assigned_once(chapter):
    """JupyterLab's Run All evaluates a Markdown cell's expressions in a race with the code
    cells, so a quoted name must not change after it is first assigned."""
    _, notebook = chapter
    code = "\n".join(source(cell) for cell in code_cells(notebook))
    for name in prose_variables(notebook):
        assignments = re.findall(rf"^\s*(?:\w+\s*,\s*)*{name}\s*(?:,\s*\w+\s*)*=(?!=)", code, re.M)
        assert len(assignments) == 1, f"{name} is assigned {len(assignments)} times"


def test_no_quoted_name_is_used_by_two_chapters():
    owners = {}
    for path in CHAPTERS:
        for name in prose_variables(load(path)):
            assert name.startswith(f"ch{int(path.name[:2])}_"), f"{path.name} quotes another chapter's {name}"
            assert name not in owners, f"{name} is quoted by {owners[name]} and {path.name}"
            owners[name] = path.name


def test_stored_outputs_come_from_restart_and_run_all(chapter):
    _, notebook = chapter
    counts = [c["execution_count"] for c in code_cells(notebook)]
    assert counts == list(range(1, len(counts) + 1))
    for cell in code_cells(notebook):
        assert all(o["output_type"] != "error" for o in cell["outputs"])


def test_notebook_is_light(chapter):
    path, _ = chapter
    assert path.stat().st_size < 3_000_000


def _names(code):
    """(names a cell defines, names it reads), from its syntax tree (IPython magics skipped)."""
    tree = ast.parse("\n".join(line for line in code.splitlines() if not line.startswith(("%", "!"))))
    defined, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            defined.add(node.name)
    return defined, read


def test_shown_code_reads_only_names_that_shown_code_defines(chapter):
    """A reader who runs only the code on the page (hidden verification cells left out) can
    follow it: no shown cell reads a variable that only a cell whose code is not on the page
    defines (a hidden cell, or one that shows only its output: tagged remove-input)."""
    path, notebook = chapter
    shown, problems = set(dir(builtins)), []
    for number, cell in enumerate(code_cells(notebook)):
        defined, read = _names(source(cell))
        if {"remove-cell", "remove-input"} & set(cell.get("metadata", {}).get("tags", [])):
            continue
        if read - shown - defined:
            problems.append(f"code cell {number}: {sorted(read - shown - defined)}")
        shown |= defined
    assert not problems, f"{path.name}: shown code reads names defined only off the page: {problems}"


def test_cells_hidden_on_the_website_are_collapsed_in_jupyterlab(chapter):
    """JupyterLab does not read Jupyter Book's tags, so a cell the website hides would show in
    full there: its collapsed state is stored as well (`jupyter.source_hidden` for a hidden
    input, and `outputs_hidden` too when the whole cell is hidden), and a student can click
    it open, as on the website."""
    path, notebook = chapter
    problems = []
    for number, cell in enumerate(code_cells(notebook)):
        tags = set(cell.get("metadata", {}).get("tags", []))
        collapsed = cell.get("metadata", {}).get("jupyter", {})
        missing = [key for key in collapsed_in_jupyterlab(tags) if collapsed.get(key) is not True]
        if missing:
            problems.append(f"code cell {number} ({sorted(tags)}): {missing}")
    assert not problems, f"{path.name}: hidden on the website, shown in JupyterLab: {problems}"


def test_no_directive_title_holds_a_backtick(chapter):
    """A backtick fence's info string may not contain a backtick (CommonMark): a title such as
    ```{admonition} what `fit_gmm` does ... is not a directive at all, and the website prints
    the box's source as a paragraph."""
    path, notebook = chapter
    broken = [line for line in re.findall(r"(?m)^`{3,}\{[a-z-]+\}.*$", markdown(notebook))
              if "`" in line.lstrip("`")]
    assert not broken, f"{path.name}: a directive whose title holds a backtick: {broken}"


def _verifies(code):
    """The verification statements in a cell: `assert`s and `np.testing` calls, as line numbers."""
    tree = ast.parse("\n".join(line for line in code.splitlines() if not line.startswith(("%", "!"))))
    lines = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    lines += [node.lineno for node in ast.walk(tree)
              if isinstance(node, ast.Attribute) and node.attr == "testing"]
    return sorted(set(lines))


def test_verification_stays_off_the_page(chapter):
    """Asserts and agreement checks run under nbval in hidden cells; a shown cell teaches."""
    path, notebook = chapter
    problems = [f"code cell {number}, line {line}: {source(cell).splitlines()[line - 1].strip()}"
                for number, cell in enumerate(code_cells(notebook))
                if "remove-cell" not in cell.get("metadata", {}).get("tags", [])
                for line in _verifies(source(cell))]
    assert not problems, f"{path.name}: shown cells verify instead of teach: {problems}"


def test_citation_links_read_as_names_in_jupyterlab(chapter):
    """A citation's link text is what JupyterLab shows: names with their accents (Härdle), not
    the bibliography's LaTeX escapes (H\\"ardle)."""
    path, notebook = chapter
    escaped = re.findall(r"\[[^\]]*\\[\"'`^~][^\]]*\]\(#", markdown(notebook))
    assert not escaped, f"{path.name}: LaTeX escapes in link text: {escaped}"


def test_the_glossary_is_in_alphabetical_order():
    """A reader looks a word up: the glossary's terms are sorted (ignoring case and punctuation)."""
    text = (ROOT / "chapters" / "glossary.md").read_text(encoding="utf-8")
    body = text.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    terms = [line.strip() for line in body.splitlines() if line.strip() and not line.startswith(" ")]
    keys = [re.sub(r"[^a-z0-9 ]", "", term.lower().replace("-", " ").replace("_", " ")) for term in terms]
    assert len(terms) > 40
    out_of_order = [(a, b) for (a, b, ka, kb) in zip(terms, terms[1:], keys, keys[1:]) if ka > kb]
    assert not out_of_order, f"glossary terms out of order: {out_of_order}"


def test_the_reading_plan_in_the_preface_is_up_to_date():
    """The preface's table of reading and exercise times is computed from the chapters and
    exercises.toml (scripts/reading_plan.py): a chapter that grows must say so there."""
    import sys
    sys.path.insert(0, str(ROOT / "scripts"))
    import reading_plan
    text = reading_plan.PREFACE.read_text(encoding="utf-8")
    assert reading_plan.BEGIN in text and reading_plan.END in text
    assert reading_plan.with_table(text) == text, "run python scripts/reading_plan.py"
    assert text.count(" min) |") + text.count(" h) |") == len(CHAPTERS) + 1  # a row each, and the totals
