"""The website builds from scratch with zero warnings (Jupyter Book 1.x, -W -n --keep-going)."""
import pytest


@pytest.mark.slow
def test_book_builds_with_no_warnings(built_book):
    returncode, log, site = built_book
    assert returncode == 0, f"the book build failed or warned:\n{log[-6000:]}"
    assert "WARNING" not in log, log[-6000:]


@pytest.mark.slow
def test_every_page_in_the_toc_is_built(built_book):
    from conftest import ROOT

    _, _, site = built_book
    toc = (ROOT / "_toc.yml").read_text()
    for entry in [line.split("file:")[1].strip() for line in toc.splitlines() if "file:" in line]:
        assert (site / f"{entry}.html").exists(), f"{entry} is in _toc.yml but no page was built"


@pytest.mark.slow
def test_every_reference_reads_the_number_the_website_gives_its_target(built_book):
    """Chapters write references as links whose text is the target's number, so that they read
    the same in JupyterLab; the numbers must be the website's (run scripts/references.py)."""
    import sys

    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "scripts"))
    import exercises
    import references

    _, _, site = built_book
    numbers = references.numbering(site)
    assert len(numbers) > 50, "the numbering of equations, figures and exercises was not found"
    stale = []
    for path in exercises.chapter_notebooks(ROOT):
        for cell in exercises.read(path)["cells"]:
            if cell["cell_type"] == "markdown":
                stale += [f"{path.name}: [{shown}](#{label}) should read {expected}"
                          for label, shown, expected in references.stale_links(exercises.source(cell), numbers)]
    assert not stale, "run `make book` then `python scripts/references.py`:\n" + "\n".join(stale)


@pytest.mark.slow
def test_the_website_shows_no_nbgrader_markers(built_book):
    """Solutions are marked for nbgrader in the notebooks; the website drops the markers."""
    _, _, site = built_book
    marked = [page.name for page in (site / "chapters").glob("*.html") if "### BEGIN SOLUTION" in page.read_text()]
    assert not marked, f"nbgrader's solution markers show on {marked}"
