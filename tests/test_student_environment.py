"""A student's environment, made the documented way, runs every handout notebook.

The instructors' page and the README tell a student to run, in a copy of the repository,

    pip install -e ".[student]"

This test does exactly that in a fresh, empty virtual environment (with uv, which installs
what pip would, faster; with --compile-bytecode, as pip compiles by default), from PyPI, with nothing of the course's own environment visible
(no PYTHONPATH, no packages), then runs every handout notebook top to bottom in a kernel of
that environment, as "Run All" does: no cell may fail, and every check must say that its
exercise is not written yet. It needs PyPI (as `make test` does to set itself up).
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import exercises  # noqa: E402

pytestmark = pytest.mark.slow

RUN_ALL = r'''
import json, sys, pathlib
import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
folder, data_dir = pathlib.Path(sys.argv[1]), sys.argv[2]
report = {}
for path in sorted(folder.glob("*.ipynb")):
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("import sys, emlib; print(sys.prefix)"))
    # the kernel talks over Unix sockets, not TCP ports: on a busy machine another process can take
    # a port between the moment it is chosen and the moment the kernel binds it
    kernel = KernelManager(kernel_name="python3", transport="ipc")
    NotebookClient(notebook, km=kernel, timeout=600, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": data_dir}}).execute()
    checks = [c for c in notebook.cells if "exercise-check" in c.metadata.get("tags", [])]
    report[path.name] = {
        "prefix": notebook.cells[-1].outputs[0]["text"].strip(),
        "unfinished": sum("not written yet" in "".join(o.get("text", "") for o in c.outputs) for c in checks),
        "checks": len(checks)}
print(json.dumps(report))
'''


def uv():
    found = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(found).exists():
        pytest.skip("uv is not installed")
    return found


def test_the_documented_student_install_runs_every_handout(tmp_path):
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH")}
    student_env = tmp_path / "student-env"
    subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(student_env)], check=True, env=env)
    python = student_env / "bin" / "python"
    install = subprocess.run([uv(), "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python), "-e", f"{ROOT}[student]"],
                             capture_output=True, text=True, env=env)
    assert install.returncode == 0, install.stderr[-3000:]
    installed = time.perf_counter() - started

    exercises.make_student_version(tmp_path / "student", build=False)
    run = subprocess.run([str(python), "-c", RUN_ALL, str(tmp_path / "student" / "notebooks"), str(tmp_path)],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-4000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert sorted(report) == [p.name for p in exercises.chapter_notebooks(ROOT)]
    for name, result in report.items():
        assert result["prefix"] == str(student_env), f"{name} ran in another environment: {result['prefix']}"
        assert result["unfinished"] == result["checks"], name
    print(f"student environment: installed in {installed:.0f} s, every handout run in "
          f"{time.perf_counter() - started - installed:.0f} s")
