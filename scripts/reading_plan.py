"""The preface's reading plan: for every chapter, how long its core takes to read, what its core
exercises take, and how much optional material it has, computed from the chapters themselves.

    python scripts/reading_plan.py            # rewrite the table in chapters/preface.md
    python scripts/reading_plan.py --check    # exit 1 (and say so) if the table is out of date

The core of a chapter is its Markdown before "## Exercises", outside sections whose title ends
in "(optional)" and outside "Going deeper (optional)" boxes. Its study time is what a student
needs to work through it, not to skim it: the core's words at 75 words a minute, plus
EQUATION_MINUTES for every displayed equation, CODE_MINUTES for every code cell shown in the core
(reading it, running it, looking at what it prints) and FIGURE_MINUTES for every figure, rounded
up to 5 minutes; the optional parts the same way (their words and equations). (Fresh readers of
chapter 4: at 150 words a minute it was promised 25 minutes and needed about 1.5 hours; at 100
words a minute and 2 minutes an equation, 1 h 55 min, and needed up to twice that.) Exercise
times are the minutes of exercises.toml. The test command checks the table
(tests/test_course_structure.py), so a chapter that grows says so in the preface.
"""
import argparse
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import exercises  # noqa: E402

PREFACE = ROOT / "chapters" / "preface.md"
BEGIN, END = "<!-- reading plan: written by scripts/reading_plan.py -->", "<!-- end of the reading plan -->"
WORDS_PER_MINUTE = 75
EQUATION_MINUTES = 3
CODE_MINUTES = 2
FIGURE_MINUTES = 2
EXTENSIONS = {"08_em_at_scale.ipynb"}  # after the conclusion: not in the totals
HEADING = re.compile(r"(?m)^(?=#{2,3} )")
BOX = re.compile(r"(`{3,4})\{admonition\}[^\n]*Going deeper[^\n]*\n.*?\1", re.S | re.I)
DIRECTIVE_HEAD = re.compile(r"(`{3,4})\{[a-z-]+\}[^\n]*\n(?::[^\n]*\n)*")
DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.S)
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def words(text):
    return len(WORD.findall(DIRECTIVE_HEAD.sub(" ", DISPLAY_MATH.sub(" ", text))))


HIDDEN_CODE = {"remove-cell", "hide-cell", "remove-input", "hide-input"}


def _core_code(cell):
    """(shown code cells, figures) that a code cell adds to the core: its code on the page and
    the figures it draws."""
    tags = set(cell.get("metadata", {}).get("tags", []))
    if "remove-cell" in tags or "hide-cell" in tags:
        return 0, 0
    shown = 0 if tags & HIDDEN_CODE else 1
    figures = sum("image/png" in output.get("data", {}) for output in cell.get("outputs", []))
    return shown, figures


def study_minutes(notebook):
    """(core minutes, optional minutes) of the chapter before "## Exercises" (see the module's
    docstring)."""
    totals = [0, 0, 0, 0]  # core words, optional words, core equations, optional equations
    code_cells = figures = 0
    in_optional = False
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            if not in_optional:
                shown, drawn = _core_code(cell)
                code_cells, figures = code_cells + shown, figures + drawn
            continue
        text = exercises.source(cell)
        exercises_start = re.search(r"(?m)^## Exercises", text)
        counts, in_optional = _markdown(text[:exercises_start.start()] if exercises_start else text, in_optional)
        totals = [total + count for total, count in zip(totals, counts)]
        if exercises_start:
            break
    core, optional, equations, optional_equations = totals
    core_minutes = (core / WORDS_PER_MINUTE + EQUATION_MINUTES * equations
                    + CODE_MINUTES * code_cells + FIGURE_MINUTES * figures)
    optional_minutes = optional / WORDS_PER_MINUTE + EQUATION_MINUTES * optional_equations
    return _round_up(core_minutes), _round_up(optional_minutes)


def _markdown(text, in_optional_section):
    """((core words, optional words, core displayed equations, optional displayed equations),
    whether the text ends inside an optional section) of a Markdown cell's text."""
    core = optional = equations = optional_equations = 0
    for block in HEADING.split(text):
        heading = block.split("\n", 1)[0]
        if heading.startswith("## "):
            in_optional_section = heading.rstrip().lower().endswith("(optional)")
        if in_optional_section or (heading.startswith("### ") and heading.rstrip().lower().endswith("(optional)")):
            optional += words(block)
            optional_equations += len(DISPLAY_MATH.findall(block))
            continue
        boxes = " ".join(match.group(0) for match in BOX.finditer(block))
        optional += words(boxes)
        optional_equations += len(DISPLAY_MATH.findall(boxes))
        core += words(BOX.sub(" ", block))
        equations += len(DISPLAY_MATH.findall(BOX.sub(" ", block)))
    return (core, optional, equations, optional_equations), in_optional_section


def _round_up(minute_count):
    return 5 * math.ceil(minute_count / 5)


def about(minute_count):
    """"none", "40 min", "1 h 55 min"."""
    if not minute_count:
        return "none"
    hours, minutes = divmod(minute_count, 60)
    return f"{hours} h {minutes} min" if hours and minutes else f"{hours} h" if hours else f"{minutes} min"


def chapter_title(notebook):
    for cell in notebook["cells"]:
        for line in exercises.source(cell).splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    raise ValueError("a chapter without a title")


def table():
    """The Markdown table, one row per chapter and a last row with the totals of the course's
    chapters (not of the extension, chapter 8, which the preface puts after the conclusion)."""
    entries, _ = exercises.load_table()
    rows = ["| Chapter | Core | Exercises | Optional |",
            "|---|---|---|---|"]
    totals = [0, 0, 0, 0]
    for path in exercises.chapter_notebooks(ROOT):
        notebook = exercises.read(path)
        core, optional = study_minutes(notebook)
        labels = exercises.exercise_labels(notebook)
        core_minutes = sum(int(entries[label]["minutes"]) for label in labels if entries[label]["level"] == "core")
        n_core = sum(entries[label]["level"] == "core" for label in labels)
        rows.append(f"| [{chapter_title(notebook)}]({path.name}) | {about(core)} "
                    f"| {n_core} ({about(core_minutes)}) | {about(optional)} |")
        if path.name not in EXTENSIONS:
            totals = [total + value for total, value in zip(totals, (core, n_core, core_minutes, optional))]
            last = path.name[:2].lstrip("0")
    core, n_core, core_minutes, optional = totals
    rows.append(f"| Chapters 1-{last}, in all | {about(core)} | {n_core} ({about(core_minutes)}) | {about(optional)} |")
    return "\n".join(rows)


def with_table(text):
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + table() + "\n" + text[end:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the table is up to date")
    args = parser.parse_args()
    text = PREFACE.read_text(encoding="utf-8")
    new = with_table(text)
    if args.check:
        if new != text:
            print("the reading plan in chapters/preface.md is out of date: run python scripts/reading_plan.py")
            return 1
        print("the reading plan is up to date")
        return 0
    PREFACE.write_text(new, encoding="utf-8")
    print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
