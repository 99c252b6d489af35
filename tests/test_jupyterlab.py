"""JupyterLab renders the chapters' MyST directives (exercises, proofs, admonitions) only if
jupyterlab-myst loads: JupyterLab silently disables an extension built for other versions of
its packages, so check that every installed extension is compatible."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import website
from conftest import ROOT


def test_jupyterlab_myst_is_enabled_and_compatible():
    jupyter = Path(sys.executable).parent / "jupyter"
    run = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True, text=True)
    listing = run.stdout + run.stderr
    myst = [line for line in listing.splitlines() if "jupyterlab-myst" in line or "jupyterlab_myst" in line]
    assert myst, f"jupyterlab-myst is not installed:\n{listing}"
    assert all("enabled" in line and "OK" in line for line in myst), f"jupyterlab-myst does not load:\n{listing}"
    assert "is not compatible" not in listing, listing


@pytest.mark.slow
@pytest.mark.skipif(website.chromium_path() is None,
                    reason="Chromium is not installed: the JupyterLab rendering check was SKIPPED")
def test_jupyterlab_renders_a_chapters_myst_directives(tmp_path):
    """Open chapter 3 in a real JupyterLab (on 127.0.0.1) in Chromium: its first cell's
    admonition renders as an admonition, not as the raw ```{admonition} source."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    port, token = _free_port(), "course-test"
    lab = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT / 'chapters'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)})
    try:
        _wait_for_port(port)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=website.chromium_path(), args=website.CHROMIUM_FLAGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/lab/tree/03_em_algorithm.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=60_000)
            # The raw source also says "Learning objectives": wait for the *rendered* cell, in
            # which the directive's source is gone (jupyterlab-myst renders it asynchronously).
            rendered = ("() => { const text = document.querySelector('.jp-Notebook').innerText; "
                        "return text.includes('Learning objectives') && !text.includes('{admonition}'); }")
            try:
                page.wait_for_function(rendered, timeout=90_000)
            except PlaywrightTimeout:
                pass
            text = page.inner_text(".jp-Notebook")
            browser.close()
        assert "Learning objectives" in text
        assert "{admonition}" not in text, "JupyterLab shows the raw MyST directive: jupyterlab-myst did not render it"
    finally:
        _stop(lab)


def _stop(server, seconds=30):
    """Stop a Jupyter server: ask (SIGTERM), and kill it if it is still shutting its kernels
    down after ``seconds`` (it can be slow to under load; its answer is already checked)."""
    server.terminate()
    try:
        server.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=seconds)


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
