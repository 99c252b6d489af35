"""nbval checks code cells only. This adds, to each notebook nbval collects, one test item per
Markdown cell with {eval} roles, run in nbval's own kernel right after the code cells above
that Markdown cell: it evaluates the cell's expressions as jupyterlab-myst does and compares
the values with those stored in the cell's metadata ("user_expressions"), which the website
shows. A last item re-evaluates every expression at the end of the notebook: in JupyterLab,
Run All evaluates the Markdown cells' expressions in a race with the code cells, so a value
that changes later in the notebook would be shown wrong there.
"""
import re
from queue import Empty

import pytest

KEY = "user_expressions"
EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")


def _evaluate(kernel, expressions, timeout=60):
    request = {str(i): e for i, e in enumerate(expressions)}
    msg_id = kernel.kc.execute("", silent=False, store_history=False, user_expressions=request)
    while True:
        msg = kernel.get_message(stream="shell", timeout=timeout)
        if msg["parent_header"].get("msg_id") == msg_id:
            break
    kernel.await_idle(msg_id, timeout)
    content = msg["content"]
    assert content["status"] == "ok", content
    return [(request[k], content[KEY][k]) for k in sorted(content[KEY], key=int)]


def _shown(result):
    """What the reader sees: the text/plain value (or the error)."""
    if result.get("status") != "ok":
        return f"{result.get('ename')}: {result.get('evalue')}"
    return result.get("data", {})


class InlineExpressions(pytest.Item):
    def __init__(self, *, cells, **kwargs):
        super().__init__(**kwargs)
        self.cells = cells  # [(cell index, cell)]

    def runtest(self):
        kernel = self.parent.kernel
        if kernel is None or not kernel.is_alive() or self.parent.timed_out:
            pytest.skip("the notebook's kernel is gone")
        problems = []
        for index, cell in self.cells:
            expressions = EVAL_ROLE.findall(cell.source)
            stored = {e["expression"]: e["result"] for e in cell.metadata.get(KEY, [])}
            for expression, result in _evaluate(kernel, expressions):
                if expression not in stored:
                    problems.append(f"Markdown cell {index}: {{eval}}`{expression}` has no stored value")
                elif _shown(result) != _shown(stored[expression]):
                    problems.append(f"Markdown cell {index}: {{eval}}`{expression}` is now "
                                    f"{_shown(result)}, the notebook stores {_shown(stored[expression])}")
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)

    def reportinfo(self):
        return self.path, 0, self.name


def pytest_collection_modifyitems(session, config, items):
    from nbval.plugin import IPyNbCell, IPyNbFile

    new_items, seen = [], set()
    for item in items:
        parent = item.parent
        if isinstance(item, IPyNbCell) and isinstance(parent, IPyNbFile) and parent not in seen:
            seen.add(parent)
            nb_items = [i for i in items if i.parent is parent]
            # which Markdown cells follow which code cell (by nbval's code-cell count)
            after, code_count, with_eval = {}, 0, []
            for index, cell in enumerate(parent.nb.cells):
                if cell.cell_type == "code":
                    code_count += 1
                elif cell.cell_type == "markdown" and EVAL_ROLE.search(cell.source):
                    after.setdefault(code_count, []).append((index, cell))
                    with_eval.append((index, cell))
            for cell_item in nb_items:
                # Markdown cells before the first code cell come before "Cell 0"
                if cell_item.cell_num == 0 and 0 in after:
                    new_items.append(InlineExpressions.from_parent(
                        parent, name="Markdown before Cell 0", cells=after[0]))
                new_items.append(cell_item)
                if cell_item.cell_num + 1 in after:
                    new_items.append(InlineExpressions.from_parent(
                        parent, name=f"Markdown after Cell {cell_item.cell_num}", cells=after[cell_item.cell_num + 1]))
            if with_eval:
                new_items.append(InlineExpressions.from_parent(
                    parent, name="Markdown at the end (as JupyterLab's Run All shows)", cells=with_eval))
        elif not isinstance(item, IPyNbCell):
            new_items.append(item)
    items[:] = new_items
