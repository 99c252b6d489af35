"""Small fixes to the book's HTML, found by the real-browser check
(tests/test_website_browser.py):

- sphinx-thebe registers its configuration script twice, so every page declared
  ``const THEBE_JS_URL`` twice and the browser reported a script error: keep one copy of
  each script;
- sphinxcontrib-bibtex marks the reference list ``role="list"`` but its entries carry other
  roles (``doc-backlink``), an ARIA error for screen readers: drop the list role;
- the chapters mark a solution's code for nbgrader (``### BEGIN SOLUTION`` / ``### END
  SOLUTION``); on the website those two lines are grading machinery, not the solution: drop them;
- the theme makes a scrollable code block reachable with the keyboard (tabindex 0) when the
  page loads or resizes, but not a code block inside a solution, which can scroll only once
  the reader opens it: do the same after each click that opens a dropdown.
"""
import re

# Runs in the page: after a dropdown opens, every box that now scrolls gets a tab stop, as
# pydata-sphinx-theme gives the ones that scroll when the page loads.
TAB_STOPS_AFTER_TOGGLE = """
document.addEventListener("click", (event) => {
  if (!event.target.closest || !event.target.closest(".toggle-button, .admonition-title, summary")) return;
  setTimeout(() => {
    document.querySelectorAll("pre, .cell_output > .output, mjx-container[display='true']").forEach((box) => {
      if (box.scrollWidth > box.clientWidth || box.scrollHeight > box.clientHeight) box.tabIndex = 0;
    });
  }, 350);
});
"""


def _script_key(script):
    attributes = getattr(script, "attributes", {}) or {}
    filename = getattr(script, "filename", script) or ""  # inline scripts come as None or ""
    return filename, tuple(sorted((k, str(v)) for k, v in attributes.items()))


def keep_one_copy_of_each_script(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def fix_citation_list_role(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body and 'role="list" class="citation-list"' in body:
        context["body"] = body.replace('<div role="list" class="citation-list">', '<div class="citation-list">')


def html_handlers_for_singlehtml(app):
    """The PDF route builds the book as one page (singlehtml). Sphinx looks up a node's HTML
    handlers under the builder's name first and falls back to its format ("html") only when
    no extension registered any handler for "singlehtml"; one does, so sphinx-proof's
    theorems would have none. Give singlehtml every HTML handler it lacks."""
    handlers = app.registry.translation_handlers
    if "singlehtml" in handlers:
        for node, pair in handlers.get("html", {}).items():
            handlers["singlehtml"].setdefault(node, pair)


# One highlighted line holding only nbgrader's marker, e.g.
# '    <span class="c1">### BEGIN SOLUTION</span>\n'
NBGRADER_MARKER_LINE = re.compile(r'(?m)^[ \t]*(?:<span class="w">\s*</span>)?<span class="c1">### (?:BEGIN|END) SOLUTION</span>\n')


def drop_nbgrader_markers(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body and "SOLUTION</span>" in body:
        context["body"] = NBGRADER_MARKER_LINE.sub("", body)


def setup(app):
    app.connect("builder-inited", html_handlers_for_singlehtml)
    app.connect("html-page-context", keep_one_copy_of_each_script, priority=900)  # after the themes
    app.connect("html-page-context", fix_citation_list_role)
    app.connect("html-page-context", drop_nbgrader_markers)
    app.add_js_file(None, body=TAB_STOPS_AFTER_TOGGLE)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
