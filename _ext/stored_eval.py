"""Render MyST's inline ``{eval}`expr``` role from the values stored in the notebook, for a
Jupyter Book 1.x built with ``execute_notebooks: "off"``.

jupyterlab-myst (2.x) evaluates each ``{eval}`` role of a Markdown cell in the kernel when the
cell is run, and stores the results in that cell's metadata:

    "user_expressions": [{"expression": "n_missing",
                          "result": {"status": "ok", "data": {"text/plain": "100"}, "metadata": {}}}]

MyST-NB 1.x's own ``{eval}`` role ignores that metadata: it asks a running kernel, which exists
only with ``nb_execution_mode: inline``, and otherwise warns "This document does not have a
running kernel [mystnb.eval]".  This extension replaces the role with one that reads the
stored result (from the role's own cell; MyST-NB numbers the lines of cell i from
(i + 1) * 10000), and renders it exactly as MyST-NB renders an evaluated value (text/plain with
the quotes of a str stripped, or any richer MIME type by the usual render priority).  A missing
or failed value is a warning (so ``-W`` fails the build), never a silent placeholder.
"""
import re

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform

from myst_nb.core.variables import RetrievalError, VariableOutput, create_warning, render_variable_outputs
from myst_nb.ext.utils import RoleBase

KEY = "user_expressions"


def _warning(message, document, line):
    return create_warning(message, document, line, subtype="eval")


def stored_result(document, expression, line):
    """The stored kernel result of ``expression`` for the cell holding ``line``."""
    if "nb_renderer" not in document:
        raise RetrievalError("{eval} needs a notebook (this document is not one)")
    notebook = document["nb_renderer"].renderer.nb_client.notebook
    cells = notebook.cells
    index = line // 10000 - 1 if line else -1  # MyST-NB's pseudo line numbers for .ipynb
    if "source_map" in notebook.metadata or not 0 <= index < len(cells) or cells[index].cell_type != "markdown":
        raise RetrievalError(f"cannot tell which cell line {line} belongs to")
    entries = cells[index].metadata.get(KEY, [])
    for entry in entries:
        if entry.get("expression") == expression:
            result = entry["result"]
            if result.get("status") != "ok":
                raise RetrievalError(f"{expression!r} failed when stored: "
                                     f"{result.get('ename', '')}: {result.get('evalue', '')}")
            return result
    raise RetrievalError(f"no stored value for {{eval}}`{expression}` in cell {index}: "
                         "run the notebook (e.g. the fill script) to store it")


class StoredEvalRole(RoleBase):
    def run(self):
        try:
            result = stored_result(self.document, self.text, self.line)
        except RetrievalError as exc:
            return [], [_warning(str(exc), self.document, self.line)]
        output = VariableOutput(data=result.get("data", {}), metadata=dict(result.get("metadata", {})),
                                nb_renderer=self.document["nb_renderer"], vtype="eval", index=0)
        output.metadata["strip_text_quotes"] = True  # as MyST-NB's own {eval} and jupyterlab-myst do
        rendered = render_variable_outputs([output], self.document, self.line, self.source, inline=True)
        for node in rendered:  # look like {glue:text} did (mystnb.css: span.pasted-text is bold)
            for inline in node.findall(nodes.inline):
                if "text_plain" in inline["classes"]:
                    inline["classes"].append("pasted-text")
        return rendered, []


# --- citations written as links, readable in JupyterLab -------------------------------------
# jupyterlab-myst cannot resolve {cite} (it shows the key with a "Citation Not Found" icon), but
# renders a Markdown link [Dempster, Laird and Rubin (1977)](#ch4-dempster1977) as its text.
# On the website, such a link to a bibtex key becomes the sphinxcontrib-bibtex citation that
# {cite:t}`ch4-dempster1977` would give (author-year text linked to the bibliography), or
# {cite:p} when the link text starts with "(", so the key is still checked (-n), numbered and
# listed by {bibliography}.
class CitationLinks(SphinxTransform):
    default_priority = 100  # at read time: before myst-parser resolves #anchors (879)

    def apply(self):
        from sphinxcontrib.bibtex.citation_target import parse_citation_targets
        from sphinxcontrib.bibtex.roles import CitationRef

        domain = self.env.get_domain("cite")
        keys = domain.bibdata.data.entries
        for ref in list(self.document.findall(nodes.reference)):
            uri = ref.get("refuri", "")
            if not (ref.get("id_link") and uri.startswith("#") and _bibtex_key(uri[1:]) in keys):
                continue
            key = uri[1:]
            # "[(Dempster, Laird and Rubin, 1977)](#key)" is parenthetical, "[Wu (1983)](#key)" textual
            style = "p" if ref.astext().startswith("(") else "t"
            xref = addnodes.pending_xref(ref.rawsource, refdomain="cite", reftype=style, reftarget=key,
                                         refdoc=self.env.docname, refexplicit=False, refwarn=False)
            xref += nodes.inline(key, key, classes=["xref", "cite", f"cite-{style}"])
            xref.source, xref.line = ref.source, ref.line
            self.document.note_explicit_target(xref, xref)  # an id for the back-reference, as CiteRole does
            domain.citation_refs.append(CitationRef(citation_ref_id=xref["ids"][0], docname=self.env.docname,
                                                    line=ref.line or 0, targets=list(parse_citation_targets(key))))
            ref.replace_self(xref)


def _bibtex_key(target):
    """The .bib key of a citation target: the key itself, or the key behind a chapter's prefix
    (``ch4-dempster1977`` -> ``dempster1977``, as ``{bibliography}`` ``:keyprefix:`` uses it)."""
    return re.sub(r"^[a-z0-9]+-", "", target, count=1) if "-" in target else target


def setup(app):
    app.setup_extension("myst_nb")  # so that our role is registered after (and replaces) MyST-NB's
    app.add_role("eval", StoredEvalRole(), override=True)
    app.setup_extension("sphinxcontrib.bibtex")
    app.add_transform(CitationLinks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
