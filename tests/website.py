"""A real-browser check of the built website: headless Chromium (Debian's), driven by
Playwright, on pages served from 127.0.0.1 with every other address blocked.

``check_page`` returns the problems a reader would meet on one page: math that MathJax did
not render, images or animations that did not load, a cell that shows an error, a link or
cross-reference that leads nowhere, a solution visible without a click, and accessibility
violations that axe-core rates serious or critical.
"""
import contextlib
import functools
import http.server
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERIOUS = ("serious", "critical")


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
def browser_page(base_url):
    """A Chromium page that may load only from ``base_url``; ``page.blocked`` lists the rest."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
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
        try:
            yield page
        finally:
            browser.close()


def check_page(page, base_url, site_dir, relative_path, screenshot=None):
    """Open one page of the site and return a list of problems (empty if none)."""
    problems = []
    page.blocked.clear()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base_url}/{relative_path}", wait_until="load")
    problems += _math_problems(page)
    problems += _image_problems(page)
    problems += _output_problems(page)
    problems += _solution_problems(page)
    problems += _link_problems(page, base_url, Path(site_dir))
    problems += _accessibility_problems(page)
    problems += [f"the page needed a resource off this machine: {url}" for url in page.blocked]
    problems += [f"a script failed: {error}" for error in errors]
    if screenshot is not None:
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
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
    return [f"an image did not load: {source}" for source in broken]


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


def _accessibility_problems(page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    problems = []
    for violation in results.response["violations"]:
        if violation["impact"] in SERIOUS:
            where = violation["nodes"][0]["target"] if violation["nodes"] else ""
            problems.append(f"accessibility ({violation['impact']}): {violation['id']}: {violation['help']} "
                            f"({len(violation['nodes'])} element(s), e.g. {where})")
    return problems


def content_pages(site_dir):
    """The site's pages a reader reads: the chapters and the other pages of the book."""
    return sorted(p.relative_to(site_dir).as_posix() for p in (Path(site_dir) / "chapters").glob("*.html"))
