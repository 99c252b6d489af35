"""The website as a reader sees it at phone width (390 px, 3x, touch): every page opened in headless Chromium, served
from 127.0.0.1 with every other address blocked; see tests/website.py for what is checked and
the rules' thresholds, and tests/test_website_browser.py for a broken copy of a page failing
each check. A module per width, so that the two widths can run on the two workers.

Screenshots of every page go to _build/screenshots/ (chapters/03_x.png at desktop width,
chapters/03_x.phone.png at phone width, one image pixel per CSS px, solutions opened), with
report-phone.txt: every problem found, and the display equations that are wider than the
column and scroll visibly.
"""
import pytest

import website
from conftest import ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(website.chromium_path() is None,
                       reason="Chromium is not installed: the browser check of the website was SKIPPED "
                              "(install it with `apt-get install chromium`; .ci/run does)"),
]


def test_every_page_passes_the_browser_check_at_phone_width(built_book):
    returncode, log, site = built_book
    assert returncode == 0, log[-3000:]
    problems, report = website.check_every_page(site, "phone", ROOT / "_build" / "screenshots")
    assert len(website.content_pages(site)) >= 9
    assert not problems, f"at phone width:\n{report}"
