"""docs/tutorial.ipynb runs from top to bottom, and says what it claims."""
from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "tutorial.ipynb"


def test_the_tutorial_runs_and_reaches_its_reports(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")  # checked in without outputs
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                            ).execute()
    text = " ".join(" ".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                             for c in nb.cells if c.cell_type == "code" for o in c.outputs).split())
    assert "error" not in {o.get("output_type") for c in nb.cells if c.cell_type == "code" for o in c.outputs}
    assert "At a cut rising to 20% by year 3, salami slicing" in text  # the headline, from the figures
    assert "needs.arrivals_per_year" in text  # the scenario's change, said
    assert "'Summary', 'Inputs', 'units'" in text  # the workbook's sheets
    assert (tmp_path / "tutorial-output" / "round.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
