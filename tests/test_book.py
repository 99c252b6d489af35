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
