"""The one-page cheat sheet (issue 12) prints on one A4 sheet, with its formulas typeset:
printed by Debian's Chromium from the built site (a module of its own: Playwright's sync API
allows one running instance at a time, and the browser check's module keeps one open)."""
import re

import pytest

import website

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(website.chromium_path() is None,
                       reason="Chromium is not installed: the cheat sheet's print check was SKIPPED"),
]


def test_the_cheat_sheet_prints_on_one_a4_page(built_book):
    """The one-page cheat sheet (issue 12) prints on one A4 sheet, with its formulas typeset."""
    _, _, site = built_book
    with website.serve(site) as url, website.browser_page(url) as page:
        page.goto(f"{url}/chapters/cheat_sheet.html")
        page.evaluate("() => MathJax.startup.promise")
        assert page.locator("mjx-container").count() > 10, "the cheat sheet's formulas were not typeset"
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == 1, f"the cheat sheet prints on {pages} A4 pages"
