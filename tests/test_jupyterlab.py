"""The chapters read in JupyterLab as they do on the website: a real JupyterLab (on 127.0.0.1)
opened in Chromium, every chapter run with Run All, and its rendered Markdown checked for
anything a reader should not see: MyST roles or directives left as source (jupyterlab-myst
renders them only if it loads: JupyterLab silently disables an extension built for other
versions of its packages), labels printed where a number belongs, prose values that did not
resolve, and errors. Screenshots of every chapter go to _build/screenshots/jupyterlab/."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import website
from conftest import ROOT, collapsed_in_jupyterlab

CHAPTERS = sorted(path.name for path in (ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
SCREENSHOTS = ROOT / "_build" / "screenshots" / "jupyterlab"

# What must not show in rendered Markdown: source syntax, labels, and unresolved prose values.
UNRENDERED = {
    "a MyST role left as source": re.compile(r"\{[a-z]+(?::[a-z]+)?\}`"),
    "a MyST directive left as source": re.compile(r"```\{|^:(?:label|class):", re.M),
    "a label printed where a number belongs": re.compile(r"\b(?:eq|fig)-[a-z0-9]+(?:-[a-z0-9]+)+\b|\bch\d+-ex\d+\b"),
    "a prose value that did not resolve": re.compile(r"\bch\d_[a-z0-9_]+\b"),
    "raw TeX outside math": re.compile(r"\\(?:frac|theta|mathbf|sum|log|mid)\b"),
}
RENDERED_MARKDOWN = "Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell .myst')).map(e => e.innerText).join('\\n')"
# Every Markdown cell of the notebook rendered (not only those in view: the notebook's windowing
# is off, but its setting can arrive after the first notebook opens).
EVERY_MARKDOWN_CELL_RENDERED = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.content || !panel.content.model) return false;
    const cells = panel.content.model.cells;
    let markdown = 0;
    for (let i = 0; i < cells.length; i++) if (cells.get(i).type === 'markdown') markdown++;
    const rendered = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell .myst').length;
    return markdown > 0 && rendered >= markdown;
}"""
# The notebook panel in view, and its kernel (null while the session is still starting one).
_PANEL_AND_KERNEL = """
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
"""
# The chapter's kernel has started and waits: Run All before that is a race (the session may
# still have no kernel when the first poll looks at it).
KERNEL_IDLE = "() => {" + _PANEL_AND_KERNEL + """    return Boolean(kernel) && kernel.status === 'idle';
}"""
# Run All has finished: the kernel idle and every code cell executed, or a cell failed (JupyterLab
# then stops running the rest; the test reports the error).
RUN_ALL_DONE = "() => {" + _PANEL_AND_KERNEL + """    if (!kernel || kernel.status !== 'idle') return false;
    const cells = panel.content.model.cells;
    let executed = 0, pending = 0, failed = false;
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type !== 'code') continue;
        if (cell.executionCount == null) pending++; else executed++;
        for (let j = 0; j < cell.outputs.length; j++) if (cell.outputs.get(j).type === 'error') failed = true;
    }
    return executed > 0 && (pending === 0 || failed);
}"""
RUN_STATE = "() => {" + _PANEL_AND_KERNEL + """    const cells = panel.content.model.cells;
    let executed = 0, pending = 0;
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type === 'code') { if (cell.executionCount == null) pending++; else executed++; }
    }
    return `${executed} code cells executed, ${pending} not, kernel ${kernel ? kernel.status : 'missing'}`;
}"""
FIRST_ERROR = """() => {
    const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type !== 'code') continue;
        for (let j = 0; j < cell.outputs.length; j++) {
            const output = cell.outputs.get(j).toJSON();
            if (output.output_type === 'error') return `cell ${i}: ${output.ename}: ${output.evalue}`;
        }
    }
    return null;
}"""
FORGET_OUTPUTS = """() => {
    const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type === 'code') { cell.executionCount = null; cell.outputs.clear(); }
    }
}"""
# Open a chapter alone in the JupyterLab already loaded (loading JupyterLab again for every chapter
# took a third of this test's time): the chapter before it is closed and its kernel shut down.
OPEN_ALONE = """async (path) => {
    const app = window.jupyterapp;
    await app.restored;
    for (const widget of Array.from(app.shell.widgets('main'))) {
        if (widget.sessionContext) await widget.sessionContext.shutdown();
        if (widget.context) widget.context.model.dirty = false;  // closed without asking to save
        widget.dispose();
    }
    await app.commands.execute('docmanager:open', {path: path, factory: 'Notebook'});
}"""
# Cells the website hides are collapsed in JupyterLab too (their stored `jupyter.source_hidden` /
# `outputs_hidden`): the number of collapsed inputs and outputs the notebook panel shows.
COLLAPSED = """() => {
    const panel = '.jp-NotebookPanel:not(.lm-mod-hidden) ';
    return [document.querySelectorAll(panel + '.jp-CodeCell .jp-InputPlaceholder').length,
            document.querySelectorAll(panel + '.jp-CodeCell .jp-OutputPlaceholder').length];
}"""
ERRORS = "document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.error\"]').length"


def test_jupyterlab_myst_is_enabled_and_compatible():
    jupyter = Path(sys.executable).parent / "jupyter"
    run = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True, text=True)
    listing = run.stdout + run.stderr
    myst = [line for line in listing.splitlines() if "jupyterlab-myst" in line or "jupyterlab_myst" in line]
    assert myst, f"jupyterlab-myst is not installed:\n{listing}"
    assert all("enabled" in line and "OK" in line for line in myst), f"jupyterlab-myst does not load:\n{listing}"
    assert "is not compatible" not in listing, listing


def unrendered(text):
    """What a reader should not see in rendered Markdown, as 'what: "the text"' lines."""
    return [f'{what}: "{match.group(0)}"' for what, pattern in UNRENDERED.items()
            for match in pattern.finditer(text)]


def test_the_unrendered_patterns_catch_what_they_should():
    assert unrendered("the girls' mean {eval}`ch5_mean_female` cm") and unrendered("see eq-loglik and ch4-ex5")
    assert unrendered("```{exercise} Log-sum-exp") and unrendered("where \\theta is")
    assert unrendered("a value ch5_n_missing here")
    assert not unrendered("the girls' mean 162.6 cm (2.10), Exercise 4.5, Fig. 5.5, θ = 0.5")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab on 127.0.0.1 serving a copy of the chapters (so runs do not touch them),
    with its notebooks rendered whole (no windowing), and a Chromium page on it."""
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("lab")
    chapters = home / "chapters"
    shutil.copytree(ROOT / "chapters", chapters)
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    news = home / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')  # no pop-up, no network
    # a JupyterLab of its own: runtime, configuration, settings and workspaces in a fresh folder
    # (other tests, nbgrader's among them, may write Jupyter configuration while this one runs)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    port, token = _free_port(), "course-test"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={chapters}",
         "--LabApp.expose_app_in_browser=True"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        _wait_for_port(port)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=website.chromium_path(), args=website.CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/lab?reset&token={token}")
            page.wait_for_function("() => Boolean(window.jupyterapp) && window.jupyterapp.commands.hasCommand('docmanager:open')",
                                   timeout=90_000)
            yield page
            browser.close()
    finally:
        _stop(server)


@pytest.mark.slow
@pytest.mark.skipif(website.chromium_path() is None,
                    reason="Chromium is not installed: the JupyterLab check of the chapters was SKIPPED")
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_chapter_reads_right_in_jupyterlab_before_and_after_run_all(lab, chapter):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = lab
    page.evaluate(OPEN_ALONE, chapter)
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell .myst", timeout=90_000)
    page.wait_for_function(EVERY_MARKDOWN_CELL_RENDERED, timeout=90_000)
    opened = page.evaluate(RENDERED_MARKDOWN)
    collapsed_as_opened = page.evaluate(COLLAPSED)
    problems = [f"as opened: {problem}" for problem in unrendered(opened)]
    page.wait_for_function(KERNEL_IDLE, timeout=120_000, polling=500)
    page.evaluate(FORGET_OUTPUTS)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        page.wait_for_function(RUN_ALL_DONE, timeout=300_000, polling=250)
    except PlaywrightTimeout:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / chapter.replace(".ipynb", ".timeout.png"))
        pytest.fail(f"Run All did not finish in 5 minutes: {page.evaluate(RUN_STATE)}")
    after_run = _settled(page, RENDERED_MARKDOWN)  # the last Markdown cells render their values
    problems += [f"after Run All: {problem}" for problem in unrendered(after_run)]
    collapsed_after_run = page.evaluate(COLLAPSED)
    errors = page.evaluate(ERRORS)
    first_error = page.evaluate(FIRST_ERROR)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer').scrollTop = 0")
    page.screenshot(path=SCREENSHOTS / chapter.replace(".ipynb", ".png"))
    assert len(opened) > 3000 and "Learning objectives" in opened, "the chapter's Markdown did not render"
    assert errors == 0 and first_error is None, f"Run All in JupyterLab stopped on an error: {first_error}"
    assert not problems, "\n".join(sorted(set(problems)))
    hidden_inputs, hidden_cells = _hidden_on_the_website(chapter)
    assert collapsed_as_opened == [hidden_inputs, hidden_cells], (
        "as opened, JupyterLab shows cells the website hides: [collapsed inputs, collapsed outputs] "
        f"{collapsed_as_opened}, expected {[hidden_inputs, hidden_cells]}")
    # Running a cell shows its outputs again (JupyterLab's CodeCell.execute sets outputHidden to
    # false), but its code stays folded.
    assert collapsed_after_run[0] == hidden_inputs, (
        f"after Run All, {collapsed_after_run[0]} collapsed inputs, expected {hidden_inputs}")


def _hidden_on_the_website(chapter):
    """[code cells whose input the website hides, code cells it hides whole]."""
    notebook = json.loads((ROOT / "chapters" / chapter).read_text(encoding="utf-8"))
    wanted = [collapsed_in_jupyterlab(cell["metadata"].get("tags", []))
              for cell in notebook["cells"] if cell["cell_type"] == "code"]
    return [sum("source_hidden" in keys for keys in wanted), sum("outputs_hidden" in keys for keys in wanted)]


def _settled(page, expression, interval=0.25, seconds=30):
    """The value of ``expression`` once two reads ``interval`` apart agree (the Markdown cells
    render their values a moment after the kernel has finished)."""
    value = page.evaluate(expression)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(interval)
        again = page.evaluate(expression)
        if again == value:
            return value
        value = again
    return value


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not start on port {port}")


def _stop(server, seconds=30):
    """Stop a Jupyter server: ask (SIGTERM), and kill it if it is still shutting its kernels
    down after ``seconds`` (it can be slow to under load)."""
    server.terminate()
    try:
        server.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=seconds)
