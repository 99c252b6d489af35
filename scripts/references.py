"""Cross-references that read the same in JupyterLab and on the website.

    python scripts/references.py            # rewrite the chapters' references (after `make book`)
    python scripts/references.py --check    # list the references whose number is out of date

jupyterlab-myst numbers a notebook's equations, figures and exercises on its own (1, 2, ...)
and cannot resolve a label in another notebook or a figure made by a code cell, so there a
``{eq}`eq-loglik``` reads "eq-loglik" and a ``{numref}`fig-ch5-payoff``` "fig-ch5-payoff". A
Markdown link with the number as its text reads the same everywhere: ``[(2.10)](#eq-loglik)``,
``[Fig. 5.5](#fig-ch5-payoff)``, ``[Exercise 4.5](#ch4-ex5)``; on the website MyST turns it
into a link to the target. The numbers come from the built website (the book's numbering is
Sphinx's), so this script rewrites them from ``_build/html``, and the test command checks that
every one of them is still the number the website gives its target (tests/test_book.py).
"""
import argparse
import html
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import exercises  # noqa: E402  (notebook reading and writing as Jupyter does)

NUMBERED = r"(?:eq-[\w-]+|fig-[\w-]+|ch\d+-ex\d+)"
ROLE = re.compile(rf"\{{(?:eq|numref|ref)\}}`({NUMBERED})`")
LINK = re.compile(rf"\[([^\]]*)\]\(#({NUMBERED})\)")
EQUATION = re.compile(r'id="equation-(eq-[\w-]+)">\s*<span class="eqno">(\([\d.]+\))')
FIGURE = re.compile(r'<figure[^>]*id="(fig-[\w-]+)".*?<span class="caption-number">(Fig\. [\d.]+) </span>', re.S)
EXERCISE = re.compile(r'<div class="exercise[^"]*" id="(ch\d+-ex\d+)">\s*<p class="admonition-title">'
                      r'<span class="caption-number">(Exercise [\d.]+) </span>')


def numbering(site):
    """{label: the text the website shows for it}, e.g. {"eq-loglik": "(2.10)", "fig-ch5-payoff": "Fig. 5.5"}."""
    numbers = {}
    for page in sorted(Path(site).glob("chapters/*.html")):
        text = page.read_text(encoding="utf-8")
        for pattern in (EQUATION, FIGURE, EXERCISE):
            numbers.update((label, html.unescape(shown)) for label, shown in pattern.findall(text))
    return numbers


def linked(text, numbers):
    """``text`` with every numbered role and link written as a link whose text is the number."""
    text = ROLE.sub(lambda m: f"[{numbers[m.group(1)]}](#{m.group(1)})", text)
    return LINK.sub(lambda m: f"[{numbers[m.group(2)]}](#{m.group(2)})", text)


def stale_links(text, numbers):
    """[(label, text shown, number expected)] for links whose text is not the target's number."""
    return [(label, shown, numbers.get(label)) for shown, label in LINK.findall(text)
            if numbers.get(label) != shown]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only list out-of-date references")
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    args = parser.parse_args(argv)
    numbers = numbering(args.site)
    if not numbers:
        raise SystemExit(f"no numbered targets in {args.site}: build the book first (make book)")
    problems = []
    for path in exercises.chapter_notebooks(ROOT):
        notebook = exercises.read(path)
        for cell in notebook["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            text = exercises.source(cell)
            if args.check:
                problems += [f"{path.name}: [{shown}](#{label}) should read {expected}"
                             for label, shown, expected in stale_links(text, numbers)]
            else:
                cell["source"] = linked(text, numbers).splitlines(keepends=True)
        if not args.check:
            exercises.write(notebook, path)
    print("\n".join(problems) or "every reference reads its target's number")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
