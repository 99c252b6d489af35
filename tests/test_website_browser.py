"""The website as a reader sees it: every page opened in headless Chromium, served from
127.0.0.1 with every other address blocked (see tests/website.py for what is checked).
Screenshots of every page go to _build/screenshots/.

Skipped, with a message saying so, when Chromium is not installed (`apt-get install chromium`);
.ci/run installs it, so CI always runs this check.
"""
import re
import shutil

import pytest

import website
from conftest import ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(website.chromium_path() is None,
                       reason="Chromium is not installed: the browser check of the website was SKIPPED "
                              "(install it with `apt-get install chromium`; .ci/run does)"),
]


def test_every_page_passes_the_browser_check(built_book):
    returncode, log, site = built_book
    assert returncode == 0, log[-3000:]
    pages = website.content_pages(site)
    assert len(pages) >= 9
    problems = {}
    with website.serve(site) as url, website.browser_page(url) as page:
        for relative in pages:
            found = website.check_page(page, url, site, relative,
                                       screenshot=ROOT / "_build" / "screenshots" / relative.replace(".html", ".png"))
            if found:
                problems[relative] = found
    assert not problems, "\n".join(f"{p}:\n  " + "\n  ".join(found) for p, found in problems.items())


@pytest.fixture(scope="module")
def broken_site(built_book, tmp_path_factory):
    """A copy of the site, to break on purpose."""
    _, _, site = built_book
    copy = tmp_path_factory.mktemp("site") / "html"
    shutil.copytree(site, copy)
    return copy


def _break_page(site, name, change):
    page = site / "chapters" / name
    page.write_text(change(page.read_text()))


BREAKAGES = {
    "a formula": ("01_edmonds_problem.html",
                  lambda html: html.replace(r"\frac{", r"\frac{\begin{matrix}", 1)),
    "an image": ("01_edmonds_problem.html",
                 lambda html: re.sub(r'src="(\.\./_images/[^"]+\.png)"', 'src="../_images/missing.png"', html, count=1)),
    "a cell": ("01_edmonds_problem.html",
               lambda html: html.replace('<div class="cell_output docutils container">',
                                         '<div class="cell_output docutils container"><div class="output traceback">'
                                         '<pre>Traceback (most recent call last):\nValueError: boom</pre></div>', 1)),
    "a link": ("01_edmonds_problem.html",
               lambda html: re.sub(r'(<a [^>]*href=")02_mixture_models\.html"', r'\g<1>02_no_such_page.html"',
                                   html, count=1)),
    "a solution": ("01_edmonds_problem.html",
                   lambda html: html.replace('class="solution dropdown admonition"', 'class="solution admonition"', 1)),
    "alt text": ("01_edmonds_problem.html",
                 lambda html: re.sub(r'<img alt="[^"]*"', "<img", html, count=1)),
}


@pytest.mark.parametrize("what", sorted(BREAKAGES))
def test_the_browser_check_fails_when_the_page_is_broken(broken_site, what):
    name, change = BREAKAGES[what]
    original = (broken_site / "chapters" / name).read_text()
    try:
        _break_page(broken_site, name, change)
        assert (broken_site / "chapters" / name).read_text() != original, f"the test did not break {what}"
        with website.serve(broken_site) as url, website.browser_page(url) as page:
            problems = website.check_page(page, url, broken_site, f"chapters/{name}")
        assert problems, f"breaking {what} went unnoticed"
    finally:
        (broken_site / "chapters" / name).write_text(original)
