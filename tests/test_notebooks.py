"""Every notebook in notebooks/ runs top to bottom (executable documentation) and shows
each of its figures inline."""

from __future__ import annotations

import os
import re

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: a cell that draws a figure: pyplot, or a pumpsim figure (Result.plot, Comparison.figure)
DRAWS = re.compile(r"plt\.(subplots|figure)\(|\bres\.plot\(|\.figure\(\)")


def test_the_figure_rule_sees_figure_cells() -> None:
    assert DRAWS.search("fig, ax = plt.subplots(figsize=(6, 4))")
    assert DRAWS.search("fig = comp.figure()")
    assert DRAWS.search("fig = res.plot()")
    assert not DRAWS.search("table = comp.table()")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_shows_its_figures(path) -> None:
    book = nbformat.read(path, as_version=4)
    os.environ.setdefault("MPLBACKEND", "Agg")  # the notebooks select the inline backend
    NotebookClient(book, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()  # fmt: skip
    code = [c for c in book.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    drawing = [c for c in code if DRAWS.search(c.source)]
    blank = [c.source.splitlines()[0] for c in drawing
             if not any("image/png" in o.get("data", {}) for o in c.outputs)]  # fmt: skip
    assert not blank, f"figure cells without an image: {blank}"
    images = [o for c in code for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == len(drawing), "each figure shows once"
