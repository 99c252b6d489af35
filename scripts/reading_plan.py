"""The preface's reading plan: for every chapter, how long its core takes to read, what its core
exercises take, and how much optional material it has, computed from the chapters themselves.

    python scripts/reading_plan.py            # rewrite the table in chapters/preface.md
    python scripts/reading_plan.py --check    # exit 1 (and say so) if the table is out of date

The core of a chapter is its Markdown before "## Exercises", outside sections whose title ends
in "(optional)" and outside "Going deeper (optional)" boxes; code cells are not counted. Reading
time is the core's words at 150 words a minute (a slow pace, for prose with formulas), rounded
up to 5 minutes. Exercise times are the minutes of exercises.toml. The test command checks the
table (tests/test_course_structure.py), so a chapter that grows says so in the preface.
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
WORDS_PER_MINUTE = 150
HEADING = re.compile(r"(?m)^(?=#{2,3} )")
BOX = re.compile(r"(`{3,4})\{admonition\}[^\n]*Going deeper[^\n]*\n.*?\1", re.S | re.I)
DIRECTIVE_HEAD = re.compile(r"(`{3,4})\{[a-z-]+\}[^\n]*\n(?::[^\n]*\n)*")
DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.S)
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def words(text):
    return len(WORD.findall(DIRECTIVE_HEAD.sub(" ", DISPLAY_MATH.sub(" ", text))))


def prose_words(notebook):
    """(core words, optional words) of the Markdown before "## Exercises"."""
    core = optional = 0
    in_optional_section = False
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for block in HEADING.split(exercises.source(cell)):
            heading = block.split("\n", 1)[0]
            if heading.startswith("## Exercises"):
                return core, optional
            if heading.startswith("## "):
                in_optional_section = heading.rstrip().lower().endswith("(optional)")
            if in_optional_section or (heading.startswith("### ") and heading.rstrip().lower().endswith("(optional)")):
                optional += words(block)
                continue
            boxes = " ".join(match.group(0) for match in BOX.finditer(block))
            optional += words(boxes)
            core += words(BOX.sub(" ", block))
    return core, optional


def minutes(word_count):
    return 5 * math.ceil(word_count / WORDS_PER_MINUTE / 5)


def about(minute_count):
    return f"{minute_count} min" if minute_count else "none"


def chapter_title(notebook):
    for cell in notebook["cells"]:
        for line in exercises.source(cell).splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    raise ValueError("a chapter without a title")


def table():
    """The Markdown table, one row per chapter."""
    entries, _ = exercises.load_table()
    rows = ["| Chapter | Core | Exercises | Optional |",
            "|---|---|---|---|"]
    for path in exercises.chapter_notebooks(ROOT):
        notebook = exercises.read(path)
        core, optional = prose_words(notebook)
        labels = exercises.exercise_labels(notebook)
        core_minutes = sum(int(entries[label]["minutes"]) for label in labels if entries[label]["level"] == "core")
        n_core = sum(entries[label]["level"] == "core" for label in labels)
        rows.append(f"| [{chapter_title(notebook)}]({path.name}) | {minutes(core)} min "
                    f"| {n_core} ({core_minutes} min) | {about(minutes(optional))} |")
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
