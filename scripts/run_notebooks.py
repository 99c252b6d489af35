"""Restart-and-run-all every chapter in place, so its stored outputs are the fresh ones.

    python scripts/run_notebooks.py                 # every chapter
    python scripts/run_notebooks.py chapters/04_why_em_works.ipynb ...

Each notebook runs top to bottom in a fresh kernel started in ``chapters/`` (as JupyterLab
and nbval run it), and is written back as Jupyter writes it. The test command re-executes
every chapter under nbval and compares its outputs with the ones stored here, so run this
after changing a chapter or anything in emlib that a chapter prints, then `make test`.
"""
import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def run_in_place(path, timeout=600):
    """Execute the notebook at ``path`` in a fresh kernel and write it back with its outputs."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(Path(path).parent)}})
    client.execute()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = merged_streams(cell.outputs)
    nbformat.write(notebook, path)


def merged_streams(outputs):
    """Consecutive prints to the same stream as one output, as JupyterLab stores them."""
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.output_type == "stream" and previous is not None
                and previous.output_type == "stream" and previous.name == output.name):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="the notebooks to run (default: every chapter)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
    for path in notebooks:
        start = time.perf_counter()
        run_in_place(path)
        print(f"{path.name}: ran in {time.perf_counter() - start:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
