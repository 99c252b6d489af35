"""The website builds from scratch with zero warnings (Jupyter Book 1.x, -W -n --keep-going)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_book_builds_with_no_warnings(tmp_path):
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book if jupyter_book.exists() else shutil.which("jupyter-book")),
               "build", str(ROOT), "--all", "-W", "-n", "--keep-going", "--path-output", str(tmp_path)]
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    log = run.stdout + run.stderr
    assert run.returncode == 0, f"the book build failed or warned:\n{log[-6000:]}"
    assert "WARNING" not in log, log[-6000:]
    pages = sorted(p.relative_to(tmp_path / "_build" / "html").as_posix()
                   for p in (tmp_path / "_build" / "html" / "chapters").glob("*.html"))
    toc = (ROOT / "_toc.yml").read_text()
    for entry in [line.split("file:")[1].strip() for line in toc.splitlines() if "file:" in line]:
        assert f"{entry}.html" in pages, f"{entry} is in _toc.yml but no page was built"
