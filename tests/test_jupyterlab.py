"""JupyterLab renders the chapters' MyST directives (exercises, proofs, admonitions) only if
jupyterlab-myst loads: JupyterLab silently disables an extension built for other versions of
its packages, so check that every installed extension is compatible."""
import subprocess
import sys
from pathlib import Path


def test_jupyterlab_myst_is_enabled_and_compatible():
    jupyter = Path(sys.executable).parent / "jupyter"
    run = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True, text=True)
    listing = run.stdout + run.stderr
    myst = [line for line in listing.splitlines() if "jupyterlab-myst" in line or "jupyterlab_myst" in line]
    assert myst, f"jupyterlab-myst is not installed:\n{listing}"
    assert all("enabled" in line and "OK" in line for line in myst), f"jupyterlab-myst does not load:\n{listing}"
    assert "is not compatible" not in listing, listing
