"""The website as a reader sees it at desktop width (1280 px): every page opened in headless Chromium, served
from 127.0.0.1 with every other address blocked (tests/website.py says what is checked;
tests/test_website_browser.py breaks a copy of a page for each check). Screenshots of every
page and report-desktop.txt go to _build/screenshots/. One module per width, so that the two
widths run on the two workers."""
import website
from conftest import ROOT

pytestmark = website.browser_check_marks()

test_every_page_passes_the_browser_check_at_desktop_width = website.every_page_test("desktop", ROOT)
