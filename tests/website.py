"""A real-browser check of the built website: headless Chromium (Debian's), driven by
Playwright, on pages served from 127.0.0.1 with every other address blocked, at two widths:
a desktop window (1280 px) and a phone (390 x 844 CSS px, device pixel ratio 3, touch).

``check_page`` returns the problems a reader would meet on one page:

- math that MathJax did not render, or renders as an error;
- images or animations that did not load; a cell that shows an error (traceback, stderr);
- a link or cross-reference that leads nowhere; a solution visible without a click;
- accessibility violations that axe-core rates serious or critical; a script error; a
  resource requested from off this machine;

and what a reader *sees* wrong although everything "rendered" (issue 11):

- raw syntax: prose (outside code, cell outputs and math) that still shows MyST role or
  directive syntax (``{glue:text}``, ``{cite}``, ```` ```{exercise} ````, ``:label:``) or TeX
  that escaped its math (``\\theta``, ``^{``, ``$``);
- a label printed as text (``eq-responsibility``, ``fig-ch6-kmeans``, ``ch3-ex2``), in prose
  or inside rendered math;
- a display equation wider than the column that is cut off, or that scrolls with no visible
  sign that there is more (the page, its number or label, the overflow in px); an inline
  formula that runs past what shows of the page (MathJax 3 does not wrap inline math);
- a page wider than the window (it pans sideways on a phone), or one that forbids zooming;
- a character drawn as an empty box ("tofu") because no font has its glyph;
- a matplotlib figure displayed so small that its text is smaller than a set size, or with
  too few pixels to stay crisp on a high-density screen;
- output under an exercise's check cell: run on the hidden solution, it reads to a student
  as a grade of their own answer.

Every solution is opened (as a reader who reads it does) before these checks and the
screenshot, once the check that solutions start hidden has run. The thresholds of the rules
are the constants below.
"""
import base64
import contextlib
import functools
import http.server
import io
import re
import shutil
import struct
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERIOUS = ("serious", "critical")

# The two windows every page is checked in (Playwright browser-context options).
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
              "is_mobile": True, "has_touch": True},
}

# Display equations: one that is wider than its column by more than this many CSS px
# "overflows"; it passes only if it scrolls and the scroll shows (see _display_math_problems).
MATH_OVERFLOW_TOLERANCE_PX = 1.0
# The scroll cue is measured in pixels: the right-hand strip of the scrolling box
# (CUE_STRIP_PX wide) is screenshotted with and without the box's background images and
# shadows; the cue is visible if at least CUE_MIN_ROWS of the strip's rows change by at least
# CUE_MIN_DELTA (0-255, on some colour channel). A scrollbar that takes layout space (a
# classic, always-visible one) also counts as a cue.
CUE_STRIP_PX = 12
CUE_MIN_DELTA = 8
CUE_MIN_ROWS = 0.5

# Figures (PNG or SVG written by matplotlib: the PNG's "Software" text chunk, the SVG's
# generator comment). Their text is assumed FIGURE_FONT_PT points: matplotlib's default
# font.size, which the book's tick labels and axis labels use (legends set "small" are
# smaller still, so this rule is lenient). A PNG is drawn at the dpi of its pHYs chunk
# (matplotlib writes it; 100 dpi, Jupyter's inline default, when it is missing), an SVG at
# 72 pt per inch = 96 CSS px per inch. Text then shows at
#     FIGURE_FONT_PT * dpi / 72 * (displayed CSS width / natural width)   CSS px,
# which must be at least MIN_FIGURE_TEXT_PX for the window. Desktop: 10 CSS px (the theme's
# captions are 14.4 px, its body 16 px); an 8-inch figure in the 672-px column shows 11.7-px
# text and passes, a 13-inch three-panel figure shows 7.2 px and fails. Phone: the image
# column is 342 px, about half the desktop's, and a phone reader zooms a figure with two
# fingers (the check also fails a page that forbids zooming); the threshold scales with the
# column, 5 CSS px, so that the figures that pass on the desktop pass on the phone (8-inch:
# 5.9 px) and those that fail there fail here too (13-inch: 3.7 px).
FIGURE_FONT_PT = 10
DEFAULT_PNG_DPI = 100
MIN_FIGURE_TEXT_PX = {"desktop": 10.0, "phone": 5.0}
# Crisp on high-density screens (issue 11 asks for it): a static PNG figure needs at least
# CRISP_MIN_DENSITY image pixels per displayed CSS px (a "2x" PNG), at every width. SVG is
# always crisp. Animation frames are exempt: every frame is inlined in the page, and 2x
# frames would make each chapter with an animation four times heavier.
CHECK_CRISP = True
CRISP_MIN_DENSITY = 2.0

# Labels of this book, as the built HTML shows them (id="equation-eq-...", figure ids
# fig-..., exercise ids chN-exM): printed as text, they are a reference gone wrong.
LABEL_PATTERN = r"(?<![\w/#.-])(?:eq|fig|tab|sec|thm|lem|def|prf)-[a-z0-9]+(?:-[a-z0-9]+)*(?![\w-])|\bch\d+-ex\d+\b"

# Output that pretends to grade the reader; any output under a check cell is flagged, this
# phrasing anywhere in a cell output too.
GRADING_PATTERN = r"\bchecks? (?:passed|pass|failed)\b|[\u2713\u2714\u2705]|\ball \d+ checks\b|\bwell done\b|\bcorrect!"


def chromium_path():
    """The Chromium executable, or None if it is not installed."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@contextlib.contextmanager
def serve(directory):
    """Serve ``directory`` on 127.0.0.1 (a free port) for the duration of the block."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def browser_page(base_url, width="desktop"):
    """A Chromium page, in the window ``VIEWPORTS[width]``, that may load only from
    ``base_url``; ``page.blocked`` lists the rest, ``page.width_name`` names the window."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        context = browser.new_context(**VIEWPORTS[width])
        blocked = []

        def only_local(route):
            if route.request.url.startswith(base_url) or route.request.url.startswith("data:"):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        context.route("**/*", only_local)
        page = context.new_page()
        page.blocked = blocked
        page.width_name = width
        try:
            yield page
        finally:
            browser.close()


def screenshot_path(folder, relative_path, width):
    """Where the screenshot of a page goes: chapters/03_x.png (desktop), chapters/03_x.phone.png."""
    stem = relative_path[:-len(".html")] if relative_path.endswith(".html") else relative_path
    return Path(folder) / (stem + ("" if width == "desktop" else f".{width}") + ".png")


def check_page(page, base_url, site_dir, relative_path, screenshot=None, notes=None, accessibility=True):
    """Open one page of the site and return a list of problems (empty if none).

    ``notes``, a list if given, receives what passes but a reviewer should know: each display
    equation that is wider than its column and scrolls visibly, with its overflow in px.
    ``accessibility=False`` skips the axe-core scan (60% of the time of a check; see
    :func:`check_every_page` for where it runs); ``"without code colours"`` scans all but the
    contrast of highlighted code."""
    problems = []
    notes = [] if notes is None else notes
    page.blocked.clear()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base_url}/{relative_path}", wait_until="load")
    width = getattr(page, "width_name", "desktop")
    problems += _math_problems(page)
    page.evaluate("() => document.fonts.ready.then(() => true)")
    problems += _image_problems(page)
    problems += _output_problems(page)
    problems += _check_cell_problems(page)
    problems += _solution_problems(page)
    _open_solutions(page)
    prose = page.evaluate(_PROSE_JS)
    problems += _raw_syntax_problems(prose)
    problems += _label_problems(page, prose)
    problems += _display_math_problems(page, notes)
    problems += _inline_math_problems(page)
    problems += _tofu_problems(page)
    problems += _figure_problems(page, base_url, Path(site_dir), width)
    problems += _zoom_problems(page)
    problems += _sideways_problems(page)
    problems += _link_problems(page, base_url, Path(site_dir))
    if accessibility:
        problems += _accessibility_problems(page, code_contrast=accessibility != "without code colours")
    problems += [f"the page needed a resource off this machine: {url}" for url in page.blocked]
    problems += [f"a script failed: {error}" for error in errors]
    if screenshot is not None:
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        page.evaluate("() => window.scrollTo(0, 0)")
        # one image pixel per CSS px (a phone's 3x would make 100-megapixel images)
        page.screenshot(path=str(screenshot), full_page=True, scale="css")
    return problems


def _math_problems(page):
    count = page.locator(".math").count()
    if count == 0:
        return []
    try:
        page.wait_for_function(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise && "
            "document.querySelectorAll('.math').length === document.querySelectorAll('.math mjx-container').length",
            timeout=30_000)
    except Exception:
        rendered = page.locator(".math mjx-container").count()
        return [f"MathJax rendered {rendered} of {count} formulas"]
    page.evaluate("() => MathJax.startup.promise")
    failed = page.locator("mjx-merror").count()
    return [f"{failed} formula(s) show a MathJax error"] if failed else []


def _image_problems(page):
    page.wait_for_timeout(200)  # let the animations put up their first frame
    broken = page.evaluate(
        "() => Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
        ".map(i => i.getAttribute('src') ? i.getAttribute('src').slice(0, 80) : i.id)")
    problems = [f"an image did not load: {source}" for source in broken]
    return problems + _distortion_problems(page)


# A figure shown with another shape than it has (a fixed height under a shrunk width squashes
# it): displayed width/height against natural width/height, beyond this relative difference.
ASPECT_TOLERANCE = 0.02


def _distortion_problems(page):
    distorted = page.evaluate("""(tolerance) => Array.from(document.images)
        .filter(i => i.naturalWidth > 0 && i.naturalHeight > 0 && i.getClientRects().length)
        .map(i => { const r = i.getBoundingClientRect();
                    return {src: (i.getAttribute('src') || i.id).slice(0, 80), shown: r.width / r.height,
                            natural: i.naturalWidth / i.naturalHeight}; })
        .filter(f => Math.abs(f.shown / f.natural - 1) > tolerance)""", ASPECT_TOLERANCE)
    return [f"an image is shown distorted (width/height {image['shown']:.2f} instead of {image['natural']:.2f}): "
            f"{image['src']}" for image in distorted]


def _output_problems(page):
    problems = []
    for selector, what in ((".output.traceback", "a cell shows an error"),
                           (".output.stderr", "a cell shows warnings or errors (stderr)")):
        count = page.locator(selector).count()
        if count:
            problems.append(f"{what} ({count}x): {page.locator(selector).first.inner_text()[:200]!r}")
    if "Traceback (most recent call last)" in page.inner_text("body"):
        problems.append("a traceback is shown on the page")
    return problems


def _solution_problems(page):
    problems = []
    solutions = page.locator("div.solution")
    for index in range(solutions.count()):
        solution = solutions.nth(index)
        body = solution.locator(":scope > :not(.admonition-title)")
        if "dropdown" not in (solution.get_attribute("class") or ""):
            problems.append(f"solution {index + 1} is not a dropdown")
        elif any(body.nth(i).is_visible() for i in range(body.count())):
            problems.append(f"solution {index + 1} is visible without a click")
    return problems


def _open_solutions(page):
    """Open every dropdown (solutions), as a reader who reads them does: what is inside is
    checked as well, and the screenshots show it."""
    page.evaluate("""() => {
        document.querySelectorAll('.toggle-button[aria-expanded="false"]').forEach(button => {
            const title = button.closest('.admonition-title');
            (title || button).click();
        });
        document.querySelectorAll('details:not([open])').forEach(d => { d.open = true; });
    }""")
    page.wait_for_timeout(500)  # the page's own reactions to the click (tab stops) settle


def _check_cell_problems(page):
    """Output under an exercise's check cell (tagged exercise-check, or calling emlib.checks):
    on the website the check ran on the hidden solution, and "all checks passed" reads to a
    student as a grade of their own answer. And grading phrases in any cell output."""
    found = page.evaluate("""(grading) => {
        const pattern = new RegExp(grading, 'i');
        const out = [];
        document.querySelectorAll('.cell').forEach(cell => {
            const input = cell.querySelector('.cell_input');
            const isCheck = cell.classList.contains('tag_exercise-check') ||
                            /\\bchecks\\.check_\\w+\\s*\\(/.test(input ? input.textContent : '');
            const output = cell.querySelector('.cell_output');
            if (!output) return;
            const text = (output.innerText || output.textContent || '').trim();
            const pictures = output.querySelectorAll('img, svg').length;
            if (isCheck && (text || pictures))
                out.push(['an exercise check cell shows output (it ran on the hidden solution; a student '
                          + 'takes it for a grade of their own answer)', text.slice(0, 100)]);
            else if (pattern.test(text))
                out.push(['a cell output reads like a grade', text.slice(0, 100)]);
        });
        return out;
    }""", GRADING_PATTERN)
    return [f"{what}: {text!r}" for what, text in found]


# Text a reader reads as prose: the page's main part without code, cell outputs and math;
# one entry per block (paragraph, list item, heading, caption...), and the images' alt texts.
_PROSE_JS = r"""() => {
    const SKIP = 'pre, code, kbd, samp, script, style, noscript, template, textarea, svg, '
               + '.cell_input, .cell_output, .output, .highlight, .math, mjx-container, mjx-assistive-mml';
    const BLOCK = 'p, li, dt, dd, td, th, h1, h2, h3, h4, h5, h6, figcaption, caption, blockquote, '
                + 'summary, div, section, article, nav, aside, main, header, footer, body';
    const root = document.querySelector('main') || document.body;
    const blocks = new Map();
    const add = (element, text) => {
        const block = element.closest(BLOCK) || root;
        if (!blocks.has(block)) blocks.set(block, []);
        blocks.get(block).push(text);
    };
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
        acceptNode(node) {
            if (node.nodeType === Node.TEXT_NODE) return NodeFilter.FILTER_ACCEPT;
            if (node.matches(SKIP)) {
                if (node.parentElement) add(node.parentElement, ' ');
                return NodeFilter.FILTER_REJECT;
            }
            return NodeFilter.FILTER_SKIP;
        }});
    let node;
    while ((node = walker.nextNode())) if (node.parentElement) add(node.parentElement, node.data);
    const where = element => {
        const section = element.closest('section[id], div.admonition[id], figure[id]');
        return element.tagName.toLowerCase() + (section ? ' in #' + section.id : '');
    };
    const out = [];
    blocks.forEach((texts, block) => {
        const text = texts.join('').replace(/\s+/g, ' ').trim();
        if (text) out.push({text, where: where(block)});
    });
    root.querySelectorAll('img[alt]').forEach(img =>
        out.push({text: img.getAttribute('alt'), where: 'alt text of ' + where(img)}));
    return out;
}"""

# MyST or TeX that a reader should never see as text (outside code, outputs and math).
RAW_SYNTAX = [
    ("a MyST role", r"\{(?:[a-z][\w-]*:)?[a-z][\w-]+\}`?"),
    ("a MyST directive fence", r"```|~~~|:::"),
    ("a MyST directive option", r"(?<![\w:]):(?:label|name|class|nonumber|numbered|enumerated|width|height|"
                                r"align|alt|figwidth|figclass|dropdown|class-title|class-container|hidden|"
                                r"tags|caption|linenos|emphasize-lines|filter|style|start|end):(?=\s|$)"),
    ("TeX outside math", r"\\[A-Za-z]+\*?|\\[()\[\]{}]"),
    ("TeX outside math", r"[\^_]\{"),
    ("a math delimiter outside math", r"\$(?!\d)"),
]


def _snippet(text, match, width=50):
    start, end = max(0, match.start() - width), min(len(text), match.end() + width)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def _raw_syntax_problems(prose):
    problems = []
    for block in prose:
        for what, pattern in RAW_SYNTAX:
            match = re.search(pattern, block["text"])
            if match:
                problems.append(f"raw syntax in the text ({what}) {match.group(0)!r} in {block['where']}: "
                                f"{_snippet(block['text'], match)!r}")
    return problems


def _label_problems(page, prose):
    """A label printed as text, in the prose or inside rendered math (the TeX of every
    formula, less the commands that take a label as their argument)."""
    problems = []
    for block in prose:
        for match in re.finditer(LABEL_PATTERN, block["text"]):
            problems.append(f"a label printed as text {match.group(0)!r} in {block['where']}: "
                            f"{_snippet(block['text'], match)!r}")
    formulas = page.evaluate("""() => {
        if (!(window.MathJax && MathJax.startup && MathJax.startup.document)) return [];
        const out = [];
        for (const item of MathJax.startup.document.math) {
            const node = item.start && item.start.node;
            const element = node && (node.nodeType === 1 ? node : node.parentElement);
            const block = element && element.closest('div.math, span.math');
            const eqno = block && block.querySelector('.eqno');
            out.push({tex: item.math, display: item.display,
                      where: (eqno ? eqno.textContent.replace('#', '').trim() + ' ' : '')
                             + (block && block.id ? '#' + block.id : '')});
        }
        return out;
    }""")
    for formula in formulas:
        tex = re.sub(r"\\(?:label|tag|ref|eqref|href|url)\s*\{[^{}]*\}", " ", formula["tex"])
        for match in re.finditer(LABEL_PATTERN, tex):
            kind = "display equation" if formula["display"] else "inline formula"
            problems.append(f"a label printed inside math {match.group(0)!r} in the {kind} "
                            f"{formula['where'] or formula['tex'][:40]!r}: {_snippet(tex, match, 40)!r}")
    return problems


_DISPLAY_MATH_JS = r"""() => {
    const column = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
    const viewportRight = document.documentElement.clientWidth;
    const sources = new Map();
    if (window.MathJax && MathJax.startup && MathJax.startup.document)
        for (const item of MathJax.startup.document.math) sources.set(item.typesetRoot, item.math);
    const out = [];
    document.querySelectorAll('mjx-container[display="true"]').forEach((container, index) => {
        if (!container.getClientRects().length) return;
        const block = container.closest('div.math') || container.parentElement;
        const formula = container.querySelector(':scope > mjx-math') || container;
        const chain = [];
        for (let e = container; e; e = e.parentElement) { chain.push(e); if (e === column) break; }
        chain.forEach(e => { e.scrollLeft = 0; });
        // the right edge of the space the formula may use: the tightest content box around it
        let right = viewportRight;
        for (const e of chain) {
            const style = getComputedStyle(e);
            if (style.display === 'inline' || style.display === 'contents') continue;
            const box = e.getBoundingClientRect();
            right = Math.min(right, box.left + e.clientLeft + e.clientWidth - parseFloat(style.paddingRight || 0));
        }
        const formulaBox = formula.getBoundingClientRect();
        const overflow = formulaBox.right - right;
        let scroller = null, clipper = null;
        for (const e of chain) {
            const x = getComputedStyle(e).overflowX;
            if ((x === 'auto' || x === 'scroll') && e.scrollWidth > e.clientWidth + 1) { scroller = e; break; }
            if ((x === 'hidden' || x === 'clip') && !clipper) clipper = e;
        }
        const eqno = block.querySelector('.eqno');
        const entry = {
            index, overflow, formulaWidth: formulaBox.width,
            label: block.id ? block.id.replace(/^equation-/, '') : '',
            number: eqno ? eqno.textContent.replace('#', '').trim() : '',
            where: (() => { const s = block.closest('div.admonition[id]') || block.closest('section[id]');
                            return s ? s.id : ''; })(),
            tex: (sources.get(container) || '').replace(/\s+/g, ' ').trim().slice(0, 40),
            clipped: clipper ? clipper.tagName.toLowerCase() : '',
            scroller: null,
        };
        if (scroller) {
            const style = getComputedStyle(scroller);
            scroller.setAttribute('data-check-scroller', String(index));
            entry.scroller = {
                tag: scroller.tagName.toLowerCase(),
                scrollbarSpace: scroller.offsetHeight - scroller.clientHeight
                                - parseFloat(style.borderTopWidth) - parseFloat(style.borderBottomWidth),
                scrollbarWidth: style.scrollbarWidth,
                clientLeft: scroller.clientLeft, clientTop: scroller.clientTop,
                clientWidth: scroller.clientWidth, clientHeight: scroller.clientHeight,
                width: scroller.getBoundingClientRect().width,
                // what draws a scroll cue: equations that look alike here show the same cue
                look: JSON.stringify([scroller.tagName, scroller.className, scroller.getAttribute('style'),
                    ...[null, '::before', '::after'].map(pseudo => {
                        const s = getComputedStyle(scroller, pseudo);
                        return [s.backgroundImage, s.backgroundAttachment, s.backgroundColor, s.boxShadow,
                                s.maskImage, s.content, s.scrollbarWidth, s.scrollbarColor];
                    })]),
            };
        }
        out.push(entry);
    });
    return out;
}"""

_INLINE_MATH_JS = r"""() => {
    // Inline formulas do not wrap (MathJax 3 has no line breaking): one that runs past the
    // right edge of the window or of a box that clips it is cut off.
    const column = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
    const viewportRight = document.documentElement.clientWidth;
    const out = [];
    const sources = new Map();
    if (window.MathJax && MathJax.startup && MathJax.startup.document)
        for (const item of MathJax.startup.document.math) sources.set(item.typesetRoot, item.math);
    document.querySelectorAll('mjx-container:not([display="true"])').forEach(container => {
        if (!container.getClientRects().length || container.closest('mjx-container[display="true"]')) return;
        // the right edge past which it is not seen: the window's, or that of a box that clips
        // (running into the column's margin only is not counted)
        let right = viewportRight, scrolls = false;
        for (let e = container.parentElement; e; e = e.parentElement) {
            const style = getComputedStyle(e);
            if (style.overflowX === 'auto' || style.overflowX === 'scroll') { scrolls = true; break; }
            if (style.overflowX === 'hidden' || style.overflowX === 'clip') {
                const box = e.getBoundingClientRect();
                right = Math.min(right, box.left + e.clientLeft + e.clientWidth);
            }
        }
        const overflow = container.getBoundingClientRect().right - right;
        if (scrolls || overflow <= 1) return;
        const where = container.closest('div.admonition[id]') || container.closest('section[id]');
        out.push({overflow, where: where ? where.id : '',
                  tex: (sources.get(container) || '').replace(/\s+/g, ' ').trim().slice(0, 50)});
    });
    return out;
}"""


def _inline_math_problems(page):
    return [f"inline formula {f['tex']!r} in #{f['where']} runs {f['overflow']:.0f} px past the right edge of "
            f"what shows of the page (cut off: inline math does not wrap)" for f in page.evaluate(_INLINE_MATH_JS)]


_NO_CUE_CSS = (".check-no-cue, .check-no-cue::before, .check-no-cue::after { background-image: none !important; "
               "box-shadow: none !important; mask-image: none !important; -webkit-mask-image: none !important; }")


def _display_math_problems(page, notes=None):
    """Display equations wider than their column: each must scroll (overflow-x auto or
    scroll on it or an ancestor inside the column) with a visible cue that there is more;
    one that is cut off, spills out of the column, or scrolls invisibly fails."""
    problems, cue_seen = [], {}  # look of a scroller: whether its cue is visible (one check per look)
    for eq in page.evaluate(_DISPLAY_MATH_JS):
        if eq["overflow"] <= MATH_OVERFLOW_TOLERANCE_PX:
            continue  # fits
        name = " ".join(x for x in (eq["number"], eq["label"] and f"[{eq['label']}]") if x) \
            or f"(unnumbered, in #{eq['where']}: {eq['tex']!r}…)"
        size = f"{eq['formulaWidth']:.0f} px wide, {eq['overflow']:.0f} px more than its column"
        if eq["scroller"] is None:
            how = f"cut off by <{eq['clipped']}>" if eq["clipped"] else "spills out of the column"
            problems.append(f"display equation {name} is {size} and {how}, with no way to scroll")
        elif not _cue_visible_for_its_look(page, eq, cue_seen):
            problems.append(f"display equation {name} is {size}; it scrolls, but nothing shows that it does "
                            f"(no scroll shadow or always-visible scrollbar on <{eq['scroller']['tag']}>)")
        elif notes is not None:
            notes.append(f"display equation {name} is {size}: it scrolls, with a visible cue")
    return problems


def _cue_visible_for_its_look(page, eq, cue_seen):
    """_scroll_cue_visible, looked at once for every look of a scroller on a page (its CSS
    and that of its ::before and ::after): the cue of a scroll shadow is drawn by that CSS, so
    equations that share it share the answer (a page has dozens; each look costs two shots)."""
    look = eq["scroller"]["look"]
    if look not in cue_seen:
        cue_seen[look] = _scroll_cue_visible(page, eq)
    return cue_seen[look]


def _scroll_cue_visible(page, eq):
    scroller = eq["scroller"]
    if scroller["scrollbarSpace"] >= 3 and scroller["scrollbarWidth"] != "none":
        return True  # a classic scrollbar, always drawn
    from PIL import Image, ImageChops

    if not getattr(page, "_no_cue_style", False) or page.evaluate("() => !document.getElementById('check-no-cue')"):
        page.evaluate("(css) => { const s = document.createElement('style'); s.id = 'check-no-cue'; "
                      "s.textContent = css; document.head.appendChild(s); }", _NO_CUE_CSS)
        page._no_cue_style = True
    element = page.locator(f'[data-check-scroller="{eq["index"]}"]').first
    with_cue = Image.open(io.BytesIO(element.screenshot(animations="disabled"))).convert("RGB")
    element.evaluate("e => e.classList.add('check-no-cue')")
    try:
        without = Image.open(io.BytesIO(element.screenshot(animations="disabled"))).convert("RGB")
    finally:
        element.evaluate("e => e.classList.remove('check-no-cue')")
    if with_cue.size != without.size:
        return True  # the cue changes the layout (a scrollbar that takes space)
    scale = with_cue.width / scroller["width"]
    right = (scroller["clientLeft"] + scroller["clientWidth"]) * scale
    box = (int(right - CUE_STRIP_PX * scale), int(scroller["clientTop"] * scale),
           int(right), int((scroller["clientTop"] + scroller["clientHeight"]) * scale))
    difference = ImageChops.difference(with_cue.crop(box), without.crop(box))
    width, height = difference.size
    pixels = difference.load()
    changed_rows = sum(1 for y in range(height)
                       if max(max(pixels[x, y]) for x in range(width)) >= CUE_MIN_DELTA)
    return height > 0 and changed_rows >= CUE_MIN_ROWS * height


_TOFU_JS = r"""() => {
    // Each distinct character outside ASCII, in the text of the page and in the content of
    // ::before/::after (icon fonts), drawn on a canvas in the computed font of its element; it
    // is "tofu" if it draws exactly as code points that no font has (U+10FFFF, U+0378), which
    // Chromium draws as the .notdef box of the first font.
    const canvas = document.createElement('canvas');
    canvas.width = 80; canvas.height = 80;
    const g = canvas.getContext('2d', {willReadFrequently: true});
    const draw = (ch, font) => {
        g.clearRect(0, 0, 80, 80); g.font = font; g.fillStyle = '#000'; g.fillText(ch, 10, 56);
        const data = g.getImageData(0, 0, 80, 80).data;
        let hash = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]) hash = (hash * 31 + i * data[i]) >>> 0;
        return hash + ':' + g.measureText(ch).width.toFixed(2);
    };
    const fontOf = style => `${style.fontStyle} ${style.fontWeight} 48px ${style.fontFamily}`;
    const ignorable = /[\p{Z}\p{C}\p{M}]/u;
    const seen = new Map();
    const note = (text, style, element) => {
        for (const ch of text) {
            if (ch.codePointAt(0) < 0x7f || ignorable.test(ch)) continue;
            const font = fontOf(style);
            const key = ch + '\u0000' + font;
            if (!seen.has(key)) seen.set(key, {ch, font, count: 0,
                where: element.closest('[id]') ? element.closest('[id]').id : element.tagName.toLowerCase()});
            seen.get(key).count++;
        }
    };
    const SKIP = 'script, style, noscript, template, mjx-container';
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
        const element = node.parentElement;
        if (!element || element.closest(SKIP) || !/[^\x00-\x7f]/.test(node.data)) continue;
        note(node.data, getComputedStyle(element), element);
    }
    for (const element of document.body.querySelectorAll('*')) {
        if (element.closest(SKIP)) continue;
        for (const pseudo of ['::before', '::after']) {
            const style = getComputedStyle(element, pseudo);
            const content = style.content;
            if (!content || content[0] !== '"' || !/[^\x00-\x7f]/.test(content)) continue;
            note(content.slice(1, -1), style, element);
        }
    }
    const out = [];
    const missing = new Map();
    for (const {ch, font, count, where} of seen.values()) {
        if (!missing.has(font)) missing.set(font, new Set(['\u{10FFFF}', '\u0378'].map(m => draw(m, font))));
        if (missing.get(font).has(draw(ch, font)))
            out.push({code: 'U+' + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, '0'), ch, font, count, where});
    }
    return out;
}"""


def _tofu_problems(page):
    """Characters that no loaded font can draw: the reader sees an empty box."""
    return [f"{t['code']} {t['ch']!r} shows as an empty box (no font has it; font {t['font']!r}), "
            f"{t['count']}x, e.g. in #{t['where']}" for t in page.evaluate(_TOFU_JS)]


_FIGURES_JS = r"""() => Array.from((document.querySelector('main') || document.body).querySelectorAll('img'))
    .filter(img => img.getClientRects().length && img.naturalWidth > 0)
    .map(img => {
        const figure = img.closest('figure');
        const number = figure && figure.querySelector('.caption-number');
        const section = img.closest('section[id]');
        return {src: img.currentSrc || img.src, natural: img.naturalWidth,
                displayed: img.getBoundingClientRect().width,
                figure: number ? number.textContent.trim() : '', id: figure && figure.id ? figure.id : '',
                animation: (img.id || '').startsWith('_anim_img'),
                section: section ? section.id : '', alt: (img.getAttribute('alt') || '').slice(0, 50)};
    })"""


def _figure_problems(page, base_url, site_dir, width):
    """Matplotlib figures whose text is displayed smaller than MIN_FIGURE_TEXT_PX, and static
    PNG figures with fewer than CRISP_MIN_DENSITY pixels per displayed CSS px."""
    problems = []
    minimum = MIN_FIGURE_TEXT_PX[width]
    for image in page.evaluate(_FIGURES_JS):
        info = _image_info(image["src"], base_url, str(site_dir))
        if info is None or not info["matplotlib"]:
            continue
        scale = image["displayed"] / image["natural"]
        text_px = FIGURE_FONT_PT * info["dpi"] / 72 * scale
        if image["figure"]:
            name = f"{image['figure']} [{image['id']}]"
        elif image["animation"]:
            name = f"the animation in #{image['section']}"
        else:
            name = f"the figure in #{image['section']} ({image['alt']!r}…)"
        if text_px < minimum:
            problems.append(f"figure text too small: {name}: {FIGURE_FONT_PT}-pt text shows at {text_px:.1f} CSS px "
                            f"(minimum {minimum:g}): drawn {image['natural']} px wide at {info['dpi']:g} dpi, "
                            f"displayed {image['displayed']:.0f} px wide")
        if CHECK_CRISP and info["kind"] == "png" and not image["animation"]:
            density = image["natural"] / image["displayed"]
            if density < CRISP_MIN_DENSITY - 0.01:
                problems.append(f"figure not crisp on a high-density screen: {name}: {density:.2f} image px per "
                                f"CSS px (minimum {CRISP_MIN_DENSITY:g}: a 2x PNG or SVG)")
    return problems


@functools.lru_cache(maxsize=512)
def _image_info(src, base_url, site_dir):
    """{kind, dpi, matplotlib} of an image, from its bytes; None if it cannot be read."""
    if src.startswith("data:"):
        header, _, payload = src.partition(",")
        data = base64.b64decode(payload) if header.endswith(";base64") else unquote(payload).encode()
    elif src.startswith(base_url):
        path = Path(site_dir) / unquote(urlparse(src).path).lstrip("/")
        if not path.is_file():
            return None
        data = path.read_bytes()
    else:
        return None
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png_info(data)
    head = data[:4000].lower()
    if b"<svg" in head:
        return {"kind": "svg", "dpi": 96.0, "matplotlib": b"matplotlib" in head}
    return None


def _png_info(data):
    dpi, software = DEFAULT_PNG_DPI, b""
    offset = 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"pHYs" and len(body) >= 9 and body[8] == 1:  # unit: metre
            dpi = struct.unpack(">I", body[:4])[0] * 0.0254
        elif kind in (b"tEXt", b"iTXt") and body.lower().startswith(b"software\x00"):
            software = body
        elif kind == b"IDAT":
            break
        offset += 12 + length
    return {"kind": "png", "dpi": dpi, "matplotlib": b"matplotlib" in software.lower()}


def _sideways_problems(page):
    """The whole page wider than the window: on a phone the reader pans the page sideways."""
    found = page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const extra = document.documentElement.scrollWidth - width;
        if (extra <= 1) return null;
        const culprits = [];
        for (const e of document.querySelectorAll('main *')) {
            const box = e.getBoundingClientRect();
            if (box.right <= width + 1 || !box.width) continue;
            let contained = false;
            for (let p = e.parentElement; p; p = p.parentElement)
                if (getComputedStyle(p).overflowX !== 'visible') { contained = true; break; }
            if (!contained) culprits.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                                          + (e.className && e.className.baseVal === undefined ? '.' + e.className.split(' ')[0] : ''));
        }
        return {extra, culprits: culprits.slice(0, 3)};
    }""")
    if not found:
        return []
    return [f"the page is {found['extra']} px wider than the window and scrolls sideways "
            f"(e.g. {', '.join(found['culprits']) or 'unknown element'})"]


def _zoom_problems(page):
    """A page that forbids zooming leaves a phone reader no way to read a small figure."""
    contents = page.evaluate("() => Array.from(document.querySelectorAll('meta[name=viewport]'), m => m.content)")
    problems = []
    for content in contents:
        settings = dict(part.strip().split("=", 1) for part in content.split(",") if "=" in part)
        if settings.get("user-scalable", "").strip() in ("no", "0") or \
                float(settings.get("maximum-scale", "10") or 10) < 2:
            problems.append(f"the page forbids zooming (viewport {content!r})")
    return problems


def _link_problems(page, base_url, site_dir):
    hrefs = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    problems = []
    for href in sorted(set(hrefs)):
        if not href.startswith(base_url):
            continue
        target = urlparse(href)
        path = site_dir / unquote(target.path).lstrip("/")
        if path.is_dir():
            path = path / "index.html"
        if not path.exists():
            problems.append(f"a link leads nowhere: {href[len(base_url):]}")
        elif target.fragment and path.suffix == ".html" and target.fragment not in _ids(path):
            problems.append(f"a link's anchor is missing: {href[len(base_url):]}")
    return problems


@functools.lru_cache(maxsize=None)
def _ids(path):
    return set(re.findall(r'id="([^"]+)"', Path(path).read_text(encoding="utf-8")))


def _accessibility_problems(page, code_contrast=True):
    """axe-core's serious and critical violations. ``code_contrast=False`` leaves the colours of
    highlighted code (Pygments' theme, the same on every page, and half of the scan's time on a
    chapter) out of the colour-contrast rule; every other rule still scans the whole page."""
    from axe_playwright_python.sync_playwright import Axe

    if code_contrast:
        violations = Axe().run(page).response["violations"]
    else:
        violations = Axe().run(page, options={"resultTypes": ["violations"],
                                              "rules": {"color-contrast": {"enabled": False}}}).response["violations"]
        violations += page.evaluate("""async () => (await axe.run({exclude: [['.highlight']]},
            {runOnly: {type: 'rule', values: ['color-contrast']}, resultTypes: ['violations']})).violations""")
    problems = []
    for violation in violations:
        if violation["impact"] in SERIOUS:
            where = violation["nodes"][0]["target"] if violation["nodes"] else ""
            problems.append(f"accessibility ({violation['impact']}): {violation['id']}: {violation['help']} "
                            f"({len(violation['nodes'])} element(s), e.g. {where})")
    return problems


def content_pages(site_dir):
    """The site's pages a reader reads: the chapters and the other pages of the book."""
    return sorted(p.relative_to(site_dir).as_posix() for p in (Path(site_dir) / "chapters").glob("*.html"))


# Where axe-core scans: every page at desktop width, where the whole page is laid out; at phone
# width the first page only, for the controls that only the phone layout shows (the menu and
# sidebar toggles come from the theme's template, the same on every page; what a page itself
# holds, its figures' alt text, its contrast, its links, does not change with the width).
ACCESSIBILITY_PAGES = {"desktop": None, "phone": 1}  # None: every page


def _accessibility(scanned, number):
    """What axe-core scans on the page ``number`` (0 first) of a width that scans ``scanned``
    pages (None: all): everything on the first page; on the others everything but the colours of
    highlighted code, which the first page has already checked (one theme for all pages)."""
    if scanned is not None and number >= scanned:
        return False
    return True if number == 0 else "without code colours"


def check_every_page(site, width, screenshots):
    """check_page on every content page of ``site`` at ``width``, with a screenshot of each and a
    report (screenshots/report-<width>.txt). Returns ({page: problems}, the report's text)."""
    pages = content_pages(site)
    problems, notes = {}, {}
    scanned = ACCESSIBILITY_PAGES.get(width)
    with serve(site) as url, browser_page(url, width) as page:
        for number, relative in enumerate(pages):
            noted = []
            found = check_page(page, url, site, relative, notes=noted,
                               screenshot=screenshot_path(screenshots, relative, width),
                               accessibility=_accessibility(scanned, number))
            if found:
                problems[relative] = found
            if noted:
                notes[relative] = noted
    report = "\n".join(f"{p}:\n  " + "\n  ".join(found) for p, found in problems.items())
    passing = "\n".join(f"{p}:\n  " + "\n  ".join(noted) for p, noted in notes.items())
    screenshots.mkdir(parents=True, exist_ok=True)
    (screenshots / f"report-{width}.txt").write_text(
        f"Browser check at {width} width: {sum(map(len, problems.values()))} problem(s)\n\n{report}\n\n"
        f"Passing, for review (wide display equations that scroll visibly):\n{passing}\n", encoding="utf-8")
    return problems, report



def browser_check_marks():
    """slow, and skipped with a message when Chromium is not installed."""
    import pytest

    return [pytest.mark.slow,
            pytest.mark.skipif(chromium_path() is None,
                               reason="Chromium is not installed: the browser check of the website was SKIPPED "
                                      "(install it with `apt-get install chromium`; .ci/run does)")]


def every_page_test(width, root):
    """The test that every content page passes check_page at ``width`` (one module per width,
    so that the widths run on different workers)."""
    def test(built_book):
        returncode, log, site = built_book
        assert returncode == 0, log[-3000:]
        assert len(content_pages(site)) >= 9
        problems, report = check_every_page(site, width, root / "_build" / "screenshots")
        assert not problems, f"at {width} width:\n{report}"
    test.__name__ = f"test_every_page_passes_the_browser_check_at_{width}_width"
    return test
