"""Outputs: workbook sheet names that Excel accepts and that never overwrite each other."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from commissionopt.cli import main
from commissionopt.reports.output import sheet_names

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_sheet_names_are_safe_short_and_unique():
    labels = ["models/a.yaml", "x" * 40, "x" * 40, "X" * 40, "History", "'quoted'", "a[1]:b*?", "", "ok"]
    names = sheet_names(labels)
    assert len(names) == len(labels) == len({n.lower() for n in names})
    for n in names:
        assert 0 < len(n) <= 31 and not set(n) & set("[]:*?/\\") and n[0] != "'" and n[-1] != "'"
    assert names[-1] == "ok" and names[4].lower() != "history"
    assert sheet_names(["comparison"], taken=["Comparison"]) == ["comparison~2"]


def test_compare_workbook_keeps_every_policy_s_sheets_and_indexes_them(tmp_path):
    # two model files whose names share their first 14 characters, given as paths
    models = []
    for name in ("redesign_variant_alpha", "redesign_variant_beta"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(f"name: {name}\npolicy: optimise\nsolver: {{mip_rel_gap: 0.01}}\n")
        models.append(str(path))
    book = tmp_path / "round.xlsx"
    r = invoke("compare", TINY, "--cut", "0.1", "--models", ",".join(models), "--xlsx", book)
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(book, read_only=True)
    index = list(wb["index"].iter_rows(min_row=2, values_only=True))
    assert [c.value for c in next(wb["index"].iter_rows(max_row=1))] == ["sheet", "policy", "table"]
    policies = {policy for _, policy, _ in index}
    assert policies == set(models)
    tables = {policy: {table for _, p, table in index if p == policy} for policy in policies}
    assert tables[models[0]] == tables[models[1]] and {"units", "spend", "need"} <= tables[models[0]]
    sheets = [sheet for sheet, _, _ in index]
    assert len(set(sheets)) == len(sheets) and set(sheets) <= set(wb.sheetnames)
    # every table of both policies has its own sheet: nothing was overwritten
    assert len(wb.sheetnames) == len(sheets) + 2  # + comparison + index
    for sheet, policy, table in index:
        header = [c.value for c in next(wb[sheet].iter_rows(max_row=1))]
        assert header and all(isinstance(h, str) for h in header), (sheet, table)
