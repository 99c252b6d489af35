"""`make pdf` and `make answer-key`: the book and the answer key as PDFs, built offline.

The book is built as one HTML page (Jupyter Book's singlehtml builder), opened in Debian's
Chromium with every request but to local files refused, and printed once MathJax has
typeset every formula. The text of each PDF (pdftotext, Debian's poppler-utils) must hold
every chapter's title, formulas rendered by MathJax (not raw LaTeX), numbered equations,
the bibliography and the figures; the book holds no solution, the answer key every one.
"""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import exercises  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is needed to print (apt-get install chromium)"),
    pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext is needed to read the PDF (apt-get install poppler-utils)"),
]
# display math left to the reader as LaTeX, or that MathJax could not typeset (code cells
# may hold LaTeX, e.g. matplotlib labels, so single commands are not searched for)
RAW_LATEX = re.compile(r"\$\$|\\begin\{|Math input error")


def chapter_titles():
    titles = []
    for path in exercises.chapter_notebooks(ROOT):
        cells = json.loads(path.read_text())["cells"]
        heading = next(line for c in cells if c["cell_type"] == "markdown"
                       for line in "".join(c["source"]).splitlines() if line.startswith("# "))
        titles.append(heading[2:].strip())
    return titles


def make(*args):
    done = subprocess.run(["make", "-C", str(ROOT), *args, "SETUP=", f"BIN={Path(sys.executable).parent}"],
                          capture_output=True, text=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]


def pdf_text(pdf):
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def pdf_pages(pdf):
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


@pytest.fixture(scope="module")
def book_pdf():
    make("pdf")
    return ROOT / "_build" / "pdf" / "em-explained.pdf"


def test_the_book_pdf_holds_every_chapter_its_formulas_and_bibliography(book_pdf):
    text = pdf_text(book_pdf)
    flat = re.sub(r"\s+", " ", text)
    for title in chapter_titles():
        assert title.replace("'", "’") in flat or title in flat, f"chapter {title!r} missing"
    # (2.6) typeset: pdftotext puts a sub- or superscript before or after the ")" next to it,
    # depending on where the line falls on its page
    assert re.search(r"p\(x ∣ θ\) = ∑ p\(x, z = k ∣ θ\) = ∑ π k N \(x ∣ μ k , σ (k )?\)", flat), \
        "chapter 2 marginal, typeset"
    assert not RAW_LATEX.search(text), f"raw LaTeX in the PDF: {RAW_LATEX.search(text).group(0)}"
    assert "(3.4)" in text and "(4.1)" in text, "numbered equations"
    assert "Dempster, Nan M. Laird, and Donald B. Rubin" in flat, "the bibliography"
    assert "Solution to Exercise" not in text, "no solutions in the book's PDF (they are the answer key's)"
    images = subprocess.run(["pdfimages", "-list", str(book_pdf)], capture_output=True, text=True).stdout
    assert len(images.splitlines()) - 2 >= 20, "the figures"
    pages, size = pdf_pages(book_pdf), book_pdf.stat().st_size
    assert 100 < pages < 400 and size < 40e6
    print(f"book PDF: {pages} pages, {size / 1e6:.1f} MB")


def test_the_answer_key_holds_every_exercise_with_its_solution_and_rubric():
    make("answer-key")
    pdf, html = ROOT / "answer-key" / "answer-key.pdf", ROOT / "answer-key" / "book" / "_build" / "singlehtml" / "answer-key.html"
    text = pdf_text(pdf)
    flat = re.sub(r"\s+", " ", text)
    table, _ = exercises.load_table()
    n_exercises = sum(len(exercises.exercise_labels(exercises.read(p))) for p in exercises.chapter_notebooks(ROOT))
    assert flat.count("Solution to Exercise") == n_exercises
    for label in table:
        assert f"Grading {label}:" in flat, label
    assert "Names it missing at random (MAR)" in flat, "the rubric"
    assert "∑" in text and not RAW_LATEX.search(text)
    page = html.read_text()
    assert page.count('class="solution') >= n_exercises and "mjx-container" in page, "HTML with the math typeset"
    assert "1.1. The register" not in flat, "only the exercises, not the chapters' text"
    print(f"answer key: {pdf_pages(pdf)} pages, {pdf.stat().st_size / 1e6:.1f} MB")
