"""The browser check of the website (tests/website.py; every page is checked at desktop and
phone width by tests/test_website_desktop.py and tests/test_website_phone.py).

Each check is shown to fail on a deliberately broken copy of a page (BREAKAGES): the broken
copy must produce a problem that matches the check's message and that the unbroken copy does
not have.

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

SCREENSHOTS = ROOT / "_build" / "screenshots"


# -- negative tests: each check fails on a deliberately broken copy of a page -------------------

PAGE = "01_edmonds_problem.html"
WIDE_FIGURE = "broken-wide-figure.png"      # 13 x 4 inches at 100 dpi: a three-panel figure
LOW_RES_FIGURE = "broken-low-res.png"       # 6 x 3 inches at 100 dpi, shown at its own size


def _matplotlib_png(path, width, height):
    """A PNG as matplotlib writes it: a pHYs chunk (100 dpi) and a Software text chunk."""
    from PIL import Image, ImageDraw
    from PIL.PngImagePlugin import PngInfo

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for panel in range(width // 430 or 1):
        draw.rectangle([panel * 430 + 40, 20, panel * 430 + 410, height - 40], outline="black")
        draw.text((panel * 430 + 200, height - 30), "height (cm)", fill="black")
    info = PngInfo()
    info.add_text("Software", "Matplotlib version3.11.2, https://matplotlib.org/")
    image.save(path, dpi=(100, 100), pnginfo=info)


@pytest.fixture(scope="module")
def broken_site(built_book, tmp_path_factory):
    """A copy of the site, to break on purpose, with two figures to break it with."""
    _, _, site = built_book
    copy = tmp_path_factory.mktemp("site") / "html"
    shutil.copytree(site, copy)
    _matplotlib_png(copy / "_images" / WIDE_FIGURE, 1300, 400)
    _matplotlib_png(copy / "_images" / LOW_RES_FIGURE, 600, 300)
    return copy


@pytest.fixture(scope="module")
def check_broken(broken_site):
    """check_page on a page of the broken copy, at a width: one server and one browser per
    width for all the negative tests (routing disables Chromium's cache, so every visit
    reads the page as the test last wrote it)."""
    import contextlib

    with contextlib.ExitStack() as stack:
        url = stack.enter_context(website.serve(broken_site))
        current = {}  # one Playwright at a time: the browser of the width in use

        def check(name, width, accessibility=False):
            if current.get("width") != width:
                if "browser" in current:
                    current["browser"].close()
                current["browser"] = contextlib.ExitStack()
                current["page"] = current["browser"].enter_context(website.browser_page(url, width))
                current["width"] = width
            return website.check_page(current["page"], url, broken_site, f"chapters/{name}",
                                      accessibility=accessibility)
        yield check
        if "browser" in current:
            current["browser"].close()


@pytest.fixture(scope="module")
def unbroken(check_broken):
    """The problems of the unbroken copy of a page (it may have some: content being fixed)."""
    cache = {}

    def problems(name, width, accessibility=False):
        if (name, width, accessibility) not in cache:
            cache[name, width, accessibility] = check_broken(name, width, accessibility)
        return cache[name, width, accessibility]
    return problems


def _after_title(snippet):
    """Insert ``snippet`` (HTML) right after the page's title, inside the article."""
    return lambda html: re.sub(r"(<h1>[^\n]*headerlink[^\n]*</h1>)", lambda m: m.group(1) + snippet, html, count=1)


def _figure(number, src, style=""):
    return (f'<figure class="align-default" id="fig-broken-{number}"><img alt="A broken figure" '
            f'src="../_images/{src}" style="{style}"/><figcaption><p><span class="caption-number">Fig. 9.{number} '
            f'</span><span class="caption-text">A figure.</span></p></figcaption></figure>')


def _wide_equation(label, number, css):
    """A display equation of a hundred terms, styled with ``css``."""
    terms = " + ".join(f"x_{{{i}}}" for i in range(1, 101))
    return (f'<style>#equation-{label} mjx-container {{ {css} }}</style>'
            f'<div class="math notranslate nohighlight" id="equation-{label}"><span class="eqno">(9.{number})'
            f'</span>\\[S = {terms}\\]</div>')


def _check_output(html):
    """Put back the output of the first check cell: what the check said about the hidden solution."""
    start = html.index('<div class="cell tag_exercise-check')
    end = html.index("</pre></div>\n</div>\n</div>\n", start) + len("</pre></div>\n</div>\n</div>\n")
    output = ('<div class="cell_output docutils container"><div class="output stream highlight-myst-ansi notranslate">'
              '<div class="highlight"><pre><span></span>✓ all 5 checks passed\n</pre></div></div></div>\n')
    return html[:end] + output + html[end:]


BOTH = tuple(sorted(website.VIEWPORTS))
# What the text says does not depend on the width: those checks are shown to fail at one width
# (the check itself runs at both in tests/test_website_*.py); overflow and figure sizes at both.
ONE_WIDTH = ("phone",)
# The breakages that axe-core must catch; for the others the scan is skipped (it is 60% of a
# check's time, and it reports nothing about them).
# what axe-core scans for each of its breakages (check_page's ``accessibility``): prose colours must
# be caught also on the pages where the colours of highlighted code are left out
ACCESSIBILITY_BREAKAGES = {"alt text": True, "low-contrast prose": "without code colours",
                           "low-contrast code": True}
# what is broken: (how, the problem the check must report, the widths it is tried at)
BREAKAGES = {
    # the checks the book had before issue 11
    "a formula": (lambda html: html.replace(r"\frac{", r"\frac{\begin{matrix}", 1),
                  r"MathJax error|MathJax rendered", ("desktop",)),
    "an image": (lambda html: re.sub(r'src="(\.\./_images/[^"]+\.png)"', 'src="../_images/missing.png"', html, count=1),
                 r"an image did not load", ("desktop",)),
    "a squashed figure": (lambda html: html.replace("</head>", "<style>div.cell_output img { width: 300px !important; "
                                                               "height: 300px !important; }</style></head>", 1),
                          r"an image is shown distorted", ("desktop", "phone")),
    "a cell": (lambda html: html.replace('<div class="cell_output docutils container">',
                                         '<div class="cell_output docutils container"><div class="output traceback">'
                                         '<pre>Traceback (most recent call last):\nValueError: boom</pre></div>', 1),
               r"a cell shows an error|a traceback", ("desktop",)),
    "a link": (lambda html: re.sub(r'(<a [^>]*href=")02_mixture_models\.html"', r'\g<1>02_no_such_page.html"',
                                   html, count=1),
               r"a link leads nowhere", ("desktop",)),
    "a solution": (lambda html: html.replace('class="solution dropdown admonition"', 'class="solution admonition"', 1),
                   r"solution \d+ is not a dropdown", ("desktop",)),
    "alt text": (lambda html: re.sub(r'<img alt="[^"]*"', "<img", html, count=1),
                 r"accessibility .*image-alt", ("desktop",)),
    "low-contrast prose": (_after_title('<p style="color: #d8d8d8">Pale grey words on white.</p>'),
                           r"accessibility .*color-contrast", ("desktop",)),
    "low-contrast code": (lambda html: html.replace("</head>", "<style>.highlight .n { color: #e0e0e0 !important; }</style></head>", 1),
                          r"accessibility .*color-contrast", ("desktop",)),
    # issue 11: what a reader sees
    "a MyST role": (_after_title("<p>EM's error shrinks by {glue:text}`ch4_error_rate` per step "
                                 "({cite}`dempster1977`).</p>"),
                    r"raw syntax in the text \(a MyST role\) '\{glue:text\}", ONE_WIDTH),
    "a MyST directive": (_after_title("<p>```{exercise} Guessing\n:label: ch1-ex9</p>"),
                         r"raw syntax in the text \(a MyST directive", ONE_WIDTH),
    "raw TeX in a list": (_after_title("<ul><li><p>\\theta^*)$: for the boys' mean, the error shrinks by a "
                                       "constant factor.</p></li></ul>"),
                          r"raw syntax in the text \(TeX outside math\) '\\\\theta'", ONE_WIDTH),
    "a label in prose": (_after_title("<p>Take the log of the joint, eq-responsibility becomes a sum.</p>"),
                         r"a label printed as text 'eq-responsibility'", ONE_WIDTH),
    "a label in math": (_after_title('<div class="math notranslate nohighlight">\\[ Q \\overset{\\text{by '
                                     'eq-complete-indicator}}{=} \\sum_i c_i \\]</div>'),
                        r"a label printed inside math 'eq-complete-indicator'", ONE_WIDTH),
    "a wide equation cut off": (_after_title(_wide_equation("broken-cut", 10, "overflow: visible !important;")),
                                r"display equation \(9\.10\) \[broken-cut\] is \d+ px wide, \d+ px more than its "
                                r"column and (cut off|spills)", BOTH),
    "a wide equation that scrolls invisibly": (
        _after_title(_wide_equation("broken-plain", 12, "background: none !important; scrollbar-width: none;")),
        r"display equation \(9\.12\) \[broken-plain\] is \d+ px wide.*nothing shows that it does", BOTH),
    "a long inline formula": (_after_title('<p>In one line, <span class="math notranslate nohighlight">\\(S = '
                                          + " + ".join(f"x_{{{i}}}" for i in range(1, 61)) + '\\)</span>.</p>'),
                              r"inline formula 'S = x_\{1\}.*runs \d+ px past the right edge", BOTH),
    "a button in tofu": (_after_title('<p><button type="button" title="First frame" aria-label="First frame">⏮'
                                      '</button><button type="button" aria-label="Play">⏵</button></p>'),
                         r"U\+23EE '⏮' shows as an empty box", ONE_WIDTH),
    "a figure with small text": (_after_title(_figure(1, WIDE_FIGURE)),
                                 r"figure text too small: Fig\. 9\.1 \[fig-broken-1\]", BOTH),
    "a tiny figure": (_after_title(_figure(3, LOW_RES_FIGURE, "width: 150px")),
                      r"figure text too small: Fig\. 9\.3 \[fig-broken-3\]", BOTH),
    "a blurry figure": (_after_title(_figure(2, LOW_RES_FIGURE, "width: 600px; max-width: 100%")),
                        r"figure not crisp on a high-density screen: Fig\. 9\.2 \[fig-broken-2\]", BOTH),
    "a check cell's output": (_check_output, r"an exercise check cell shows output.*all 5 checks passed", ONE_WIDTH),
    "a page wider than a phone": (_after_title('<p style="width: 1600px; min-width: 1600px">A very wide paragraph.</p>'),
                                  r"the page is \d+ px wider than the window", ("phone",)),
}


@pytest.mark.parametrize("what,width", [(what, width) for width in BOTH for what in sorted(BREAKAGES)
                                        if width in BREAKAGES[what][2]])  # one width after the other
def test_the_browser_check_fails_when_the_page_is_broken(broken_site, check_broken, unbroken, what, width):
    change, expected, _ = BREAKAGES[what]
    accessibility = ACCESSIBILITY_BREAKAGES.get(what, False)  # axe-core runs where the breakage is its business
    before = unbroken(PAGE, width, accessibility)
    page = broken_site / "chapters" / PAGE
    original = page.read_text(encoding="utf-8")
    try:
        page.write_text(change(original), encoding="utf-8")
        assert page.read_text(encoding="utf-8") != original, f"the test did not break {what}"
        problems = check_broken(PAGE, width, accessibility)
    finally:
        page.write_text(original, encoding="utf-8")
    new = [problem for problem in problems if problem not in before]
    assert any(re.search(expected, problem) for problem in new), \
        f"breaking {what} went unnoticed at {width} width; new problems: {new}"



def test_axe_core_scans_code_colours_on_the_first_page_and_everything_else_everywhere():
    assert website._accessibility(None, 0) is True
    assert [website._accessibility(None, n) for n in (1, 7)] == ["without code colours"] * 2
    assert website._accessibility(1, 0) is True and website._accessibility(1, 1) is False
