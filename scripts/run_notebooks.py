"""Restart-and-run-all every chapter in place, so its stored outputs (and the values of its
prose's inline ``{eval}`` roles) are the fresh ones.

    python scripts/run_notebooks.py                 # every chapter
    python scripts/run_notebooks.py chapters/04_why_em_works.ipynb ...

Each notebook runs top to bottom in a fresh kernel started in ``chapters/`` (as JupyterLab
and nbval run it), and is written back as Jupyter writes it. A number in the prose is an inline
expression, ``{eval}`n_missing```: when the run reaches a Markdown cell, its expressions are
evaluated in the kernel and stored in the cell's metadata (``user_expressions``), exactly as
jupyterlab-myst stores them when a reader runs the cell; the website shows the stored value
(``_ext/stored_eval.py``) and the test command checks it (``conftest.py``). The test command re-executes
every chapter under nbval and compares its outputs with the ones stored here, so run this
after changing a chapter or anything in emlib that a chapter prints, then `make test`.
"""
import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
USER_EXPRESSIONS = "user_expressions"  # jupyterlab-myst's metadata key
EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")


def run_in_place(path, timeout=600):
    """Execute the notebook at ``path`` in a fresh kernel and write it back with its outputs."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(Path(path).parent)}})
    problems = []

    async def store_inline_expressions(cell, cell_index):
        """Evaluate a Markdown cell's {eval} roles where the run has got to, and store them."""
        if cell.cell_type != "markdown":
            return
        expressions = EVAL_ROLE.findall(cell.source)
        if not expressions:
            cell.metadata.pop(USER_EXPRESSIONS, None)
            return
        request = {str(i): expression for i, expression in enumerate(expressions)}
        msg_id = client.kc.execute("", silent=False, store_history=False, user_expressions=request)
        reply = await client.async_wait_for_reply(msg_id)
        results = reply["content"][USER_EXPRESSIONS]
        cell.metadata[USER_EXPRESSIONS] = [{"expression": request[key], "result": results[key]}
                                           for key in sorted(results, key=int)]
        problems.extend(f"{Path(path).name}, Markdown cell {cell_index}: {{eval}}`{entry['expression']}`: "
                        f"{entry['result'].get('ename')}: {entry['result'].get('evalue')}"
                        for entry in cell.metadata[USER_EXPRESSIONS] if entry["result"]["status"] != "ok")

    client.on_cell_start = store_inline_expressions
    client.execute()
    if problems:  # the website would warn, and JupyterLab would show an error, in the prose
        raise SystemExit("\n".join(problems))
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
